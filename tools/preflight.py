"""Preflight of a CI job: can this runner reach the stack's Kubernetes API? Fail in seconds, not in a Helm timeout.

    python -m tools.preflight STACK [--tunnel-port 8443] [--timeout 15]
    python -m tools.preflight STACK --print-tunnel-command [--tunnel-port 8443]
    python -m tools.preflight STACK --upgrade-to 1.36     # the upgrade gate (tools/upgrade.py)
    python -m tools.preflight STACK --upgrade-gate        # ... to the stack file's cluster.version, if it moved

Reads the stack's cluster name and region from ``Pulumi.<STACK>.yaml`` (the config models), asks
EKS for the endpoint (boto3: the job's AWS credentials), and opens a TLS connection to it —
directly, or through the SSM port forward on localhost with the endpoint's name as SNI. A
cluster that does not exist yet is a new stack: nothing to check. Exit 0 when the API answers,
1 when it does not (with the fix), 2 when the stack file is invalid.
"""

from __future__ import annotations

import argparse
import base64
import re
import socket
import ssl
import sys
import tempfile
import time
from typing import Any

from tools.stacks import variable_suffix

DEFAULT_TIMEOUT = 15.0


def reachable(
    host: str, port: int, server_name: str, ca_pem: bytes | None, timeout: float, retry_refused: bool = False
) -> str | None:
    """None when a TLS handshake with ``server_name`` completes within ``timeout`` seconds, else why not.

    ``retry_refused``: keep trying while the connection is refused (a local tunnel still opening).
    """
    context = ssl.create_default_context()
    if ca_pem:
        with tempfile.NamedTemporaryFile("wb", suffix=".pem") as ca:
            ca.write(ca_pem)
            ca.flush()
            context.load_verify_locations(ca.name)
    deadline = time.monotonic() + timeout
    last = ""
    while True:  # a tunnel that is still opening refuses connections: retry until the deadline
        left = deadline - time.monotonic()
        if left <= 0:
            return f"no answer within {timeout:g} s" + (f" ({last})" if last else "")
        try:
            with socket.create_connection((host, port), timeout=left) as raw:
                raw.settimeout(max(0.1, deadline - time.monotonic()))
                with context.wrap_socket(raw, server_hostname=server_name):
                    return None
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except ssl.SSLError as err:
            return f"TLS failed ({err.reason or err})"
        except ConnectionRefusedError as err:
            if not retry_refused:
                return err.strerror or "connection refused"
            last = err.strerror or "connection refused"
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        except OSError as err:
            return err.strerror or str(err)


def endpoint_of(session: Any, cluster: str) -> tuple[str, bytes] | None:
    """The API endpoint and CA of an EKS cluster, or None when it does not exist (a stack not deployed yet)."""
    eks = session.client("eks")
    try:
        found = eks.describe_cluster(name=cluster)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        return None
    return found["endpoint"], base64.b64decode(found.get("certificateAuthority", {}).get("data", ""))


def tunnel_command(session: Any, cluster: str, region: str, endpoint: str, port: int) -> str | None:
    """The SSM port-forward command through the stack's access host (found by its Name tag), or None."""
    from components.private_access import port_forward_command

    reservations = session.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:Name", "Values": [f"{cluster}-access-host"]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ]
    )["Reservations"]
    instances = sorted(i["InstanceId"] for r in reservations for i in r["Instances"])
    if not instances:
        return None
    command = port_forward_command(region, "unused", endpoint, port)
    return (
        command.split(" --target ", 1)[0]
        + f" --target {instances[0]} --document-name"
        + command.split(" --document-name", 1)[1]
    )


def fix_message(stack: str, endpoint: str, problem: str) -> str:
    return (
        f"The Kubernetes API of stack {stack} ({endpoint}) is not reachable from this runner: {problem}. "
        f"Run this job on the stack's in-VPC runner (repository variable RUNNER_{variable_suffix(stack)}, e.g. the "
        "ciRunner.runsOn stack output), or open the SSM tunnel through the access host and set "
        'EKS_PLATFORM_API_TUNNEL_PORT (docs/operations.md, "Private clusters").'
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack")
    parser.add_argument("--tunnel-port", type=int, help="check https://localhost:<port> (an SSM port forward)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument(
        "--upgrade-to",
        metavar="MINOR",
        help="the upgrade gate: may the deployed cluster move to this minor (insights, catalogs)?",
    )
    parser.add_argument(
        "--upgrade-gate",
        action="store_true",
        help="the upgrade gate to the stack file's cluster.version when it differs from the cluster's",
    )
    parser.add_argument(
        "--print-tunnel-command",
        action="store_true",
        help="print the SSM port-forward command through the access host (to run in the background)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.upgrade_to is not None and not re.fullmatch(r"1\.[0-9]{2}", args.upgrade_to):
        parser.error(f"--upgrade-to {args.upgrade_to}: expected a Kubernetes minor such as 1.36")

    from tools.stackconfig import platform_config_or_report

    if (cfg := platform_config_or_report(args.stack)) is None:
        return 2
    from tools import awscreds

    if (session := awscreds.session(cfg.region)) is None:
        return awscreds.EXIT
    found = endpoint_of(session, cfg.cluster.name)
    if found is None:
        print(f"cluster {cfg.cluster.name} does not exist yet: a first deployment, nothing to check")
        return 0
    endpoint, ca = found
    if args.upgrade_to or args.upgrade_gate:
        return _upgrade_gate(session, cfg, args.upgrade_to, args.upgrade_gate)
    if args.print_tunnel_command:
        return _print_tunnel(session, cfg, args.stack, endpoint, args.tunnel_port)
    host = endpoint.removeprefix("https://").rstrip("/")
    target = ("localhost", args.tunnel_port) if args.tunnel_port else (host, 443)
    problem = reachable(target[0], target[1], host, ca or None, args.timeout, retry_refused=bool(args.tunnel_port))
    if problem:
        print(f"::error::{fix_message(args.stack, endpoint, problem)}", file=sys.stderr)
        return 1
    print(f"{endpoint} answers from this runner{' through the tunnel' if args.tunnel_port else ''}")
    return 0


def _upgrade_gate(session: Any, cfg: Any, upgrade_to: str | None, gate: bool) -> int:
    """tools/upgrade.py against the deployed cluster: to ``upgrade_to``, or (``gate``) to the stack file's version
    when it moved."""
    from tools import upgrade

    eks = session.client("eks")
    current = eks.describe_cluster(name=cfg.cluster.name)["cluster"]["version"]
    target = upgrade_to or cfg.cluster.version
    if gate and target == current:
        print(f"upgrade gate: {cfg.cluster.name} stays on {current}: nothing to check")
        return 0
    return upgrade.run(cfg, eks, target, current)


def _print_tunnel(session: Any, cfg: Any, stack: str, endpoint: str, port: int | None) -> int:
    command = tunnel_command(session, cfg.cluster.name, cfg.region, endpoint, port or 8443)
    if command is None:
        print(f"::error::stack {stack} has no running access host (cluster.endpoint.accessHost)", file=sys.stderr)
        return 1
    print(command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
