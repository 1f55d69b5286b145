"""The HTML report opened in headless Chromium: it renders its charts and totals offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from bot.report import build
from tests.report.ledger_data import options_ledger, small_ledger

pytestmark = pytest.mark.browser

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, which `make test` installs; fails (never skips) when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("headless chromium is needed: `make test` installs it (Debian chromium)")
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    build(small_ledger()).write_html(path)
    return path


@pytest.fixture(scope="module")
def options_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "options.html"
    build(options_ledger()).write_html(path)
    return path


def browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.mark.parametrize("name", ["page", "options_page"])
def test_html_is_self_contained(name: str, request: pytest.FixtureRequest) -> None:
    text = request.getfixturevalue(name).read_text()
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"(src|href)\s*=", text)
    assert set(re.findall(r"https?://[^\"' )]+", text)) <= {"http://www.w3.org/2000/svg"}


def test_dom_has_charts_and_totals(chromium: str, page: Path, tmp_path: Path) -> None:
    done = browse(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # cumulative PnL; ETH: LP delta vs hedge, hedge ratio, price with fills; net delta
    assert dom.count("<svg") == 5
    assert dom.count('class="series"') >= 10
    assert dom.count('class="fill-mark') == 2
    net = re.search(r'id="total-net"><span class="neg">([^<]+)<', dom)
    assert net is not None and net.group(1) == "-106.66"
    for title in ("Cumulative PnL attribution", "Decisions", "Orders", "Fills", "Halts"):
        assert title in dom


def test_screenshot_is_not_blank(chromium: str, page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = browse(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as img:
        assert img.size == (1280, 2000)
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50  # text, lines and cards, not one flat fill
    assert max(n for n, _ in colors) < 0.95 * 1280 * 2000


def test_options_section_renders_with_greeks_charts(
    chromium: str, options_page: Path, tmp_path: Path
) -> None:
    done = browse(chromium, tmp_path / "profile", "--dump-dom", options_page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # the 5 charts above + ETH greeks: net delta (4 lines), gamma (3), vega/theta (2)
    assert dom.count("<svg") == 8
    assert dom.count('class="series"') >= 10 + 9
    section = dom[dom.index('id="options"') :]
    assert section.index("<h2>Options</h2>") < section.index("<svg")
    pnl = re.search(r'id="options-pnl_usd"><span class="pos">([^<]+)<', dom)
    assert pnl is not None and pnl.group(1) == "8.87"
    assert "ETH: black76 at 1 tick, venue at 1 tick" in dom
    for table in ("table-options", "table-options_open", "table-book_greeks"):
        assert f'id="{table}"' in section
