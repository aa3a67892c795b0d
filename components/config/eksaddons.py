"""EKS managed add-ons: the catalog (platform/eks-addons.yaml) and the version each gets.

Every EKS add-on the platform installs gets an explicit ``addonVersion``: the version pinned in config, or the
catalog's ``install`` version for the cluster's minor. Nothing is resolved at `pulumi up` (no
``get_addon_version(most_recent=True)``), so an unrelated deploy never rolls vpc-cni or CoreDNS because AWS published
a build; the catalog moves in a reviewed pull request (``python -m tools.eks_addons --refresh``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from components.config import datafiles
from components.config.datafiles import PLATFORM

TABLE = PLATFORM / "eks-addons.yaml"
TABLE_NAME = "platform/eks-addons.yaml"


@dataclass(frozen=True)
class Versions:
    install: str  # what the platform installs (EKS's default for the minor when the catalog was refreshed)
    known: tuple[str, ...]  # the versions known for the minor, newest first (a pin may be any of them)


def parse(text: str) -> dict[str, dict[str, Versions]]:
    """add-on -> minor -> versions."""
    raw = datafiles.loads(text) or {}
    return {
        addon: {
            str(minor): Versions(str(entry["install"]), tuple(str(v) for v in entry["known"]))
            for minor, entry in by_minor.items()
        }
        for addon, by_minor in raw.items()
    }


@functools.cache
def table() -> dict[str, dict[str, Versions]]:
    return parse(TABLE.read_text())


def install_version(addon: str, kubernetes_version: str) -> str | None:
    found = table().get(addon, {}).get(kubernetes_version)
    return found.install if found else None


def known_versions(addon: str, kubernetes_version: str) -> tuple[str, ...]:
    """Versions of ``addon`` known to belong to ``kubernetes_version``, newest first."""
    found = table().get(addon, {}).get(kubernetes_version)
    return found.known if found else ()


def addon_version(addon: str, pinned: str | None, kubernetes_version: str) -> str:
    """The version to install: the config's pin, else the catalog's (config validation made sure there is one)."""
    version = pinned or install_version(addon, kubernetes_version)
    if version is None:  # unreachable after validation: missing_problem refuses the config first
        raise ValueError(missing_problem(addon, kubernetes_version))
    return version


def missing_problem(addon: str, kubernetes_version: str) -> str | None:
    if install_version(addon, kubernetes_version) is None:
        return (
            f"{TABLE_NAME} has no {addon} version for Kubernetes {kubernetes_version} (key {addon}."
            f'"{kubernetes_version}"); add it or run `python -m tools.eks_addons --refresh`'
        )
    return None


def version_problem(addon: str, version: str, kubernetes_version: str) -> str | None:
    """Why a pinned version does not fit the cluster's minor, when the table knows; else None."""
    by_minor = table().get(addon, {})
    if version in known_versions(addon, kubernetes_version):
        return None
    elsewhere = sorted(minor for minor, entry in by_minor.items() if version in entry.known)
    if elsewhere:
        return (
            f"{version!r} is a {addon} version for Kubernetes {', '.join(elsewhere)}, not for the cluster's "
            f"{kubernetes_version} (known for {kubernetes_version}: "
            f"{', '.join(known_versions(addon, kubernetes_version)) or 'none'}; {TABLE_NAME})"
        )
    return None


def render(catalog: dict[str, dict[str, Versions]], header: str) -> str:
    """The catalog file: its header comment, then one line per add-on and minor, minors in version order."""
    lines = [header.rstrip("\n")] if header.strip() else []
    for addon in catalog:
        lines.append(f"{addon}:")
        for minor in sorted(catalog[addon], key=lambda v: tuple(int(p) for p in v.split("."))):
            entry = catalog[addon][minor]
            lines.append(f'  "{minor}": {{install: {entry.install}, known: [{", ".join(entry.known)}]}}')
    return "\n".join(lines) + "\n"
