"""The decisive inputs in the plan's tree (issue 32): one table, ``tools/facts.py`` SHOWN, per resource type."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ROOT
from tools import facts, plan

FULL = ROOT / "tests" / "data" / "stacks" / "Pulumi.full.yaml"

# What a reviewer checks per kind of resource (issue 32, item 2): the table must have an entry for each.
REVIEWED = {
    "kubernetes:karpenter.sh/v1:NodePool",
    "aws:eks/fargateProfile:FargateProfile",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/listener:Listener",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:ec2/launchTemplate:LaunchTemplate",
}


@pytest.fixture(scope="module")
def full():
    return plan.run(FULL, "full")


def line(rec, typ: str, name: str) -> str:
    return facts.facts(rec.one(typ, name))


def test_the_table_covers_what_reviewers_check():
    assert sorted(REVIEWED - set(facts.SHOWN)) == []


def test_scheduling_karpenter_requirements_limits_and_fargate_selectors(dev, full):
    assert line(dev, "kubernetes:karpenter.sh/v1:NodePool", "eks-platform-dev-karpenter-batch-pool") == (
        "  [requires=arch in arm64; os in linux; capacity-type in on-demand,spot; instance-category in c,m,r; "
        "instance-generation > 6 limits=cpu=64,memory=256Gi]"
    )
    assert (
        line(full, "aws:eks/fargateProfile:FargateProfile", "full-jobs")
        == "  [selectors=jobs,reports{runtime=fargate}]"
    )


def test_exposure_scheme_listeners_certificates_and_rules(prod):
    assert line(prod, "aws:lb/loadBalancer:LoadBalancer", "eks-platform-prod-lb-web") == (
        "  [type=application scheme=internet-facing deletionProtection=True]"
    )
    assert line(prod, "aws:lb/listener:Listener", "eks-platform-prod-lb-web-https-443") == (
        "  [listen=HTTPS:443 tls=ELBSecurityPolicy-TLS13-1-2-2021-06 cert=0b6c1f7e-3d2a-4e5f-9a8b-7c6d5e4f3a2b "
        "action=forward]"
    )
    assert (
        line(
            prod,
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "eks-platform-prod-cluster-https-from-vpc",
        )
        == "  [proto=tcp ports=443 peer=10.0.0.0/16]"
    )


def test_permissions_policies_trusts_and_access_scope(prod, full):
    assert line(prod, "aws:iam/rolePolicy:RolePolicy", "eks-platform-prod-dns-role-route53") == (
        "  [allow=route53:ChangeResourceRecordSets on route53:hostedzone/Z0PROD123456789+cond "
        "allow=route53:{ListResourceRecordSets,ListTagsForResource,ListTagsForResources} on "
        "route53:hostedzone/Z0PROD123456789 allow=route53:ListHostedZones on *]"
    )
    big = line(prod, "aws:iam/rolePolicy:RolePolicy", "eks-platform-prod-lbc-role-load-balancing")
    assert big.startswith("  [allow=acm:2 cognito-idp:1 ec2:22 elasticloadbalancing:40 ") and " cond=9/17]" in big
    assert line(prod, "aws:iam/role:Role", "eks-platform-prod-flow-logs") == (
        "  [trusts=vpc-flow-logs.amazonaws.com+cond]"
    )
    assert line(full, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "full-access-orders-team") == (
        "  [policy=AmazonEKSEditPolicy scope=namespaces:orders,orders-*]"
    )


def test_policy_short_forms():
    assert facts.short_action_set(["ec2:DescribeVpcs", "ec2:CreateTags", "sqs:SendMessage"]) == (
        "ec2:{CreateTags,DescribeVpcs} sqs:SendMessage"
    )
    doc = {"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]}
    assert facts._policy({"policy": json.dumps(doc)}) == [("deny", "s3:* on s3:b/*")]
    assert facts._policy({"policy": "not json"}) == []


def test_every_line_of_the_tree_is_one_line(prod):
    assert all("\n" not in facts.facts(r) for r in prod.resources)
