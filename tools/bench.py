"""Benchmark of the offline plan, as whole processes (what a user or CI waits for).

    python -m tools.bench [--runs 5]

1. The plan of prod against its **import floor**: a process that imports exactly the modules the
   plan imports and does nothing else. The two run interleaved, side by side, and the best of N
   wall and CPU (user + system) times are compared — the ratio is what the program and the mock
   add on top of loading the SDKs (the bound: 1.3). Then the same plan with ``--diff`` against a
   plan JSON (the bound: +10 %).
2. The plan of dev, prod and generated configs of growing size (zones, node groups): resources,
   median and min wall time, milliseconds per resource.
The figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
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


def generated(zones: int, node_groups: int) -> dict:
    """A synthetic stack in us-east-1 (5 zones EKS can use) sized by zones and node groups."""
    cfg: dict = {
        "aws:region": "us-east-1",
        "eks-platform:network": {
            "cidr": "10.0.0.0/16", "availabilityZones": zones, "maxAvailabilityZones": 8, "natGateways": "perAz",
            "endpoints": {"interface": ["ec2", "ecr.api", "ecr.dkr", "logs", "sts", "ssm"]},
            "flowLogs": {"enabled": True, "retentionDays": 30},
        },
        "eks-platform:cluster": {"name": "bench", "access": {"adminRoleArns": [ADMIN]}},
    }
    if node_groups:
        groups = {}
        for i in range(node_groups):
            kind = "managed" if i % 2 == 0 else "selfManaged"
            groups[f"g{i:02d}"] = {"kind": kind, "instanceTypes": ["m7i.large"], "scaling": {"min": 0, "max": 3},
                                   "labels": {"pool": f"g{i:02d}"}}
        cfg["eks-platform:nodeGroups"] = groups
    return {"config": cfg}


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
                cwd=ROOT, capture_output=True, text=True,
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
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


FLOOR = """import importlib, json, sys
for name in json.load(open(sys.argv[1])):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""
LIST_MODULES = """import contextlib, io, json, sys
from tools import plan
with contextlib.redirect_stdout(io.StringIO()):
    plan.main(sys.argv[2:])
json.dump(sorted(m for m in sys.modules if not m.startswith("__")), open(sys.argv[1], "w"))
"""


def floor_ratio(runs: int) -> dict[str, float]:
    """Best-of-``runs`` wall and CPU times of the import floor, the prod plan and the plan with --diff."""
    with tempfile.TemporaryDirectory() as tmp:
        modules, base = Path(tmp) / "modules.json", Path(tmp) / "base.json"
        subprocess.run([sys.executable, "-c", LIST_MODULES, str(modules), "prod", "--quiet", "--json", str(base)],
                       cwd=ROOT, check=True)
        commands = {
            "floor": [sys.executable, "-c", FLOOR, str(modules)],
            "plan": [sys.executable, "-m", "tools.plan", "prod", "--quiet"],
            "diff": [sys.executable, "-m", "tools.plan", "prod", "--quiet", "--diff", str(base)],
        }
        best = {k: (float("inf"), float("inf")) for k in commands}
        for _ in range(runs):
            for key, command in commands.items():  # interleaved: load on the machine hits all three alike
                wall, cpu = _timed(command)
                best[key] = (min(best[key][0], wall), min(best[key][1], cpu))
    return {f"{k}_{m}": v[i] for k, v in best.items() for i, m in enumerate(("wall", "cpu"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    f = floor_ratio(max(args.runs, 5))
    print("prod plan against its import floor (best of the interleaved runs):")
    print(f"  floor  wall {f['floor_wall']:.2f} s  cpu {f['floor_cpu']:.2f} s")
    print(f"  plan   wall {f['plan_wall']:.2f} s  cpu {f['plan_cpu']:.2f} s   ratio wall "
          f"{f['plan_wall'] / f['floor_wall']:.2f}  cpu {f['plan_cpu'] / f['floor_cpu']:.2f}  (bound 1.30)")
    print(f"  --diff wall {f['diff_wall']:.2f} s  cpu {f['diff_cpu']:.2f} s   over the plan: wall "
          f"{100 * (f['diff_wall'] / f['plan_wall'] - 1):+.1f} %  cpu {100 * (f['diff_cpu'] / f['plan_cpu'] - 1):+.1f} %"
          "  (bound +10 %)")
    print()

    rows: list[tuple[str, int, float, float]] = []
    for stack in ("dev", "prod"):
        rows.append((stack, *time_plan([stack], args.runs)))
    with tempfile.TemporaryDirectory() as tmp:
        for zones, groups in ((2, 2), (3, 8), (5, 16), (5, 32)):
            f = Path(tmp) / f"Pulumi.gen-{zones}az-{groups}ng.yaml"
            f.write_text(yaml.safe_dump(generated(zones, groups)))
            label = f"generated {zones} AZs, {groups} node groups"
            rows.append((label, *time_plan(["--config-file", str(f)], args.runs)))

    width = max(len(r[0]) for r in rows)
    print(f"{'config'.ljust(width)}  resources  median s  min s  ms/resource (median)")
    for label, n, med, lo in rows:
        print(f"{label.ljust(width)}  {n:9d}  {med:8.2f}  {lo:5.2f}  {1000 * med / n:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
