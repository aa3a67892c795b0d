"""EKS managed add-ons: the version table (platform/eks-addons.yaml) and how versions are chosen.

Every EKS add-on the platform installs gets an explicit ``addonVersion``: the version pinned
in config, or the newest one for the cluster's minor (``aws.eks.get_addon_version``). EKS
never moves an add-on on its own, so an unset version would leave it on whatever was
installed at creation while the control plane moves on.
"""

from __future__ import annotations

import functools

from components import datafiles
from components.datafiles import PLATFORM

TABLE = PLATFORM / "eks-addons.yaml"


@functools.cache
def table() -> dict[str, dict[str, tuple[str, ...]]]:
    raw = datafiles.load(TABLE)
    return {addon: {str(minor): tuple(versions) for minor, versions in by_minor.items()}
            for addon, by_minor in raw.items()}


def known_versions(addon: str, kubernetes_version: str) -> tuple[str, ...]:
    """Versions of ``addon`` known to belong to ``kubernetes_version``, newest first."""
    return table().get(addon, {}).get(kubernetes_version, ())


def version_problem(addon: str, version: str, kubernetes_version: str) -> str | None:
    """Why a pinned version does not fit the cluster's minor, when the table knows; else None."""
    by_minor = table().get(addon, {})
    if version in by_minor.get(kubernetes_version, ()):
        return None
    elsewhere = sorted(minor for minor, versions in by_minor.items() if version in versions)
    if elsewhere:
        return (f"{version!r} is a {addon} version for Kubernetes {', '.join(elsewhere)}, not for the cluster's "
                f"{kubernetes_version} (known for {kubernetes_version}: "
                f"{', '.join(by_minor.get(kubernetes_version, ())) or 'none'}; platform/eks-addons.yaml)")
    return None
