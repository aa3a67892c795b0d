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


_LABEL_SELECTOR = _obj({
    "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
    "matchExpressions": {"type": "array", "items": _obj({
        "key": {"type": "string"}, "operator": {"type": "string"},
        "values": {"type": "array", "items": {"type": "string"}}}, ("key", "operator"))},
})

# aws-load-balancer-controller v3.5.0 (chart 3.5.0): helm/aws-load-balancer-controller/crds/crds.yaml,
# targetgroupbindings.elbv2.k8s.aws, version v1beta1 (apis/elbv2/v1beta1/targetgroupbinding_types.go).
TARGET_GROUP_BINDING_V1BETA1 = _obj({
    "apiVersion": {"const": "elbv2.k8s.aws/v1beta1"},
    "kind": {"const": "TargetGroupBinding"},
    "metadata": {"type": "object"},
    "spec": _obj({
        "targetGroupARN": {"type": "string"},
        "targetGroupName": {"type": "string"},
        "multiClusterTargetGroup": {"type": "boolean"},
        "targetType": {"enum": ["instance", "ip"]},
        "targetGroupProtocol": {"enum": ["HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP", "QUIC", "TCP_QUIC"]},
        "serviceRef": _obj({"name": {"type": "string"}, "port": _INT_OR_STRING}, ("name", "port")),
        "networking": _obj({"ingress": {"type": "array", "items": _obj({
            "from": {"type": "array", "items": _obj({
                "ipBlock": _obj({"cidr": {"type": "string"}}, ("cidr",)),
                "securityGroup": _obj({"groupID": {"type": "string"}}, ("groupID",)),
            })},
            "ports": {"type": "array", "items": _obj({"protocol": {"enum": ["TCP", "UDP"]}, "port": _INT_OR_STRING})},
        }, ("from", "ports"))}}),
        "nodeSelector": _LABEL_SELECTOR,
        "ipAddressType": {"enum": ["ipv4", "ipv6"]},
        "vpcID": {"type": "string"},
        "iamRoleArnToAssume": {"type": "string"},
        "assumeRoleExternalId": {"type": "string"},
    }, ("serviceRef",)),
}, ("apiVersion", "kind", "spec"))


# amazon-vpc-resource-controller-k8s: config/crd/bases/vpcresources.k8s.aws_securitygrouppolicies.yaml
# (installed by EKS itself), version v1beta1.
SECURITY_GROUP_POLICY_V1BETA1 = _obj({
    "apiVersion": {"const": "vpcresources.k8s.aws/v1beta1"},
    "kind": {"const": "SecurityGroupPolicy"},
    "metadata": {"type": "object"},
    "spec": _obj({
        "podSelector": _LABEL_SELECTOR,
        "serviceAccountSelector": _LABEL_SELECTOR,
        "securityGroups": _obj({"groupIds": {"type": "array", "items": {"type": "string"}, "minItems": 1}}),
    }),
}, ("apiVersion", "kind", "spec"))

# amazon-vpc-cni-k8s: charts/aws-vpc-cni/crds/customresourcedefinition.yaml, eniconfigs.crd.k8s.amazonaws.com
# v1alpha1 (cluster-scoped; the spec's fields are declared, subnet required).
ENI_CONFIG_V1ALPHA1 = _obj({
    "apiVersion": {"const": "crd.k8s.amazonaws.com/v1alpha1"},
    "kind": {"const": "ENIConfig"},
    "metadata": {"type": "object", "required": ["name"], "not": {"required": ["namespace"]}},
    "spec": _obj({"securityGroups": {"type": "array", "items": {"type": "string"}},
                  "subnet": {"type": "string"}}, ("subnet",)),
}, ("apiVersion", "kind", "spec"))


def problems(schema: dict[str, Any], obj: Any) -> list[str]:
    """Every schema violation of ``obj`` as ``path: message``."""
    validator = jsonschema.Draft202012Validator(schema)
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(obj))
