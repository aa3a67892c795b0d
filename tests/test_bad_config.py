"""The bad-config corpus: every case exits 2 with one line per problem, each naming its key."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import DATA, ROOT
from tools import plan

CASES = sorted((DATA / "bad-config").glob("*.yaml"))
# A problem line: a config path (keys, [index], ["quoted key"]) or a stack file and line, then the message.
LINE = re.compile(
    r'^([A-Za-z][\w-]*:[\w-]+|[\w.-]+\.ya?ml(:\d+){0,2}|[A-Za-z][\w-]*(\.[\w:/.@-]+|\[\d+\]|\["(\\.|[^"\\])*"\])*): \S'
)


def expectations(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", "replace")  # some cases are deliberately not UTF-8
    return [line[len("# expect: ") :].rstrip("\n") for line in text.splitlines() if line.startswith("# expect: ")]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_config_exits_2_with_its_messages(case, capsys):
    expected = expectations(case)
    assert expected, f"{case.name} has no '# expect:' lines"
    code = plan.main(["--config-file", str(case), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert out == ""
    lines = err.splitlines()
    assert "Traceback" not in err
    for line in lines:
        assert LINE.match(line), f"not a 'key: message' line: {line!r}"
    for fragment in expected:
        assert any(fragment in line for line in lines), f"{fragment!r} not in:\n{err}"


def test_a_bad_config_registers_nothing():
    from components.config import ConfigError

    with pytest.raises(ConfigError):
        plan.run(DATA / "bad-config" / "too-many-azs.yaml", "bad")


def test_exit_code_and_stderr_of_the_real_command():
    proc = subprocess.run(
        [sys.executable, "-m", "tools.plan", "--config-file", str(DATA / "bad-config" / "many-problems-at-once.yaml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == len(expectations(DATA / "bad-config" / "many-problems-at-once.yaml"))
