"""Karpenter pools and Fargate profiles from the node-class model: the rendered EC2NodeClass and NodePool (golden,
CRD schemas), the controller (IAM scoped to the cluster, Pod Identity, placement), its interruption queue, the
discovery tags, the Fargate profiles and their role."""

import json

import pytest
import yaml

from components.config import ConfigError, load, nodetags
from components.nodegroups import karpenter as km
from tests import crd_schemas
from tests.helpers import ADMIN, SYSTEM_GROUP, config_model, minimal_config, run_main
from tests.test_nodegroup_model import golden

C = "cmp"
BATCH = {
    "kind": "karpenter",
    "architecture": "arm64",
    "instanceCategories": ["c", "m", "r"],
    "minGeneration": 7,
    "capacity": {"type": "spotAndOnDemand"},
    "labels": {"workload": "batch"},
    "taints": [{"key": "batch", "value": "true", "effect": "NoSchedule"}],
    "kubelet": {
        "maxPods": 110,
        "kubeReserved": {"cpu": "200m", "memory": "1Gi"},
        "evictionHard": {"memory.available": "5%"},
    },
    "limits": {"cpu": "512", "memory": "2048Gi"},
    "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m", "expireAfter": "336h"},
    "rootVolume": {"sizeGiB": 100, "iops": 6000, "throughput": 250},
    "imds": {"hopLimit": 1},
}
WEB = {"kind": "karpenter", "os": "bottlerocket", "instanceFamilies": ["m7i", "c7i"]}
JOBS = {"kind": "fargate", "selectors": [{"namespace": "jobs"}, {"namespace": "reports", "labels": {"tier": "batch"}}]}


@pytest.fixture(scope="module")
def rec():
    return run_main(
        minimal_config(
            cluster={"name": C, "access": {"adminRoleArns": [ADMIN]}},
            nodeGroups={"system": SYSTEM_GROUP, "batch": BATCH, "web": WEB, "jobs": JOBS},
        )
    )


def custom(rec, kind, name):
    (r,) = [r for r in rec.resources if r.type.endswith(f":{kind}") and r.inputs["metadata"]["name"] == name]
    return r


def as_object(r):
    return {k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


# ---------------------------------------------------------------------------------------
# EC2NodeClass and NodePool
# ---------------------------------------------------------------------------------------
def test_node_class_and_pool_golden_and_valid(rec):
    for name in ("batch", "web"):
        cls, pool = as_object(custom(rec, "EC2NodeClass", name)), as_object(custom(rec, "NodePool", name))
        assert crd_schemas.problems(crd_schemas.EC2_NODE_CLASS_V1, cls) == []
        assert crd_schemas.problems(crd_schemas.NODE_POOL_V1, pool) == []
        golden(f"karpenter-{name}.yaml", yaml.safe_dump_all([cls, pool], sort_keys=True))


def test_node_class_security_relevant_fields(rec):
    spec = custom(rec, "EC2NodeClass", "batch").inputs["spec"]
    assert spec["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpProtocolIPv6": "disabled",
        "httpPutResponseHopLimit": 1,
        "httpTokens": "required",
    }
    assert spec["blockDeviceMappings"] == [
        {
            "deviceName": "/dev/xvda",
            "ebs": {
                "volumeSize": "100Gi",
                "volumeType": "gp3",
                "iops": 6000,
                "throughput": 250,
                "encrypted": True,
                "deleteOnTermination": True,
            },
        }
    ]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@v20261105"}]  # the catalog's release, pinned
    assert (
        spec["subnetSelectorTerms"] == spec["securityGroupSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": C}}]
    )
    assert spec["role"].startswith(f"{C}-karpenter-nodes-")
    assert spec["kubelet"] == {
        "maxPods": 110,
        "kubeReserved": {"cpu": "200m", "memory": "1Gi"},
        "evictionHard": {"memory.available": "5%"},
    }
    web = custom(rec, "EC2NodeClass", "web").inputs["spec"]
    assert web["amiSelectorTerms"] == [{"alias": "bottlerocket@v1.52.0"}]
    assert web["blockDeviceMappings"][0]["deviceName"] == "/dev/xvdb"  # Bottlerocket's data volume


def test_node_pool_requirements_labels_taints_limits(rec):
    spec = custom(rec, "NodePool", "batch").inputs["spec"]
    t = spec["template"]
    assert t["metadata"]["labels"] == {"eks-platform/node-group": "batch", "workload": "batch"}
    assert t["spec"]["requirements"] == [
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand", "spot"]},
        {"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]},
        {"key": "karpenter.k8s.aws/instance-generation", "operator": "Gt", "values": ["6"]},
    ]
    assert t["spec"]["taints"] == [{"key": "batch", "value": "true", "effect": "NoSchedule"}]
    assert t["spec"]["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "batch"}
    assert t["spec"]["expireAfter"] == "336h"
    assert spec["limits"] == {"cpu": "512", "memory": "2048Gi"}
    assert spec["disruption"] == {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m"}
    web = custom(rec, "NodePool", "web").inputs["spec"]["template"]["spec"]["requirements"]
    assert web[-1] == {"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["c7i", "m7i"]}


def test_custom_resources_wait_for_the_release(rec):
    release = rec.one("kubernetes:helm.sh/v3:Release", f"{C}-karpenter")
    cls = custom(rec, "EC2NodeClass", "batch")
    pool = custom(rec, "NodePool", "batch")
    assert release.urn in cls.dependencies and release.urn in pool.dependencies and cls.urn in pool.dependencies


# ---------------------------------------------------------------------------------------
# the controller
# ---------------------------------------------------------------------------------------
def test_controller_release_values_and_placement(rec):
    r = rec.one("kubernetes:helm.sh/v3:Release", f"{C}-karpenter").inputs
    assert (r["chart"], r["version"], r["namespace"]) == (
        "oci://public.ecr.aws/karpenter/karpenter",
        "1.14.1",
        "kube-system",
    )
    v = r["values"]
    # node repair (alpha gate, off in the chart) and zonal shift (the cluster has it by default) on
    assert v["settings"] == {
        "clusterName": C,
        "interruptionQueue": f"{C}-karpenter",
        "featureGates": {"nodeRepair": True},
        "enableZonalShift": True,
    }
    assert v["serviceAccount"] == {"create": True, "name": "karpenter", "annotations": {}}
    assert v["nodeSelector"] == {"kubernetes.io/os": "linux", "eks-platform/node-group": "system"}
    assert v["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    ]
    assert "affinity" not in v  # the chart's own keeps it off karpenter.sh/nodepool nodes
    assert r["skipCrds"] is True


def test_controller_identity_and_policy_are_scoped(rec):
    assoc = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"{C}-karpenter-role").inputs
    assert (assoc["namespace"], assoc["serviceAccount"]) == ("kube-system", "karpenter")
    trust = json.loads(rec.one("aws:iam/role:Role", f"{C}-karpenter-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    (pol,) = [r for r in rec.by_type("aws:iam/rolePolicy:RolePolicy") if r.name == f"{C}-karpenter-role-controller"]
    doc = {st["Sid"]: st for st in json.loads(pol.inputs["policy"])["Statement"]}
    node_role = rec.one("aws:iam/role:Role", f"{C}-karpenter-nodes")
    assert doc["PassNodeRole"]["Resource"][0].startswith(f"arn:aws:iam::111122223333:role/{C}-karpenter-nodes-")
    assert doc["PassNodeRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}
    }
    assert doc["DeleteOwnNodes"]["Condition"]["StringEquals"] == {f"aws:ResourceTag/kubernetes.io/cluster/{C}": "owned"}
    assert doc["ReadInterruptionQueue"]["Resource"] == [f"arn:aws:sqs:eu-west-1:111122223333:{C}-karpenter"]
    assert doc["DiscoverApiServer"]["Resource"] == [f"arn:aws:eks:eu-west-1:111122223333:cluster/{C}"]
    for st in doc.values():
        assert all(a != "*" and not a.endswith(":*") for a in st["Action"])
        assert "${" not in json.dumps(st)
    assert node_role.inputs["assumeRolePolicy"]


def test_node_role_has_an_ec2_linux_entry_and_no_instance_profile(rec):
    entry = rec.one("aws:eks/accessEntry:AccessEntry", f"{C}-karpenter-nodes").inputs
    assert entry["type"] == "EC2_LINUX"
    assert f"{C}-karpenter-nodes" not in [r.name for r in rec.by_type("aws:iam/instanceProfile:InstanceProfile")]
    attached = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[1]
        for r in rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith(f"{C}-karpenter-nodes-")
    )
    assert attached == ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy"]


def test_interruption_queue_and_rules(rec):
    q = rec.one("aws:sqs/queue:Queue", f"{C}-karpenter").inputs
    assert q["name"] == f"{C}-karpenter" and q["sqsManagedSseEnabled"] is True and q["messageRetentionSeconds"] == 300
    policy = json.loads(rec.one("aws:sqs/queuePolicy:QueuePolicy", f"{C}-karpenter").inputs["policy"])
    deny = next(st for st in policy["Statement"] if st["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # upstream's (v1.14.1 KarpenterInterruptionQueuePolicy): no source condition that AWS Health events might lack
    allow = next(st for st in policy["Statement"] if st["Effect"] == "Allow")
    assert "Condition" not in allow and allow["Principal"]["Service"] == ["events.amazonaws.com", "sqs.amazonaws.com"]
    rules = {
        r.name.removeprefix(f"{C}-karpenter-"): json.loads(r.inputs["eventPattern"])
        for r in rec.by_type("aws:cloudwatch/eventRule:EventRule")
        if r.name.startswith(f"{C}-karpenter-")
    }
    assert rules == km.interruption_patterns()
    assert {
        r.name for r in rec.by_type("aws:cloudwatch/eventTarget:EventTarget") if r.name.startswith(f"{C}-karpenter-")
    } == {f"{C}-karpenter-{k}" for k in rules}
    # the node termination handler's queue is another (none here: no self-managed group)
    assert not [r for r in rec.by_type("aws:sqs/queue:Queue") if r.name.endswith("-node-termination")]


def test_discovery_tags_on_private_subnets_and_the_node_security_group(rec):
    subnets = rec.by_type("aws:ec2/subnet:Subnet")
    for s in subnets:
        tier = s.inputs["tags"]["eks-platform/tier"]
        assert (s.inputs["tags"].get("karpenter.sh/discovery") == C) == (tier == "private"), s.name
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", f"{C}-nodes").inputs
    assert sg["tags"]["karpenter.sh/discovery"] == C


def test_outputs_name_every_backend(rec):
    ng = rec.outputs["nodeGroups"]
    assert ng["batch"]["kind"] == "karpenter" and ng["batch"]["nodePool"] == "batch"
    assert ng["jobs"]["kind"] == "fargate" and ng["jobs"]["profileName"].startswith(f"{C}-jobs-")
    assert ng["system"]["kind"] == "managed"


# ---------------------------------------------------------------------------------------
# Fargate
# ---------------------------------------------------------------------------------------
def test_fargate_profile_and_pod_execution_role(rec):
    p = rec.one("aws:eks/fargateProfile:FargateProfile", f"{C}-jobs")
    assert p.inputs["clusterName"] == C
    assert p.inputs["selectors"] == [{"namespace": "jobs"}, {"namespace": "reports", "labels": {"tier": "batch"}}]
    private = rec.outputs["privateSubnetIds"]
    assert p.inputs["subnetIds"] == private
    role = rec.one("aws:iam/role:Role", f"{C}-fargate")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    assert trust["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:eks:eu-west-1:111122223333:fargateprofile/{C}/*"}
    }
    att = rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{C}-fargate-execution").inputs
    assert att["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSFargatePodExecutionRolePolicy"
    assert p.inputs["podExecutionRoleArn"].startswith(f"arn:aws:iam::111122223333:role/{C}-fargate-")


def test_fargate_profiles_are_created_one_at_a_time():
    rec = run_main(
        minimal_config(
            nodeGroups={"system": SYSTEM_GROUP, "a": JOBS, "b": {"kind": "fargate", "selectors": [{"namespace": "b"}]}}
        )
    )
    a = rec.one("aws:eks/fargateProfile:FargateProfile", "eks-platform-test-a")
    b = rec.one("aws:eks/fargateProfile:FargateProfile", "eks-platform-test-b")
    assert a.urn in b.dependencies


# ---------------------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------------------
def refused(groups, **other):
    with pytest.raises(ConfigError) as err:
        load(minimal_config(nodeGroups={"system": SYSTEM_GROUP, **groups}, **other), stack="s", region="eu-west-1")
    return "\n".join(err.value.problems)


def test_karpenter_config_refusals():
    assert "needs exactly one of instanceTypes, instanceFamilies or instanceCategories" in refused(
        {"k": {"kind": "karpenter"}}
    )
    assert "(has instanceTypes and instanceFamilies)" in refused(
        {"k": {"kind": "karpenter", "instanceTypes": ["m7i.large"], "instanceFamilies": ["m7i"]}}
    )
    assert '"m99z" is not an EC2 instance family' in refused({"k": {"kind": "karpenter", "instanceFamilies": ["m99z"]}})
    assert '"q" is not an instance category' in refused({"k": {"kind": "karpenter", "instanceCategories": ["q"]}})
    assert '"lots" is not a Kubernetes quantity' in refused(
        {"k": {"kind": "karpenter", "instanceCategories": ["m"], "limits": {"cpu": "lots"}}}
    )
    assert '"2 weeks" is not a duration' in refused(
        {"k": {"kind": "karpenter", "instanceCategories": ["m"], "disruption": {"expireAfter": "2 weeks"}}}
    )
    assert "karpenter node groups need the Karpenter controller" in refused(
        {"k": {"kind": "karpenter", "instanceCategories": ["m"]}}, addons={"karpenter": {"enabled": False}}
    )


def test_karpenter_needs_a_system_group_to_run_on():
    with pytest.raises(ConfigError) as err:
        load(
            minimal_config(
                nodeGroups={"apps": {**SYSTEM_GROUP}, "k": {"kind": "karpenter", "instanceCategories": ["m"]}}
            ),
            stack="s",
            region="eu-west-1",
        )
    assert any("the controller must run on a managed or selfManaged system node group" in p for p in err.value.problems)


def test_fargate_config_refusals():
    text = refused(
        {
            "f": {
                "kind": "fargate",
                "selectors": [{"namespace": "Jobs"}],
                "instanceTypes": ["m7i.large"],
                "taints": [],
                "scaling": {"min": 1},
            }
        }
    )
    assert "nodeGroups.f.instanceTypes: does not apply to kind fargate" in text
    assert "nodeGroups.f.taints: does not apply to kind fargate" in text
    assert "nodeGroups.f.scaling: does not apply to kind fargate" in text
    assert '"Jobs" is not a namespace name' in text
    six = [{"namespace": f"n{i}"} for i in range(6)]
    assert "has 6 selectors; a Fargate profile allows 5" in refused({"f": {"kind": "fargate", "selectors": six}})
    labels = {f"l{i}": "v" for i in range(6)}
    assert "has 6 labels; a Fargate selector allows 5" in refused(
        {"f": {"kind": "fargate", "selectors": [{"namespace": "a", "labels": labels}]}}
    )


def test_pod_identity_is_refused_where_fargate_runs_every_pod():
    text = refused(
        {"f": JOBS},
        workloads={
            "identities": {
                "jobs": {
                    "namespace": "jobs",
                    "serviceAccount": "runner",
                    "policyArns": ["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"],
                }
            }
        },
    )
    assert "workloads.identities.jobs.mechanism: podIdentity does not work on Fargate" in text


def test_the_system_group_cannot_be_fargate_or_karpenter():
    text = refused({"f": JOBS}, addons={"systemNodeGroup": "f"})
    assert 'addons.systemNodeGroup: "f" is a fargate group' in text


def test_pure_ami_alias_and_requirements():
    assert km.ami_alias("1.35", "al2023", "x86_64") == "al2023@v20261105"
    assert km.ami_alias("1.35", "bottlerocket", "arm64") == "bottlerocket@v1.52.0"
    from components.config.nodegroups import KarpenterGroup

    g = config_model(
        KarpenterGroup, kind="karpenter", instanceTypes=["m7i.large", "c7i.large"], capacity={"type": "spot"}
    )
    g._name = "x"
    req = km.requirements(g)
    assert req[2] == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}
    assert req[3] == {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["c7i.large", "m7i.large"]}


def test_guardrails_pass_and_cover_the_node_classes(rec):
    from policies import guardrails as g

    resources = [g.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in rec.resources]
    assert [v for v in g.evaluate(resources, g.levels_for("dev")) if v.enforcement == g.MANDATORY] == []
    policy = next(p for p in g.POLICIES if p.name == "karpenter-node-class-imdsv2-encrypted")
    assert sum(1 for r in resources if r.type in policy.types) == 2


def test_pod_security_groups_need_branch_enis_on_karpenter_nodes_too():
    text = refused(
        {
            "a": {"kind": "karpenter", "instanceCategories": ["m", "t"]},
            "b": {"kind": "karpenter", "instanceFamilies": ["m7i", "t3"]},
            "c": {"kind": "karpenter", "instanceTypes": ["m4.large"]},
        },
        cluster={"access": {"adminRoleArns": [ADMIN]}, "addons": {"vpcCni": {"podSecurityGroups": {"enabled": True}}}},
    )
    assert 'nodeGroups.a.instanceCategories[1]: "t" is the burstable category' in text
    assert 'nodeGroups.b.instanceFamilies[1]: "t3" is a burstable (t family) type' in text
    assert 'nodeGroups.c.instanceTypes[0]: "m4.large" runs on the Xen hypervisor' in text


def test_fargate_may_not_take_the_platform_namespaces_whole():
    text = refused(
        {
            "f": {
                "kind": "fargate",
                "selectors": [
                    {"namespace": "kube-system"},
                    {"namespace": "kube-system", "labels": {"app": "x"}},
                    {"namespace": "external-dns"},
                ],
            }
        }
    )
    assert 'nodeGroups.f.selectors[0].namespace: "kube-system" holds the platform\'s add-ons' in text
    assert 'nodeGroups.f.selectors[2].namespace: "external-dns" holds' in text
    assert "selectors[1]" not in text


def test_custom_networking_reserves_the_primary_eni_for_karpenter():
    rec = run_main(
        minimal_config(
            network={"podCidr": "100.64.0.0/16"},
            nodeGroups={"system": SYSTEM_GROUP, "k": {"kind": "karpenter", "instanceCategories": ["m"]}},
        )
    )
    settings = rec.one("kubernetes:helm.sh/v3:Release", "eks-platform-test-karpenter").inputs["values"]["settings"]
    assert settings["reservedENIs"] == "1"


def test_a_karpenter_instance_carries_the_stack_tags_the_group_tag_and_six_of_karpenters():
    base = {f"t{i}": "x" for i in range(43)}
    assert nodetags.instance_tag_count(base) == 50  # the most EC2 allows: 43 + eks-platform/node-group + 6
    assert nodetags.instance_tag_count({**base, "one-more": "x"}) == 51
    assert nodetags.instance_tag_count({nodetags.GROUP_LABEL: "batch"}) == 7  # never counted twice


def test_controller_launches_from_shared_subnets_and_security_groups():
    """Upstream leaves the account open on subnets, security groups, capacity reservations and placement groups
    (shared from another account: a shared VPC); the platform does too, and pins it on what Karpenter itself makes."""
    from components.addons.karpenter import policy
    from components.context import AwsContext

    ctx = AwsContext(
        account_id="111122223333", partition="aws", region="eu-west-1", dns_suffix="amazonaws.com", tags={}
    )
    doc = policy(ctx, "c", "arn:aws:iam::111122223333:role/n", "arn:aws:sqs:eu-west-1:111122223333:q")
    shared = next(st for st in doc["Statement"] if st["Sid"] == "LaunchFromSharedResources")
    assert sorted(shared["Resource"]) == [
        "arn:aws:ec2:eu-west-1:*:capacity-reservation/*",
        "arn:aws:ec2:eu-west-1:*:placement-group/*",
        "arn:aws:ec2:eu-west-1:*:security-group/*",
        "arn:aws:ec2:eu-west-1:*:subnet/*",
        "arn:aws:ec2:eu-west-1::image/*",
        "arn:aws:ec2:eu-west-1::snapshot/*",
    ]
    own = next(st for st in doc["Statement"] if st["Sid"] == "LaunchFromOwnLaunchTemplates")
    assert own["Resource"] == ["arn:aws:ec2:eu-west-1:111122223333:launch-template/*"]
