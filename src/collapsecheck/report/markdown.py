"""``report.md``: the report as GitHub-flavoured Markdown.

Text from the report is escaped for where it lands: inline code (ids, commands) keeps
its characters; prose has ``&``, ``<`` and ``>`` written as entities (no raw HTML gets
through to a renderer); table cells also escape ``|`` and fold newlines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from collapsecheck.report._format import (
    MISSING,
    effect_parts,
    fmt_num,
    fmt_p,
    fmt_value,
    number_rows,
    sorted_claims,
    statistic_name,
    verdict_counts,
)
from collapsecheck.report.notation import quantity_label, reading_steps, to_text
from collapsecheck.results import (
    SMALL_P_MEANS,
    CheckResult,
    ClaimResult,
    ClaimVerdict,
    ValidationReport,
    Verdict,
)

__all__ = ["render_markdown"]

_ICON = {"PASS": "✅", "WEAK": "⚠️", "FAIL": "❌",
         "SUPPORTED": "✅", "QUALIFIED": "⚠️", "CONTRADICTED": "❌"}


#: A "<" that could open raw HTML (a tag, closing tag, comment, declaration or processing
#: instruction: CommonMark 6.6), and an "&" that could start an entity reference.
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY_START = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _text(s: Any) -> str:
    """Prose as written ("p < 0.05", "a >= b"), newlines kept: only a "<" that could open
    raw HTML and an "&" that could start an entity become entities, so no report text
    reaches a renderer as markup and a plain-text reader sees the text itself."""
    return _HTML_START.sub("&lt;", _ENTITY_START.sub("&amp;", str(s)))


def _cell(s: Any) -> str:
    """A table cell: one line, pipes escaped."""
    s = re.sub(r"\s*\n\s*", " ", str(s))
    return s.replace("|", r"\|")


def _code(s: Any) -> str:
    """Inline code with a fence longer than any run of backticks inside."""
    s = re.sub(r"\s*\n\s*", " ", str(s))
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _code_block(s: Any, lang: str = "") -> list[str]:
    s = str(s)
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", s, fence]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           align: Sequence[str] | None = None) -> list[str]:
    """Cells must already be escaped for a table (see :func:`_cell`)."""
    align = align or ["l"] * len(header)
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _verdict(v: str) -> str:
    return f"{_ICON.get(v, '')} **{_text(v)}**".strip()


def _kv_list(d: Mapping[str, Any], math: bool = False) -> list[str]:
    value = _math if math else _text
    return [f"- {_text(k)}: {value(fmt_value(v))}" for k, v in d.items()]


def _math(s: Any) -> str:
    """Prose with its pseudo-TeX as Unicode (:func:`~collapsecheck.report.notation.to_text`),
    escaped as prose."""
    return _text(to_text(s))


def _effect(effect: Mapping[str, Any]) -> str:
    """The smallest detectable departure as a phrase: metric = value, the other sizes by
    their labels, at its power (the note left to report.json)."""
    if not effect:
        return MISSING
    parts, power, _ = effect_parts(effect, to_text, str)
    return "; ".join(parts) + ("" if power is None else f" (power {fmt_num(power)})")


def _statistic(c: CheckResult) -> str:
    return f"{statistic_name(c.test)} = {fmt_num(c.statistic)}"


def _tested_row(c: CheckResult) -> list[str]:
    return [
        _cell(_code(c.id)),
        _cell(_math(c.statement)),
        c.kind,
        _cell(_text(_effect(c.detectable_effect))),
        fmt_num(c.alpha),
    ]


def _check_row(c: CheckResult) -> list[str]:
    return [
        _cell(_code(c.id)),
        _cell(_verdict(c.verdict.value)),
        _cell(_statistic(c)),
        _cell(fmt_p(c.pvalue)),
        _cell(c.pass_rule or MISSING),
        _cell(SMALL_P_MEANS.get(c.kind, SMALL_P_MEANS["consistency"])),
        str(len(c.stages)),
    ]


def _failed_lines(report: ValidationReport) -> list[str]:
    """What failed and by how much (FAIL checks, or WEAK ones when nothing FAILed)."""
    bad = [c for c in report.checks if c.verdict is Verdict.FAIL] or \
        [c for c in report.checks if c.verdict is Verdict.WEAK]
    if not bad:
        return ["## What failed, and by how much", "", "Nothing: no check FAILed or was WEAK.",
                ""] if report.checks else []
    lines = ["## What failed, and by how much", ""]
    lines += [f"- {_code(c.id)} {_verdict(c.verdict.value)}: {_statistic(c)}, "
              f"p = {fmt_p(c.pvalue)}"
              + (f"; PASS needs {c.pass_rule}" if c.pass_rule else "")
              + f"; a small p means {SMALL_P_MEANS.get(c.kind, SMALL_P_MEANS['consistency'])}"
              for c in bad]
    return [*lines, ""]


def _claim_section(c: ClaimResult) -> list[str]:
    lines = [f"### {_text(c.id)}: {_verdict(c.verdict.value)}", ""]
    if c.claim:
        lines += ["> " + line if line else ">" for line in _math(c.claim).splitlines()]
        lines.append("")
    steps = reading_steps(c.reading)
    if len(steps) > 1:
        lines += ["**Reading, step by step.**", ""]
        lines += [f"{i}. {_math(x)}" for i, x in enumerate(steps, 1)]
        lines.append("")
    else:
        lines += [f"**Reading.** {_math(c.reading)}", ""]
    if c.numbers:
        _, labels, rows = number_rows(c.numbers)
        lines += _table(["quantity", *labels],
                        [[_cell(_text(quantity_label(row[0])))]
                         + [_cell(_math(x)) for x in row[1:]] for row in rows])
        lines.append("")
    return lines


def _controls_section(report: ValidationReport) -> list[str]:
    if not report.controls:
        return []
    rows = [[
        _cell(_code(c.name)),
        _cell(_text(c.summary)),
        _cell(f"{_ICON['PASS']} yes" if c.caught else f"{_ICON['FAIL']} **no**"),
        _cell(", ".join(_code(i) for i in c.failed_checks) if c.failed_checks else MISSING),
    ] for c in report.controls]
    lines = ["## Positive controls", "",
             "Known-bad simulators run through every check with the same seeds; each must "
             "FAIL. One that does not shows a bug this design cannot detect, so the "
             "simulator's PASS says nothing about it.", ""]
    lines += _table(["control", "what bug it imitates", "caught?", "by which checks"], rows)
    lines.append("")
    return lines


def _remedy_section(report) -> list[str]:
    """The committed remedy table (``collapsecheck remedy``), beside the claims."""
    from collapsecheck.remedy import reference_record, remedy_rows_markdown

    rec = reference_record() if report.claims else None
    if rec is None:
        return []
    return ["## The article's remedy, quantified", "", f"{_math(rec['what'])}. "
            f"{_math(rec['method'])}. Reproduce with {_code(rec['command'])}.", "",
            *(to_text(row) for row in remedy_rows_markdown(rec)), ""]


def render_markdown(report: ValidationReport) -> str:
    """``report.md`` in the order a reader needs it: the verdict and why, what was tested
    and at what power, what failed and by how much (its named statistic and p-value
    against its rule), the results, how to reproduce, the budget, positive controls
    (when any were run), then claims A1..A8."""
    env = report.environment
    checks = verdict_counts(report.checks, Verdict)
    claims = verdict_counts(report.claims, ClaimVerdict)
    out = [f"# collapsecheck validation report: {_text(report.profile)}", ""]
    if report.description:
        out += [_text(report.description), ""]
    out += [
        f"**Overall verdict:** {_verdict(report.verdict.value)} "
        f"(exit code {1 if report.failed else 0})",
        "",
        *([f"Why: {_text('; '.join(report.verdict_reasons))}.", ""]
          if report.verdict_reasons else []),
        *([f"Not caught: {', '.join(_code(c.name) for c in report.uncaught_controls)} "
           "(positive controls that no check FAILed: this design cannot detect them).", ""]
          if report.uncaught_controls else []),
        *([f"**Tested:** {_text(report.spec['tested'])}", ""]
          if report.spec.get("tested") else []),
        "Checks: " + ", ".join(f"{k} {n}" for k, n in checks.items())
        + ". Claims: " + ", ".join(f"{k} {n}" for k, n in claims.items()) + "."
        + (f" Positive controls: {len(report.controls) - len(report.uncaught_controls)} of "
           f"{len(report.controls)} caught." if report.controls else ""),
        "",
    ]
    out += ["## What was tested, and at what power", ""]
    if report.checks:
        out += ["Each check's smallest detectable error is the departure from exact theory "
                "it FAILs with the stated power at its false-alarm rate alpha.", ""]
        out += _table(["check", "what it tests", "kind", "smallest detectable error", "alpha"],
                      [_tested_row(c) for c in report.checks], ["l", "l", "l", "l", "r"])
        out += ["", *_failed_lines(report), "## Results", "",
                "A consistency check tests \"the simulator follows the exact theory\": it "
                "PASSes on a large p. A confirmatory check tests \"the property does not "
                "hold\": it PASSes on a tiny p. p-values below 1e-300 are printed as "
                "\"< 1e-300\".", ""]
        out += _table(
            ["check", "verdict", "statistic", "p-value", "PASS when", "a small p means",
             "stages"],
            [_check_row(c) for c in report.checks],
            ["l", "l", "r", "r", "l", "l", "r"],
        )
    else:
        out.append("No checks were run.")
    out += [
        "",
        "## Reproduce",
        "",
        *_code_block(report.command, "sh"),
        "",
        f"Seed {_code(report.seed)}; bit generator {_code(env.get('bit_generator', '?'))}, "
        f"numpy {_code(env.get('numpy', '?'))}, python {_code(env.get('python', '?'))}, "
        f"collapsecheck {_code(env.get('collapsecheck', '?'))}. Created "
        f"{_text(report.created)}.",
        "",
    ]
    if report.budget:
        out += ["## False-alarm budget and multiplicity", "",
                *_kv_list(report.budget, math=True), ""]
    out += _controls_section(report)
    out += ["## Claims", ""]
    if report.claims:
        for c in sorted_claims(report.claims):
            out += _claim_section(c)
    else:
        out += ["No claims were evaluated.", ""]
    out += _remedy_section(report)
    if report.timing:
        out += ["## Timing", "", *_kv_list(report.timing), ""]
    return "\n".join(out).rstrip("\n") + "\n"
