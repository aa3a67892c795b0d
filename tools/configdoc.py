"""Generate docs/configuration.md from Pulumi.yaml's config block and the config reader itself.

    python -m tools.configdoc            # rewrite docs/configuration.md
    python -m tools.configdoc --check    # exit 1 if it is stale (the tests run this)

Top-level keys, their types, defaults and descriptions come from Pulumi.yaml. Every nested
field, with its type, default and allowed values, is recorded from the reader in
components/config.py as it reads a set of example configs that reach every branch; what
each field means comes from components/configdocs.py. A field without a meaning, or a
meaning without a field, is an error: the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from components import config as cfgmod
from components.configdocs import FIELD_DOCS, INTRO, SECTION_NOTES
from components.configreader import recording

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"
ADMIN = "arn:aws:iam::111122223333:role/admin"
GROUP = {"instanceTypes": ["m7i.large"], "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}],
         "extraIngress": [{"fromPort": 1, "cidrs": ["10.0.0.0/8"], "description": "d"}]}

# Configs that, read together, reach every field of every branch.
EXAMPLES: list[dict[str, Any]] = [
    {
        "network": {"endpoints": {}, "flowLogs": {}, "subnetPrefixLengths": {}},
        "cluster": {"endpoint": {}, "encryption": {}, "logging": {}, "access": {"adminRoleArns": [ADMIN]},
                    "addons": {}, "kubeconfig": {}, "oidc": {}},
        "nodeGroups": {"m": {"kind": "managed", **GROUP}, "s": {"kind": "selfManaged", **GROUP}},
        "addons": {"externalSecrets": {"ssmPathPrefix": "/p/"},
                   "externalDns": {"provider": "cloudflare", "domainFilters": ["a.io"],
                                   "cloudflare": {"apiTokenParameter": "/p/t"}}},
    },
    {"network": {"existing": {"vpcId": "vpc-01234567", "privateSubnetIds": ["subnet-01234567"]}}},
]


def fields() -> dict[str, dict[str, Any]]:
    with recording() as found:
        for raw in EXAMPLES:
            # The examples only need to be read, not to be valid together.
            with contextlib.suppress(cfgmod.ConfigError):
                cfgmod.load(raw, stack="<stack>", region="eu-west-1")
    return found


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value if value.startswith("(") else f"`{value}`"
    return f"`{json.dumps(value)}`"


def render() -> str:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    declared = project.get("config") or {}
    found = fields()
    missing = sorted(set(found) - set(FIELD_DOCS))
    unknown = sorted(set(FIELD_DOCS) - set(found))
    if missing or unknown:
        raise SystemExit(f"components/configdocs.py is out of step: undocumented {missing}, no such field {unknown}")
    lines = [INTRO.strip(), ""]
    for top in declared:
        decl = declared[top]
        lines += [f"## `{top}`", "",
                  f"Pulumi.yaml: `type: {decl.get('type')}`, default `{json.dumps(decl.get('default'))}`. "
                  f"{decl.get('description', '').strip()}", ""]
        if top in SECTION_NOTES:
            lines += [SECTION_NOTES[top].strip(), ""]
        rows = [(path, f) for path, f in found.items() if path.split(".")[0] == top and path != top]
        if not rows:
            doc = FIELD_DOCS[top]
            lines += [f"`{top}`: {doc if isinstance(doc, str) else doc[0]}", ""]
            continue
        lines += ["| field | type | default | allowed | meaning |", "| --- | --- | --- | --- | --- |"]
        for path, f in rows:
            doc = FIELD_DOCS[path]
            meaning, default = (doc, _fmt(f["default"])) if isinstance(doc, str) else (doc[0], doc[1])
            lines.append(f"| `{path}` | {f['type']} | {default} | {f['allowed'] or ''} | {meaning} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.configdoc")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/configuration.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if DOC.read_text() != text:
            print("docs/configuration.md is stale: run `python -m tools.configdoc`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
