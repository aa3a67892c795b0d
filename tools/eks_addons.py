"""Refresh the EKS add-on catalog (platform/eks-addons.yaml) from what EKS offers today.

    python -m tools.eks_addons --refresh [--region eu-west-1] [--dry-run]

For every add-on and Kubernetes minor of the catalog, ``DescribeAddonVersions`` lists the versions EKS offers for
that minor; ``install`` becomes the one EKS marks as the minor's default (``compatibilities[].defaultVersion``) and
``known`` the offered versions, newest first (at most ``KEEP``). One line per change is printed; ``--dry-run``
writes nothing. AWS credentials are needed (``eks:DescribeAddonVersions``). Exit 0 when done (or nothing changed),
1 when EKS offers no version of an add-on for a minor or refuses, 2 without credentials or on bad arguments.

The scheduled workflow .github/workflows/node-images.yml runs it with the node-image refresh and opens one pull
request: add-ons move when that pull request merges and deploys, never because AWS published a build.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from components.config import eksaddons
from components.config.eksaddons import Versions

KEEP = 5  # known versions kept per add-on and minor


def version_key(version: str) -> tuple[int, ...]:
    """v1.20.4-eksbuild.2 -> (1, 20, 4, 2): newest sorts last."""
    return tuple(int(n) for n in re.findall(r"[0-9]+", version))


def offered(eks: Any, addon: str, minor: str) -> Versions | None:
    """What EKS offers of ``addon`` for Kubernetes ``minor``: its default and the versions, newest first."""
    versions: list[str] = []
    default: str | None = None
    for page in eks.get_paginator("describe_addon_versions").paginate(addonName=addon, kubernetesVersion=minor):
        for entry in page.get("addons", []):
            for version in entry.get("addonVersions", []):
                for compat in version.get("compatibilities", []):
                    if compat.get("clusterVersion") == minor:
                        versions.append(version["addonVersion"])
                        if compat.get("defaultVersion"):
                            default = version["addonVersion"]
    if not versions:
        return None
    newest = sorted(set(versions), key=version_key, reverse=True)
    install = default or newest[0]
    known = tuple(dict.fromkeys([install, *newest]))[:KEEP]
    return Versions(install, tuple(sorted(known, key=version_key, reverse=True)))


def refresh(eks: Any, catalog: dict[str, dict[str, Versions]]) -> tuple[dict[str, dict[str, Versions]], list[str]]:
    """The catalog with every entry replaced by what EKS offers, and the problems found on the way."""
    new: dict[str, dict[str, Versions]] = {addon: dict(by_minor) for addon, by_minor in catalog.items()}
    problems = []
    for addon, by_minor in catalog.items():
        for minor in by_minor:
            found = offered(eks, addon, minor)
            if found is None:
                problems.append(f'{addon}."{minor}": EKS offers no version for Kubernetes {minor}')
            else:
                new[addon][minor] = found
    return new, problems


def changes(old: dict[str, dict[str, Versions]], new: dict[str, dict[str, Versions]]) -> list[str]:
    return [
        f'{addon}."{minor}": install {old[addon][minor].install} -> {entry.install}'
        for addon, by_minor in new.items()
        for minor, entry in by_minor.items()
        if old.get(addon, {}).get(minor) is None or old[addon][minor].install != entry.install
    ]


def header_of(text: str) -> str:
    out = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        out.append(line)
    return "\n".join(out)


def main(argv: list[str] | None = None, eks: Any = None, path: Path = eksaddons.TABLE) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.eks_addons", description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true", required=True, help="adopt EKS's current versions")
    parser.add_argument("--dry-run", action="store_true", help="print the changes only")
    parser.add_argument("--region", default=None, help="AWS region to read from (default: the SDK's)")
    args = parser.parse_args(argv)
    if eks is None:
        from tools import awscreds

        if (session := awscreds.session(args.region)) is None:
            return awscreds.EXIT
        eks = session.client("eks")
    text = path.read_text()
    current = eksaddons.parse(text)
    try:
        new, problems = refresh(eks, current)
    except Exception as err:  # botocore errors: throttling, access denied
        print(f"error: AWS refused: {err}", file=sys.stderr)
        return 1
    for p in problems:
        print(f"{eksaddons.TABLE_NAME}: {p}", file=sys.stderr)
    if problems:
        return 1
    diff = changes(current, new)
    rendered = eksaddons.render(new, header_of(text))
    if rendered == text:
        print(f"{eksaddons.TABLE_NAME}: up to date")
        return 0
    print("\n".join(diff) or f"{eksaddons.TABLE_NAME}: known versions updated")
    if not args.dry_run:
        path.write_text(rendered)
        print(f"{eksaddons.TABLE_NAME}: updated; add-ons move when this change deploys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
