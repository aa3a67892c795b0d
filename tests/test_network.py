"""Network component: exact children, tags and routes for single and per-AZ NAT, and a brought VPC."""

import json

import pytest

from components import config as cfgmod
from components.context import AwsContext
from components.network import (
    Network,
    NetworkArgs,
    flow_log_policy,
    flow_log_trust_policy,
    nat_placement,
    subnet_tags,
)
from tests.helpers import minimal_config, run_components

CTX = AwsContext(account_id="111122223333", partition="aws", region="eu-west-1", tags={"team": "platform"})
ZONES3 = ("eu-west-1a", "eu-west-1b", "eu-west-1c")


def build_network(raw_network, zones=ZONES3):
    cfg = cfgmod.load(minimal_config(network=raw_network), stack="t", region="eu-west-1")
    holder = {}

    def program():
        holder["net"] = Network("net", NetworkArgs(config=cfg.network, zones=zones, cluster_name="c1", ctx=CTX))

    return run_components(program), holder


def names(rec, typ):
    return sorted(r.name for r in rec.by_type(typ))


def test_pure_nat_placement():
    assert nat_placement("single", ZONES3) == dict.fromkeys(ZONES3, "eu-west-1a")
    assert nat_placement("perAz", ZONES3) == {z: z for z in ZONES3}
    assert nat_placement("none", ZONES3) == {}


def test_pure_subnet_tags():
    assert subnet_tags("public", "c1") == {
        "eks-platform/tier": "public",
        "kubernetes.io/cluster/c1": "shared",
        "kubernetes.io/role/elb": "1",
    }
    assert subnet_tags("private", "c1")["kubernetes.io/role/internal-elb"] == "1"
    assert "kubernetes.io/role/elb" not in subnet_tags("intra", "c1")
    assert "kubernetes.io/role/internal-elb" not in subnet_tags("intra", "c1")


def test_single_nat_two_zones():
    rec, _ = build_network({"availabilityZones": 2, "natGateways": "single"}, zones=ZONES3[:2])
    comp = rec.one("eks-platform:network:Network", "net")
    assert all(c.parent == comp.urn for c in rec.resources if c is not comp)
    vpc = rec.one("aws:ec2/vpc:Vpc", "net-vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    assert names(rec, "aws:ec2/subnet:Subnet") == sorted(
        f"net-{t}-{z}" for t in ("public", "private", "intra") for z in ZONES3[:2]
    )
    assert names(rec, "aws:ec2/natGateway:NatGateway") == ["net-nat-eu-west-1a"]
    assert names(rec, "aws:ec2/eip:Eip") == ["net-nat-eu-west-1a"]
    assert len(rec.by_type("aws:ec2/routeTable:RouteTable")) == 6
    assert len(rec.by_type("aws:ec2/routeTableAssociation:RouteTableAssociation")) == 6
    nat = rec.one("aws:ec2/natGateway:NatGateway", "net-nat-eu-west-1a")
    public_a = rec.one("aws:ec2/subnet:Subnet", "net-public-eu-west-1a")
    assert public_a.urn in nat.dependencies
    # Both private route tables go through the one NAT gateway; intra has no route at all.
    routes = {r.name: r for r in rec.by_type("aws:ec2/route:Route")}
    assert sorted(routes) == sorted([f"net-{t}-{z}-default" for t in ("public", "private") for z in ZONES3[:2]])
    for z in ZONES3[:2]:
        assert nat.urn in routes[f"net-private-{z}-default"].dependencies
        assert routes[f"net-private-{z}-default"].inputs["destinationCidrBlock"] == "0.0.0.0/0"
        assert "gatewayId" in routes[f"net-public-{z}-default"].inputs
    assert not rec.by_type("aws:ec2/flowLog:FlowLog")
    assert not rec.by_type("aws:ec2/securityGroup:SecurityGroup")


def test_per_az_nat_routes_stay_in_their_zone():
    rec, _ = build_network({"availabilityZones": 3, "natGateways": "perAz"})
    assert names(rec, "aws:ec2/natGateway:NatGateway") == [f"net-nat-{z}" for z in ZONES3]
    for z in ZONES3:
        route = rec.one("aws:ec2/route:Route", f"net-private-{z}-default")
        nat = rec.one("aws:ec2/natGateway:NatGateway", f"net-nat-{z}")
        assert nat.urn in route.dependencies
        others = [rec.one("aws:ec2/natGateway:NatGateway", f"net-nat-{o}").urn for o in ZONES3 if o != z]
        assert not set(others) & set(route.dependencies)
        eip = rec.one("aws:ec2/eip:Eip", f"net-nat-{z}")
        assert eip.inputs["domain"] == "vpc"


def test_no_nat_means_no_private_default_route():
    rec, _ = build_network({"natGateways": "none"}, zones=ZONES3[:2])
    assert not rec.by_type("aws:ec2/natGateway:NatGateway")
    assert sorted(r.name for r in rec.by_type("aws:ec2/route:Route")) == [
        "net-public-eu-west-1a-default",
        "net-public-eu-west-1b-default",
    ]


def test_subnet_tags_and_user_tags_on_everything_taggable():
    rec, _ = build_network({"availabilityZones": 3})
    for r in rec.resources:
        if r.custom and r.type not in ("aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/route:Route"):
            assert r.inputs["tags"]["team"] == "platform", r.name
            assert r.inputs["tags"]["Name"] == r.name, r.name
    pub = rec.one("aws:ec2/subnet:Subnet", "net-public-eu-west-1b")
    assert pub.inputs["tags"]["kubernetes.io/role/elb"] == "1"
    assert pub.inputs["tags"]["kubernetes.io/cluster/c1"] == "shared"
    assert pub.inputs["cidrBlock"] == "10.0.96.0/22"
    assert pub.inputs["mapPublicIpOnLaunch"] is False
    priv = rec.one("aws:ec2/subnet:Subnet", "net-private-eu-west-1c")
    assert priv.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
    assert priv.inputs["cidrBlock"] == "10.0.128.0/19"


def test_default_security_group_is_locked_down():
    rec, _ = build_network({})
    sg = rec.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "net-default-sg")
    assert sg.inputs.get("ingress", []) == [] and sg.inputs.get("egress", []) == []


def test_endpoints_and_flow_logs():
    rec, _ = build_network(
        {
            "availabilityZones": 3,
            "natGateways": "perAz",
            "endpoints": {"s3Gateway": True, "interface": ["sts", "ecr.api"]},
            "flowLogs": {"enabled": True, "retentionDays": 365, "trafficType": "REJECT"},
        }
    )
    s3 = rec.one("aws:ec2/vpcEndpoint:VpcEndpoint", "net-s3")
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    assert s3.inputs["serviceName"] == "com.amazonaws.eu-west-1.s3"
    assert len(s3.inputs["routeTableIds"]) == 6  # private + intra of 3 zones
    for svc in ("sts", "ecr-api"):
        ep = rec.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"net-{svc}")
        assert ep.inputs["vpcEndpointType"] == "Interface"
        assert ep.inputs["privateDnsEnabled"] is True
        assert len(ep.inputs["subnetIds"]) == 3
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", "net-endpoints")
    (rule,) = sg.inputs["ingress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"], rule["cidrBlocks"]) == (
        "tcp",
        443,
        443,
        ["10.0.0.0/16"],
    )
    assert sg.inputs["egress"] == []
    group = rec.one("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
    assert group.inputs["retentionInDays"] == 365
    assert group.inputs["name"] == "/aws/vpc/c1/flow-logs"
    fl = rec.one("aws:ec2/flowLog:FlowLog", "net-flow-logs")
    assert fl.inputs["trafficType"] == "REJECT"
    assert fl.inputs["logDestination"].endswith(":log-group:/aws/vpc/c1/flow-logs")
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy", "net-flow-logs").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/c1/flow-logs",
        "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/c1/flow-logs:log-stream:*",
    ]


def test_flow_log_policies_are_scoped():
    trust = json.loads(flow_log_trust_policy(CTX))["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "111122223333"}
    doc = json.loads(flow_log_policy("arn:aws:logs:r:1:log-group:g"))["Statement"][0]
    assert "*" not in doc["Resource"]


def test_bring_your_own_vpc_creates_nothing_and_returns_the_same_outputs():
    existing = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
        "publicSubnetIds": ["subnet-0000000000000000c"],
        "intraSubnetIds": ["subnet-0000000000000000d", "subnet-0000000000000000e"],
    }
    rec, holder = build_network({"existing": existing}, zones=())
    assert [r.type for r in rec.resources] == ["eks-platform:network:Network"]
    net = holder["net"]
    assert net.zones == ()
    assert "aws:ec2/getVpc:getVpc" in rec.invokes


@pytest.mark.parametrize("mode,expected", [("single", 1), ("perAz", 3), ("none", 0)])
def test_nat_count_by_mode(mode, expected):
    rec, _ = build_network({"availabilityZones": 3, "natGateways": mode})
    assert len(rec.by_type("aws:ec2/natGateway:NatGateway")) == expected
    assert len(rec.by_type("aws:ec2/eip:Eip")) == expected
