"""The report's figures are sized for reading: they scale with the page (viewBox, width
100%, a maximum size), text is large enough at 800 px, log axes carry at least four
labelled ticks, and the drift plot labels rows briefly with the full id on hover."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from tests.test_report import _figures

from collapsecheck.report.figures import (
    _RC,
    PX_PER_PT,
    drift_svg,
    render_figure,
    short_id,
    trajectories_svg,
)

_NS = {"s": "http://www.w3.org/2000/svg"}


def _scale_at(svg: str, page: int) -> float:
    """CSS pixels per viewBox unit when the figure is shown in a page ``page`` px wide
    (main's padding and the figure's border and padding taken off)."""
    vb = [float(x) for x in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    shown = min(page - 40 - 22, float(re.search(r"max-width:(\d+)px", svg).group(1)))
    return shown / vb[2]


@pytest.mark.parametrize("kind", sorted(_figures()))
def test_figures_scale_and_read_at_800_px(kind):
    svg = render_figure(kind, _figures()[kind])
    assert re.match(r'<svg[^>]*style="width:100%;height:auto;max-width:\d+px"', svg)
    assert 'viewBox="' in svg and not re.match(r'<svg[^>]*\swidth="', svg)
    ET.fromstring(svg)
    smallest = min(_RC["xtick.labelsize"], _RC["ytick.labelsize"], _RC["legend.fontsize"])
    assert smallest * _scale_at(svg, 800) >= 12.0
    assert _scale_at(svg, 1400) <= 1.01 * PX_PER_PT


def test_log_axis_has_at_least_four_ticks():
    svg = trajectories_svg(_figures()["trajectories"])
    root = ET.fromstring(svg)
    yticks = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
              if re.fullmatch(r"ytick_\d+", g.get("id") or "")]
    assert len(yticks) >= 4


def test_drift_rows_are_short_with_full_id_on_hover():
    rows = [{"id": "collapse.drift_equivalence.n1000.T10000.sufficient", "estimate": 0.01,
             "ci95": [-0.01, 0.03], "theory": 0.0, "margin": [-0.05, 0.05]},
            {"id": "collapse.drift_consistency.n4.T50.ddof0.5.samples", "estimate": -0.02,
             "ci95": [-0.05, 0.01], "theory": 0.0, "margin": None}]
    svg = drift_svg(rows)
    for r in rows:
        assert f"<title>{r['id']}</title>" in svg
    assert short_id(rows[0]["id"]) == "equivalence n=1000 T=10000 sufficient"
    assert short_id(rows[1]["id"]) == "consistency n=4 T=50 ddof=0.5 samples"
    assert short_id("n=5") == "n=5"
    assert short_id("x" * 60) == "x" * 39 + "…"


def test_titles_use_the_reports_notation():
    data = dict(_figures()["endpoint"], title="log(sigma_T^2/sigma_0^2) at T=20")
    svg = render_figure("endpoint", data)
    assert "log(σ_T²/σ₀²) at T=20" in svg and "sigma" not in svg
