"""``eks-platform:workloads``: what the platform builds for application teams — load balancers it owns.

A platform-owned load balancer is created here (with its security group, target group, listeners and
DNS record) and handed to a Service through a TargetGroupBinding: the AWS Load Balancer Controller
registers the Service's endpoints and opens the target port from the load balancer's security group,
but neither creates nor deletes the load balancer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import model_validator

from components.config.base import (
    DOMAIN,
    HOSTED_ZONE_ID,
    HOSTED_ZONE_ID_WHAT,
    PARTITION,
    BucketName,
    Description,
    LogPrefix,
    Model,
    Problems,
    cidrs,
    integer,
    show,
    text,
)
from components.config.identity import Key, WorkloadIdentity
from components.config.kube import SYSTEM_NAMESPACES, LabelSelector, Namespace, NamespaceConfig

Port = Annotated[int, integer(1, 65535)]
# Kubernetes: Services are RFC 1035 labels (start with a letter) (k8s.io/apimachinery/pkg/util/validation
# IsDNS1035Label).
ServiceName = Annotated[
    str,
    text(
        r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?",
        "a Service name (RFC 1035 label: 1-63 lowercase letters, digits, -, starting with a letter)",
        max_len=63,
    ),
]
# The key is the TargetGroupBinding's name and a tag value: a DNS label. The ELBv2 names built from it (32
# characters at most) are cut and hashed when it is long (components/names.py).
LoadBalancerKey = Annotated[
    str,
    text(
        r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
        "a load balancer key (1-63 lowercase letters, digits and -, not first or last)",
        max_len=63,
    ),
]
# ACM certificates, or IAM server certificates (ELBv2 Certificate.CertificateArn).
CertificateArn = Annotated[
    str,
    text(
        rf"arn:{PARTITION}:(acm:[a-z]{{2}}(-[a-z]+)+-[0-9]:[0-9]{{12}}:certificate/[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}"
        rf"-[0-9a-f]{{12}}|iam::[0-9]{{12}}:server-certificate/[A-Za-z0-9+=,.@_/-]{{1,128}})",
        "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>) or IAM server certificate ARN",
        max_len=2048,
    ),
]
# ELBv2 predefined security policies of TLS 1.2 and later only (Application Load Balancer guide, "Security
# policies"): the TLS 1.0/1.1 policies (ELBSecurityPolicy-2016-08, -TLS-1-1-*) are refused on purpose.
# TLS 1.2+ with forward secrecy and no CBC suites (Elastic Load Balancing, "Security policies for your Application
# Load Balancer"): TLS13-1-2/TLS13-1-3 and their Res, FIPS and PQ variants, FS-1-2-Res; not the Ext* or TLS-1-x
# policies kept for old clients. The guardrail lb-tls-policy (policies/guardrails.py TLS_POLICY) allows the same.
SSL_POLICY = r"ELBSecurityPolicy-(TLS13-1-[23](-Res)?(-FIPS)?(-PQ)?|FS-1-2-Res)-20\d\d-\d\d"
SslPolicy = Annotated[
    str,
    text(
        SSL_POLICY,
        "a forward-secret ELB security policy of TLS 1.2 or later without CBC suites "
        "(ELBSecurityPolicy-TLS13-1-2-2021-06, ...-Res-PQ-2025-09)",
    ),
]
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"  # AWS's recommended default since 2023
DnsName = Annotated[str, text(DOMAIN, "a DNS name (www.example.com)", max_len=253)]

Protocol = Literal["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP"]
PROTOCOLS = {"application": ("HTTP", "HTTPS"), "network": ("TCP", "TLS", "UDP", "TCP_UDP")}
SECURE = ("HTTPS", "TLS")
# Inbound rules per security group (VPC quotas: 60 per direction, IPv4).
MAX_SG_RULES = 60
NODE_PORTS = (30000, 32767)  # kube-apiserver --service-node-port-range default (EKS does not change it)


class Listener(Model):
    """A listener: every one forwards to the load balancer's target group."""

    port: Port
    """The port clients connect to."""
    protocol: Protocol
    """HTTP or HTTPS on an application load balancer; TCP, TLS, UDP or TCP_UDP on a network one."""
    certificate_arn: CertificateArn | None = None
    """The certificate of an HTTPS or TLS listener (required for those, refused for the others)."""
    ssl_policy: SslPolicy | None = None
    """The TLS policy of an HTTPS or TLS listener. Default: ELBSecurityPolicy-TLS13-1-2-2021-06."""

    @model_validator(mode="after")
    def _tls(self) -> Listener:
        found = Problems()
        if self.protocol in SECURE and self.certificate_arn is None:
            found.add("certificateArn", f"is required for a {self.protocol} listener")
        if self.protocol not in SECURE:
            for key, value in (("certificateArn", self.certificate_arn), ("sslPolicy", self.ssl_policy)):
                if value is not None:
                    found.add(key, f"applies to HTTPS and TLS listeners only, not {self.protocol}")
        found.check()
        return self


class Target(Model):
    """The Service the load balancer sends traffic to (through a TargetGroupBinding)."""

    namespace: Namespace
    """The Service's namespace (created by the platform before the binding unless workloads.namespaces says it is made
    elsewhere)."""
    service: ServiceName
    """The Service's name."""
    port: Port
    """The Service port to bind (TargetGroupBinding serviceRef.port)."""
    target_type: Literal["ip", "instance"] = "ip"
    """ip: the pods are registered (any Service type); instance: the nodes, on the Service's nodePort."""
    target_port: Port | None = None
    """ip targets: the port the pods listen on (the Service port's targetPort). Default: port."""
    node_port: Annotated[int, integer(*NODE_PORTS)] | None = None
    """instance targets: the Service port's nodePort, fixed in the Service (required for instance targets)."""
    protocol: Protocol | None = None
    """The target group's protocol. Default: HTTP on an application load balancer; on a network one TCP, or UDP /
    TCP_UDP to match UDP / TCP_UDP listeners."""

    @model_validator(mode="after")
    def _ports(self) -> Target:
        found = Problems()
        if self.target_type == "instance":
            if self.node_port is None:
                found.add(
                    "nodePort",
                    "is required for instance targets: the load balancer sends to the Service's "
                    "nodePort, which must be fixed in the Service to be opened exactly",
                )
            if self.target_port is not None:
                found.add("targetPort", "applies to ip targets only (instance targets receive on nodePort)")
        elif self.node_port is not None:
            found.add("nodePort", "applies to instance targets only (ip targets receive on targetPort)")
        found.check()
        return self

    @property
    def traffic_port(self) -> int:
        """Where the load balancer sends traffic: the pods' port or the nodes' nodePort."""
        if self.target_type == "instance":
            return self.node_port or 0
        return self.target_port or self.port


class HealthCheck(Model):
    """The target group's health check (ELBv2 CreateTargetGroup limits)."""

    protocol: Literal["HTTP", "HTTPS", "TCP"] | None = None
    """Default: HTTP on an application load balancer, TCP on a network one."""
    path: (
        Annotated[str, text(r"/[\x21-\x7e]{0,1023}", "an HTTP path starting with / (printable ASCII, at most 1024)")]
        | None
    ) = None
    """HTTP(S) health checks only. Default: /."""
    port: Port | None = None
    """Default: the traffic port."""
    matcher: (
        Annotated[
            str,
            text(
                r"[2-5][0-9]{2}((-|,)[2-5][0-9]{2})*", 'HTTP codes such as "200" or "200-399" or "200,204"', max_len=64
            ),
        ]
        | None
    ) = None
    """HTTP(S) health checks only: the success codes. Default: 200-399."""
    interval_seconds: Annotated[int, integer(5, 300)] = 15
    timeout_seconds: Annotated[int, integer(2, 120)] = 5
    healthy_threshold: Annotated[int, integer(2, 10)] = 3
    unhealthy_threshold: Annotated[int, integer(2, 10)] = 3

    @model_validator(mode="after")
    def _consistent(self) -> HealthCheck:
        found = Problems()
        if self.timeout_seconds >= self.interval_seconds:
            found.add(
                "timeoutSeconds",
                f"{self.timeout_seconds} must be shorter than intervalSeconds ({self.interval_seconds})",
            )
        if self.protocol == "TCP":
            for key, value in (("path", self.path), ("matcher", self.matcher)):
                if value is not None:
                    found.add(key, "applies to HTTP and HTTPS health checks only, not TCP")
        found.check()
        return self


class Dns(Model):
    """A Route 53 alias record for the load balancer (external-dns does not see platform-owned ones)."""

    zone_id: Annotated[str, text(HOSTED_ZONE_ID, HOSTED_ZONE_ID_WHAT)]
    """The hosted zone."""
    name: DnsName
    """The record name, inside the zone (www.example.com)."""


class AccessLogs(Model):
    """Access logs to an existing S3 bucket whose policy lets Elastic Load Balancing write."""

    bucket: BucketName
    prefix: LogPrefix | None = None


class LoadBalancer(Model):
    """A load balancer created by the platform and bound to a Service."""

    type: Literal["application", "network"]
    """application (ALB, HTTP/HTTPS) or network (NLB, TCP/TLS/UDP)."""
    scheme: Literal["internet-facing", "internal"] = "internal"
    """internet-facing: in the public subnets, TLS only; internal: in the private subnets."""
    listeners: tuple[Listener, ...]
    """At least one; ports unique."""
    target: Target
    allowed_cidrs: Annotated[tuple[str, ...], cidrs()] = ()
    """Who may connect, on the listener ports. Internal default: the VPC CIDR; internet-facing: required
    (0.0.0.0/0 for everyone). 0.0.0.0/0 is refused on an internal load balancer."""
    health_check: HealthCheck = HealthCheck()
    http_redirect: bool = True
    """An internet-facing application load balancer answers HTTP on port 80 with a redirect to HTTPS."""
    dns: Dns | None = None
    access_logs: AccessLogs | None = None
    deletion_protection: bool | None = None
    """Default: cluster.protect. Cannot be turned off in a protected stack."""

    @model_validator(mode="after")
    def _consistent(self) -> LoadBalancer:
        found = Problems()
        allowed = PROTOCOLS[self.type]
        ports = self._listener_problems(found)
        if not self.listeners:
            found.add("listeners", "needs at least one listener")
        if self.redirects and 80 in ports:
            found.add("httpRedirect", "port 80 is a listener of its own; turn httpRedirect off or move that listener")
        if self.target.protocol is not None and self.target.protocol not in allowed:
            found.add(
                ("target", "protocol"),
                f"{show(self.target.protocol)} is not a target protocol of an "
                f"{self.type} load balancer ({', '.join(allowed)})",
            )
        if (
            self.type == "network"
            and (kinds := {_nlb_target(lst.protocol) for lst in self.listeners})
            and len(kinds) > 1
        ):
            found.add(
                "listeners",
                "forward to one target group, so UDP, TCP_UDP and TCP/TLS listeners cannot be "
                "mixed (use TCP_UDP listeners for both)",
            )
        if self.health_check.protocol == "TCP" and self.type == "application":
            found.add(("healthCheck", "protocol"), "an application load balancer checks health over HTTP or HTTPS")
        self._access_problems(found)
        found.check()
        return self

    def _listener_problems(self, found: Problems) -> set[int]:
        """Each listener's protocol (of this type, TLS when internet-facing) and port (unique); the ports."""
        allowed = PROTOCOLS[self.type]
        ports: set[int] = set()
        for i, listener in enumerate(self.listeners):
            if listener.protocol not in allowed:
                found.add(
                    ("listeners", i, "protocol"),
                    f"{show(listener.protocol)} is not a protocol of an "
                    f"{self.type} load balancer ({', '.join(allowed)})",
                )
            elif self.scheme == "internet-facing" and listener.protocol not in SECURE:
                found.add(
                    ("listeners", i, "protocol"),
                    f"{show(listener.protocol)}: an internet-facing load balancer listens with TLS only "
                    f"({'HTTPS; port 80 redirects to it' if self.type == 'application' else 'TLS'})",
                )
            if listener.port in ports:
                found.add(("listeners", i, "port"), f"{listener.port} is used by another listener")
            ports.add(listener.port)
        return ports

    def _access_problems(self, found: Problems) -> None:
        """Who may connect: required when internet-facing, never 0.0.0.0/0 when internal, within one group's rules."""
        if self.scheme == "internal":
            for i, cidr in enumerate(self.allowed_cidrs):
                if cidr.endswith("/0"):
                    found.add(
                        ("allowedCidrs", i),
                        f"{show(cidr)} opens an internal load balancer to every "
                        "network; list the networks that reach it",
                    )
        elif not self.allowed_cidrs:
            found.add("allowedCidrs", "is required for an internet-facing load balancer (0.0.0.0/0 for everyone)")
        rules = len(self.allowed_cidrs or ("vpc",)) * len(self.ingress_ports)
        if rules > MAX_SG_RULES:
            found.add(
                "allowedCidrs",
                f"{len(self.allowed_cidrs)} networks x {len(self.ingress_ports)} ports need "
                f"{rules} inbound rules; a security group holds {MAX_SG_RULES}",
            )

    @property
    def redirects(self) -> bool:
        return self.http_redirect and self.type == "application" and self.scheme == "internet-facing"

    @property
    def target_protocol(self) -> str:
        if self.target.protocol is not None:
            return self.target.protocol
        if self.type == "application":
            return "HTTP"
        return _nlb_target(self.listeners[0].protocol) if self.listeners else "TCP"

    @property
    def ingress_ports(self) -> tuple[tuple[str, int], ...]:
        """(ip protocol, port) the security group admits from allowedCidrs: the listeners and the redirect."""
        out = {(p, lst.port) for lst in self.listeners for p in _ip_protocols(lst.protocol)}
        if self.redirects:
            out.add(("tcp", 80))
        return tuple(sorted(out, key=lambda t: (t[1], t[0])))

    @property
    def target_ports(self) -> tuple[tuple[str, int], ...]:
        """(ip protocol, port) the load balancer reaches the targets on: traffic, and the health check."""
        out = {(p, self.target.traffic_port) for p in _ip_protocols(self.target_protocol)}
        out.add(("tcp", self.health_check.port or self.target.traffic_port))
        return tuple(sorted(out, key=lambda t: (t[1], t[0])))


def _nlb_target(listener_protocol: str) -> str:
    """The target group protocol a network load balancer listener forwards to (TLS terminates at the NLB)."""
    return {"UDP": "UDP", "TCP_UDP": "TCP_UDP"}.get(listener_protocol, "TCP")


def _ip_protocols(protocol: str) -> tuple[str, ...]:
    return {"UDP": ("udp",), "TCP_UDP": ("tcp", "udp")}.get(protocol, ("tcp",))


# A workload security group's key: the SecurityGroupPolicy's name (an RFC 1123 label) and part of AWS names.
SecurityGroupKey = Annotated[
    str,
    text(
        r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?",
        "a security group key (1-63 lowercase letters, digits and -, not first or last)",
        max_len=63,
    ),
]
PeerCidrs = Annotated[tuple[str, ...], cidrs()]  # world checked per direction below
CLUSTER_PEER = "cluster"
RESERVED_PEERS = frozenset({CLUSTER_PEER, "nodes"})
WORLD = "0.0.0.0/0"


class PodRule(Model):
    """One rule of a pod security group: a protocol and ports, and who is on the other side."""

    description: Description
    """Why the rule exists (required: it is what an auditor reads)."""
    protocol: Literal["tcp", "udp", "icmp", "all"] = "tcp"
    """tcp, udp (with ports), icmp or all (without)."""
    from_port: Port | None = None
    """First port (tcp and udp)."""
    to_port: Port | None = None
    """Last port. Default: fromPort."""
    cidrs: PeerCidrs = ()
    """Networks on the other side; 0.0.0.0/0 is refused for ingress, and for egress on every port."""
    security_groups: tuple[SecurityGroupKey, ...] = ()
    """Other workload security groups on the other side (their keys), or "cluster": the EKS cluster security group
    (control plane, managed nodes and pods without a group of their own)."""

    @property
    def last_port(self) -> int | None:
        return self.to_port or self.from_port

    @model_validator(mode="after")
    def _shape(self) -> PodRule:
        found = Problems()
        if self.protocol in ("tcp", "udp") and self.from_port is None:
            found.add("fromPort", f"is required for {self.protocol}")
        if self.protocol in ("icmp", "all"):
            for key, value in (("fromPort", self.from_port), ("toPort", self.to_port)):
                if value is not None:
                    found.add(key, f"does not apply to protocol {self.protocol}")
        if self.to_port is not None and self.from_port is not None and self.to_port < self.from_port:
            found.add("toPort", f"{self.to_port} is below fromPort {self.from_port}")
        if not self.cidrs and not self.security_groups:
            found.add("", "needs cidrs or securityGroups: who is on the other side")
        found.check()
        return self


class PodSecurityGroup(Model):
    """A security group for the pods a SecurityGroupPolicy selects in one namespace (branch ENIs: needs
    cluster.addons.vpcCni.podSecurityGroups.enabled). Kubelet probes from the nodes and DNS to CoreDNS are always
    allowed; everything else is what ingress and egress say."""

    namespace: Namespace
    """The namespace of the pods (created by the platform before the SecurityGroupPolicy unless workloads.namespaces
    says it is made elsewhere)."""
    pod_selector: LabelSelector | None = None
    """The pods, by their labels."""
    service_account_selector: LabelSelector | None = None
    """The pods, by their service account's labels (with podSelector: pods matching both)."""
    ingress: tuple[PodRule, ...] = ()
    """Who may connect to the pods."""
    egress: tuple[PodRule, ...] = ()
    """Where the pods may connect (besides DNS)."""
    probe_ports: tuple[Port, ...] = ()
    """The ports kubelet probes reach (TCP from the nodes). Default: every TCP port, since probes target whatever
    port the pod serves; list them to close the rest to the nodes (and to pods without a group of their own, which
    share the nodes' security group)."""

    @model_validator(mode="after")
    def _shape(self) -> PodSecurityGroup:
        found = Problems()
        if self.pod_selector is None and self.service_account_selector is None:
            found.add("", "needs podSelector or serviceAccountSelector: which pods get the group")
        for i, rule in enumerate(self.ingress):
            if WORLD in rule.cidrs:
                found.add(
                    ("ingress", i, "cidrs"),
                    f"{show(WORLD)} opens the pods to the whole internet; put a load "
                    "balancer in front of them (workloads.loadBalancers)",
                )
        for i, rule in enumerate(self.egress):
            if WORLD in rule.cidrs and rule.protocol == "all":
                found.add(
                    ("egress", i, "cidrs"),
                    f"{show(WORLD)} on every protocol and port; name the protocol and ports the pods need",
                )
        for direction in ("ingress", "egress"):
            count = self.rule_count(direction)
            if count > MAX_SG_RULES:
                found.add(
                    direction,
                    f"{count} rules (with the platform's own); a security group allows {MAX_SG_RULES} per direction",
                )
        found.check()
        return self

    def rule_count(self, direction: str) -> int:
        """AWS rules in one direction: one per peer of each rule, plus the platform's (probes or DNS, from/to the
        cluster and node groups)."""
        rules = self.ingress if direction == "ingress" else self.egress
        own = 2 * max(1, len(self.probe_ports)) if direction == "ingress" else 4
        return own + sum(len(r.cidrs) + len(r.security_groups) for r in rules)


class WorkloadsConfig(Model):
    """What the platform builds for application teams."""

    security_groups: dict[SecurityGroupKey, PodSecurityGroup] = {}
    """Security groups for pods, keyed by name: a security group and a SecurityGroupPolicy each."""

    @model_validator(mode="after")
    def _peers(self) -> WorkloadsConfig:
        found = Problems()
        known = set(self.security_groups) | {CLUSTER_PEER}
        for key in sorted(set(self.security_groups) & RESERVED_PEERS):
            found.add(
                ("securityGroups", key),
                "is reserved (rules name the cluster's and the nodes' security groups so); choose another key",
            )
        for key, group in sorted(self.security_groups.items()):
            for direction in ("ingress", "egress"):
                for i, rule in enumerate(getattr(group, direction)):
                    for j, peer in enumerate(rule.security_groups):
                        if peer not in known:
                            found.add(
                                ("securityGroups", key, direction, i, "securityGroups", j),
                                f"{show(peer)} is not a workload security group ({', '.join(sorted(known))})",
                            )
        found.check()
        return self

    load_balancers: dict[LoadBalancerKey, LoadBalancer] = {}
    """Load balancers owned by the platform, keyed by name, each bound to a Service with a TargetGroupBinding."""
    namespaces: dict[Namespace, NamespaceConfig] = {}
    """Namespaces the platform owns, keyed by name: labels, Pod Security Admission levels, quota, limit range,
    default-deny network policy. Every namespace the platform places an object or identity in is created with the
    defaults when it is not declared here (or declared with create: false and createdBy)."""

    @model_validator(mode="after")
    def _system_namespaces(self) -> WorkloadsConfig:
        found = Problems()
        for name in sorted(set(self.namespaces) & set(SYSTEM_NAMESPACES)):
            found.add(("namespaces", name), "is made by Kubernetes itself; the platform does not manage it")
        found.check()
        return self

    def placed_namespaces(self) -> dict[str, list[str]]:
        """``{namespace: [config paths]}`` of every namespace the platform puts an object or identity in."""
        out: dict[str, list[str]] = {}
        for key, lb in sorted(self.load_balancers.items()):
            out.setdefault(lb.target.namespace, []).append(f"workloads.loadBalancers.{key}.target.namespace")
        for key, group in sorted(self.security_groups.items()):
            out.setdefault(group.namespace, []).append(f"workloads.securityGroups.{key}.namespace")
        for key, identity in sorted(self.identities.items()):
            out.setdefault(identity.namespace, []).append(f"workloads.identities.{key}.namespace")
        return out

    identities: dict[Key, WorkloadIdentity] = {}
    """AWS roles for application service accounts, keyed by name: a role each, with an EKS Pod Identity
    association or an IRSA trust."""

    @model_validator(mode="after")
    def _one_role_per_service_account(self) -> WorkloadsConfig:
        found = Problems()
        seen: dict[tuple[str, str], str] = {}
        for key, identity in sorted(self.identities.items()):
            account = (identity.namespace, identity.service_account)
            if account in seen:
                found.add(
                    ("identities", key, "serviceAccount"),
                    f"{show('/'.join(account))} already has a role (identities.{seen[account]}); a service "
                    "account has one",
                )
            seen.setdefault(account, key)
        found.check()
        return self
