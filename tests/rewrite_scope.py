"""A pytest plugin loaded first (addopts: -p tests.rewrite_scope): assertion rewriting for our tests only.

pytest marks for assert rewriting every module of a distribution that registers a pytest plugin through an entry
point — all of hypothesis and xdist here, about eighty modules, rewritten again in every xdist worker whenever
bytecode is not cached (PYTHONDONTWRITEBYTECODE, a fresh clone): seconds of every run, for asserts that are
theirs. `-p` plugins are imported after that marking and before the entry points are, so this one unmarks those
distributions in time; our tests and conftest keep the rewriting.
"""

import sys

from _pytest.assertion.rewrite import AssertionRewritingHook

THIRD_PARTY = ("hypothesis", "_hypothesis", "xdist")

for _hook in sys.meta_path:
    if isinstance(_hook, AssertionRewritingHook):
        _hook._must_rewrite -= {n for n in _hook._must_rewrite if n.split(".")[0].startswith(THIRD_PARTY)}
        _hook._marked_for_rewrite_cache.clear()
