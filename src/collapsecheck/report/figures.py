"""Plots for the HTML report: pure functions from plot data to an SVG string.

Each function takes the data of one entry of ``ValidationReport.figures`` (see
:func:`collapsecheck.report.html.render_html`) and returns an ``<svg>`` element ready to
inline in HTML: no XML prolog, doctype or metadata, text kept as text
(``svg.fonttype = "none"``), and ids salted by the figure's kind so that several plots
in one page do not collide and the same data always gives the same bytes.

They use matplotlib's object-oriented :class:`~matplotlib.figure.Figure` directly: no
pyplot, no global figure registry, no GUI backend, nothing left open after a call.
Malformed data raises :class:`ValueError` (or :class:`TypeError`) naming the problem.
"""

from __future__ import annotations

import html
import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from collapsecheck.report.notation import to_text

__all__ = ["FIGURE_KINDS", "drift_svg", "endpoint_svg", "panels_svg", "pit_svg", "qq_svg",
           "regimes_svg", "render_figure", "trajectories_svg"]

_BLUE = "#2563eb"
_ORANGE = "#ea580c"
_GREY = "#64748b"
_GREEN = "#16a34a"

#: Figures are drawn at this width (inches) and shown at most this many CSS pixels per
#: point of it (:func:`_to_svg`), so that text of ``font.size`` points reads at >= 12 px
#: on a page 800 px wide (the SVG scales down with its viewBox) and no larger than
#: about 18 px on a wide screen.
WIDTH = 8.0
PX_PER_PT = 1.65

_RC = {
    "svg.fonttype": "none",
    "font.size": 11.0,
    "axes.titlesize": 12.0,
    "axes.labelsize": 11.0,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 10.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titleweight": "bold",
}


def _plain(s: Any) -> str:
    """Text shown as it is: ``$`` escaped so matplotlib never parses it as mathtext."""
    return str(s).replace("$", r"\$")


def _label(s: Any, width: int | None = None) -> str:
    """A title or axis label in the reports' notation (σ, μ, χ², ψ: the same Unicode as
    the HTML, :func:`~collapsecheck.report.notation.to_text`), wrapped at ``width``
    characters, never parsed as mathtext."""
    text = to_text(s)
    if width:
        text = "\n".join(textwrap.wrap(text, width)) or text
    return _plain(text)


def _title_width(width_in: float) -> int:
    """Characters of a bold title that fit across a figure ``width_in`` inches wide."""
    return max(30, int(width_in * 72 / 7.2))


def _log_ticks(ax, axis: str = "y") -> None:
    """At least four labelled ticks on a log axis, labelled as plain numbers (0.2, 0.5,
    1, 2): decades, then 1-2-5, then every integer multiple, whichever first gives four
    inside the limits."""
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if not (lo > 0 and hi > lo and math.isfinite(hi)):
        return
    ticks: list[float] = []
    for subs in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [m * 10.0**k for k in range(math.floor(math.log10(lo)) - 1,
                                            math.ceil(math.log10(hi)) + 1)
                 for m in subs if lo <= m * 10.0**k <= hi]
        if len(ticks) >= 4:
            break
    if len(ticks) < 4:  # a narrow range: evenly spaced in the log
        ticks = list(np.geomspace(lo, hi, 5))
    if len(ticks) > 9:
        ticks = ticks[:: math.ceil(len(ticks) / 9)]
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def _array(data: Any, name: str) -> np.ndarray:
    try:
        a = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"figure data `{name}` must be numbers; {exc}") from None
    return a


def _vector(data: Mapping[str, Any], key: str, kind: str) -> np.ndarray:
    if key not in data:
        raise ValueError(f"figure {kind!r} needs `{key}`; got keys {sorted(data)}.")
    a = _array(data[key], f"{kind}.{key}")
    if a.ndim != 1:
        raise ValueError(f"figure data `{kind}.{key}` must be a list of numbers; "
                         f"got shape {a.shape}.")
    return a


def _to_svg(fig: Figure, salt: str, tooltips: Mapping[str, str] | None = None) -> str:
    """The figure as a bare ``<svg>`` that scales with the page: its viewBox kept, its
    fixed size replaced by ``width: 100%`` up to :data:`PX_PER_PT` pixels per point.
    ``tooltips`` maps an artist's gid to a text shown on hover (an SVG ``<title>``)."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"cc-{salt}"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    fig.clear()
    svg = buf.getvalue()
    start = svg.find("<svg")
    if start < 0:  # pragma: no cover - matplotlib always writes one
        raise RuntimeError("matplotlib produced no <svg> element")
    svg = svg[start:]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL).strip()
    m = re.match(r'<svg([^>]*?) width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    if m:
        width = float(m.group(2))
        svg = (f'<svg{m.group(1)} style="width:100%;height:auto;max-width:'
               f'{round(width * PX_PER_PT)}px" role="img"' + svg[m.end():])
    for gid, text in (tooltips or {}).items():
        svg = svg.replace(f'<g id="{gid}">',
                          f'<g id="{gid}"><title>{html.escape(text)}</title>', 1)
    return svg


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def trajectories_svg(data: Mapping[str, Any]) -> str:
    """sigma over generations on a log axis: a few chains, the exact quantile band shaded
    between its lowest and highest quantile, and the exact median.

    ``data``: ``generations`` (list), ``sigma`` (list of chains, each as long as
    ``generations``), optional ``band`` (quantile label -> list, e.g. "0.025", "0.5",
    "0.975") and ``title``.
    """
    x = _vector(data, "generations", "trajectories")
    chains = [_array(c, "trajectories.sigma") for c in data.get("sigma", [])]
    for c in chains:
        if c.shape != x.shape:
            raise ValueError(f"each chain in `trajectories.sigma` must have {x.size} values "
                             f"(one per generation); got {c.size}.")
    xb = (_vector(data, "band_generations", "trajectories") if "band_generations" in data
          else x)
    band = {float(k): _array(v, f"trajectories.band[{k}]")
            for k, v in (data.get("band") or {}).items()}
    for q, v in band.items():
        if v.shape != xb.shape:
            raise ValueError(f"`trajectories.band[{q}]` must have {xb.size} values; "
                             f"got {v.size}.")
    with matplotlib.rc_context(_RC):
        fig = _figure(WIDTH, 4.4)
        ax = fig.add_subplot()
        ax.set_yscale("log")
        if len(band) >= 2:
            lo, hi = min(band), max(band)
            ax.fill_between(xb, _positive(band[lo]), _positive(band[hi]), color=_BLUE,
                            alpha=0.18, linewidth=0,
                            label=f"exact {lo:g}–{hi:g} quantiles")
        for i, c in enumerate(chains):
            ax.plot(x, _positive(c), color=_GREY, linewidth=0.8, alpha=0.7,
                    label="simulated chains" if i == 0 else None)
        if 0.5 in band:
            ax.plot(xb, _positive(band[0.5]), color=_BLUE, linewidth=1.8, label="exact median")
        ax.set_xlabel("generation t")
        ax.set_ylabel("σₜ (log scale)")
        ax.set_title(_label(data.get("title", "σ over generations"), _title_width(WIDTH)))
        _log_ticks(ax)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", frameon=False)
        return _to_svg(fig, "trajectories")


def _positive(a: np.ndarray) -> np.ndarray:
    """NaN where a log axis cannot show a value (sigma underflowed to 0, or missing)."""
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)


def endpoint_svg(data: Mapping[str, Any]) -> str:
    """Histogram (as a density) of the final log sigma^2 with the exact density curve.

    ``data``: ``log_sigma2`` (samples), optional ``grid`` and ``density`` (the exact
    density on the grid) and ``title``. Non-finite samples are left out.
    """
    s = _vector(data, "log_sigma2", "endpoint")
    s = s[np.isfinite(s)]
    if s.size == 0:
        raise ValueError("figure data `endpoint.log_sigma2` has no finite value.")
    with matplotlib.rc_context(_RC):
        fig = _figure(WIDTH, 4.2)
        ax = fig.add_subplot()
        bins = int(np.clip(np.sqrt(s.size), 10, 60))
        ax.hist(s, bins=bins, density=True, color=_GREY, alpha=0.45, edgecolor="white",
                linewidth=0.4, label=f"simulated ({s.size} replicates)")
        if "grid" in data and "density" in data:
            g = _vector(data, "grid", "endpoint")
            d = _vector(data, "density", "endpoint")
            if g.shape != d.shape:
                raise ValueError(f"`endpoint.grid` and `endpoint.density` must have the same "
                                 f"length; got {g.size} and {d.size}.")
            ax.plot(g, d, color=_BLUE, linewidth=1.8, label="exact density")
        ax.set_xlabel("log(σ_T²/σ₀²) at the last generation T")
        ax.set_ylabel("density")
        ax.set_title(_label(data.get("title", "Final log σ²"), _title_width(WIDTH)))
        ax.legend(loc="best", frameon=False)
        return _to_svg(fig, "endpoint")


def qq_svg(data: Mapping[str, Any]) -> str:
    """QQ plot: sample quantiles against the exact theoretical ones, with y = x.

    ``data``: ``theoretical`` and ``sample`` (same length), optional ``title``.
    """
    t = _vector(data, "theoretical", "qq")
    s = _vector(data, "sample", "qq")
    if t.shape != s.shape:
        raise ValueError(f"`qq.theoretical` and `qq.sample` must have the same length; "
                         f"got {t.size} and {s.size}.")
    ok = np.isfinite(t) & np.isfinite(s)
    t, s = t[ok], s[ok]
    if t.size == 0:
        raise ValueError("figure 'qq' has no finite pair of quantiles.")
    with matplotlib.rc_context(_RC):
        fig = _figure(6.0, 5.2)
        ax = fig.add_subplot()
        lo, hi = float(min(t.min(), s.min())), float(max(t.max(), s.max()))
        ax.plot([lo, hi], [lo, hi], color=_BLUE, linewidth=1.2, label="y = x")
        ax.scatter(t, s, s=14, color=_ORANGE, alpha=0.8, linewidths=0, label="quantiles")
        ax.set_xlabel("exact quantile")
        ax.set_ylabel("sample quantile")
        ax.set_title(_label(data.get("title", "QQ plot"), _title_width(6.0)))
        ax.legend(loc="upper left", frameon=False)
        return _to_svg(fig, "qq")


def drift_svg(rows: Sequence[Mapping[str, Any]]) -> str:
    """Forest plot: each row's estimate with its 95% CI, the theory value, and the
    equivalence margin (if any) shaded.

    ``rows``: a list of ``{"id", "estimate", "ci95": [lo, hi], "theory", "margin":
    [lo, hi] or None}``; ``ci95`` and ``theory`` may be missing or None.
    """
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise ValueError("figure 'drift' must be a non-empty list of rows.")
    n = len(rows)
    ids = [str(r.get("id", "")) for r in rows]
    with matplotlib.rc_context(_RC):
        fig = _figure(WIDTH, 1.8 + 0.62 * n)
        ax = fig.add_subplot()
        seen: set[str] = set()

        def label(name: str) -> str | None:
            if name in seen:
                return None
            seen.add(name)
            return name

        for i, row in enumerate(rows):
            y = n - 1 - i
            margin = row.get("margin")
            if margin is not None:
                m = _array(margin, "drift.margin")
                if m.shape != (2,):
                    raise ValueError(f"`drift[{i}].margin` must be [low, high]; got {margin!r}.")
                ax.fill_betweenx([y - 0.35, y + 0.35], m[0], m[1], color=_GREEN, alpha=0.15,
                                 linewidth=0, label=label("equivalence margin"))
            est = _array(row.get("estimate"), "drift.estimate")
            ci = row.get("ci95")
            if ci is not None:
                c = _array(ci, "drift.ci95")
                if c.shape != (2,):
                    raise ValueError(f"`drift[{i}].ci95` must be [low, high]; got {ci!r}.")
                ax.plot(c, [y, y], color=_GREY, linewidth=1.6, label=label("95% CI"))
            if np.isfinite(est):
                ax.plot([est], [y], "o", color=_ORANGE, markersize=5, label=label("estimate"))
            if row.get("theory") is not None:
                ax.plot([float(row["theory"])], [y], "|", color=_BLUE, markersize=14,
                        markeredgewidth=2, label=label("theory"))
        # each row's short label above its line, inside the axes (the plot keeps the
        # whole width), with the full id on hover
        from matplotlib.transforms import blended_transform_factory

        where = blended_transform_factory(ax.transAxes, ax.transData)
        for k, cid in enumerate(ids):
            ax.text(0.005, n - 1 - k + 0.22, _plain(short_id(cid)), transform=where,
                    ha="left", va="bottom", fontsize=10.5, color="#334155",
                    gid=f"drift-row-{k}")
        ax.set_yticks([])
        ax.set_ylim(-0.5, n - 0.1)
        ax.grid(axis="y", visible=False)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("relative error of the drift of log σ²: (estimate − exact) / |exact|")
        ax.set_title(_label("Drift of log σ²: estimates against exact theory, with "
                            "equivalence margins", _title_width(WIDTH)), pad=30)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, frameon=False)
        return _to_svg(fig, "drift", {f"drift-row-{k}": cid for k, cid in enumerate(ids)})


def short_id(check_id: str) -> str:
    """A check id shortened for a plot label, its full form left to a tooltip:
    ``collapse.drift_equivalence.n1000.T10000.sufficient`` → ``equivalence n=1000
    T=10000 sufficient`` (family dropped, a leading ``drift_`` dropped, sizes as
    ``name=value``). An id of another shape is returned as it is, cut to 40
    characters."""
    m = re.fullmatch(r"[a-z_]+\.([a-z0-9_]+)\.n(\d+)\.T(\d+)(?:\.ddof([0-9.]+?))?"
                     r"(?:\.([a-z]+))?", check_id)
    if not m:
        return check_id if len(check_id) <= 40 else check_id[:39] + "…"
    kind, n, t, ddof, engine = m.groups()
    kind = re.sub(r"^drift_", "", kind).replace("_", " ")
    parts = [kind, f"n={n}", f"T={t}"] + ([f"ddof={ddof}"] if ddof else []) + \
        ([engine] if engine else [])
    return " ".join(parts)


def regimes_svg(data: Mapping[str, Any]) -> str:
    """E[sigma_t^2]/sigma0^2 over generations for several regimes side by side: the exact
    curve of each (a line) and the simulated mean of sigma_t^2 with its 95% interval
    (points and bars).

    ``data``: ``generations`` (list) and ``curves``, a list of objects with ``label``,
    ``exact`` (one value per generation) and optionally ``simulated`` and ``se`` (the
    same length); optional ``title``.
    """
    x = _vector(data, "generations", "regimes")
    curves = data.get("curves") or []
    if not curves:
        raise ValueError("`regimes.curves` must list at least one regime.")
    colours = [_BLUE, _ORANGE, _GREEN, "#9333ea", "#db2777", _GREY, "#0891b2"]
    with matplotlib.rc_context(_RC):
        fig = _figure(WIDTH, 4.8)
        ax = fig.add_subplot()
        ax.set_yscale("log")
        for i, c in enumerate(curves):
            colour = colours[i % len(colours)]
            exact = _array(c.get("exact"), f"regimes.curves[{i}].exact")
            if exact.shape != x.shape:
                raise ValueError(f"`regimes.curves[{i}].exact` must have {x.size} values; "
                                 f"got {exact.size}.")
            ax.plot(x, _positive(exact), color=colour, linewidth=1.6,
                    label=_plain(c.get("label", f"regime {i + 1}")))
            if c.get("simulated") is not None:
                sim = _array(c["simulated"], f"regimes.curves[{i}].simulated")
                se = _array(c.get("se", np.zeros_like(sim)), f"regimes.curves[{i}].se")
                if sim.shape != x.shape or se.shape != x.shape:
                    raise ValueError(f"`regimes.curves[{i}]` simulated and se must have "
                                     f"{x.size} values each.")
                ax.errorbar(x, _positive(sim), yerr=1.96 * se, fmt="o", markersize=2.5,
                            color=colour, elinewidth=0.8, alpha=0.8)
        ax.set_xlabel("generation t")
        ax.set_ylabel("E[σₜ²] / σ₀²  (log scale)")
        ax.set_title(_label(data.get("title", "E[sigma_t^2] by regime: exact (lines), "
                                              "simulated (points, 95% intervals)"),
                            _title_width(WIDTH)))
        _log_ticks(ax)
        ax.legend(loc="best", frameon=False)
        return _to_svg(fig, "regimes")


def panels_svg(data: Mapping[str, Any]) -> str:
    """Quantities over generations, one panel each, side by side: the exact mean (a
    line), the simulated mean with its 95% interval (a shaded band), and a few simulated
    chains (thin lines). A model family's figures use it (e.g. surviving categories and
    entropy of the categorical chain).

    ``data``: ``generations`` (list), ``panels`` (a list of objects with ``ylabel``,
    ``exact`` and optionally ``simulated``, ``se`` and ``chains``, each as long as
    ``generations``, and ``exact_label``, the legend's name of the exact line, "exact
    mean" when absent), optional ``title`` and ``source`` (who drew the chains).
    """
    x = _vector(data, "generations", "panels")
    panels = data.get("panels") or []
    if not panels:
        raise ValueError("`panels.panels` must list at least one panel.")

    def same(a, name):
        a = _array(a, name)
        if a.shape != x.shape:
            raise ValueError(f"`{name}` must have {x.size} values (one per generation); "
                             f"got {a.size}.")
        return a

    cols = min(2, len(panels))
    rows = math.ceil(len(panels) / cols)
    with matplotlib.rc_context(_RC):
        fig = _figure(WIDTH, 0.6 + 3.6 * rows)
        grid = fig.subplots(rows, cols, squeeze=False).ravel()
        for ax in grid[len(panels):]:
            ax.set_visible(False)
        axes = grid[:len(panels)]
        for i, (ax, p) in enumerate(zip(axes, panels, strict=True)):
            for j, c in enumerate(p.get("chains") or []):
                ax.plot(x, same(c, f"panels[{i}].chains[{j}]"), color=_GREY, linewidth=0.6,
                        alpha=0.5, label="simulated chains" if j == 0 else None)
            if p.get("simulated") is not None:
                sim = same(p["simulated"], f"panels[{i}].simulated")
                se = same(p.get("se", np.zeros_like(sim)), f"panels[{i}].se")
                ax.fill_between(x, sim - 1.96 * se, sim + 1.96 * se, color=_ORANGE,
                                alpha=0.3, linewidth=0, label="simulated mean, 95% interval")
            ax.plot(x, same(p.get("exact"), f"panels[{i}].exact"), color=_BLUE,
                    linewidth=1.6, label=_plain(p.get("exact_label", "exact mean")))
            ax.set_xlabel("generation t")
            ax.set_ylabel(_label(p.get("ylabel", "")))
            ax.yaxis.get_major_locator().set_params(nbins=6, min_n_ticks=4)
            if i == 0:
                ax.legend(loc="best", frameon=False)
        fig.suptitle(_label(data.get("title", "over generations: exact and simulated"),
                            _title_width(WIDTH)), fontweight="bold")
        return _to_svg(fig, "panels")


def pit_svg(data: Mapping[str, Any], kind: str = "pit") -> str:
    """ECDF(u) - u of probability integral transforms ``u`` (uniform under the exact
    law) in the simultaneous 95% band of Säilynoja, Bürkner and Vehtari (2022)
    (:func:`collapsecheck.report.ecdf.simultaneous_band`, exact for ``len(u)`` values);
    the points where the curve leaves the band are marked.

    ``data``: ``u`` (list of numbers in [0, 1]), optional ``title`` and ``xlabel``.
    """
    from collapsecheck.report.ecdf import ecdf_difference_svg, simultaneous_band

    u = _vector(data, "u", kind)
    if u.size < 2 or not np.all((u >= 0) & (u <= 1)):
        raise ValueError(f"figure data `{kind}.u` must be at least 2 numbers in [0, 1].")
    return ecdf_difference_svg(u, simultaneous_band(int(u.size)),
                               title=data.get("title", "PIT: ECDF(u) − u"),
                               xlabel=data.get("xlabel", "u"), salt=kind)


def _pit_increments_svg(data: Mapping[str, Any]) -> str:
    return pit_svg(data, "pit_increments")


def _pit_endpoint_svg(data: Mapping[str, Any]) -> str:
    return pit_svg(data, "pit_endpoint")


_DRAW = {
    "trajectories": trajectories_svg,
    "endpoint": endpoint_svg,
    "qq": qq_svg,
    "pit_increments": _pit_increments_svg,
    "pit_endpoint": _pit_endpoint_svg,
    "drift": drift_svg,
    "regimes": regimes_svg,
    "panels": panels_svg,
}
FIGURE_KINDS = tuple(_DRAW)


def render_figure(kind: str, data: Any) -> str:
    """The SVG of figure ``kind`` (one of :data:`FIGURE_KINDS`) from its data."""
    if kind not in _DRAW:
        raise ValueError(f"`kind` must be one of {list(FIGURE_KINDS)}; got {kind!r}.")
    return _DRAW[kind](data)
