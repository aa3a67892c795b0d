"""The HTML plan report (issue 32, item 3) in a real browser: Debian's headless Chromium through Selenium and
chromedriver (.ci/run installs both when the machine lacks them)."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from tests.conftest import ROOT
from tools import diff, plan, report

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PROD = (ROOT / "Pulumi.prod.yaml").read_text()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromium") and shutil.which("chromedriver"), \
        "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # no background traffic of the browser's own (this machine's network is closed, and the test counts requests)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1600,1200"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def diffed(tmp_path_factory, prod):
    folder = tmp_path_factory.mktemp("report")
    path = folder / "Pulumi.prod.yaml"
    path.write_text(PROD.replace("      instanceTypes: [m7i.large]\n      scaling: {min: 3",
                                 "      instanceTypes: [m7i.xlarge]\n      scaling: {min: 3", 1)
                    .replace("hostedZoneIds: [Z0PROD123456789]", "hostedZoneIds: [Z0PROD123456789, Z0PROD0000001]"))
    return diff.diff(prod.as_json(), plan.run(path, "prod").as_json(), "main")


def opened(browser, path):
    """Load the page from disk, wait for Mermaid's drawing; (console entries, requests other than the page)."""
    from selenium.webdriver.common.by import By

    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(path.as_uri())
    deadline = time.monotonic() + 30
    while not browser.find_elements(By.CSS_SELECTOR, "pre.mermaid svg") and time.monotonic() < deadline:
        time.sleep(0.1)
    console = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    requests = [m["params"]["request"]["url"] for m in events if m["method"] == "Network.requestWillBeSent"]
    return console, [u for u in requests if u != path.as_uri()]


def test_the_prod_page_draws_every_component_and_resource_offline(browser, prod, tmp_path):
    from selenium.webdriver.common.by import By

    path = tmp_path / "prod.html"
    path.write_text(report.page(prod), encoding="utf-8")
    console, requests = opened(browser, path)
    assert console == [] and requests == []
    components = [r for r in prod.resources if not r.custom]
    groups = browser.find_elements(By.CSS_SELECTOR, "details.component")
    assert sorted(g.get_attribute("data-urn") for g in groups) == sorted(c.urn for c in components)
    assert browser.find_elements(By.CSS_SELECTOR, "pre.mermaid svg g.node")  # Mermaid drew the graph
    nesting = {c.parent for c in components if c.parent}
    assert len(browser.find_elements(By.CSS_SELECTOR, "pre.mermaid svg g.cluster")) == len(nesting)
    rows = browser.find_elements(By.CSS_SELECTOR, "#resource-table tbody tr")
    assert sorted(r.get_attribute("data-urn") for r in rows) == sorted(r.urn for r in prod.resources)
    assert "FAIL" not in browser.find_element(By.ID, "guardrails").text  # prod passes every guardrail
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline .step")


def test_the_diff_page_shows_its_actions_and_values(browser, prod, diffed, tmp_path):
    from selenium.webdriver.common.by import By

    path = tmp_path / "diff.html"
    path.write_text(report.page(prod, diff=diffed), encoding="utf-8")
    console, requests = opened(browser, path)
    assert console == [] and requests == []
    rows = {r.get_attribute("data-op"): r for r in browser.find_elements(By.CSS_SELECTOR, "#diff-table tbody tr")}
    assert {"replace", "update"} <= set(rows)
    replace = rows["replace"]
    assert replace.is_displayed() and "ROLLS NODES" in replace.text and "+ m7i.xlarge" in replace.text
    policy = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#diff-table tbody tr")
                  if "RolePolicy" in r.text)
    assert policy.is_displayed() and "+ resource arn:aws:route53:::hostedzone/Z0PROD0000001" in policy.text


def test_search_narrows_the_tree_and_the_table(browser, prod, tmp_path):
    from selenium.webdriver.common.by import By

    path = tmp_path / "search.html"
    path.write_text(report.page(prod), encoding="utf-8")
    opened(browser, path)
    browser.find_element(By.ID, "search").send_keys("NodeMonitoringAgent")
    shown = [r for r in browser.find_elements(By.CSS_SELECTOR, "#resource-table tbody tr") if r.is_displayed()]
    assert [r.get_attribute("data-urn").rsplit("::", 1)[1] for r in shown] == ["eks-platform-prod-node-monitoring"]
    visible = [g for g in browser.find_elements(By.CSS_SELECTOR, "details.component") if g.is_displayed()]
    assert [g.get_attribute("data-urn").rsplit("::", 1)[1] for g in visible] == ["eks-platform-prod-node-monitoring"]


def test_the_page_is_written_by_the_cli(tmp_path):
    out = tmp_path / "dev.html"
    assert plan.main(["dev", "--quiet", "--html", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!doctype html>")
    # nothing the markup or the stylesheet would fetch (the browser tests watch the scripts' requests)
    markup = re.sub(r"<script>.*?</script>", "<script></script>", text, flags=re.S)
    assert not [m for m in ("<script src", "<link", "@import", "url(", "<img", "<iframe") if m in markup]
    assert markup.count("<script></script>") == 2  # Mermaid and the page's own, both inline
