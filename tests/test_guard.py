"""Guards: platform/ stays data, so the standard-library module `platform` is never shadowed."""

import importlib
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.helpers import ROOT


def test_platform_folder_holds_no_python():
    folder = ROOT / "platform"
    assert folder.is_dir()
    assert not list(folder.rglob("*.py")), "platform/ is data: a Python file there shadows the stdlib module"


def test_stdlib_platform_is_the_one_imported_from_the_project_root():
    code = "import platform, pulumi; print(platform.__file__); print(platform.system())"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.splitlines()[0])
    assert path.is_relative_to(Path(sysconfig.get_paths()["stdlib"])), path


def test_in_process_platform_is_stdlib():
    mod = importlib.import_module("platform")
    assert Path(mod.__file__).parent == Path(sysconfig.get_paths()["stdlib"])


def test_ruff_checks_for_stdlib_shadowing():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"A"' in text and "A005" in text
