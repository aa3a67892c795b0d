"""Refresh the node-image catalog (platform/node-images.yaml) from the releases AWS recommends today.

    python -m tools.node_images --refresh [--region eu-west-1] [--dry-run]
    python -m tools.node_images --verify  [--region eu-west-1]

``--refresh`` reads, per Kubernetes minor of the catalog x OS x architecture, the public SSM parameter
where AWS publishes the current release (AL2023: .../standard/recommended/release_version; Bottlerocket:
.../latest/image_version), checks that the versioned image parameter of that release exists (so the
self-managed groups can resolve it), rewrites the catalog and prints one line per change. ``--dry-run``
prints the changes without writing. ``--verify`` checks the catalog as it is: every pinned release has
its versioned image parameter. AWS credentials are needed (any principal may read the public
``/aws/service/`` parameters). Exit 0 when done (or nothing changed), 1 when a parameter is missing or
AWS refuses, 2 on bad arguments.

The scheduled workflow .github/workflows/node-images.yml runs ``--refresh`` and opens a pull request:
nodes roll when that pull request merges, never because AWS published an image.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from components.config import nodeimages

Catalog = dict[str, dict[str, dict[str, str]]]
# GetParameters accepts at most 10 names per call (SSM API reference, GetParameters: Names, 1-10 items).
BATCH = 10


def entries(catalog: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[tuple[str, str, str]]:
    """Every (minor, os, architecture) the catalog pins, in a stable order."""
    return sorted(
        (minor, os_, arch) for minor, by_os in catalog.items() for os_, by_arch in by_os.items() for arch in by_arch
    )


def get_parameters(ssm: Any, names: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """(name -> value, invalid names) of SSM parameters, in batches of ten."""
    found: dict[str, str] = {}
    invalid: list[str] = []
    names = list(dict.fromkeys(names))
    for start in range(0, len(names), BATCH):
        answer = ssm.get_parameters(Names=names[start : start + BATCH])
        found.update({p["Name"]: p["Value"] for p in answer["Parameters"]})
        invalid += answer.get("InvalidParameters", [])
    return found, invalid


def recommended(ssm: Any, catalog: Catalog) -> tuple[Catalog, list[str]]:
    """The catalog with each entry replaced by AWS's current release, and the problems found on the way."""
    keys = entries(catalog)
    names = {k: nodeimages.recommended_parameter(*k) for k in keys}
    found, _ = get_parameters(ssm, names.values())
    problems = [
        f'"{m}".{o}.{a}: AWS publishes no release at {names[(m, o, a)]}'
        for (m, o, a) in keys
        if names[(m, o, a)] not in found
    ]
    new: Catalog = {m: {o: dict(by_arch) for o, by_arch in by_os.items()} for m, by_os in catalog.items()}
    for m, o, a in keys:
        if names[(m, o, a)] in found:
            new[m][o][a] = found[names[(m, o, a)]].strip()
    return new, problems + missing_images(ssm, new)


def missing_images(ssm: Any, catalog: Catalog) -> list[str]:
    """Entries whose versioned image parameter does not exist (a typo, or a release AWS withdrew)."""
    wanted = {}
    problems = []
    for m, o, a in entries(catalog):
        try:
            wanted[(m, o, a)] = nodeimages.image_parameter(m, o, a, catalog[m][o][a])
        except ValueError as err:
            problems.append(f'"{m}".{o}.{a}: {err}')
    found, _ = get_parameters(ssm, wanted.values())
    return problems + [
        f'"{m}".{o}.{a}: release {catalog[m][o][a]} has no image parameter {name}'
        for (m, o, a), name in wanted.items()
        if name not in found
    ]


def changes(old: Catalog, new: Catalog) -> list[str]:
    return [
        f'"{m}".{o}.{a}: {old[m][o][a]} -> {new[m][o][a]}'
        for (m, o, a) in entries(new)
        if old.get(m, {}).get(o, {}).get(a) != new[m][o][a]
    ]


def render(catalog: Catalog, header: str) -> str:
    """The catalog file: its header comment, then one line per OS, minors in version order."""
    lines = [header.rstrip("\n")] if header.strip() else []
    for minor in sorted(catalog, key=lambda v: tuple(int(p) for p in v.split("."))):
        lines.append(f'"{minor}":')
        for os_ in sorted(catalog[minor]):
            arches = ", ".join(f"{a}: {v}" for a, v in sorted(catalog[minor][os_].items()))
            lines.append(f"  {os_}: {{{arches}}}")
    return "\n".join(lines) + "\n"


def header_of(text: str) -> str:
    """The leading comment block of the catalog file."""
    out = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        out.append(line)
    return "\n".join(out)


def main(argv: list[str] | None = None, ssm: Any = None, path: Path = nodeimages.CATALOG) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.node_images", description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--refresh", action="store_true", help="adopt AWS's current releases and rewrite the catalog")
    what.add_argument("--verify", action="store_true", help="check that every pinned release has its image")
    parser.add_argument("--dry-run", action="store_true", help="with --refresh: print the changes only")
    parser.add_argument("--region", default=None, help="AWS region to read from (default: the SDK's)")
    args = parser.parse_args(argv)
    if ssm is None:
        from tools import awscreds

        if (session := awscreds.session(args.region)) is None:
            return awscreds.EXIT
        ssm = session.client("ssm")
    text = path.read_text()
    current = nodeimages.parse(text)
    try:
        if args.verify:
            problems = missing_images(ssm, current)
            for p in problems:
                print(f"{nodeimages.CATALOG_NAME}: {p}", file=sys.stderr)
            if not problems:
                print(f"{nodeimages.CATALOG_NAME}: {len(entries(current))} releases, every image published")
            return 1 if problems else 0
        new, problems = recommended(ssm, current)
    except Exception as err:  # botocore errors: credentials, throttling, access
        print(f"error: AWS refused: {err}", file=sys.stderr)
        return 1
    for p in problems:
        print(f"{nodeimages.CATALOG_NAME}: {p}", file=sys.stderr)
    if problems:
        return 1
    diff = changes(current, new)
    if not diff:
        print(f"{nodeimages.CATALOG_NAME}: up to date")
        return 0
    print("\n".join(diff))
    if not args.dry_run:
        path.write_text(render(new, header_of(text)))
        print(f"{nodeimages.CATALOG_NAME}: {len(diff)} release(s) updated; nodes roll when this change deploys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
