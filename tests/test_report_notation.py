"""The reports' human renderings: notation (ASCII pseudo-TeX to Unicode and HTML),
p-values that cannot be misread (direction, underflow, the statistic named), reading
order and ids that wrap only at their dots."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.test_report import make_report

from collapsecheck.report._format import fmt_p, statistic_name
from collapsecheck.report.html import render_html
from collapsecheck.report.markdown import render_markdown
from collapsecheck.report.notation import quantity_label, reading_steps, to_html, to_text
from collapsecheck.results import SMALL_P_MEANS, CheckResult, Stage, Verdict

# --- notation ----------------------------------------------------------------------------

@pytest.mark.parametrize(("ascii_", "text", "markup"), [
    ("sigma_{t-1}", "σₜ₋₁", "σ<sub>t−1</sub>"),
    ("log(chi2_{n-1}/(n-ddof))", "log(χ²ₙ₋₁/(n−ddof))", "log(χ²<sub>n−1</sub>/(n−ddof))"),
    ("psi((n-1)/2)", "ψ((n−1)/2)", "ψ((n−1)/2)"),
    ("E[sigma_T^2]", "E[σ_T²]", "E[σ<sub>T</sub><sup>2</sup>]"),
    ("sigma_T -> 0", "σ_T → 0", "σ<sub>T</sub> → 0"),
    ("sigma0^2/n", "σ₀²/n", "σ<sub>0</sub><sup>2</sup>/n"),
    ("mu_(t-1)", "μₜ₋₁", "μ<sub>t−1</sub>"),
    ("k_j = psi^(j-1)", "kⱼ = ψ^(j−1)", "k<sub>j</sub> = ψ<sup>j−1</sup>"),
    ("within +-10%, a >= b, a <= b, a != b", "within ±10%, a ≥ b, a ≤ b, a ≠ b",
     "within ±10%, a ≥ b, a ≤ b, a ≠ b"),
    ("all R*T increments", "all R·T increments", "all R·T increments"),
    ("W = sum_t (sum_r Z_rt)^2 / R", "W = ∑ₜ (∑ᵣ Z_rt)² / R",
     "W = ∑<sub>t</sub> (∑<sub>r</sub> Z<sub>rt</sub>)<sup>2</sup> / R"),
    ("1/sqrt(2n)", "1/√(2n)", "1/√(2n)"),
    ("-0.002 = -0.001 - 0.001", "−0.002 = −0.001 − 0.001", "−0.002 = −0.001 − 0.001"),
])
def test_pseudo_tex_becomes_notation(ascii_, text, markup):
    assert to_text(ascii_) == text
    assert to_html(ascii_) == markup


@pytest.mark.parametrize("prose", [
    "one-sample Kolmogorov-Smirnov", "two-sided t-test", "the gamma-function ratio",
    "add-0.5 smoothing", "log_var_gof", "ks_distance", "tabulated within 1e-11",
    "a sum of T log-chi-square steps", "the k-statistic cumulants",
    "statement of regimes.mu_var", "mu_var and sigma_mean", "theory.sigma_mean.n100",
])
def test_prose_is_left_alone(prose):
    assert to_text(prose) == prose
    assert to_html(prose) == html.escape(prose)


@given(st.text(max_size=80))
def test_html_escapes_everything_and_adds_only_scripts(s):
    out = to_html(s)
    assert re.sub(r"</?su[bp]>", "", out).count("<") == 0
    # the text content is the Unicode rendering, without its _ and ^ marks
    assert "&" not in html.unescape(re.sub(r"</?su[bp]>", "", out)) or "&" in s


def test_quantity_labels():
    assert quantity_label("sigma2_mean") == "σ² mean"
    assert quantity_label("drift_se_cluster") == "drift SE cluster"
    assert quantity_label("ci95") == "95% CI"
    assert quantity_label("ks_distance") == "KS distance"
    assert quantity_label("E[sigma_T^2]") == "E[σ_T²]"
    assert quantity_label("sigma_quantile_0.975") == "σ quantile 0.975"


def test_long_reading_is_cut_into_its_steps():
    a8 = ("The law of large numbers applied to each fit says only that sigma_t is close to "
          "sigma_{t-1} (relative error about 1/sqrt(2n)); it predicts no shrinkage. The "
          "mechanism is a multiplicative random walk: log sigma^2 takes i.i.d. steps of mean "
          "-0.002002. Even unbiased (ddof = 1), E[sigma_T^2] = 1 at every T while the median "
          "is 0.368. Decided by that median: the explanation is QUALIFIED.")
    steps = reading_steps(a8)
    assert len(steps) == 4
    assert steps[1].startswith("The mechanism") and steps[3].startswith("Decided")
    assert " ".join(steps) == " ".join(a8.split())
    assert reading_steps("Short. Reading.") == ["Short. Reading."]
    long_one = "; ".join(["a clause of some length that goes on"] * 10)
    assert len(reading_steps(long_one)) == 10


# --- p-values ----------------------------------------------------------------------------

def test_pvalue_never_prints_zero():
    assert fmt_p(0.0) == "< 1e-300"
    assert fmt_p(5e-324) == "< 1e-300"
    assert fmt_p(1.5e-215) == "1.5e-215"
    assert fmt_p(0.62350) == "0.624"
    assert fmt_p(float("nan")) == "—"


@pytest.mark.parametrize(("test", "name"), [
    ("one-sample Kolmogorov-Smirnov on the exact CDF (scipy.stats.kstest)", "KS D"),
    ("two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp)", "KS D"),
    ("two-sided z-test with the exact standard error", "z"),
    ("one-sided t-test of H0 drift >= 0 vs H1 drift < 0", "t"),
    ("TOST on the cluster-robust OLS slope at level 0.05 (two one-sided t-tests)",
     "t (TOST)"),
    ("Bonferroni of two tests on standardised increments Z: two-sided chi-square of W",
     "χ²"),
    ("scipy.stats.cramervonmises", "CvM W²"),
    ("something else entirely", "statistic"),
])
def test_statistic_is_named(test, name):
    assert statistic_name(test) == name


def _result(kind, p, thresholds, verdict=Verdict.PASS, stat=-41.3,
            test="one-sided t-test of H0 drift >= 0"):
    stage = Stage(seed=1, spawn_key=(0,), replicates=100, statistic=stat, pvalue=p,
                  verdict=verdict)
    return CheckResult(id="collapse.collapse.n1000.T1000.sufficient", family="collapse",
                       statement="sigma collapses: the drift of log sigma^2 is negative",
                       test=test, verdict=verdict, statistic=stat, pvalue=p, alpha=1e-4,
                       thresholds=thresholds, detectable_effect={}, stages=(stage,),
                       spec={}, kind=kind)


def test_pass_rule_follows_the_kind():
    consistency = _result("consistency", 0.3, {"fail": 3.6e-5, "weak": 0.01,
                                               "escalated_fail": 0.0036})
    confirmatory = _result("confirmatory", 0.0, {"confirm_at_or_below": 0.001})
    assert consistency.pass_rule == "p ≥ 0.01 (FAIL below 3.6e-05)"
    assert confirmatory.pass_rule == "p ≤ 0.001"
    assert SMALL_P_MEANS["consistency"] != SMALL_P_MEANS["confirmatory"]


def test_reports_show_direction_statistic_and_underflow():
    checks = [
        _result("confirmatory", 0.0, {"confirm_at_or_below": 0.001}),
        _result("consistency", 1e-9, {"fail": 1e-5, "weak": 1e-3}, Verdict.FAIL, 6.1,
                "two-sided z-test of the mean"),
    ]
    report = make_report(checks=[checks[0], CheckResult(**{**checks[1].__dict__,
                                                           "id": "theory.sigma_mean.x"})],
                         figures={})
    page, md = render_html(report), render_markdown(report)
    shown = html.unescape(re.sub(r"<(?!/?su[bp]>)[^>]+>", "", page))  # the page's text
    for text in (shown, md):
        assert "t = -41.3" in text and "z = 6.1" in text
        assert text.count(SMALL_P_MEANS["confirmatory"]) >= 1
        assert text.count(SMALL_P_MEANS["consistency"]) >= 1
        assert "p ≤ 0.001" in text and "p ≥ 0.001 (FAIL below 1e-05)" in text
    assert '<td class="num">&lt; 1e-300</td>' in page
    assert '<td class="num">0</td>' not in page
    row = next(r for r in md.splitlines() if r.startswith("| `collapse.collapse") and "PASS" in r)
    assert "| < 1e-300 |" in row and "| 0 |" not in row
    # what failed, with its statistic and p-value against its rule
    failed = md.split("## What failed, and by how much")[1].split("## Results")[0]
    assert "`theory.sigma_mean.x`" in failed and "z = 6.1, p = 1e-09" in failed
    # in the page the full sentence is the tooltip of a brief cell
    assert f'<span title="{SMALL_P_MEANS["confirmatory"]}">confirmed</span>' in page
    assert '<span class="nw">1e-05</span>' in page
    assert "collapse.collapse" not in failed
    # math rendered as notation
    assert "σ collapses: the drift of log σ<sup>2</sup>" in page
    assert "σ collapses: the drift of log σ²" in md


def test_reading_order():
    report = make_report()
    page, md = render_html(report), render_markdown(report)
    order = ['id="tested"', 'id="failed"', 'id="checks"', 'id="claims"', 'id="details"',
             'id="environment"']
    at = [page.index(x) for x in order]
    assert at == sorted(at)
    assert page.index("badge bad big") < at[0]
    heads = ["**Overall verdict:**", "## What was tested", "## What failed", "## Results",
             "## Reproduce", "## Claims"]
    at = [md.index(x) for x in heads]
    assert at == sorted(at)


def test_ids_wrap_only_at_dots():
    page = render_html(make_report(figures={}))
    cid = "theory.log_var_gof.small_n"
    assert (f'<code class="id" title="{cid}">theory.<wbr>log_var_gof.<wbr>small_n</code>'
            in page)
    from collapsecheck.report.html import _id
    assert _id("collapse.drift.n4.ddof0.5.samples") == (
        '<code class="id" title="collapse.drift.n4.ddof0.5.samples">collapse.<wbr>drift.<wbr>'
        "n4.<wbr>ddof0.5.<wbr>samples</code>")
    assert re.search(r"code\.id \{[^}]*overflow-wrap: normal", page)
