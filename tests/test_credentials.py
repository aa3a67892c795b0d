"""The operator tools that need AWS say in one line that no credentials were found, and how to give them."""

from __future__ import annotations

import pytest

from tools import awscreds, node_images, preflight, teardown


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """No credentials anywhere botocore looks: environment, shared files, SSO, container and instance metadata."""
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize(
    "command",
    [
        lambda: preflight.main(["dev", "--timeout", "1"]),
        lambda: teardown.main(["dev"]),
        lambda: node_images.main(["--refresh", "--dry-run", "--region", "eu-west-1"]),
    ],
    ids=["preflight", "teardown", "node_images --refresh"],
)
def test_a_command_without_credentials_says_so_in_one_line(command, no_credentials, capsys):
    assert command() == awscreds.EXIT
    out, err = capsys.readouterr()
    assert err == awscreds.NO_CREDENTIALS + "\n"
    assert "Traceback" not in out + err


def test_a_broken_profile_is_one_line_too(monkeypatch, no_credentials, capsys):
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    assert preflight.main(["dev", "--timeout", "1"]) == awscreds.EXIT
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: AWS credentials could not be loaded: The config profile (no-such-profile)")
