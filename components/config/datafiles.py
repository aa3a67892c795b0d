"""The platform's data files (platform/, Pulumi.yaml): read with libyaml when PyYAML has it (the wheels do).

These files are ours and plain YAML, so the fast C loader is safe for them; stack files go through the
strict reader in tools/stackfile.py instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "platform"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path) -> Any:
    return loads(path.read_text())


def loads(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)
