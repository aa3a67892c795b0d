"""Tags: one place that decides what every taggable resource carries."""

from __future__ import annotations

from collections.abc import Mapping

# EC2, Auto Scaling, EKS, IAM...: at most 50 user tags per resource (AWS Tagging Best Practices, "Tag limits").
MAX_TAGS = 50
PLATFORM_TAGS = ("eks-platform/project", "eks-platform/stack", "managed-by")
# The most the platform adds beyond base_tags on any resource other than node-group ASGs (which are counted
# exactly): a subnet's Name, eks-platform/tier, kubernetes.io/cluster/<name>, the load-balancer role tag and
# karpenter.sh/discovery.
MOST_TAGS_ADDED = 5


def base_tags(project: str, stack: str, user: Mapping[str, str]) -> dict[str, str]:
    """Tags on every taggable resource: who manages it, plus the user's tags (which win)."""
    tags = {"eks-platform/project": project, "eks-platform/stack": stack, "managed-by": "pulumi"}
    tags.update(user)
    return dict(sorted(tags.items()))


def identity(base: Mapping[str, str], name: str, **extra: str) -> dict[str, str]:
    """Only the tags that never change for a resource: the platform's own, its Name and ``extra``.

    For launch-template data, which is versioned: a tag there is part of the template, so a new one
    rolls every instance launched from it. Stack-wide tags go on the Auto Scaling group instead.
    """
    return tagged({k: v for k, v in base.items() if k in PLATFORM_TAGS}, name, **extra)


def tagged(base: Mapping[str, str], name: str | None = None, **extra: str) -> dict[str, str]:
    """``base`` plus a Name tag and extra tags, sorted so previews never churn on order."""
    tags = dict(base)
    if name is not None:
        tags["Name"] = name
    tags.update(extra)
    return dict(sorted(tags.items()))
