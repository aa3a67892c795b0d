"""Benchmark of the offline plan, as whole processes (what a user or CI waits for).

    python -m tools.bench [--runs 5]

Times ``python -m tools.plan`` for the dev and prod stack files and for generated configs
of growing size (more availability zones, endpoints, node groups), and prints resources,
median and min wall time, and milliseconds per resource — the figures recorded in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
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
    """A synthetic stack in us-east-1 (6 zones) sized by zones and node groups."""
    cfg: dict = {
        "aws:region": "us-east-1",
        "eks-platform:network": {
            "cidr": "10.0.0.0/16", "availabilityZones": zones, "maxAvailabilityZones": 8, "natGateways": "perAz",
            "endpoints": {"interface": ["ec2", "ecr.api", "ecr.dkr", "logs", "sts", "ssm"]},
            "flowLogs": {"enabled": True, "retentionDays": 30},
        },
        "eks-platform:cluster": {"access": {"adminRoleArns": [ADMIN]}},
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    rows: list[tuple[str, int, float, float]] = []
    for stack in ("dev", "prod"):
        rows.append((stack, *time_plan([stack], args.runs)))
    with tempfile.TemporaryDirectory() as tmp:
        for zones, groups in ((2, 2), (4, 8), (6, 16), (6, 32)):
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
