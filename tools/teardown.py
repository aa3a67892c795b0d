"""Tear a stack down without leaving what the controllers created: then `pulumi destroy`.

    python -m tools.teardown STACK                     # dry run: list what would go, delete nothing
    python -m tools.teardown STACK --execute [--allow-protected] [--timeout 900] [--delete-leftovers]
    make destroy STACK=dev [ARGS=--execute]

`pulumi destroy` alone fails on an EKS platform that served traffic: the load balancers, target groups
and security groups the AWS Load Balancer Controller created for Services and Ingresses (and ENIs the
VPC CNI leaked) are not in the Pulumi state, so deleting the subnets and the VPC ends in
DependencyViolation. In order, this tool

1. reads the stack's config (the program's own models) and asks EKS for the cluster;
2. lists the Services of type LoadBalancer, Ingresses, TargetGroupBindings and Karpenter NodePools in the
   cluster (the kubernetes client, with the kubeconfig of ``$(pulumi stack output kubeconfigCommand)``), the
   load balancers, target groups and security groups tagged for this cluster by the controllers
   (``elbv2.k8s.aws/cluster``; ``kubernetes.io/cluster/<name>`` for classic ELBs), the instances Karpenter
   launched for it (``karpenter.sh/nodepool`` + ``kubernetes.io/cluster/<name>=owned``) and its instance profiles
   (``/karpenter/<region>/<name>/``), the ENIs the VPC CNI leaked and the resources the program protects (from the
   offline plan);
3. with ``--execute``: refuses a protected stack unless ``--allow-protected``; deletes those
   Kubernetes objects (NodePools last), so the controllers delete their AWS resources; waits (bounded, with progress)
   until none remains and no ELB or leaked CNI ENI holds the subnets, deleting leaked CNI ENIs on the
   way (the CNI's own rule: available and created over 5 minutes ago); with ``--delete-leftovers``,
   deletes through the AWS API what is still there at the deadline (a controller that is already gone);
4. with ``--allow-protected``: ``pulumi state unprotect --all``, EKS deletion protection off, and deletion
   protection off on the platform-owned load balancers (``workloads.loadBalancers``: in the Pulumi state, so
   `pulumi destroy` deletes them — after their TargetGroupBindings, which step 3 already removed, so the
   controller has deregistered the targets and revoked the node security-group rules it opened);
5. runs ``pulumi destroy --yes`` for the stack.

Exit 0 when done (or the dry run listed everything), 1 when something is left or refused, 2 on
invalid config; otherwise pulumi's own exit code.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.stackconfig import ROOT

LBC_CLUSTER_TAG = "elbv2.k8s.aws/cluster"  # aws-load-balancer-controller pkg/shared_constants/tag_keys.go
CNI_CLUSTER_TAG = "cluster.k8s.amazonaws.com/name"  # amazon-vpc-cni-k8s pkg/awsutils/awsutils.go
CNI_CREATED_AT_TAG = "node.k8s.amazonaws.com/createdAt"
CNI_DESCRIPTION_PREFIX = "aws-K8S-"
# ipamd deletes a leaked ENI only when it was created over 5 minutes ago (eniDeleteCooldownTime):
# younger available ENIs may be on their way to being attached to a node.
CNI_COOLDOWN = datetime.timedelta(minutes=5)
TGB = ("elbv2.k8s.aws", "v1beta1", "targetgroupbindings")
NODEPOOL = ("karpenter.sh", "v1", "nodepools")  # cluster-scoped
KARPENTER_NODEPOOL_TAG = "karpenter.sh/nodepool"  # on every instance Karpenter launches (with the cluster's tag)
DEFAULT_TIMEOUT = 900.0
DEFAULT_INTERVAL = 15.0


class Aws:
    """The AWS clients of one session, each made once (a client costs its service model)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]


def legacy_cluster_tag(cluster: str) -> str:
    """The in-tree cloud provider's ownership tag (classic ELBs and their security groups)."""
    return f"kubernetes.io/cluster/{cluster}"


@dataclass(frozen=True, order=True)
class KubeObject:
    kind: str  # Service | Ingress | TargetGroupBinding | NodePool
    namespace: str  # "" for a cluster-scoped kind
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass
class Leftovers:
    """AWS resources the controllers created for the cluster, outside the Pulumi state."""

    load_balancers: dict[str, str] = field(default_factory=dict)  # ARN (or classic name) -> name
    classic_load_balancers: list[str] = field(default_factory=list)
    target_groups: dict[str, str] = field(default_factory=dict)  # ARN -> name
    security_groups: dict[str, str] = field(default_factory=dict)  # id -> name
    enis: dict[str, str] = field(default_factory=dict)  # id -> why it holds a subnet
    instances: dict[str, str] = field(default_factory=dict)  # id -> the NodePool that launched it (Karpenter)
    # Karpenter's instance profiles (name -> roles): they hold the node role, so `pulumi destroy` cannot delete it
    # while they exist. Not waited for: the EC2NodeClasses' deletion (in `pulumi destroy`) removes them.
    instance_profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (
            self.load_balancers
            or self.classic_load_balancers
            or self.target_groups
            or self.security_groups
            or self.enis
            or self.instances
        )

    def summary(self) -> str:
        parts = [
            (len(self.instances), "Karpenter instance"),
            (len(self.instance_profiles), "Karpenter instance profile"),
            (len(self.load_balancers) + len(self.classic_load_balancers), "load balancer"),
            (len(self.target_groups), "target group"),
            (len(self.security_groups), "security group"),
            (len(self.enis), "network interface"),
        ]
        return ", ".join(f"{n} {what}{'s' if n != 1 else ''}" for n, what in parts if n) or "nothing"

    def lines(self) -> list[str]:
        return (
            [f"instance {i} (Karpenter, NodePool {pool})" for i, pool in sorted(self.instances.items())]
            + [
                f"instance profile {p} (Karpenter, role {', '.join(roles) or 'none'})"
                for p, roles in sorted(self.instance_profiles.items())
            ]
            + [f"load balancer {name} ({arn})" for arn, name in sorted(self.load_balancers.items())]
            + [f"classic load balancer {name}" for name in sorted(self.classic_load_balancers)]
            + [f"target group {name} ({arn})" for arn, name in sorted(self.target_groups.items())]
            + [f"security group {name} ({sg})" for sg, name in sorted(self.security_groups.items())]
            + [f"network interface {eni}: {why}" for eni, why in sorted(self.enis.items())]
        )


# ---------------------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------------------
def _custom_items(api_client: Any, group: tuple[str, str, str]) -> list[dict[str, Any]]:
    """A custom resource's objects across the cluster; none when its CRD is not installed (404)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        return client.CustomObjectsApi(api_client).list_cluster_custom_object(*group)["items"]
    except ApiException as err:
        if err.status != 404:
            raise
        return []


def cluster_objects(api_client: Any) -> list[KubeObject]:
    """Services of type LoadBalancer, Ingresses and TargetGroupBindings, all namespaces; Karpenter NodePools."""
    from kubernetes import client

    out = [
        KubeObject("Service", s.metadata.namespace, s.metadata.name)
        for s in client.CoreV1Api(api_client).list_service_for_all_namespaces().items
        if s.spec and s.spec.type == "LoadBalancer"
    ]
    out += [
        KubeObject("Ingress", i.metadata.namespace, i.metadata.name)
        for i in client.NetworkingV1Api(api_client).list_ingress_for_all_namespaces().items
    ]
    out += [
        KubeObject("TargetGroupBinding", b["metadata"]["namespace"], b["metadata"]["name"])
        for b in _custom_items(api_client, TGB)
    ]
    out += [KubeObject("NodePool", "", p["metadata"]["name"]) for p in _custom_items(api_client, NODEPOOL)]
    return sorted(out)


def delete_objects(api_client: Any, objects: Iterable[KubeObject]) -> None:
    """Delete, Ingresses and Services first (their controller deletes what it made), then bindings, then NodePools
    (Karpenter drains and terminates their nodes)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core, net = client.CoreV1Api(api_client), client.NetworkingV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    order = {"Ingress": 0, "Service": 1, "TargetGroupBinding": 2, "NodePool": 3}
    for o in sorted(objects, key=lambda o: (order[o.kind], o)):
        try:
            if o.kind == "Service":
                core.delete_namespaced_service(o.name, o.namespace)
            elif o.kind == "Ingress":
                net.delete_namespaced_ingress(o.name, o.namespace)
            elif o.kind == "NodePool":
                custom.delete_cluster_custom_object(*NODEPOOL, o.name)
            else:
                custom.delete_namespaced_custom_object(TGB[0], TGB[1], o.namespace, TGB[2], o.name)
        except ApiException as err:
            if err.status != 404:  # already gone
                raise
        print(f"deleted {o}", flush=True)


# ---------------------------------------------------------------------------------------
# AWS
# ---------------------------------------------------------------------------------------
def _tags_by_resource(elbv2: Any, arns: Sequence[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
        for d in elbv2.describe_tags(ResourceArns=list(arns[start : start + 20]))["TagDescriptions"]:
            out[d["ResourceArn"]] = {t["Key"]: t["Value"] for t in d.get("Tags", [])}
    return out


def owned(tags: Mapping[str, str], cluster: str) -> bool:
    """Created for this cluster by the Load Balancer Controller or the in-tree cloud provider."""
    return tags.get(LBC_CLUSTER_TAG) == cluster or tags.get(legacy_cluster_tag(cluster)) == "owned"


def leaked_cni(eni: Mapping[str, Any], now: datetime.datetime) -> bool:
    """An available ENI the VPC CNI made and will never attach again (its own leaked-ENI rule)."""
    if eni.get("Status") != "available" or not eni.get("Description", "").startswith(CNI_DESCRIPTION_PREFIX):
        return False
    tags = {t["Key"]: t["Value"] for t in eni.get("TagSet", [])}
    try:
        created = datetime.datetime.fromisoformat(tags[CNI_CREATED_AT_TAG].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return True  # untimed: ipamd retags and deletes it on its next pass; nothing else would attach it
    return now - created >= CNI_COOLDOWN


def elb_interface_of(description: str, names: Iterable[str]) -> bool:
    """ELB ENIs are described ``ELB app/<name>/<id>``, ``ELB net/<name>/<id>`` or ``ELB <name>``."""
    return any(description == f"ELB {n}" or description.startswith((f"ELB app/{n}/", f"ELB net/{n}/")) for n in names)


def aws_leftovers(
    aws: Aws, cluster: str, vpc_id: str | None, lb_names: Iterable[str] = (), now: datetime.datetime | None = None
) -> Leftovers:
    """What the controllers created for ``cluster`` that still exists. ``lb_names``: load balancers seen
    earlier, whose ENIs may outlive them for a few minutes."""
    now = now or datetime.datetime.now(datetime.UTC)
    found = Leftovers()
    elbv2 = aws("elbv2")
    lbs = [lb for page in elbv2.get_paginator("describe_load_balancers").paginate() for lb in page["LoadBalancers"]]
    tags = _tags_by_resource(elbv2, [lb["LoadBalancerArn"] for lb in lbs])
    found.load_balancers = {
        lb["LoadBalancerArn"]: lb["LoadBalancerName"]
        for lb in lbs
        if owned(tags.get(lb["LoadBalancerArn"], {}), cluster)
    }
    tgs = [tg for page in elbv2.get_paginator("describe_target_groups").paginate() for tg in page["TargetGroups"]]
    tags = _tags_by_resource(elbv2, [tg["TargetGroupArn"] for tg in tgs])
    found.target_groups = {
        tg["TargetGroupArn"]: tg["TargetGroupName"] for tg in tgs if owned(tags.get(tg["TargetGroupArn"], {}), cluster)
    }
    elb = aws("elb")
    names = [
        d["LoadBalancerName"]
        for page in elb.get_paginator("describe_load_balancers").paginate()
        for d in page["LoadBalancerDescriptions"]
    ]
    for start in range(0, len(names), 20):
        for d in elb.describe_tags(LoadBalancerNames=names[start : start + 20])["TagDescriptions"]:
            if owned({t["Key"]: t["Value"] for t in d.get("Tags", [])}, cluster):
                found.classic_load_balancers.append(d["LoadBalancerName"])
    ec2 = aws("ec2")
    found.instances = karpenter_instances(ec2, cluster)
    found.instance_profiles = karpenter_instance_profiles(aws("iam"), ec2.meta.region_name, cluster)
    # Security groups: the controller's own, and the in-tree provider's k8s-elb-* groups. Not every group
    # tagged kubernetes.io/cluster/<name>: the cluster's and the nodes' groups carry it and are Pulumi's.
    for tag, value in ((LBC_CLUSTER_TAG, cluster), (legacy_cluster_tag(cluster), "owned")):
        for page in ec2.get_paginator("describe_security_groups").paginate(
            Filters=[{"Name": f"tag:{tag}", "Values": [value]}]
        ):
            for sg in page["SecurityGroups"]:
                if tag == LBC_CLUSTER_TAG or sg["GroupName"].startswith("k8s-elb-"):
                    found.security_groups[sg["GroupId"]] = sg["GroupName"]
    if vpc_id:
        seen = set(lb_names) | set(found.load_balancers.values()) | set(found.classic_load_balancers)
        for page in ec2.get_paginator("describe_network_interfaces").paginate(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        ):
            for eni in page["NetworkInterfaces"]:
                eni_tags = {t["Key"]: t["Value"] for t in eni.get("TagSet", [])}
                if eni_tags.get(CNI_CLUSTER_TAG) == cluster and leaked_cni(eni, now):
                    found.enis[eni["NetworkInterfaceId"]] = "leaked by the VPC CNI (available)"
                elif elb_interface_of(eni.get("Description", ""), seen):
                    found.enis[eni["NetworkInterfaceId"]] = f"of a deleted load balancer ({eni['Description']})"
    return found


def karpenter_instances(ec2: Any, cluster: str) -> dict[str, str]:
    """Instances Karpenter launched for this cluster that are not terminated: ``{id: NodePool}``. They are not in the
    Pulumi state and hold the subnets, the node security group and (through their instance profile) the node role."""
    filters = [
        {"Name": f"tag:{legacy_cluster_tag(cluster)}", "Values": ["owned"]},
        {"Name": "tag-key", "Values": [KARPENTER_NODEPOOL_TAG]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    out: dict[str, str] = {}
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page["Reservations"]:
            for i in reservation["Instances"]:
                tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                out[i["InstanceId"]] = tags.get(KARPENTER_NODEPOOL_TAG, "")
    return out


def karpenter_instance_profiles(iam: Any, region: str, cluster: str) -> dict[str, tuple[str, ...]]:
    """Instance profiles Karpenter made for this cluster's EC2NodeClasses: ``{name: roles}``. Karpenter 1.14 puts them
    under the path ``/karpenter/<region>/<cluster>/<EC2NodeClass uid>/`` (pkg/providers/instanceprofile FormatPath)."""
    prefix = f"/karpenter/{region}/{cluster}/"
    return {
        p["InstanceProfileName"]: tuple(sorted(r["RoleName"] for r in p.get("Roles", [])))
        for page in iam.get_paginator("list_instance_profiles").paginate(PathPrefix=prefix)
        for p in page["InstanceProfiles"]
        if p.get("Path", "").startswith(prefix)
    }  # (moto ignores PathPrefix)


def delete_instance_profiles(aws: Aws, left: Leftovers) -> None:
    """Karpenter's instance profiles, when Karpenter is gone: the node role can then be deleted."""
    iam = aws("iam")
    for name, roles in sorted(left.instance_profiles.items()):
        for role in roles:
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
        iam.delete_instance_profile(InstanceProfileName=name)
        print(f"deleted instance profile {name} (Karpenter)", flush=True)


def delete_leaked_enis(aws: Aws, left: Leftovers) -> None:
    ec2 = aws("ec2")
    for eni, why in sorted(left.enis.items()):
        if why.startswith("leaked"):
            ec2.delete_network_interface(NetworkInterfaceId=eni)
            print(f"deleted network interface {eni} ({why})", flush=True)


def delete_directly(aws: Aws, left: Leftovers) -> None:
    """Delete leftovers through the AWS API (the controller that owns them is gone)."""
    elbv2, ec2 = aws("elbv2"), aws("ec2")
    if left.instances:
        ec2.terminate_instances(InstanceIds=sorted(left.instances))
        for i, pool in sorted(left.instances.items()):
            print(f"terminated instance {i} (Karpenter, NodePool {pool})", flush=True)
    for arn, name in sorted(left.load_balancers.items()):
        elbv2.delete_load_balancer(LoadBalancerArn=arn)
        print(f"deleted load balancer {name}", flush=True)
    for name in sorted(left.classic_load_balancers):
        aws("elb").delete_load_balancer(LoadBalancerName=name)
        print(f"deleted classic load balancer {name}", flush=True)
    for arn, name in sorted(left.target_groups.items()):
        elbv2.delete_target_group(TargetGroupArn=arn)
        print(f"deleted target group {name}", flush=True)
    for sg, name in sorted(left.security_groups.items()):
        ec2.delete_security_group(GroupId=sg)
        print(f"deleted security group {name} ({sg})", flush=True)


def wait_until_gone(
    fetch: Callable[[], Leftovers],
    timeout: float,
    interval: float,
    on_round: Callable[[Leftovers], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Leftovers:
    """Poll ``fetch`` until it finds nothing or ``timeout`` seconds pass; print progress each round."""
    start = clock()
    while True:
        left = fetch()
        if left.empty():
            print(
                "no Karpenter instance, load balancer, target group, security group or network interface is left",
                flush=True,
            )
            return left
        elapsed = clock() - start
        if elapsed >= timeout:
            return left
        print(f"waiting for the controllers ({elapsed:.0f} s of {timeout:.0f} s): {left.summary()}", flush=True)
        on_round(left)
        sleep(min(interval, max(0.0, timeout - elapsed)))


# ---------------------------------------------------------------------------------------
# the stack
# ---------------------------------------------------------------------------------------
def protected_resources(stack: str) -> list[str]:
    """Resources the program registers with ``protect``, from the offline plan of the stack."""
    from tools.plan import run

    recording = run(ROOT / f"Pulumi.{stack}.yaml", stack)
    return sorted(f"{r.type} {r.name}" for r in recording.resources if r.protect)


DELETION_PROTECTION = "deletion_protection.enabled"  # ELBv2 load balancer attribute


def protected_load_balancers(aws: Aws, cfg: Any) -> dict[str, str]:
    """{name: ARN} of the stack's platform-owned load balancers (workloads.loadBalancers) that exist with
    deletion protection on: `pulumi destroy` cannot delete them until it is off."""
    from components.names import load_balancer_names

    names = {load_balancer_names(cfg.cluster.name, key, lb)[0] for key, lb in cfg.workloads.load_balancers.items()}
    out: dict[str, str] = {}
    if not names:
        return out
    elbv2 = aws("elbv2")
    for page in elbv2.get_paginator("describe_load_balancers").paginate():
        for lb in page["LoadBalancers"]:
            if lb["LoadBalancerName"] not in names:
                continue
            attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]
            if {"Key": DELETION_PROTECTION, "Value": "true"} in attributes:
                out[lb["LoadBalancerName"]] = lb["LoadBalancerArn"]
    return dict(sorted(out.items()))


def describe_cluster(aws: Aws, name: str) -> dict[str, Any] | None:
    eks = aws("eks")
    try:
        return eks.describe_cluster(name=name)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        return None


def vpc_of(aws: Aws, cluster: Mapping[str, Any] | None) -> str | None:
    """The cluster's VPC: ``resourcesVpcConfig.vpcId``, or the VPC of its subnets."""
    config = (cluster or {}).get("resourcesVpcConfig", {})
    if config.get("vpcId"):
        return config["vpcId"]
    if config.get("subnetIds"):
        subnets = aws("ec2").describe_subnets(SubnetIds=config["subnetIds"][:1])["Subnets"]
        return subnets[0]["VpcId"] if subnets else None
    return None


def kube_client(kubeconfig: str | None, context: str | None) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=kubeconfig, context=context)


@dataclass
class Inventory:
    cluster: dict[str, Any] | None
    objects: list[KubeObject]
    leftovers: Leftovers
    protected: list[str]
    protected_load_balancers: dict[str, str] = field(default_factory=dict)

    def report(self, stack: str, cluster: str) -> str:
        lines = [
            f"stack {stack}, cluster {cluster}"
            + ("" if self.cluster else " (does not exist: nothing in Kubernetes to delete)")
        ]
        lines.append(f"Kubernetes objects that own AWS resources ({len(self.objects)}):")
        lines += [f"  {o}" for o in self.objects] or ["  none"]
        lines.append(f"AWS resources the controllers created for the cluster ({self.leftovers.summary()}):")
        lines += [f"  {line}" for line in self.leftovers.lines()] or ["  none"]
        deletion_protection = bool(self.cluster and self.cluster.get("deletionProtection"))
        lines.append(
            "protected (pulumi protect"
            + (", EKS deletion protection on" if deletion_protection else "")
            + f"): {len(self.protected)}"
        )
        lines += [f"  {p}" for p in self.protected]
        lines.append(f"load balancers with deletion protection on: {len(self.protected_load_balancers)}")
        lines += [f"  {n}" for n in self.protected_load_balancers]
        return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.teardown", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack")
    parser.add_argument("--execute", action="store_true", help="delete (default: list only)")
    parser.add_argument(
        "--allow-protected",
        action="store_true",
        help="unprotect the protected resources and turn EKS deletion protection off",
    )
    parser.add_argument(
        "--delete-leftovers",
        action="store_true",
        help="at the deadline, delete what the controllers left through the AWS API",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the controllers")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, help="seconds between checks")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI")
    return parser


def main(
    argv: list[str] | None = None,
    *,
    session: Any = None,
    api_client: Any = None,
    run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
) -> int:
    args = _parser().parse_args(argv)
    from tools.stackconfig import platform_config_or_report

    if (cfg := platform_config_or_report(args.stack)) is None:
        return 2
    if session is None:
        from tools import awscreds

        if (session := awscreds.session(cfg.region)) is None:
            return awscreds.EXIT
    aws = Aws(session)
    name = cfg.cluster.name
    cluster = describe_cluster(aws, name)
    if cluster is not None and api_client is None:
        api_client = kube_client(args.kubeconfig, args.context)
    vpc_id = vpc_of(aws, cluster)
    objects = cluster_objects(api_client) if cluster is not None else []
    left = aws_leftovers(aws, name, vpc_id)
    inventory = Inventory(cluster, objects, left, protected_resources(args.stack), protected_load_balancers(aws, cfg))
    print(inventory.report(args.stack, name), flush=True)
    if not args.execute:
        print("dry run: nothing was deleted (run with --execute)")
        return 0
    if (inventory.protected or inventory.protected_load_balancers) and not args.allow_protected:
        print(
            f"error: stack {args.stack} has protected resources (listed above); nothing was deleted. "
            "Re-run with --allow-protected to unprotect and destroy them.",
            file=sys.stderr,
        )
        return 1
    if not _controllers_cleaned_up(args, aws, api_client, objects, left, name, vpc_id):
        return 1
    return _destroy(args, aws, run, inventory, cluster, name)


def _controllers_cleaned_up(
    args: argparse.Namespace, aws: Aws, api_client: Any, objects: list, left: Leftovers, name: str, vpc_id: Any
) -> bool:
    """Delete the cluster's objects and wait until the controllers removed what they made in AWS (deleting it
    directly at the deadline with --delete-leftovers); False when something is still there."""
    delete_objects(api_client, objects)
    seen = [*left.load_balancers.values(), *left.classic_load_balancers]
    left = wait_until_gone(
        lambda: aws_leftovers(aws, name, vpc_id, seen),
        args.timeout,
        args.interval,
        on_round=lambda found: delete_leaked_enis(aws, found),
    )
    if not left.empty() and args.delete_leftovers:
        delete_directly(aws, left)
        delete_leaked_enis(aws, left)
        left = wait_until_gone(lambda: aws_leftovers(aws, name, vpc_id, seen), args.timeout, args.interval)
    if not left.empty():
        print(
            "error: still there after the deadline (the subnets cannot be deleted while they are):\n  "
            + "\n  ".join(left.lines())
            + "\nAre the Load Balancer Controller and Karpenter running? Re-run "
            "with --delete-leftovers to delete them through the AWS API.",
            file=sys.stderr,
        )
        return False
    if args.delete_leftovers and left.instance_profiles:
        delete_instance_profiles(aws, left)  # Karpenter is gone: nothing else will
    return True


def _destroy(
    args: argparse.Namespace,
    aws: Aws,
    run: Callable[..., subprocess.CompletedProcess],
    inventory: Inventory,
    cluster: Any,
    name: str,
) -> int:
    """Unprotect what is protected (state, EKS and load balancer deletion protection), then pulumi destroy."""
    cmd = [args.pulumi, "--cwd", str(ROOT)]
    if inventory.protected:
        if run([*cmd, "state", "unprotect", "--all", "--yes", "--stack", args.stack]).returncode != 0:
            return 1
        if cluster is not None and cluster.get("deletionProtection"):
            aws("eks").update_cluster_config(name=name, deletionProtection=False)
            aws("eks").get_waiter("cluster_active").wait(name=name)
            print(f"EKS deletion protection of {name} is off", flush=True)
    if inventory.protected_load_balancers and args.allow_protected:
        for lb_name, arn in inventory.protected_load_balancers.items():
            aws("elbv2").modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": DELETION_PROTECTION, "Value": "false"}]
            )
            print(f"deletion protection of load balancer {lb_name} is off", flush=True)
    return run([*cmd, "destroy", "--yes", "--stack", args.stack]).returncode


if __name__ == "__main__":
    sys.exit(main())
