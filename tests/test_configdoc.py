"""The configuration reference is generated from Pulumi.yaml and the reader, and is up to date."""

import yaml

from components import config as cfgmod
from components.configdocs import FIELD_DOCS
from tests.conftest import ROOT
from tools import configdoc


def test_pulumi_yaml_declares_every_top_level_key_typed_and_described():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert tuple(declared) == cfgmod.TOP_LEVEL_KEYS
    for key, decl in declared.items():
        assert decl["type"] == "object" and decl["default"] == {} and decl["description"], key


def test_the_reader_reads_exactly_the_declared_top_level_keys():
    tops = {path.split(".")[0] for path in configdoc.fields()}
    assert tops == set(cfgmod.TOP_LEVEL_KEYS)


def test_every_field_has_a_meaning_and_every_meaning_a_field():
    assert set(configdoc.fields()) == set(FIELD_DOCS)


def test_docs_configuration_md_is_current():
    assert configdoc.main(["--check"]) == 0, "run `venv/bin/python -m tools.configdoc`"


def test_nested_field_types_and_defaults_come_from_the_reader():
    fields = configdoc.fields()
    assert fields["network.natGateways"] == {"type": "string", "default": "single",
                                             "allowed": "single \\| perAz \\| none"}
    assert fields["nodeGroups.<name>.imds.hopLimit"]["allowed"] == "1..2"
    assert fields["nodeGroups.<name>.taints[].effect"]["default"] == "NoSchedule"
