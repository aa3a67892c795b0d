"""The operator guide names things that exist: sections, workflows, make targets, tools."""

import re

from tests.conftest import ROOT

OPS = (ROOT / "docs" / "operations.md").read_text()


def section(title: str) -> str:
    return OPS.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_upgrade_and_node_image_sections_describe_the_code():
    upgrading, images = section("Upgrading Kubernetes"), section("Node images")
    for word in ("releaseVersion", "addonVersion", "get_addon_version", "upgradePolicy", "EXTENDED", "--diff"):
        assert word in upgrading, word
    for word in ("platform/node-images.yaml", "tools.node_images --refresh", "node-images.yml", "--verify"):
        assert word in images, word
    assert (ROOT / ".github/workflows/node-images.yml").is_file()


def test_every_make_target_and_tool_the_guide_names_exists():
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"`make ([a-z-]+)", OPS)):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target}"
    for tool in set(re.findall(r"python -m tools\.([a-z_]+)", OPS)):
        assert (ROOT / "tools" / f"{tool}.py").is_file(), tool


def test_teardown_section_names_the_tools_flags():
    from tools import teardown

    text = section("Tearing down")
    doc = teardown.__doc__
    for flag in ("--execute", "--allow-protected", "--delete-leftovers", "--timeout"):
        assert flag in text and flag in doc, flag
