"""Values in the diff (issue 32): every changed input old -> new, in text, JSON and the PR comment."""

from __future__ import annotations

import base64
import json

import pytest

from tests.helpers import DNS_ZONE, ROOT, SYSTEM_LABEL, SYSTEM_TYPE, edited_prod, stack_recording
from tools import diff, diffvalues


@pytest.fixture(scope="module")
def prod_plan() -> dict:
    return stack_recording("prod").as_json()


def diff_of(prod_plan, *edits: tuple[str, str]) -> diff.Diff:
    return diff.diff(prod_plan, edited_prod(*edits), "main")


# -- from real plans: exact text and JSON --------------------------------------------------
def test_a_label_change_shows_the_label(prod_plan):
    d = diff_of(prod_plan, SYSTEM_LABEL)
    assert diff.render(d).splitlines()[1:3] == [
        "  ~  aws:eks:NodeGroup eks-platform-prod-system  [labels.team]",
        '        labels.team: (none) -> "core"',
    ]
    (group,) = [c for c in d.changes if c.type == "aws:eks/nodeGroup:NodeGroup"]
    assert json.loads(diff.dump_json(d))["changes"][0]["values"] == {
        "labels.team": {"old": None, "new": "core", "lines": ['labels.team: (none) -> "core"']}
    }
    assert group.values["labels.team"]["new"] == "core"


def test_an_instance_type_change_shows_both_types(prod_plan):
    d = diff_of(prod_plan, SYSTEM_TYPE, DNS_ZONE)  # one plan for this test, the next two and the report's
    text = diff.render(d).splitlines()
    i = text.index(
        "  +- aws:eks:NodeGroup eks-platform-prod-system  replaced because instanceTypes changed  ROLLS "
        "NODES: the group is replaced: every node is new"
    )
    assert text[i + 1 : i + 4] == ["        instanceTypes: list", "          + m7i.xlarge", "          - m7i.large"]
    (group,) = [c for c in json.loads(diff.dump_json(d))["changes"] if c["type"] == "aws:eks/nodeGroup:NodeGroup"]
    assert group["values"]["instanceTypes"] == {
        "old": ["m7i.large"],
        "new": ["m7i.xlarge"],
        "lines": ["instanceTypes: list", "  + m7i.xlarge", "  - m7i.large"],
    }


def test_an_iam_statement_change_is_shown_statement_by_statement(prod_plan):
    d = diff_of(prod_plan, SYSTEM_TYPE, DNS_ZONE)
    (policy,) = [c for c in d.changes if c.type == "aws:iam/rolePolicy:RolePolicy"]
    expected = [
        "policy: policy statements",
        "  ~ Sid ChangeRecordsInOwnZones",
        "    + resource arn:aws:route53:::hostedzone/Z0PROD987654321",
        "  ~ Sid ReadOwnZones",
        "    + resource arn:aws:route53:::hostedzone/Z0PROD987654321",
    ]
    assert diffvalues.render(policy.values) == expected
    text = diff.render(d)
    assert "\n".join(f"        {line}" for line in expected) in text
    (doc,) = [c for c in json.loads(diff.dump_json(d))["changes"] if c["type"] == "aws:iam/rolePolicy:RolePolicy"]
    old, new = (json.loads(doc["values"]["policy"][k]) for k in ("old", "new"))
    assert len(new["Statement"][0]["Resource"]) == len(old["Statement"][0]["Resource"]) + 1


def test_the_pr_comment_folds_each_resources_values(prod_plan):
    d = diff_of(prod_plan, SYSTEM_TYPE, DNS_ZONE)
    comment = diff.markdown([json.loads(diff.dump_json(d))])
    assert (
        "<details><summary><code>~ aws:iam:RolePolicy eks-platform-prod-dns-role-route53</code>: 1 input</summary>"
        in comment
    )
    block = comment.split("eks-platform-prod-dns-role-route53</code>: 1 input</summary>", 1)[1]
    assert block.startswith("\n\n```diff\npolicy: policy statements\n  ~ Sid ChangeRecordsInOwnZones\n")


# -- pure ----------------------------------------------------------------------------------
def test_scalars_maps_and_missing_keys_inline():
    assert diffvalues.lines("scaling.minSize", 3, 4) == ["scaling.minSize: 3 -> 4"]
    assert diffvalues.lines("tags.team", None, "core") == ['tags.team: (none) -> "core"']
    assert diffvalues.lines("enabled", True, None) == ["enabled: true -> (none)"]


def test_secrets_stay_masked():
    assert diffvalues.lines("token", "[secret]", "[secret]") == ["token: [secret] (changed)"]
    assert diffvalues.lines("token", "[secret]", "abc") == ["token: [secret] (changed)"]


def test_lists_show_elements_added_and_removed():
    assert diffvalues.lines("subnetIds", ["a", "b"], ["b", "c"]) == ["subnetIds: list", "  + c", "  - a"]
    assert diffvalues.lines("subnetIds", ["a", "b"], ["b", "a"]) == ["subnetIds: list", "  (same elements, new order)"]


def test_policies_by_sid_with_actions_conditions_principals_and_new_statements():
    old = {
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Sid": "Gone", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"},
            {
                "Sid": "Trust",
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "1"}},
            },
        ]
    }
    new = {
        "Statement": [
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": "arn:aws:s3:::b/*",
            },
            {
                "Sid": "Trust",
                "Effect": "Allow",
                "Principal": {"Service": ["ec2.amazonaws.com", "eks.amazonaws.com"]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "2"}},
            },
            {"Sid": "New", "Effect": "Deny", "Action": "iam:*", "Resource": "*"},
        ]
    }
    assert diffvalues.lines("policy", json.dumps(old), json.dumps(new)) == [
        "policy: policy statements",
        "  + Sid New: Deny iam:* on *",
        "  - Sid Gone: Allow sqs:SendMessage",
        "  ~ Sid Read",
        "    + action s3:ListBucket",
        "  ~ Sid Trust",
        "    + principal Service:eks.amazonaws.com",
        '    condition {"StringEquals": {"aws:SourceAccount": "1"}} -> {"StringEquals": {"aws:SourceAccount": "2"}}',
    ]


def test_documents_and_user_data_as_unified_diffs():
    assert diffvalues.lines("body", json.dumps({"a": 1, "b": 2}), json.dumps({"a": 1, "b": 3})) == [
        "body: document",
        "  @@ -1,4 +1,4 @@",
        "   {",
        '     "a": 1,',
        '  -  "b": 2',
        '  +  "b": 3',
        "   }",
    ]
    old = base64.b64encode(b"#!/bin/bash\nmax-pods 58\nlabels=a\n").decode()
    new = base64.b64encode(b"#!/bin/bash\nmax-pods 58\nlabels=a,b\n").decode()
    assert diffvalues.lines("userData", old, new) == [
        "userData: (base64, decoded)",
        "  @@ -1,3 +1,3 @@",
        "   #!/bin/bash",
        "   max-pods 58",
        "  -labels=a",
        "  +labels=a,b",
    ]


def test_the_comment_links_the_reports_and_refuses_a_non_https_link(capsys, tmp_path):
    doc = {
        "stack": "dev",
        "base": "main",
        "summary": {"create": 0, "update": 0, "replace": 0, "delete": 0},
        "changes": [],
        "errors": [],
        "warnings": [],
    }
    url = "https://github.com/acme/platform/actions/runs/42#artifacts"
    assert f"artifact `plan-report` of [this run]({url})" in diff.markdown([doc], url)
    assert "plan-report" not in diff.markdown([doc])
    path = tmp_path / "dev.diff.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SystemExit) as stop:
        diff.main([str(path), "--report-url", "javascript:alert(1)"])
    assert stop.value.code == 2 and "https://" in capsys.readouterr().err


def test_the_fleet_writes_one_report_per_stack(tmp_path):
    from tools import fleet

    argv = fleet.stack_args("dev", ROOT, ROOT, policies=False, json_dir=None, diff_dir=None, html_dir=tmp_path)
    assert argv[-2:] == ["--html", str(tmp_path / "dev.html")]
