"""The stack-file reader reads YAML the way the Pulumi CLI does, and never crashes."""

import pytest

from components.config import ConfigError
from components.config.stackfile import MAX_NODES, parse_runtime_value, parse_yaml, read_stack_file


def parse(text: str):
    return parse_yaml(text.encode(), "Pulumi.t.yaml")


def test_yaml_1_2_core_schema_as_go_yaml_reads_it():
    doc = parse("a: yes\nb: on\nc: 010\nd: 0o10\ne: 0x1F\nf: true\ng: ~\nh: 1_000\ni: 2.5\nj: -3\n")
    assert doc == {"a": "yes", "b": "on", "c": 10, "d": 8, "e": 31, "f": True, "g": None, "h": "1_000", "i": 2.5,
                   "j": -3}


def test_merge_keys_and_bounded_aliases_work():
    doc = parse("base: &b {kind: managed, instanceTypes: [m7i.large]}\ngroup:\n  <<: *b\n  kind: selfManaged\n")
    assert doc["group"] == {"kind": "selfManaged", "instanceTypes": ["m7i.large"]}
    many = "x: &x [1, 2, 3]\n" + "".join(f"y{i}: *x\n" for i in range(100))
    assert parse(many)["y99"] == [1, 2, 3]


def test_an_alias_bomb_is_refused_without_expanding_it():
    bomb = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    with pytest.raises(ConfigError, match=f"aliases expand to more than {MAX_NODES} values"):
        parse(bomb)


@pytest.mark.parametrize("text,fragment", [
    ("a: 2024-01-01\n", "Pulumi.t.yaml:1: a: unquoted date 2024-01-01"),
    ("a: !Ref x\n", "Pulumi.t.yaml:1: a: the tag !Ref is not supported"),
    ("? [1, 2]\n: x\n", "Pulumi.t.yaml:1: the key a sequence is not a string"),
    ("a: 1\na: 2\n", "Pulumi.t.yaml:2: a: is defined twice (first on line 1)"),
    ("a: .NaN\n", "Pulumi.t.yaml:1: a: .NaN is not a number JSON can carry"),
    ("a: &a [*a]\n", "an alias refers to a node that contains it"),
    ("a: [\n", "Pulumi.t.yaml:2:"),
    ("a: 1\n---\nb: 2\n", "expected a single document in the stream"),
    ("a:\n\t- b\n", "Pulumi.t.yaml:2:"),
    ("a: !!set {x}\n", "the tag tag:yaml.org,2002:set is not supported"),
    ("a: *nothing\n", "found undefined alias"),
])
def test_yaml_problems_name_the_file_and_line(text, fragment):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert len(err.value.problems) >= 1
    assert any(fragment in p for p in err.value.problems), err.value.problems
    assert all("\n" not in p for p in err.value.problems)


def test_bytes_that_are_not_utf8_are_located():
    with pytest.raises(ConfigError, match=r"Pulumi.t.yaml:3: byte 0xe9 is not UTF-8"):
        parse_yaml(b"a: 1\nb: 2\nc: caf\xe9\n", "Pulumi.t.yaml")


def test_deep_nesting_is_refused():
    with pytest.raises(ConfigError, match="nested more than 64 levels deep"):
        parse("a: " + "[" * 80 + "]" * 80 + "\n")


def test_stack_file_shape(tmp_path):
    f = tmp_path / "Pulumi.s.yaml"
    f.write_text("confg:\n  aws:region: eu-west-1\n")
    with pytest.raises(ConfigError, match=r"Pulumi.s.yaml: confg: unknown key"):
        read_stack_file(f, "eks-platform")
    f.write_text("config:\n  eks-platform:config:network: {cidr: 10.0.0.0/16}\n  aws:region: eu-west-1\n")
    values, secrets = read_stack_file(f, "eks-platform")
    assert values == {"eks-platform:network": {"cidr": "10.0.0.0/16"}, "aws:region": "eu-west-1"}
    f.write_text("config:\n  network: {cidr: 10.0.0.0/16}\n  '': x\n")
    with pytest.raises(ConfigError) as err:
        read_stack_file(f, "eks-platform")
    assert err.value.problems == [
        'Pulumi.s.yaml: config["network"]: is not a configuration key: Pulumi takes <namespace>:<name> '
        "(e.g. eks-platform:network)",
        'Pulumi.s.yaml: config[""]: is not a configuration key: Pulumi takes <namespace>:<name> '
        "(e.g. eks-platform:network)"]
    assert secrets == []
    f.write_text("")
    assert read_stack_file(f, "eks-platform") == ({}, [])
    with pytest.raises(ConfigError, match="cannot be read"):
        read_stack_file(tmp_path / "missing.yaml", "eks-platform")


def test_runtime_json_is_read_as_strictly():
    assert parse_runtime_value("network", '{"cidr": "10.0.0.0/16"}') == {"cidr": "10.0.0.0/16"}
    assert parse_runtime_value("x", "true") is True
    assert parse_runtime_value("x", "eu-west-1") == "eu-west-1"
    with pytest.raises(ConfigError, match='network: the key "cidr" appears twice'):
        parse_runtime_value("network", '{"cidr": "a", "cidr": "b"}')
    with pytest.raises(ConfigError, match="NaN is not a number JSON can carry"):
        parse_runtime_value("network", '{"a": NaN}')
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_runtime_value("network", "[" * 100_000 + "]" * 100_000)
