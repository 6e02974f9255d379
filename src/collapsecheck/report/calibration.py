"""The calibration report: ``calibration.json``, ``calibration.md`` and a self-contained
``calibration.html`` written by ``collapsecheck calibrate --out DIR``.

The HTML plots, for each consistency check, the difference between the empirical CDF of
its first-stage p-values over the seeds and the uniform CDF, with the simultaneous 95%
band of the Kolmogorov distribution: under a valid p-value the curve stays below the
upper band edge everywhere with probability at least 0.95 (it may run below the lower
edge: a conservative p-value is valid). The band is exact for K seeds
(:data:`scipy.stats.kstwo`), not the asymptotic DKW width.
"""

from __future__ import annotations

import html
import json
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from collapsecheck.io import atomic_write_many, ensure_directory
from collapsecheck.report._format import fmt_num
from collapsecheck.report.ecdf import ecdf_band  # the bands live in one module

__all__ = ["README_BEGIN", "README_END", "ecdf_band", "readme_table",
           "render_calibration_html", "render_calibration_md", "write_calibration"]


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _mutant_rows(record: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for m in record.get("mutants", []):
        killed_by = ", ".join(f"{cid} ({n})" for cid, n in sorted(
            m.get("killed_by", {}).items(), key=lambda kv: -kv[1])[:4])
        rows.append([m["name"], m.get("summary", ""), f"{m['kill_rate']:.3f}",
                     f"{m['kill_lower95']:.3f}", str(m["seeds"]), killed_by or "-"])
    return rows


def _summary_rows(record: Mapping[str, Any]) -> list[list[str]]:
    lo, hi = record["false_alarm_ci95"]
    return [
        ["profile", str(record["profile"])],
        ["seeds", f"{record['seeds']} (from {record['first_seed']})"],
        ["false-alarm rate", f"{_rate(record['false_alarm_rate'])} "
                             f"(exact 95% CI {_rate(lo)} to {_rate(hi)})"],
        ["one-sided 95% upper bound", _rate(record["false_alarm_upper95"])],
        ["budget", _rate(record["false_alarm_budget"])],
        ["runs with a WEAK first stage", f"{_rate(record['weak_rate'])} "
                                         f"(design {_rate(record['weak_rate_design'])})"],
        ["p-value validity, combined", f"{fmt_num(record['pvalue_uniformity_p'])} "
                                       f"({record.get('pvalue_uniformity_correction', '')})"],
        ["calibration", "passed" if record.get("passed") else "FAILED"],
    ]


def render_calibration_md(record: Mapping[str, Any]) -> str:
    """The calibration as Markdown: the summary, p-value validity per check, mutants."""
    out = [f"# Calibration of profile `{record['profile']}`", ""]
    out += ["| quantity | value |", "|---|---|"]
    out += [f"| {a} | {b} |" for a, b in _summary_rows(record)]
    out += ["", "## p-value validity per consistency check", "",
            "One-sided Kolmogorov-Smirnov test that the first-stage p-values are not "
            "stochastically smaller than uniform (a small p here would mean the check "
            "false-alarms more often than its alpha).", "",
            "| check | validity p |", "|---|---|"]
    out += [f"| `{cid}` | {fmt_num(p)} |"
            for cid, p in record.get("pvalue_uniformity", {}).items()]
    if record.get("mutants"):
        out += ["", "## Mutants (deliberately wrong simulators)", "",
                "A mutant is killed in a seed's run when the run ends with at least one "
                "FAIL; `kill_lower95` is the exact one-sided 95% lower bound.", "",
                "| mutant | the bug it imitates | kill rate | lower 95% | seeds | "
                "killed by (runs) |", "|---|---|---|---|---|---|"]
        out += ["| " + " | ".join(r) + " |" for r in _mutant_rows(record)]
    out += ["", f"Reproduce with: `{record.get('command', '')}`", ""]
    return "\n".join(out)


def _ecdf_svg(cid: str, p: np.ndarray) -> str:
    from collapsecheck.report.figures import _figure, _to_svg

    k = p.size
    x = np.sort(p)
    grid = np.concatenate([[0.0], x, [1.0]])
    upper = np.concatenate([[0.0], np.arange(1, k + 1) / k, [1.0]]) - grid
    lower = np.concatenate([[0.0], np.arange(0, k) / k, [1.0]]) - grid
    band = ecdf_band(k)
    fig = _figure(5.2, 2.6)
    ax = fig.add_subplot()
    ax.fill_between([0, 1], [-band, -band], [band, band], color="#94a3b8", alpha=0.25,
                    label=f"simultaneous 95% band (±{band:.3f})")
    ax.step(grid, upper, where="post", color="#2563eb", lw=1.0, label="ECDF − uniform")
    ax.step(grid, lower, where="post", color="#2563eb", lw=0.4, alpha=0.6)
    ax.axhline(0, color="#64748b", lw=0.6)
    ax.set_xlim(0, 1)
    ax.set_xlabel("p")
    ax.set_ylabel("ECDF(p) − p")
    ax.set_title(cid.replace("$", r"\$"), fontsize=10)
    ax.legend(fontsize=9, loc="lower right")
    return _to_svg(fig, f"ecdf-{zlib.crc32(cid.encode()):08x}")


def render_calibration_html(record: Mapping[str, Any],
                            pvalues: Mapping[str, Sequence[float]]) -> str:
    """A self-contained page: the summary, one ECDF-difference plot per consistency
    check, and the mutants' kill rates."""
    e = html.escape

    def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                       for r in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    parts = [f"<h1>Calibration of profile <code>{e(str(record['profile']))}</code></h1>",
             table(["quantity", "value"], _summary_rows(record)),
             "<h2>p-values of the consistency checks</h2>",
             "<p>For each check, the empirical CDF of its first-stage p-values over the "
             "seeds minus the uniform CDF. A valid p-value keeps the curve below the upper "
             "edge of the simultaneous 95% band (exact Kolmogorov band for this many "
             "seeds); running below the lower edge means the check is conservative.</p>"]
    for cid, p in pvalues.items():
        arr = np.asarray(p, dtype=float)
        arr = arr[np.isfinite(arr)]
        if arr.size >= 5:
            v = record.get("pvalue_uniformity", {}).get(cid)
            parts.append(f"<figure>{_ecdf_svg(cid, arr)}<figcaption>{e(cid)}: one-sided "
                         f"validity p = {e(fmt_num(v))}</figcaption></figure>")
    if record.get("mutants"):
        parts += ["<h2>Mutants (deliberately wrong simulators)</h2>",
                  table(["mutant", "the bug it imitates", "kill rate", "lower 95%", "seeds",
                         "killed by (runs)"],
                        _mutant_rows(record))]
    parts.append(f"<p>Reproduce with: <code>{e(str(record.get('command', '')))}</code></p>")
    css = ("body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:0 auto;"
           "padding:24px;color:#1e293b}table{border-collapse:collapse;margin:8px 0}"
           "td,th{border:1px solid #e2e8f0;padding:4px 8px;text-align:left}"
           "figure{display:inline-block;margin:8px}figcaption{font-size:.85em;color:#64748b}"
           "code{background:#f1f5f9;padding:1px 4px}svg{max-width:100%;height:auto}")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>calibration {e(str(record['profile']))}</title><style>{css}</style>"
            f"</head><body><main>{''.join(parts)}</main></body></html>\n")


def write_calibration(record: Mapping[str, Any], pvalues: Mapping[str, Sequence[float]],
                      out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``calibration.json`` (with the p-values per check), ``.md`` and ``.html``
    into ``out_dir`` as one atomic step."""
    from collapsecheck.report.jsonable import dumps

    folder = ensure_directory(out_dir)
    full = {**record, "pvalues": {k: [float(x) for x in v] for k, v in pvalues.items()}}
    files = {
        folder / "calibration.json": (dumps(full) + "\n").encode("utf-8"),
        folder / "calibration.md": render_calibration_md(record).encode("utf-8"),
        folder / "calibration.html": render_calibration_html(record, pvalues).encode("utf-8"),
    }
    atomic_write_many(files)
    json.loads(files[folder / "calibration.json"])  # always valid JSON
    return {p.suffix[1:]: p for p in files}


#: Markers around the README's calibration table (regenerated, never edited by hand).
README_BEGIN = "<!-- calibration table: python -m collapsecheck.report.calibration -->"
README_END = "<!-- end of calibration table -->"


def readme_table(record: Mapping[str, Any]) -> str:
    """The README's table of a committed calibration: the false-alarm rate and its
    bound against the budget, then each mutant's kill rate and lower bound."""
    lo, hi = record["false_alarm_ci95"]
    rows = [
        "| simulator | seeds | runs with a FAIL | rate | exact 95% bound |",
        "|---|---|---|---|---|",
        f"| correct (built-in engines) | {record['seeds']} | {record['failed_runs']} | "
        f"{record['false_alarm_rate']:.4g} (CI {lo:.2g} to {hi:.2g}) | "
        f"upper {record['false_alarm_upper95']:.2g} vs budget "
        f"{record['false_alarm_budget']:g} |",
    ]
    for m in record.get("mutants", []):
        rows.append(f"| mutant `{m['name']}`: {m['summary']} | {m['seeds']} | {m['killed']} | "
                    f"{m['kill_rate']:.3g} | lower {m['kill_lower95']:.3g} |")
    return "\n".join([README_BEGIN, *rows, README_END])


if __name__ == "__main__":  # pragma: no cover - prints the README table
    import sys

    path = sys.argv[1] if len(sys.argv) > 1 else "reports/calibration/calibration.json"
    with open(path, encoding="utf-8") as fh:
        sys.stdout.write(readme_table(json.load(fh)) + "\n")
