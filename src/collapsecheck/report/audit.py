"""The audit's report files (``collapsecheck audit FILE --out DIR``): ``audit.json``
(what ``--json`` prints) and a self-contained ``audit.html`` with the checks, the rate,
and the calibration of the recorded chains: PIT ECDF-difference plots of their
one-generation steps and of their endpoint in the simultaneous 95% band
(the family's data, :func:`collapsecheck.families.gaussian.figures.audit_figures`, drawn
by :func:`collapsecheck.report.figures.pit_svg`).

``audit_figures`` is served here under its historical name, resolved when first asked for
(importing this module loads no family).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from collapsecheck.io import atomic_write_many, ensure_directory
from collapsecheck.report._format import fmt_num
from collapsecheck.report.html import (
    _FIGURE_TITLES,
    _badge,
    _direction_cell,
    _e,
    _effect_html,
    _id,
    _kv,
    _p,
    _stat,
    _table,
    figure_html,
    page,
)
from collapsecheck.report.notation import quantity_label, to_html

__all__ = [  # noqa: F822 - audit_figures, the Gaussian family's, is served by __getattr__
    "AUDIT_FILES", "audit_figures", "render_audit_html", "write_audit_reports"]

#: Format -> file name inside the output folder.
AUDIT_FILES = {"json": "audit.json", "html": "audit.html"}

_PIT_KINDS = ("pit_increments", "pit_endpoint")


def __getattr__(name: str):
    """``audit_figures``, the Gaussian family's, under its historical name."""
    if name == "audit_figures":
        from collapsecheck.families.gaussian.figures import audit_figures

        return audit_figures
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"audit_figures"})


def _figures(figures: Mapping[str, Any]) -> str:
    out = [figure_html(kind, figures[kind], _FIGURE_TITLES[kind])
           for kind in _PIT_KINDS if figures.get(kind) is not None]
    if not out:
        return ('<h2 id="calibration">Calibration</h2><p class="note">No PIT plot: the exact '
                "step law is drawn for the article's chain (--regime replace) with at least "
                "20 steps or chains.</p>")
    return ('<h2 id="calibration">Calibration</h2><p>Each recorded value mapped through its '
            "exact CDF is uniform when the chains follow the refit chain with this n and "
            "ddof. The curves are ECDF(u) − u, in the simultaneous 95% band of Säilynoja, "
            "Bürkner and Vehtari (2022): a correct simulator's curve leaves it anywhere "
            "with probability at most 5%; where it leaves shows where the law departs "
            "(too many small u: steps or endpoints below the exact law, e.g. too fast a "
            'collapse; an S-shape: the wrong spread).</p><div class="figs">'
            + "".join(out) + "</div>")


def render_audit_html(result, figures: Mapping[str, Any], command: str = "") -> str:
    """``audit.html``: the verdict, the checks, the rate, the PIT plots, the spec."""
    record = result.to_dict()
    checks = record["checks"]
    kinds = [getattr(c, "kind", "consistency") for c in result.checks]
    bad = ([c for c in checks if c["verdict"] == "FAIL"]
           or [c for c in checks if c["verdict"] == "WEAK"])
    why = ("".join(f"<li>{_badge(c['verdict'])} {_id(c['id'])}: {_stat(c)}, p = "
                   f"{_p(c['pvalue'])} (alpha {_e(fmt_num(c['alpha']))})"
                   + (f" — {to_html(c['reason'])}" if c["reason"] else "") + "</li>"
                   for c in bad))
    failed = (f'<h2 id="failed">What failed, and by how much</h2><ul class="failed">{why}</ul>'
              if bad else '<h2 id="failed">What failed, and by how much</h2><p>Nothing: '
              "no check FAILed or was WEAK.</p>")
    tested = _table(
        ["check", "what it tests", "kind", "smallest detectable error", "alpha"],
        [[_id(c["id"]), to_html(c["statement"]), _e(k),
          _effect_html(c["detectable_effect"] or {}), _e(fmt_num(c["alpha"]))]
         for c, k in zip(checks, kinds, strict=True)],
        [False, False, False, False, True])
    rows = [[_id(c["id"]), _badge(c["verdict"]), _stat(c), _p(c["pvalue"]),
             _e(fmt_num(c["alpha"])), _direction_cell(k), to_html(c["reason"] or "")]
            for c, k in zip(checks, kinds, strict=True)]
    results = _table(["check", "verdict", "statistic", "p-value", "alpha", "a small p means",
                      "note"], rows, [False, False, True, True, True, False, False])
    rate_rows = []
    for key, v in record["rate"].items():
        if isinstance(v, Mapping) and "estimate" in v:
            ci = v.get("ci95")
            rate_rows.append([f'<span title="{_e(key)}">{_e(quantity_label(key))}</span>',
                              _e(fmt_num(v["estimate"])),
                              _e("—" if not ci else f"{fmt_num(ci[0])} to {fmt_num(ci[1])}"),
                              _e(fmt_num(v.get("exact")))])
    rate = _table(["quantity", "estimate", "95% CI", "exact"], rate_rows,
                  [False, True, False, True]) if rate_rows else ""
    skipped = (f"<h2>Not run</h2>{_kv(record['skipped'])}" if record["skipped"] else "")
    notes = "".join(f'<p class="note">{to_html(n)}</p>' for n in record["notes"])
    cmd = f"<pre><code>{_e(command)}</code></pre>" if command else ""
    body = f"""<header class="top">
<div class="headline"><h1>collapsecheck audit</h1>{_badge(record['verdict'], big=True)}</div>
<p class="muted">Chains from {f"<code>{_e(record['source'])}</code>" if record['source']
                              else "memory (no file)"} · n = {_e(record['spec'].get('n'))}
· ddof = {_e(fmt_num(record['spec'].get('ddof')))}</p>{cmd}{notes}
</header>
<h2 id="tested">What was tested, and at what power</h2>
<p class="muted">A <em>consistency</em> check tests the recorded chains against the exact
law: it FAILs below its alpha and PASSes on a large p. A <em>confirmatory</em> check tests
that the property does not hold: it PASSes on a small p. Each check's smallest detectable
error is the departure it detects with the stated power at its false-alarm rate alpha.</p>
{tested}
{failed}
<h2 id="checks">Results</h2>{results}
<h2 id="rate">Rate</h2>{rate}
{_figures(figures)}
{skipped}
<footer><h2 id="spec">Audit</h2>{_kv(record['spec'])}</footer>"""
    return page(f"collapsecheck audit — {record['verdict']}", body)


def write_audit_reports(result, figures: Mapping[str, Any], out_dir: str | os.PathLike,
                        command: str = "") -> dict[str, Path]:
    """Render, then write ``audit.json`` and ``audit.html`` into ``out_dir`` as one
    atomic step (nothing is half-written; other files are left alone)."""
    from collapsecheck.report.jsonable import dumps, jsonable

    texts = {"json": dumps(jsonable(result.to_dict())) + "\n",
             "html": render_audit_html(result, figures, command)}
    folder = ensure_directory(out_dir)
    paths = {fmt: folder / AUDIT_FILES[fmt] for fmt in texts}
    atomic_write_many({paths[fmt]: text.encode("utf-8") for fmt, text in texts.items()})
    return paths
