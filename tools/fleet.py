"""Every stack in one command: ``python -m tools.plan --all`` (``make plan-all``).

Plans every ``Pulumi.<stack>.yaml`` of a directory in parallel worker processes — the program and the SDKs are
imported once, before the workers start (fork), so each stack pays only its own plan — and prints one summary line
per stack: resources, guardrail violations, exit code. The exit code is the worst of the stacks' (the plan's
contract: 1 an error, worse than 2 a refused config, worse than 3 a mandatory guardrail, worse than 0).
``--json DIR`` writes each stack's plan as ``DIR/<stack>.json``; ``--diff DIR`` diffs each stack against
``DIR/<stack>.json`` (a base plan) and writes ``<stack>.diff.json`` beside its plan.
"""

from __future__ import annotations

import contextlib
import functools
import io
import multiprocessing
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# worst last: an error beats a refused config, which beats a guardrail, which beats success
SEVERITY = {0: 0, 3: 1, 2: 2, 1: 3}


@dataclass(frozen=True)
class Outcome:
    stack: str
    code: int
    resources: int | None
    mandatory: int | None
    advisory: int | None
    message: str  # the first line of stderr, when the plan failed


def stack_args(
    stack: str,
    stacks_dir: Path,
    project: Path,
    *,
    policies: bool,
    json_dir: Path | None,
    diff_dir: Path | None,
    html_dir: Path | None = None,
) -> list[str]:
    """The ``tools.plan`` arguments that plan one stack file of the fleet."""
    argv = [
        "--config-file",
        str(stacks_dir / f"Pulumi.{stack}.yaml"),
        "--stack",
        stack,
        "--project",
        str(project),
        "--quiet",
    ]
    if policies:
        argv.append("--policies")
    if json_dir is not None:
        argv += ["--json", str(json_dir / f"{stack}.json")]
    base = diff_dir / f"{stack}.json" if diff_dir is not None else None
    if base is not None and base.is_file():
        argv += ["--diff", str(base)]
        if json_dir is not None:
            argv += ["--diff-json", str(json_dir / f"{stack}.diff.json")]
    if html_dir is not None:
        argv += ["--html", str(html_dir / f"{stack}.html")]
    return argv


_TOTAL = re.compile(r"^\s*total\s+(\d+)\s*$", re.M)
_POLICIES = re.compile(r"^Policies .*: (\d+) mandatory, (\d+) advisory violations$", re.M)


def outcome(stack: str, code: int, out: str, err: str) -> Outcome:
    total, policies = _TOTAL.search(out), _POLICIES.search(out)
    first = next((line for line in err.splitlines() if line.strip()), "")
    return Outcome(
        stack,
        code,
        int(total.group(1)) if total else None,
        int(policies.group(1)) if policies else None,
        int(policies.group(2)) if policies else None,
        first if code else "",
    )


Cli = Callable[[list[str]], int]


def plan_one(cli: Cli, task: tuple[str, list[str]]) -> Outcome:
    """One stack, in a worker: the plan's own CLI (``cli``, tools.plan's main: passed in, so this module does not
    import the CLI that imports it) with its output captured."""
    stack, argv = task
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli(argv)
        except SystemExit as stop:  # argparse
            code = stop.code if isinstance(stop.code, int) else 1
    return outcome(stack, code, out.getvalue(), err.getvalue())


def _context() -> multiprocessing.context.BaseContext:
    """fork shares the imports; a process with other threads (a test runner's) could deadlock in a forked child, so
    it forks from a fork server instead: one fresh, single-threaded interpreter that imports the program once and
    forks each worker (spawn, where there is no fork server, imports once per worker)."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["components.program", "tools.plan"])
        return context
    return multiprocessing.get_context("spawn")


def run(cli: Cli, tasks: Sequence[tuple[str, list[str]]], jobs: int) -> list[Outcome]:
    """Plan the tasks with ``jobs`` workers (in this process when one is enough), in the tasks' order."""
    one = functools.partial(plan_one, cli)  # picklable: a module-level function and the CLI's main
    if jobs <= 1 or len(tasks) <= 1:
        return [one(t) for t in tasks]
    context = _context()
    if context.get_start_method() == "fork":
        import components.program  # noqa: F401  (imported once here: forked workers inherit it)
    with context.Pool(min(jobs, len(tasks))) as pool:
        return pool.map(one, tasks, chunksize=1)


def summary(outcomes: Sequence[Outcome]) -> str:
    def shown(value: int | None) -> str:
        return "-" if value is None else str(value)

    width = max([len("stack"), *(len(o.stack) for o in outcomes)])
    lines = [f"{'stack'.ljust(width)}  resources  mandatory  advisory  exit"]
    for o in outcomes:
        lines.append(
            f"{o.stack.ljust(width)}  {shown(o.resources):>9}  {shown(o.mandatory):>9}  "
            f"{shown(o.advisory):>8}  {o.code:>4}" + (f"  {o.message}" if o.message else "")
        )
    return "\n".join(lines)


def worst(codes: Sequence[int]) -> int:
    return max(codes, key=lambda c: SEVERITY.get(c, 3), default=0)


def main(
    cli: Cli,
    *,
    stacks_dir: Path,
    project: Path,
    jobs: int | None,
    policies: bool,
    json_dir: Path | None,
    diff_dir: Path | None,
    html_dir: Path | None = None,
) -> int:
    from tools.stacks import discover

    names = discover(stacks_dir)
    if not names:
        print(f"no Pulumi.<stack>.yaml in {stacks_dir}")
        return 1
    for folder in (json_dir, html_dir):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    tasks = [
        (
            s,
            stack_args(
                s, stacks_dir, project, policies=policies, json_dir=json_dir, diff_dir=diff_dir, html_dir=html_dir
            ),
        )
        for s in names
    ]
    outcomes = run(cli, tasks, jobs or os.cpu_count() or 1)
    print(summary(outcomes))
    return worst([o.code for o in outcomes])
