"""pytest's hooks (which tests are unit tests, the collector freeze), the session fixtures (dev's and prod's plans) and
the process-wide settings of the test run; what tests share besides fixtures is in tests/helpers.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis  # with its strategies, imported before any test starts Pulumi's worker threads: a lazy import
import hypothesis.strategies  # later trips CPython 3.11.7's AST recursion-depth check
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.helpers import stack_recording  # noqa: E402

if TYPE_CHECKING:
    from tools.mockcloud import Recording


def _parse_botocore_data_once() -> None:
    """botocore parses its JSON data files (the endpoint list, service models: megabytes) once per session, and moto
    makes a session for each backend it creates, in every test that uses it: seconds of the suite spent parsing the
    same package files again. They never change within a run, so each is parsed once per process; botocore treats
    what it loads as read-only (the sdk extras it merges into a model are the same each time)."""
    from botocore import loaders

    parse = loaders.JSONFileLoader._load_file
    parsed: dict[str, Any] = {}

    def load(self: Any, full_path: str, open_method: Any) -> Any:
        if full_path not in parsed:
            parsed[full_path] = parse(self, full_path, open_method)
        return parsed[full_path]

    loaders.JSONFileLoader._load_file = load


_parse_botocore_data_once()

# Property tests draw the same examples on every run, so CI's verdict does not depend on luck; a failure prints the
# example. HYPOTHESIS_PROFILE=explore draws new ones (run it when changing what they test; it found the policy lines'
# control-character bug).
hypothesis.settings.register_profile("gate", derandomize=True)
hypothesis.settings.register_profile("explore", derandomize=False)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "unit: a pure-function or config test that runs neither the program nor "
        "another process (added at collection: tests/markers.py)",
    )


def pytest_ignore_collect(collection_path, config):
    """With -m unit, a test module without unit tests is not even imported."""
    from tests.markers import unit_tests

    if (
        config.getoption("markexpr") == "unit"
        and collection_path.suffix == ".py"
        and collection_path.name.startswith("test_")
    ):
        return not unit_tests(collection_path)
    return None


def pytest_collection_modifyitems(config, items):
    if not config.getoption("markexpr"):  # the marker only selects: a run that selects by none needs no parse
        return
    from tests.markers import unit_tests

    for item in items:
        function = getattr(item, "originalname", None) or item.name
        if item.path.name.startswith("test_") and function in unit_tests(item.path):
            item.add_marker(pytest.mark.unit)


def pytest_collection_finish(session):
    """What every test process keeps to its end (the modules, and the program's with the SDKs when a selected test
    plans) goes to the collector's permanent generation: each later full collection, of which the plans cause many
    and pytest's unraisable-exception check five at the end, then skips those millions of objects."""
    import gc

    if not session.config.getoption("markexpr") or any(
        item.get_closest_marker("unit") is None for item in session.items
    ):
        import components.program  # noqa: F401  (the first plan would import it; now, before the freeze)
        import tools.mockcloud  # noqa: F401
    gc.collect()
    gc.freeze()
    # A plan and a hypothesis example allocate hundreds of thousands of short-lived objects: the young generation is
    # collected every 20,000 allocations instead of 700 (about a tenth of the suite's CPU; memory stays under 0.6 GB
    # per process).
    gc.set_threshold(20000, 20, 50)


@pytest.fixture(scope="session")
def dev() -> Recording:
    return stack_recording("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return stack_recording("prod")
