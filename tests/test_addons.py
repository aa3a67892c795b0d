"""Add-ons: releases, values, roles (EKS Pod Identity by default, IRSA) and policies, custom resources, ordering,
disabling."""

import json

import pytest

from components.addons import cluster_autoscaler as ca
from components.addons import external_dns as edns
from components.addons import external_secrets as eso
from components.addons import load_balancer_controller as lbc
from components.addons import node_termination_handler as nth
from components.addons.base import deep_merge, tolerations
from components.config import ExternalDnsConfig, ExternalSecretsConfig
from components.config.charts import catalog
from components.context import AwsContext
from tests import crd_schemas
from tests.helpers import SYSTEM_GROUP, config_model, minimal_config, node_group, run_main

REL = "kubernetes:helm.sh/v3:Release"
CTX = AwsContext(account_id="111122223333", partition="aws", region="eu-west-1")
EXPECTED_RELEASES = {
    "clusterAutoscaler": ("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.0", "kube-system"),
    "awsLoadBalancerController": (
        "aws-load-balancer-controller",
        "https://aws.github.io/eks-charts",
        "3.5.0",
        "kube-system",
    ),
    "externalSecrets": ("external-secrets", "https://charts.external-secrets.io", "2.9.0", "external-secrets"),
    "externalDns": ("external-dns", "https://kubernetes-sigs.github.io/external-dns/", "1.21.1", "external-dns"),
    "nodeTerminationHandler": (
        "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler",
        None,
        "0.27.6",
        "kube-system",
    ),
}
COMPONENT = {
    "clusterAutoscaler": ("ClusterAutoscaler", "cluster-autoscaler"),
    "awsLoadBalancerController": ("LoadBalancerController", "aws-load-balancer-controller"),
    "externalSecrets": ("ExternalSecrets", "external-secrets"),
    "externalDns": ("ExternalDns", "external-dns"),
    "nodeTerminationHandler": ("NodeTerminationHandler", "node-termination-handler"),
}


def release(rec, key):
    return rec.one(REL, f"eks-platform-prod-{COMPONENT[key][1]}")


def role_policy(rec, key, cluster="eks-platform-prod"):
    (pol,) = [
        r
        for r in rec.by_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.startswith(f"{cluster}-{catalog()[key].role_suffix}-")
    ]
    return json.loads(pol.inputs["policy"])


def trust(rec, key, cluster="eks-platform-prod"):
    return json.loads(
        rec.one("aws:iam/role:Role", f"{cluster}-{catalog()[key].role_suffix}").inputs["assumeRolePolicy"]
    )["Statement"][0]


def service_account_values_of(rec, key, cluster="eks-platform-prod"):
    values = rec.one(REL, f"{cluster}-{COMPONENT[key][1]}").inputs["values"]
    return values["rbac"]["serviceAccount"] if key == "clusterAutoscaler" else values["serviceAccount"]


@pytest.fixture(scope="module")
def irsa():
    """Every add-on, with addons.identity: irsa."""
    return run_main(
        minimal_config(
            cluster={"name": "irsa", "access": {"adminRoleArns": ["arn:aws:iam::111122223333:role/platform-admin"]}},
            nodeGroups={
                "system": SYSTEM_GROUP,
                "workers": {"kind": "selfManaged", "instanceTypes": ["m7i.large"], "scaling": {"min": 1, "max": 2}},
            },
            addons={
                "identity": "irsa",
                "externalSecrets": {"ssmPathPrefix": "/irsa/"},
                "externalDns": {"domainFilters": ["example.com"], "hostedZoneIds": ["Z0123456789ABC"]},
            },
        )
    )


@pytest.mark.parametrize("key", sorted(EXPECTED_RELEASES))
def test_release_chart_version_namespace_and_safety(prod, key):
    chart, repo, version, namespace = EXPECTED_RELEASES[key]
    r = release(prod, key)
    i = r.inputs
    assert (i["chart"], i["version"], i["namespace"]) == (chart, version, namespace)
    assert i.get("repositoryOpts", {}).get("repo") == repo
    assert i["name"] == catalog()[key].release_name
    assert i["atomic"] is True and i["cleanupOnFail"] is True
    assert i["maxHistory"] == 10 and i["timeout"] >= 300
    assert r.provider.endswith("pulumi:providers:kubernetes::eks-platform-prod-k8s")
    assert prod.outputs["addons"][key]["chartVersion"] == version
    assert prod.outputs["addons"][key]["namespace"] == namespace


@pytest.mark.parametrize("key", sorted(EXPECTED_RELEASES))
def test_pod_identity_by_default_service_account_association_and_trust_cannot_drift(prod, key):
    sa = service_account_values_of(prod, key)
    spec = catalog()[key]
    assert sa["name"] == spec.service_account and sa["create"] is True
    assert sa["annotations"] == {}  # no IRSA annotation: the Pod Identity webhook injects the credentials
    (assoc,) = [
        r
        for r in prod.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.name == f"eks-platform-prod-{catalog()[key].role_suffix}"
    ]
    role = prod.one("aws:iam/role:Role", f"eks-platform-prod-{catalog()[key].role_suffix}")
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"]) == (spec.namespace, spec.service_account)
    assert assoc.inputs["clusterName"] == "eks-platform-prod"
    assert assoc.inputs["roleArn"] == prod.outputs["addons"][key]["roleArn"]
    assert role.urn in assoc.dependencies
    stmt = trust(prod, key)
    assert stmt["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert stmt["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert stmt["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-name": "eks-platform-prod",
            "aws:RequestTag/kubernetes-namespace": spec.namespace,
            "aws:RequestTag/kubernetes-service-account": spec.service_account,
        }
    }
    assert prod.outputs["addons"][key]["identity"] == "podIdentity"
    # the association exists before the release's pods are admitted
    assert assoc.urn in release(prod, key).dependencies


@pytest.mark.parametrize("key", sorted(EXPECTED_RELEASES))
def test_irsa_service_account_annotation_and_trust_cannot_drift(irsa, key):
    sa = service_account_values_of(irsa, key, "irsa")
    spec = catalog()[key]
    stmt = trust(irsa, key, "irsa")
    issuer = irsa.outputs["oidcIssuerUrl"].removeprefix("https://")
    assert sa["name"] == spec.service_account and sa["create"] is True
    assert sa["annotations"] == {"eks.amazonaws.com/role-arn": irsa.outputs["addons"][key]["roleArn"]}
    assert stmt["Principal"] == {"Federated": irsa.outputs["oidcProviderArn"]}
    assert stmt["Condition"]["StringEquals"] == {
        f"{issuer}:sub": f"system:serviceaccount:{spec.namespace}:{spec.service_account}",
        f"{issuer}:aud": "sts.amazonaws.com",
    }
    assert irsa.outputs["addons"][key]["identity"] == "irsa"


def test_irsa_creates_no_pod_identity_association(irsa):
    assert irsa.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []
    (ebs,) = [a for a in irsa.by_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "aws-ebs-csi-driver"]
    assert ebs.inputs["serviceAccountRoleArn"] and not ebs.inputs.get("podIdentityAssociations")


def test_one_addon_may_override_the_mechanism():
    rec = run_main(minimal_config(addons={"awsLoadBalancerController": {"identity": "irsa"}}))
    roles = {
        r.name: json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]
        for r in rec.by_type("aws:iam/role:Role")
    }
    assert "Federated" in roles["eks-platform-test-lbc-role"]
    assert roles["eks-platform-test-ca-role"] == {"Service": "pods.eks.amazonaws.com"}
    assert rec.outputs["addons"]["awsLoadBalancerController"]["identity"] == "irsa"


@pytest.mark.parametrize("key", sorted(EXPECTED_RELEASES))
def test_runs_on_the_system_nodes(prod, key):
    values = release(prod, key).inputs["values"]
    assert values["nodeSelector"] == {"eks-platform/node-group": "system"}
    assert values["tolerations"] == [
        {"effect": "NoSchedule", "key": "CriticalAddonsOnly", "operator": "Equal", "value": "true"}
    ]
    system = prod.one("aws:eks/nodeGroup:NodeGroup", "eks-platform-prod-system").inputs
    assert system["labels"]["eks-platform/node-group"] == values["nodeSelector"]["eks-platform/node-group"]
    assert [(t["key"], t["value"]) for t in system["taints"]] == [(t["key"], t["value"]) for t in values["tolerations"]]


@pytest.mark.parametrize("key", sorted(EXPECTED_RELEASES))
def test_no_wildcard_actions_and_writes_are_scoped(prod, key):
    for st in role_policy(prod, key)["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all(a != "*" and not a.endswith(":*") for a in actions), st
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        writes = [a for a in actions if not a.split(":")[1].startswith(("Describe", "Get", "List", "BatchGet"))]
        if "*" in resources and writes:
            assert "Condition" in st, f"unconditioned write on *: {st}"


def test_cluster_autoscaler_values_and_policy(prod):
    v = release(prod, "clusterAutoscaler").inputs["values"]
    assert v["autoDiscovery"] == {"clusterName": "eks-platform-prod"}
    assert v["awsRegion"] == "eu-west-1" and v["cloudProvider"] == "aws"
    assert v["image"]["tag"].startswith("v1.35.")
    assert v["extraArgs"]["balance-similar-node-groups"] is True
    assert v["extraArgs"]["skip-nodes-with-local-storage"] is False
    assert v["extraArgs"]["expander"].split(",")[0] == "priority"
    assert v["expanderPriorities"] == {"10": [".*"], "50": ["^eks-platform-prod-workers$"]}
    assert v["extraArgs"]["scale-down-unneeded-time"] == "15m"  # the prod stack's override, merged last
    doc = role_policy(prod, "clusterAutoscaler")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert sorted(by_sid["ScaleOwnedGroups"]["Action"]) == [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    assert by_sid["ScaleOwnedGroups"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/eks-platform-prod": "owned"}
    }
    assert set(by_sid["Discover"]["Action"]) == {
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
    }
    assert (
        by_sid["DescribeOwnNodegroups"]["Resource"]
        == "arn:aws:eks:eu-west-1:111122223333:nodegroup/eks-platform-prod/*/*"
    )


def test_cluster_autoscaler_image_follows_the_cluster_minor():
    spec = catalog()["clusterAutoscaler"]
    for minor in ("1.32", "1.33", "1.34", "1.35"):
        assert ca.image_tag(spec, minor).startswith(f"v{minor}.")
    with pytest.raises(ValueError, match="no cluster-autoscaler image"):
        ca.image_tag(spec, "1.20")


def test_spot_first_priorities():
    assert ca.spot_patterns(["k-b", "eks-k-a-1a2b3c4-9f8e7d6c-0000-1111-2222-333344445555", "a.b"]) == (
        r"^a\.b$",
        "^eks-k-a-1a2b3c4-9f8e7d6c-0000-1111-2222-333344445555$",
        "^k-b$",
    )
    assert ca.expander_priorities(()) == {"10": [".*"]}


def test_a_spot_managed_group_is_tried_first_by_the_name_eks_gives_its_asg():
    """EKS names a managed group's ASG itself (eks-<node group name>-<uuid>): the pattern is that exact name."""
    raw = minimal_config(
        nodeGroups={
            "system": SYSTEM_GROUP,
            "spotty": {"kind": "managed", "instanceTypes": ["m7i.large"], "capacity": {"type": "spot"}},
        }
    )
    rec = run_main(raw)
    asg = rec.outputs["nodeGroups"]["spotty"]["asgName"]
    assert asg.startswith("eks-")
    v = rec.one(REL, "eks-platform-test-cluster-autoscaler").inputs["values"]
    assert v["expanderPriorities"]["50"] == [f"^{asg}$"]


def test_load_balancer_controller(prod):
    v = release(prod, "awsLoadBalancerController").inputs["values"]
    assert v["clusterName"] == "eks-platform-prod"
    assert v["region"] == "eu-west-1" and v["vpcId"] == prod.outputs["vpcId"]
    assert v["replicaCount"] == 2 and v["podDisruptionBudget"] == {"maxUnavailable": 1}
    doc = role_policy(prod, "awsLoadBalancerController")
    text = json.dumps(doc)
    assert "${" not in text and ":*:*:" not in text  # every placeholder filled, no wildcard account/region
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    vpc_arn = f"arn:aws:ec2:eu-west-1:111122223333:vpc/{prod.outputs['vpcId']}"
    assert by_sid["NodeSecurityGroupRulesInClusterVpc"]["Condition"] == {"ArnEquals": {"ec2:Vpc": vpc_arn}}
    assert vpc_arn in by_sid["CreateSecurityGroupInClusterVpc"]["Resource"]
    assert by_sid["CreateTaggedLoadBalancers"]["Condition"] == {
        "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}
    }
    assert len(json.dumps(doc, separators=(",", ":"))) < 10240  # the IAM inline-policy size limit


def test_lbc_policy_is_partition_aware():
    doc = lbc.policy(AwsContext("111122223333", "aws-cn", "cn-north-1"), "vpc-0123456789abcdef0")
    text = json.dumps(doc)
    assert "arn:aws-cn:elasticloadbalancing:cn-north-1:111122223333:" in text and "arn:aws:" not in text


def test_external_secrets_permissions_are_prefix_scoped(prod):
    doc = role_policy(prod, "externalSecrets")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ReadParametersUnderPrefix"]["Resource"] == [
        "arn:aws:ssm:eu-west-1:111122223333:parameter/eks-platform/prod",
        "arn:aws:ssm:eu-west-1:111122223333:parameter/eks-platform/prod/*",
    ]
    assert (
        by_sid["ReadSecretsUnderPrefix"]["Resource"]
        == "arn:aws:secretsmanager:eu-west-1:111122223333:secret:eks-platform/prod/*"
    )
    assert set(by_sid["ReadSecretsUnderPrefix"]["Action"]) == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:GetResourcePolicy",
    }
    assert by_sid["ListMetadata"] == {
        "Sid": "ListMetadata",
        "Effect": "Allow",
        "Resource": "*",
        "Action": ["secretsmanager:BatchGetSecretValue", "secretsmanager:ListSecrets", "ssm:DescribeParameters"],
    }
    v = release(prod, "externalSecrets").inputs["values"]
    assert v["installCRDs"] is True
    assert v["webhook"]["nodeSelector"] == v["certController"]["nodeSelector"] == v["nodeSelector"]


def test_external_secrets_kms_keys():
    key = "arn:aws:kms:eu-west-1:111122223333:key/0b1c2d3e-4f5a-4b7c-8d9e-0f1a2b3c4d5e"
    cfg = config_model(ExternalSecretsConfig, ssmPathPrefix="/a/", kmsKeyArns=[key])
    (kms,) = [s for s in eso.policy(CTX, cfg)["Statement"] if s["Sid"] == "DecryptThroughTheSecretServices"]
    assert kms["Resource"] == [key]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": ["ssm.eu-west-1.amazonaws.com"]}}


def test_secret_store_conditions_default_to_no_namespace():
    none = config_model(ExternalSecretsConfig, ssmPathPrefix="/p/")
    assert eso.conditions(none) == [eso.NO_NAMESPACE]
    # a selector no namespace satisfies: kubernetes.io/metadata.name is on every namespace
    assert eso.NO_NAMESPACE == {
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "DoesNotExist"}]}
    }


def test_secret_store_conditions_names_and_selector_are_alternatives():
    cfg = config_model(
        ExternalSecretsConfig,
        ssmPathPrefix="/p/",
        namespaces=["team-b", "team-a"],
        namespaceSelector={
            "matchLabels": {"secrets": "yes"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}],
        },
    )
    assert eso.conditions(cfg) == [
        {"namespaces": ["team-a", "team-b"]},
        {
            "namespaceSelector": {
                "matchLabels": {"secrets": "yes"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "web"]}],
            }
        },
    ]


def test_cluster_secret_stores_after_the_release(prod):
    stores = {r.inputs["metadata"]["name"]: r for r in prod.resources if r.type.endswith(":ClusterSecretStore")}
    assert set(stores) == {"aws-parameter-store", "aws-secrets-manager"}
    rel = release(prod, "externalSecrets")
    for name, service in (("aws-parameter-store", "ParameterStore"), ("aws-secrets-manager", "SecretsManager")):
        s = stores[name]
        assert s.inputs["apiVersion"] == "external-secrets.io/v1" and s.inputs["kind"] == "ClusterSecretStore"
        assert s.inputs["spec"] == {
            "conditions": [{"namespaceSelector": {"matchLabels": {"eks-platform/external-secrets": "allowed"}}}],
            # Pod Identity: no auth block, the controller's own credentials
            "provider": {"aws": {"service": service, "region": "eu-west-1"}},
        }
        assert rel.urn in s.dependencies
        assert s.provider == rel.provider


def test_cluster_secret_store_authenticates_with_a_token_under_irsa(irsa):
    (store,) = [r for r in irsa.resources if r.type.endswith(":ClusterSecretStore")]
    assert store.inputs["spec"]["provider"]["aws"]["auth"] == {
        "jwt": {"serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"}}
    }


def test_external_dns_route53(prod):
    v = release(prod, "externalDns").inputs["values"]
    assert v["provider"] == {"name": "aws"}
    assert (v["policy"], v["registry"], v["txtOwnerId"]) == ("upsert-only", "txt", "eks-platform-prod")
    assert v["domainFilters"] == ["example.com"]
    assert v["extraArgs"] == ["--zone-id-filter=Z0PROD123456789"]
    doc = role_policy(prod, "externalDns")
    change = doc["Statement"][0]
    assert change["Resource"] == ["arn:aws:route53:::hostedzone/Z0PROD123456789"]
    assert change["Condition"]["ForAllValues:StringEquals"] == {
        "route53:ChangeResourceRecordSetsActions": ["CREATE", "UPSERT"]
    }
    sync = edns.policy(
        CTX, config_model(ExternalDnsConfig, domainFilters=["a.io"], hostedZoneIds=["Z1"], policy="sync")
    )
    assert (
        "DELETE"
        in sync["Statement"][0]["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsActions"]
    )


@pytest.mark.parametrize("mechanism", ["podIdentity", "irsa"])
def test_external_dns_cloudflare_token_comes_from_parameter_store(mechanism):
    rec = run_main(
        minimal_config(
            addons={
                "identity": mechanism,
                "externalSecrets": {"ssmPathPrefix": "/team/", "namespaces": ["shop"]},
                "externalDns": {
                    "provider": "cloudflare",
                    "domainFilters": ["example.org"],
                    "cloudflare": {"apiTokenParameter": "/platform/cloudflare/api-token"},
                },
            }
        )
    )
    (es,) = [r for r in rec.resources if r.type.endswith(":ExternalSecret")]
    assert es.inputs["metadata"] == {"name": "cloudflare-api-token", "namespace": "external-dns"}
    assert es.inputs["spec"] == {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "external-dns-cloudflare"},
        "target": {"name": "cloudflare-api-token", "creationPolicy": "Owner"},
        "data": [{"secretKey": "apiToken", "remoteRef": {"key": "/platform/cloudflare/api-token"}}],
    }
    # a store only external-dns's namespace may use, reading through a role of its own that only external-secrets'
    # controller may assume, for an ExternalSecret of that namespace (the session tag)
    stores = {r.inputs["metadata"]["name"]: r for r in rec.resources if r.type.endswith(":ClusterSecretStore")}
    own = stores["external-dns-cloudflare"].inputs["spec"]
    assert own["conditions"] == [{"namespaces": ["external-dns"]}]
    reader = rec.one("aws:iam/role:Role", "eks-platform-test-external-dns-token-reader")
    assert own["provider"]["aws"]["role"] == f"arn:aws:iam::111122223333:role/{reader.inputs['name']}"
    assert own["provider"]["aws"]["sessionTagsPolicy"] == "Simple"
    assert ("auth" in own["provider"]["aws"]) == (mechanism == "irsa")
    trust = json.loads(reader.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": rec.outputs["addons"]["externalSecrets"]["roleArn"]}
    assert trust["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/esoNamespace": "external-dns",
            "aws:RequestTag/esoStoreName": "external-dns-cloudflare",
            "aws:RequestTag/esoStoreKind": "ClusterSecretStore",
        }
    }
    for obj in (stores["external-dns-cloudflare"], stores["aws-parameter-store"], es):
        manifest = {
            "apiVersion": obj.inputs["apiVersion"],
            "kind": obj.inputs["kind"],
            "metadata": obj.inputs["metadata"],
            "spec": obj.inputs["spec"],
        }
        assert crd_schemas.problems(crd_schemas.BY_KIND[obj.inputs["kind"]], manifest) == []
    read = json.loads(
        rec.one("aws:iam/rolePolicy:RolePolicy", "eks-platform-test-external-dns-token-reader").inputs["policy"]
    )["Statement"]
    assert read == [
        {
            "Sid": "ReadTheToken",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": "arn:aws:ssm:eu-west-1:111122223333:parameter/platform/cloudflare/api-token",
        }
    ]
    # the shared stores serve only what config allows, not external-dns's namespace
    assert stores["aws-parameter-store"].inputs["spec"]["conditions"] == [{"namespaces": ["shop"]}]
    eso_policy = role_policy(rec, "externalSecrets", "eks-platform-test")["Statement"]
    assume = next(st for st in eso_policy if st["Sid"] == "AssumeNamespaceReaders")
    assert assume["Resource"] == [own["provider"]["aws"]["role"]]
    rel = rec.one(REL, "eks-platform-test-external-dns")
    v = rel.inputs["values"]
    assert v["provider"] == {"name": "cloudflare"}
    assert v["env"] == [
        {"name": "CF_API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "cloudflare-api-token", "key": "apiToken"}}}
    ]
    assert "eks.amazonaws.com/role-arn" not in v["serviceAccount"]["annotations"]
    # external-dns itself has no AWS role (the token reader is external-secrets's, for its store)
    assert [r.name for r in rec.by_type("aws:iam/role:Role") if "external-dns" in r.name] == [reader.name]
    assert es.urn in rel.dependencies
    assert stores["external-dns-cloudflare"].urn in es.dependencies
    assert rel.inputs["createNamespace"] is False


def test_node_termination_handler(prod):
    v = release(prod, "nodeTerminationHandler").inputs["values"]
    assert v["enableSqsTerminationDraining"] is True
    assert v["queueURL"] == prod.outputs["terminationQueueUrl"]
    assert v["awsRegion"] == "eu-west-1"
    assert v["managedTag"] == "aws-node-termination-handler/managed"
    doc = role_policy(prod, "nodeTerminationHandler")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert (
        by_sid["ConsumeTerminationQueue"]["Resource"]
        == "arn:aws:sqs:eu-west-1:111122223333:eks-platform-prod-node-termination"
    )
    assert by_sid["CompleteLifecycleActionsOfOwnGroups"]["Resource"] == [
        "arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/eks-platform-prod-edge",
        "arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/eks-platform-prod-workers",
    ]
    assert nth.policy(CTX, "c", "arn:q", ["x"])["Statement"][2]["Action"] == ["sqs:DeleteMessage", "sqs:ReceiveMessage"]


def test_releases_wait_for_system_nodes_and_the_agent_but_not_coredns_or_each_other(prod):
    """They start as soon as their nodes exist: CoreDNS is created at the same moment (a pod that needs DNS at
    start-up is restarted until it answers, within the atomic release's timeout)."""
    coredns = prod.one("aws:eks/addon:Addon", "eks-platform-prod-coredns").urn
    agent = prod.one("aws:eks/addon:Addon", "eks-platform-prod-eks-pod-identity-agent").urn
    system = prod.one("aws:eks/nodeGroup:NodeGroup", "eks-platform-prod-system").urn
    workers = prod.one("aws:autoscaling/group:Group", "eks-platform-prod-workers").urn
    releases = prod.by_type(REL)
    for r in releases:
        assert system in r.dependencies and agent in r.dependencies, r.name
        assert coredns not in r.dependencies and workers not in r.dependencies, r.name
        assert not {o.urn for o in releases} & set(r.dependencies), r.name


def test_disabling_an_addon_removes_its_release_and_role():
    rec = run_main(
        minimal_config(
            addons={"awsLoadBalancerController": {"enabled": False}, "clusterAutoscaler": {"enabled": False}}
        )
    )
    assert not rec.by_type(REL)
    assert not [r for r in rec.by_type("aws:iam/role:Role") if r.name.endswith(("-lbc-role", "-autoscaler-role"))]
    assert rec.outputs["addons"] == {}


def test_value_overrides_deep_merge():
    assert deep_merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}}, {"l": [2], "a": {"d": 4}}) == {
        "a": {"b": 1, "c": 3, "d": 4},
        "l": [2],
    }


def test_tolerations_of_a_taint_without_value():
    g = node_group(
        "g", kind="managed", instanceTypes=["m7i.large"], taints=[{"key": "dedicated", "effect": "NoExecute"}]
    )
    assert tolerations(g) == [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}]
    assert tolerations(None) == []


def test_no_system_group_means_no_selector():
    raw = minimal_config(nodeGroups={"general": dict(SYSTEM_GROUP, taints=[])})
    rec = run_main(raw)
    v = rec.one(REL, "eks-platform-test-cluster-autoscaler").inputs["values"]
    assert v["nodeSelector"] == {} and v["tolerations"] == []


LBC_CRDS = (
    "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v{v}/helm/"
    "aws-load-balancer-controller/crds/{f}"
)


def test_the_load_balancer_controllers_crds_are_applied_at_the_charts_version(prod):
    rel = release(prod, "awsLoadBalancerController")
    crds = prod.one("kubernetes:yaml/v2:ConfigGroup", "eks-platform-prod-aws-load-balancer-controller-crds")
    assert crds.inputs["files"] == [
        LBC_CRDS.format(v="3.5.0", f="crds.yaml"),
        LBC_CRDS.format(v="3.5.0", f="gateway-crds.yaml"),
    ]
    assert crds.provider == rel.provider and crds.urn in rel.dependencies
    assert rel.inputs["skipCrds"] is True  # Helm would install them once and never upgrade them
    # charts whose CRDs are templates (external-secrets: installCRDs) or that have none keep Helm's default
    for key in ("externalSecrets", "clusterAutoscaler", "externalDns", "nodeTerminationHandler"):
        assert release(prod, key).inputs["skipCrds"] is False, key
    assert [g.name for g in prod.by_type("kubernetes:yaml/v2:ConfigGroup")] == [
        "eks-platform-prod-aws-load-balancer-controller-crds"
    ]


def test_a_chart_bump_updates_its_crds_in_the_diff(prod, monkeypatch):
    from components.config import charts as catalog_module
    from components.config import datafiles
    from tests.helpers import ROOT
    from tools import diff, plan, render

    real = datafiles.load

    def bumped(path):  # platform/addons.yaml with only the chart version raised
        data = real(path)
        if path.name == "addons.yaml":
            data["awsLoadBalancerController"]["version"] = "3.6.0"
        return data

    monkeypatch.setattr(datafiles, "load", bumped)
    catalog_module.catalog.cache_clear()
    try:
        new = plan.run(ROOT / "Pulumi.prod.yaml", "prod")
    finally:
        catalog_module.catalog.cache_clear()
    d = diff.diff(json.loads(render.dump_json(prod)), json.loads(render.dump_json(new)))
    changed = {c.name: c for c in d.changes}
    crds = changed["eks-platform-prod-aws-load-balancer-controller-crds"]
    assert (crds.op, crds.paths) == ("update", ["files"])
    rel = changed["eks-platform-prod-aws-load-balancer-controller"]
    assert rel.op == "update" and "version" in rel.paths
    assert d.errors == []
