"""The hash locks hold exactly the pins: a pin changed without `make lock` fails here, not on a fresh machine."""

import re

import pytest

from tests.helpers import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", re.M)


def pins(*files: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in files:
        for name, version in PIN.findall((ROOT / f).read_text()):
            out[name.lower().replace("_", "-")] = version
    return out


@pytest.mark.parametrize(
    ("lock", "sources", "constraints"),
    [
        ("requirements.lock", ("requirements.txt",), True),
        ("requirements-dev.lock", ("requirements.txt", "requirements-dev.txt"), True),
        ("policies/requirements.lock", ("policies/requirements.txt",), False),
    ],
)
def test_each_lock_is_its_pins_with_hashes(lock, sources, constraints):
    text = (ROOT / lock).read_text()
    locked = pins(lock)
    wanted = pins(*sources)
    assert {k: locked.get(k) for k in wanted} == wanted, f"run make lock: {lock} is not {', '.join(sources)}"
    if constraints:  # every transitive package pinned in constraints.txt, at the locked version
        known = pins("constraints.txt") | wanted
        assert {k: v for k, v in locked.items() if known.get(k) != v} == {}
    # every requirement carries its hashes (pip --require-hashes refuses a lock without them)
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1]):
        if PIN.match(block):
            assert "--hash=sha256:" in block, block.splitlines()[0]
    assert "/work/" not in text and "file://" not in text  # no machine path, no local index
