"""Block storage for workloads: the Amazon EBS CSI driver and a default encrypted gp3 StorageClass.

Without a CSI driver no PersistentVolumeClaim binds (Kubernetes removed the in-tree EBS provisioner's
migration fallback). The driver runs as the EKS managed add-on ``aws-ebs-csi-driver`` with its own role for the
controller's service account (EKS Pod Identity through the add-on's own association, or IRSA) (``kube-system/ebs-csi-controller-sa``), the controller on the system nodes
and the node DaemonSet on every node (any taint), so a volume can be attached wherever its pod lands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import NodeAddonArgs, node_addon
from components.context import AwsContext
from components.identity import ServiceAccount, ServiceAccountRole, ServiceAccountRoleArgs

ADDON = "aws-ebs-csi-driver"
CONTROLLER_SERVICE_ACCOUNT = ServiceAccount("kube-system", "ebs-csi-controller-sa")
PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
# AWS managed policy for the driver (EBS CSI docs, "Create an IAM role"): volumes, snapshots, attachments,
# tag-conditioned deletes.
MANAGED_POLICY = "service-role/AmazonEBSCSIDriverPolicy"


# ---------------------------------------------------------------------------------------
# decisions (pure)
# ---------------------------------------------------------------------------------------
def kms_policy(key_arn: str) -> dict[str, Any]:
    """What the driver's role needs to create volumes encrypted with a customer key (aws-ebs-csi-driver
    docs/install.md, "KMS key policy"): grants for EC2 only, and the data-key operations on that key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GrantsForEbs",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": [key_arn],
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "UseTheKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Resource": [key_arn],
            },
        ],
    }


def configuration_values(placement: dict[str, Any]) -> str:
    """The add-on's values (its schema follows the chart's values.yaml): the controller on the system nodes,
    the node plugin tolerating every taint."""
    values: dict[str, Any] = {"node": {"tolerateAllTaints": True}}
    if placement:
        values["controller"] = placement
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def gp3_parameters(kms_key_arn: str | None) -> dict[str, str]:
    """StorageClass parameters of the driver (docs/parameters.md): gp3, always encrypted, a customer key if
    given (else the account's aws/ebs key)."""
    params = {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
    if kms_key_arn:
        params["kmsKeyId"] = kms_key_arn
    return params


# ---------------------------------------------------------------------------------------
# the component
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EbsCsiArgs:
    addon: NodeAddonArgs
    kms_key_arn: str | None
    mechanism: str
    cluster_name: str
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    k8s_provider: pulumi.ProviderResource
    ctx: AwsContext


class EbsCsi(pulumi.ComponentResource):
    role: ServiceAccountRole
    addon: Any
    storage_class: k8s.storage.v1.StorageClass

    def __init__(self, name: str, args: EbsCsiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eks-platform:cluster:EbsCsi", name, None, opts)
        policies = {"kms": json.dumps(kms_policy(args.kms_key_arn), sort_keys=True)} if args.kms_key_arn else {}
        sa = CONTROLLER_SERVICE_ACCOUNT
        self.role = ServiceAccountRole(
            name,
            ServiceAccountRoleArgs(
                service_account=sa,
                mechanism=args.mechanism,
                cluster_name=args.cluster_name,
                ctx=args.ctx,
                oidc_provider_arn=args.oidc_provider_arn,
                oidc_issuer_url=args.oidc_issuer_url,
                managed_policy_arns={"ebs": args.ctx.managed_policy(MANAGED_POLICY)},
                policies=policies,
                description="EBS CSI driver controller: volumes, snapshots, attachments",
                associate=False,
                formerly=name,  # the add-on owns its association (pod_identity_associations)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Pod Identity: the add-on's own association (EBS CSI >= v1.26; the catalog's versions all are).
        addon_args = replace(args.addon, after=[*args.addon.after, self.role], **self.role.addon_identity())
        self.addon = node_addon(name, ADDON, addon_args, self)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.k8s_provider)
        self.storage_class = k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={"name": "gp3", "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
            provisioner=PROVISIONER,
            parameters=gp3_parameters(args.kms_key_arn),
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Delete",
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.addon])),
        )
        # No patch of EKS's gp2 class: clusters created at Kubernetes 1.30 or later (every minor the platform
        # supports) get it without the default annotation, and one may not exist at all; patching a class that is
        # not there fails the `pulumi up` (EKS user guide, Kubernetes 1.30 release notes). gp3 is the only default.
        self.register_outputs({"roleArn": self.role.role_arn, "storageClass": "gp3"})
