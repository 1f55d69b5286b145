"""The dashboard of a running demo in real Chromium (Playwright driving Debian's chromium):
it renders the live tables and the report's charts, and its halt button with the token
halts the bot (a ledger event naming the token) and the page shows it. A screenshot is
kept as a test artefact (`LPHEDGE_ARTEFACTS`, default .artefacts/)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.ledger.store import Ledger
from tests.report.test_browser import FLAGS, chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["chromium"]
ARTEFACTS = Path(os.environ.get("LPHEDGE_ARTEFACTS", ".artefacts"))


@dataclass
class Demo:
    url: str
    token: str
    db: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`lphedge demo --hours 24 --serve 0`: the demo, then its dashboard until stopped."""
    out = tmp_path_factory.mktemp("demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--hours", "24", "--out", str(out), "--serve", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        found = re.search(
            r"dashboard: (http://\S+)/\s+token \(control, this run only\): (\S+)", line
        )
        if found:
            break
    else:
        proc.wait(timeout=30)
        pytest.fail("the demo never served its dashboard:\n" + "".join(seen))
    try:
        yield Demo(found[1], found[2], out / "demo-ledger.db")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser_page(chromium: str) -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=list(FLAGS))
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        yield page
        browser.close()


def test_dashboard_renders_and_its_halt_button_halts_the_bot(
    demo: Demo, browser_page: Page
) -> None:
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(demo.url + "/")
    page.fill("#token", demo.token)
    page.click("#connect")
    expect(page.locator("body")).to_have_attribute("data-loaded", "yes", timeout=20_000)

    expect(page.locator("#assets tbody tr").first).to_contain_text("ETH")
    expect(page.locator("#positions tbody tr")).to_have_count(1)
    expect(page.locator("#positions tbody tr td").last).to_have_text("-")  # not staked
    expect(page.locator("#decisions tbody tr").first).to_contain_text("ETH")
    expect(page.locator("#pnl")).to_contain_text("hedge realised")
    expect(page.locator("#mode")).to_have_text("paper on binanceusdm")
    report = page.frame_locator("#report")
    expect(report.locator("svg").first).to_be_visible(timeout=20_000)
    assert report.locator("svg").count() >= 3  # price with ranges, PnL, deltas
    expect(page.locator("#state")).not_to_have_text("HALTED")

    page.once("dialog", lambda d: d.accept("halted from the dashboard test"))
    page.click("#halt")
    expect(page.locator("#message")).to_contain_text("halt recorded as ledger event")
    expect(page.locator("#state")).to_have_text("HALTED", timeout=10_000)
    expect(page.locator("#banner")).to_contain_text("halted from the dashboard test")

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "dashboard-halted.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000

    with Ledger.open(f"sqlite:///{demo.db}", create=False) as ledger:
        last = ledger.last("halt")
    assert last is not None and last.payload["by"] == "api:demo"
    assert last.payload["reason"] == "halted from the dashboard test"
    assert errors == []
    assert all(u.startswith(demo.url) or u.startswith("about:") for u in requests), requests

    page.once("dialog", lambda d: d.accept("resumed from the dashboard test"))
    page.click("#resume")
    expect(page.locator("#state")).not_to_have_text("HALTED", timeout=10_000)
