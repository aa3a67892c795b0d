"""Benchmark of the offline plan, as whole processes (what a user or CI waits for).

    python -m tools.bench [--runs 5]

1. The plan of prod against the **SDK floor**: a process that imports ``pulumi`` and its mocks and executes
   exactly the SDK modules whose resource classes the plan instantiates (recorded from a plan run), and does
   nothing else. Anything else the plan imports or does — the config models, the components, the mock, modules of
   classes it never instantiates — counts against it. Plan and floor run in pairs; the median of the paired
   ratios (wall and CPU, user + system) is the figure (the bound: 1.3). Then the same plan with ``--diff`` against
   a plan JSON (the bound: +10 %).
2. The plan of dev, prod and generated configs of growing size (zones, node groups): resources,
   median and min wall time, milliseconds per resource.
The figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "arn:aws:iam::111122223333:role/platform-admin"
# As on a user's machine: Python caches compiled modules (a PYTHONDONTWRITEBYTECODE in the caller's environment would
# make every run compile the program's own modules again, a cost the SDK floor never pays: pip compiled the SDKs).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def generated(zones: int, node_groups: int) -> dict:
    """A synthetic stack in us-east-1 (5 zones EKS can use) sized by zones and node groups."""
    cfg: dict = {
        "aws:region": "us-east-1",
        "eks-platform:network": {
            "cidr": "10.0.0.0/16",
            "availabilityZones": zones,
            "maxAvailabilityZones": 8,
            "natGateways": "perAz",
            "endpoints": {"interface": ["ec2", "ecr.api", "ecr.dkr", "logs", "sts", "ssm"]},
            "flowLogs": {"enabled": True, "retentionDays": 30},
        },
        "eks-platform:cluster": {"name": "bench", "access": {"adminRoleArns": [ADMIN]}},
    }
    if node_groups:
        groups = {}
        for i in range(node_groups):
            kind = "managed" if i % 2 == 0 else "selfManaged"
            groups[f"g{i:02d}"] = {
                "kind": kind,
                "instanceTypes": ["m7i.large"],
                "scaling": {"min": 0, "max": 3},
                "labels": {"pool": f"g{i:02d}"},
            }
        cfg["eks-platform:nodeGroups"] = groups
    return {"config": cfg}


def fleet_size(classes: int = 100, load_balancers: int = 50) -> dict:
    """The largest stack the bench plans: ``classes`` node classes (managed, self-managed and Karpenter in turn) and
    ``load_balancers`` internal network load balancers, each in its own namespace."""
    doc = generated(3, 0)
    cfg = doc["config"]
    kinds = ("managed", "selfManaged", "karpenter")
    groups: dict = {"system": {"kind": "managed", "instanceTypes": ["m7i.large"], "scaling": {"min": 2, "max": 3}}}
    for i in range(classes - 1):
        kind = kinds[i % 3]
        group: dict = {"kind": kind, "instanceTypes": ["m7i.large", "m6i.large"], "labels": {"pool": f"p{i:03d}"}}
        if kind != "karpenter":
            group["scaling"] = {"min": 0, "max": 3}
        groups[f"p{i:03d}"] = group
    cfg["eks-platform:nodeGroups"] = groups
    cfg["eks-platform:workloads"] = {
        "loadBalancers": {
            f"lb{i:02d}": {
                "type": "network",
                "listeners": [{"port": 5432, "protocol": "TCP"}],
                "target": {"namespace": f"team{i:02d}", "service": "db", "port": 5432},
                "allowedCidrs": ["10.0.0.0/16"],
            }
            for i in range(load_balancers)
        }
    }
    return doc


def time_plan(args: list[str], runs: int) -> tuple[int, float, float]:
    """(resources, median s, min s) of ``python -m tools.plan <args>`` over ``runs`` runs."""
    times: list[float] = []
    resources = 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.json"
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "tools.plan", *args, "--quiet", "--json", str(out)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                env=ENV,
            )
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise SystemExit(f"plan {' '.join(args)} failed:\n{proc.stderr}")
        resources = len(json.loads(out.read_text())["resources"])
    return resources, statistics.median(times), min(times)


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU user+system) seconds of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# Without the cyclic collector, as the plan runs (tools/plan.py): the two compare like with like.
FLOOR = """import gc, importlib, json, os, sys
gc.disable()
import pulumi
import pulumi.runtime.mocks
for name in json.load(open(sys.argv[1])):
    importlib.import_module(name)
if sys.argv[2:] == ["--no-teardown"]:
    os._exit(0)
"""
# The modules of the SDK classes a plan instantiates (custom resources, and remote components such as pulumi-eks's).
LIST_CLASSES = """import contextlib, io, json, sys
import pulumi
seen = set()
for base in (pulumi.CustomResource, pulumi.ComponentResource):
    def record(self, *args, __init=base.__init__, **kwargs):
        seen.add(type(self).__module__)
        return __init(self, *args, **kwargs)
    base.__init__ = record
from tools import plan
with contextlib.redirect_stdout(io.StringIO()):
    plan.main(sys.argv[2:])
json.dump(sorted(m for m in seen if m.startswith("pulumi_")), open(sys.argv[1], "w"))
"""


def floor_ratio(runs: int) -> dict[str, float]:
    """Medians over ``runs`` pairs: the SDK floor's and the prod plan's wall and CPU times, their paired ratios, and
    the plan with --diff over the plan."""
    with tempfile.TemporaryDirectory() as tmp:
        modules, base = Path(tmp) / "modules.json", Path(tmp) / "base.json"
        # also the warm-up: it writes the compiled modules both sides then read
        subprocess.run(
            [sys.executable, "-c", LIST_CLASSES, str(modules), "prod", "--quiet", "--json", str(base)],
            cwd=ROOT,
            check=True,
            env=ENV,
        )
        commands = {
            "floor": [sys.executable, "-c", FLOOR, str(modules)],
            # the plan ends with os._exit (tools/plan.py exit_now): the strict comparison skips the floor's too
            "floor_exit": [sys.executable, "-c", FLOOR, str(modules), "--no-teardown"],
            "plan": [sys.executable, "-m", "tools.plan", "prod", "--quiet"],
            "diff": [sys.executable, "-m", "tools.plan", "prod", "--quiet", "--diff", str(base)],
        }
        runs_of: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
        for _ in range(runs):
            for key, command in commands.items():  # interleaved: load on the machine hits all three alike
                runs_of[key].append(_timed(command))
    out: dict[str, float] = {}
    for key, measured in runs_of.items():
        for i, metric in enumerate(("wall", "cpu")):
            out[f"{key}_{metric}"] = statistics.median(m[i] for m in measured)

    def paired(top: str, bottom: str, i: int) -> float:
        return statistics.median(t[i] / b[i] for t, b in zip(runs_of[top], runs_of[bottom], strict=True))

    for i, metric in enumerate(("wall", "cpu")):
        out[f"ratio_{metric}"] = paired("plan", "floor", i)
        out[f"strict_{metric}"] = paired("plan", "floor_exit", i)
        out[f"diff_{metric}_over"] = paired("diff", "plan", i)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    f = floor_ratio(max(args.runs, 5))
    print("prod plan against the SDK floor (medians of paired runs):")
    print(f"  floor  wall {f['floor_wall']:.2f} s  cpu {f['floor_cpu']:.2f} s")
    print(
        f"  plan   wall {f['plan_wall']:.2f} s  cpu {f['plan_cpu']:.2f} s   ratio wall "
        f"{f['ratio_wall']:.2f}  cpu {f['ratio_cpu']:.2f}  (bound 1.30)"
    )
    print(
        f"  floor without its interpreter teardown  wall {f['floor_exit_wall']:.2f} s  cpu "
        f"{f['floor_exit_cpu']:.2f} s   strict ratio wall {f['strict_wall']:.2f}  cpu {f['strict_cpu']:.2f}"
    )
    print(
        f"  --diff wall {f['diff_wall']:.2f} s  cpu {f['diff_cpu']:.2f} s   over the plan: wall "
        f"{100 * (f['diff_wall_over'] - 1):+.1f} %  cpu {100 * (f['diff_cpu_over'] - 1):+.1f} %  (bound +10 %)"
    )
    print()

    rows: list[tuple[str, int, float, float]] = []
    from tools.stacks import discover

    for stack in discover():  # every stack file of the repository
        rows.append((stack, *time_plan([stack], args.runs)))
    with tempfile.TemporaryDirectory() as tmp:
        for zones, groups in ((2, 2), (3, 8), (5, 16), (5, 32)):
            stack_file = Path(tmp) / f"Pulumi.gen-{zones}az-{groups}ng.yaml"
            stack_file.write_text(yaml.safe_dump(generated(zones, groups)))
            label = f"generated {zones} AZs, {groups} node groups"
            rows.append((label, *time_plan(["--config-file", str(stack_file)], args.runs)))
        big = Path(tmp) / "Pulumi.fleet-size.yaml"
        big.write_text(yaml.safe_dump(fleet_size()))
        rows.append(("100 node classes, 50 load balancers", *time_plan(["--config-file", str(big)], args.runs)))

    width = max(len(r[0]) for r in rows)
    print(f"{'config'.ljust(width)}  resources  median s  min s  ms/resource (median)")
    for label, n, med, lo in rows:
        print(f"{label.ljust(width)}  {n:9d}  {med:8.2f}  {lo:5.2f}  {1000 * med / n:8.1f}")
    print()
    walls = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tools.plan", "--all"], cwd=ROOT, capture_output=True, env=ENV, check=False
        )
        walls.append(time.perf_counter() - start)
    print(f"every stack file at once (tools.plan --all): median {statistics.median(walls):.2f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
