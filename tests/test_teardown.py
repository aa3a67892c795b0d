"""tools/teardown.py against moto (AWS) and a fake Kubernetes API that plays the Load Balancer Controller."""

from __future__ import annotations

import datetime
import subprocess

import boto3
import pytest
from moto import mock_aws

from tests.fake_kube import FakeKube
from tests.helpers import ROOT, stack_names, stack_recording
from tools import plan, stackconfig, teardown

REGION = "eu-west-1"
# One session and one client per service for the whole module (a client costs its service model);
# moto intercepts every client made after it is imported, inside a mock_aws context.
SESSION = teardown.Aws(boto3.Session(region_name=REGION))
SESSION.client = SESSION  # the tool asks a session for .client(service)
OLD = "2026-11-01T00:00:00Z"


class Cloud:
    """One VPC with an EKS cluster per stack, and what the controllers created for its applications."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self.ec2 = SESSION.client("ec2")
        self.elbv2 = SESSION.client("elbv2")
        self.elb = SESSION.client("elb")
        self.vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = [
            self.ec2.create_subnet(VpcId=self.vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
                "Subnet"
            ]["SubnetId"]
            for i, z in enumerate("ab")
        ]
        SESSION.client("eks").create_cluster(
            name=cluster, roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": self.subnets}
        )

    def tags(self, **extra: str) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in {teardown.LBC_CLUSTER_TAG: self.cluster, **extra}.items()]

    def controller_made(self, stack_tag: str, stack: str, name: str, cluster: str | None = None) -> str:
        """A load balancer, target group and security group the controller made for ``stack``."""
        tags = [{"Key": teardown.LBC_CLUSTER_TAG, "Value": cluster or self.cluster}, {"Key": stack_tag, "Value": stack}]
        sg = self.ec2.create_security_group(
            GroupName=f"k8s-{name}",
            Description="managed LB SG",
            VpcId=self.vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
        )
        lb = self.elbv2.create_load_balancer(Name=f"k8s-{name}", Subnets=self.subnets, Type="network", Tags=tags)[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        self.elbv2.create_target_group(
            Name=f"k8s-{name}-tg", Protocol="TCP", Port=80, VpcId=self.vpc, TargetType="ip", Tags=tags
        )
        return lb + "|" + sg["GroupId"]

    def controller_deletes(self, kind: str, namespace: str, name: str) -> None:
        """What the Load Balancer Controller does when a Service or Ingress goes."""
        key = {"Service": "service.k8s.aws/stack", "Ingress": "ingress.k8s.aws/stack"}.get(kind)
        if key is None:
            return

        def mine(arns):
            return [
                a
                for a, tags in teardown._tags_by_resource(self.elbv2, arns).items()
                if {"Key": key, "Value": f"{namespace}/{name}"} in [{"Key": k, "Value": v} for k, v in tags.items()]
            ]

        for arn in mine([lb["LoadBalancerArn"] for lb in self.elbv2.describe_load_balancers()["LoadBalancers"]]):
            self.elbv2.delete_load_balancer(LoadBalancerArn=arn)
        for arn in mine([tg["TargetGroupArn"] for tg in self.elbv2.describe_target_groups()["TargetGroups"]]):
            self.elbv2.delete_target_group(TargetGroupArn=arn)
        for sg in self.ec2.describe_security_groups(
            Filters=[{"Name": f"tag:{key}", "Values": [f"{namespace}/{name}"]}]
        )["SecurityGroups"]:
            self.ec2.delete_security_group(GroupId=sg["GroupId"])

    def cni_eni(self, created_at: str | None, cluster: str | None = None) -> str:
        tags = [{"Key": teardown.CNI_CLUSTER_TAG, "Value": cluster or self.cluster}]
        if created_at:
            tags.append({"Key": teardown.CNI_CREATED_AT_TAG, "Value": created_at})
        return self.ec2.create_network_interface(
            SubnetId=self.subnets[0],
            Description="aws-K8S-i-0123456789abcdef0",
            TagSpecifications=[{"ResourceType": "network-interface", "Tags": tags}],
        )["NetworkInterface"]["NetworkInterfaceId"]

    def karpenter_node(self, pool: str, cluster: str | None = None) -> str:
        """An instance Karpenter launched for NodePool ``pool``."""
        tags = [
            {"Key": teardown.KARPENTER_NODEPOOL_TAG, "Value": pool},
            {"Key": f"kubernetes.io/cluster/{cluster or self.cluster}", "Value": "owned"},
        ]
        return self.ec2.run_instances(
            ImageId="ami-12345678",
            MinCount=1,
            MaxCount=1,
            InstanceType="m7g.large",
            SubnetId=self.subnets[0],
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )["Instances"][0]["InstanceId"]

    def running(self) -> set[str]:
        return {
            i["InstanceId"]
            for r in self.ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
            if i["State"]["Name"] not in ("terminated", "shutting-down")
        }

    def karpenter_deletes(self, kind: str, namespace: str, name: str) -> None:
        """What Karpenter (and the Load Balancer Controller) do when an object goes: a NodePool's nodes end."""
        if kind != "NodePool":
            return self.controller_deletes(kind, namespace, name)
        ids = [
            i["InstanceId"]
            for r in self.ec2.describe_instances(
                Filters=[
                    {"Name": f"tag:{teardown.KARPENTER_NODEPOOL_TAG}", "Values": [name]},
                    {"Name": f"tag:kubernetes.io/cluster/{self.cluster}", "Values": ["owned"]},
                ]
            )["Reservations"]
            for i in r["Instances"]
        ]
        if ids:
            self.ec2.terminate_instances(InstanceIds=ids)
        return None

    def load_balancer_names(self) -> set[str]:
        return {lb["LoadBalancerName"] for lb in self.elbv2.describe_load_balancers()["LoadBalancers"]}

    def enis(self) -> set[str]:
        return {e["NetworkInterfaceId"] for e in self.ec2.describe_network_interfaces()["NetworkInterfaces"]}


@pytest.fixture(autouse=True)
def cached_plans(monkeypatch):
    # the protected resources come from the real plan of the stack; reuse the session's plans
    for stack in stack_names():
        stack_recording(stack)
    monkeypatch.setattr(plan, "run", lambda path, stack, root=ROOT: stack_recording(stack))


@pytest.fixture
def aws(monkeypatch):
    # moto's EC2 otherwise loads thousands of public AMIs per backend; none is used here
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield


def populate(cloud: Cloud, kube: FakeKube) -> dict[str, str]:
    kube.add("Service", "shop", "web", type="LoadBalancer")
    kube.add("Service", "shop", "internal", type="ClusterIP")
    kube.add("Ingress", "shop", "api", ingressClassName="alb")
    kube.add("TargetGroupBinding", "shop", "legacy", serviceRef={"name": "internal", "port": 80})
    return {
        "web": cloud.controller_made("service.k8s.aws/stack", "shop/web", "shop-web"),
        "api": cloud.controller_made("ingress.k8s.aws/stack", "shop/api", "shop-api"),
        "other": cloud.controller_made("service.k8s.aws/stack", "x/y", "other-cluster", cluster="someone-else"),
        "leaked": cloud.cni_eni(OLD),
        "young": cloud.cni_eni(datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        "foreign": cloud.cni_eni(OLD, cluster="someone-else"),
    }


class Pulumi:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, cmd: list[str], **_: object) -> subprocess.CompletedProcess:
        self.calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0)


def test_dry_run_lists_everything_and_deletes_nothing(aws, capsys):
    cloud = Cloud("eks-platform-dev")
    with FakeKube(on_delete=cloud.controller_deletes) as kube:
        made = populate(cloud, kube)
        pulumi = Pulumi()
        assert teardown.main(["dev"], session=SESSION, api_client=kube.client(), run=pulumi) == 0
        assert kube.deleted == [] and pulumi.calls == []
    out = capsys.readouterr().out
    assert (
        "Kubernetes objects that own AWS resources (3):\n  Ingress shop/api\n  Service shop/web\n"
        "  TargetGroupBinding shop/legacy\n" in out
    )
    assert "(2 load balancers, 2 target groups, 2 security groups, 1 network interface)" in out
    assert "k8s-other-cluster" not in out and made["foreign"] not in out and made["young"] not in out
    assert f"network interface {made['leaked']}: leaked by the VPC CNI (available)" in out
    assert "protected (pulumi protect): 0" in out
    assert out.rstrip().endswith("dry run: nothing was deleted (run with --execute)")
    assert cloud.load_balancer_names() == {"k8s-shop-web", "k8s-shop-api", "k8s-other-cluster"}


def test_execute_deletes_the_objects_waits_for_the_controller_then_destroys(aws, capsys):
    cloud = Cloud("eks-platform-dev")
    with FakeKube(on_delete=cloud.controller_deletes, controller_delay=0.3) as kube:
        made = populate(cloud, kube)
        pulumi = Pulumi()
        code = teardown.main(
            ["dev", "--execute", "--interval", "0.1", "--timeout", "20"],
            session=SESSION,
            api_client=kube.client(),
            run=pulumi,
        )
        assert code == 0
        # Ingresses and Services first, bindings last; the ClusterIP Service stays
        assert kube.deleted == [
            ("Ingress", "shop", "api"),
            ("Service", "shop", "web"),
            ("TargetGroupBinding", "shop", "legacy"),
        ]
        assert ("Service", "shop", "internal") in kube.objects
    out = capsys.readouterr().out
    assert "waiting for the controllers" in out  # the controller took its time, and progress was shown
    assert "no Karpenter instance, load balancer, target group, security group or network interface is left" in out
    assert cloud.load_balancer_names() == {"k8s-other-cluster"}  # another cluster's stays
    assert made["leaked"] not in cloud.enis() and {made["young"], made["foreign"]} <= cloud.enis()
    assert pulumi.calls == [["pulumi", "--cwd", str(ROOT), "destroy", "--yes", "--stack", "dev"]]


def test_a_protected_stack_is_refused_before_anything_is_deleted(aws, capsys):
    cloud = Cloud("eks-platform-prod")
    with FakeKube(on_delete=cloud.controller_deletes) as kube:
        populate(cloud, kube)
        pulumi = Pulumi()
        assert teardown.main(["prod", "--execute"], session=SESSION, api_client=kube.client(), run=pulumi) == 1
        assert kube.deleted == [] and pulumi.calls == []
    out, err = capsys.readouterr()
    assert (
        "protected (pulumi protect): 2\n  aws:eks/cluster:Cluster eks-platform-prod-cluster\n"
        "  aws:kms/key:Key eks-platform-prod-secrets" in out
    )
    assert "has protected resources (listed above); nothing was deleted" in err and "--allow-protected" in err
    assert len(cloud.load_balancer_names()) == 3


def test_allow_protected_unprotects_then_destroys(aws):
    cloud = Cloud("eks-platform-prod")
    with FakeKube(on_delete=cloud.controller_deletes) as kube:
        populate(cloud, kube)
        pulumi = Pulumi()
        assert (
            teardown.main(
                ["prod", "--execute", "--allow-protected", "--interval", "0.05"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 0
        )
    base = ["pulumi", "--cwd", str(ROOT)]
    assert pulumi.calls == [
        [*base, "state", "unprotect", "--all", "--yes", "--stack", "prod"],
        [*base, "destroy", "--yes", "--stack", "prod"],
    ]


def platform_owned(cloud: Cloud, stack: str) -> dict[str, str]:
    """The stack's workloads.loadBalancers as `pulumi up` made them: named by the program, deletion protection on,
    not tagged for the controller; and their TargetGroupBindings."""
    from components.names import load_balancer_names

    cfg = stackconfig.platform_config(stack)
    out = {}
    for key, lb in cfg.workloads.load_balancers.items():
        name = load_balancer_names(cfg.cluster.name, key, lb)[0]
        arn = cloud.elbv2.create_load_balancer(Name=name, Subnets=cloud.subnets, Type=lb.type)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        cloud.elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
        )
        out[name] = arn
    return out


def test_platform_owned_load_balancers_lose_deletion_protection_only_when_allowed(aws, capsys):
    cloud = Cloud("eks-platform-prod")
    with FakeKube(on_delete=cloud.controller_deletes) as kube:
        populate(cloud, kube)
        kube.add("TargetGroupBinding", "ledger", "ledger", serviceRef={"name": "ledger-db", "port": 5432})
        owned = platform_owned(cloud, "prod")
        assert len(owned) == 2
        pulumi = Pulumi()
        assert (
            teardown.main(
                ["prod", "--execute", "--interval", "0.05"], session=SESSION, api_client=kube.client(), run=pulumi
            )
            == 1
        )
        assert kube.deleted == [] and pulumi.calls == []
        out = capsys.readouterr().out
        assert "load balancers with deletion protection on: 2" in out
        assert all(f"  {name}" in out for name in owned)
        # they are the program's, not the controller's: never counted as leftovers to wait for
        assert not any(f"load balancer {name}" in out for name in owned)
        assert (
            teardown.main(
                ["prod", "--execute", "--allow-protected", "--interval", "0.05"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 0
        )
        assert ("TargetGroupBinding", "ledger", "ledger") in kube.deleted  # before pulumi destroy
    for arn in owned.values():
        attributes = cloud.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
        assert {"Key": "deletion_protection.enabled", "Value": "false"} in attributes
    assert pulumi.calls[-1] == ["pulumi", "--cwd", str(ROOT), "destroy", "--yes", "--stack", "prod"]


def test_a_missing_controller_times_out_with_what_is_left(aws, capsys):
    cloud = Cloud("eks-platform-dev")
    with FakeKube(on_delete=None) as kube:  # nothing deletes the load balancers
        populate(cloud, kube)
        pulumi = Pulumi()
        assert (
            teardown.main(
                ["dev", "--execute", "--interval", "0.05", "--timeout", "0.2"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 1
        )
        assert pulumi.calls == []
    err = capsys.readouterr().err
    assert "still there after the deadline" in err and "load balancer k8s-shop-web" in err
    assert "--delete-leftovers" in err


def test_delete_leftovers_removes_them_through_the_aws_api(aws, capsys):
    cloud = Cloud("eks-platform-dev")
    with FakeKube(on_delete=None) as kube:
        populate(cloud, kube)
        pulumi = Pulumi()
        assert (
            teardown.main(
                ["dev", "--execute", "--delete-leftovers", "--interval", "0.05", "--timeout", "0.2"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 0
        )
    assert cloud.load_balancer_names() == {"k8s-other-cluster"}
    assert {tg["TargetGroupName"] for tg in cloud.elbv2.describe_target_groups()["TargetGroups"]} == {
        "k8s-other-cluster-tg"
    }
    assert "deleted security group k8s-shop-web" in capsys.readouterr().out
    assert pulumi.calls[-1][-3:] == ["--yes", "--stack", "dev"]


def test_no_cluster_means_no_kubernetes_but_leftovers_still_count(aws, capsys):
    cloud = Cloud("not-this-one")  # the stack's cluster does not exist
    cloud.cluster = "eks-platform-dev"
    cloud.controller_made("service.k8s.aws/stack", "shop/web", "orphan")
    pulumi = Pulumi()
    # api_client None: touching Kubernetes would fail
    assert teardown.main(["dev"], session=SESSION, run=pulumi) == 0
    out = capsys.readouterr().out
    assert "cluster eks-platform-dev (does not exist: nothing in Kubernetes to delete)" in out
    assert "load balancer k8s-orphan" in out


def test_a_missing_target_group_binding_crd_means_none():
    with FakeKube(crd_installed=False) as kube:
        kube.add("Service", "a", "b", type="LoadBalancer")
        assert teardown.cluster_objects(kube.client()) == [teardown.KubeObject("Service", "a", "b")]


def test_invalid_config_exits_2(capsys):
    assert teardown.main(["nope"]) == 2
    assert "Pulumi.nope.yaml: cannot be read" in capsys.readouterr().err


def test_leaked_eni_rule_is_the_cnis():
    now = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=datetime.UTC)

    def eni(status="available", description="aws-K8S-i-1", created=None):
        tags = [{"Key": teardown.CNI_CREATED_AT_TAG, "Value": created}] if created else []
        return {"Status": status, "Description": description, "TagSet": tags}

    assert teardown.leaked_cni(eni(created="2026-11-22T11:54:59Z"), now)
    assert not teardown.leaked_cni(eni(created="2026-11-22T11:55:01Z"), now)  # cooldown: 5 minutes
    assert not teardown.leaked_cni(eni(status="in-use", created="2026-11-01T00:00:00Z"), now)
    assert not teardown.leaked_cni(eni(description="Interface for NAT Gateway"), now)
    assert teardown.leaked_cni(eni(), now)  # untimed: ipamd would tag and delete it


def test_elb_interfaces_are_recognised_by_their_description():
    names = ["k8s-shop-web"]
    assert teardown.elb_interface_of("ELB net/k8s-shop-web/0123456789abcdef", names)
    assert teardown.elb_interface_of("ELB app/k8s-shop-web/0123456789abcdef", names)
    assert teardown.elb_interface_of("ELB k8s-shop-web", names)
    assert not teardown.elb_interface_of("ELB net/k8s-shop-web2/0123", names)
    assert not teardown.elb_interface_of("aws-K8S-i-1", names)


def test_karpenter_nodes_are_listed_and_their_node_pools_deleted_last(aws, capsys):
    cloud = Cloud("eks-platform-dev")
    with FakeKube(on_delete=cloud.karpenter_deletes, controller_delay=0.2) as kube:
        populate(cloud, kube)
        kube.add("NodePool", "", "batch")
        mine = cloud.karpenter_node("batch")
        other = cloud.karpenter_node("batch", cluster="someone-else")
        assert teardown.main(["dev"], session=SESSION, api_client=kube.client(), run=Pulumi()) == 0
        out = capsys.readouterr().out
        assert "  NodePool batch\n" in out and f"instance {mine} (Karpenter, NodePool batch)" in out
        assert other not in out and "1 Karpenter instance" in out
        pulumi = Pulumi()
        assert (
            teardown.main(
                ["dev", "--execute", "--interval", "0.1", "--timeout", "20"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 0
        )
        assert kube.deleted[-1] == ("NodePool", "", "batch")  # after the load balancers' objects
    assert mine not in cloud.running() and other in cloud.running()
    assert pulumi.calls[-1][-3:] == ["--yes", "--stack", "dev"]


def test_karpenter_nodes_without_their_controller_are_terminated_with_delete_leftovers(aws, capsys):
    cloud = Cloud("eks-platform-dev")
    iam = SESSION.client("iam")
    iam.create_role(RoleName="nodes", AssumeRolePolicyDocument="{}")
    profile = "eks-platform-dev_123"
    iam.create_instance_profile(InstanceProfileName=profile, Path=f"/karpenter/{REGION}/eks-platform-dev/uid-1/")
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName="nodes")
    iam.create_instance_profile(InstanceProfileName="other", Path=f"/karpenter/{REGION}/someone-else/uid-2/")
    with FakeKube(on_delete=None, crd_installed=False) as kube:  # Karpenter (and its CRDs) already gone
        node = cloud.karpenter_node("batch")
        pulumi = Pulumi()
        assert (
            teardown.main(
                ["dev", "--execute", "--interval", "0.05", "--timeout", "0.2"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 1
        )
        err = capsys.readouterr().err
        assert f"instance {node} (Karpenter, NodePool batch)" in err
        assert f"instance profile {profile} (Karpenter, role nodes)" in err
        assert (
            teardown.main(
                ["dev", "--execute", "--delete-leftovers", "--interval", "0.05", "--timeout", "0.2"],
                session=SESSION,
                api_client=kube.client(),
                run=pulumi,
            )
            == 0
        )
    assert node not in cloud.running()
    out = capsys.readouterr().out
    assert f"terminated instance {node} (Karpenter, NodePool batch)" in out
    assert f"deleted instance profile {profile} (Karpenter)" in out
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == ["other"]
