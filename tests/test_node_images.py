"""tools/node_images.py against moto's SSM, with AWS's public EKS parameters published into it."""

from __future__ import annotations

import datetime

import pytest

from components.config import nodeimages
from tools import node_images

REGION = "eu-west-1"


def publish(name: str, value: str) -> None:
    """A public /aws/service parameter, as AWS publishes it (nobody may PutParameter under /aws)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ssm.models import Parameter, ssm_backends

    backend = ssm_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend._parameters[name].append(
        Parameter(
            account_id=DEFAULT_ACCOUNT_ID,
            name=name,
            value=value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=datetime.datetime(2026, 11, 20),
            version=1,
            data_type="text",
        )
    )


def publish_release(minor: str, os_: str, arch: str, release: str) -> None:
    publish(nodeimages.recommended_parameter(minor, os_, arch), release)
    publish(nodeimages.image_parameter(minor, os_, arch, release), "ami-0123456789abcdef0")


CATALOG = """# header line one
# header line two
"1.34":
  al2023: {arm64: 1.34.2-20261105, x86_64: 1.34.2-20261105}
  bottlerocket: {arm64: 1.52.0-8f2e1d3c, x86_64: 1.52.0-8f2e1d3c}
"1.35":
  al2023: {arm64: 1.35.0-20261105, x86_64: 1.35.0-20261105}
  bottlerocket: {arm64: 1.52.0-8f2e1d3c, x86_64: 1.52.0-8f2e1d3c}
"""


@pytest.fixture
def ssm(tmp_path):
    import boto3
    from moto import mock_aws  # imported by the tests that use it: moto's import is a second of `make unit`

    with mock_aws():
        yield boto3.client("ssm", region_name=REGION)


def current_releases():
    for minor, by_os in nodeimages.parse(CATALOG).items():
        for os_, by_arch in by_os.items():
            for arch, release in by_arch.items():
                publish_release(minor, os_, arch, release)


def test_refresh_rewrites_only_what_aws_moved(ssm, tmp_path, capsys):
    path = tmp_path / "node-images.yaml"
    path.write_text(CATALOG)
    current_releases()
    publish_release("1.35", "al2023", "x86_64", "1.35.1-20261119")
    publish_release("1.35", "al2023", "arm64", "1.35.1-20261119")
    assert node_images.main(["--refresh"], ssm=ssm, path=path) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:2] == [
        '"1.35".al2023.arm64: 1.35.0-20261105 -> 1.35.1-20261119',
        '"1.35".al2023.x86_64: 1.35.0-20261105 -> 1.35.1-20261119',
    ]
    assert path.read_text() == CATALOG.replace(
        "al2023: {arm64: 1.35.0-20261105, x86_64: 1.35.0-20261105}",
        "al2023: {arm64: 1.35.1-20261119, x86_64: 1.35.1-20261119}",
    )
    # a second run changes nothing
    assert node_images.main(["--refresh"], ssm=ssm, path=path) == 0
    assert "up to date" in capsys.readouterr().out


def test_dry_run_writes_nothing(ssm, tmp_path, capsys):
    path = tmp_path / "node-images.yaml"
    path.write_text(CATALOG)
    current_releases()
    publish_release("1.34", "bottlerocket", "arm64", "1.53.0-0a1b2c3d")
    assert node_images.main(["--refresh", "--dry-run"], ssm=ssm, path=path) == 0
    assert capsys.readouterr().out.strip() == '"1.34".bottlerocket.arm64: 1.52.0-8f2e1d3c -> 1.53.0-0a1b2c3d'
    assert path.read_text() == CATALOG


def test_a_release_without_its_image_is_refused(ssm, tmp_path, capsys):
    path = tmp_path / "node-images.yaml"
    path.write_text(CATALOG)
    current_releases()
    # AWS says "recommended" but the versioned image parameter is not there (yet): never write it
    publish(nodeimages.recommended_parameter("1.35", "bottlerocket", "x86_64"), "1.53.0-0a1b2c3d")
    assert node_images.main(["--refresh"], ssm=ssm, path=path) == 1
    err = capsys.readouterr().err
    assert (
        'platform/node-images.yaml: "1.35".bottlerocket.x86_64: release 1.53.0-0a1b2c3d has no image parameter '
        "/aws/service/bottlerocket/aws-k8s-1.35/x86_64/1.53.0-0a1b2c3d/image_id"
    ) in err
    assert path.read_text() == CATALOG


def test_verify_reports_unpublished_releases(ssm, tmp_path, capsys):
    path = tmp_path / "node-images.yaml"
    path.write_text(CATALOG)
    assert node_images.main(["--verify"], ssm=ssm, path=path) == 1
    assert len(capsys.readouterr().err.splitlines()) == 8
    current_releases()
    assert node_images.main(["--verify"], ssm=ssm, path=path) == 0
    assert "8 releases, every image published" in capsys.readouterr().out


def test_no_recommendation_for_a_minor_is_a_problem(ssm, tmp_path, capsys):
    path = tmp_path / "node-images.yaml"
    path.write_text(CATALOG)
    assert node_images.main(["--refresh"], ssm=ssm, path=path) == 1
    err = capsys.readouterr().err
    assert (
        '"1.34".al2023.arm64: AWS publishes no release at '
        "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/arm64/standard/recommended/release_version"
    ) in err


def test_the_repository_catalog_round_trips():
    text = nodeimages.CATALOG.read_text()
    parsed = nodeimages.parse(text)
    assert node_images.render(parsed, node_images.header_of(text)) == text
