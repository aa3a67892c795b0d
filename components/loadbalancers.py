"""Load balancers owned by the platform and bound to Services (``workloads.loadBalancers``).

The platform creates the load balancer, its security group, the target group, the listeners and the DNS
record; a TargetGroupBinding (``elbv2.k8s.aws/v1beta1``, aws-load-balancer-controller
apis/elbv2/v1beta1/targetgroupbinding_types.go) hands the target group to a Service. The controller then
registers the Service's endpoints (pods or nodes) and, from the binding's ``networking`` rules, opens exactly
the target port from the load balancer's security group on the security group of each target's ENI (the one
tagged ``kubernetes.io/cluster/<cluster>`` when an ENI has several: pkg/networking/networking_manager.go
resolveEndpointSGForENI — the EKS cluster security group on managed nodes, the node security group on
self-managed ones). The controller never creates or deletes these load balancers, so ``pulumi destroy`` and
tools/teardown.py remove them like any other resource (the binding first: it depends on all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import names
from components.config import LoadBalancer
from components.config.tags import tagged
from components.config.workloads import DEFAULT_SSL_POLICY, SECURE
from components.context import AwsContext
from components.names import load_balancer_names

BINDING_API_VERSION = "elbv2.k8s.aws/v1beta1"
TYPE = "eks-platform:workloads:LoadBalancer"


# ---------------------------------------------------------------------------------------
# decisions (pure)
# ---------------------------------------------------------------------------------------
def target_group_port(lb: LoadBalancer) -> int:
    """The target group's port: where targets receive (nodePort or the pods' port), as the controller's own
    target groups do (pkg/service/model_build_target_group.go buildTargetGroupPort)."""
    return lb.target.traffic_port


def health_check(lb: LoadBalancer) -> dict[str, Any]:
    hc = lb.health_check
    protocol = hc.protocol or ("HTTP" if lb.type == "application" else "TCP")
    out: dict[str, Any] = {
        "enabled": True,
        "protocol": protocol,
        "port": str(hc.port) if hc.port else "traffic-port",
        "interval": hc.interval_seconds,
        "timeout": hc.timeout_seconds,
        "healthy_threshold": hc.healthy_threshold,
        "unhealthy_threshold": hc.unhealthy_threshold,
    }
    if protocol != "TCP":
        out.update(path=hc.path or "/", matcher=hc.matcher or "200-399")
    return out


def binding_networking(lb: LoadBalancer, security_group_id: pulumi.Input[str]) -> dict[str, Any]:
    """TargetGroupBinding ``spec.networking``: the target port(s) from the load balancer's security group only
    (the controller's own rule shape, pkg/service/model_build_target_group.go buildTargetGroupBindingNetworking)."""
    return {
        "ingress": [
            {
                "from": [{"securityGroup": {"groupID": security_group_id}}],
                "ports": [{"protocol": protocol.upper(), "port": port} for protocol, port in lb.target_ports],
            }
        ]
    }


def binding_manifest(
    key: str,
    lb: LoadBalancer,
    target_group_arn: pulumi.Input[str],
    security_group_id: pulumi.Input[str],
    vpc_id: pulumi.Input[str],
) -> dict[str, Any]:
    """The TargetGroupBinding object (v1beta1 CRD schema: serviceRef required; targetType and vpcID given so the
    controller's webhook checks them against the target group instead of inferring them)."""
    return {
        "apiVersion": BINDING_API_VERSION,
        "kind": "TargetGroupBinding",
        "metadata": {
            "name": key,
            "namespace": lb.target.namespace,
            "labels": {"app.kubernetes.io/managed-by": "pulumi", "eks-platform/load-balancer": key},
        },
        "spec": {
            "targetGroupARN": target_group_arn,
            "targetType": lb.target.target_type,
            "serviceRef": {"name": lb.target.service, "port": lb.target.port},
            "networking": binding_networking(lb, security_group_id),
            "ipAddressType": "ipv4",
            "vpcID": vpc_id,
        },
    }


def forward(target_group_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    return [{"type": "forward", "target_group_arn": target_group_arn}]


def redirect_actions(lb: LoadBalancer) -> list[dict[str, Any]]:
    """HTTP on port 80 answered with a permanent redirect to the first HTTPS listener."""
    https = min(lst.port for lst in lb.listeners if lst.protocol == "HTTPS")
    return [{"type": "redirect", "redirect": {"port": str(https), "protocol": "HTTPS", "status_code": "HTTP_301"}}]


# ---------------------------------------------------------------------------------------
# the component
# ---------------------------------------------------------------------------------------
@dataclass
class LoadBalancerArgs:
    key: str
    config: LoadBalancer
    cluster_name: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    deletion_protection: bool
    k8s_provider: pulumi.ProviderResource
    controller: pulumi.Resource  # the AWS Load Balancer Controller: its CRD and webhook serve the binding
    ctx: AwsContext
    namespace: pulumi.Resource | None = None  # the target's namespace, when the platform creates it
    # VPC CNI custom networking: pods take addresses from these CIDRs (not the VPC's primary one), and ip targets
    # are pods, so the load balancer must reach them there too.
    pod_cidrs: Sequence[pulumi.Input[str]] = ()


class PlatformLoadBalancer(pulumi.ComponentResource):
    dns_name: pulumi.Output[str]
    arn: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self._name, self._args, lb = name, args, args.config
        self.lb_name, self.target_group_name = load_balancer_names(args.cluster_name, args.key, lb)
        self.sg = self._security_group()
        self.load_balancer = self._load_balancer()
        self.target_group = self._target_group()
        self.listeners = self._listeners()
        self.record = self._record()
        self.binding = self._binding()
        self.dns_name, self.arn = self.load_balancer.dns_name, self.load_balancer.arn
        self.target_group_arn, self.security_group_id = self.target_group.arn, self.sg.id
        self.register_outputs({"dnsName": self.dns_name, "arn": self.arn, "targetGroupArn": self.target_group_arn})

    def _child(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kw)

    def _tags(self, name: str) -> dict[str, str]:
        return tagged(self._args.ctx.tags, name, **{"eks-platform/load-balancer": self._args.key})

    def _security_group(self) -> aws.ec2.SecurityGroup:
        """Admits allowedCidrs (default: the VPC) on the listener ports; sends only to the target ports."""
        a, lb, name = self._args, self._args.config, self._name
        sg = aws.ec2.SecurityGroup(
            # description is ForceNew: it names the key, not the hashed load-balancer name that changes on replacement
            f"{name}-sg",
            **names.autoname(names.SECURITY_GROUP, f"{name}-sg", a.vpc_id),
            vpc_id=a.vpc_id,
            description=f"Load balancer {a.key} of EKS cluster {a.cluster_name}",
            tags=self._tags(f"{name}-sg"),
            opts=self._child(),
        )
        sources: Sequence[pulumi.Input[str]] = lb.allowed_cidrs or [a.vpc_cidr]
        for protocol, port in lb.ingress_ports:
            for i, cidr in enumerate(sources):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-in-{protocol}-{port}-{i}",
                    security_group_id=sg.id,
                    ip_protocol=protocol,
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"Clients of {a.key} on {protocol}/{port}",
                    opts=self._child(),
                )
        for protocol, port in lb.target_ports:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-out-{protocol}-{port}",
                security_group_id=sg.id,
                ip_protocol=protocol,
                from_port=port,
                to_port=port,
                cidr_ipv4=a.vpc_cidr,
                description=f"To the targets of {a.key} (traffic and health checks)",
                opts=self._child(),
            )
            # ip targets under custom networking are pods on the pod subnets (instance targets are the nodes, whose
            # primary addresses stay in the VPC's CIDR)
            for i, cidr in enumerate(a.pod_cidrs if lb.target.target_type == "ip" else ()):
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-out-pods-{protocol}-{port}-{i}",
                    security_group_id=sg.id,
                    ip_protocol=protocol,
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    description=f"To the pods of {a.key} on the pod subnets (traffic and health checks)",
                    opts=self._child(),
                )
        return sg

    def _load_balancer(self) -> aws.lb.LoadBalancer:
        a, lb = self._args, self._args.config
        logs = (
            {"access_logs": {"bucket": lb.access_logs.bucket, "prefix": lb.access_logs.prefix, "enabled": True}}
            if lb.access_logs
            else {}
        )
        alb = {"drop_invalid_header_fields": True} if lb.type == "application" else {}
        return aws.lb.LoadBalancer(
            self._name,
            name=self.lb_name,
            load_balancer_type=lb.type,
            internal=lb.scheme == "internal",
            ip_address_type="ipv4",
            subnets=a.subnet_ids,
            security_groups=[self.sg.id],
            enable_deletion_protection=a.deletion_protection,
            tags=self._tags(self.lb_name),
            opts=self._child(),
            **logs,
            **alb,
        )

    def _target_group(self) -> aws.lb.TargetGroup:
        a, lb = self._args, self._args.config
        return aws.lb.TargetGroup(
            f"{self._name}-tg",
            name=self.target_group_name,
            port=target_group_port(lb),
            protocol=lb.target_protocol,
            target_type=lb.target.target_type,
            vpc_id=a.vpc_id,
            ip_address_type="ipv4",
            health_check=health_check(lb),
            tags=self._tags(self.target_group_name),
            opts=self._child(),
        )

    def _listeners(self) -> dict[str, aws.lb.Listener]:
        lb, name = self._args.config, self._name
        out: dict[str, aws.lb.Listener] = {}
        for lst in lb.listeners:
            key = f"{lst.protocol.lower().replace('_', '-')}-{lst.port}"
            tls = (
                {"certificate_arn": lst.certificate_arn, "ssl_policy": lst.ssl_policy or DEFAULT_SSL_POLICY}
                if lst.protocol in SECURE
                else {}
            )
            out[key] = aws.lb.Listener(
                f"{name}-{key}",
                load_balancer_arn=self.load_balancer.arn,
                port=lst.port,
                protocol=lst.protocol,
                default_actions=forward(self.target_group.arn),
                tags=self._tags(f"{name}-{key}"),
                opts=self._child(),
                **tls,
            )
        if lb.redirects:
            out["http-redirect"] = aws.lb.Listener(
                f"{name}-http-redirect",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=redirect_actions(lb),
                tags=self._tags(f"{name}-http-redirect"),
                opts=self._child(),
            )
        return out

    def _record(self) -> aws.route53.Record | None:
        dns = self._args.config.dns
        if dns is None:
            return None
        return aws.route53.Record(
            f"{self._name}-dns",
            zone_id=dns.zone_id,
            name=dns.name,
            type="A",
            allow_overwrite=False,
            aliases=[
                {
                    "name": self.load_balancer.dns_name,
                    "zone_id": self.load_balancer.zone_id,
                    "evaluate_target_health": True,
                }
            ],
            opts=self._child(),
        )

    def _binding(self) -> k8s.apiextensions.CustomResource:
        a = self._args
        manifest = binding_manifest(a.key, a.config, self.target_group.arn, self.sg.id, a.vpc_id)
        return k8s.apiextensions.CustomResource(
            f"{self._name}-binding",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            # The webhook refuses a change of targetGroupARN or targetType (immutable): replace the binding, and
            # delete the old one first (one binding per target group; the name is reused).
            opts=self._child(
                provider=a.k8s_provider,
                depends_on=[a.controller, *self.listeners.values(), *([a.namespace] if a.namespace else [])],
                replace_on_changes=["spec.targetGroupARN", "spec.targetType"],
                delete_before_replace=True,
            ),
        )

    def outputs(self) -> dict[str, Any]:
        dns = self._args.config.dns
        return {
            "dnsName": self.dns_name,
            "arn": self.arn,
            "name": self.lb_name,
            "targetGroupArn": self.target_group_arn,
            "securityGroupId": self.security_group_id,
            "fqdn": dns.name if dns else None,
        }
