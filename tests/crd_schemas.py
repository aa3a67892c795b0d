"""Structural schemas of the custom resources the program creates, written from the CRDs of the pinned charts.

Our own rendition (nothing copied) of what the API server checks: types, enums, required fields, and no
unknown fields (a structural schema prunes them; server-side field validation refuses them). Each names the
CRD it follows, at the chart version platform/addons.yaml pins.
"""

from __future__ import annotations

from typing import Any

import jsonschema

_INT_OR_STRING = {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_LABEL_SELECTOR = _obj(
    {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {
            "type": "array",
            "items": _obj(
                {
                    "key": {"type": "string"},
                    "operator": {"type": "string"},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
                ("key", "operator"),
            ),
        },
    }
)

# aws-load-balancer-controller v3.5.0 (chart 3.5.0): helm/aws-load-balancer-controller/crds/crds.yaml,
# targetgroupbindings.elbv2.k8s.aws, version v1beta1 (apis/elbv2/v1beta1/targetgroupbinding_types.go).
TARGET_GROUP_BINDING_V1BETA1 = _obj(
    {
        "apiVersion": {"const": "elbv2.k8s.aws/v1beta1"},
        "kind": {"const": "TargetGroupBinding"},
        "metadata": {"type": "object"},
        "spec": _obj(
            {
                "targetGroupARN": {"type": "string"},
                "targetGroupName": {"type": "string"},
                "multiClusterTargetGroup": {"type": "boolean"},
                "targetType": {"enum": ["instance", "ip"]},
                "targetGroupProtocol": {"enum": ["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC"]},
                "serviceRef": _obj({"name": {"type": "string"}, "port": _INT_OR_STRING}, ("name", "port")),
                "networking": _obj(
                    {
                        "ingress": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "from": {
                                        "type": "array",
                                        "items": _obj(
                                            {
                                                "ipBlock": _obj({"cidr": {"type": "string"}}, ("cidr",)),
                                                "securityGroup": _obj({"groupID": {"type": "string"}}, ("groupID",)),
                                            }
                                        ),
                                    },
                                    "ports": {
                                        "type": "array",
                                        "items": _obj({"protocol": {"enum": ["TCP", "UDP"]}, "port": _INT_OR_STRING}),
                                    },
                                },
                                ("from", "ports"),
                            ),
                        }
                    }
                ),
                "nodeSelector": _LABEL_SELECTOR,
                "ipAddressType": {"enum": ["ipv4", "ipv6"]},
                "vpcID": {"type": "string"},
                "iamRoleArnToAssume": {"type": "string"},
                "assumeRoleExternalId": {"type": "string"},
            },
            ("serviceRef",),
        ),
    },
    ("apiVersion", "kind", "spec"),
)


# amazon-vpc-resource-controller-k8s: config/crd/bases/vpcresources.k8s.aws_securitygrouppolicies.yaml
# (installed by EKS itself), version v1beta1.
SECURITY_GROUP_POLICY_V1BETA1 = _obj(
    {
        "apiVersion": {"const": "vpcresources.k8s.aws/v1beta1"},
        "kind": {"const": "SecurityGroupPolicy"},
        "metadata": {"type": "object"},
        "spec": _obj(
            {
                "podSelector": _LABEL_SELECTOR,
                "serviceAccountSelector": _LABEL_SELECTOR,
                "securityGroups": _obj({"groupIds": {"type": "array", "items": {"type": "string"}, "minItems": 1}}),
            }
        ),
    },
    ("apiVersion", "kind", "spec"),
)

# amazon-vpc-cni-k8s: charts/aws-vpc-cni/crds/customresourcedefinition.yaml, eniconfigs.crd.k8s.amazonaws.com
# v1alpha1 (cluster-scoped; the spec's fields are declared, subnet required).
ENI_CONFIG_V1ALPHA1 = _obj(
    {
        "apiVersion": {"const": "crd.k8s.amazonaws.com/v1alpha1"},
        "kind": {"const": "ENIConfig"},
        "metadata": {"type": "object", "required": ["name"], "not": {"required": ["namespace"]}},
        "spec": _obj(
            {"securityGroups": {"type": "array", "items": {"type": "string"}}, "subnet": {"type": "string"}},
            ("subnet",),
        ),
    },
    ("apiVersion", "kind", "spec"),
)


# Karpenter 1.14.1 (chart 1.14.1): pkg/apis/crds/karpenter.sh_nodepools.yaml, karpenter.sh/v1 NodePool, and
# karpenter.k8s.aws_ec2nodeclasses.yaml, karpenter.k8s.aws/v1 EC2NodeClass. The patterns are the CRDs' own
# validations as facts: quantities, durations (consolidateAfter/expireAfter), volume sizes, requirement operators.
_QUANTITY = {
    "type": "string",
    "pattern": r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
}
_DURATION_OR_NEVER = {"type": "string", "pattern": r"^(([0-9]+(s|m|h))+|Never)$"}
_RESERVED = {
    "type": "object",
    "propertyNames": {"enum": ["cpu", "memory", "ephemeral-storage", "pid"]},
    "additionalProperties": _QUANTITY,
}
_TAINT = _obj(
    {
        "key": {"type": "string"},
        "value": {"type": "string"},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
    },
    ("key", "effect"),
)
NODE_POOL_V1 = _obj(
    {
        "apiVersion": {"const": "karpenter.sh/v1"},
        "kind": {"const": "NodePool"},
        "metadata": {"type": "object", "required": ["name"], "not": {"required": ["namespace"]}},
        "spec": _obj(
            {
                "template": _obj(
                    {
                        "metadata": _obj(
                            {
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "annotations": {"type": "object"},
                            }
                        ),
                        "spec": _obj(
                            {
                                "nodeClassRef": _obj(
                                    {
                                        "group": {"type": "string"},
                                        "kind": {"type": "string"},
                                        "name": {"type": "string"},
                                    },
                                    ("group", "kind", "name"),
                                ),
                                "requirements": {
                                    "type": "array",
                                    "maxItems": 100,
                                    "items": _obj(
                                        {
                                            "key": {"type": "string", "maxLength": 316},
                                            "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]},
                                            "values": {"type": "array", "items": {"type": "string"}, "maxLength": 63},
                                            "minValues": {"type": "integer", "minimum": 1, "maximum": 50},
                                        },
                                        ("key", "operator"),
                                    ),
                                },
                                "taints": {"type": "array", "items": _TAINT},
                                "startupTaints": {"type": "array", "items": _TAINT},
                                "expireAfter": _DURATION_OR_NEVER,
                                "terminationGracePeriod": {"type": "string"},
                            },
                            ("nodeClassRef", "requirements"),
                        ),
                    },
                    ("spec",),
                ),
                "disruption": _obj(
                    {
                        "consolidationPolicy": {"enum": ["WhenEmpty", "WhenEmptyOrUnderutilized"]},
                        "consolidateAfter": _DURATION_OR_NEVER,
                        "budgets": {"type": "array", "maxItems": 50},
                    },
                    ("consolidateAfter",),
                ),
                "limits": {"type": "object", "additionalProperties": _QUANTITY},
                "weight": {"type": "integer", "minimum": 1, "maximum": 100},
                "replicas": {"type": "integer"},
            },
            ("template",),
        ),
    },
    ("apiVersion", "kind", "spec"),
)

_SELECTOR_TERMS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 30,
    "items": _obj(
        {
            "tags": {"type": "object", "maxProperties": 20, "additionalProperties": {"type": "string", "minLength": 1}},
            "id": {"type": "string"},
            "name": {"type": "string"},
        }
    ),
}
EC2_NODE_CLASS_V1 = _obj(
    {
        "apiVersion": {"const": "karpenter.k8s.aws/v1"},
        "kind": {"const": "EC2NodeClass"},
        "metadata": {"type": "object", "required": ["name"], "not": {"required": ["namespace"]}},
        "spec": _obj(
            {
                "role": {"type": "string", "maxLength": 64},
                "instanceProfile": {"type": "string"},
                "amiFamily": {
                    "enum": ["AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022", "Windows2025"]
                },
                "amiSelectorTerms": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 30,
                    "items": _obj(
                        {
                            "alias": {
                                "type": "string",
                                "pattern": r"^(al2|al2023|bottlerocket|windows2019|windows2022|windows2025)@"
                                r"(latest|v[^\s]+)$",
                            },
                            "id": {"type": "string"},
                            "name": {"type": "string"},
                            "owner": {"type": "string"},
                            "tags": {"type": "object"},
                            "ssmParameter": {"type": "string"},
                        }
                    ),
                },
                "subnetSelectorTerms": _SELECTOR_TERMS,
                "securityGroupSelectorTerms": _SELECTOR_TERMS,
                "metadataOptions": _obj(
                    {
                        "httpEndpoint": {"enum": ["enabled", "disabled"]},
                        "httpProtocolIPv6": {"enum": ["enabled", "disabled"]},
                        "httpPutResponseHopLimit": {"type": "integer", "minimum": 1, "maximum": 64},
                        "httpTokens": {"enum": ["required", "optional"]},
                    }
                ),
                "blockDeviceMappings": {
                    "type": "array",
                    "maxItems": 50,
                    "items": _obj(
                        {
                            "deviceName": {"type": "string"},
                            "rootVolume": {"type": "boolean"},
                            "ebs": _obj(
                                {
                                    "deleteOnTermination": {"type": "boolean"},
                                    "encrypted": {"type": "boolean"},
                                    "iops": {"type": "integer"},
                                    "throughput": {"type": "integer"},
                                    "kmsKeyID": {"type": "string"},
                                    "snapshotID": {"type": "string"},
                                    "volumeSize": {"type": "string", "pattern": r"^[1-9][0-9]*(Gi|G|Ti|T)$"},
                                    "volumeType": {"enum": ["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"]},
                                }
                            ),
                        }
                    ),
                },
                "kubelet": _obj(
                    {
                        "maxPods": {"type": "integer", "minimum": 0},
                        "kubeReserved": _RESERVED,
                        "systemReserved": _RESERVED,
                        "evictionHard": {
                            "type": "object",
                            "propertyNames": {
                                "enum": [
                                    "memory.available",
                                    "nodefs.available",
                                    "nodefs.inodesFree",
                                    "imagefs.available",
                                    "imagefs.inodesFree",
                                    "pid.available",
                                ]
                            },
                            "additionalProperties": {"type": "string"},
                        },
                        "clusterDNS": {"type": "array", "items": {"type": "string"}},
                    }
                ),
                "tags": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "propertyNames": {
                        "not": {
                            "pattern": r"^(kubernetes\.io/cluster/|karpenter\.sh/nodepool$|karpenter\.sh/nodeclaim$|"
                            r"karpenter\.k8s\.aws/ec2nodeclass$|eks:eks-cluster-name$)"
                        }
                    },
                },
                "userData": {"type": "string"},
                "detailedMonitoring": {"type": "boolean"},
                "associatePublicIPAddress": {"type": "boolean"},
            },
            ("amiSelectorTerms", "securityGroupSelectorTerms", "subnetSelectorTerms"),
        ),
    },
    ("apiVersion", "kind", "spec"),
)


# external-secrets v2.9.0 (chart 2.9.0): apis/externalsecrets/v1/secretstore_types.go (ClusterSecretStoreCondition),
# secretstore_aws_types.go (AWSProvider: service enum, auth.jwt.serviceAccountRef, role, sessionTagsPolicy enum).
_AWS_PROVIDER = _obj(
    {
        "service": {"enum": ["SecretsManager", "ParameterStore", "CertificateManager"]},
        "region": {"type": "string"},
        "role": {"type": "string"},
        "prefix": {"type": "string"},
        "sessionTagsPolicy": {"enum": ["None", "Simple", "Custom"]},
        "auth": _obj(
            {
                "jwt": _obj(
                    {
                        "serviceAccountRef": _obj(
                            {
                                "name": {"type": "string"},
                                "namespace": {"type": "string"},
                                "audiences": {"type": "array", "items": {"type": "string"}},
                            },
                            ("name",),
                        )
                    }
                )
            }
        ),
    },
    ("service", "region"),
)
CLUSTER_SECRET_STORE_V1 = _obj(
    {
        "apiVersion": {"const": "external-secrets.io/v1"},
        "kind": {"const": "ClusterSecretStore"},
        "metadata": {"type": "object"},
        "spec": _obj(
            {
                "conditions": {
                    "type": "array",
                    "items": _obj(
                        {
                            "namespaceSelector": _LABEL_SELECTOR,
                            "namespaces": {"type": "array", "items": {"type": "string"}},
                            "namespaceRegexes": {"type": "array", "items": {"type": "string"}},
                        }
                    ),
                },
                "provider": _obj({"aws": _AWS_PROVIDER}),
            },
            ("provider",),
        ),
    },
    ("apiVersion", "kind", "spec"),
)
# apis/externalsecrets/v1/externalsecret_types.go at v2.9.0: secretStoreRef.kind SecretStore | ClusterSecretStore,
# target.creationPolicy Owner | Orphan | Merge | None | CreateOrMerge, data[].remoteRef.key required.
EXTERNAL_SECRET_V1 = _obj(
    {
        "apiVersion": {"const": "external-secrets.io/v1"},
        "kind": {"const": "ExternalSecret"},
        "metadata": {"type": "object"},
        "spec": _obj(
            {
                "refreshInterval": {"type": "string"},
                "secretStoreRef": _obj(
                    {"kind": {"enum": ["SecretStore", "ClusterSecretStore"]}, "name": {"type": "string"}}, ("name",)
                ),
                "target": _obj(
                    {
                        "name": {"type": "string"},
                        "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None", "CreateOrMerge"]},
                    }
                ),
                "data": {
                    "type": "array",
                    "items": _obj(
                        {
                            "secretKey": {"type": "string"},
                            "remoteRef": _obj({"key": {"type": "string"}, "property": {"type": "string"}}, ("key",)),
                        },
                        ("secretKey", "remoteRef"),
                    ),
                },
            }
        ),
    },
    ("apiVersion", "kind", "spec"),
)
BY_KIND = {"ClusterSecretStore": CLUSTER_SECRET_STORE_V1, "ExternalSecret": EXTERNAL_SECRET_V1}


def problems(schema: dict[str, Any], obj: Any) -> list[str]:
    """Every schema violation of ``obj`` as ``path: message``."""
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(obj))
