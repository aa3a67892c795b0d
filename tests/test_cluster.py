"""Cluster and identity: exact children and the security-relevant inputs."""

import json
import re

import pytest

from components import cluster as cl
from components.identity import ServiceAccount, irsa_trust_policy, issuer_host_path, thumbprints
from tests.helpers import ADMIN, minimal_config, run_main
from tools.mockcloud import ROOT_CA_SHA1

CTYPE = "aws:eks/cluster:Cluster"


@pytest.fixture(scope="module")
def rec():
    return run_main(
        minimal_config(
            cluster={
                "name": "blue",
                "endpoint": {"publicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
                "access": {"adminRoleArns": [ADMIN], "readOnlyRoleArns": ["arn:aws:iam::111122223333:role/team/dev"]},
                "logging": {"retentionDays": 14},
                "kubeconfig": {"profile": "ops"},
                "oidc": {"extraThumbprints": ["ABCDEF0123456789ABCDEF0123456789ABCDEF01"]},
            }
        )
    )


def test_cluster_children_exactly(rec):
    comp = rec.one("eks-platform:cluster:Cluster", "blue")
    kids = sorted((short(r.type), r.name) for r in rec.children(comp))
    assert kids == sorted(
        [
            ("aws:iam:Role", "blue-cluster"),
            ("aws:iam:RolePolicyAttachment", "blue-cluster-policy"),
            ("aws:kms:Key", "blue-secrets"),
            ("aws:kms:Alias", "blue-secrets"),
            ("aws:iam:RolePolicy", "blue-cluster-kms"),
            ("aws:cloudwatch:LogGroup", "blue-control-plane"),
            ("aws:ec2:SecurityGroup", "blue-cluster"),
            ("aws:vpc:SecurityGroupIngressRule", "blue-cluster-https-from-vpc"),
            ("aws:eks:Cluster", "blue-cluster"),
            ("aws:eks:AccessEntry", "blue-admin-platform-admin"),
            ("aws:eks:AccessPolicyAssociation", "blue-admin-platform-admin"),
            ("aws:eks:AccessEntry", "blue-view-team-dev"),
            ("aws:eks:AccessPolicyAssociation", "blue-view-team-dev"),
            ("eks-platform:identity:OidcProvider", "blue-oidc"),
            ("eks-platform:identity:ServiceAccountRole", "blue-vpc-cni"),
            ("eks:index:VpcCniAddon", "blue-vpc-cni"),
            ("aws:eks:Addon", "blue-kube-proxy"),
            ("aws:eks:Addon", "blue-eks-pod-identity-agent"),
            ("pulumi:providers:kubernetes", "blue-k8s"),
        ]
    )


def short(typ):
    from tools.render import short_type

    return short_type(typ)


def test_control_plane_inputs(rec):
    c = rec.one(CTYPE, "blue-cluster").inputs
    assert c["name"] == "blue"
    assert c["version"] == "1.35"
    assert c["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    assert c["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    assert c["bootstrapSelfManagedAddons"] is False
    assert c["kubernetesNetworkConfig"] == {"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16"}
    vpc = c["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert len(vpc["subnetIds"]) == 2  # intra subnets of the two zones
    key = rec.one("aws:kms/key:Key", "blue-secrets")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    (enc,) = c["encryptionConfig"] if isinstance(c["encryptionConfig"], list) else [c["encryptionConfig"]]
    assert enc["resources"] == ["secrets"]
    assert enc["provider"]["keyArn"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    alias = rec.one("aws:kms/alias:Alias", "blue-secrets")
    assert alias.inputs["name"] == "alias/eks/blue"


def test_control_plane_uses_the_intra_subnets(rec):
    intra = {r.urn for r in rec.by_type("aws:ec2/subnet:Subnet") if "-intra-" in r.name}
    cluster = rec.one(CTYPE, "blue-cluster")
    assert intra <= set(cluster.dependencies)
    assert not {r.urn for r in rec.by_type("aws:ec2/subnet:Subnet") if "-private-" in r.name} & set(
        cluster.dependencies
    )


def test_log_group_exists_before_the_cluster(rec):
    group = rec.one("aws:cloudwatch/logGroup:LogGroup", "blue-control-plane")
    assert group.inputs["name"] == "/aws/eks/blue/cluster"
    assert group.inputs["retentionInDays"] == 14
    assert group.urn in rec.one(CTYPE, "blue-cluster").dependencies


def test_cluster_role_and_kms_policy(rec):
    role = rec.one("aws:iam/role:Role", "blue-cluster")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "eks.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    att = rec.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "blue-cluster-policy")
    assert att.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    kms = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy", "blue-cluster-kms").inputs["policy"])["Statement"][0]
    assert kms["Resource"].startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    assert sorted(kms["Action"]) == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"]


def test_access_entries_and_policies(rec):
    admin = rec.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "blue-admin-platform-admin").inputs
    assert admin["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert admin["accessScope"] == {"type": "cluster"}
    assert admin["principalArn"] == ADMIN
    view = rec.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "blue-view-team-dev").inputs
    assert view["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    entry = rec.one("aws:eks/accessEntry:AccessEntry", "blue-view-team-dev").inputs
    assert entry["principalArn"] == "arn:aws:iam::111122223333:role/team/dev"
    assert entry["type"] == "STANDARD"
    assert not rec.by_type("kubernetes:core/v1:ConfigMap")  # no aws-auth


def test_oidc_thumbprint_is_the_chain_root_plus_extras(rec):
    prov = rec.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "blue-oidc").inputs
    assert prov["clientIdLists"] == ["sts.amazonaws.com"]
    assert prov["thumbprintLists"] == [ROOT_CA_SHA1, "abcdef0123456789abcdef0123456789abcdef01"]
    assert prov["url"].startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")
    assert "tls:index/getCertificate:getCertificate" in rec.invokes


def test_vpc_cni_uses_pod_identity_by_default(rec):
    role = rec.one("aws:iam/role:Role", "blue-vpc-cni")
    stmt = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert stmt["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert stmt["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert stmt["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "aws-node"
    assoc = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "blue-vpc-cni")
    assert (assoc.inputs["clusterName"], assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == (
        "blue",
        "kube-system",
        "aws-node",
    )
    assert re.fullmatch(r"arn:aws:iam::111122223333:role/blue-vpc-cni-[0-9a-f]{7}", assoc.inputs["roleArn"])
    cni = rec.one("eks:index:VpcCniAddon", "blue-vpc-cni").inputs
    assert "serviceAccountRoleArn" not in cni  # no IRSA annotation on aws-node
    # aws-node on every new node must find the association: every node group waits for it
    (group,) = rec.by_type("aws:eks/nodeGroup:NodeGroup")
    assert assoc.urn in group.dependencies


def test_vpc_cni_irsa_trust_is_exact():
    rec = run_main(
        minimal_config(
            cluster={"name": "blue", "access": {"adminRoleArns": [ADMIN]}, "addons": {"vpcCni": {"identity": "irsa"}}}
        )
    )
    role = rec.one("aws:iam/role:Role", "blue-vpc-cni")
    stmt = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    issuer = rec.outputs["oidcIssuerUrl"].removeprefix("https://")
    assert stmt["Principal"] == {"Federated": rec.outputs["oidcProviderArn"]}
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": "system:serviceaccount:kube-system:aws-node",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }
    cni = rec.one("eks:index:VpcCniAddon", "blue-vpc-cni").inputs
    assert re.fullmatch(r"arn:aws:iam::111122223333:role/blue-vpc-cni-[0-9a-f]{7}", cni["serviceAccountRoleArn"])
    assert "blue-vpc-cni" not in [a.name for a in rec.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")]


def test_vpc_cni_component_gets_a_version_and_no_list_tags(rec):
    cni = rec.one("eks:index:VpcCniAddon", "blue-vpc-cni")
    assert cni.inputs["clusterVersion"] == "1.35"
    assert cni.inputs["addonVersion"] == "v1.20.4-eksbuild.2"
    assert "tags" not in cni.inputs
    # The mock runs the component's constructor: its one child is the EKS add-on, tagged by our transform,
    # with our configuration values merged over the component's computed env (cni-addon.ts).
    (addon,) = rec.children(cni)
    assert addon.type == "aws:eks/addon:Addon"
    assert addon.inputs["addonName"] == "vpc-cni"
    assert addon.inputs["addonVersion"] == "v1.20.4-eksbuild.2"
    assert addon.inputs["tags"]["Name"] == "blue-vpc-cni"
    config = json.loads(addon.inputs["configurationValues"])
    assert config["env"]["ENABLE_PREFIX_DELEGATION"] == "true"
    assert config["enableNetworkPolicy"] == "true"  # enforced by default
    assert config["env"]["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "false"


def test_addon_ordering(rec):
    cluster = rec.one(CTYPE, "blue-cluster")
    for name in ("blue-kube-proxy", "blue-eks-pod-identity-agent"):
        addon = rec.one("aws:eks/addon:Addon", name)
        assert cluster.urn in addon.dependencies
        assert addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
    provider = rec.one("pulumi:providers:kubernetes", "blue-k8s")
    assert rec.one("aws:eks/addon:Addon", "blue-kube-proxy").urn in provider.dependencies
    assert rec.one("eks:index:VpcCniAddon", "blue-vpc-cni").urn in provider.dependencies
    # The DaemonSet add-ons are created next to the node groups, not before them: a group waits only for the VPC
    # CNI's Pod Identity association (aws-node is admitted with credentials).
    for group in rec.by_type("aws:eks/nodeGroup:NodeGroup"):
        assert (
            rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "blue-vpc-cni").urn in group.dependencies
        )
        for name in ("blue-kube-proxy", "blue-eks-pod-identity-agent"):
            assert rec.one("aws:eks/addon:Addon", name).urn not in group.dependencies
        assert rec.one("eks:index:VpcCniAddon", "blue-vpc-cni").urn not in group.dependencies
    coredns = rec.one("aws:eks/addon:Addon", "blue-coredns")
    assert coredns.inputs["addonName"] == "coredns"
    assert coredns.parent == rec.one("eks-platform:cluster:CoreDns", "blue-coredns").urn


def test_kubeconfig_is_secret_and_uses_get_token(rec):
    assert rec.outputs["kubeconfig"] == "[secret]"
    assert rec.one("pulumi:providers:kubernetes", "blue-k8s").inputs["kubeconfig"] == "[secret]"
    assert rec.outputs["kubeconfigCommand"] == "aws eks update-kubeconfig --region eu-west-1 --name blue --profile ops"
    doc = json.loads(cl.kubeconfig("blue", "https://x", "Q0E=", "eu-west-1", None, "ops"))
    ex = doc["users"][0]["user"]["exec"]
    assert ex["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert ex["command"] == "aws"
    assert ex["args"] == ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "blue", "--output", "json"]
    assert ex["env"] == [{"name": "AWS_PROFILE", "value": "ops"}]
    assert doc["clusters"][0]["cluster"] == {"server": "https://x", "certificate-authority-data": "Q0E="}


def test_kubeconfig_role_arn():
    args = cl.get_token_args("c", "us-east-1", "arn:aws:iam::1:role/r")
    assert args[-2:] == ["--role-arn", "arn:aws:iam::1:role/r"]


def test_protect_in_prod_not_in_dev(dev, prod):
    for rec, expected in ((dev, False), (prod, True)):
        cluster = rec.by_type(CTYPE)[0]
        key = rec.by_type("aws:kms/key:Key")[0]
        assert cluster.protect is expected and key.protect is expected
        assert cluster.inputs["deletionProtection"] is expected
    assert not any(r.protect for r in dev.resources)


def test_prod_endpoint_is_private_only(prod):
    vpc = prod.by_type(CTYPE)[0].inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and vpc["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in vpc or "0.0.0.0/0" not in vpc["publicAccessCidrs"]


def test_existing_kms_key_is_used_not_created():
    arn = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    rec = run_main(minimal_config(cluster={"encryption": {"kmsKeyArn": arn}, "access": {"adminRoleArns": [ADMIN]}}))
    assert not rec.by_type("aws:kms/key:Key")
    assert rec.outputs["kmsKeyArn"] == arn
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy", "eks-platform-test-cluster-kms").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == arn


def test_pure_irsa_trust_policy():
    doc = json.loads(
        irsa_trust_policy(
            "arn:aws:iam::1:oidc-provider/oidc.example/id/X", "https://oidc.example/id/X", ServiceAccount("ns", "sa")
        )
    )
    assert doc["Statement"][0]["Condition"]["StringEquals"] == {
        "oidc.example/id/X:aud": "sts.amazonaws.com",
        "oidc.example/id/X:sub": "system:serviceaccount:ns:sa",
    }
    assert issuer_host_path("https://a/b") == "a/b"


def test_pure_thumbprints_keep_root_first_without_repeats():
    assert thumbprints("AA" * 20, ["bb" * 20, "aa" * 20]) == ["aa" * 20, "bb" * 20]
