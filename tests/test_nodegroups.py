"""Node-group components in the dev and prod plans: exact children and security-relevant inputs."""

import base64
import email
import json
import re
import tomllib

import yaml

from components.context import AwsContext
from components.nodegroups.termination import event_patterns, queue_policy
from tests.helpers import SYSTEM_GROUP, minimal_config, run_main

LT = "aws:ec2/launchTemplate:LaunchTemplate"
ASG = "aws:autoscaling/group:Group"


def lt(rec, name):
    return rec.one(LT, name).inputs


def test_prod_has_the_three_classes(prod):
    comps = {(r.type.rsplit(":", 1)[-1], r.name) for r in prod.resources if not r.custom}
    assert ("ManagedNodeGroup", "eks-platform-prod-system") in comps
    assert ("SelfManagedNodeGroup", "eks-platform-prod-workers") in comps
    assert ("SelfManagedNodeGroup", "eks-platform-prod-edge") in comps
    assert ("TerminationQueue", "eks-platform-prod-node-termination") in comps
    assert ("NodeSecurityGroup", "eks-platform-prod-nodes") in comps

    def kids(n):
        return sorted(
            (r.type, r.name) for r in prod.children(prod.one("eks-platform:nodegroups:SelfManagedNodeGroup", n))
        )

    assert kids("eks-platform-prod-workers") == sorted(
        [
            (LT, "eks-platform-prod-workers"),
            (ASG, "eks-platform-prod-workers"),
            ("aws:autoscaling/lifecycleHook:LifecycleHook", "eks-platform-prod-workers-terminating"),
        ]
    )
    assert kids("eks-platform-prod-edge") == sorted(
        [
            (LT, "eks-platform-prod-edge"),
            (ASG, "eks-platform-prod-edge"),
            ("aws:autoscaling/lifecycleHook:LifecycleHook", "eks-platform-prod-edge-terminating"),
        ]
    )


def test_launch_templates_require_imdsv2_and_encrypt(prod):
    # hop limit 1 on every class unless its config says why (pods never reach the node's credentials)
    for name, hop in (("eks-platform-prod-system", 1), ("eks-platform-prod-workers", 1), ("eks-platform-prod-edge", 1)):
        i = lt(prod, name)
        assert i["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": hop,
            "instanceMetadataTags": "disabled",
        }
        (bdm,) = i["blockDeviceMappings"]
        assert bdm["ebs"]["encrypted"] == "true" and bdm["ebs"]["volumeType"] == "gp3"
        assert [t["resourceType"] for t in i["tagSpecifications"]] == ["instance", "volume", "network-interface"]
    assert lt(prod, "eks-platform-prod-edge")["blockDeviceMappings"][0]["deviceName"] == "/dev/xvdb"
    assert lt(prod, "eks-platform-prod-workers")["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 100


def test_managed_launch_template_leaves_bootstrap_to_eks(prod):
    i = lt(prod, "eks-platform-prod-system")
    assert "imageId" not in i and "userData" not in i and "iamInstanceProfile" not in i
    assert i["vpcSecurityGroupIds"] == [prod.outputs["clusterSecurityGroupId"]]


def test_managed_node_group(prod):
    ng = prod.one("aws:eks/nodeGroup:NodeGroup", "eks-platform-prod-system")
    i = ng.inputs
    # No fixed name: the provider autonames it, so a replacement can create the new group first.
    assert "nodeGroupName" not in i
    assert re.fullmatch(r"eks-platform-prod-system-[0-9a-f]{7}", prod.outputs["nodeGroups"]["system"]["nodeGroupName"])
    assert i["amiType"] == "AL2023_x86_64_STANDARD"
    assert i["capacityType"] == "ON_DEMAND"
    assert i["instanceTypes"] == ["m7i.large"]
    assert i["scalingConfig"] == {"desiredSize": 3, "maxSize": 6, "minSize": 3}
    assert i["labels"] == {"eks-platform/node-group": "system", "node-role": "system"}
    assert i["taints"] == [{"effect": "NO_SCHEDULE", "key": "CriticalAddonsOnly", "value": "true"}]
    assert i["updateConfig"] == {"maxUnavailable": 1}
    assert i["launchTemplate"]["id"] == prod.outputs["nodeGroups"]["system"]["launchTemplateId"]
    assert ng.ignore_changes == ["scalingConfig.desiredSize"]
    assert len(i["subnetIds"]) == 3 and set(i["subnetIds"]) == set(prod.outputs["privateSubnetIds"])
    # The node prerequisite is the VPC CNI's Pod Identity association; the DaemonSet add-ons come up beside it.
    deps = set(ng.dependencies)
    assert prod.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "eks-platform-prod-vpc-cni").urn in deps
    assert not {a.urn for a in prod.by_type("aws:eks/addon:Addon")} & deps


def test_managed_group_ca_tags_and_stack_tags_go_on_its_asg(prod):
    tags = {r.inputs["tag"]["key"]: r.inputs for r in prod.by_type("aws:autoscaling/tag:Tag")}
    asg = prod.outputs["nodeGroups"]["system"]["asgName"]
    assert tags["k8s.io/cluster-autoscaler/node-template/taint/CriticalAddonsOnly"]["tag"]["value"] == "true:NoSchedule"
    assert tags["k8s.io/cluster-autoscaler/node-template/label/node-role"]["tag"]["value"] == "system"
    assert all(t["autoscalingGroupName"] == asg for t in tags.values())
    template = {k: t for k, t in tags.items() if "/node-template/" in k}
    assert all(t["tag"]["propagateAtLaunch"] is False for t in template.values())
    # The stack's own tags reach the instances from the ASG, propagated at launch, not from the launch template.
    stack = {k: t for k, t in tags.items() if "/node-template/" not in k}
    assert {k: t["tag"]["value"] for k, t in stack.items()} == {"cost-center": "platform", "environment": "prod"}
    assert all(t["tag"]["propagateAtLaunch"] is True for t in stack.values())


def test_launch_templates_carry_only_identity_tags(prod):
    for lt in prod.by_type("aws:ec2/launchTemplate:LaunchTemplate"):
        for spec in lt.inputs["tagSpecifications"]:
            assert "cost-center" not in spec["tags"] and "environment" not in spec["tags"], lt.name
            assert spec["tags"]["eks-platform/stack"] == "prod"


def test_self_managed_asg(prod):
    asg = prod.one(ASG, "eks-platform-prod-workers")
    i = asg.inputs
    assert asg.ignore_changes == ["desiredCapacity"]
    assert i["name"] == "eks-platform-prod-workers"
    assert (i["minSize"], i["desiredCapacity"], i["maxSize"]) == (2, 2, 30)
    assert i["capacityRebalance"] is True
    mip = i["mixedInstancesPolicy"]
    assert mip["instancesDistribution"] == {
        "onDemandAllocationStrategy": "prioritized",
        "onDemandBaseCapacity": 2,
        "onDemandPercentageAboveBaseCapacity": 25,
        "spotAllocationStrategy": "price-capacity-optimized",
    }
    assert [o["instanceType"] for o in mip["launchTemplate"]["overrides"]] == [
        "m7i.xlarge",
        "m6i.xlarge",
        "m6a.xlarge",
        "m7a.xlarge",
    ]
    assert (
        mip["launchTemplate"]["launchTemplateSpecification"]["launchTemplateId"]
        == prod.outputs["nodeGroups"]["workers"]["launchTemplateId"]
    )
    assert i["instanceRefresh"]["strategy"] == "Rolling"
    tags = {t["key"]: t for t in i["tags"]}
    assert tags["aws-node-termination-handler/managed"]["propagateAtLaunch"] is True
    assert tags["k8s.io/cluster-autoscaler/enabled"] == {
        "key": "k8s.io/cluster-autoscaler/enabled",
        "propagateAtLaunch": False,
        "value": "true",
    }
    assert tags["k8s.io/cluster-autoscaler/eks-platform-prod"]["value"] == "owned"
    assert tags["kubernetes.io/cluster/eks-platform-prod"] == {
        "key": "kubernetes.io/cluster/eks-platform-prod",
        "propagateAtLaunch": True,
        "value": "owned",
    }
    edge = {t["key"]: t["value"] for t in prod.one(ASG, "eks-platform-prod-edge").inputs["tags"]}
    assert edge["k8s.io/cluster-autoscaler/node-template/taint/node-role"] == "edge:NoSchedule"
    assert prod.one(ASG, "eks-platform-prod-edge").inputs["capacityRebalance"] is False


def test_lifecycle_hook(prod):
    hook = prod.one("aws:autoscaling/lifecycleHook:LifecycleHook", "eks-platform-prod-workers-terminating").inputs
    assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hook["defaultResult"] == "CONTINUE"
    assert hook["heartbeatTimeout"] == 300
    assert hook["autoscalingGroupName"] == "eks-platform-prod-workers"


def test_user_data_decodes_to_the_groups_labels_and_taints(prod):
    workers = base64.b64decode(lt(prod, "eks-platform-prod-workers")["userData"]).decode()
    (part,) = email.message_from_string(workers).get_payload()
    doc = yaml.safe_load(part.get_payload())
    assert doc["spec"]["cluster"]["name"] == "eks-platform-prod"
    assert doc["spec"]["cluster"]["apiServerEndpoint"] == prod.outputs["clusterEndpoint"]
    assert doc["spec"]["cluster"]["certificateAuthority"] == prod.outputs["clusterCertificateAuthority"]
    assert doc["spec"]["kubelet"]["flags"] == ["--node-labels=eks-platform/node-group=workers,node-role=worker"]
    edge = tomllib.loads(base64.b64decode(lt(prod, "eks-platform-prod-edge")["userData"]).decode())
    assert edge["settings"]["kubernetes"]["node-taints"] == {"node-role": "edge:NoSchedule"}
    assert edge["settings"]["kubernetes"]["node-labels"]["node-role"] == "edge"
    assert lt(prod, "eks-platform-prod-edge")["imageId"].startswith("ami-")
    assert "aws:ssm/getParameter:getParameter" in prod.invokes


def test_node_roles_and_access_entries(prod):
    for role in ("eks-platform-prod-self-managed-nodes", "eks-platform-prod-system-nodes"):
        trust = json.loads(prod.one("aws:iam/role:Role", role).inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "ec2.amazonaws.com"}
        attached = sorted(
            r.inputs["policyArn"].rsplit("/", 1)[1]
            for r in prod.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if r.name.startswith(role + "-")
        )
        # no AmazonSSMManagedInstanceCore (ssm:GetParameter(s) on *): Session Manager is opt-in (ssm: true)
        assert attached == ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy"]
        assert not [r for r in prod.by_type("aws:iam/rolePolicy:RolePolicy") if r.name == f"{role}-session-manager"]
    entries = {r.name: r.inputs for r in prod.by_type("aws:eks/accessEntry:AccessEntry")}
    assert entries["eks-platform-prod-self-managed-nodes"]["type"] == "EC2_LINUX"
    # EKS creates the entry of a managed group's role itself; a second one would conflict.
    assert "eks-platform-prod-system-nodes" not in entries
    asg = prod.one(ASG, "eks-platform-prod-workers")
    assert prod.one("aws:eks/accessEntry:AccessEntry", "eks-platform-prod-self-managed-nodes").urn in asg.dependencies


def test_node_security_group_rules(prod):
    rules = {
        r.name.removeprefix("eks-platform-prod-nodes-"): r.inputs
        for r in prod.resources
        if r.type.startswith("aws:vpc/securityGroup") and r.name.startswith("eks-platform-prod-nodes-")
    }
    assert set(rules) == {"nodes-from-nodes", "nodes-from-cluster", "cluster-from-nodes", "nodes-egress"}
    cluster_sg = prod.outputs["clusterSecurityGroupId"]
    nodes_sg = prod.one("aws:ec2/securityGroup:SecurityGroup", "eks-platform-prod-nodes")
    # All traffic, both ways, between the node kinds (as EKS allows among managed nodes): any port, TCP and UDP.
    assert rules["nodes-from-cluster"]["ipProtocol"] == rules["cluster-from-nodes"]["ipProtocol"] == "-1"
    assert rules["nodes-from-cluster"]["referencedSecurityGroupId"] == cluster_sg
    assert rules["cluster-from-nodes"]["securityGroupId"] == cluster_sg
    assert (
        nodes_sg.urn
        in prod.one(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "eks-platform-prod-nodes-cluster-from-nodes"
        ).dependencies
    )
    assert rules["nodes-from-nodes"]["ipProtocol"] == "-1"
    assert all("fromPort" not in v for v in rules.values())
    assert rules["nodes-egress"]["cidrIpv4"] == "0.0.0.0/0"
    assert all("cidrIpv4" not in v for k, v in rules.items() if k != "nodes-egress")
    # NodePorts are opened by the load balancer controller from the load balancers' own security groups (a
    # TargetGroupBinding's networking section), never to a network
    assert not [
        r.name
        for r in prod.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if "cidrIpv4" in r.inputs and r.inputs.get("toPort", 0) >= 30000 and r.inputs.get("fromPort", 0) <= 32767
    ]


def test_termination_infrastructure(prod):
    q = prod.one("aws:sqs/queue:Queue", "eks-platform-prod-node-termination").inputs
    assert q["sqsManagedSseEnabled"] is True
    rules = {
        r.name.rsplit("termination-", 1)[1]: json.loads(r.inputs["eventPattern"])
        for r in prod.by_type("aws:cloudwatch/eventRule:EventRule")
        if "-node-termination-" in r.name
    }
    assert set(rules) == {"asg-terminate", "spot-interruption", "rebalance", "state-change", "scheduled-change"}
    assert rules["asg-terminate"]["detail"]["AutoScalingGroupName"] == [
        "eks-platform-prod-edge",
        "eks-platform-prod-workers",
    ]
    targets = [t for t in prod.by_type("aws:cloudwatch/eventTarget:EventTarget") if "-node-termination-" in t.name]
    assert len(targets) == 5 and {t.inputs["arn"] for t in targets} == {
        "arn:aws:sqs:eu-west-1:111122223333:eks-platform-prod-node-termination"
    }
    assert prod.outputs["terminationQueueUrl"].endswith("/eks-platform-prod-node-termination")
    policy = json.loads(queue_policy("arn:q", AwsContext("1", "aws", "r")))["Statement"][0]
    assert policy["Principal"]["Service"] == ["events.amazonaws.com", "sqs.amazonaws.com"]
    assert policy["Action"] == "sqs:SendMessage" and policy["Resource"] == "arn:q"
    assert event_patterns(["b", "a"])["asg-terminate"]["detail"]["AutoScalingGroupName"] == ["a", "b"]


def test_coredns_waits_for_the_system_group_only(prod):
    coredns = prod.one("aws:eks/addon:Addon", "eks-platform-prod-coredns")
    # depends_on a component means every resource in it: the node group is among the dependencies.
    assert prod.one("aws:eks/nodeGroup:NodeGroup", "eks-platform-prod-system").urn in coredns.dependencies
    assert prod.one(ASG, "eks-platform-prod-workers").urn not in coredns.dependencies


def test_managed_only_stack_has_no_termination_queue():
    rec = run_main(minimal_config())
    assert not rec.by_type("aws:sqs/queue:Queue")
    assert not rec.by_type("eks-platform:nodegroups:NodeSecurityGroup")
    assert rec.outputs["terminationQueueUrl"] is None


def test_spot_managed_group_and_dedicated_role_with_extra_policy():
    rec = run_main(
        minimal_config(
            nodeGroups={
                "batch": {
                    "kind": "managed",
                    "os": "bottlerocket",
                    "architecture": "arm64",
                    "instanceTypes": ["m7g.large", "m6g.large"],
                    "capacity": {"type": "spot"},
                    "scaling": {"min": 0, "max": 5},
                    "iam": {"dedicatedRole": True, "extraPolicyArns": ["arn:aws:iam::111122223333:policy/batch-s3"]},
                }
            }
        )
    )
    ng = rec.one("aws:eks/nodeGroup:NodeGroup", "eks-platform-test-batch").inputs
    assert (ng["capacityType"], ng["amiType"]) == ("SPOT", "BOTTLEROCKET_ARM_64")
    assert ng["scalingConfig"] == {"desiredSize": 0, "maxSize": 5, "minSize": 0}
    att = rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "eks-platform-test-batch-nodes-batch-s3")
    assert att.inputs["policyArn"] == "arn:aws:iam::111122223333:policy/batch-s3"


def test_pinned_ami_skips_the_ssm_lookup():
    rec = run_main(
        minimal_config(
            nodeGroups={"w": {"kind": "selfManaged", "instanceTypes": ["m7i.large"], "amiId": "ami-0123456789abcdef0"}}
        )
    )
    assert rec.one(LT, "eks-platform-test-w").inputs["imageId"] == "ami-0123456789abcdef0"
    assert "aws:ssm/getParameter:getParameter" not in rec.invokes


def test_nodes_wait_for_their_way_out(prod):
    """Nodes must not boot before their private subnets route out (NAT) and the endpoints exist."""
    for typ, name in (
        ("aws:eks/nodeGroup:NodeGroup", "eks-platform-prod-system"),
        (ASG, "eks-platform-prod-workers"),
        (ASG, "eks-platform-prod-edge"),
    ):
        deps = set(prod.one(typ, name).dependencies)
        for zone in ("eu-west-1a", "eu-west-1b", "eu-west-1c"):
            assert prod.one("aws:ec2/route:Route", f"eks-platform-prod-private-{zone}-default").urn in deps
        assert prod.one("aws:ec2/vpcEndpoint:VpcEndpoint", "eks-platform-prod-ecr-dkr").urn in deps


def test_session_manager_is_opt_in_with_its_channel_actions_only():
    raw = minimal_config(
        nodeGroups={
            "system": {
                **SYSTEM_GROUP,
                "ssm": True,
                "iam": {"dedicatedRole": True},
                "imds": {"hopLimit": 2, "reason": "a node agent reads instance tags"},
            }
        }
    )
    rec = run_main(raw)
    policy = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "eks-platform-test-system-nodes-session-manager").inputs["policy"]
    )
    assert [a for st in policy["Statement"] for a in st["Action"] if not a.startswith("ssmmessages:")] == [
        "ssm:UpdateInstanceInformation"
    ]
    lt_ = rec.one("aws:ec2/launchTemplate:LaunchTemplate", "eks-platform-test-system").inputs
    assert lt_["metadataOptions"]["httpPutResponseHopLimit"] == 2
    # the opt-in travels with the template, so the guardrail tells it from a regression
    assert lt_["tags"]["eks-platform/imds-hop-limit-reason"] == "a node agent reads instance tags"
    from policies import guardrails as g

    resources = [g.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in rec.resources]
    assert [v for v in g.evaluate(resources) if v.policy == "imds-hop-limit"] == []


def test_extra_ingress_gets_a_security_group_of_its_own():
    raw = minimal_config(
        nodeGroups={
            "system": SYSTEM_GROUP,
            "edge": {
                "kind": "selfManaged",
                "instanceTypes": ["c7i.large"],
                "extraIngress": [
                    {"protocol": "tcp", "fromPort": 8443, "cidrs": ["10.9.0.0/16"], "description": "the partners proxy"}
                ],
            },
        }
    )
    rec = run_main(raw)
    rule = rec.one(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "eks-platform-test-edge-extra-tcp-8443-8443-10.9.0.0-16",
    ).inputs
    assert (rule["fromPort"], rule["toPort"], rule["cidrIpv4"]) == (8443, 8443, "10.9.0.0/16")
    sg = rec.one("aws:ec2/securityGroup:SecurityGroup", "eks-platform-test-edge-extra")
    assert sg.urn in rec.one(LT, "eks-platform-test-edge").dependencies
