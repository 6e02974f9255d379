"""End to end: ``collapsecheck validate --profile ci`` as CI runs it."""

import json
import xml.etree.ElementTree as ET

import pytest

from collapsecheck.cli import main
from collapsecheck.report.schema import validate_report


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ci")
    code = main(["validate", "--profile", "ci", "--out", str(out), "--no-progress"])
    return code, out


def test_exit_zero_and_four_files(ci_run):
    code, out = ci_run
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "junit.xml", "report.html", "report.json", "report.md"]


def test_junit_has_ten_or_more_passing_testcases(ci_run):
    root = ET.parse(ci_run[1] / "junit.xml").getroot()
    cases = [c for c in root.iter("testcase") if c.get("classname") != "collapsecheck.claims"]
    assert len(cases) >= 10
    assert not any(c.find("failure") is not None for c in cases)


def test_report_json_is_valid_and_judges_every_claim(ci_run):
    report = json.loads((ci_run[1] / "report.json").read_text())
    validate_report(report)
    assert report["verdict"] == "PASS" and report["seed"] == 20241125
    assert [c["id"] for c in report["claims"]] == [f"A{i}" for i in range(1, 9)]
    # the article's scale: the verdicts tests/test_article_claims.py derives from exact theory
    assert [c["verdict"] for c in report["claims"]] == [
        "QUALIFIED", "SUPPORTED", "QUALIFIED", "QUALIFIED", "SUPPORTED", "QUALIFIED",
        "CONTRADICTED", "QUALIFIED"]
    # a budget of 0.001 split over the checks (Bonferroni); every check of a correct
    # simulator passes at the profile's fixed seed, its p-value above a/2
    budget = report["budget"]
    a = budget["total"] / len(report["checks"])
    assert budget["checks"] == len(report["checks"]) >= 10
    assert budget["per_check"] == pytest.approx(a, rel=1e-12)
    assert budget["fail"] == pytest.approx(a / 2, rel=1e-12)
    for check in report["checks"]:
        assert check["verdict"] == "PASS"
        assert check["alpha"] == pytest.approx(a, rel=1e-12)
        assert 0 <= check["pvalue"] <= 1
        if check["kind"] == "consistency":  # not a FAIL at its first stage
            assert check["pvalue"] >= check["thresholds"]["fail"] == pytest.approx(a / 2)
        assert check["detectable_effect"]["value"] is not None


def test_html_is_self_contained_with_every_plot(ci_run):
    html = (ci_run[1] / "report.html").read_text()
    assert html.count("<svg") >= 4
    assert "could not be drawn" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "A7" in html and "CONTRADICTED" in html
