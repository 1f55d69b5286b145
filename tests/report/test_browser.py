"""The HTML report opened in headless Chromium: it renders its charts and totals offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal as D
from html.parser import HTMLParser
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
    # ETH price with fills; hedged vs unhedged, drawdown, fees; cumulative PnL; ETH: LP
    # delta vs hedge, hedge ratio; net delta
    assert dom.count("<svg") == 8
    assert dom.count('class="series"') >= 18
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
    # the 8 charts above + ETH greeks: net delta (5 lines), gamma (3), vega/theta (2)
    assert dom.count("<svg") == 11
    assert dom.count('class="series"') >= 19 + 10
    section = dom[dom.index('id="options"') :]
    assert section.index("<h2>Options</h2>") < section.index("<svg")
    pnl = re.search(r'id="options-pnl_usd"><span class="pos">([^<]+)<', dom)
    assert pnl is not None and pnl.group(1) == "8.87"
    assert "ETH: black76 at 1 tick, venue at 1 tick" in dom
    for table in ("table-options", "table-options_open", "table-book_greeks"):
        assert f'id="{table}"' in section


DEMO_STRATEGIES = ("delta_band", "options_overlay")
IN_BAND, OUT_BAND = (218, 240, 226), (249, 216, 216)
"""The range band's tints on the white chart: #16a34a at 16 %, #dc2626 at 18 %."""


@dataclass(frozen=True)
class Demo:
    strategy: str
    page: Path


@pytest.fixture(scope="session", params=DEMO_STRATEGIES)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`lphedge demo --strategy S` run once per strategy (10-40 s each), and its report."""
    out = tmp_path_factory.mktemp(f"demo-{request.param}")
    lphedge = Path(sys.executable).with_name("lphedge")
    done = subprocess.run(
        [str(lphedge), "demo", "--strategy", request.param, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return Demo(request.param, out / "report.html")


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, and the text inside elements with an id."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str]] = []  # (tag, id or '')
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag not in self.VOID:
            self._open.append((tag, found.get("id", "")))
            self.text.setdefault(found.get("id", ""), "")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for _, ident in self._open:
            if ident:
                self.text[ident] += data

    def by_id(self, ident: str) -> dict[str, str]:
        return next(a for _, a in self.tags if a.get("id") == ident)

    def with_class(self, css: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if css in a.get("class", "").split()]


def _dom(chromium: str, page: Path, tmp_path: Path) -> Elements:
    done = browse(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return Elements(done.stdout)


@pytest.mark.slow
def test_demo_report_draws_the_lp_range_band(chromium: str, demo: Demo, tmp_path: Path) -> None:
    dom = _dom(chromium, demo.page, tmp_path)
    drawn = dom.with_class("range-band")
    bands = [b for b in drawn if "data-position" in b]
    assert len(drawn) - len(bands) == 2  # the legend: in range, out of range
    assert {b["data-state"] for b in bands} == {"in", "out"}  # the price leaves the range
    (bounds,) = {(D(b["data-lower"]), D(b["data-upper"])) for b in bands}
    lower, upper = bounds
    # the demo mints +-10 % around the start price, on ticks 10 apart (a 0.1 % grid)
    assert abs(upper / lower / (D("1.1") / D("0.9")) - 1) < D("0.002")
    (row,) = [a for t, a in dom.tags if t == "tr" and "data-position" in a]
    assert (D(row["data-lower"]), D(row["data-upper"])) == bounds
    ticks = re.findall(r'class="x-tick"[^>]*>([^<]+)<', demo.page.read_text())
    assert ticks and all(re.fullmatch(r"[A-Z][a-z]{2} \d\d", t) for t in ticks), ticks  # days


@pytest.mark.slow
def test_demo_report_states_capital_return_and_apr(
    chromium: str, demo: Demo, tmp_path: Path
) -> None:
    dom = _dom(chromium, demo.page, tmp_path)
    capital = dom.by_id("perf-capital")
    total, lp, margin = (D(capital[k]) for k in ("data-usd", "data-lp-usd", "data-margin-usd"))
    assert margin == D("100000.00")  # the demo's paper account (venue.paper_balance_usd)
    assert total == lp + margin and lp > 0
    net = D(dom.text["total-net"].replace(",", ""))
    ret = net / total * 100
    assert abs(D(dom.by_id("perf-return")["data-pct"]) - ret) <= D("0.005")
    days = D(239) / 24  # 240 hourly ticks
    assert abs(D(dom.by_id("perf-apr")["data-pct"]) - ret * 365 / days) <= D("0.005")
    assert "%" in dom.text["perf-return"] and "%" in dom.text["perf-apr"]
    books = [a["data-book"] for t, a in dom.tags if t == "tr" and "data-book" in a]
    assert books == ["unhedged", "hedged"]
    for chart in ("chart-hedged-vs-unhedged", "chart-drawdown", "chart-fees", "chart-price-ETH"):
        dom.by_id(chart)
    acting = dom.by_id("decisions-summary")
    assert int(acting["data-acting"]) + int(acting["data-quiet"]) == 240
    assert 0 < int(acting["data-acting"]) < 240


@pytest.mark.slow
def test_demo_report_screenshot_shows_the_band(chromium: str, demo: Demo, tmp_path: Path) -> None:
    """A real render: the band's two tints cover a visible area of the price chart. With
    LPHEDGE_SCREENSHOTS=DIR the screenshot is kept as DIR/report-<strategy>.png."""
    shot = tmp_path / "report.png"
    done = browse(
        chromium,
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,3200",
        demo.page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as img:
        assert img.size == (1280, 3200)
        colors = img.convert("RGB").getcolors(maxcolors=1 << 22)
    assert colors is not None and len(colors) > 200

    def near(target: tuple[int, int, int]) -> int:
        return sum(
            n for n, c in colors if all(abs(a - b) <= 6 for a, b in zip(c, target, strict=True))
        )

    assert near(IN_BAND) > 20_000 and near(OUT_BAND) > 2_000
    keep = os.environ.get("LPHEDGE_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / f"report-{demo.strategy}.png")
