"""``report.html``: one self-contained page that opens offline.

No external CSS, scripts, fonts or images: the style sheet is inline and plots are
inline SVG (:mod:`collapsecheck.report.figures`). Every string taken from the report
goes through :func:`html.escape`; anchors are built from positions, never from ids.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from collapsecheck.report import figures as _figures
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
from collapsecheck.report.notation import quantity_label, reading_steps, to_html
from collapsecheck.results import (
    SMALL_P_MEANS,
    CheckResult,
    ClaimResult,
    ClaimVerdict,
    ValidationReport,
    Verdict,
)

__all__ = ["render_html"]

_FIGURE_TITLES = {
    "trajectories": "Trajectories against the exact quantile band",
    "endpoint": "Final log σ² against its exact density",
    "qq": "QQ plot against the exact law",
    "pit_increments": ("Calibration of the steps: ECDF of u = F_step(increment) minus u, in "
                       "the simultaneous 95% band (Säilynoja et al. 2022)"),
    "pit_endpoint": ("Calibration of the endpoint: ECDF of u = F_T(log σ_T²) minus u, in "
                     "the simultaneous 95% band (Säilynoja et al. 2022)"),
    "drift": "Drift estimates and equivalence margins",
    "regimes": "What prevents collapse and what worsens it: E[σ_t²] by regime",
    "panels": "A model family's quantities over generations: exact means, simulated "
              "means with 95% intervals, chains",
}

_TONE = {"PASS": "good", "SUPPORTED": "good", "WEAK": "warn", "QUALIFIED": "warn",
         "FAIL": "bad", "CONTRADICTED": "bad"}

_CSS = """
:root { --fg:#1e293b; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --card:#fff;
  --good:#15803d; --good-bg:#dcfce7; --warn:#a16207; --warn-bg:#fef9c3;
  --bad:#b91c1c; --bad-bg:#fee2e2; --code-bg:#f1f5f9; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg); line-height:1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 12px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 0 0 8px; }
h4 { font-size: .95rem; margin: 14px 0 6px; }
h5 { font-size: .88rem; margin: 10px 0 4px; color: var(--muted); }
p { margin: 6px 0; }
.muted { color: var(--muted); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .88em; }
code { background: var(--code-bg); padding: 1px 4px; border-radius: 4px;
  overflow-wrap: anywhere; }
pre { background: #0f172a; color: #e2e8f0; padding: 12px 14px; border-radius: 8px;
  overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
pre code { background: none; padding: 0; color: inherit; }
header.top { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
  padding: 20px 22px; display: grid; gap: 10px; }
.headline { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
.badge { display: inline-block; font-weight: 700; font-size: .78rem; letter-spacing: .04em;
  padding: 2px 9px; border-radius: 999px; border: 1px solid transparent;
  white-space: nowrap; }
.badge.big { font-size: 1.1rem; padding: 4px 16px; }
.good { color: var(--good); background: var(--good-bg); border-color: #86efac; }
.warn { color: var(--warn); background: var(--warn-bg); border-color: #fde047; }
.bad { color: var(--bad); background: var(--bad-bg); border-color: #fca5a5; }
.zero { color: var(--muted); background: var(--code-bg); border-color: var(--line); }
.counts { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.counts .label { color: var(--muted); font-size: .85rem; margin-right: 2px; }
table { border-collapse: collapse; width: 100%; background: var(--card);
  font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left;
  vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.tablewrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
.tablewrap table { border: none; }
.tablewrap tr:last-child td { border-bottom: none; }
details { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  margin: 8px 0; }
details > summary { cursor: pointer; padding: 8px 12px; display: flex; gap: 10px;
  align-items: baseline; list-style: none; }
details > summary::-webkit-details-marker { display: none; }
details > summary::before { content: "▸"; color: var(--muted); }
details[open] > summary::before { content: "▾"; }
details > .body { padding: 4px 14px 14px; border-top: 1px solid var(--line); }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 6px 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.figs { display: grid; grid-template-columns: minmax(0, 1fr); gap: 20px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line);
  border-radius: 8px; padding: 10px; }
figure svg { width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: .9rem; color: var(--muted); margin: 6px auto 0; max-width: 70ch;
  text-align: center; }
.claim { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 14px 16px; margin: 12px 0; }
.claim blockquote { margin: 6px 0 10px; padding: 4px 12px; border-left: 3px solid var(--line);
  color: #334155; font-style: italic; }
.note { color: var(--muted); font-size: .85rem; }
footer { margin-top: 40px; font-size: .88rem; }
code.id { overflow-wrap: normal; word-break: normal; white-space: normal; }
.lead { font-size: 1rem; margin: 2px 0; }
.lead ul { margin: 6px 0 0; padding-left: 20px; }
ol.steps { margin: 4px 0 10px; padding-left: 22px; }
ol.steps li { margin: 3px 0; }
sub, sup { line-height: 0; font-size: .75em; }
.nw { white-space: nowrap; }
@media (max-width: 900px) {
  main { padding: 16px 12px 40px; }
  table { font-size: .84rem; }
  th, td { padding: 5px 6px; }
  td.num .wrap { white-space: normal; }
  .badge { letter-spacing: 0; padding: 2px 6px; }
}
@media print { details { break-inside: avoid; } details > .body { display: block; } }
"""


def _e(x: Any) -> str:
    """HTML-escaped text of anything (quotes too: safe in attributes as in text)."""
    return html.escape(str(x), quote=True)


def _badge(verdict: str, big: bool = False, tone: str | None = None) -> str:
    tone = tone or _TONE.get(verdict, "warn")
    return f'<span class="badge {tone}{" big" if big else ""}">{_e(verdict)}</span>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           numeric: Sequence[bool] | None = None) -> str:
    """Cells must already be HTML (escaped)."""
    numeric = numeric or [False] * len(header)
    cls = [' class="num"' if n else "" for n in numeric]
    head = "".join(f"<th{c}>{h}</th>" for c, h in zip(cls, header, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{c}>{v}</td>" for c, v in zip(cls, row, strict=True)) + "</tr>"
        for row in rows
    )
    return (f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def _kv(d: Mapping[str, Any], *, labels: bool = False, math: bool | None = None) -> str:
    """A definition list; ``labels``: keys are snake_case quantity names shown as words
    with their symbols (:func:`~collapsecheck.report.notation.quantity_label`), the raw
    name in a tooltip; ``math`` (default: as ``labels``): values in the reports'
    notation (:func:`~collapsecheck.report.notation.to_html`), else as they are (paths,
    versions, commands)."""
    if not d:
        return f'<p class="muted">{MISSING}</p>'
    math = labels if math is None else math
    value = to_html if math else _e
    items = "".join(
        (f'<dt title="{_e(k)}">{_e(quantity_label(k))}</dt>' if labels else f"<dt>{_e(k)}</dt>")
        + f"<dd>{value(fmt_value(v))}</dd>" for k, v in d.items())
    return f'<dl class="kv">{items}</dl>'


def _id(x: Any) -> str:
    """An id (``theory.log_var_gof.n3.T10.samples``) as code that wraps only after its
    dots (never inside a token), with the full id as its tooltip."""
    text = _e(x)
    broken = re.sub(r"\.(?=[A-Za-z_])", ".<wbr>", text)  # not inside a number: ddof0.5
    return f'<code class="id" title="{text}">{broken}</code>'


def _p(p: Any) -> str:
    """A p-value cell: "< 1e-300" for an underflow, never 0."""
    return _e(fmt_p(p))


def _stat(c: CheckResult | Mapping[str, Any]) -> str:
    """The statistic named: "KS D = 0.0106", "z = 2.105"."""
    test = c["test"] if isinstance(c, Mapping) else c.test
    value = c["statistic"] if isinstance(c, Mapping) else c.statistic
    return f'<span class="wrap">{_e(statistic_name(test))} = {_e(fmt_num(value))}</span>'


def _direction(kind: str) -> str:
    return _e(SMALL_P_MEANS.get(kind, SMALL_P_MEANS["consistency"]))


_SHORT_DIRECTION = {"consistency": "departure from theory", "confirmatory": "confirmed"}


def _direction_cell(kind: str) -> str:
    """What a small p means, briefly, the full sentence on hover."""
    short = _SHORT_DIRECTION.get(kind, _SHORT_DIRECTION["consistency"])
    return f'<span title="{_direction(kind)}">{_e(short)}</span>'


def _rule(rule: str) -> str:
    """A PASS rule with its numbers kept whole (3.6e-05 never split at its minus)."""
    return re.sub(r"[0-9][0-9.]*(?:e[-+][0-9]+)?",
                  lambda m: f'<span class="nw">{m.group()}</span>', _e(rule or MISSING))


def _effect_html(effect: Mapping[str, Any]) -> str:
    """The smallest detectable departure as a sentence: its metric = value, the other
    sizes by their labels, at its power; the note as a tooltip."""
    if not effect:
        return MISSING
    parts, power, note = effect_parts(effect, to_html, _e)
    text = "; ".join(parts)
    if power is not None:
        text += f" <span class=\"muted\">(power {_e(fmt_num(power))})</span>"
    if note:
        text = f'<span title="{_e(note)}">{text}</span>'
    return text


def _numbers_table(numbers: Mapping[str, Any]) -> str:
    keys, labels, rows = number_rows(numbers)
    numeric = [False] + [k in ("theory", "simulation", "value") for k in keys]
    return _table(["quantity", *map(_e, labels)],
                  [[f'<span title="{_e(row[0])}">{_e(quantity_label(row[0]))}</span>']
                   + [to_html(x) for x in row[1:]] for row in rows], numeric)


def _header(report: ValidationReport) -> str:
    """The verdict first: the overall badge, why it is not PASS (each failed check with
    its statistic and p-value against its rule), the counts, what was tested."""
    checks = verdict_counts(report.checks, Verdict)
    claims = verdict_counts(report.claims, ClaimVerdict)

    def chips(counts: dict[str, int]) -> str:
        return "".join(
            f'<span class="badge {_TONE.get(k, "warn") if n else "zero"}">{_e(k)} {n}</span>'
            for k, n in counts.items()
        )

    exit_code = 1 if report.failed else 0
    desc = f"<p>{to_html(report.description)}</p>" if report.description else ""
    if report.spec.get("tested"):
        desc += f'<p class="tested"><strong>Tested:</strong> {_e(report.spec["tested"])}</p>'
    missed = report.uncaught_controls
    if missed:
        names = ", ".join(f"<code>{_e(c.name)}</code>" for c in missed)
        desc += (f'<p>{_badge("NOT caught", tone="bad")} {names}: positive controls '
                 "that no check FAILed (this design cannot detect them).</p>")
    return f"""<header class="top">
<div class="headline"><h1>collapsecheck validation report</h1>
{_badge(report.verdict.value, big=True)}</div>
{_reasons(report)}
<p class="muted">Profile <code>{_e(report.profile)}</code> · seed <code>{_e(report.seed)}</code>
· created {_e(report.created)} · exit code {exit_code}</p>
{desc}
<div class="counts"><span class="label">Checks</span>{chips(checks)}</div>
<div class="counts"><span class="label">Claims</span>{chips(claims)}</div>
<div><span class="muted">Reproduce with</span>
<pre><code>{_e(report.command)}</code></pre></div>
</header>"""


def _reasons(report: ValidationReport) -> str:
    """Why the verdict is what it is, in one line."""
    reasons = report.verdict_reasons
    if reasons:
        return (f'<p class="lead"><strong>Why:</strong> {_e("; ".join(reasons))} '
                '(<a href="#failed">by how much</a>).</p>')
    n = len(report.checks)
    return (f'<p class="lead">All {n} check{"s" if n != 1 else ""} PASS: every p-value '
            "lies on its check's PASS side.</p>") if n else ""


def _failed_section(report: ValidationReport) -> str:
    """What failed and by how much: each FAIL (or, short of one, WEAK) check with its
    named statistic, its p-value and the rule it broke."""
    bad = [c for c in report.checks if c.verdict is Verdict.FAIL] or \
        [c for c in report.checks if c.verdict is Verdict.WEAK]
    head = '<h2 id="failed">What failed, and by how much</h2>'
    if not bad:
        return (f'{head}<p>Nothing: no check FAILed or was WEAK.</p>' if report.checks
                else "")
    items = "".join(
        f'<li>{_badge(c.verdict.value)} <a href="#check-{report.checks.index(c)}">'
        f"{_id(c.id)}</a>: {_stat(c)}, p = {_p(c.pvalue)}"
        + (f"; PASS needs {_rule(c.pass_rule)}" if c.pass_rule else "")
        + f' <span class="muted">— a small p means: {_direction(c.kind)}</span></li>'
        for c in bad)
    return f'{head}<ul class="failed">{items}</ul>'


def _budget(report: ValidationReport) -> str:
    if not report.budget:
        return ""
    return ('<h2 id="budget">False-alarm budget and multiplicity</h2>'
            f"{_kv(report.budget, math=True)}")


def figure_html(kind: str, data: Any, title: str) -> str:
    """One ``<figure>``: the plot with its caption, or, when its data cannot be drawn, a
    visible note saying so (a malformed plot must not cost the whole report)."""
    try:
        svg = _figures.render_figure(kind, data)
    except (ValueError, TypeError, KeyError) as exc:
        return (f'<figure><p class="note">Figure “{_e(title)}” could not be drawn: '
                f"{_e(exc)}</p></figure>")
    return f"<figure>{svg}<figcaption>{to_html(title)}</figcaption></figure>"


def _figures_section(report: ValidationReport) -> str:
    figs = []
    for kind in _figures.FIGURE_KINDS:
        data = report.figures.get(kind) if report.figures else None
        if data is None:
            continue
        title = (data.get("caption") if isinstance(data, dict) else None) or _FIGURE_TITLES[kind]
        figs.append(figure_html(kind, data, title))
    if not figs:
        return ""
    return f'<h2 id="figures">Figures</h2><div class="figs">{"".join(figs)}</div>'


def _checks_table(report: ValidationReport) -> str:
    """What was tested and at what power (each check's statement and smallest detectable
    error), then the results: named statistic, p-value, and the rule its p is read by."""
    if not report.checks:
        return '<h2 id="checks">Checks</h2><p class="muted">No checks were run.</p>'
    tested = _table(
        ["check", "what it tests", "kind", "smallest detectable error", "alpha"],
        [[f'<a href="#check-{i}">{_id(c.id)}</a>', to_html(c.statement), _e(c.kind),
          _effect_html(c.detectable_effect), _e(fmt_num(c.alpha))]
         for i, c in enumerate(report.checks)],
        [False, False, False, False, True])
    results = _table(
        ["check", "verdict", "statistic", "p-value", "PASS when", "a small p means"],
        [[f'<a href="#check-{i}">{_id(c.id)}</a>', _badge(c.verdict.value), _stat(c),
          _p(c.pvalue), _rule(c.pass_rule), _direction_cell(c.kind)]
         for i, c in enumerate(report.checks)],
        [False, False, True, True, False, False])
    return ('<h2 id="tested">What was tested, and at what power</h2>'
            '<p class="muted">Each check\'s smallest detectable error is the departure from '
            "exact theory it FAILs with the stated power at its false-alarm rate alpha.</p>"
            f'{tested}{_failed_section(report)}<h2 id="checks">Results</h2>'
            '<p class="muted">Two kinds of test share this table. A <em>consistency</em> '
            "check tests “the simulator follows the exact theory”: it PASSes on a large p. "
            "A <em>confirmatory</em> check tests “the property does not hold”: it PASSes on "
            "a tiny p. p-values below 1e-300 are printed as “&lt; 1e-300”.</p>"
            f"{results}")


def _check_details(i: int, c: CheckResult) -> str:
    stages = _table(
        ["stage", "seed", "spawn key", "replicates", "statistic", "p-value", "verdict"],
        [
            [str(j + 1), _e(s.seed), _e(fmt_value(list(s.spawn_key))), _e(s.replicates),
             f'<span class="wrap">{_e(statistic_name(c.test))} = '
             f"{_e(fmt_num(s.statistic))}</span>", _p(s.pvalue),
             _badge(s.verdict.value)]
            for j, s in enumerate(c.stages)
        ],
        [True, True, False, True, True, True, False],
    ) if c.stages else f'<p class="muted">{MISSING}</p>'
    # each stage's own numbers, where they are not simply the check's (an escalation)
    stages += "".join(f"<h5>Stage {j + 1}: numbers</h5>{_kv(s.details, labels=True)}"
                      for j, s in enumerate(c.stages)
                      if s.details and (len(c.stages) > 1 or s.details != c.numbers))
    numbers = _kv(c.numbers, labels=True) if c.numbers else f'<p class="muted">{MISSING}</p>'
    is_open = " open" if c.verdict is not Verdict.PASS else ""
    return f"""<details id="check-{i}"{is_open}>
<summary>{_badge(c.verdict.value)} {_id(c.id)}
<span class="muted">{to_html(c.statement)}</span></summary>
<div class="body">
<dl class="kv"><dt>statement</dt><dd>{to_html(c.statement)}</dd>
<dt>test</dt><dd>{to_html(c.test)}</dd>
<dt>family / kind</dt><dd>{_e(c.family)} / {_e(c.kind)}: a small p means
{_direction(c.kind)}</dd>
<dt>statistic</dt><dd>{_stat(c)}</dd>
<dt>p-value</dt><dd>{_p(c.pvalue)}{f"; PASS when {_rule(c.pass_rule)}" if c.pass_rule else ""}</dd>
<dt>alpha</dt><dd>{_e(fmt_num(c.alpha))}</dd>
<dt>smallest detectable error</dt><dd>{_effect_html(c.detectable_effect)}</dd>
<dt>time</dt><dd>{_e(fmt_num(c.seconds))} s</dd></dl>
<h4>Thresholds</h4>{_kv(c.thresholds, labels=True)}
<h4>Escalation history</h4>{stages}
<h4>Numbers</h4>{numbers}
<h4>Experiment</h4>{_kv(c.spec)}
</div></details>"""


def _details_section(report: ValidationReport) -> str:
    if not report.checks:
        return ""
    return ('<h2 id="details">Details of each check</h2>'
            + "".join(_check_details(i, c) for i, c in enumerate(report.checks)))


def _controls_section(report: ValidationReport) -> str:
    if not report.controls:
        return ""
    rows = [
        [
            f"<code>{_e(c.name)}</code>",
            _e(c.summary),
            _badge("caught", tone="good") if c.caught else _badge("NOT caught", tone="bad"),
            ", ".join(_id(i) for i in c.failed_checks) or MISSING,
        ]
        for c in report.controls
    ]
    intro = ('<p class="muted">Known-bad simulators run through every check with the same '
             "seeds; each must FAIL. One that does not shows a bug this design cannot "
             "detect, so the simulator's PASS says nothing about it.</p>")
    table = _table(["control", "what bug it imitates", "caught?", "by which checks"], rows)
    return f'<h2 id="controls">Positive controls</h2>{intro}{table}'


def _claim_card(c: ClaimResult) -> str:
    quote = f"<blockquote>{to_html(c.claim)}</blockquote>" if c.claim else ""
    numbers = _numbers_table(c.numbers) if c.numbers else ""
    steps = reading_steps(c.reading)
    if len(steps) > 1:
        reading = ("<p><strong>Reading, step by step.</strong></p><ol class=\"steps\">"
                   + "".join(f"<li>{to_html(x)}</li>" for x in steps) + "</ol>")
    else:
        reading = f"<p><strong>Reading.</strong> {to_html(c.reading)}</p>"
    return f"""<section class="claim">
<h3>{_e(c.id)} {_badge(c.verdict.value)}</h3>{quote}
{reading}{numbers}</section>"""


def _claims_section(report: ValidationReport) -> str:
    if not report.claims:
        return '<h2 id="claims">Article claims</h2><p class="muted">No claims were evaluated.</p>'
    intro = ('<p class="muted">Findings about the article, not failures of the software: '
             "they never change the exit code.</p>")
    cards = "".join(_claim_card(c) for c in sorted_claims(report.claims))
    return f'<h2 id="claims">Article claims</h2>{intro}{cards}'


def _remedy_section(report: ValidationReport) -> str:
    """The article's remedy, quantified (the committed table of ``collapsecheck remedy``),
    beside the claims."""
    from collapsecheck.remedy import reference_record

    rec = reference_record() if report.claims else None
    if rec is None:
        return ""

    def est(e):
        if e is None:
            return "–"
        if e["estimate"] is None or e["estimate"] == float("-inf"):  # -inf: null in JSON
            return "−∞ (exact: no fresh data, collapse)"
        return (f"{e['estimate']:.4g} (exact)" if e["se"] == 0 else
                f"{e['estimate']:.4f} ± {e['se']:.1g} (SD {e['sd']:.2g})")

    rows = [[str(r["n"]), f"{r['ddof']:g}",
             "–" if r["fresh_count"] is None else str(r["fresh_count"]),
             "–" if r["fresh_fraction"] is None else f"{r['fresh_fraction']:.4g}",
             est(r["at_m"]), est(r["below_m"]), f"{r['all_fresh_log_sigma2']:.4g}",
             "–" if r["sigma2_mean_stationary"] is None
             else f"{r['sigma2_mean_stationary']:.4g}", to_html(r["note"])]
            for r in rec["rows"]]
    table = _table(["n", "ddof", "smallest m", "m/n", "E[log σ²] at m", "at m − 1",
                    "all fresh (exact)", "stationary E[σ²] at m (exact)", "note"], rows)
    return (f'<h2 id="remedy">The article\'s remedy, quantified</h2>'
            f"<p>{to_html(rec['what'])}. {to_html(rec['method'])}. Reproduce with "
            f"<code>{_e(rec['command'])}</code>.</p>{table}"
            '<p class="muted">E[σ²] is not the yardstick: at ddof 1 a single fresh draw per '
            "generation gives a stationary E[σ²] of 2σ₀², because the model's mean wanders "
            "from μ₀ and the fresh draw lands far from it.</p>")


def _footer(report: ValidationReport) -> str:
    return f"""<footer>
<h2 id="environment">Environment</h2>{_kv(report.environment)}
<h2 id="spec">Experiment</h2>{_kv(report.spec)}
<h2 id="timing">Timing</h2>{_kv(report.timing)}
</footer>"""


def page(title: str, body: str) -> str:
    """A self-contained HTML page: ``title`` (escaped here) and ``body`` (already HTML),
    with the reports' stylesheet inline."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def render_html(report: ValidationReport) -> str:
    """``report.html`` in the order a reader needs it: the overall verdict and why,
    what was tested and at what power, what failed and by how much (its named statistic
    and p-value against its rule), the results, the budget, positive controls (when any
    were run), the figures present in ``report.figures``, the claims, then each check's
    details, environment and timing.

    ``report.figures`` keys (each optional; absent ones are skipped): ``trajectories``,
    ``endpoint``, ``qq``, ``pit_increments``, ``pit_endpoint`` (the PIT ECDF-difference
    plots in their simultaneous 95% band), ``drift``, ``regimes``; see
    :mod:`collapsecheck.report.figures` for their data. A figure whose data is malformed
    is replaced by a visible note.
    """
    title = f"collapsecheck: {report.profile} — {report.verdict.value}"
    body = "\n".join([
        _header(report),
        _checks_table(report),
        _budget(report),
        _controls_section(report),
        _figures_section(report),
        _claims_section(report),
        _remedy_section(report),
        _details_section(report),
        _footer(report),
    ])
    return page(title, body)
