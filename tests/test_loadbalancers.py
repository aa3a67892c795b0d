"""Platform-owned load balancers bound to Services (workloads.loadBalancers): config, decisions, the plan."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import loadbalancers as lbs
from components import names
from components.config import ConfigError, load
from components.config.workloads import LoadBalancer
from components.names import LIMITS, load_balancer_names
from tests import crd_schemas
from tests.helpers import config_model, minimal_config

CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/0b6c1f7e-3d2a-4e5f-9a8b-7c6d5e4f3a2b"
ALB = {
    "type": "application",
    "scheme": "internet-facing",
    "allowedCidrs": ["0.0.0.0/0"],
    "listeners": [{"port": 443, "protocol": "HTTPS", "certificateArn": CERT}],
    "target": {"namespace": "shop", "service": "web", "port": 80, "targetPort": 8080},
}
NLB = {
    "type": "network",
    "listeners": [{"port": 5432, "protocol": "TCP"}],
    "target": {"namespace": "db", "service": "pg", "port": 5432, "targetType": "instance", "nodePort": 30432},
}


def lb(**raw) -> LoadBalancer:
    return config_model(LoadBalancer, **raw)


def problems_of(**workloads) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(minimal_config(workloads=workloads), stack="test", region="eu-west-1")
    return err.value.problems


# ---------------------------------------------------------------------------------------
# decisions
# ---------------------------------------------------------------------------------------
def test_ports_open_exactly_the_listeners_and_the_targets():
    alb = lb(**ALB)
    assert alb.ingress_ports == (("tcp", 80), ("tcp", 443))  # 80: the redirect to HTTPS
    assert alb.target_ports == (("tcp", 8080),)
    nlb = lb(**NLB)
    assert nlb.ingress_ports == (("tcp", 5432),)
    assert nlb.target_ports == (("tcp", 30432),)  # instance targets: the Service's nodePort
    udp = lb(
        **{
            **NLB,
            "listeners": [{"port": 53, "protocol": "TCP_UDP"}],
            "target": {"namespace": "dns", "service": "dns", "port": 53},
            "healthCheck": {"port": 8181},
        }
    )
    assert udp.target_protocol == "TCP_UDP"
    assert udp.ingress_ports == (("tcp", 53), ("udp", 53))
    assert udp.target_ports == (("tcp", 53), ("udp", 53), ("tcp", 8181))


def test_health_check_defaults_per_type():
    assert lbs.health_check(lb(**ALB)) == {
        "enabled": True,
        "protocol": "HTTP",
        "port": "traffic-port",
        "path": "/",
        "matcher": "200-399",
        "interval": 15,
        "timeout": 5,
        "healthy_threshold": 3,
        "unhealthy_threshold": 3,
    }
    tcp = lbs.health_check(lb(**NLB))
    assert tcp["protocol"] == "TCP" and "path" not in tcp and "matcher" not in tcp


def test_binding_is_valid_against_the_crd_and_opens_only_the_target_port():
    for raw in (ALB, NLB):
        manifest = lbs.binding_manifest("web", lb(**raw), "arn:tg", "sg-1", "vpc-1")
        assert crd_schemas.problems(crd_schemas.TARGET_GROUP_BINDING_V1BETA1, manifest) == []
    spec = lbs.binding_manifest("web", lb(**ALB), "arn:tg", "sg-1", "vpc-1")["spec"]
    assert spec["serviceRef"] == {"name": "web", "port": 80}
    assert spec["networking"] == {
        "ingress": [{"from": [{"securityGroup": {"groupID": "sg-1"}}], "ports": [{"protocol": "TCP", "port": 8080}]}]
    }
    bad = {**spec, "targetType": "pod", "serviceRef": {"name": "web"}}
    assert crd_schemas.problems(
        crd_schemas.TARGET_GROUP_BINDING_V1BETA1, {**lbs.binding_manifest("web", lb(**ALB), "a", "b", "c"), "spec": bad}
    ) == ["spec.serviceRef: 'port' is a required property", "spec.targetType: 'pod' is not one of ['instance', 'ip']"]


def test_names_change_only_with_what_replaces_the_resource():
    base = lb(**ALB)
    lb_name, tg_name = load_balancer_names("c", "web", base)
    assert lb_name.startswith("c-web-") and len(lb_name) == len("c-web-") + 6
    same = lb(**{**ALB, "allowedCidrs": ["192.0.2.0/24"], "healthCheck": {"path": "/h"}})
    assert load_balancer_names("c", "web", same) == (lb_name, tg_name)
    internal = lb(**{**ALB, "scheme": "internal", "allowedCidrs": [], "listeners": [{"port": 80, "protocol": "HTTP"}]})
    assert load_balancer_names("c", "web", internal)[0] != lb_name  # internal is ForceNew: a new name
    moved = lb(**{**ALB, "target": {**ALB["target"], "targetPort": 9090}})
    assert load_balancer_names("c", "web", moved) == (lb_name, load_balancer_names("c", "web", moved)[1])
    assert load_balancer_names("c", "web", moved)[1] != tg_name  # port is ForceNew on a target group


@settings(max_examples=60, deadline=None)
@given(
    cluster=st.from_regex(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", fullmatch=True),
    key=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True),
)
def test_accepted_names_always_fit_elbv2(cluster, key):
    """Whatever cluster name and key config accepts, the names AWS receives are valid ELBv2 names."""
    raw = minimal_config(
        cluster={"name": cluster, "access": {"adminRoleArns": ["arn:aws:iam::111122223333:role/a"]}},
        workloads={"loadBalancers": {key: ALB}},
    )
    cfg = load(raw, stack="test", region="eu-west-1")
    for name in load_balancer_names(cfg.cluster.name, key, cfg.workloads.load_balancers[key]):
        assert len(name) <= LIMITS["aws:lb/loadBalancer:LoadBalancer"].max_len
        assert re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", name), name
        assert not name.startswith("internal-")


# ---------------------------------------------------------------------------------------
# bad input (each is also a bad-config case; these pin the exact lines)
# ---------------------------------------------------------------------------------------
def test_bad_load_balancers_get_one_line_each():
    assert problems_of(
        loadBalancers={
            "plain": {**ALB, "listeners": [{"port": 80, "protocol": "HTTP"}, {"port": 443, "protocol": "TCP"}]},
            "inside": {**NLB, "allowedCidrs": ["0.0.0.0/0"]},
            "nodns": {**NLB, "dns": {"name": "db.example.com"}},
        }
    ) == [
        'workloads.loadBalancers.plain.listeners[0].protocol: "HTTP": an internet-facing load balancer listens with '
        "TLS only (HTTPS; port 80 redirects to it)",
        'workloads.loadBalancers.plain.listeners[1].protocol: "TCP" is not a protocol of an application load '
        "balancer (HTTP, HTTPS)",
        "workloads.loadBalancers.plain.httpRedirect: port 80 is a listener of its own; turn httpRedirect off or "
        "move that listener",
        'workloads.loadBalancers.inside.allowedCidrs[0]: "0.0.0.0/0" opens an internal load balancer to every '
        "network; list the networks that reach it",
        "workloads.loadBalancers.nodns.dns.zoneId: is required",
    ]


def test_names_over_the_elbv2_limit_are_shortened_not_refused():
    base = lb(**ALB)
    short = load_balancer_names("eks-platform-test", "web", base)
    assert short[0] == f"eks-platform-test-web-{names.digest(base.type, base.scheme)}"  # fits: as before
    long_lb, long_tg = load_balancer_names("eks-platform-test", "a-rather-long-balancer", base)
    assert len(long_lb) == len(long_tg) == 32 and long_lb != long_tg
    assert long_lb.startswith("eks-plat") and "long-balancer" in long_lb


def test_load_balancers_need_the_controller():
    raw = minimal_config(
        workloads={"loadBalancers": {"web": ALB}}, addons={"awsLoadBalancerController": {"enabled": False}}
    )
    with pytest.raises(ConfigError) as err:
        load(raw, stack="test", region="eu-west-1")
    assert err.value.problems == [
        "workloads.loadBalancers.web: its TargetGroupBinding needs the AWS Load Balancer "
        "Controller (addons.awsLoadBalancerController.enabled is false)"
    ]


# ---------------------------------------------------------------------------------------
# the plan (prod: an internet-facing ALB "web" and an internal NLB "ledger" with instance targets)
# ---------------------------------------------------------------------------------------
def children(rec, key):
    parent = rec.one("eks-platform:workloads:LoadBalancer", f"eks-platform-prod-lb-{key}")
    return {(c.type, c.name): c for c in rec.children(parent)}


def test_internet_facing_alb_children(prod):
    kids = children(prod, "web")
    p = "eks-platform-prod-lb-web"
    assert set(kids) == {
        ("aws:ec2/securityGroup:SecurityGroup", f"{p}-sg"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"{p}-in-tcp-80-0"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"{p}-in-tcp-443-0"),
        ("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", f"{p}-out-tcp-8080"),
        ("aws:lb/loadBalancer:LoadBalancer", p),
        ("aws:lb/targetGroup:TargetGroup", f"{p}-tg"),
        ("aws:lb/listener:Listener", f"{p}-https-443"),
        ("aws:lb/listener:Listener", f"{p}-http-redirect"),
        ("aws:route53/record:Record", f"{p}-dns"),
        ("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", f"{p}-binding"),
    }
    # ForceNew: stays the same when the hashed load-balancer name changes
    assert (
        kids[("aws:ec2/securityGroup:SecurityGroup", f"{p}-sg")].inputs["description"]
        == "Load balancer web of EKS cluster eks-platform-prod"
    )
    balancer = kids[("aws:lb/loadBalancer:LoadBalancer", p)].inputs
    assert balancer["internal"] is False and balancer["loadBalancerType"] == "application"
    assert balancer["enableDeletionProtection"] is True  # prod is protected
    assert balancer["dropInvalidHeaderFields"] is True
    assert balancer["subnets"] == prod.outputs["publicSubnetIds"]
    assert balancer["tags"]["eks-platform/load-balancer"] == "web"
    https = kids[("aws:lb/listener:Listener", f"{p}-https-443")].inputs
    assert https["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06" and https["certificateArn"].startswith(
        "arn:aws:acm:"
    )
    redirect = kids[("aws:lb/listener:Listener", f"{p}-http-redirect")].inputs
    assert redirect["defaultActions"] == [
        {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}}
    ]
    tg = kids[("aws:lb/targetGroup:TargetGroup", f"{p}-tg")].inputs
    assert (tg["port"], tg["protocol"], tg["targetType"]) == (8080, "HTTP", "ip")
    assert tg["healthCheck"]["path"] == "/healthz"
    record = kids[("aws:route53/record:Record", f"{p}-dns")].inputs
    assert record["type"] == "A" and record["zoneId"] == "Z0PROD123456789" and record["name"] == "shop.example.com"
    assert record["aliases"][0]["evaluateTargetHealth"] is True
    assert record["aliases"][0]["name"].endswith(".eu-west-1.elb.amazonaws.com")


def test_security_group_rules_on_both_sides(prod):
    kids = children(prod, "ledger")
    p = "eks-platform-prod-lb-ledger"
    ingress = sorted(
        (r.inputs["cidrIpv4"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"])
        for (t, _), r in kids.items()
        if t.endswith("SecurityGroupIngressRule")
    )
    assert ingress == [("10.0.0.0/16", 5432, 5432, "tcp"), ("10.20.0.0/16", 5432, 5432, "tcp")]
    egress = [r.inputs for (t, _), r in kids.items() if t.endswith("SecurityGroupEgressRule")]
    assert [(e["cidrIpv4"], e["fromPort"], e["toPort"]) for e in egress] == [(prod.outputs["vpcCidr"], 30432, 30432)]
    sg_id = prod.outputs["loadBalancers"]["ledger"]["securityGroupId"]
    binding = kids[("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", f"{p}-binding")]
    # The target side: the controller opens the nodePort from the load balancer's group, nothing else.
    assert binding.inputs["spec"]["networking"] == {
        "ingress": [{"from": [{"securityGroup": {"groupID": sg_id}}], "ports": [{"protocol": "TCP", "port": 30432}]}]
    }
    balancer = kids[("aws:lb/loadBalancer:LoadBalancer", p)].inputs
    assert balancer["internal"] is True and balancer["subnets"] == prod.outputs["privateSubnetIds"]
    assert balancer["securityGroups"] == [sg_id]


def test_binding_object_and_options(prod):
    p = "eks-platform-prod-lb-ledger"
    binding = children(prod, "ledger")[("kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding", f"{p}-binding")]
    manifest = {k: binding.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
    assert crd_schemas.problems(crd_schemas.TARGET_GROUP_BINDING_V1BETA1, manifest) == []
    assert manifest["metadata"]["name"] == "ledger" and manifest["metadata"]["namespace"] == "ledger"
    out = prod.outputs["loadBalancers"]["ledger"]
    assert manifest["spec"]["targetGroupARN"] == out["targetGroupArn"]
    assert manifest["spec"]["vpcID"] == prod.outputs["vpcId"]
    assert binding.delete_before_replace
    assert binding.replace_on_changes == ["spec.targetGroupARN", "spec.targetType"]
    controller = prod.one(
        "eks-platform:addons:LoadBalancerController", "eks-platform-prod-aws-load-balancer-controller"
    )
    release = [c for c in prod.children(controller) if c.type == "kubernetes:helm.sh/v3:Release"]
    assert len(release) == 1 and release[0].urn in binding.dependencies  # the CRD and webhook exist first


def test_outputs_per_load_balancer(prod):
    out = prod.outputs["loadBalancers"]
    assert set(out) == {"web", "ledger"}
    for o in out.values():
        assert set(o) == {"dnsName", "arn", "name", "targetGroupArn", "securityGroupId", "fqdn"}
        assert o["arn"].startswith("arn:aws:elasticloadbalancing:eu-west-1:") and f"/{o['name']}/" in o["arn"]
        assert ":targetgroup/" in o["targetGroupArn"]
        assert len(o["name"]) <= 32
    assert out["web"]["fqdn"] == "shop.example.com" and out["ledger"]["fqdn"] is None
    assert out["ledger"]["dnsName"].startswith("internal-")
