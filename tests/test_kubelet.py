"""Per-class kubelet settings: rendered into nodeadm's NodeConfig (self-managed and managed AL2023), Bottlerocket
settings (self-managed and managed), cluster-autoscaler's node template, and refused where a backend cannot honour
them."""

import base64
import email
import json
import tomllib

import pytest
import yaml

from components.config import ConfigError, load, nodetags
from components.nodegroups import model
from tests.helpers import ADMIN, SYSTEM_GROUP, minimal_config, node_group, run_main
from tests.test_nodegroup_model import CLUSTER, NODECONFIG_SCHEMA, check_schema, golden

KUBELET = {
    "maxPods": 58,
    "kubeReserved": {"cpu": "250m", "memory": "1Gi", "ephemeralStorage": "1Gi"},
    "systemReserved": {"cpu": "100m", "memory": "256Mi"},
    "evictionHard": {"memory.available": "200Mi", "nodefs.available": "10%"},
}
RESERVES = {k: v for k, v in KUBELET.items() if k != "maxPods"}
EXPECTED_CONFIG = {
    "maxPods": 58,
    "kubeReserved": {"cpu": "250m", "ephemeral-storage": "1Gi", "memory": "1Gi"},
    "systemReserved": {"cpu": "100m", "memory": "256Mi"},
    "evictionHard": {"memory.available": "200Mi", "nodefs.available": "10%"},
}


def parts(mime):
    msg = email.message_from_string(mime)
    return [yaml.safe_load(p.get_payload()) for p in msg.get_payload()]


def test_self_managed_al2023_node_config_carries_every_setting():
    g = node_group("batch", kind="selfManaged", instanceTypes=["m7i.xlarge"], kubelet=KUBELET)
    (doc,) = parts(model.al2023_user_data(CLUSTER, g))
    check_schema(doc, NODECONFIG_SCHEMA)
    assert doc["spec"]["kubelet"]["config"] == EXPECTED_CONFIG


def test_managed_al2023_adds_a_kubelet_only_node_config_part():
    g = node_group("apps", kind="managed", instanceTypes=["m7i.xlarge"], kubelet=RESERVES)
    text = model.managed_user_data(g)
    golden("managed-al2023-kubelet.mime", text)
    (doc,) = parts(text)
    check_schema(doc, NODECONFIG_SCHEMA)
    # no cluster block: EKS's own part (after ours) joins the node; ours only adds the kubelet settings
    assert doc == {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {"kubelet": {"config": {k: v for k, v in EXPECTED_CONFIG.items() if k != "maxPods"}}},
    }


def test_managed_group_without_kubelet_settings_has_no_user_data():
    assert model.managed_user_data(node_group("apps", kind="managed", instanceTypes=["m7i.large"])) is None


def test_bottlerocket_settings_self_managed_and_managed():
    sm = node_group("edge", kind="selfManaged", os="bottlerocket", instanceTypes=["c7i.large"], kubelet=KUBELET)
    k = tomllib.loads(model.bottlerocket_user_data(CLUSTER, sm))["settings"]["kubernetes"]
    assert k["max-pods"] == 58
    assert k["kube-reserved"] == {"cpu": "250m", "ephemeral-storage": "1Gi", "memory": "1Gi"}
    assert k["system-reserved"] == {"cpu": "100m", "memory": "256Mi"}
    assert k["eviction-hard"] == {"memory.available": "200Mi", "nodefs.available": "10%"}
    # managed Bottlerocket: EKS merges its TOML under ours, so maxPods is honoured there
    mg = node_group("edge", kind="managed", os="bottlerocket", instanceTypes=["c7i.large"], kubelet=KUBELET)
    text = model.managed_user_data(mg)
    golden("managed-bottlerocket-kubelet.toml", text)
    k = tomllib.loads(text)["settings"]["kubernetes"]
    assert set(k) == {"max-pods", "kube-reserved", "system-reserved", "eviction-hard"}
    assert k["max-pods"] == 58


def test_max_pods_on_a_managed_al2023_group_is_refused_with_the_reason():
    for raw in ({"kubelet": {"maxPods": 58}}, {"maxPods": 58}):
        with pytest.raises(ConfigError) as err:
            load(minimal_config(nodeGroups={"system": {**SYSTEM_GROUP, **raw}}), stack="s", region="eu-west-1")
        (line,) = err.value.problems
        assert "cannot be honoured on a managed AL2023 group: EKS's NodeConfig comes after ours" in line
        assert line.startswith("nodeGroups.system.kubelet.maxPods" if "kubelet" in raw else "nodeGroups.system.maxPods")


def test_old_and_new_max_pods_spelling():
    g = node_group("w", kind="selfManaged", instanceTypes=["m7i.large"], maxPods=30)
    assert g.max_pods == 30
    with pytest.raises(ConfigError, match=r"and kubelet\.maxPods are both set"):
        load(
            minimal_config(
                nodeGroups={
                    "system": SYSTEM_GROUP,
                    "w": {
                        "kind": "selfManaged",
                        "instanceTypes": ["m7i.large"],
                        "maxPods": 30,
                        "kubelet": {"maxPods": 40},
                    },
                }
            ),
            stack="s",
            region="eu-west-1",
        )


@pytest.mark.parametrize(
    ("kubelet", "fragment"),
    [
        ({"kubeReserved": {"cpu": "a lot"}}, "is not a Kubernetes quantity"),
        ({"systemReserved": {"memory": "1GB"}}, "is not a Kubernetes quantity"),
        ({"evictionHard": {"memory.available": "150%"}}, "is not a quantity or a percentage below 100%"),
        ({"evictionHard": {"memory.free": "1Gi"}}, "memory.free"),
    ],
)
def test_bad_kubelet_settings(kubelet, fragment):
    with pytest.raises(ConfigError) as err:
        load(minimal_config(nodeGroups={"system": {**SYSTEM_GROUP, "kubelet": kubelet}}), stack="s", region="eu-west-1")
    assert fragment in "\n".join(err.value.problems)


def test_allocatable_is_the_smallest_type_minus_reservations_and_eviction():
    g = node_group("w", kind="selfManaged", instanceTypes=["m7i.large", "m7i.xlarge"], kubelet=RESERVES)
    caps = [nodetags.NodeCapacity(2, 8192), nodetags.NodeCapacity(4, 16384)]
    # 2000m - 350m; 8192Mi - 1024 - 256 - 200
    assert nodetags.allocatable(g, caps) == {"cpu": "1650m", "memory": "6712Mi"}
    pct = node_group(
        "p",
        kind="selfManaged",
        instanceTypes=["m7i.large"],
        kubelet={"evictionHard": {"memory.available": "5%"}, "kubeReserved": {"memory": "1Gi"}},
    )
    assert nodetags.withheld(pct, 8192) == (0, 1024 + 409)


def test_reservations_larger_than_a_node_are_refused_before_anything_registers():
    raw = minimal_config(
        nodeGroups={
            "system": SYSTEM_GROUP,
            "tiny": {
                "kind": "selfManaged",
                "instanceTypes": ["t3.micro", "m7i.large"],
                "kubelet": {"kubeReserved": {"memory": "1Gi", "cpu": "2"}},
            },
        }
    )
    with pytest.raises(Exception) as err:
        run_main(raw)
    text = str(err.value)
    assert "nodeGroups.tiny.kubelet: kubelet reservations and memory eviction keep 1024Mi; t3.micro has 1024Mi" in text
    assert "nodeGroups.tiny.kubelet: kubelet reservations keep 2000m CPU; m7i.large has 2000m" in text


@pytest.fixture(scope="module")
def rec():
    return run_main(
        minimal_config(
            cluster={"name": "kub", "access": {"adminRoleArns": [ADMIN]}},
            nodeGroups={
                "system": {**SYSTEM_GROUP, "kubelet": RESERVES},
                "batch": {"kind": "selfManaged", "instanceTypes": ["m7i.xlarge", "m7i.2xlarge"], "kubelet": KUBELET},
                "edge": {
                    "kind": "managed",
                    "os": "bottlerocket",
                    "instanceTypes": ["c7i.large"],
                    "kubelet": {"maxPods": 40},
                },
            },
        )
    )


def test_the_plan_renders_kubelet_settings_for_each_asg_kind(rec):
    lt = rec.one("aws:ec2/launchTemplate:LaunchTemplate", "kub-system").inputs
    (doc,) = parts(base64.b64decode(lt["userData"]).decode())
    assert doc["spec"]["kubelet"]["config"]["kubeReserved"] == EXPECTED_CONFIG["kubeReserved"]
    batch = rec.one("aws:ec2/launchTemplate:LaunchTemplate", "kub-batch").inputs
    (doc,) = parts(base64.b64decode(batch["userData"]).decode())
    assert doc["spec"]["kubelet"]["config"] == EXPECTED_CONFIG
    edge = rec.one("aws:ec2/launchTemplate:LaunchTemplate", "kub-edge").inputs
    assert tomllib.loads(base64.b64decode(edge["userData"]).decode())["settings"]["kubernetes"] == {"max-pods": 40}


def test_autoscaler_node_templates_reflect_the_reservations(rec):
    # managed: aws.autoscaling.Tag on the ASG EKS made; m7i.large has 2 vCPUs and 8192 MiB
    tags = {
        r.inputs["tag"]["key"]: r.inputs["tag"]["value"]
        for r in rec.by_type("aws:autoscaling/tag:Tag")
        if r.name.startswith("kub-system-ca-resources-")
    }
    assert tags == {
        "k8s.io/cluster-autoscaler/node-template/resources/cpu": "1650m",
        "k8s.io/cluster-autoscaler/node-template/resources/memory": "6712Mi",
    }
    # self-managed: on the ASG itself, the smaller of its types (m7i.xlarge: 4 vCPUs, 16384 MiB)
    asg = rec.one("aws:autoscaling/group:Group", "kub-batch").inputs
    resources = {t["key"].rsplit("/", 1)[1]: t["value"] for t in asg["tags"] if "/node-template/resources/" in t["key"]}
    assert resources == {"cpu": "3650m", "memory": f"{16384 - 1024 - 256 - 200}Mi"}
    assert not [r for r in rec.by_type("aws:autoscaling/tag:Tag") if r.name.startswith("kub-edge-ca-resources-")]


def test_kubelet_settings_are_deterministic():
    g = node_group("w", kind="managed", instanceTypes=["m7i.large"], kubelet=RESERVES)
    again = node_group(
        "w",
        kind="managed",
        instanceTypes=["m7i.large"],
        kubelet=json.loads(json.dumps(dict(reversed(list(RESERVES.items()))))),
    )
    assert model.managed_user_data(g) == model.managed_user_data(again)


def test_karpenter_pools_with_instance_types_are_checked_too():
    raw = minimal_config(
        nodeGroups={
            "system": SYSTEM_GROUP,
            "pool": {
                "kind": "karpenter",
                "instanceTypes": ["t3.micro"],
                "kubelet": {"systemReserved": {"memory": "2Gi"}},
            },
        }
    )
    with pytest.raises(Exception) as err:
        run_main(raw)
    assert "nodeGroups.pool.kubelet: kubelet reservations and memory eviction keep 2048Mi; t3.micro has 1024Mi" in str(
        err.value
    )
