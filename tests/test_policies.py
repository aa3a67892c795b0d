"""Guardrails: each policy passes a safe resource and fails an unsafe one; the stacks pass; the
unsafe stack fails; the CrossGuard pack (pulumi_policy) runs the very same functions."""

import json
import subprocess

import pytest

from policies import guardrails as g
from tests.helpers import DATA, ROOT, stack_names
from tools import plan

VPC = "urn:vpc"


def res(typ, props, name="r", deps=()):
    return g.Resource(typ, name, f"urn:{name}", props, tuple(deps))


def check(policy_name, resource):
    policy = next(p for p in g.POLICIES if p.name == policy_name)
    return list(policy.check(resource))


CLUSTER_OK = {
    "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:r:1:key/k"}, "resources": ["secrets"]},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
    "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
}
TRUST_OK = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"oidc/id/X:sub": "system:serviceaccount:a:b", "oidc/id/X:aud": "sts.amazonaws.com"}
                },
            }
        ]
    }
)
TRUST_BAD = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"oidc/id/X:sub": "system:serviceaccount:*"}},
            }
        ]
    }
)
POD_TRUST_OK = json.dumps(
    {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-name": "c",
                        "aws:RequestTag/kubernetes-namespace": "ns",
                        "aws:RequestTag/kubernetes-service-account": "sa",
                    }
                },
            }
        ]
    }
)


def policy_doc(action, resource):
    return json.dumps({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})


CASES = [
    ("eks-secrets-encryption", "aws:eks/cluster:Cluster", CLUSTER_OK, {**CLUSTER_OK, "encryptionConfig": None}),
    ("eks-audit-logs", "aws:eks/cluster:Cluster", CLUSTER_OK, {**CLUSTER_OK, "enabledClusterLogTypes": ["api"]}),
    (
        "eks-no-public-endpoint-to-world",
        "aws:eks/cluster:Cluster",
        CLUSTER_OK,
        {**CLUSTER_OK, "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}},
    ),
    (
        "eks-authentication-mode-api",
        "aws:eks/cluster:Cluster",
        CLUSTER_OK,
        {
            **CLUSTER_OK,
            "accessConfig": {
                "authenticationMode": "API_AND_CONFIG_MAP",
                "bootstrapClusterCreatorAdminPermissions": False,
            },
        },
    ),
    (
        "eks-no-creator-admin",
        "aws:eks/cluster:Cluster",
        CLUSTER_OK,
        {**CLUSTER_OK, "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}},
    ),
    (
        "launch-template-imdsv2",
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"metadataOptions": {"httpTokens": "required"}},
        {"metadataOptions": {"httpTokens": "optional"}},
    ),
    (
        "launch-template-encrypted-volumes",
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]},
        {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]},
    ),
    (
        "no-ssh-from-world",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"cidrIpv4": "10.0.0.0/16", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22},
        {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 0, "toPort": 1024},
    ),
    (
        "no-ssh-from-world",
        "aws:ec2/securityGroup:SecurityGroup",
        {"ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]},
        {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]},
    ),
    (
        "self-managed-asg-tags",
        "aws:autoscaling/group:Group",
        {
            "tags": [
                {"key": "kubernetes.io/cluster/c", "value": "owned", "propagateAtLaunch": True},
                {"key": "k8s.io/cluster-autoscaler/enabled", "value": "true", "propagateAtLaunch": False},
                {"key": "k8s.io/cluster-autoscaler/c", "value": "owned", "propagateAtLaunch": False},
                {"key": "aws-node-termination-handler/managed", "value": "true", "propagateAtLaunch": True},
            ]
        },
        {"tags": [{"key": "kubernetes.io/cluster/c", "value": "owned", "propagateAtLaunch": True}]},
    ),
    (
        "ca-taint-effect",
        "aws:autoscaling/tag:Tag",
        {"tag": {"key": "k8s.io/cluster-autoscaler/node-template/taint/dedicated", "value": "gpu:NoSchedule"}},
        {"tag": {"key": "k8s.io/cluster-autoscaler/node-template/taint/dedicated", "value": "gpu"}},
    ),
    ("irsa-trust-sub-and-aud", "aws:iam/role:Role", {"assumeRolePolicy": TRUST_OK}, {"assumeRolePolicy": TRUST_BAD}),
    (
        "karpenter-node-class-imdsv2-encrypted",
        "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass",
        {
            "spec": {
                "metadataOptions": {"httpTokens": "required"},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}],
            }
        },
        {
            "spec": {
                "metadataOptions": {"httpTokens": "optional"},
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": False}}],
            }
        },
    ),
    (
        "pod-identity-trust-pinned",
        "aws:iam/role:Role",
        {"assumeRolePolicy": POD_TRUST_OK},
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "pods.eks.amazonaws.com"},
                            "Action": ["sts:AssumeRole", "sts:TagSession"],
                        }
                    ]
                }
            )
        },
    ),
    (
        "iam-no-wildcard-trust",
        "aws:iam/role:Role",
        {"assumeRolePolicy": POD_TRUST_OK},
        {
            "assumeRolePolicy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
            )
        },
    ),
    (
        "iam-no-wildcard-trust",
        "aws:iam/role:Role",
        {"assumeRolePolicy": TRUST_OK},
        {
            "assumeRolePolicy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}
            )
        },
    ),
    (
        "iam-no-admin-policies",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"policyArn": "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"},
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    (
        "iam-no-star-actions",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": policy_doc(["s3:GetObject"], "*")},
        {"policy": policy_doc("ec2:*", "*")},
    ),
    (
        "iam-scoped-dns-and-secret-reads",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": policy_doc("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1")},
        {"policy": policy_doc("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/*")},
    ),
    (
        "iam-scoped-dns-and-secret-reads",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": policy_doc("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:r:1:secret:prod/*")},
        {"policy": policy_doc("secretsmanager:GetSecretValue", "*")},
    ),
    (
        "iam-scoped-dns-and-secret-reads",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": policy_doc("ssm:GetParametersByPath", "arn:aws:ssm:r:1:parameter/prod/*")},
        {"policy": policy_doc("ssm:GetParameter", "arn:aws:ssm:r:1:parameter/*")},
    ),
    (
        "subnet-lb-discovery-tags",
        "aws:ec2/subnet:Subnet",
        {"tags": {"eks-platform/tier": "public", "kubernetes.io/role/elb": "1"}},
        {"tags": {"eks-platform/tier": "private"}},
    ),
    (
        "helm-pinned-version",
        "kubernetes:helm.sh/v3:Release",
        {"chart": "x", "version": "1.2.3"},
        {"chart": "x", "version": "^1.2"},
    ),
    ("helm-atomic", "kubernetes:helm.sh/v3:Release", {"atomic": True}, {"atomic": False}),
    ("log-group-retention", "aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30}, {"name": "/x"}),
    (
        "storage-class-encrypted",
        "kubernetes:storage.k8s.io/v1:StorageClass",
        {"provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3", "encrypted": "true"}},
        {"provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"}},
    ),
    (
        "manifests-pinned",
        "kubernetes:yaml/v2:ConfigGroup",
        {"files": ["https://raw.githubusercontent.com/o/r/v3.5.0/crds/crds.yaml", "local/crd.yaml"]},
        {"files": ["https://raw.githubusercontent.com/o/r/main/crds/crds.yaml"]},
    ),
    (
        "manifests-pinned",
        "kubernetes:yaml/v2:ConfigGroup",
        {"files": []},
        {"files": ["http://example.com/v1.2.3/crds.yaml"]},
    ),
    (
        "codebuild-unprivileged",
        "aws:codebuild/project:Project",
        {"environment": {"privilegedMode": False}},
        {"environment": {"privilegedMode": True}},
    ),
    (
        "namespace-pod-security",
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        {"metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}},
    ),
    (
        "namespace-pod-security",
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}},
        {"metadata": {"name": "shop", "labels": {}}},
    ),
    (
        "iam-no-broad-managed-policies",
        "aws:iam/role:Role",
        {"managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]},
        {"managedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"]},
    ),
    (
        "iam-service-trust-source",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
                        }
                    ]
                }
            )
        },
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            )
        },
    ),
    (
        "imds-hop-limit",
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"metadataOptions": {"httpPutResponseHopLimit": 2}, "tags": {g.IMDS_REASON: "a legacy agent reads IMDS"}},
        {"metadataOptions": {"httpPutResponseHopLimit": 2}},
    ),
    ("sqs-encrypted", "aws:sqs/queue:Queue", {"kmsMasterKeyId": "alias/q"}, {"sqsManagedSseEnabled": False}),
    (
        "lb-tls-policy",
        "aws:lb/listener:Listener",
        {"protocol": "TLS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-3-2021-06"},
        {"protocol": "HTTPS"},
    ),
    (
        "alb-drop-invalid-headers",
        "aws:lb/loadBalancer:LoadBalancer",
        {"loadBalancerType": "network"},
        {"loadBalancerType": "application"},
    ),
    ("kms-key-rotation", "aws:kms/key:Key", {"customerMasterKeySpec": "RSA_2048"}, {"enableKeyRotation": False}),
    ("eks-zonal-shift", "aws:eks/cluster:Cluster", {"zonalShiftConfig": {"enabled": True}}, {}),
    ("sns-encrypted", "aws:sns/topic:Topic", {"kmsMasterKeyId": "arn:aws:kms:eu-west-1:111122223333:key/k"}, {}),
]


@pytest.mark.parametrize(("name", "typ", "good", "bad"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_policy_passes_good_and_fails_bad(name, typ, good, bad):
    assert check(name, res(typ, good)) == []
    messages = check(name, res(typ, bad, name="offender"))
    assert messages and all(m.startswith("offender: ") and "Fix: " in m for m in messages)


def test_every_policy_has_a_case():
    from tests.test_regressions import CASES as REGRESSIONS

    names = (
        {c[0] for c in CASES}
        | {"vpc-flow-logs", "pod-sg-not-world", "workload-role-scoped-writes", *LB_STACK_POLICIES}
        | {c[2] for c in REGRESSIONS if c[2] in STACK_POLICIES}
    )
    assert names == {p.name for p in g.POLICIES}
    assert next(p for p in g.POLICIES if p.name == "ca-taint-effect").enforcement == g.ADVISORY


STACK_POLICIES = {p.name for p in g.POLICIES if p.stack_check is not None}


def test_flow_log_stack_policy():
    vpc = g.Resource("aws:ec2/vpc:Vpc", "v", VPC, {})
    logged = g.Resource("aws:ec2/flowLog:FlowLog", "f", "urn:f", {}, (VPC,))
    assert list(g.vpc_flow_logs([vpc, logged])) == []
    assert list(g.vpc_flow_logs([vpc])) == [(VPC, "v: no VPC flow logs. Fix: network.flowLogs.enabled: true.")]


LB_STACK_POLICIES = ("lb-internet-facing-tls", "lb-internal-not-world", "lb-deletion-protection")


def test_workload_role_scoped_writes_stack_policy():
    role = g.Resource("aws:iam/role:Role", "app", "urn:role", {"tags": {"eks-platform/workload-identity": "app"}})
    addon_role = g.Resource("aws:iam/role:Role", "lbc", "urn:lbc", {"tags": {}})

    def inline(urn, role_urn, statement):
        return g.Resource(
            "aws:iam/rolePolicy:RolePolicy", urn, urn, {"policy": json.dumps({"Statement": [statement]})}, (role_urn,)
        )

    write = {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}
    scoped = {**write, "Condition": {"StringEquals": {"aws:ResourceTag/team": "a"}}}
    read = {"Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances"], "Resource": "*"}
    found = list(
        g.workload_role_scoped_writes(
            [
                role,
                addon_role,
                inline("bad", "urn:role", write),
                inline("ok1", "urn:role", scoped),
                inline("ok2", "urn:role", read),
                inline("addon", "urn:lbc", write),
            ]
        )
    )
    assert found == [
        ("bad", "bad: s3:PutObject on * without a condition. Fix: name the resources or scope them with a condition.")
    ]


def _lb_stack(internal: bool, protocol: str, actions: list, cidr: str, protected: bool, lb_protected: bool):
    sg = g.Resource("aws:ec2/securityGroup:SecurityGroup", "sg", "urn:sg", {})
    lb = g.Resource(g.LB, "lb", "urn:lb", {"internal": internal, "enableDeletionProtection": lb_protected}, ("urn:sg",))
    rule = g.Resource(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "in",
        "urn:in",
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": cidr},
        ("urn:sg",),
    )
    listener = g.Resource(
        g.LISTENER, "listener", "urn:l", {"protocol": protocol, "defaultActions": actions}, ("urn:lb",)
    )
    cluster = g.Resource("aws:eks/cluster:Cluster", "c", "urn:c", {"deletionProtection": protected})
    return [sg, lb, rule, listener, cluster]


def test_load_balancer_stack_policies():
    forward = [{"type": "forward", "targetGroupArn": "arn:tg"}]
    redirect = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
    good = [
        _lb_stack(False, "HTTPS", forward, "0.0.0.0/0", True, True),
        _lb_stack(False, "HTTP", redirect, "0.0.0.0/0", True, True),
        _lb_stack(True, "TCP", forward, "10.0.0.0/16", False, False),
    ]
    for stack in good:
        assert [v for v in g.evaluate(stack) if v.policy in LB_STACK_POLICIES] == []
    bad = {
        "lb-internet-facing-tls": _lb_stack(False, "HTTP", forward, "0.0.0.0/0", False, False),
        "lb-internal-not-world": _lb_stack(True, "TCP", forward, "0.0.0.0/0", False, False),
        "lb-deletion-protection": _lb_stack(True, "TCP", forward, "10.0.0.0/16", True, False),
    }
    for name, stack in bad.items():
        found = [v for v in g.evaluate(stack) if v.policy in LB_STACK_POLICIES]
        assert [v.policy for v in found] == [name] and "Fix: " in found[0].message


def _pod_stack(cidr: str, tagged: bool) -> list:
    tags = {"eks-platform/pod-security-group": "payments"} if tagged else {}
    sg = g.Resource("aws:ec2/securityGroup:SecurityGroup", "sg", "urn:sg", {"tags": tags})
    rule = g.Resource(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "in",
        "urn:in",
        {"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrIpv4": cidr},
        ("urn:sg",),
    )
    return [sg, rule]


def test_pod_security_groups_admit_no_world():
    assert list(g.pod_sg_not_world(_pod_stack("10.0.0.0/16", True))) == []
    assert list(g.pod_sg_not_world(_pod_stack("0.0.0.0/0", False))) == []  # not a pod group: other policies
    found = list(g.pod_sg_not_world(_pod_stack("0.0.0.0/0", True)))
    assert [urn for urn, _ in found] == ["urn:in"] and "Fix: " in found[0][1]


def test_unknown_values_are_skipped():
    assert check("irsa-trust-sub-and-aud", res("aws:iam/role:Role", {"assumeRolePolicy": None})) == []
    assert check("iam-no-star-actions", res("aws:iam/rolePolicy:RolePolicy", {"policy": None})) == []


def test_enforcement_per_stack():
    assert g.levels_for("dev") == {
        "vpc-flow-logs": "advisory",
        "namespace-pod-security": "advisory",
        "observability-on": "advisory",
    }
    assert set(g.levels_for("prod").values()) == {"mandatory"}
    assert set(g.levels_for("prod")) == {p.name for p in g.POLICIES}
    disabled = g.evaluate([g.Resource("aws:ec2/vpc:Vpc", "v", VPC, {})], {"vpc-flow-logs": "disabled"})
    assert disabled == []


@pytest.mark.parametrize("stack", stack_names())
def test_the_stacks_pass_every_mandatory_policy(stack, capsys):
    assert plan.main([stack, "--quiet", "--policies"]) == 0
    out = capsys.readouterr().out
    assert f"Policies ({len(g.POLICIES)} run" in out and ": 0 mandatory" in out


def test_the_unsafe_stack_fails_with_the_expected_violations(capsys):
    path = DATA / "unsafe" / "Pulumi.unsafe.yaml"
    expected = sorted(
        line.split(": ", 1)[1] for line in path.read_text().splitlines() if line.startswith("# expect-violation: ")
    )
    assert plan.main(["--config-file", str(path), "--quiet", "--policies"]) == 3
    out = capsys.readouterr().out
    found = sorted(
        {line.split("] ", 1)[1].split(":", 1)[0] for line in out.splitlines() if line.startswith("  [mandatory] ")}
    )
    assert found == expected


def test_the_crossguard_pack_runs_the_same_functions(tmp_path):
    python = ROOT / "policies" / "venv" / "bin" / "python"
    assert python.exists(), "run `make venv` (it creates policies/venv with pulumi-policy)"
    out = tmp_path / "unsafe.json"
    assert plan.main(["--config-file", str(DATA / "unsafe" / "Pulumi.unsafe.yaml"), "--quiet", "--json", str(out)]) == 0
    proc = subprocess.run(
        [str(python), str(ROOT / "tests" / "pack_driver.py"), str(ROOT / "policies"), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["pack"] == "eks-platform-guardrails"
    assert result["policies"] == [p.name for p in g.POLICIES]
    from_pack = sorted((v["policy"], v["urn"], v["message"]) for v in result["violations"])
    recording = plan.run(DATA / "unsafe" / "Pulumi.unsafe.yaml", "unsafe")
    resources = [g.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in recording.resources]
    in_process = sorted((v.policy, v.urn, v.message) for v in g.evaluate(resources))
    assert from_pack == in_process and len(in_process) == 4


def test_pack_environment_is_separate():
    main_reqs = (ROOT / "requirements.txt").read_text() + (ROOT / "requirements-dev.txt").read_text()
    assert "pulumi-policy" not in main_reqs
    assert "pulumi-policy==1.21.0" in (ROOT / "policies" / "requirements.txt").read_text()


def test_every_stack_has_policy_levels_and_the_workflow_passes_the_same_file():
    for stack in stack_names():
        path = g.config_path(stack)
        assert path.is_file(), f"{path} is missing"
        assert path.name in (f"config.{stack}.json", g.DEFAULT_CONFIG)
        g.levels_for(stack)  # parses and validates
    workflow = (ROOT / ".github" / "actions" / "pulumi-stack" / "action.yml").read_text()
    assert "policyPackConfigs: ${{ inputs.policy-config }}" in workflow


def test_a_stack_without_its_own_policy_config_gets_every_guardrail_mandatory(tmp_path, monkeypatch):
    from tools import stacks

    assert g.config_path("no-such-stack").name == g.DEFAULT_CONFIG
    assert set(g.levels_for("no-such-stack").values()) == {g.MANDATORY}
    assert set(g.levels_for("no-such-stack")) == {p.name for p in g.POLICIES}
    assert stacks.policy_config("no-such-stack") == f"policies/{g.DEFAULT_CONFIG}"


@pytest.mark.parametrize(
    "raw,problem",
    [
        (
            {"vpc-flow-logs": "warn"},
            'p.json: vpc-flow-logs: "warn" is not a CrossGuard enforcement level '
            "(advisory, mandatory, remediate, disabled)",
        ),
        ({"vpc-flowlogs": "advisory"}, "p.json: vpc-flowlogs: is not a policy of this pack"),
        ({"all": {"enforcementLevel": "off"}}, 'p.json: all: "off" is not a CrossGuard enforcement level'),
        (["advisory"], "p.json: expected an object of policy names, got list"),
    ],
)
def test_bad_policy_configs_are_refused(raw, problem):
    with pytest.raises(g.PolicyConfigError) as err:
        g.parse_levels(raw, "p.json")
    assert err.value.problems[0].startswith(problem)


def test_a_bad_policy_level_stops_the_plan_before_anything_registers(tmp_path, monkeypatch, capsys):
    from tests.helpers import ROOT
    from tools import plan

    monkeypatch.setattr(g, "CONFIG_DIR", tmp_path)
    (tmp_path / "config.dev.json").write_text('{"vpc-flow-logs": "warn"}')
    ran = []
    monkeypatch.setattr(plan, "run", lambda *a: ran.append(a))
    assert plan.main(["dev", "--policies", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith('policies/config.dev.json: vpc-flow-logs: "warn" is not a CrossGuard')
    assert ran == []
    assert ROOT


def test_prod_namespaces_are_refused_when_edited_to_privileged(prod):
    """Edit prod's real plan: a namespace made privileged fails the mandatory guardrail."""
    edited = []
    for r in prod.resources:
        props = r.inputs
        if r.type == "kubernetes:core/v1:Namespace":
            metadata = dict(props["metadata"])
            metadata["labels"] = {**metadata["labels"], "pod-security.kubernetes.io/enforce": "privileged"}
            props = {**props, "metadata": metadata}
        edited.append(g.Resource(r.type, r.name, r.urn, props, tuple(r.dependencies)))
    found = [v for v in g.evaluate(edited, g.levels_for("prod")) if v.policy == "namespace-pod-security"]
    assert {v.enforcement for v in found} == {g.MANDATORY} and len(found) == len(
        prod.by_type("kubernetes:core/v1:Namespace")
    ) == 4
