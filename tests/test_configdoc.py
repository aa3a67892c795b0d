"""One schema, three uses: the JSON Schema of stack files, the configuration reference, Pulumi.yaml."""

import json

import jsonschema
import pytest
import yaml

from components.config import Sections
from tests.helpers import ROOT
from tools import configdoc
from tools.stackfile import parse_yaml

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))


def stack_doc(path):
    return parse_yaml(path.read_bytes(), path.name)


def validator():
    schema = json.loads((ROOT / "docs" / "stack.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_generated_files_are_current():
    assert configdoc.main(["--check"]) == 0, "run `venv/bin/python -m tools.configdoc`"


def test_pulumi_yaml_declares_the_models_top_level_keys_typed_and_described():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    sections = {info.alias: info for info in Sections.model_fields.values()}
    assert list(declared) == list(sections)
    described = configdoc.schema()["properties"]["config"]["properties"]
    for key, decl in declared.items():
        assert decl["type"] == "object" and decl["default"] == {}, key
        assert decl["description"] == " ".join(described[f"eks-platform:{key}"]["description"].split()), key


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_the_schema_accepts_the_stack_files_and_they_name_it(path):
    validator().validate(stack_doc(path))
    assert path.read_text().splitlines()[0] == "# yaml-language-server: $schema=docs/stack.schema.json"


def test_the_schema_refuses_what_the_models_refuse():
    v = validator()
    doc = stack_doc(ROOT / "Pulumi.prod.yaml")
    cases = {
        "a typo'd key": ("eks-platform:network", "natGateway", "perAz"),
        "an unknown node-group field": (
            "eks-platform:nodeGroups",
            "system",
            {**doc["config"]["eks-platform:nodeGroups"]["system"], "amiId": "ami-0123456789abcdef0"},
        ),
        "a string for a boolean": ("eks-platform:cluster", "protect", "true"),
        "an unknown instance type": (
            "eks-platform:nodeGroups",
            "system",
            {**doc["config"]["eks-platform:nodeGroups"]["system"], "instanceTypes": ["m7i.huge"]},
        ),
    }
    for what, (section, key, value) in cases.items():
        bad = json.loads(json.dumps(doc))
        bad["config"][section][key] = value
        assert not v.is_valid(bad), what
    assert not v.is_valid({**doc, "confg": {}})
    assert not v.is_valid({"config": {**doc["config"], "aws:region": "eu-westt-1"}})
    # Other providers' namespaces are theirs to check.
    assert v.is_valid({"config": {**doc["config"], "aws:profile": "ops", "pulumi:tags": {"a": "b"}}})


def test_the_reference_names_every_field_of_the_models():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for path in (
        "network.flowLogs.retentionDays",
        "cluster.endpoint.accessHost.instanceType",
        "nodeGroups.<name>.capacity.type (kind: managed)",
        "nodeGroups.<name>.amiId (kind: selfManaged)",
        "addons.externalSecrets.namespaceSelector",
        "delivery.runner.connectionArn",
    ):
        assert f"| `{path}` |" in text, path
