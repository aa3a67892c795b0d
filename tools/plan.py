"""Offline plan: what ``pulumi up`` would create for a stack, without a Pulumi CLI or AWS account.

Runs the real ``__main__.py`` under the mock cloud (``tools/mockcloud.py``) with the
stack's config — ``Pulumi.yaml`` defaults overlaid by ``Pulumi.<stack>.yaml``, ``secure:``
values replaced by placeholders — and prints a resource tree and a count per type.

    python -m tools.plan dev
    python -m tools.plan --config-file path/to/Pulumi.x.yaml --json out.json --graph out.mmd

With ``--policies`` it also runs the guardrails of ``policies/`` (the same functions the
CrossGuard pack runs in ``pulumi preview``) over the recorded resources.

Exit codes: 0 ok; 2 invalid config (only the config messages, on stderr); 3 a mandatory
policy violated; 1 anything else, including an error the real engine would stop with (a
duplicate URN, a remote component's constructor check), printed as ``error: <message>``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import runpy
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.graph import LEVELS, mermaid
from tools.render import counts, dump_json, pod_density, policy_report, tree
from tools.stackconfig import ROOT, load_project, stack_config, stack_name_of

if TYPE_CHECKING:
    from tools.mockcloud import Recording


# ---------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------
def run(stack_file: Path, stack: str, root: Path = ROOT) -> Recording:
    """Run the real program of the project in ``root`` (the platform, or bootstrap/) for a stack file; return the
    Recording (raises ConfigError)."""
    from tools.mockcloud import run_program

    project = load_project(root)
    flat, secrets = stack_config(stack_file, project)
    main = root / "__main__.py"
    return run_program(
        lambda: runpy.run_path(str(main), run_name="__main__"),
        config=flat,
        stack=stack,
        project=project["name"],
        region=flat.get("aws:region"),
        secret_keys=secrets,
    )


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    """The command line (python -m tools.plan --help)."""
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", nargs="?", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument(
        "--project",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="the Pulumi project to plan: the platform (default) or bootstrap",
    )
    parser.add_argument(
        "--config-file",
        type=Path,
        help="a stack config file to plan instead; the stack is named after the file "
        "(Pulumi.<stack>.yaml, else the file name without .yaml) unless --stack says otherwise",
    )
    parser.add_argument(
        "--stack",
        dest="stack_name",
        metavar="NAME",
        help="the stack name for --config-file (it decides default names, tags and URNs)",
    )
    _output_options(parser)
    _fleet_options(parser)
    return parser


def _output_options(parser: argparse.ArgumentParser) -> None:
    """What to write and print: JSON, graph, HTML, the diff, the guardrails."""
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the plan as JSON (the documented contract)")
    parser.add_argument(
        "--graph",
        type=Path,
        metavar="PATH",
        help="write a Mermaid flowchart: components as subgraphs, arrows from dependency to dependent",
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help="write the plan as one self-contained HTML page (graph, resources, the --diff, guardrails, critical path)",
    )
    parser.add_argument(
        "--graph-level",
        choices=LEVELS,
        default="resource",
        help="resource: every resource in its component's box (default); component: components only",
    )
    parser.add_argument("--quiet", action="store_true", help="no tree, only the counts")
    parser.add_argument(
        "--policies",
        action="store_true",
        help="run the guardrails in policies/ over the plan; exit 3 on a mandatory violation",
    )
    parser.add_argument(
        "--diff",
        type=Path,
        metavar="BASE",
        help="what changes against BASE: a plan JSON (--json of the base branch) or a stack file "
        "(planned with this code); exit 3 when the change hits an error flag",
    )
    parser.add_argument("--diff-json", type=Path, metavar="PATH", help="write the diff as JSON too")


def _fleet_options(parser: argparse.ArgumentParser) -> None:
    """--all and its options; the critical path."""
    parser.add_argument(
        "--all",
        action="store_true",
        help="plan every Pulumi.<stack>.yaml (of --stacks-dir) in parallel and print a summary "
        "(tools/fleet.py); --json, --diff and --html then name directories",
    )
    parser.add_argument(
        "--stacks-dir",
        type=Path,
        metavar="DIR",
        help="where --all finds the stack files (default: the project's directory)",
    )
    parser.add_argument("--jobs", type=int, metavar="N", help="--all: worker processes (default: the core count)")
    parser.add_argument(
        "--critical-path",
        action="store_true",
        help="print the longest dependency chain and the estimated time of a first `pulumi up`",
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.all:
        if args.stack or args.config_file or args.stack_name:
            parser.error("--all plans every stack file: name none")
        from tools import fleet

        return fleet.main(
            main,
            stacks_dir=args.stacks_dir or args.project,
            project=args.project.resolve(),
            jobs=args.jobs,
            policies=args.policies,
            json_dir=args.json,
            diff_dir=args.diff,
            html_dir=args.html,
        )
    stack_file, stack = _stack_of(args, parser)
    if not stack_file.is_file():
        print(f"no stack config file {stack_file}", file=sys.stderr)
        return 1
    levels = _levels(stack) if args.policies else {}  # read first: a bad level is a config problem
    if levels is None:
        return 2
    recording = _planned(stack_file, stack, args.project.resolve())
    if isinstance(recording, int):
        return recording
    _print_plan(args, recording, stack)
    status, result = _diffed(args, recording, stack)
    if status == 2:
        return status
    if args.html:
        from tools.report import page

        try:
            args.html.write_text(page(recording, diff=result), encoding="utf-8")
        except FileNotFoundError as err:
            print(f"--html needs Mermaid from npm ({err.filename}): run `make venv`", file=sys.stderr)
            return 1
    if args.policies:
        text, mandatory = policy_report(recording, stack, levels)
        print()
        print(text)
        if mandatory:
            return 3
    return status


def _stack_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[Path, str]:
    """The stack file to plan and the stack name it is planned under."""
    if args.stack_name and args.stack and args.stack_name != args.stack:
        parser.error(f"two stack names: {args.stack} and --stack {args.stack_name}")
    if args.config_file:
        return args.config_file, args.stack_name or args.stack or stack_name_of(args.config_file)
    if args.stack_name and not args.stack:
        parser.error("--stack names the stack of a --config-file; to plan Pulumi.<stack>.yaml, name it without --stack")
    if not args.stack:
        parser.error("name a stack (one of the Pulumi.<stack>.yaml files) or pass --config-file")
    return args.project / f"Pulumi.{args.stack}.yaml", args.stack


def _levels(stack: str) -> dict[str, str] | None:
    """The stack's guardrail levels (its parameters validated too), or None after printing why they are bad."""
    from policies.guardrails import PolicyConfigError, levels_for

    try:
        return levels_for(stack)
    except PolicyConfigError as err:
        print("\n".join(err.problems), file=sys.stderr)
        return None


def _planned(stack_file: Path, stack: str, project: Path) -> Any:
    """The recording of the plan, or the exit code after printing why there is none."""
    from components.config import ConfigError
    from tools.mockcloud import EngineError, UnansweredInvoke

    try:
        return run(stack_file, stack, project)
    except ConfigError as err:
        for line in err.problems:
            print(line, file=sys.stderr)
        return 2
    except (EngineError, UnansweredInvoke) as err:  # what `pulumi preview` would stop with; a gap of the mock
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception:  # anything else is a bug: show it whole
        traceback.print_exc()
        return 1


def _print_plan(args: argparse.Namespace, recording: Any, stack: str) -> None:
    """The tree, the counts, the pod density, the critical path; the JSON and graph files."""
    if not args.quiet:
        print(tree(recording))
        print()
    print(f"Resources by type ({stack}):")
    print(counts(recording))
    if (density := pod_density(recording)) is not None:
        print()
        print(density)
    if args.critical_path:
        from tools.critical_path import report

        print()
        print(report(recording.resources))
    if args.json:
        args.json.write_text(dump_json(recording))
    if args.graph:
        args.graph.write_text(mermaid(recording, args.graph_level))


def _diffed(args: argparse.Namespace, recording: Any, stack: str) -> tuple[int, Any]:
    """(exit status, the Diff) of --diff: 3 when the diff refuses the change, 2 when the base is bad config."""
    if not args.diff:
        return 0, None
    from components.config import ConfigError
    from tools.diff import diff as diff_plans
    from tools.diff import dump_json as dump_diff
    from tools.diff import render as render_diff

    try:
        base = base_plan(args.diff, stack)
    except ConfigError as err:
        for line in err.problems:
            print(f"{args.diff.name}: {line}", file=sys.stderr)
        return 2, None
    result = diff_plans(base, recording.as_json(), str(args.diff))
    print()
    print(render_diff(result))
    if args.diff_json:
        args.diff_json.write_text(dump_diff(result))
    return (3 if result.errors else 0), result


def base_plan(path: Path, stack: str) -> dict[str, Any]:
    """The base of a diff: a plan JSON as it is, or a stack file planned now (same stack name, so URNs match)."""
    text = path.read_text(errors="replace") if path.is_file() else ""
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("resources"), list):
            return doc
    return run(path, stack).as_json()


def exit_now(code: int) -> None:
    """End the process without tearing the interpreter down: a plan leaves tens of thousands of objects (Outputs,
    futures, the SDK's modules) whose orderly release costs a fifth of a plan's CPU and does nothing a CLI needs.
    Everything the plan writes is written and closed by then; stdout and stderr are flushed here."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    # A plan is one short process that ends with os._exit: the cyclic collector would only scan the SDKs' modules
    # and the plan's objects over and over (about a tenth of the process), and nothing needs the memory back.
    gc.disable()
    exit_now(main())
