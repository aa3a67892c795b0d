"""The stacks of this repository: one per ``Pulumi.<stack>.yaml`` file. Nothing lists them by hand.

    python3 -m tools.stacks                        # the stack names, one per line
    python3 -m tools.stacks --github-matrix        # the GitHub Actions matrix the workflows run (JSON, one line)
    venv/bin/python -m tools.stacks --github-matrix --deploy-order   # the same, in the order stacks deploy

Listing and the matrix need only the standard library (a workflow runs them before anything is installed); the
deploy order reads each stack file's ``delivery.deployOrder`` and ``cluster.protect`` with the program's own reader.

Per-stack settings and their defaults (docs/operations.md, "Adding a stack"):

* ``runnerVar``: the repository variable that says where the stack's jobs run, ``RUNNER_<STACK>`` (GitHub-hosted
  Ubuntu when unset);
* ``tunnelVar``: ``TUNNEL_<STACK>``, true to reach a private endpoint through the access host;
* ``policyConfig``: ``policies/config.<stack>.json``, or ``policies/config.default.json`` (every guardrail
  mandatory) when the stack has none.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STACK_FILE = re.compile(r"Pulumi\.(?P<stack>[A-Za-z0-9_.-]+)\.yaml")
DEFAULT_POLICY_CONFIG = "policies/config.default.json"


def discover(root: Path = ROOT) -> list[str]:
    """Every stack with a ``Pulumi.<stack>.yaml`` in ``root``, by name."""
    return sorted(m["stack"] for p in root.iterdir() if p.is_file() and (m := STACK_FILE.fullmatch(p.name)))


def stack_file(stack: str, root: Path = ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def variable_suffix(stack: str) -> str:
    """``prod`` -> ``PROD``, ``eu-staging.2`` -> ``EU_STAGING_2``: the stack's part of a repository variable name."""
    return re.sub(r"[^A-Z0-9_]", "_", stack.upper())


def policy_config(stack: str, root: Path = ROOT) -> str:
    """The policy pack config the stack's previews and deploys use (relative to the repository)."""
    own = f"policies/config.{stack}.json"
    return own if (root / own).is_file() else DEFAULT_POLICY_CONFIG


def settings(stack: str, root: Path = ROOT) -> dict[str, str]:
    suffix = variable_suffix(stack)
    return {
        "stack": stack,
        "runnerVar": f"RUNNER_{suffix}",
        "tunnelVar": f"TUNNEL_{suffix}",
        "previewRoleVar": f"PREVIEW_ROLE_{suffix}",
        "policyConfig": policy_config(stack, root),
    }


def deploy_key(stack: str, root: Path = ROOT) -> tuple[int, str]:
    """(order, name): ``delivery.deployOrder`` when the stack sets it, else 0, or 1 for a protected stack
    (``cluster.protect``), so production-like stacks deploy after the rest. A stack file that cannot be read sorts
    last (its own job then reports why)."""
    from components.config import ConfigError
    from tools.stackfile import read_stack_file

    try:
        values, _ = read_stack_file(stack_file(stack, root), "eks-platform")
    except ConfigError:
        return (sys.maxsize, stack)
    delivery, cluster = values.get("eks-platform:delivery"), values.get("eks-platform:cluster")
    order = delivery.get("deployOrder") if isinstance(delivery, dict) else None
    if isinstance(order, int) and not isinstance(order, bool):
        return (order, stack)
    return (1 if isinstance(cluster, dict) and cluster.get("protect") is True else 0, stack)


def matrix(root: Path = ROOT, *, deploy_order: bool = False) -> dict[str, Any]:
    stacks = discover(root)
    if deploy_order:
        stacks.sort(key=lambda s: deploy_key(s, root))
    return {"include": [settings(s, root) for s in stacks]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stacks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--github-matrix", action="store_true", help="print the workflows' matrix as one JSON line")
    parser.add_argument(
        "--deploy-order",
        action="store_true",
        help="order by delivery.deployOrder, then unprotected before protected, then name",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.github_matrix:
        found = matrix(args.root, deploy_order=args.deploy_order)
        if not found["include"]:
            print(f"no Pulumi.<stack>.yaml in {args.root}", file=sys.stderr)
            return 1
        print(json.dumps(found, separators=(",", ":")))
        return 0
    names = discover(args.root)
    if args.deploy_order:
        names.sort(key=lambda s: deploy_key(s, args.root))
    print("\n".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
