"""The HTML reports in a real browser: Debian's headless chromium, driven by playwright
(which is told where chromium is and never downloads a browser of its own).

Three pages, each at 1400 and 800 px wide: the report of the ``ci`` profile (the
article's kind of report, with its figures, claims and remedy, at CI speed), a
synthetic report with every figure and a FAIL, and an audit (a FAIL, so its "what
failed" section and both PIT plots are drawn). Each must load with no console error or
uncaught exception, draw every figure (an ``<svg>`` of real size with drawn elements),
and fit the page: no horizontal overflow of the page, and no table wider than its box.

Skipped where /usr/bin/chromium or playwright is missing, except under CI (env ``CI``
set), where their absence fails: ``.ci/run`` installs chromium with apt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = (1400, 800)


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; CI must run the browser test (.ci/run installs chromium).")
        pytest.skip(why)


@pytest.fixture(scope="module")
def browser():
    _need(CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The three report pages, written to disk as the commands write them."""
    from tests.test_report import make_report

    from collapsecheck import Experiment
    from collapsecheck.audit import audit
    from collapsecheck.engines import simulate
    from collapsecheck.families.gaussian.figures import audit_figures
    from collapsecheck.profiles import load_profile
    from collapsecheck.report.audit import write_audit_reports
    from collapsecheck.report.write import write_reports
    from collapsecheck.validate import run_profile

    root = tmp_path_factory.mktemp("browser")
    ci = run_profile(load_profile("ci"), command="collapsecheck validate --profile ci")
    write_reports(ci, root / "ci")
    write_reports(make_report(), root / "synthetic")
    traj = simulate(Experiment(n=10, generations=100, replicates=200, seed=3),
                    workers=1).trajectories
    result = audit(traj, n=12)  # the wrong n: a FAIL with a "what failed" section
    write_audit_reports(result, audit_figures(traj, result), root / "audit",
                        "collapsecheck audit chains.csv --n 12 --out audit")
    return {"ci": root / "ci" / "report.html", "synthetic": root / "synthetic" / "report.html",
            "audit": root / "audit" / "audit.html"}


_MEASURE = """() => {
  const svgs = [...document.querySelectorAll('svg')].map(s => {
    const r = s.getBoundingClientRect();
    return {w: r.width, h: r.height,
            drawn: s.querySelectorAll('path, line, polyline, polygon, rect, circle, use').length,
            title: (s.querySelector('text') || {}).textContent || ''};
  });
  const wide = [...document.querySelectorAll('.tablewrap')]
    .filter(t => t.scrollWidth > t.clientWidth + 1)
    .map(t => (t.querySelector('th') || {}).textContent + ' table: ' + t.scrollWidth
              + ' > ' + t.clientWidth);
  return {svgs, wide, scroll: document.documentElement.scrollWidth,
          inner: window.innerWidth};
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["ci", "synthetic", "audit"])
def test_report_renders_in_a_browser(browser, pages, name, width, tmp_path):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "about:"))
            else errors.append(f"network request to {r.url}"))
    page.goto(pages[name].as_uri())
    page.wait_for_load_state("load")
    m = page.evaluate(_MEASURE)
    shot = tmp_path / f"{name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    keep = os.environ.get("COLLAPSECHECK_SCREENSHOTS")
    if keep:  # to look at them: COLLAPSECHECK_SCREENSHOTS=DIR pytest tests/test_browser.py
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    page.close()

    assert errors == []
    expected = {"ci": 6, "synthetic": 6, "audit": 2}[name]
    assert len(m["svgs"]) >= expected
    for svg in m["svgs"]:
        assert svg["w"] >= 200 and svg["h"] >= 100, svg
        assert svg["drawn"] > 0, svg
        # a figure is never shown wider than the page leaves for it
        assert svg["w"] <= width
    assert m["scroll"] <= m["inner"], f"page overflows: {m['scroll']} > {m['inner']} px"
    assert m["wide"] == []
    assert shot.stat().st_size > 10_000  # a page was drawn
