"""The HTML report opened in headless Chromium: it renders its charts and totals offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from bot.report import build
from tests.report.ledger_data import small_ledger

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
    """Debian's chromium; installed here (apt-get) when the machine does not have it yet."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"],
            check=False,
            capture_output=True,
            timeout=600,
        )
        found = shutil.which("chromium")
    if found is None:
        pytest.fail("headless chromium is needed: run `apt-get install -y chromium`")
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    build(small_ledger()).write_html(path)
    return path


def browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_html_is_self_contained(page: Path) -> None:
    text = page.read_text()
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
