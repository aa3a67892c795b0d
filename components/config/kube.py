"""Kubernetes objects users write in config: label selectors."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from components.config.base import DNS_LABEL, LabelKey, LabelValue, Model, Problems, text

# Namespaces are RFC 1123 labels (k8s.io/apimachinery/pkg/util/validation IsDNS1123Label).
Namespace = text(DNS_LABEL, "a namespace name (RFC 1123 label: 1-63 lowercase letters, digits, -)", max_len=63)


class SelectorRequirement(Model):
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[LabelValue, ...] = ()

    @model_validator(mode="after")
    def _values(self) -> SelectorRequirement:
        # metav1.LabelSelectorRequirement: In/NotIn need values, Exists/DoesNotExist take none.
        found = Problems()
        if self.operator in ("In", "NotIn") and not self.values:
            found.add("values", f"is required with operator {self.operator}")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            found.add("values", f"must be empty with operator {self.operator}")
        found.check()
        return self


class LabelSelector(Model):
    """A Kubernetes label selector (metav1.LabelSelector)."""

    match_labels: dict[LabelKey, LabelValue] = {}
    match_expressions: tuple[SelectorRequirement, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> LabelSelector:
        if not self.match_labels and not self.match_expressions:
            found = Problems()
            found.add("", "selects everything: give matchLabels or matchExpressions")
            found.check()
        return self

    def manifest(self) -> dict:
        out: dict = {}
        if self.match_labels:
            out["matchLabels"] = dict(sorted(self.match_labels.items()))
        if self.match_expressions:
            out["matchExpressions"] = [
                {"key": e.key, "operator": e.operator, **({"values": sorted(e.values)} if e.values else {})}
                for e in self.match_expressions
            ]
        return out
