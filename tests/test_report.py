"""The HTML plan report (issue 32, item 3) in a real browser: Debian's headless Chromium through Selenium and
chromedriver (.ci/run installs both when the machine lacks them)."""

from __future__ import annotations

import json
import re
import shutil
import time

import pytest

from tests.helpers import DNS_ZONE, SYSTEM_TYPE, edited_prod
from tools import diff, plan, report

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert shutil.which("chromium") and shutil.which("chromedriver"), (
        "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # no background traffic of the browser's own (this machine's network is closed, and the test counts requests)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,1200",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def diffed(prod):
    return diff.diff(prod.as_json(), edited_prod(SYSTEM_TYPE, DNS_ZONE), "main")


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


def urns(browser, selector: str, visible_only: bool = False) -> list[str]:
    """The data-urn of every element the selector matches (shown ones only, if asked), in one round trip."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(e => !arguments[1] || e.offsetParent !== null).map(e => e.getAttribute('data-urn'));",
        selector,
        visible_only,
    )


def test_the_prod_page_draws_every_component_and_resource_offline(browser, prod, tmp_path):
    from selenium.webdriver.common.by import By

    path = tmp_path / "prod.html"
    path.write_text(report.page(prod), encoding="utf-8")
    console, requests = opened(browser, path)
    assert console == [] and requests == []
    components = [r for r in prod.resources if not r.custom]
    assert sorted(urns(browser, "details.component")) == sorted(c.urn for c in components)
    assert browser.find_elements(By.CSS_SELECTOR, "pre.mermaid svg g.node")  # Mermaid drew the graph
    nesting = {c.parent for c in components if c.parent}
    assert len(browser.find_elements(By.CSS_SELECTOR, "pre.mermaid svg g.cluster")) == len(nesting)
    assert sorted(urns(browser, "#resource-table tbody tr")) == sorted(r.urn for r in prod.resources)
    assert "FAIL" not in browser.find_element(By.ID, "guardrails").text  # prod passes every guardrail
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline .step")
    # the search narrows the tree and the table to what matches
    browser.find_element(By.ID, "search").send_keys("NodeMonitoringAgent")
    for selector in ("#resource-table tbody tr", "details.component"):
        shown = [u.rsplit("::", 1)[1] for u in urns(browser, selector, visible_only=True)]
        assert shown == ["eks-platform-prod-node-monitoring"], selector


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
    policy = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#diff-table tbody tr") if "RolePolicy" in r.text)
    assert policy.is_displayed() and "+ resource arn:aws:route53:::hostedzone/Z0PROD987654321" in policy.text


def test_the_page_is_written_by_the_cli(tmp_path):
    out = tmp_path / "dev.html"
    assert plan.main(["dev", "--quiet", "--html", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("<!doctype html>")
    # nothing the markup or the stylesheet would fetch (the browser tests watch the scripts' requests)
    markup = re.sub(r"<script>.*?</script>", "<script></script>", text, flags=re.S)
    assert not [m for m in ("<script src", "<link", "@import", "url(", "<img", "<iframe") if m in markup]
    assert markup.count("<script></script>") == 2  # Mermaid and the page's own, both inline
