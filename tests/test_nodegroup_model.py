"""The taint/label model and its renderings: golden user data, CA tags, EKS taints, AMIs."""

import base64
import email
import ipaddress
import os
import tomllib

import pytest
import yaml

from components import config as cfgmod
from components.config import nodetags
from components.config.nodegroups import node_label_key_problem
from components.nodegroups import model
from tests.helpers import minimal_config, node_group

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
CLUSTER = model.NodeCluster(
    name="demo",
    endpoint="https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
    certificate_authority=base64.b64encode(b"-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n").decode(),
    service_cidr="172.20.0.0/16",
)
WORKER_TAINTS = [
    {"key": "dedicated", "value": "payments", "effect": "NoSchedule"},
    {"key": "example.com/batch", "effect": "PreferNoSchedule"},
]
WORKERS = node_group(
    "workers",
    kind="selfManaged",
    os="al2023",
    instanceTypes=["m7i.xlarge", "m6i.xlarge"],
    labels={"node-role": "worker", "example.com/team": "payments"},
    taints=WORKER_TAINTS,
    maxPods=110,
)
EDGE = node_group(
    "edge",
    kind="selfManaged",
    os="bottlerocket",
    instanceTypes=["c7i.large"],
    labels={"node-role": "edge"},
    taints=[
        {"key": "node-role", "value": "edge", "effect": "NoSchedule"},
        {"key": "node-role", "value": "edge", "effect": "NoExecute"},
    ],
)

# The subset of the nodeadm NodeConfig schema (node.eks.aws/v1alpha1) we emit, with the types it declares.
NODECONFIG_SCHEMA = {
    "apiVersion": str,
    "kind": str,
    "metadata": dict,
    "spec": {
        "cluster": {
            "name": str,
            "apiServerEndpoint": str,
            "certificateAuthority": str,
            "cidr": str,
            "enableOutpost": bool,
            "id": str,
        },
        "kubelet": {"config": dict, "flags": list},
        "containerd": dict,
        "instance": dict,
        "featureGates": dict,
    },
}


def check_schema(doc, schema, path="NodeConfig"):
    assert isinstance(doc, dict), path
    for key, value in doc.items():
        assert key in schema, f"{path}.{key} is not in the NodeConfig schema"
        expected = schema[key]
        if isinstance(expected, dict):
            check_schema(value, expected, f"{path}.{key}")
        else:
            assert isinstance(value, expected), f"{path}.{key} should be {expected.__name__}"


def golden(name, text):
    path = os.path.join(GOLDEN, name)
    if os.environ.get("UPDATE_GOLDEN"):
        with open(path, "w") as f:
            f.write(text)
    with open(path) as f:
        assert text == f.read(), f"{name} differs from the golden file (UPDATE_GOLDEN=1 after review)"


def test_al2023_user_data_golden_and_parsed_back():
    text = model.al2023_user_data(CLUSTER, WORKERS)
    golden("al2023-workers.mime", text)
    msg = email.message_from_string(text)
    assert msg.is_multipart()
    (part,) = msg.get_payload()
    assert part.get_content_type() == "application/node.eks.aws"
    doc = yaml.safe_load(part.get_payload())
    check_schema(doc, NODECONFIG_SCHEMA)
    assert doc["apiVersion"] == "node.eks.aws/v1alpha1" and doc["kind"] == "NodeConfig"
    assert doc["spec"]["cluster"] == {
        "name": "demo",
        "apiServerEndpoint": CLUSTER.endpoint,
        "certificateAuthority": CLUSTER.certificate_authority,
        "cidr": "172.20.0.0/16",
    }
    base64.b64decode(doc["spec"]["cluster"]["certificateAuthority"], validate=True)
    assert doc["spec"]["kubelet"]["flags"] == [
        "--node-labels=eks-platform/node-group=workers,example.com/team=payments,node-role=worker",
        "--register-with-taints=dedicated=payments:NoSchedule,example.com/batch:PreferNoSchedule",
    ]
    assert doc["spec"]["kubelet"]["config"] == {"maxPods": 110}


def test_bottlerocket_user_data_golden_and_parsed_back():
    text = model.bottlerocket_user_data(CLUSTER, EDGE)
    golden("bottlerocket-edge.toml", text)
    settings = tomllib.loads(text)["settings"]
    k = settings["kubernetes"]
    assert k["cluster-name"] == "demo" and k["api-server"] == CLUSTER.endpoint
    assert k["cluster-certificate"] == CLUSTER.certificate_authority
    assert k["cluster-dns-ip"] == "172.20.0.10"
    assert k["node-labels"] == {"eks-platform/node-group": "edge", "node-role": "edge"}
    assert k["node-taints"] == {"node-role": ["edge:NoExecute", "edge:NoSchedule"]}
    assert settings["host-containers"]["admin"]["enabled"] is False


def test_rendering_is_deterministic_whatever_the_input_order():
    shuffled = node_group(
        "workers",
        kind="selfManaged",
        instanceTypes=["m7i.xlarge"],
        labels={"node-role": "worker", "example.com/team": "payments"},
        taints=WORKER_TAINTS,
        maxPods=110,
    )
    reordered = node_group(
        "workers",
        kind="selfManaged",
        instanceTypes=["m7i.xlarge"],
        labels={"example.com/team": "payments", "node-role": "worker"},
        taints=WORKER_TAINTS[::-1],
        maxPods=110,
    )
    assert model.al2023_user_data(CLUSTER, shuffled) == model.al2023_user_data(CLUSTER, reordered)
    assert nodetags.autoscaler_tags(shuffled, "c") == nodetags.autoscaler_tags(reordered, "c")


def test_config_sorts_taints():
    raw = minimal_config(
        nodeGroups={
            "g": {
                "kind": "managed",
                "instanceTypes": ["m7i.large"],
                "taints": [{"key": "b", "value": "1", "effect": "NoExecute"}, {"key": "a", "effect": "NoSchedule"}],
            }
        }
    )
    g = cfgmod.load(raw, stack="s", region="eu-west-1").node_groups["g"]
    assert [t.key for t in g.taints] == ["a", "b"]


def test_autoscaler_tags_carry_the_effect():
    tags = nodetags.autoscaler_tags(WORKERS, "demo")
    assert tags == {
        "k8s.io/cluster-autoscaler/demo": "owned",
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/node-template/label/eks-platform/node-group": "workers",
        "k8s.io/cluster-autoscaler/node-template/label/example.com/team": "payments",
        "k8s.io/cluster-autoscaler/node-template/label/node-role": "worker",
        "k8s.io/cluster-autoscaler/node-template/taint/dedicated": "payments:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/taint/example.com/batch": ":PreferNoSchedule",
    }
    for key, value in tags.items():
        if "/taint/" in key:
            assert value.rsplit(":", 1)[1] in ("NoSchedule", "PreferNoSchedule", "NoExecute")
    assert set(nodetags.node_template_tags(WORKERS)) == {k for k in tags if "/node-template/" in k}


@pytest.mark.parametrize(
    "effect,api",
    [("NoSchedule", "NO_SCHEDULE"), ("PreferNoSchedule", "PREFER_NO_SCHEDULE"), ("NoExecute", "NO_EXECUTE")],
)
def test_eks_taint_effect_mapping(effect, api):
    g = node_group(
        "g", kind="managed", instanceTypes=["m7i.large"], taints=[{"key": "k", "value": "v", "effect": effect}]
    )
    assert model.eks_taints(g) == [{"key": "k", "value": "v", "effect": api}]


def test_image_parameters_name_exactly_the_catalogs_release():
    from components.config import nodeimages

    assert nodeimages.image_parameter("1.35", "al2023", "x86_64", "1.35.0-20261105") == (
        "/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/x86_64/standard/"
        "amazon-eks-node-al2023-x86_64-standard-1.35-v20261105/image_id"
    )
    assert nodeimages.image_parameter("1.34", "al2023", "arm64", "1.34.2-20261105").endswith(
        "/arm64/standard/amazon-eks-node-al2023-arm64-standard-1.34-v20261105/image_id"
    )
    assert (
        nodeimages.image_parameter("1.35", "bottlerocket", "x86_64", "1.52.0-8f2e1d3c")
        == "/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.52.0-8f2e1d3c/image_id"
    )
    with pytest.raises(ValueError, match="not an AL2023 EKS AMI release"):
        nodeimages.image_parameter("1.35", "al2023", "x86_64", "latest")
    # Every supported minor has every OS and architecture.
    from components.config import SUPPORTED_KUBERNETES_VERSIONS

    for minor in SUPPORTED_KUBERNETES_VERSIONS:
        for os_ in nodeimages.OPERATING_SYSTEMS:
            for arch in nodeimages.ARCHITECTURES:
                assert nodeimages.missing_problem(minor, os_, arch) is None, (minor, os_, arch)
    assert "platform/node-images.yaml has no al2023 x86_64 image for Kubernetes 1.20" in nodeimages.missing_problem(
        "1.20", "al2023", "x86_64"
    )
    assert model.managed_ami_type("al2023", "x86_64") == "AL2023_x86_64_STANDARD"
    assert model.managed_ami_type("al2023", "arm64") == "AL2023_ARM_64_STANDARD"
    assert model.managed_ami_type("bottlerocket", "arm64") == "BOTTLEROCKET_ARM_64"
    assert model.root_device("bottlerocket") == "/dev/xvdb" and model.root_device("al2023") == "/dev/xvda"


def test_cluster_dns_ip():
    assert model.NodeCluster("c", "e", "ca", "10.100.0.0/16").dns_ip == "10.100.0.10"
    assert ipaddress.IPv4Address(CLUSTER.dns_ip) in ipaddress.IPv4Network(CLUSTER.service_cidr)


def test_asg_tags_propagation():
    tags = {t["key"]: t for t in nodetags.asg_tags(WORKERS, "demo", {"team": "x"}, "demo-workers")}
    for key in ("Name", "kubernetes.io/cluster/demo", "aws-node-termination-handler/managed", "team"):
        assert tags[key]["propagate_at_launch"] is True, key
    for key in (
        "k8s.io/cluster-autoscaler/enabled",
        "k8s.io/cluster-autoscaler/demo",
        "k8s.io/cluster-autoscaler/node-template/taint/dedicated",
    ):
        assert tags[key]["propagate_at_launch"] is False, key
    assert tags["kubernetes.io/cluster/demo"]["value"] == "owned"


@pytest.mark.parametrize(
    "key,ok",
    [
        ("node-role", True),
        ("example.com/team", True),
        ("node.kubernetes.io/exclude-from-external-load-balancers", True),
        ("node-role.kubernetes.io/worker", False),
        ("kubernetes.io/role", False),
        ("-bad", False),
        ("Example.com/x", False),
        ("a" * 64, False),
        ("eks-platform/node-group", False),
        ("eks-platform/x", False),
        ("café", False),
        ("role\n", False),
        # set per node by the kubelet or the cloud provider; Karpenter's domains
        ("kubernetes.io/hostname", False),
        ("topology.kubernetes.io/zone", False),
        ("node.kubernetes.io/instance-type", False),
        ("kubernetes.io/arch", False),
        ("karpenter.sh/capacity-type", False),
        ("karpenter.k8s.aws/instance-family", False),
        ("team.karpenter.sh/x", False),
        ("karpenter.shx/y", True),
        ("kubelet.kubernetes.io/x", True),
    ],
)
def test_label_key_rules(key, ok):
    assert (node_label_key_problem(key) is None) is ok
