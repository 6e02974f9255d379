"""Report writers: JSON against its schema, Markdown, HTML (self-contained, escaped),
JUnit XML, and the all-or-nothing file output."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import numpy as np
import pytest
from scipy import stats

from collapsecheck.report import html as html_mod
from collapsecheck.report.figures import FIGURE_KINDS, render_figure
from collapsecheck.report.html import render_html
from collapsecheck.report.json_report import render_json, report_dict
from collapsecheck.report.junit import render_junit
from collapsecheck.report.markdown import render_markdown
from collapsecheck.report.schema import load_schema, validate_report
from collapsecheck.report.write import REPORT_FILES, write_reports
from collapsecheck.results import (
    CheckResult,
    ClaimResult,
    ClaimVerdict,
    Stage,
    ValidationReport,
    Verdict,
)

EVIL = "<script>alert(1)</script>"


def _stage(seed, key, p, verdict, reps=2000):
    return Stage(seed=seed, spawn_key=key, replicates=reps, statistic=1.5, pvalue=p,
                 verdict=verdict, details={"engine": "sufficient"})


def _check(cid, verdict, stages, *, family="theory", p=None):
    last = stages[-1]
    return CheckResult(
        id=cid, family=family, statement=f"statement of {cid}", test="scipy.stats.cramervonmises",
        verdict=verdict, statistic=last.statistic, pvalue=last.pvalue if p is None else p,
        alpha=1e-4, thresholds={"fail": 1e-5, "weak": 1e-3, "escalated_fail": 1e-3},
        detectable_effect={"log_sigma2_drift": 0.01, "power": 0.9},
        stages=tuple(stages), spec={"n": 5, "generations": 50, "ddof": 1},
        numbers={"drift": {"estimate": -0.2, "ci95": [-0.21, -0.19], "theory": -0.2}},
        seconds=0.25,
    )


def _figures():
    rng = np.random.default_rng(12345)
    gens = np.arange(21)
    steps = np.log(rng.chisquare(4, size=(5, 20)) / 4)
    log_var = np.concatenate([np.zeros((5, 1)), np.cumsum(steps, axis=1)], axis=1)
    drift, sd = -0.27, 0.75
    band = {q: np.exp(0.5 * (drift * gens + stats.norm.ppf(q) * sd * np.sqrt(gens)))
            for q in (0.025, 0.5, 0.975)}
    final = rng.normal(drift * 20, sd * np.sqrt(20), size=400)
    grid = np.linspace(final.min(), final.max(), 100)
    probs = (np.arange(1, 101) - 0.5) / 100
    return {
        "trajectories": {"generations": gens, "sigma": np.exp(0.5 * log_var),
                         "band": {str(q): v for q, v in band.items()},
                         "title": "σ over 20 generations, n = 5"},
        "endpoint": {"log_sigma2": final, "grid": grid,
                     "density": stats.norm.pdf(grid, drift * 20, sd * np.sqrt(20)),
                     "title": f"final log σ² {EVIL}"},
        "qq": {"theoretical": stats.norm.ppf(probs), "sample": np.sort(rng.normal(size=100)),
               "title": "QQ $x$"},
        "pit_increments": {"u": rng.uniform(size=300), "title": f"PIT steps {EVIL}"},
        "pit_endpoint": {"u": rng.uniform(size=50), "title": "PIT endpoint"},
        "drift": [
            {"id": "n=5", "estimate": -0.27, "ci95": [-0.29, -0.25], "theory": -0.271,
             "margin": [-0.3, -0.24]},
            {"id": EVIL, "estimate": -0.11, "ci95": [-0.12, -0.1], "theory": -0.105,
             "margin": None},
        ],
    }


def make_report(*, checks=None, claims=None, figures=None, profile="quick"):
    if checks is None:
        checks = [
            _check("theory.log_var_gof.small_n", Verdict.PASS,
                   [_stage(7, (0,), 0.41, Verdict.PASS)]),
            _check("theory.drift.escalated", Verdict.PASS,
                   [_stage(7, (1,), 5e-4, Verdict.WEAK), _stage(7, (1, 1), 0.3, Verdict.PASS)]),
            _check("regimes.mu_var", Verdict.FAIL, [_stage(7, (2,), 1e-9, Verdict.FAIL)],
                   family="regimes"),
            _check(EVIL, Verdict.PASS, [_stage(7, (3,), 0.5, Verdict.PASS)], family="article"),
            _check("theory.nan_stat", Verdict.PASS,
                   [_stage(7, (4,), float("nan"), Verdict.PASS)]),
        ]
    if claims is None:
        verdicts = [ClaimVerdict.SUPPORTED, ClaimVerdict.QUALIFIED, ClaimVerdict.CONTRADICTED]
        claims = [
            ClaimResult(
                id=f"A{i}", claim=f"Claim number {i}: variance shrinks | collapses",
                verdict=verdicts[i % 3], reading=f"reading {i}",
                numbers={
                    "sigma2_mean": {"theory": 1.0, "simulation": 0.98, "ci95": [0.95, 1.01],
                                    "note": "exact | law"},
                    "sims": 4000,
                    "only_theory": {"theory": np.float64(-0.2)},
                },
                seconds=0.1,
            )
            for i in range(8, 0, -1)  # out of order on purpose: writers sort A1..A8
        ]
    return ValidationReport(
        profile=profile, description="Synthetic report for the writers' tests.", seed=20240607,
        spec={"n": 5, "generations": 50, "replicates": 2000, "ddof": 1},
        budget={"total": 1e-3, "rule": "Bonferroni over checks", "per_check": 2e-4,
                "weak": 1e-3, "escalated_fail": 1e-3, "escalation_factor": 4},
        checks=tuple(checks), claims=tuple(claims),
        environment={"collapsecheck": "0.1.0", "numpy": np.__version__, "python": "3.11.7",
                     "bit_generator": "PCG64"},
        command="collapsecheck validate --profile quick --seed 20240607 --out out",
        timing={"total_s": 12.5, "checks_s": 10.0, "claims_s": 2.5},
        created="2024-06-07T12:00:00+00:00",
        figures=_figures() if figures is None else figures,
    )


@pytest.fixture(scope="module")
def report():
    return make_report()


@pytest.fixture(scope="module")
def html_text(report):
    return render_html(report)


# --- JSON --------------------------------------------------------------------------------


class TestJson:
    def test_schema_is_valid_draft_2020_12(self):
        schema = load_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)

    def test_report_validates_and_round_trips(self, report):
        obj = json.loads(render_json(report))
        validate_report(obj)
        assert obj == report_dict(report)
        assert obj["schema_version"] == "1.0"
        assert obj["tool"]["name"] == "collapsecheck"
        assert obj["bit_generator"] == "PCG64"
        assert obj["numpy_version"] == np.__version__
        assert obj["seed"] == 20240607
        assert [c["id"] for c in obj["checks"]] == [c.id for c in report.checks]
        assert sorted(c["id"] for c in obj["claims"]) == [f"A{i}" for i in range(1, 9)]

    def test_nan_becomes_null(self, report):
        text = render_json(report)
        assert "NaN" not in text
        nan_check = next(c for c in json.loads(text)["checks"] if c["id"] == "theory.nan_stat")
        assert nan_check["pvalue"] is None

    def test_summary_counts(self, report):
        s = report_dict(report)["summary"]
        assert s["checks"] == {"PASS": 4, "WEAK": 0, "FAIL": 1}
        assert s["claims"] == {"SUPPORTED": 2, "QUALIFIED": 3, "CONTRADICTED": 3}

    @pytest.mark.parametrize(
        ("mutate", "path"),
        [
            (lambda o: o["checks"][0].__setitem__("verdict", "MAYBE"), "verdict"),
            (lambda o: o["checks"][0].__setitem__("pvalue", 1.5), "pvalue"),
            (lambda o: o["checks"][0].pop("alpha"), "alpha"),
            (lambda o: o["checks"][1]["escalation"][0].pop("seed"), "seed"),
            (lambda o: o["claims"][0].__setitem__("id", "A9"), "A9"),
            (lambda o: o["claims"][0].__setitem__("verdict", "PASS"), "PASS"),
            (lambda o: o.pop("bit_generator"), "bit_generator"),
            (lambda o: o.__setitem__("exit_code", 0), "exit_code"),
            (lambda o: o["environment"].pop("numpy"), "numpy"),
        ],
    )
    def test_broken_report_is_rejected(self, report, mutate, path):
        obj = copy.deepcopy(report_dict(report))
        mutate(obj)
        with pytest.raises(jsonschema.ValidationError) as err:
            validate_report(obj)
        assert path in err.value.message + err.value.json_path

    @pytest.mark.parametrize(
        ("verdicts", "overall", "code"),
        [
            ([Verdict.PASS, Verdict.PASS], "PASS", 0),
            ([Verdict.PASS, Verdict.WEAK], "WEAK", 0),
            ([Verdict.WEAK, Verdict.FAIL], "FAIL", 1),
            ([], "PASS", 0),
        ],
    )
    def test_overall_verdict_and_exit_code(self, verdicts, overall, code):
        checks = [_check(f"c{i}", v, [_stage(1, (i,), 0.5, v)]) for i, v in enumerate(verdicts)]
        obj = report_dict(make_report(checks=checks, figures={}))
        assert (obj["verdict"], obj["exit_code"]) == (overall, code)
        validate_report(obj)

    def test_missing_jsonschema_gives_clear_import_error(self, report, monkeypatch):
        import sys

        monkeypatch.setitem(sys.modules, "jsonschema", None)
        with pytest.raises(ImportError, match=r"needs the optional package `jsonschema`"):
            validate_report(report_dict(report))


# --- Markdown ----------------------------------------------------------------------------


class TestMarkdown:
    def test_contents(self, report):
        md = render_markdown(report)
        for c in report.checks:
            assert f"`{c.id}`" in md
        headings = re.findall(r"^### (A\d):", md, flags=re.MULTILINE)
        assert headings == [f"A{i}" for i in range(1, 9)]
        assert "FAIL" in md.splitlines()[4]  # overall verdict near the top
        assert "```sh\n" + report.command + "\n```" in md
        for key in report.budget:
            assert f"- {key}: " in md
        assert "20240607" in md and "PCG64" in md

    def test_tables_escape_pipes_and_keep_columns(self, report):
        md = render_markdown(report)
        assert r"exact \| law" in md
        # every row of each table has as many cells as its header
        for block in re.findall(r"((?:^\|.*\n)+)", md, flags=re.MULTILINE):
            widths = {len(re.split(r"(?<!\\)\|", row)) for row in block.strip().splitlines()}
            assert len(widths) == 1, block

    def test_theory_and_simulation_side_by_side(self, report):
        md = render_markdown(report)
        assert "| quantity | theory | simulation | value | 95% CI | note |" in md
        assert "| σ² mean | 1 | 0.98 |  | [0.95, 1.01] | exact \\| law |" in md
        assert "| sims |  |  | 4000 |  |  |" in md

    def test_no_raw_html_from_report_text(self, report):
        md = render_markdown(report)
        outside_code = re.sub(r"`[^`]*`", "", md)
        assert "<script>" not in outside_code


# --- HTML --------------------------------------------------------------------------------


class TestHtml:
    def test_one_svg_per_figure_kind(self, report, html_text):
        # the six figures of a profile without regime checks (the seventh, "regimes", is
        # drawn for profiles that have them: tests/test_regimes_profile.py; the eighth,
        # "panels", for a model family's checks: tests/test_categorical_checks.py)
        assert len(FIGURE_KINDS) == 8 and {"regimes", "panels"} <= set(FIGURE_KINDS)
        assert {"pit_increments", "pit_endpoint"} <= set(FIGURE_KINDS)
        assert html_text.count("<svg") == sum(k in report.figures for k in FIGURE_KINDS) == 6
        assert "<?xml" not in html_text and "<!DOCTYPE svg" not in html_text
        assert "<metadata>" not in html_text

    def test_self_contained(self, html_text):
        refs = re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html_text)
        assert refs  # the check links exist ...
        assert all(r.startswith("#") for r in refs), refs  # ... and all are in-page
        assert not re.search(r"<(?:script|link|iframe|img)\b", html_text)
        assert "@import" not in html_text
        assert not re.search(r"url\(\s*['\"]?(?!#)", html_text)  # only in-page clip paths

    def test_report_text_is_escaped(self, html_text):
        assert EVIL not in html_text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
        assert "<script" not in html_text.lower()

    def test_escapes_profile_and_command(self):
        r = make_report(profile=f'p"{EVIL}', figures={})
        r = ValidationReport(**{**r.__dict__, "command": f"collapsecheck --out '{EVIL}'"})
        text = render_html(r)
        assert "<script" not in text.lower()
        assert "p&quot;&lt;script&gt;" in text

    def test_structure(self, report, html_text):
        assert html_text.count("<details") == len(report.checks)
        assert html_text.count('class="claim"') == 8
        assert 'class="badge bad big">FAIL<' in html_text
        for section in ("checks", "claims", "environment", "timing", "budget", "figures"):
            assert f'id="{section}"' in html_text
        assert report.command in html_text

    def test_deterministic(self, report, html_text):
        assert render_html(report) == html_text

    def test_figures_optional(self):
        text = render_html(make_report(figures={"qq": _figures()["qq"]}))
        assert text.count("<svg") == 1
        assert "<svg" not in render_html(make_report(figures={}))

    def test_malformed_figure_is_noted_not_fatal(self):
        bad = {"qq": {"theoretical": [1, 2, 3], "sample": [1, 2]}}
        text = render_html(make_report(figures=bad))
        assert "could not be drawn" in text and "<svg" not in text

    def test_figure_functions_return_bare_svg(self):
        for kind, data in _figures().items():
            svg = render_figure(kind, data)
            assert svg.startswith("<svg") and svg.endswith("</svg>")
            ET.fromstring(svg)  # well-formed XML on its own
        with pytest.raises(ValueError, match=r"`kind` must be one of"):
            render_figure("pie", {})


# --- JUnit -------------------------------------------------------------------------------


class TestJunit:
    def test_cases_and_failures(self, report):
        root = ET.fromstring(render_junit(report).encode("utf-8"))
        suites = root.findall("testsuite")
        assert len(suites) == 1
        suite = suites[0]
        assert suite.get("name") == "collapsecheck.quick"
        cases = suite.findall("testcase")
        assert len(cases) == len(report.checks) + 8
        assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "1"
        by_name = {(c.get("classname"), c.get("name")): c for c in cases}
        for c in report.checks:
            case = by_name[(f"collapsecheck.{c.family}", c.id)]
            assert (case.find("failure") is not None) == (c.verdict is Verdict.FAIL)
            float(case.get("time"))
        failed = [c for c in cases if c.find("failure") is not None]
        assert [c.get("name") for c in failed] == ["regimes.mu_var"]
        claims = [c for c in cases if c.get("classname") == "collapsecheck.claims"]
        assert [c.get("name") for c in claims] == [f"A{i}" for i in range(1, 9)]
        assert all(c.find("failure") is None for c in claims)
        assert claims[0].find("system-out").text.startswith("QUALIFIED")
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["seed"] == "20240607" and props["profile"] == "quick"

    def test_weak_is_noted_not_failed(self):
        weak = _check("t.weak", Verdict.WEAK, [_stage(1, (0,), 5e-4, Verdict.WEAK)])
        root = ET.fromstring(render_junit(make_report(checks=[weak], figures={})))
        case = root.find("testsuite/testcase")
        assert case.find("failure") is None
        assert case.find("system-out").text.startswith("WEAK")

    def test_text_round_trips(self, report):
        ctrl = ValidationReport(**{**report.__dict__, "profile": f"a\x1b{EVIL}"})
        text = render_junit(ctrl)
        assert EVIL not in text
        root = ET.fromstring(text)
        names = {c.get("name") for c in root.iter("testcase")}
        assert EVIL in names
        assert root.find("testsuite").get("name") == f"collapsecheck.a\ufffd{EVIL}"


# --- Files -------------------------------------------------------------------------------


class TestWrite:
    def test_writes_exactly_four_files(self, report, tmp_path):
        out = tmp_path / "out" / "nested"
        paths = write_reports(report, out)
        assert {p.name for p in paths.values()} == set(REPORT_FILES.values())
        assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES.values())
        validate_report(json.loads(paths["json"].read_text("utf-8")))
        assert paths["html"].read_text("utf-8") == render_html(report)
        ET.parse(paths["junit"])

    def test_leaves_other_files_alone(self, report, tmp_path):
        other = tmp_path / "notes.txt"
        other.write_text("keep me", encoding="utf-8")
        (tmp_path / "report.md").write_text("old", encoding="utf-8")
        write_reports(report, tmp_path)
        assert other.read_text("utf-8") == "keep me"
        assert (tmp_path / "report.md").read_text("utf-8") == render_markdown(report)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [*REPORT_FILES.values(), "notes.txt"])

    def test_render_error_writes_nothing(self, report, tmp_path, monkeypatch):
        (tmp_path / "report.json").write_text("old json", encoding="utf-8")
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

        def boom(_report):
            raise RuntimeError("renderer broke")

        monkeypatch.setattr(html_mod, "render_html", boom)
        with pytest.raises(RuntimeError, match="renderer broke"):
            write_reports(report, tmp_path)
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
        fresh = tmp_path / "fresh"
        with pytest.raises(RuntimeError, match="renderer broke"):
            write_reports(report, fresh)
        assert not fresh.exists()


def test_markdown_prose_reads_as_written_and_never_carries_markup():
    """report.md is read as plain text too: comparisons stay "<" and ">=", while anything
    that could open raw HTML or an entity is escaped."""
    from collapsecheck.report.markdown import _text

    assert _text("FAIL if p < fail; P(sigma_T < 1) >= 0.5") == \
        "FAIL if p < fail; P(sigma_T < 1) >= 0.5"
    assert _text("<script>alert(1)</script>") == "&lt;script>alert(1)&lt;/script>"
    assert _text("<!-- c --> &amp; &#60; a & b") == "&lt;!-- c --> &amp;amp; &amp;#60; a & b"
