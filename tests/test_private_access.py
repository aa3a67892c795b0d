"""Reaching a private API: the in-VPC CI runner, the SSM access host, the tunnel, the preflight."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from components.cluster import kubeconfig, provider_identity
from components.context import AwsContext
from components.private_access import port_forward_command, runner_policy
from tests.helpers import ADMIN, SYSTEM_GROUP, run_main
from tools import preflight

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0b1c2d3e-4f5a-4b7c-8d9e-0f1a2b3c4d5e"
CONFIG = {
    "network": {"natGateways": "perAz", "flowLogs": {"enabled": True}},
    "cluster": {
        "name": "blue",
        "endpoint": {"publicAccess": False, "accessHost": {"enabled": True}},
        "access": {"adminRoleArns": [ADMIN]},
    },
    "nodeGroups": {"system": SYSTEM_GROUP},
    "delivery": {
        "runner": {
            "enabled": True,
            "repository": "acme/platform",
            "connectionArn": CONNECTION,
            "allowedActorIds": [583231, 9919],
        }
    },
    # a private cluster is watched too (guardrail observability-on); the scraper reaches it privately
    "observability": {"enabled": True, "prometheus": {"enabled": True}, "alarms": {"createTopic": True}},
}


@pytest.fixture(scope="module")
def rec():
    return run_main(CONFIG, stack="private")


def component(rec, typ, name):
    return rec.one(typ, name)


def test_the_runner_is_exactly_these_resources(rec):
    runner = component(rec, "eks-platform:delivery:CiRunner", "blue-ci-runner")
    children = [(r.type, r.name) for r in rec.children(runner)]
    assert children == [
        ("aws:cloudwatch/logGroup:LogGroup", "blue-ci-runner-logs"),
        ("aws:ec2/securityGroup:SecurityGroup", "blue-ci-runner"),
        ("aws:iam/role:Role", "blue-ci-runner"),
        ("aws:iam/rolePolicy:RolePolicy", "blue-ci-runner"),
        ("aws:codebuild/project:Project", "blue-ci-runner"),
        ("aws:codebuild/webhook:Webhook", "blue-ci-runner"),
    ]
    project = rec.one("aws:codebuild/project:Project", "blue-ci-runner").inputs
    assert project["name"] == "blue-gh-runner"
    assert project["source"] == {
        "type": "GITHUB",
        "location": "https://github.com/acme/platform.git",
        "auth": {"type": "CODECONNECTIONS", "resource": CONNECTION},
    }
    assert project["environment"]["privilegedMode"] is False
    assert project["vpcConfig"]["subnets"] == rec.outputs["privateSubnetIds"]
    webhook = rec.one("aws:codebuild/webhook:Webhook", "blue-ci-runner").inputs
    assert webhook["buildType"] == "BUILD"
    # queued jobs of the listed GitHub users only: a fork's pull request (queued by its author) never builds
    assert webhook["filterGroups"] == [
        {
            "filters": [
                {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                {"type": "ACTOR_ACCOUNT_ID", "pattern": "^(583231|9919)$"},
            ]
        }
    ]
    logs = rec.one("aws:cloudwatch/logGroup:LogGroup", "blue-ci-runner-logs").inputs
    assert (logs["name"], logs["retentionInDays"]) == (
        "/aws/codebuild/blue-gh-runner",
        90,
    )  # cluster.logging.retentionDays
    assert rec.outputs["ciRunner"] == {"projectName": "blue-gh-runner", "runsOn": "codebuild-blue-gh-runner"}


def test_the_runner_role_is_scoped(rec):
    role = rec.one("aws:iam/role:Role", "blue-ci-runner").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111122223333"},
        "ArnLike": {"aws:SourceArn": "arn:aws:codebuild:eu-west-1:111122223333:project/blue-gh-runner"},
    }
    doc = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy", "blue-ci-runner").inputs["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["OwnLogs"]["Resource"][0].endswith(":log-group:/aws/codebuild/blue-gh-runner")
    eni = by_sid["NetworkInterfacePermissionInOwnSubnets"]
    assert eni["Condition"]["StringEquals"]["ec2:AuthorizedService"] == "codebuild.amazonaws.com"
    subnets = [f"arn:aws:ec2:eu-west-1:111122223333:subnet/{s}" for s in rec.outputs["privateSubnetIds"]]
    assert eni["Condition"]["StringEquals"]["ec2:Subnet"] == sorted(subnets)
    assert by_sid["GitHubConnection"]["Resource"] == CONNECTION
    # No deploy permissions: jobs on the runner still assume the deploy role by OIDC.
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert not any(a.startswith(("eks:", "iam:", "sts:")) for a in actions)


def test_the_access_host_is_exactly_these_resources(rec):
    host = component(rec, "eks-platform:delivery:AccessHost", "blue-access-host")
    assert [(r.type, r.name) for r in rec.children(host)] == [
        ("aws:iam/role:Role", "blue-access-host"),
        ("aws:iam/rolePolicy:RolePolicy", "blue-access-host-session-manager"),
        ("aws:iam/instanceProfile:InstanceProfile", "blue-access-host"),
        ("aws:ec2/securityGroup:SecurityGroup", "blue-access-host"),
        ("aws:ec2/launchTemplate:LaunchTemplate", "blue-access-host"),
        ("aws:autoscaling/group:Group", "blue-access-host"),
    ]
    # Session Manager's channel only: no AmazonSSMManagedInstanceCore (it also reads every SSM parameter)
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy", "blue-access-host-session-manager").inputs["policy"])
    (st,) = policy["Statement"]
    assert sorted(st["Action"]) == [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    lt = rec.one("aws:ec2/launchTemplate:LaunchTemplate", "blue-access-host").inputs
    assert lt["metadataOptions"]["httpTokens"] == "required"
    assert lt["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    asg = rec.one("aws:autoscaling/group:Group", "blue-access-host").inputs
    assert (asg["minSize"], asg["maxSize"], asg["desiredCapacity"]) == (1, 1, 1)
    assert asg["vpcZoneIdentifiers"] == rec.outputs["privateSubnetIds"]
    # The image is resolved by EC2 at launch, never at plan time: a new AL2023 release changes no template.
    assert lt["imageId"] == "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def test_a_graviton_access_host_boots_the_arm64_image():
    from components.private_access import access_host_image

    assert access_host_image("t4g.micro").endswith("al2023-ami-kernel-default-arm64")
    assert access_host_image("t3.micro").endswith("al2023-ami-kernel-default-x86_64")


def test_neither_has_an_inbound_rule(rec):
    groups = [rec.one("aws:ec2/securityGroup:SecurityGroup", n) for n in ("blue-ci-runner", "blue-access-host")]
    for sg in groups:
        assert sg.inputs["ingress"] == []
        assert [e["toPort"] for e in sg.inputs["egress"]] == [443]
    ids = {sg.urn for sg in groups}
    for rule in rec.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert not ids & set(rule.dependencies)


def test_neither_depends_on_the_cluster_or_kubernetes(rec):
    """So a private stack can be bootstrapped: network + runner first, the rest from inside."""
    by_urn = {r.urn: r for r in rec.resources}
    cluster = rec.one("eks-platform:cluster:Cluster", "blue")

    def under(r, ancestor):
        while r.parent:
            if r.parent == ancestor:
                return True
            r = by_urn[r.parent]
        return False

    for name, typ in (
        ("blue-ci-runner", "eks-platform:delivery:CiRunner"),
        ("blue-access-host", "eks-platform:delivery:AccessHost"),
    ):
        top = rec.one(typ, name)
        seen, todo = set(), [r.urn for r in rec.resources if r.urn == top.urn or under(r, top.urn)]
        while todo:
            urn = todo.pop()
            if urn in seen:
                continue
            seen.add(urn)
            r = by_urn[urn]
            assert not under(r, cluster.urn) and r.urn != cluster.urn, f"{name} depends on {r.name}"
            assert not r.type.startswith("kubernetes:"), f"{name} depends on {r.name}"
            todo += r.dependencies


def test_outputs_for_people(rec):
    command = rec.outputs["accessHostCommand"]
    assert "--document-name AWS-StartPortForwardingSessionToRemoteHost" in command
    assert '"localPortNumber": ["8443"]' in command and '"portNumber": ["443"]' in command
    assert rec.outputs["accessKubeconfig"] == "[secret]"


def test_the_guardrails_pass(rec):
    from tools.render import policy_report

    text, mandatory = policy_report(rec, "private")
    assert mandatory == 0, text


def test_port_forward_and_tunnel_kubeconfig():
    cmd = port_forward_command("eu-west-1", "asg-1", "https://ABC.gr7.eu-west-1.eks.amazonaws.com")
    assert "Values=asg-1" in cmd and '"host": ["ABC.gr7.eu-west-1.eks.amazonaws.com"]' in cmd
    direct = json.loads(kubeconfig("c", "https://ABC.gr7.x", "Q0E=", "eu-west-1", None, None))
    tunnel = json.loads(kubeconfig("c", "https://ABC.gr7.x", "Q0E=", "eu-west-1", None, None, 8443))
    assert direct["clusters"][0]["cluster"] == {"server": "https://ABC.gr7.x", "certificate-authority-data": "Q0E="}
    assert tunnel["clusters"][0]["cluster"] == {
        "server": "https://localhost:8443",
        "tls-server-name": "ABC.gr7.x",
        "certificate-authority-data": "Q0E=",
    }


def test_the_provider_identity_is_set_and_does_not_follow_the_endpoint(monkeypatch):
    ctx = AwsContext(account_id="111122223333", partition="aws", region="eu-west-1")
    assert provider_identity(ctx, "blue") == "eks:aws:eu-west-1:111122223333:blue"
    direct = run_main(CONFIG, stack="private")
    monkeypatch.setenv("EKS_PLATFORM_API_TUNNEL_PORT", "8443")
    tunneled = run_main(CONFIG, stack="private")
    a = direct.one("pulumi:providers:kubernetes", "blue-k8s").inputs
    b = tunneled.one("pulumi:providers:kubernetes", "blue-k8s").inputs
    assert a["clusterIdentifier"] == b["clusterIdentifier"] == "eks:aws:eu-west-1:111122223333:blue"


def test_runner_policy_statements_are_deterministic():
    ctx = AwsContext(account_id="1", partition="aws", region="r")
    assert runner_policy(ctx, "lg", ["b", "a"], "c") == runner_policy(ctx, "lg", ["a", "b"], "c")


# ---------------------------------------------------------------------------------------
# preflight
# ---------------------------------------------------------------------------------------
def test_preflight_fails_fast_on_a_closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    problem = preflight.reachable("127.0.0.1", port, "x", None, 15)
    assert problem and time.monotonic() - start < 5
    # Through a tunnel that is still opening, refusals are retried until the deadline.
    start = time.monotonic()
    problem = preflight.reachable("127.0.0.1", port, "x", None, 1, retry_refused=True)
    assert problem.startswith("no answer within 1 s") and 0.9 < time.monotonic() - start < 3


def test_preflight_gives_up_after_its_timeout_on_a_silent_listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        start = time.monotonic()
        problem = preflight.reachable("127.0.0.1", server.getsockname()[1], "x", None, 1)
        assert problem == "no answer within 1 s"
        assert time.monotonic() - start < 3


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_preflight_completes_a_real_tls_handshake_with_the_cluster_ca(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=api.example.internal",
            "-addext",
            "subjectAltName=DNS:api.example.internal",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        conn, _ = server.accept()
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    # Through a "tunnel": localhost, with the endpoint's name for SNI and verification.
    assert preflight.reachable("127.0.0.1", port, "api.example.internal", cert.read_bytes(), 5) is None
    thread.join(5)
    server.close()


def test_preflight_against_eks(monkeypatch, capsys):
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        assert preflight.main(["dev", "--timeout", "1"]) == 0
        assert "does not exist yet" in capsys.readouterr().out
        boto3.client("eks", region_name="eu-west-1").create_cluster(
            name="eks-platform-dev", roleArn=ADMIN, resourcesVpcConfig={"subnetIds": ["subnet-1"]}
        )
        monkeypatch.setattr(preflight, "reachable", lambda *a, **k: "no answer within 1 s")
        assert preflight.main(["dev", "--timeout", "1"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("::error::The Kubernetes API of stack dev")
        assert "RUNNER_DEV" in err and "EKS_PLATFORM_API_TUNNEL_PORT" in err
