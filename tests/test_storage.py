"""EBS CSI with a default encrypted gp3 class, and metrics-server: decisions and the prod plan."""

from __future__ import annotations

import json

from components import storage
from components.addons.base import placement
from tests.helpers import node_group

KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b6c1f7e-3d2a-4e5f-9a8b-7c6d5e4f3a2b"
P = "eks-platform-prod"


def test_kms_policy_only_grants_for_aws_resources_on_that_key():
    doc = storage.kms_policy(KEY)
    grants, use = doc["Statement"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert grants["Resource"] == use["Resource"] == [KEY]
    assert "kms:CreateGrant" in grants["Action"] and "kms:CreateGrant" not in use["Action"]


def test_gp3_parameters_are_always_encrypted():
    assert storage.gp3_parameters(None) == {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    assert storage.gp3_parameters(KEY)["kmsKeyId"] == KEY


def test_configuration_values_place_the_controller_and_tolerate_every_taint_on_nodes():
    system = node_group(
        "system",
        kind="managed",
        instanceTypes=["m7i.large"],
        taints=[{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}],
    )
    values = json.loads(storage.configuration_values(placement(system)))
    assert values["node"] == {"tolerateAllTaints": True}
    assert values["controller"]["nodeSelector"] == {"eks-platform/node-group": "system"}
    assert {"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in values[
        "controller"
    ]["tolerations"]
    assert json.loads(storage.configuration_values({})) == {"node": {"tolerateAllTaints": True}}


def kids(rec, typ, name):
    return {(c.type, c.name): c for c in rec.children(rec.one(typ, name))}


def test_ebs_csi_children_role_and_order(prod):
    c = kids(prod, "eks-platform:cluster:EbsCsi", f"{P}-ebs-csi")
    assert set(c) == {
        ("eks-platform:identity:ServiceAccountRole", f"{P}-ebs-csi"),
        ("aws:eks/addon:Addon", f"{P}-ebs-csi"),
        ("kubernetes:storage.k8s.io/v1:StorageClass", f"{P}-ebs-csi-gp3"),
    }
    addon = c[("aws:eks/addon:Addon", f"{P}-ebs-csi")]
    role = prod.one("aws:iam/role:Role", f"{P}-ebs-csi")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    # Pod Identity through the add-on's own association (no standalone one, no IRSA role ARN)
    (assoc,) = addon.inputs["podIdentityAssociations"]
    assert assoc["serviceAccount"] == "ebs-csi-controller-sa"
    assert assoc["roleArn"].startswith(f"arn:aws:iam::111122223333:role/{P}-ebs-csi-")
    assert "serviceAccountRoleArn" not in addon.inputs
    assert f"{P}-ebs-csi" not in [a.name for a in prod.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    cond = trust["Statement"][0]["Condition"]["StringEquals"]
    assert cond == {
        "aws:RequestTag/eks-cluster-name": P,
        "aws:RequestTag/kubernetes-namespace": "kube-system",
        "aws:RequestTag/kubernetes-service-account": "ebs-csi-controller-sa",
    }
    attached = [
        r for r in prod.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") if r.name == f"{P}-ebs-csi-ebs"
    ]
    assert attached[0].inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    # created after the system group (its controller's nodes; EKS reports it ACTIVE once the controller runs) and
    # the Pod Identity agent (its credentials), not after every group
    assert prod.one("aws:eks/nodeGroup:NodeGroup", f"{P}-system").urn in addon.dependencies
    assert prod.one("aws:eks/addon:Addon", f"{P}-eks-pod-identity-agent").urn in addon.dependencies
    assert prod.one("aws:autoscaling/group:Group", f"{P}-workers").urn not in addon.dependencies
    values = json.loads(addon.inputs["configurationValues"])
    assert values["controller"]["nodeSelector"] == {"eks-platform/node-group": "system"}


def test_default_storage_class_is_encrypted_gp3_and_gp2_is_left_alone(prod):
    c = kids(prod, "eks-platform:cluster:EbsCsi", f"{P}-ebs-csi")
    sc = c[("kubernetes:storage.k8s.io/v1:StorageClass", f"{P}-ebs-csi-gp3")].inputs
    assert sc["metadata"] == {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}
    assert sc["provisioner"] == "ebs.csi.aws.com" and sc["parameters"]["encrypted"] == "true"
    assert (sc["volumeBindingMode"], sc["allowVolumeExpansion"], sc["reclaimPolicy"]) == (
        "WaitForFirstConsumer",
        True,
        "Delete",
    )
    # EKS's gp2 is not default on clusters created at 1.30+ (all the platform supports) and may not exist: a patch
    # of it could fail the `pulumi up`, so there is none
    assert not prod.by_type("kubernetes:storage.k8s.io/v1:StorageClassPatch")
    addon_urn = c[("aws:eks/addon:Addon", f"{P}-ebs-csi")].urn
    assert addon_urn in c[("kubernetes:storage.k8s.io/v1:StorageClass", f"{P}-ebs-csi-gp3")].dependencies


def test_metrics_server_is_the_eks_add_on_on_the_system_nodes(prod, dev):
    for rec, p in ((prod, P), (dev, "eks-platform-dev")):
        c = kids(rec, "eks-platform:cluster:MetricsServer", f"{p}-metrics-server")
        [addon] = c.values()
        assert addon.inputs["addonName"] == "metrics-server"
        values = json.loads(addon.inputs["configurationValues"])
        assert values["nodeSelector"] == {"eks-platform/node-group": "system"}
        system = rec.one("eks-platform:nodegroups:ManagedNodeGroup", f"{p}-system")
        node_group_urns = [x.urn for x in rec.children(system) if x.type == "aws:eks/nodeGroup:NodeGroup"]
        assert set(node_group_urns) <= set(addon.dependencies)
