"""What a change will do: the offline plan of a stack against a base plan, resource by resource.

    python -m tools.plan prod --diff BASE [--diff-json PATH]

BASE is a plan JSON (``--json`` of the base branch) or a stack file (e.g. ``git show
main:Pulumi.prod.yaml > base.yaml``), planned with the current code. Each resource is created,
deleted, updated or replaced, with the input paths that changed; a replacement names the inputs
that force it, from the table below (what the providers mark ForceNew / RequiresReplace at the
pinned versions). Flags: changes that roll nodes; errors — replacing a protected resource, a
cluster version jump of more than one minor (EKS upgrades one at a time) or a downgrade.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tools import diffvalues

# Inputs whose change replaces the resource (engine property paths; a path covers what is below it).
# aws: terraform-provider-aws internal/service/<service>/<resource>.go, ForceNew at the provider
# version pulumi-aws 7.51 embeds; kubernetes: pulumi-kubernetes (provider/pkg/provider, the object's
# identity: apiVersion, kind, name, namespace; a Helm release's name and namespace).
REPLACE_ON_CHANGE: dict[str, tuple[str, ...]] = {
    # ec2/vpc.go, subnet.go, eip.go, nat_gateway.go, route_table.go, route.go, vpc_endpoint.go, flow_log.go
    "aws:ec2/vpc:Vpc": ("cidrBlock", "instanceTenancy", "ipv4IpamPoolId"),
    "aws:ec2/subnet:Subnet": ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"),
    # ec2/vpc_ipv4_cidr_block_association.go: no Update at all
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": (
        "vpcId",
        "cidrBlock",
        "ipv4IpamPoolId",
        "ipv4NetmaskLength",
    ),
    "aws:ec2/eip:Eip": ("domain", "address", "publicIpv4Pool"),
    "aws:ec2/natGateway:NatGateway": ("allocationId", "subnetId", "connectivityType", "privateIp"),
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId", "gatewayId"),
    "aws:ec2/route:Route": (
        "routeTableId",
        "destinationCidrBlock",
        "destinationIpv6CidrBlock",
        "destinationPrefixListId",
    ),
    "aws:ec2/internetGateway:InternetGateway": (),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType"),
    "aws:ec2/flowLog:FlowLog": (
        "vpcId",
        "trafficType",
        "logDestination",
        "logDestinationType",
        "iamRoleArn",
        "maxAggregationInterval",
        "logFormat",
    ),
    # ec2/security_group.go (description and name are ForceNew), vpc/security_group_*_rule.go
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "vpcId", "description"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("vpcId",),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("securityGroupId",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("securityGroupId",),
    # ec2/launch_template.go: any other change is a new version (update)
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
    "aws:cloudwatch/eventRule:EventRule": ("name", "namePrefix", "eventBusName"),
    "aws:cloudwatch/eventTarget:EventTarget": ("rule", "targetId", "eventBusName"),
    # iam/role.go, role_policy.go, role_policy_attachment.go, instance_profile.go, openid_connect_provider.go
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    # iam/group.go (UpdateGroup renames in place), group_policy.go
    "aws:iam/group:Group": (),
    "aws:iam/groupPolicy:GroupPolicy": ("name", "namePrefix", "group"),
    "aws:iam/instanceProfile:InstanceProfile": ("name", "namePrefix", "path"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ("url",),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion"),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    # eks/cluster.go: subnets and security groups update in place at this provider version
    "aws:eks/cluster:Cluster": (
        "name",
        "roleArn",
        "bootstrapSelfManagedAddons",
        "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "kubernetesNetworkConfig.ipFamily",
        "kubernetesNetworkConfig.serviceIpv4Cidr",
        "outpostConfig",
        "remoteNetworkConfig",
    ),
    # eks/node_group.go (version, releaseVersion, launchTemplate.version, labels, taints, scaling update)
    "aws:eks/nodeGroup:NodeGroup": (
        "amiType",
        "capacityType",
        "clusterName",
        "diskSize",
        "instanceTypes",
        "launchTemplate.id",
        "launchTemplate.name",
        "nodeGroupName",
        "nodeGroupNamePrefix",
        "nodeRoleArn",
        "remoteAccess",
        "subnetIds",
    ),
    "aws:eks/addon:Addon": ("clusterName", "addonName"),
    # terraform-provider-aws arczonalshift zonal_autoshift_configuration: resource_arn is ForceNew
    "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration": ("resourceArn",),
    "aws:eks/accessEntry:AccessEntry": ("clusterName", "principalArn", "type"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (
        "clusterName",
        "principalArn",
        "policyArn",
        "accessScope",
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("clusterName", "namespace", "serviceAccount"),
    "aws:eks/fargateProfile:FargateProfile": (
        "clusterName",
        "fargateProfileName",
        "podExecutionRoleArn",
        "selectors",
        "subnetIds",
    ),
    "aws:eks/identityProviderConfig:IdentityProviderConfig": ("clusterName", "oidc"),
    # autoscaling/group.go, lifecycle_hook.go, tag.go
    "aws:autoscaling/group:Group": ("name", "namePrefix"),
    "aws:autoscaling/lifecycleHook:LifecycleHook": ("name", "autoscalingGroupName"),
    "aws:autoscaling/tag:Tag": ("autoscalingGroupName", "tag.key"),
    "aws:sqs/queue:Queue": ("name", "namePrefix", "fifoQueue"),
    "aws:sqs/queuePolicy:QueuePolicy": ("queueUrl",),
    "aws:codebuild/project:Project": ("name",),
    "aws:codebuild/webhook:Webhook": ("projectName",),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "namePrefix", "internal", "loadBalancerType"),
    "aws:lb/targetGroup:TargetGroup": (
        "name",
        "namePrefix",
        "port",
        "protocol",
        "protocolVersion",
        "vpcId",
        "targetType",
    ),
    "aws:lb/listener:Listener": ("loadBalancerArn",),
    "aws:route53/record:Record": ("zoneId", "name", "type", "setIdentifier"),
    # sns/topic.go (name, name_prefix, fifo_topic ForceNew; the key updates in place), topic_policy.go (arn)
    "aws:sns/topic:Topic": ("name", "namePrefix", "fifoTopic"),
    "aws:sns/topicPolicy:TopicPolicy": ("arn",),
    # cloudwatch/metric_alarm.go (alarm_name), dashboard.go (dashboard_name)
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name",),
    "aws:cloudwatch/dashboard:Dashboard": ("dashboardName",),
    # amp/workspace.go (kms_key_arn ForceNew; alias updates), amp/scraper.go (source RequiresReplace; alias,
    # destination and scrape_configuration go through UpdateScraper)
    "aws:amp/workspace:Workspace": ("kmsKeyArn",),
    "aws:amp/scraper:Scraper": ("source",),
    # pulumi-kubernetes
    "kubernetes:helm.sh/v3:Release": ("name", "namespace"),
    # provider/pkg/provider/diff.go forceNewProperties: a StorageClass's parameters and provisioner (the
    # provider deletes the named object first)
    "kubernetes:storage.k8s.io/v1:StorageClass": ("apiVersion", "kind", "metadata.name", "parameters", "provisioner"),
    "pulumi:providers:kubernetes": ("clusterIdentifier",),
    # roleRef is immutable in the API (RBAC validation); pulumi-kubernetes replaces the binding
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("apiVersion", "kind", "metadata.name", "roleRef"),
}
# Any custom Kubernetes object: its identity.
KUBERNETES_IDENTITY = ("apiVersion", "kind", "metadata.name", "metadata.namespace")
# Changes that replace nodes, per type: (paths, what happens).
ROLLS_NODES: dict[str, tuple[tuple[str, ...], str]] = {
    "aws:ec2/launchTemplate:LaunchTemplate": (
        (
            "imageId",
            "userData",
            "blockDeviceMappings",
            "metadataOptions",
            "tagSpecifications",
            "vpcSecurityGroupIds",
            "iamInstanceProfile",
            "instanceType",
            "networkInterfaces",
            "monitoring",
        ),
        "a new launch-template version: the group's nodes are replaced",
    ),
    "aws:eks/nodeGroup:NodeGroup": (
        ("version", "releaseVersion", "launchTemplate.version"),
        "EKS replaces the group's nodes (rolling)",
    ),
    "aws:autoscaling/group:Group": (
        ("launchTemplate", "mixedInstancesPolicy.launchTemplate.launchTemplateSpecification"),
        "instance refresh replaces the group's nodes",
    ),
    # Karpenter drift (docs v1.14, concepts/disruption.md "Drift"): nodes whose NodePool template no longer hashes
    # the same are replaced; weight, limits and disruption are behavioural, never drift. EC2NodeClass: karpenter_class.
    "kubernetes:karpenter.sh/v1:NodePool": (
        ("spec.template",),
        "Karpenter drift: the pool's nodes are replaced (within its disruption budgets; a "
        "requirements change only where a node no longer meets it)",
    ),
}
# EC2NodeClass drift at the pinned Karpenter (aws/karpenter-provider-aws v1.14.1): the controller hashes the whole
# spec except the fields tagged hash:"ignore" (pkg/apis/v1/ec2nodeclass.go, EC2NodeClass.Hash) and replaces every
# node of the class when the hash changes (NodeClassDrift): tags, kubelet, userData, role, block devices, metadata
# options... The ignored fields drift only through what they resolve to (pkg/cloudprovider/drift.go).
KARPENTER_CLASS_DYNAMIC = {
    "spec.amiSelectorTerms": "AMIDrift: the terms resolve to another image, so every node of the class is replaced "
    "(within the pools' disruption budgets)",
    "spec.subnetSelectorTerms": "SubnetDrift: nodes whose subnet the new terms no longer select are replaced",
    "spec.securityGroupSelectorTerms": "SecurityGroupDrift: when the selected security groups change, the class's "
    "nodes are replaced",
    "spec.capacityReservationSelectorTerms": "CapacityReservationDrift: nodes in a reservation the new terms no "
    "longer select are replaced",
}
KARPENTER_CLASS_IGNORED = ("spec.ipPrefixCount", "spec.amiFamily")


def karpenter_class_rolls(paths: Sequence[str]) -> str | None:
    """Which nodes an EC2NodeClass change replaces, per Karpenter v1.14.1's drift rules, or None."""
    dynamic = [p for p in paths if any(_covers(k, p) for k in KARPENTER_CLASS_DYNAMIC)]
    static = [
        p
        for p in paths
        if p.startswith("spec") and p not in dynamic and not any(_covers(k, p) for k in KARPENTER_CLASS_IGNORED)
    ]
    if static:
        tags = all(_covers("spec.tags", p) for p in static)
        return (
            "NodeClassDrift: spec.tags is part of the EC2NodeClass hash (Karpenter v1.14.1), so this tag edit "
            "replaces every node of the class (within the pools' disruption budgets)"
            if tags
            else "NodeClassDrift: every node of the class is replaced (within the pools' disruption budgets)"
        )
    for key, why in KARPENTER_CLASS_DYNAMIC.items():
        if any(_covers(key, p) for p in dynamic):
            return why
    return None


OPS = ("create", "replace", "update", "delete")


@dataclass
class Change:
    urn: str
    type: str
    name: str
    op: str  # create | update | replace | delete
    paths: list[str] = field(default_factory=list)
    replaced_by: list[str] = field(default_factory=list)  # the changed paths that force the replacement
    rolls_nodes: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # {path: {"old": ..., "new": ...}}


@dataclass
class Diff:
    stack: str
    base: str
    changes: list[Change]
    errors: list[str]
    warnings: list[str] = field(default_factory=list)  # allowed, but worth a reviewer's second look

    def summary(self) -> dict[str, int]:
        return {op: sum(1 for c in self.changes if c.op == op) for op in OPS}

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base": self.base,
            "summary": self.summary(),
            "changes": [asdict(c) for c in self.changes],
            "errors": self.errors,
            "warnings": self.warnings,
        }


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the inputs that differ (lists compare whole: their order and contents)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += changed_paths(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [] if old == new else [prefix or "(all)"]


def _covers(rule: str, path: str) -> bool:
    return path == rule or path.startswith(rule + ".") or rule.startswith(path + ".")


def replacing(type_: str, custom: bool, paths: list[str], replace_on_changes: tuple[str, ...] = ()) -> list[str]:
    """The changed paths that replace the resource: the provider's ForceNew ones and the program's own
    ``replaceOnChanges`` resource option."""
    if not custom:
        return []  # a component is never replaced itself; its children are
    rules = REPLACE_ON_CHANGE.get(type_)
    if rules is None and type_.startswith("kubernetes:") and custom:
        rules = KUBERNETES_IDENTITY
    return [p for p in paths if any(_covers(r, p) for r in (*(rules or ()), *replace_on_changes))]


def _rolled(r: Mapping[str, Any], resources: list[Mapping[str, Any]]) -> bool:
    """Whether a new version of this launch template replaces running instances: only when its group (the sibling
    in the same component) is an EKS managed node group or an Auto Scaling group with instance refresh. An ASG
    without it (the access host) takes the new version for the instances it launches next."""
    if r["type"] != "aws:ec2/launchTemplate:LaunchTemplate":
        return True
    siblings = [s for s in resources if s.get("parent") == r.get("parent") and s["urn"] != r["urn"]]
    return any(
        s["type"] == "aws:eks/nodeGroup:NodeGroup"
        or (s["type"] == "aws:autoscaling/group:Group" and s["inputs"].get("instanceRefresh"))
        for s in siblings
    )


def _minor(version: Any) -> tuple[int, int] | None:
    try:
        major, minor = str(version).split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def diff(base: Mapping[str, Any], new: Mapping[str, Any], base_name: str = "base") -> Diff:
    old_by = {r["urn"]: r for r in base["resources"]}
    new_by = {r["urn"]: r for r in new["resources"]}
    changes: list[Change] = []
    errors: list[str] = []
    warnings: list[str] = []
    for r in new["resources"]:
        before = old_by.get(r["urn"])
        if before is None:
            changes.append(Change(r["urn"], r["type"], r["name"], "create"))
            continue
        # Components: ours register no inputs; a remote one (VpcCniAddon, ConfigGroup) is updated when its
        # inputs change (the provider constructs it again and diffs its children).
        paths = changed_paths(before["inputs"], r["inputs"])
        if not paths:
            continue
        forced = replacing(r["type"], r["custom"], paths, tuple(r.get("replaceOnChanges", ())))
        change = Change(
            r["urn"],
            r["type"],
            r["name"],
            "replace" if forced else "update",
            paths,
            forced,
            values=diffvalues.values(before["inputs"], r["inputs"], paths),
        )
        rolls = ROLLS_NODES.get(r["type"])
        if forced and r["type"] in ("aws:eks/nodeGroup:NodeGroup", "aws:autoscaling/group:Group"):
            change.rolls_nodes = "the group is replaced: every node is new"
        elif forced and r["type"] == "aws:eks/fargateProfile:FargateProfile":
            # EKS user guide, "Delete a Fargate profile": the pods it scheduled are deleted (the new profile,
            # created first, takes them again)
            change.rolls_nodes = "the profile is replaced: EKS deletes the pods it placed, and they start again"
        elif r["type"] == "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass":
            change.rolls_nodes = karpenter_class_rolls(paths)
        elif rolls and any(_covers(rule, p) for rule in rolls[0] for p in paths) and _rolled(r, new["resources"]):
            change.rolls_nodes = rolls[1]
        if forced and (before.get("protect") or r.get("protect")):
            errors.append(
                f"{r['name']} ({r['type']}) is protected and would be replaced (changed: "
                f"{', '.join(forced)}): refused. Unprotect it on purpose first (docs/operations.md)."
            )
        if r["type"] == "aws:eks/cluster:Cluster":
            jump_errors, jump_warnings = _version_jump(
                r["name"], before["inputs"].get("version"), r["inputs"].get("version")
            )
            errors += jump_errors
            warnings += jump_warnings
        changes.append(change)
    for r in base["resources"]:
        if r["urn"] not in new_by:
            changes.append(Change(r["urn"], r["type"], r["name"], "delete"))
            if r.get("protect"):
                errors.append(f"{r['name']} ({r['type']}) is protected and would be deleted: refused.")
    return Diff(new.get("stack", ""), base_name, changes, errors, warnings)


def _version_jump(name: str, old: Any, new: Any) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a control-plane version change: one minor up is an upgrade; one minor down a rollback
    EKS performs only within 7 days of the upgrade (EKS user guide, "Roll back a cluster"); any other jump is
    refused."""
    a, b = _minor(old), _minor(new)
    if not a or not b or a == b:
        return [], []
    if b[0] != a[0] or abs(b[1] - a[1]) > 1:
        way = (
            "skips a minor; EKS upgrades one minor at a time"
            if b > a
            else "goes back more than one minor; EKS rolls back one minor only"
        )
        step = f"{a[0]}.{a[1] + 1}" if b > a else f"{a[0]}.{a[1] - 1}"
        return [f"{name}: Kubernetes {old} -> {new} {way} ({old} -> {step} first)."], []
    if b < a:
        return [], [
            f"{name}: Kubernetes {old} -> {new} is a ROLLBACK: EKS rolls a control plane back one minor "
            "only within 7 days of its upgrade (the cluster's ROLLBACK_READINESS insights say whether it "
            "can). pulumi-aws 7.51 sends it as UpdateClusterVersion with the lower version, without EKS's "
            "rollbackConfig (terraform-provider-aws#48751): if EKS refuses, run `aws eks "
            f"update-cluster-version --name <cluster> --kubernetes-version {new}` and `pulumi refresh` "
            '(docs/operations.md, "Upgrading Kubernetes"). Node groups and add-ons follow the catalogs\' '
            f"{new} entries."
        ]
    return [], []


def short_type(typ: str) -> str:
    parts = typ.split(":")
    return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}" if len(parts) == 3 and "/" in parts[1] else typ


def render(d: Diff, values: bool = True) -> str:
    """The diff as text: one line per changed resource and, with ``values``, each changed input old -> new under
    it (tools/diffvalues.py)."""
    s = d.summary()
    lines = [
        f"Diff of {d.stack} against {d.base}: {s['create']} to create, {s['update']} to update, "
        f"{s['replace']} to replace, {s['delete']} to delete"
    ]
    marks = {"create": "+ ", "update": "~ ", "replace": "+-", "delete": "- "}
    for op in ("replace", "update", "create", "delete"):
        for c in (c for c in d.changes if c.op == op):
            detail = ""
            if c.op == "replace":
                detail = f"  replaced because {', '.join(c.replaced_by)} changed"
            elif c.op == "update":
                detail = f"  [{', '.join(c.paths)}]"
            if c.rolls_nodes:
                detail += f"  ROLLS NODES: {c.rolls_nodes}"
            lines.append(f"  {marks[op]} {short_type(c.type)} {c.name}{detail}")
            if values:
                lines += [f"        {line}" for line in diffvalues.render(c.values)]
    if not d.changes:
        lines.append("  no changes")
    for e in d.errors:
        lines.append(f"  ERROR {e}")
    for w in d.warnings:
        lines.append(f"  WARNING {w}")
    return "\n".join(lines)


def dump_json(d: Diff) -> str:
    return json.dumps(d.as_json(), indent=2, sort_keys=True) + "\n"


MARKER = "<!-- eks-platform offline diff -->"


def markdown(diffs: list[dict[str, Any]], report_url: str | None = None) -> str:
    """One pull-request comment for the diffs of every stack (--diff-json documents)."""
    lines = [
        MARKER,
        "### Offline plan diff",
        "",
        "What this pull request changes in each stack, from the offline plan (no cloud credentials); "
        "`+-` replaces, `~` updates in place. `pulumi preview` shows the live view.",
        "",
        *(
            [
                f"The full report of each stack (graph, every resource, this diff with its values, guardrails, "
                f"critical path): artifact `plan-report` of [this run]({report_url}), one HTML page per stack.",
                "",
            ]
            if report_url
            else []
        ),
        "> **Computed by this pull request's own code** (offline-diff.yml, no secrets): a change to the "
        "program or to `tools/` can change this report too. Review the code, not only the diff.",
        "",
    ]
    for doc in sorted(diffs, key=lambda d: d.get("stack", "")):
        s = doc["summary"]
        verdict = "**refused**" if doc["errors"] else "ok"
        lines += [
            f"<details><summary><b>{doc['stack']}</b>: {s['create']} to create, {s['update']} to update, "
            f"{s['replace']} to replace, {s['delete']} to delete, "
            f"{sum(1 for c in doc['changes'] if c.get('rolls_nodes'))} rolling nodes: {verdict}</summary>",
            "",
            "```diff",
        ]
        d = Diff(
            doc["stack"], doc["base"], [Change(**c) for c in doc["changes"]], doc["errors"], doc.get("warnings", [])
        )
        lines += [
            ("! " + line.strip()) if "ERROR" in line or "ROLLS NODES" in line else line
            for line in render(d, values=False).splitlines()[1:]
        ]
        lines += ["```", ""]
        lines += _folded_values(d)
        lines += ["</details>", ""]
    return "\n".join(lines)


def _folded_values(d: Diff) -> list[str]:
    """Each changed resource's values in its own fold, so a big change stays readable."""
    out: list[str] = []
    for c in (c for op in ("replace", "update") for c in d.changes if c.op == op and c.values):
        mark = "+-" if c.op == "replace" else "~"
        out += [
            f"<details><summary><code>{mark} {short_type(c.type)} {c.name}</code>: "
            f"{len(c.values)} input{'s' if len(c.values) != 1 else ''}</summary>",
            "",
            "```diff",
            *diffvalues.render(c.values),
            "```",
            "</details>",
            "",
        ]
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m tools.diff",
        description="Render --diff-json files as one pull-request comment (Markdown) on stdout.",
    )
    parser.add_argument("diffs", nargs="+", type=Path)
    parser.add_argument("--report-url", help="where the HTML reports are (the run's artifacts)")
    args = parser.parse_args(argv)
    if args.report_url and not args.report_url.startswith("https://"):
        parser.error("--report-url must be an https:// address")
    sys.stdout.write(markdown([json.loads(p.read_text()) for p in args.diffs], args.report_url))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
