"""The stack-file reader reads YAML the way the Pulumi CLI does, and never crashes."""

import pytest

from components.config import ConfigError
from components.config.runtime import parse_runtime_value
from tools.stackfile import MAX_NODES, parse_yaml, read_stack_file


def parse(text: str):
    return parse_yaml(text.encode(), "Pulumi.t.yaml")


def test_yaml_1_2_core_schema_as_go_yaml_reads_it():
    doc = parse("a: yes\nb: on\nc: 010\nd: 0o10\ne: 0x1F\nf: true\ng: ~\nh: 1_000\ni: 2.5\nj: -3\n")
    assert doc == {
        "a": "yes",
        "b": "on",
        "c": 10,
        "d": 8,
        "e": 31,
        "f": True,
        "g": None,
        "h": "1_000",
        "i": 2.5,
        "j": -3,
    }


def test_merge_keys_and_bounded_aliases_work():
    doc = parse("base: &b {kind: managed, instanceTypes: [m7i.large]}\ngroup:\n  <<: *b\n  kind: selfManaged\n")
    assert doc["group"] == {"kind": "selfManaged", "instanceTypes": ["m7i.large"]}
    many = "x: &x [1, 2, 3]\n" + "".join(f"y{i}: *x\n" for i in range(100))
    assert parse(many)["y99"] == [1, 2, 3]


def test_an_alias_bomb_is_refused_without_expanding_it():
    bomb = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9))
    with pytest.raises(ConfigError, match=f"aliases expand to more than {MAX_NODES} values"):
        parse(bomb)


@pytest.mark.parametrize(
    "text,fragment",
    [
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
    ],
)
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
        "(e.g. eks-platform:network)",
    ]
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


NOT_ALLOWED = [
    chr(c)
    for c in (
        *range(0x09),
        0x0B,
        0x0C,
        *range(0x0E, 0x20),
        0x7F,
        *range(0x80, 0x85),
        *range(0x86, 0xA0),
        0xFFFE,
        0xFFFF,
    )
]


@pytest.mark.parametrize("char", NOT_ALLOWED, ids=[f"U+{ord(c):04X}" for c in NOT_ALLOWED])
def test_a_character_yaml_does_not_allow_is_named_with_its_line_and_column(char):
    with pytest.raises(ConfigError) as err:
        parse(f"config:\n  eks-platform:tags: {{team: a{char}b}}\n")
    (line,) = err.value.problems
    assert line.startswith(f"Pulumi.t.yaml:2:30: the character U+{ord(char):04X} (")
    assert "is not allowed in a YAML file" in line


@pytest.mark.parametrize(
    "text,where,plain",
    [
        ("a:\n\tb: 1\n", "2:1", "a tab character: YAML indents with spaces only"),
        ("a: b: c\n", "1:5", "a colon followed by a space inside a value: quote the value"),
        ("a:\n  b: 1\n c: 2\n", "3:2", "bad indentation"),
        ("a: {b: 1\n", "2:1", "a [list] or {mapping} written on one line is not closed"),
    ],
)
def test_syntax_errors_are_one_plain_line_with_line_and_column(text, where, plain):
    with pytest.raises(ConfigError) as err:
        parse(text)
    (line,) = err.value.problems
    assert line.startswith(f"Pulumi.t.yaml:{where}: {plain}") and "\n" not in line
