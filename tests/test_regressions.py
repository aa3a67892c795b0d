"""Security regressions edited into the real plans: each class a review looks for is refused by a mandatory
guardrail, and the unedited plan passes the same guardrail (so the test sees the edit, not a standing failure)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from policies import guardrails as g
from tests.helpers import stack_recording

Edit = Callable[[list[g.Resource]], list[g.Resource]]


def resources(stack: str) -> list[g.Resource]:
    return [
        g.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in stack_recording(stack).resources
    ]


def change(typ: str, name: str, fn: Callable[[dict[str, Any]], None]) -> Edit:
    """Edit the inputs of the one resource of that type and name (the test fails if there is none)."""

    def edit(rs: list[g.Resource]) -> list[g.Resource]:
        hits = [r for r in rs if r.type == typ and r.name == name]
        assert len(hits) == 1, f"no single {typ} {name} in the plan"
        out = []
        for r in rs:
            if r is hits[0]:
                props = json.loads(json.dumps(r.props))
                fn(props)
                r = g.Resource(r.type, r.name, r.urn, props, r.dependencies)
            out.append(r)
        return out

    return edit


def add(typ: str, name: str, props: dict[str, Any], depends_on: str) -> Edit:
    """Add a resource that depends on the named one (as a policy or attachment depends on its role)."""

    def edit(rs: list[g.Resource]) -> list[g.Resource]:
        owner = next(r for r in rs if r.name == depends_on)
        return [*rs, g.Resource(typ, name, f"urn:pulumi:x::eks-platform::{typ}::{name}", props, (owner.urn,))]

    return edit


def doc_edit(key: str, fn: Callable[[dict], None]) -> Callable[[dict[str, Any]], None]:
    """Edit a JSON policy document held in an input (assumeRolePolicy, policy)."""

    def edit(props: dict[str, Any]) -> None:
        doc = json.loads(props[key])
        fn(doc)
        props[key] = json.dumps(doc)

    return edit


def statement(sid: str, fn: Callable[[dict], None]) -> Callable[[dict], None]:
    def edit(doc: dict) -> None:
        hits = [s for s in doc["Statement"] if s.get("Sid") == sid]
        assert hits, f"no statement {sid}"
        fn(hits[0])

    return edit


def first_statement(fn: Callable[[dict], None]) -> Callable[[dict], None]:
    return lambda doc: fn(doc["Statement"][0])


ROLE, POLICY, LT = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:ec2/launchTemplate:LaunchTemplate"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ALLOW = {"Effect": "Allow"}


def metadata(hop: int | None) -> Callable[[dict], None]:
    def edit(props: dict) -> None:
        if hop is None:
            props["metadataOptions"].pop("httpPutResponseHopLimit")
        else:
            props["metadataOptions"]["httpPutResponseHopLimit"] = hop

    return edit


def node_class_hop(props: dict) -> None:
    props["spec"]["metadataOptions"]["httpPutResponseHopLimit"] = 2


def inline(action: str, resource: str) -> dict[str, Any]:
    return {
        "policy": json.dumps(
            {"Version": "2012-10-17", "Statement": [{**ALLOW, "Action": action, "Resource": resource}]}
        )
    }


def drop_condition_key(key: str) -> Callable[[dict], None]:
    return lambda st: st["Condition"]["StringEquals"].pop(key)


def world(port: int) -> dict[str, Any]:
    return {"cidrIpv4": "0.0.0.0/0", "fromPort": port, "toPort": port, "ipProtocol": "tcp"}


def promote(props: dict) -> None:
    props["policyArn"] = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def drop(typ: str, name: str) -> Edit:
    """Remove the one resource of that type and name (as if the program stopped creating it)."""

    def edit(rs: list[g.Resource]) -> list[g.Resource]:
        kept = [r for r in rs if not (r.type == typ and r.name == name)]
        assert len(kept) == len(rs) - 1, f"no single {typ} {name} in the plan"
        return kept

    return edit


def gate_off(props: dict) -> None:
    props["values"]["settings"]["featureGates"]["nodeRepair"] = False


P = "eks-platform-prod"
D = "eks-platform-dev"
CASES: list[tuple[str, str, str, Edit]] = [
    # nodes that hand out the account
    ("hop limit 2 on a managed group", "prod", "imds-hop-limit", change(LT, f"{P}-system", metadata(2))),
    ("hop limit unset (AMI default)", "prod", "imds-hop-limit", change(LT, f"{P}-workers", metadata(None))),
    ("hop limit 2 on the access host", "prod", "imds-hop-limit", change(LT, f"{P}-access-host", metadata(2))),
    (
        "hop limit 2 on a Karpenter class",
        "dev",
        "imds-hop-limit",
        change("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", f"{D}-karpenter-batch-class", node_class_hop),
    ),
    (
        "ReadOnlyAccess on a node role",
        "prod",
        "iam-no-broad-managed-policies",
        add(ATTACH, "ro", {"policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, f"{P}-system-nodes"),
    ),
    (
        "AmazonSSMManagedInstanceCore on a node role",
        "prod",
        "iam-no-broad-managed-policies",
        add(
            ATTACH,
            "ssm",
            {"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
            f"{P}-self-managed-nodes",
        ),
    ),
    (
        "a FullAccess policy on a workload role",
        "prod",
        "iam-no-broad-managed-policies",
        add(ATTACH, "s3", {"policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}, f"{P}-secrets-role"),
    ),
    # wildcard reads and changes
    (
        "ssm:GetParameter* on *",
        "prod",
        "iam-scoped-dns-and-secret-reads",
        add(POLICY, "ssm-star", inline("ssm:GetParameter*", "*"), f"{P}-system-nodes"),
    ),
    (
        "ssm:Get* on every parameter",
        "prod",
        "iam-scoped-dns-and-secret-reads",
        add(
            POLICY, "ssm-get", inline("ssm:Get*", "arn:aws:ssm:eu-west-1:111122223333:parameter/*"), f"{P}-secrets-role"
        ),
    ),
    (
        "secretsmanager:Get* on every secret",
        "prod",
        "iam-scoped-dns-and-secret-reads",
        add(POLICY, "sm-get", inline("secretsmanager:Get*", "arn:aws:secretsmanager:*:*:secret:*"), f"{P}-ca-role"),
    ),
    (
        "route53:Change* on every zone",
        "prod",
        "iam-scoped-dns-and-secret-reads",
        add(POLICY, "r53", inline("route53:Change*", "arn:aws:route53:::hostedzone/*"), f"{P}-dns-role"),
    ),
    # trusts
    (
        "Pod Identity trust without the cluster",
        "prod",
        "pod-identity-trust-pinned",
        change(
            ROLE,
            f"{P}-lbc-role",
            doc_edit("assumeRolePolicy", first_statement(drop_condition_key("aws:RequestTag/eks-cluster-name"))),
        ),
    ),
    (
        "Pod Identity trust without the namespace",
        "prod",
        "pod-identity-trust-pinned",
        change(
            ROLE,
            f"{P}-dns-role",
            doc_edit("assumeRolePolicy", first_statement(drop_condition_key("aws:RequestTag/kubernetes-namespace"))),
        ),
    ),
    (
        "flow-log trust without a source",
        "prod",
        "iam-service-trust-source",
        change(ROLE, f"{P}-flow-logs", doc_edit("assumeRolePolicy", first_statement(lambda st: st.pop("Condition")))),
    ),
    (
        "CodeBuild trust without a source",
        "prod",
        "iam-service-trust-source",
        change(ROLE, f"{P}-ci-runner", doc_edit("assumeRolePolicy", first_statement(lambda st: st.pop("Condition")))),
    ),
    # controller policies stripped of their conditions
    (
        "LBC statement without its condition",
        "prod",
        "controller-policy-conditions",
        change(
            POLICY,
            f"{P}-lbc-role-load-balancing",
            doc_edit("policy", statement("CreateElbServiceLinkedRole", lambda st: st.pop("Condition"))),
        ),
    ),
    (
        "Karpenter statement without its tag condition",
        "dev",
        "controller-policy-conditions",
        change(
            POLICY,
            f"{D}-karpenter-role-controller",
            doc_edit("policy", statement("CreateTaggedNodes", lambda st: st["Condition"].pop("StringLike"))),
        ),
    ),
    # network
    (
        "world ingress beside a public listener",
        "prod",
        "world-ingress-listeners-only",
        add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "web-8080", world(8080), f"{P}-lb-web-sg"),
    ),
    (
        "world ingress into the nodes",
        "prod",
        "world-ingress-listeners-only",
        add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "nodes-443", world(443), f"{P}-nodes"),
    ),
    (
        "unencrypted queue",
        "prod",
        "sqs-encrypted",
        change("aws:sqs/queue:Queue", f"{P}-node-termination", lambda p: p.pop("sqsManagedSseEnabled")),
    ),
    (
        "weak TLS policy",
        "prod",
        "lb-tls-policy",
        change(
            "aws:lb/listener:Listener",
            f"{P}-lb-web-https-443",
            lambda p: p.update(sslPolicy="ELBSecurityPolicy-2016-08"),
        ),
    ),
    (
        "invalid headers passed on",
        "prod",
        "alb-drop-invalid-headers",
        change("aws:lb/loadBalancer:LoadBalancer", f"{P}-lb-web", lambda p: p.update(dropInvalidHeaderFields=False)),
    ),
    # people
    (
        "admin role without MFA",
        "prod",
        "admin-role-mfa-same-account",
        change(
            ROLE, f"{P}-people-admin", doc_edit("assumeRolePolicy", first_statement(lambda st: st.pop("Condition")))
        ),
    ),
    (
        "admin role trusting another account",
        "prod",
        "admin-role-mfa-same-account",
        change(
            ROLE,
            f"{P}-people-admin",
            doc_edit(
                "assumeRolePolicy",
                first_statement(lambda st: st["Principal"].update(AWS=["arn:aws:iam::444455556666:root"])),
            ),
        ),
    ),
    (
        "read-only principal promoted to cluster admin",
        "prod",
        "access-policy-as-declared",
        change("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"{P}-view-sre-oncall", promote),
    ),
    # nodes that repair themselves, a cluster that can leave a zone
    (
        "repair off on a managed group",
        "prod",
        "node-auto-repair",
        change("aws:eks/nodeGroup:NodeGroup", f"{P}-system", lambda p: p.update(nodeRepairConfig={"enabled": False})),
    ),
    ("no node monitoring agent", "prod", "node-auto-repair", drop("aws:eks/addon:Addon", f"{P}-node-monitoring")),
    (
        "Karpenter without node repair",
        "dev",
        "node-auto-repair",
        change("kubernetes:helm.sh/v3:Release", f"{D}-karpenter", gate_off),
    ),
    # observability
    (
        "no Container Insights and no scraper",
        "prod",
        "observability-on",
        drop("aws:eks/addon:Addon", f"{P}-observability-container-insights"),
    ),
    (
        "unencrypted alarm topic",
        "prod",
        "sns-encrypted",
        change("aws:sns/topic:Topic", f"{P}-observability-alarms", lambda p: p.pop("kmsMasterKeyId")),
    ),
    (
        "a class that keeps nodes in one zone",
        "prod",
        "node-class-zones",
        change("aws:autoscaling/group:Group", f"{P}-workers", lambda p: p.update(vpcZoneIdentifiers=["subnet-1"])),
    ),
    (
        "the system class in two of three zones",
        "prod",
        "node-class-zones",
        change("aws:eks/nodeGroup:NodeGroup", f"{P}-system", lambda p: p.update(subnetIds=p["subnetIds"][:2])),
    ),
    (
        "zonal shift off",
        "prod",
        "eks-zonal-shift",
        change("aws:eks/cluster:Cluster", f"{P}-cluster", lambda p: p.update(zonalShiftConfig={"enabled": False})),
    ),
    # logs and keys
    (
        "log retention under the stack's minimum",
        "prod",
        "log-group-retention",
        change("aws:cloudwatch/logGroup:LogGroup", f"{P}-control-plane", lambda p: p.update(retentionInDays=30)),
    ),
    (
        "key rotation off",
        "prod",
        "kms-key-rotation",
        change("aws:kms/key:Key", f"{P}-secrets", lambda p: p.update(enableKeyRotation=False)),
    ),
]


def found(stack: str, rs: list[g.Resource], policy: str) -> list[g.Violation]:
    levels, params = g.config_for(stack)
    return [v for v in g.evaluate(rs, levels, params) if v.policy == policy]


@pytest.mark.parametrize(("stack", "policy", "edit"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_regression_is_refused(stack, policy, edit):
    before = resources(stack)
    assert found(stack, before, policy) == [], "the unedited plan must pass this guardrail"
    after = found(stack, edit(before), policy)
    assert after and {v.enforcement for v in after} == {g.MANDATORY}
    assert all("Fix: " in v.message for v in after)


def test_every_new_guardrail_has_a_regression():
    covered = {c[2] for c in CASES}
    assert covered >= {
        "imds-hop-limit",
        "iam-no-broad-managed-policies",
        "iam-scoped-dns-and-secret-reads",
        "pod-identity-trust-pinned",
        "iam-service-trust-source",
        "controller-policy-conditions",
        "world-ingress-listeners-only",
        "sqs-encrypted",
        "lb-tls-policy",
        "alb-drop-invalid-headers",
        "admin-role-mfa-same-account",
        "access-policy-as-declared",
        "log-group-retention",
        "kms-key-rotation",
        "node-auto-repair",
        "eks-zonal-shift",
        "node-class-zones",
        "observability-on",
        "sns-encrypted",
    }
    assert covered <= {p.name for p in g.POLICIES}


def test_a_class_that_may_scale_to_zero_may_sit_in_one_zone():
    edit = change(
        "aws:autoscaling/group:Group", f"{P}-workers", lambda p: p.update(vpcZoneIdentifiers=["subnet-1"], minSize=0)
    )
    assert found("prod", edit(resources("prod")), "node-class-zones") == []


def test_an_opted_in_hop_limit_passes():
    """imds.hopLimit 2 with a reason: the launch template carries the reason and the guardrail lets it through."""
    edit = change(LT, f"{P}-system", lambda p: (metadata(2)(p), p["tags"].update({g.IMDS_REASON: "legacy agent"})))
    assert found("prod", edit(resources("prod")), "imds-hop-limit") == []


def test_the_tls_allow_list_is_the_configs():
    from components.config.workloads import SSL_POLICY

    assert g.TLS_POLICY.pattern == SSL_POLICY


@pytest.mark.parametrize(
    ("policy", "ok"),
    [
        ("ELBSecurityPolicy-TLS13-1-2-2021-06", True),
        ("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09", True),
        ("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", True),
        ("ELBSecurityPolicy-FS-1-2-Res-2020-10", True),
        ("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", False),
        ("ELBSecurityPolicy-TLS-1-2-2017-01", False),
        ("ELBSecurityPolicy-2016-08", False),
        ("ELBSecurityPolicy-FS-1-2-2019-08", False),
    ],
)
def test_tls_policies(policy, ok):
    assert bool(g.TLS_POLICY.fullmatch(policy)) is ok


@pytest.mark.parametrize(
    ("resource", "wide"),
    [
        ("*", True),
        ("arn:aws:ssm:eu-west-1:111122223333:parameter/*", True),
        ("arn:aws:ssm:*:*:*", True),
        ("arn:*:ssm:*:*:parameter*", True),
        ("arn:aws:ssm:eu-west-1:111122223333:parameter/eks-platform/prod/*", False),
        ("arn:aws:ssm:eu-west-1:111122223333:parameter/aws/service/eks/*", False),
    ],
)
def test_parameter_reads_are_wide_only_when_they_reach_any_parameter(resource, wide):
    assert g._reaches_any(resource, "ssm", "parameter/guardrail-probe/x") is wide


@pytest.mark.parametrize(
    "raw,problem",
    [
        (
            {"log-group-retention": {"minimumRetentionDays": "a year"}},
            'p.json: log-group-retention.minimumRetentionDays: "a year" is not an integer of at least 1',
        ),
        (
            {"log-group-retention": {"minimumDays": 30}},
            "p.json: log-group-retention.minimumDays: is not a parameter of this policy (minimumRetentionDays)",
        ),
        (
            {"kms-key-rotation": {"enforcementLevel": "mandatory", "days": 1}},
            "p.json: kms-key-rotation.days: is not a parameter of this policy (it has none)",
        ),
    ],
)
def test_bad_policy_parameters_are_refused(raw, problem):
    with pytest.raises(g.PolicyConfigError) as err:
        g.parse_config(raw, "p.json")
    assert err.value.problems == [problem]
