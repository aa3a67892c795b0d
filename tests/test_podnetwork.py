"""Security groups for pods and custom networking (pod subnets from a secondary CIDR): decisions and the plan."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from components import podsecurity
from components.cluster import eni_config_spec, vpc_cni_configuration
from components.config import subnets
from components.config.cluster import VpcCni
from components.config.instances import branch_eni_problem
from components.config.workloads import PodSecurityGroup
from components.nodegroups.model import EniCapacity, group_max_pods, max_pods
from tests import crd_schemas
from tests.helpers import ADMIN, SYSTEM_GROUP, config_model, minimal_config, run_main
from tests.test_nodegroup_model import golden
from tools.mockcloud import MockCloud

# ---------------------------------------------------------------------------------------
# pod CIDR
# ---------------------------------------------------------------------------------------


def test_pod_ranges_follow_the_vpc_association_restrictions():
    assert [str(r) for r in subnets.pod_ranges("10.0.0.0/16")] == ["100.64.0.0/10", "198.19.0.0/16", "10.0.0.0/8"]
    assert [str(r) for r in subnets.pod_ranges("172.20.0.0/16")] == ["100.64.0.0/10", "198.19.0.0/16", "172.16.0.0/12"]
    # a primary CIDR in the shared address space may add neither RFC 1918 nor 198.19.0.0/16
    assert [str(r) for r in subnets.pod_ranges("100.80.0.0/16")] == ["100.64.0.0/10"]


@pytest.mark.parametrize(
    ("pod", "vpc", "fragment"),
    [
        ("100.64.0.0/16", "10.0.0.0/16", None),
        ("198.19.0.0/16", "10.0.0.0/16", None),
        ("10.1.0.0/16", "10.0.0.0/16", None),
        ("172.16.0.0/16", "10.0.0.0/16", "is not in 100.64.0.0/10 or 198.19.0.0/16 or 10.0.0.0/8"),
        ("8.8.0.0/16", "10.0.0.0/16", "is not in"),
        ("10.0.128.0/17", "10.0.0.0/16", 'overlaps network.cidr "10.0.0.0/16"'),
        ("100.64.0.0/15", "10.0.0.0/16", "prefix between /16 and /28"),
        ("100.64.0.0/27", "10.0.0.0/16", "too small to split into 4 availability-zone blocks"),
    ],
)
def test_pod_cidr_problems(pod, vpc, fragment):
    found = subnets.pod_cidr_problems(pod, vpc, 4)
    assert (found == []) if fragment is None else (len(found) == 1 and fragment in found[0])


def test_pod_subnets_take_one_zone_block_each():
    specs = subnets.pod_subnets("100.64.0.0/16", ("eu-west-1a", "eu-west-1b", "eu-west-1c"), 4)
    assert [(s.tier, s.zone, s.cidr) for s in specs] == [
        ("pod", "eu-west-1a", "100.64.0.0/18"),
        ("pod", "eu-west-1b", "100.64.64.0/18"),
        ("pod", "eu-west-1c", "100.64.128.0/18"),
    ]


@given(prefix=st.integers(16, 26), zones=st.integers(2, 4), max_azs=st.integers(4, 8))
def test_pod_subnets_are_disjoint_and_inside_the_pod_cidr(prefix, zones, max_azs):
    import ipaddress

    cidr = f"100.64.0.0/{prefix}"
    if subnets.pod_cidr_problems(cidr, "10.0.0.0/16", max_azs):
        return
    nets = [ipaddress.IPv4Network(s.cidr) for s in subnets.pod_subnets(cidr, [f"z{i}" for i in range(zones)], max_azs)]
    assert all(n.subnet_of(ipaddress.IPv4Network(cidr)) and n.prefixlen <= 28 for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


# ---------------------------------------------------------------------------------------
# the VPC CNI and max pods
# ---------------------------------------------------------------------------------------
def test_cni_configuration_without_the_features_sets_only_what_it_always_did():
    assert vpc_cni_configuration(VpcCni(), False) == {
        "enableNetworkPolicy": "true",
        "env": {"ENABLE_PREFIX_DELEGATION": "true"},
    }


def test_cni_configuration_for_branch_enis_and_custom_networking():
    cni = config_model(VpcCni, podSecurityGroups={"enabled": True, "enforcingMode": "standard"})
    values = vpc_cni_configuration(cni, True)
    assert values["env"] == {
        "ENABLE_PREFIX_DELEGATION": "true",
        "ENABLE_POD_ENI": "true",
        "POD_SECURITY_GROUP_ENFORCING_MODE": "standard",
        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
        "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
    }
    assert values["init"] == {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}}


M5_LARGE = EniCapacity("m5.large", enis=3, ips_per_eni=10, vcpus=2, nitro=True)
M5_24XLARGE = EniCapacity("m5.24xlarge", enis=15, ips_per_eni=50, vcpus=96, nitro=True)
M4_LARGE = EniCapacity("m4.large", enis=2, ips_per_eni=10, vcpus=2, nitro=False)


def test_max_pods_matches_the_eks_calculator():
    # EKS user guide: m5.large gets 29 pods, 20 with custom networking (the primary ENI carries none)
    assert max_pods(M5_LARGE, custom_networking=False, prefix_delegation=False) == 29
    assert max_pods(M5_LARGE, custom_networking=True, prefix_delegation=False) == 20
    # prefix delegation: (3 - 1) * 9 * 16 + 2 = 290, capped at 110 up to 30 vCPUs
    assert max_pods(M5_LARGE, custom_networking=True, prefix_delegation=True) == 110
    assert max_pods(M5_24XLARGE, custom_networking=True, prefix_delegation=True) == 250
    # 14 * 49 + 2 = 688 addresses, still capped at 250 (the calculator's recommendation, not its maximum)
    assert max_pods(M5_24XLARGE, custom_networking=True, prefix_delegation=False) == 250
    # no prefixes on Xen instances
    assert max_pods(M4_LARGE, custom_networking=True, prefix_delegation=True) == 11


def test_a_mixed_group_gets_its_smallest_types_limit():
    assert group_max_pods([M5_24XLARGE, M5_LARGE], custom_networking=True, prefix_delegation=False) == 20


@pytest.mark.parametrize(
    ("itype", "fragment"),
    [
        ("m7i.large", None),
        ("c7g.xlarge", None),
        ("i3.metal", None),
        ("t3.large", "burstable"),
        ("t4g.medium", "burstable"),
        ("m4.large", "Xen"),
        ("r4.xlarge", "Xen"),
    ],
)
def test_branch_eni_support(itype, fragment):
    found = branch_eni_problem(itype)
    assert (found is None) if fragment is None else fragment in found


# ---------------------------------------------------------------------------------------
# workload security groups
# ---------------------------------------------------------------------------------------
PAYMENTS = {
    "namespace": "payments",
    "podSelector": {"matchLabels": {"app": "api"}},
    "serviceAccountSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["payments"]}]},
    "ingress": [{"description": "from the frontend", "fromPort": 8080, "securityGroups": ["frontend"]}],
    "egress": [
        {"description": "PostgreSQL", "fromPort": 5432, "cidrs": ["10.0.64.0/24"]},
        {"description": "Kubernetes API", "fromPort": 443, "securityGroups": ["cluster"]},
    ],
}


def _group(**raw):
    return config_model(PodSecurityGroup, **raw)


def test_rules_add_probes_and_dns_and_mirror_rules_toward_the_cluster():
    got = [
        (r.target, r.direction, r.protocol, r.from_port, r.to_port, r.peer, r.description)
        for r in podsecurity.rules("payments", _group(**PAYMENTS), ("cluster",))
    ]
    assert got == [
        ("cluster", "ingress", "tcp", 443, 443, "payments", "Kubernetes API (from pods of security group payments)"),
        ("cluster", "ingress", "tcp", 53, 53, "payments", "DNS from pods of security group payments"),
        ("cluster", "ingress", "udp", 53, 53, "payments", "DNS from pods of security group payments"),
        ("payments", "egress", "tcp", 443, 443, "cluster", "Kubernetes API"),
        ("payments", "egress", "tcp", 53, 53, "cluster", "DNS to CoreDNS on managed nodes"),
        ("payments", "egress", "tcp", 5432, 5432, "10.0.64.0/24", "PostgreSQL"),
        ("payments", "egress", "udp", 53, 53, "cluster", "DNS to CoreDNS on managed nodes"),
        ("payments", "ingress", "tcp", 0, 65535, "cluster", "kubelet probes from managed nodes"),
        ("payments", "ingress", "tcp", 8080, 8080, "frontend", "from the frontend"),
    ]


def test_probe_ports_narrow_the_node_rules_and_self_managed_nodes_count():
    group = _group(**{**PAYMENTS, "probePorts": [8081], "egress": []})
    got = {(r.target, r.direction, r.from_port, r.peer) for r in podsecurity.rules("p", group, ("cluster", "nodes"))}
    assert ("p", "ingress", 8081, "cluster") in got and ("p", "ingress", 8081, "nodes") in got
    assert not any(d == "ingress" and lo == 0 for _, d, lo, _ in got)
    assert ("nodes", "ingress", 53, "p") in got


def test_rule_names_do_not_depend_on_order():
    a = _group(**PAYMENTS)
    b = _group(**{**PAYMENTS, "egress": list(reversed(PAYMENTS["egress"]))})
    assert [r.key for r in podsecurity.rules("p", a, ("cluster",))] == [
        r.key for r in podsecurity.rules("p", b, ("cluster",))
    ]


def test_security_group_policy_golden_and_valid_for_its_crd():
    manifest = podsecurity.policy("payments", _group(**PAYMENTS), "sg-0123456789abcdef0")
    assert crd_schemas.problems(crd_schemas.SECURITY_GROUP_POLICY_V1BETA1, manifest) == []
    golden("security-group-policy.yaml", yaml.safe_dump(manifest, sort_keys=True))


def test_eni_config_is_valid_for_its_crd():
    manifest = {
        "apiVersion": "crd.k8s.amazonaws.com/v1alpha1",
        "kind": "ENIConfig",
        "metadata": {"name": "eu-west-1a"},
        "spec": eni_config_spec("subnet-0123", "sg-0123"),
    }
    assert crd_schemas.problems(crd_schemas.ENI_CONFIG_V1ALPHA1, manifest) == []
    assert crd_schemas.problems(crd_schemas.ENI_CONFIG_V1ALPHA1, {**manifest, "spec": {}}) != []


# ---------------------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------------------
FRONTEND = {
    "namespace": "web",
    "podSelector": {"matchLabels": {"app": "frontend"}},
    "egress": [{"description": "to payments", "fromPort": 8080, "securityGroups": ["payments"]}],
}


@pytest.fixture(scope="module")
def rec():
    raw = minimal_config(
        cluster={
            "name": "blue",
            "access": {"adminRoleArns": [ADMIN]},
            "addons": {"vpcCni": {"podSecurityGroups": {"enabled": True}}},
        },
        network={"podCidr": "100.64.0.0/16"},
        nodeGroups={
            "system": SYSTEM_GROUP,
            "edge": {"kind": "selfManaged", "instanceTypes": ["m7i.large", "m5.large"]},
            "tuned": {"kind": "selfManaged", "instanceTypes": ["m7i.large"], "maxPods": 40, "os": "bottlerocket"},
        },
        workloads={"securityGroups": {"payments": PAYMENTS, "frontend": FRONTEND}},
    )
    return run_main(raw, stack="t")


def _id(record) -> str:
    """The id the mock cloud gives a resource (a pure function of its type and name)."""
    return MockCloud()._id(record.type, record.name)


def test_pod_cidr_is_associated_and_carved_into_routed_pod_subnets(rec):
    assoc = rec.one("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation", "blue-pod-cidr")
    assert assoc.inputs["cidrBlock"] == "100.64.0.0/16"
    pods = [r for r in rec.by_type("aws:ec2/subnet:Subnet") if r.name.startswith("blue-pod-")]
    assert sorted((r.name, r.inputs["cidrBlock"], r.inputs["availabilityZone"]) for r in pods) == [
        ("blue-pod-eu-west-1a", "100.64.0.0/18", "eu-west-1a"),
        ("blue-pod-eu-west-1b", "100.64.64.0/18", "eu-west-1b"),
    ]
    for subnet in pods:
        assert assoc.urn in subnet.dependencies
        assert "kubernetes.io/role/elb" not in subnet.inputs["tags"]
        assert "kubernetes.io/role/internal-elb" not in subnet.inputs["tags"]
        zone = subnet.inputs["availabilityZone"]
        route = rec.one("aws:ec2/routeTableAssociation:RouteTableAssociation", f"blue-pod-{zone}")
        private_rt = rec.one("aws:ec2/routeTable:RouteTable", f"blue-private-{zone}")
        assert route.inputs["routeTableId"] == _id(private_rt)
    assert rec.outputs["podSubnetIds"] == [_id(r) for r in sorted(pods, key=lambda r: r.name)]


def test_the_cni_add_on_really_gets_custom_networking_and_branch_enis(rec):
    # the child aws.eks.Addon of pulumi-eks' VpcCniAddon, after its own env is merged under ours
    addon = next(r for r in rec.by_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni")
    values = json.loads(addon.inputs["configurationValues"])
    assert values["env"]["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "true"
    assert values["env"]["ENI_CONFIG_LABEL_DEF"] == "topology.kubernetes.io/zone"
    assert values["env"]["ENABLE_POD_ENI"] == "true"
    assert values["env"]["POD_SECURITY_GROUP_ENFORCING_MODE"] == "strict"
    assert values["init"]["env"]["DISABLE_TCP_EARLY_DEMUX"] == "true"


def test_eni_configs_per_zone_exist_before_any_node_group(rec):
    configs = rec.by_type("kubernetes:crd.k8s.amazonaws.com/v1alpha1:ENIConfig")
    cluster_sg = rec.outputs["clusterSecurityGroupId"]
    subnets_by_zone = {
        r.inputs["availabilityZone"]: _id(r)
        for r in rec.by_type("aws:ec2/subnet:Subnet")
        if r.name.startswith("blue-pod-")
    }
    assert {c.inputs["metadata"]["name"]: c.inputs["spec"] for c in configs} == {
        zone: {"subnet": sid, "securityGroups": [cluster_sg]} for zone, sid in subnets_by_zone.items()
    }
    vpc_cni = rec.one("eks:index:VpcCniAddon", "blue-vpc-cni")
    for config in configs:
        assert vpc_cni.urn in config.dependencies
        assert crd_schemas.problems(crd_schemas.ENI_CONFIG_V1ALPHA1, config.inputs) == []
    groups = rec.by_type("aws:eks/nodeGroup:NodeGroup") + rec.by_type("aws:autoscaling/group:Group")
    assert len(groups) == 3
    for group in groups:
        assert {c.urn for c in configs} <= set(group.dependencies), group.name


def test_the_cluster_role_gets_the_vpc_resource_controller_policy(rec):
    attached = {
        r.inputs["policyArn"]
        for r in rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("blue-") and "cluster" in r.inputs["role"]
    }
    assert "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController" in attached


def _user_data(rec, name):
    lt = rec.one("aws:ec2/launchTemplate:LaunchTemplate", name)
    return base64.b64decode(lt.inputs["userData"]).decode()


def test_self_managed_max_pods_accounts_for_custom_networking(rec):
    # m5.large (the smaller type): (3 - 1) ENIs * 9 * 16 prefixes + 2 = 290, capped at 110 (2 vCPUs)
    text = _user_data(rec, "blue-edge")
    config = yaml.safe_load(text.split("---\n", 1)[1].split("\n--", 1)[0])
    assert config["spec"]["kubelet"]["config"] == {"maxPods": 110}
    # the group's own value wins
    assert "max-pods = 40" in _user_data(rec, "blue-tuned")


def test_workload_security_groups_and_policies(rec):
    sgs = {r.name: r for r in rec.by_type("aws:ec2/securityGroup:SecurityGroup") if r.name.startswith("blue-pods-")}
    assert sorted(sgs) == ["blue-pods-frontend", "blue-pods-payments"]
    assert (
        sgs["blue-pods-payments"].inputs["description"] == "Pods of workload security group payments (EKS cluster blue)"
    )
    assert "ingress" not in sgs["blue-pods-payments"].inputs  # rules are separate resources
    policies = {r.name: r.inputs for r in rec.by_type("kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy")}
    assert sorted(policies) == ["blue-pods-frontend", "blue-pods-payments"]
    payments = policies["blue-pods-payments"]
    assert payments["metadata"]["namespace"] == "payments"
    assert payments["spec"]["securityGroups"] == {"groupIds": [_id(sgs["blue-pods-payments"])]}
    assert crd_schemas.problems(crd_schemas.SECURITY_GROUP_POLICY_V1BETA1, payments) == []
    assert rec.outputs["podSecurityGroupIds"] == {k.removeprefix("blue-pods-"): _id(v) for k, v in sgs.items()}


def test_rules_reference_the_right_groups(rec):
    ids = {
        r.name.removeprefix("blue-pods-"): _id(r)
        for r in rec.by_type("aws:ec2/securityGroup:SecurityGroup")
        if r.name.startswith("blue-pods-")
    }
    rule = rec.one(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "blue-pods-payments-ingress-tcp-8080-8080-sg-frontend",
    )
    assert (rule.inputs["securityGroupId"], rule.inputs["referencedSecurityGroupId"]) == (
        ids["payments"],
        ids["frontend"],
    )
    # DNS from the pods into the self-managed node group's security group (CoreDNS may run there)
    node_sg = _id(rec.one("aws:ec2/securityGroup:SecurityGroup", "blue-nodes"))
    dns = rec.one(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "blue-pods-nodes-ingress-udp-53-53-sg-payments"
    )
    assert (dns.inputs["securityGroupId"], dns.inputs["referencedSecurityGroupId"]) == (node_sg, ids["payments"])
    every = rec.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert not any(r.inputs.get("cidrIpv4") == "0.0.0.0/0" for r in every if r.name.startswith("blue-pods-"))


def test_a_brought_vpc_names_eni_configs_after_its_pod_subnets_zones():
    raw = minimal_config(
        cluster={"access": {"adminRoleArns": [ADMIN]}, "controlPlaneSubnets": "private"},
        network={
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
                "podSubnetIds": ["subnet-0a23456789abcdef2", "subnet-0b23456789abcdef3"],
            }
        },
    )
    rec = run_main(raw, stack="byo")
    configs = rec.by_type("kubernetes:crd.k8s.amazonaws.com/v1alpha1:ENIConfig")
    assert sorted(c.inputs["spec"]["subnet"] for c in configs) == [
        "subnet-0a23456789abcdef2",
        "subnet-0b23456789abcdef3",
    ]
    assert all(c.inputs["metadata"]["name"].startswith("eu-west-1") for c in configs)
    assert not rec.by_type("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation")


def test_the_plan_prints_the_branch_eni_pod_density(rec):
    from tools.render import pod_density

    text = pod_density(rec)
    assert text is not None
    assert "  m7i.large              9" in text.splitlines()
    assert "  m5.large               9" in text.splitlines()


@pytest.mark.parametrize(
    ("itype", "expected"),
    [
        ("m7i.large", 9),
        ("c6g.xlarge", 18),
        ("r5d.2xlarge", 38),
        ("m6a.4xlarge", 54),
        ("c7i.medium", 4),
        ("m5zn.large", None),
        ("m7i.8xlarge", None),
        ("i4i.large", None),
    ],
)
def test_branch_enis_rule(itype, expected):
    from components.config.instances import branch_enis

    assert branch_enis(itype) == expected


def test_self_managed_max_pods_from_plan_time_instance_facts():
    """program.self_managed_max_pods: the smallest type of each group decides; no lookup without custom networking
    or where the group sets maxPods."""
    from types import SimpleNamespace

    from components.config import load
    from components.program import self_managed_max_pods

    facts = {"m7i.large": (3, 10, 2, "nitro"), "m5.large": (3, 10, 2, "nitro"), "m4.large": (2, 10, 2, "xen")}
    calls: list[str] = []

    def describe(itype: str):
        calls.append(itype)
        enis, ips, vcpus, hypervisor = facts[itype]
        return SimpleNamespace(
            maximum_network_interfaces=enis,
            maximum_ipv4_addresses_per_interface=ips,
            default_vcpus=vcpus,
            hypervisor=hypervisor,
        )

    groups = {
        "system": SYSTEM_GROUP,
        "a": {"kind": "selfManaged", "instanceTypes": ["m7i.large", "m4.large"]},
        "b": {"kind": "selfManaged", "instanceTypes": ["m7i.large"]},
        "own": {"kind": "selfManaged", "instanceTypes": ["m5.large"], "maxPods": 30},
    }
    custom = load(
        minimal_config(network={"podCidr": "100.64.0.0/16"}, nodeGroups=groups), stack="t", region="eu-west-1"
    )
    # m4.large (Xen, no prefixes): (2 - 1) ENIs * (10 - 1) + 2 = 11 pods; m7i.large with prefixes: 110
    assert self_managed_max_pods(custom, describe) == {"a": 11, "b": 110}
    assert sorted(calls) == ["m4.large", "m7i.large", "m7i.large"]  # memoized by instance_type_lookup, not here
    plain = load(minimal_config(nodeGroups=groups), stack="t", region="eu-west-1")
    calls.clear()
    assert self_managed_max_pods(plain, describe) == {} and calls == []


def test_instance_type_lookup_describes_each_type_once(monkeypatch):
    import pulumi_aws as aws

    from components.program import instance_type_lookup

    calls: list[str] = []
    monkeypatch.setattr(
        aws.ec2, "get_instance_type", lambda instance_type: calls.append(instance_type) or instance_type
    )
    describe = instance_type_lookup()
    assert [describe(t) for t in ("m7i.large", "m5.large", "m7i.large")] == ["m7i.large", "m5.large", "m7i.large"]
    assert calls == ["m7i.large", "m5.large"]


# ---------------------------------------------------------------------------------------
# load balancers reach pods on the pod subnets
# ---------------------------------------------------------------------------------------
LB = {
    "type": "network",
    "scheme": "internal",
    "listeners": [{"port": 443, "protocol": "TCP"}],
    "healthCheck": {"port": 9000},
}


def _egress(rec, lb_key: str) -> set[tuple[str, int]]:
    return {
        (r.inputs["cidrIpv4"], r.inputs["fromPort"])
        for r in rec.by_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        if r.name.startswith(f"blue-lb-{lb_key}-out-")
    }


@pytest.mark.parametrize(
    "network",
    [
        {"podCidr": "100.64.0.0/16"},
        {
            "existing": {
                "vpcId": "vpc-0123456789abcdef0",
                "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
                "publicSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
                "intraSubnetIds": ["subnet-0ccccccccccccccc1", "subnet-0ccccccccccccccc2"],
                "podSubnetIds": ["subnet-0ddddddddddddddd1", "subnet-0ddddddddddddddd2"],
            }
        },
    ],
    ids=["pod-cidr", "brought-pod-subnets"],
)
def test_ip_targets_under_custom_networking_are_reached_on_the_pod_cidrs(network):
    raw = minimal_config(
        cluster={"name": "blue", "access": {"adminRoleArns": [ADMIN]}},
        network=network,
        workloads={
            "loadBalancers": {
                "api": {**LB, "target": {"namespace": "shop", "service": "api", "port": 443, "targetPort": 8443}},
                "db": {
                    **LB,
                    "target": {
                        "namespace": "shop",
                        "service": "db",
                        "port": 5432,
                        "targetType": "instance",
                        "nodePort": 30432,
                    },
                },
            }
        },
    )
    rec = run_main(raw, stack="t")
    vpc = rec.outputs["vpcCidr"]
    pod_cidrs = (
        {"100.64.0.0/16"}
        if "podCidr" in network
        else {r for r in {c for c, _ in _egress(rec, "api")} if r.startswith("100.")}
    )
    assert len(pod_cidrs) == (1 if "podCidr" in network else 2)  # the brought subnets' own CIDRs
    # traffic and health-check ports, to the VPC (load balancer nodes' subnets) and to each pod CIDR
    assert _egress(rec, "api") == {(c, p) for c in {vpc, *pod_cidrs} for p in (8443, 9000)}
    # instance targets are the nodes' primary addresses: the VPC only
    assert _egress(rec, "db") == {(vpc, p) for p in (30432, 9000)}
