"""Identity and access: workload identities (Pod Identity and IRSA), access entries with scope, the admin role for
people, OIDC sign-in with RBAC bindings; their pure functions and the guardrails over them."""

import json

import pytest

from components import access as acc
from components.config import ConfigError, load
from components.config.identity import OidcProvider, Statement, WorkloadIdentity, is_read, statements_document
from components.identity import ServiceAccount, pod_identity_trust_policy, service_account_annotations
from policies import guardrails as g
from tests.helpers import ADMIN, config_model, minimal_config, run_main

C = "idp"
DEV = "arn:aws:iam::111122223333:role/team/dev"
AUDITOR = "arn:aws:iam::111122223333:user/auditor"
BUCKET = "arn:aws:s3:::orders-invoices"
IDENTITIES = {
    "orders": {
        "namespace": "orders",
        "serviceAccount": "orders-api",
        "policyArns": ["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"],
        "statements": [
            {"actions": ["s3:GetObject", "s3:PutObject"], "resources": [f"{BUCKET}/*"]},
            {
                "sid": "Tagged",
                "actions": ["ec2:StartInstances"],
                "resources": ["*"],
                "condition": {"StringEquals": {"aws:ResourceTag/team": "orders"}},
            },
        ],
    },
    "legacy": {
        "namespace": "billing",
        "serviceAccount": "billing",
        "mechanism": "irsa",
        "statements": [
            {"actions": ["dynamodb:GetItem"], "resources": ["arn:aws:dynamodb:eu-west-1:111122223333:table/billing"]}
        ],
    },
}
ACCESS = {
    "adminRoleArns": [ADMIN],
    "entries": {
        "dev-team": {
            "principalArn": DEV,
            "policy": "edit",
            "namespaces": ["orders", "dev-*"],
            "kubernetesGroups": ["dev-team"],
        },
        "auditor": {"principalArn": AUDITOR, "policy": "view"},
        "rbac-only": {"principalArn": "arn:aws:iam::111122223333:role/ci", "kubernetesGroups": ["deployers"]},
    },
    "adminRole": {"create": True},
}
OIDC = {
    "issuerUrl": "https://login.example.com/oauth2/default",
    "clientId": "kubernetes",
    "usernameClaim": "email",
    "groupsClaim": "groups",
    "groupsPrefix": "oidc:",
    "requiredClaims": {"hd": "example.com"},
    "groupBindings": {"platform-admins": "clusterAdmin", "developers": "edit", "Eng/Readers": "view"},
}


@pytest.fixture(scope="module")
def rec():
    return run_main(
        minimal_config(
            cluster={"name": C, "access": ACCESS, "identityProviders": {"oidc": OIDC}},
            workloads={"identities": IDENTITIES},
        )
    )


def one(rec, typ, name):
    return rec.one(typ, name).inputs


def problems(cls, **raw):
    """The ``path: message`` lines a model gives for ``raw`` (as the stack file would)."""
    from pydantic import ValidationError

    from components.config.errors import lines

    try:
        config_model(cls, **raw)
    except ValidationError as err:
        return "\n".join(lines(err, cls, ()))
    return ""


# ---------------------------------------------------------------------------------------
# workload identities
# ---------------------------------------------------------------------------------------
def test_pod_identity_workload_role_policies_and_association(rec):
    name = f"{C}-identity-orders"
    role = rec.one("aws:iam/role:Role", name)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert trust["Condition"]["StringEquals"] == {
        "aws:RequestTag/eks-cluster-name": C,
        "aws:RequestTag/kubernetes-namespace": "orders",
        "aws:RequestTag/kubernetes-service-account": "orders-api",
    }
    assert role.inputs["tags"]["eks-platform/workload-identity"] == "orders"
    inline = json.loads(one(rec, "aws:iam/rolePolicy:RolePolicy", f"{name}-inline")["policy"])
    assert inline["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [f"{BUCKET}/*"]},
        {
            "Effect": "Allow",
            "Action": ["ec2:StartInstances"],
            "Resource": ["*"],
            "Sid": "Tagged",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "orders"}},
        },
    ]
    attached = one(rec, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"{name}-policy-0")
    assert attached["policyArn"] == "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"
    assoc = one(rec, "aws:eks/podIdentityAssociation:PodIdentityAssociation", name)
    assert (assoc["clusterName"], assoc["namespace"], assoc["serviceAccount"]) == (C, "orders", "orders-api")
    assert assoc["roleArn"].startswith(f"arn:aws:iam::111122223333:role/{name}-")
    cluster = rec.one("aws:eks/cluster:Cluster", f"{C}-cluster")
    assert cluster.urn in rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", name).dependencies
    out = rec.outputs["workloadIdentities"]["orders"]
    assert out == {
        "roleArn": assoc["roleArn"],
        "mechanism": "podIdentity",
        "namespace": "orders",
        "serviceAccount": "orders-api",
        "serviceAccountAnnotations": {},
    }


def test_irsa_workload_role_trusts_the_oidc_provider_and_outputs_the_annotation(rec):
    name = f"{C}-identity-legacy"
    trust = json.loads(one(rec, "aws:iam/role:Role", name)["assumeRolePolicy"])["Statement"][0]
    issuer = rec.outputs["oidcIssuerUrl"].removeprefix("https://")
    assert trust["Principal"] == {"Federated": rec.outputs["oidcProviderArn"]}
    assert trust["Condition"]["StringEquals"] == {
        f"{issuer}:sub": "system:serviceaccount:billing:billing",
        f"{issuer}:aud": "sts.amazonaws.com",
    }
    assert name not in [a.name for a in rec.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")]
    out = rec.outputs["workloadIdentities"]["legacy"]
    assert out["mechanism"] == "irsa"
    assert out["serviceAccountAnnotations"] == {"eks.amazonaws.com/role-arn": out["roleArn"]}


def test_no_guardrail_violation_in_the_identity_plan(rec):
    resources = [g.Resource(r.type, r.name, r.urn, r.inputs, tuple(r.dependencies)) for r in rec.resources]
    # dev levels: the minimal config has no flow logs (advisory there); everything else is mandatory
    assert [v for v in g.evaluate(resources, g.levels_for("dev")) if v.enforcement == g.MANDATORY] == []


def test_pure_trust_and_annotations():
    doc = json.loads(pod_identity_trust_policy("c", ServiceAccount("ns", "sa")))
    assert doc["Statement"][0]["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-name": "c",
            "aws:RequestTag/kubernetes-namespace": "ns",
            "aws:RequestTag/kubernetes-service-account": "sa",
        }
    }
    assert list(g.pod_identity_trust(g.Resource("aws:iam/role:Role", "r", "u", {"assumeRolePolicy": doc}))) == []
    assert service_account_annotations(None) == {}  # Pod Identity
    assert service_account_annotations("arn") == {"eks.amazonaws.com/role-arn": "arn"}


@pytest.mark.parametrize(
    ("action", "read"),
    [
        ("s3:GetObject", True),
        ("ec2:DescribeInstances", True),
        ("s3:Get*", True),
        ("dynamodb:Query", True),
        ("s3:PutObject", False),
        ("iam:PassRole", False),
        ("s3:*Object", False),
        ("kms:Decrypt", False),
    ],
)
def test_read_or_write(action, read):
    assert is_read(action) is read


def test_statements_render_deterministically():
    a = config_model(
        Statement, actions=["s3:PutObject", "s3:GetObject"], resources=["arn:aws:s3:::b/*", "arn:aws:s3:::a/*"]
    )
    b = config_model(
        Statement, actions=["s3:GetObject", "s3:PutObject"], resources=["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]
    )
    assert statements_document((a,)) == statements_document((b,))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"actions": ["*"], "resources": ["*"]}, "is not an IAM action"),
        ({"actions": ["s3:*"], "resources": [BUCKET]}, "allows every action of the service"),
        ({"actions": ["s3:PutObject"], "resources": ["*"]}, "reaches every resource of the account"),
        ({"actions": ["s3:GetObject"], "resources": ["bucket"]}, "is not a resource ARN or *"),
        (
            {"actions": ["s3:GetObject"], "resources": [BUCKET], "condition": {"StringEqualz": {"a:b": "c"}}},
            "is not an IAM condition operator",
        ),
    ],
)
def test_statement_refusals(raw, fragment):
    assert fragment in problems(Statement, **raw)


def test_deny_may_use_star():
    config_model(Statement, effect="Deny", actions=["s3:DeleteObject"], resources=["*"])


def test_identity_needs_permissions_and_refuses_admin_policies():
    assert "needs policyArns or statements" in problems(WorkloadIdentity, namespace="a", serviceAccount="b")
    assert "grants far more than a workload needs" in problems(
        WorkloadIdentity, namespace="a", serviceAccount="b", policyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]
    )


def test_inline_policy_size_is_bounded():
    many = [
        {"actions": ["s3:GetObject"], "resources": [f"arn:aws:s3:::bucket-{i:04d}/some/long/prefix/*"]}
        for i in range(300)
    ]
    assert "characters; a role's inline policies may have 10240" in problems(
        WorkloadIdentity, namespace="a", serviceAccount="b", statements=many
    )


# ---------------------------------------------------------------------------------------
# access entries
# ---------------------------------------------------------------------------------------
def test_policy_associations_are_replaced_delete_first(rec):
    # keyed by (principal, policy): a create-first replacement would be undone by the old one's delete
    assert all(r.delete_before_replace for r in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"))


def test_scoped_access_entries(rec):
    entry = one(rec, "aws:eks/accessEntry:AccessEntry", f"{C}-access-dev-team")
    assert (entry["principalArn"], entry["type"], entry["kubernetesGroups"]) == (DEV, "STANDARD", ["dev-team"])
    assoc = one(rec, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"{C}-access-dev-team")
    assert assoc["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
    assert assoc["accessScope"] == {"type": "namespace", "namespaces": ["dev-*", "orders"]}
    view = one(rec, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"{C}-access-auditor")
    assert (view["principalArn"], view["accessScope"]) == (AUDITOR, {"type": "cluster"})
    assert view["policyArn"].endswith("/AmazonEKSViewPolicy")
    # RBAC only: the entry, no association
    assert one(rec, "aws:eks/accessEntry:AccessEntry", f"{C}-access-rbac-only")["kubernetesGroups"] == ["deployers"]
    assert f"{C}-access-rbac-only" not in [
        a.name for a in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    ]
    # the shorthand keeps its name
    assert one(rec, "aws:eks/accessEntry:AccessEntry", f"{C}-admin-platform-admin")["principalArn"] == ADMIN


def test_access_entry_names_derive_from_keys_and_the_partition():
    cfg = load(
        minimal_config(
            cluster={
                "access": {
                    "adminRoleArns": [ADMIN],
                    "entries": {"admin-platform-admin": {"principalArn": DEV, "policy": "view"}},
                }
            }
        ),
        stack="s",
        region="cn-north-1",
    )
    entries = acc.access_entries(cfg.cluster.access)
    # a key that looks like a shorthand's suffix still cannot collide: entries are access-<key>
    assert sorted(entries) == ["access-admin-platform-admin", "admin-platform-admin"]
    assert (
        acc.policy_arn("aws-cn", entries["admin-platform-admin"].policy)
        == "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    )


def test_shorthand_entries_are_keyed_by_the_full_principal_arn():
    admins = [
        "arn:aws:iam::111122223333:role/platform-admin",
        "arn:aws:iam::444455556666:role/platform-admin",
        "arn:aws:iam::111122223333:role/ops/platform-admin",
        "arn:aws:iam::111122223333:role/ops-platform-admin",
    ]
    cfg = load(minimal_config(cluster={"access": {"adminRoleArns": admins}}), stack="s", region="eu-west-1")
    entries = acc.access_entries(cfg.cluster.access)
    assert sorted(e.principal_arn for e in entries.values()) == sorted(admins)
    assert "admin-ops-platform-admin" not in entries
    assert sum(1 for k in entries if k.startswith("admin-platform-admin-")) == 2
    single = load(minimal_config(), stack="s", region="eu-west-1")
    assert list(acc.access_entries(single.cluster.access)) == ["admin-platform-admin"]


def test_an_admin_entry_or_the_admin_role_satisfies_the_admin_rule():
    load(
        minimal_config(cluster={"access": {"entries": {"ops": {"principalArn": ADMIN, "policy": "clusterAdmin"}}}}),
        stack="s",
        region="eu-west-1",
    )
    load(minimal_config(cluster={"access": {"adminRole": {"create": True}}}), stack="s", region="eu-west-1")
    with pytest.raises(ConfigError, match=r"cluster\.access\.adminRoleArns: needs at least one role"):
        load(
            minimal_config(cluster={"access": {"entries": {"v": {"principalArn": ADMIN, "policy": "view"}}}}),
            stack="s",
            region="eu-west-1",
        )


# ---------------------------------------------------------------------------------------
# the admin role for people
# ---------------------------------------------------------------------------------------
def test_admin_role_group_and_entry(rec):
    name = f"{C}-people-admin"
    role = one(rec, "aws:iam/role:Role", name)
    assert role["name"] == f"{C}-cluster-admin"
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": ["arn:aws:iam::111122223333:root"]}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    describe = json.loads(one(rec, "aws:iam/rolePolicy:RolePolicy", f"{name}-describe-cluster")["policy"])
    assert describe["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "eks:DescribeCluster",
            "Resource": f"arn:aws:eks:eu-west-1:111122223333:cluster/{C}",
        }
    ]
    group = one(rec, "aws:iam/group:Group", name)
    assert group["name"] == f"{C}-cluster-admins"
    assume = json.loads(one(rec, "aws:iam/groupPolicy:GroupPolicy", f"{name}-assume")["policy"])["Statement"][0]
    assert (
        assume["Action"] == "sts:AssumeRole"
        and assume["Resource"] == f"arn:aws:iam::111122223333:role/{C}-cluster-admin"
    )
    assert assume["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    entry = one(rec, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"{name}-access")
    assert entry["principalArn"] == f"arn:aws:iam::111122223333:role/{C}-cluster-admin"
    assert entry["policyArn"].endswith("/AmazonEKSClusterAdminPolicy") and entry["accessScope"] == {"type": "cluster"}
    assert rec.outputs["adminRoleArn"] == entry["principalArn"]
    assert rec.outputs["adminKubeconfigCommand"] == (
        f"aws eks update-kubeconfig --region eu-west-1 --name {C} --role-arn {entry['principalArn']}"
    )


def test_admin_role_with_trusted_users_and_no_mfa():
    users = ["arn:aws:iam::111122223333:user/alice", "arn:aws:iam::444455556666:root"]
    doc = json.loads(acc.admin_trust_policy(users, require_mfa=False))["Statement"][0]
    assert doc["Principal"] == {"AWS": sorted(users)} and "Condition" not in doc
    with pytest.raises(ConfigError, match="requireMfa: role sessions carry no MFA context"):
        load(
            minimal_config(
                cluster={
                    "access": {
                        "adminRole": {
                            "create": True,
                            "trustedPrincipalArns": ["arn:aws:iam::111122223333:role/sso-admins"],
                        }
                    }
                }
            ),
            stack="s",
            region="eu-west-1",
        )


# ---------------------------------------------------------------------------------------
# OIDC sign-in
# ---------------------------------------------------------------------------------------
def test_identity_provider_config(rec):
    r = rec.one("aws:eks/identityProviderConfig:IdentityProviderConfig", f"{C}-sso")
    assert r.delete_before_replace is True  # one OIDC provider per cluster
    assert r.inputs["clusterName"] == C
    assert r.inputs["oidc"] == {
        "identityProviderConfigName": "oidc",
        "issuerUrl": OIDC["issuerUrl"],
        "clientId": "kubernetes",
        "usernameClaim": "email",
        "groupsClaim": "groups",
        "groupsPrefix": "oidc:",
        "requiredClaims": {"hd": "example.com"},
    }


def test_rbac_bindings_carry_the_groups_prefix(rec):
    bindings = {
        r.inputs["subjects"][0]["name"]: r.inputs
        for r in rec.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
    }
    assert {k: v["roleRef"]["name"] for k, v in bindings.items()} == {
        "oidc:platform-admins": "cluster-admin",
        "oidc:developers": "edit",
        "oidc:Eng/Readers": "view",
    }
    names = {v["metadata"]["name"] for v in bindings.values()}
    assert "eks-platform:oidc:edit:developers" in names
    # a group that is not a valid object name gets a digest
    assert any(n.startswith("eks-platform:oidc:view:Eng-Readers-") for n in names)
    assert all("/" not in n for n in names)
    assert rec.outputs["oidcIdentityProvider"] == {
        "issuerUrl": OIDC["issuerUrl"],
        "groups": ["Eng/Readers", "developers", "platform-admins"],
    }


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({**OIDC, "issuerUrl": "http://login.example.com"}, "is not an https URL"),
        ({**OIDC, "issuerUrl": "https://login.example.com/?a=b"}, "without query or fragment"),
        ({**OIDC, "groupsPrefix": "system:"}, "contains system:"),
        ({**OIDC, "groupsClaim": None}, "needs groupsClaim"),
        ({**OIDC, "groupBindings": {"a": "owner"}}, "owner"),
        ({**OIDC, "requiredClaims": {f"c{i}": "v" for i in range(11)}}, "EKS allows 10"),
    ],
)
def test_oidc_refusals(raw, fragment):
    raw = {k: v for k, v in raw.items() if v is not None}
    assert fragment in problems(OidcProvider, **raw)


def test_binding_names_are_valid_and_unique():
    names = {acc.binding_name(g, "view") for g in ("a/b", "a-b", "a%b", "x" * 300)}
    assert len(names) == 4 and all(len(n) <= 253 and "/" not in n and "%" not in n for n in names)


def test_platform_service_accounts_and_their_mechanisms():
    """Every enabled add-on's service account is the platform's; external-dns with Cloudflare has no AWS role (so no
    mechanism), which keeps it out of the Pod Identity agent check."""
    from components.config import load, service_account_roles

    cfg = load(
        minimal_config(
            addons={
                "identity": "irsa",
                "externalSecrets": {"ssmPathPrefix": "/team/"},
                "externalDns": {
                    "provider": "cloudflare",
                    "domainFilters": ["example.org"],
                    "identity": "podIdentity",
                    "cloudflare": {"apiTokenParameter": "/platform/cloudflare/api-token"},
                },
            },
            cluster={"access": {"adminRoleArns": [ADMIN]}, "addons": {"podIdentityAgent": {"enabled": False}}},
        ),
        stack="t",
        region="eu-west-1",
    )
    roles = service_account_roles(cfg)
    assert roles[("external-dns", "external-dns")] == ("addons.externalDns", None)
    assert roles[("external-secrets", "external-secrets")] == ("addons.externalSecrets", "irsa")
    assert roles[("kube-system", "aws-node")] == ("cluster.addons.vpcCni", "irsa")
    assert ("kube-system", "karpenter") not in roles  # no karpenter pool: the controller is off
