"""The operator guide names things that exist: sections, workflows, make targets, tools."""

import re

from tests.helpers import ROOT

OPS = (ROOT / "docs" / "operations.md").read_text()


def section(title: str) -> str:
    return OPS.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_upgrade_and_node_image_sections_describe_the_code():
    upgrading, images = section("Upgrading Kubernetes"), section("Node images and EKS add-on versions")
    for word in (
        "releaseVersion",
        "addonVersion",
        "platform/eks-addons.yaml",
        "kubeVersion",
        "upgradePolicy",
        "EXTENDED",
        "--diff",
    ):
        assert word in upgrading, word
    for word in (
        "platform/node-images.yaml",
        "tools.node_images --refresh",
        "node-images.yml",
        "--verify",
        "tools.eks_addons --refresh",
        "AWS_CATALOG_ROLE_ARN",
        "create and approve pull requests",
    ):
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


# ---------------------------------------------------------------------------------------
# cross-references: `docs/x.md, "Heading"` and `x.md#anchor` name headings that exist
# ---------------------------------------------------------------------------------------
SOURCES = [
    p
    for pattern in (
        "*.md",
        "docs/*.md",
        "components/**/*.py",
        "tools/*.py",
        "policies/*.py",
        "Pulumi*.yaml",
        ".github/workflows/*.yml",
        "platform/**/*",
        "Makefile",
        "tests/*.py",
    )
    for p in ROOT.glob(pattern)
    if p.is_file() and "venv" not in p.parts and p.name != "test_docs.py"
]
REFERENCE = re.compile(r"((?:docs/)?[\w.-]+\.md),?\s+\"([^\"\n]+)\"")
ANCHOR = re.compile(r"\(((?:docs/|\.\./)?[\w.-]+\.md)#([\w-]+)\)")


def headings(doc: str) -> set[str]:
    return {line.lstrip("#").strip().replace("`", "") for line in doc.splitlines() if re.match(r"#{1,6} ", line)}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def target(name: str, source) -> object:
    name = name.removeprefix("../")
    for candidate in (ROOT / name, ROOT / "docs" / name, source.parent / name):
        if candidate.is_file():
            return candidate
    return None


def test_every_cross_reference_names_a_heading_that_exists():
    broken = []
    for source in SOURCES:
        text = source.read_text(errors="replace")
        text = re.sub(r"\s*\n\s*(#\s*)?", " ", text) if source.suffix == ".py" else text  # comments span lines
        for name, heading in REFERENCE.findall(text):
            doc = target(name, source)
            if doc is not None and heading.replace("`", "") not in headings(doc.read_text()):
                broken.append(f'{source.relative_to(ROOT)}: {name}, "{heading}"')
        for name, anchor in ANCHOR.findall(text):
            doc = target(name, source)
            if doc is not None and anchor not in {slug(h) for h in headings(doc.read_text())}:
                broken.append(f"{source.relative_to(ROOT)}: {name}#{anchor}")
    assert broken == []


def test_the_version_is_the_changelogs_newest_release():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases and releases[0] == version
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()


def test_every_guardrail_is_in_the_operations_guide():
    from policies import guardrails

    text = (ROOT / "docs" / "operations.md").read_text()
    assert [p.name for p in guardrails.POLICIES if f"| `{p.name}` |" not in text] == []
