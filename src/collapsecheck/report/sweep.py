"""The four report files of ``collapsecheck sweep --out DIR``: ``sweep.json``, ``sweep.md``,
``sweep.html`` (self-contained, the scaling plot as inline SVG) and ``junit.xml``.

Every writer is a pure function of a :class:`~collapsecheck.sweep.SweepResult` (and the
command line that reproduces it); :func:`write_sweep_reports` renders all four before it
writes any, then writes them atomically (:func:`collapsecheck.io.atomic_write_many`). The
exact drift curve of the figure comes from the result
(:meth:`~collapsecheck.sweep.SweepResult.exact_drift`), so this module imports no
family's theory, and importing it loads no family.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np

from collapsecheck.io import atomic_write_many, ensure_directory
from collapsecheck.report import figures as _fig
from collapsecheck.report import html as _html
from collapsecheck.report import markdown as _md
from collapsecheck.report._format import MISSING, fmt_num
from collapsecheck.report.jsonable import dumps
from collapsecheck.report.junit import _x

if TYPE_CHECKING:  # the sweep is the Gaussian family's: its result carries what is drawn
    from collapsecheck.sweep import SweepResult

__all__ = ["SWEEP_FILES", "render_sweep_html", "render_sweep_json", "render_sweep_junit",
           "render_sweep_markdown", "sweep_svg", "write_sweep_reports"]

_RED = "#b91c1c"

#: Format -> file name inside the output folder.
SWEEP_FILES = {"json": "sweep.json", "markdown": "sweep.md", "html": "sweep.html",
               "junit": "junit.xml"}


def _record(result: SweepResult, command: str | None) -> dict:
    record = result.to_dict()
    if command is not None:
        record["command"] = command
    return record


def _ci(ci) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return MISSING
    return f"[{fmt_num(ci[0])}, {fmt_num(ci[1])}]"


def _statistics_text(result: SweepResult) -> list[str]:
    """The statistics used, in plain sentences (shared by Markdown and HTML)."""
    a = result.alpha
    e = result.exponent
    lines = [
        "Drift at each n: pooled OLS slope of log σ² on the generation (at most 201 recorded "
        "generations), standard error clustered by replicate (CR1, as statsmodels' "
        "cov_type='cluster'); each n runs on its own stream, derived_seed(seed, (n,)).",
        f"Points: two-sided t-test (df = replicates − 1) of drift = exact digamma drift at "
        f"each n, Holm over the {len(result.points)} points at level "
        f"{fmt_num(result.points[0].alpha)}.",
    ]
    if e.measured:
        lines.append(
            "Exponent: least squares of log|drift| on log n, SE from each point's measured "
            "drift SE by the delta method (SE/|drift|); two-sided z-test against the exact "
            f"exponent of the same design ({fmt_num(e.exact)}: the same fit of the exact "
            f"drifts; weighted by the design's inverse variances it would be "
            f"{fmt_num(e.exact_weighted)}; the large-n limit is −1) at level "
            f"{fmt_num(e.alpha)}.")
    else:
        lines.append(f"Exponent: not fitted (UNMEASURABLE): {e.note}")
    lines.append(f"Family-wise level alpha = {fmt_num(a)}: a correct simulator fails this sweep "
                 "with probability at most alpha.")
    return lines


# ---------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------


def render_sweep_json(result: SweepResult, command: str | None = None) -> str:
    """``sweep.json``: :meth:`SweepResult.to_dict` (plus ``command``), strict JSON."""
    return dumps(_record(result, command)) + "\n"


# ---------------------------------------------------------------------------------------
# Figure
# ---------------------------------------------------------------------------------------


def _abs_interval(lo: float, hi: float, floor: float) -> tuple[float, float]:
    """The interval of |drift| for a drift interval [lo, hi] (down to ``floor`` when it
    straddles 0, where a log axis has no bottom)."""
    if lo > 0 or hi < 0:
        a, b = sorted((abs(lo), abs(hi)))
        return a, b
    return floor, max(abs(lo), abs(hi))


def sweep_svg(result: SweepResult) -> str:
    """|drift of log σ²| against n on log-log axes: measured drifts (points, 95% bars), the
    exact digamma drift (line), its large-n power law (2 − ddof)/n (dashed, exponent −1)
    and the fitted power law (dotted), when there is one."""
    ns = np.array(result.ns, dtype=float)
    dense = np.unique(np.geomspace(ns.min(), ns.max(), 240).round().astype(np.int64))
    exact = np.array([abs(result.exact_drift(int(n))) for n in dense])
    est = np.array([p.estimate for p in result.points])
    cis = [p.confidence_interval() for p in result.points]
    positive = np.concatenate([exact[exact > 0], np.abs(est[np.isfinite(est) & (est != 0)])])
    floor = float(positive.min()) / 10 if positive.size else 1e-12
    with matplotlib.rc_context(_fig._RC):
        fig = _fig._figure(_fig.WIDTH, 4.6)
        ax = fig.add_subplot()
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.plot(dense, np.where(exact > 0, exact, np.nan), color=_fig._BLUE, linewidth=1.8,
                label="exact drift (digamma)")
        if result.ddof < 2:
            ax.plot(dense, (2 - result.ddof) / dense, color=_fig._GREY, linewidth=1.0,
                    linestyle="--", label=f"large-n law {2 - result.ddof:g}/n (exponent −1)")
        e = result.exponent
        if e.measured and math.isfinite(e.estimate) and math.isfinite(e.intercept):
            ax.plot(dense, np.exp(e.intercept) * dense.astype(float) ** e.estimate,
                    color=_fig._ORANGE, linewidth=1.0, linestyle=":",
                    label=f"fitted power law, exponent {e.estimate:.4g}")
        for i, (p, ci) in enumerate(zip(result.points, cis, strict=True)):
            if not (math.isfinite(p.estimate) and p.estimate != 0):
                continue
            y = abs(p.estimate)
            lo, hi = _abs_interval(ci.low, ci.high, floor) if math.isfinite(ci.low) else (y, y)
            ax.errorbar([p.n], [y], yerr=[[max(y - lo, 0.0)], [max(hi - y, 0.0)]], fmt="o",
                        color=_RED if p.verdict == "FAIL" else _fig._ORANGE,
                        markersize=4.5, capsize=3, linewidth=1.2,
                        label="measured drift, 95% CI" if i == 0 else None)
        ax.set_xlabel("n (draws per generation)")
        ax.set_ylabel("|drift of log σ² per generation|")
        signs = {math.copysign(1.0, p.exact_drift) for p in result.points}
        sign = {-1.0: "negative", 1.0: "positive"}[signs.pop()] if len(signs) == 1 else "mixed"
        ax.set_title(_fig._plain(f"Scaling of the drift, ddof = {result.ddof:g} "
                                 f"(exact sign: {sign}; bars down to the axis: CI holds 0)"))
        ax.legend(loc="best", frameon=False)
        return _fig._to_svg(fig, "sweep")


# ---------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------


def _point_rows(result: SweepResult) -> list[list[str]]:
    rows = []
    for p in result.points:
        d = p.to_dict()
        rows.append([str(p.n), fmt_num(p.exact_drift), fmt_num(p.large_n_drift),
                     fmt_num(p.local_exponent), fmt_num(d["drift"]["estimate"]),
                     fmt_num(d["drift"]["se"]), _ci(d["drift"]["ci95"]), fmt_num(p.signal),
                     fmt_num(p.pvalue), p.verdict])
    return rows


_POINT_HEADER = ["n", "exact drift", "large-n −(2−ddof)/n", "local exponent", "measured",
                 "SE", "95% CI", "|exact|/SE", "p", "verdict"]


def _exponent_rows(result: SweepResult) -> list[list[str]]:
    e = result.exponent.to_dict()
    return [["fitted exponent", fmt_num(e["estimate"])], ["SE", fmt_num(e["se"])],
            ["95% CI", _ci(e["ci95"])], ["exact exponent of this design", fmt_num(e["exact"])],
            ["exact, design-weighted least squares", fmt_num(e["exact_weighted"])],
            ["large-n limit", fmt_num(e["asymptotic"])], ["z", fmt_num(e["statistic"])],
            ["p", fmt_num(e["pvalue"])], ["alpha", fmt_num(e["alpha"])],
            ["verdict", e["verdict"]]]


def render_sweep_markdown(result: SweepResult, command: str | None = None) -> str:
    """``sweep.md``: verdict, how to reproduce, the points, the exponent, the statistics."""
    from collapsecheck.records import environment

    env = environment()
    out = ["# collapsecheck scaling-law sweep", "",
           f"**Overall verdict:** {_md._verdict(result.verdict)} "
           f"(exit code {1 if result.failed else 0})", ""]
    if command:
        out += ["## Reproduce", "", *_md._code_block(command, "sh"), ""]
    out += [f"Seed {_md._code(result.seed)}; ns {_md._code(list(result.ns))}, ddof "
            f"{_md._code(f'{result.ddof:g}')}, {result.generations} generations, "
            f"{result.replicates} replicates per n, engine {_md._code(result.engine)}"
            + (f", simulator {_md._code(result.simulator)}" if result.simulator else "")
            + f"; bit generator {_md._code(env['bit_generator'])}, numpy "
            f"{_md._code(env['numpy'])}, collapsecheck {_md._code(env['collapsecheck'])}.", ""]
    out += ["## Drift at each n", ""]
    out += _md._table([_md._cell(h) for h in _POINT_HEADER],
                      [[_md._cell(c) for c in r] for r in _point_rows(result)],
                      ["r"] * 9 + ["l"])
    out += ["", "## Exponent", ""]
    if result.exponent.note:
        out += [_md._text(result.exponent.note), ""]
    out += _md._table(["quantity", "value"],
                      [[_md._cell(a), _md._cell(b)] for a, b in _exponent_rows(result)],
                      ["l", "r"])
    out += ["", "## Statistics", ""]
    out += [f"- {_md._text(s)}" for s in _statistics_text(result)]
    out += ["", f"Points with |exact drift|/SE below {result.min_signal:g} make the exponent "
            "unmeasurable; the local exponent is d log|exact drift| / d log n, which tends "
            "to −1 only as n grows.", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------


def render_sweep_html(result: SweepResult, command: str | None = None) -> str:
    """``sweep.html``: one self-contained page (inline CSS and SVG, nothing external)."""
    from collapsecheck.records import environment

    e = _html._e
    try:
        svg = sweep_svg(result)
    except (ValueError, TypeError) as exc:  # a plot must never cost the report
        svg = f'<p class="note">figure unavailable: {e(exc)}</p>'
    reproduce = f"<pre><code>{e(command)}</code></pre>" if command else ""
    points = _html._table([e(h) for h in _POINT_HEADER],
                          [[e(c) for c in r[:-1]] + [_html._badge(r[-1])]
                           for r in _point_rows(result)],
                          [True] * 9 + [False])
    rows = _exponent_rows(result)
    exponent = _html._table(["quantity", "value"],
                            [[e(a), _html._badge(b) if a == "verdict" else e(b)]
                             for a, b in rows], [False, True])
    note = (f'<p class="note">{e(result.exponent.note)}</p>' if result.exponent.note else "")
    statistics = "".join(f"<li>{e(s)}</li>" for s in _statistics_text(result))
    spec = _html._kv(result.spec | {"seed": result.seed})
    title = f"collapsecheck sweep — {result.verdict}"
    body = f"""<header class="top">
<div class="headline"><h1>Scaling-law sweep</h1>{_html._badge(result.verdict, big=True)}</div>
<p class="muted">Drift of log σ² at n = {e(", ".join(map(str, result.ns)))} (ddof
{e(f"{result.ddof:g}")}) beside exact theory; exponent {_html._badge(result.exponent.verdict)}.
</p>{reproduce}
</header>
<h2>Drift against n</h2>
<figure>{svg}<figcaption>Measured |drift| with 95% CIs (points), exact digamma drift (line),
large-n law (dashed) and the fitted power law (dotted), on log-log axes.</figcaption></figure>
<h2>Drift at each n</h2>{points}
<h2>Exponent</h2>{note}{exponent}
<h2>Statistics</h2><ul>{statistics}</ul>
<footer><h2>Design</h2>{spec}<h2>Environment</h2>{_html._kv(environment())}</footer>"""
    return _html.page(title, body)


# ---------------------------------------------------------------------------------------
# JUnit
# ---------------------------------------------------------------------------------------


def render_sweep_junit(result: SweepResult, command: str | None = None) -> str:
    """``junit.xml``: one test case for the exponent test (``classname=
    "collapsecheck.sweep"``, name ``exponent``; ``<failure>`` on FAIL, ``<skipped>`` when
    the drift is unmeasurable) and one per n for the point tests
    (``collapsecheck.sweep.points``, name ``drift_n<N>``; ``<failure>`` on FAIL)."""
    ex = result.exponent
    cases = 1 + len(result.points)
    failures = int(ex.verdict == "FAIL") + sum(p.verdict == "FAIL" for p in result.points)
    counts = {"tests": str(cases), "failures": str(failures), "errors": "0",
              "skipped": str(int(not ex.measured)),
              "time": f"{max(float(result.seconds or 0.0), 0.0):.3f}"}
    root = ET.Element("testsuites", {"name": "collapsecheck", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": "collapsecheck.sweep", **counts})
    props = ET.SubElement(suite, "properties")
    for name, value in (("seed", result.seed), ("verdict", result.verdict),
                        ("command", command), ("alpha", result.alpha)):
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": _x(value)})
    d = ex.to_dict()
    summary = (f"{ex.verdict}: exponent {fmt_num(d['estimate'])} (95% CI {_ci(d['ci95'])}) "
               f"against the exact {fmt_num(d['exact'])}; z={fmt_num(d['statistic'])}, "
               f"p={fmt_num(d['pvalue'])}, alpha={fmt_num(d['alpha'])}")
    case = ET.SubElement(suite, "testcase", {"classname": "collapsecheck.sweep",
                                             "name": "exponent", "time": "0.000"})
    lines = "\n".join([summary, *_statistics_text(result)])
    if ex.verdict == "FAIL":
        ET.SubElement(case, "failure", {"message": _x(summary), "type": "CheckFailed"}
                      ).text = _x(lines)
    elif not ex.measured:
        ET.SubElement(case, "skipped", {"message": _x(ex.note or "unmeasurable")})
    else:
        ET.SubElement(case, "system-out").text = _x(lines)
    for p in result.points:
        pd = p.to_dict()
        text = (f"{p.verdict}: n={p.n} drift {fmt_num(pd['drift']['estimate'])} (SE "
                f"{fmt_num(pd['drift']['se'])}, 95% CI {_ci(pd['drift']['ci95'])}) against the "
                f"exact {fmt_num(p.exact_drift)}; t={fmt_num(p.statistic)}, "
                f"p={fmt_num(p.pvalue)}, Holm at alpha={fmt_num(p.alpha)}")
        case = ET.SubElement(suite, "testcase", {"classname": "collapsecheck.sweep.points",
                                                 "name": f"drift_n{p.n}", "time": "0.000"})
        if p.verdict == "FAIL":
            ET.SubElement(case, "failure", {"message": _x(text), "type": "CheckFailed"}
                          ).text = _x(text)
        else:
            ET.SubElement(case, "system-out").text = _x(text)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def write_sweep_reports(result: SweepResult, out_dir: str | os.PathLike,
                        command: str | None = None) -> dict[str, Path]:
    """Render every format, then write ``sweep.json``, ``sweep.md``, ``sweep.html`` and
    ``junit.xml`` into ``out_dir`` (created if needed) as one atomic step: a rendering
    error, a full disk or Ctrl-C leaves the folder's files as they were.

    Returns
    -------
    dict
        Format -> path written.
    """
    texts = {"json": render_sweep_json(result, command),
             "markdown": render_sweep_markdown(result, command),
             "html": render_sweep_html(result, command),
             "junit": render_sweep_junit(result, command)}
    folder = ensure_directory(out_dir)
    paths = {fmt: folder / SWEEP_FILES[fmt] for fmt in texts}
    atomic_write_many({paths[fmt]: text.encode("utf-8") for fmt, text in texts.items()})
    return paths
