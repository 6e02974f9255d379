"""``junit.xml``: the checks as JUnit test cases, for CI dashboards.

One ``<testsuite name="collapsecheck.<profile>">``; a test case per check
(``classname="collapsecheck.<family>"``) that has a ``<failure>`` only for FAIL (WEAK
is noted in ``<system-out>``, not failed), and a test case per article claim
(``classname="collapsecheck.claims"``) that never fails: claims are findings, and a
test case per positive control (``classname="collapsecheck.controls"``, named after the
mutant) that has a ``<failure>`` when the control was NOT caught.
Built with :mod:`xml.etree.ElementTree`, so all text is escaped; characters XML 1.0
cannot carry at all (control characters) are replaced by U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from collapsecheck.report._format import fmt_num, fmt_value, sorted_claims
from collapsecheck.results import (
    CheckResult,
    ClaimResult,
    ControlResult,
    ValidationReport,
    Verdict,
)

__all__ = ["render_junit"]

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _x(s: Any) -> str:
    return _ILLEGAL_XML.sub("\ufffd", str(s))


def _seconds(x: float | None) -> str:
    try:
        return f"{max(float(x), 0.0):.3f}" if x is not None else "0.000"
    except (TypeError, ValueError):
        return "0.000"


def _stage_lines(c: CheckResult) -> list[str]:
    return [
        f"stage {j + 1}: seed={s.seed} spawn_key={list(s.spawn_key)} replicates={s.replicates} "
        f"statistic={fmt_num(s.statistic)} p={fmt_num(s.pvalue)} -> {s.verdict.value}"
        for j, s in enumerate(c.stages)
    ]


def _check_case(suite: ET.Element, c: CheckResult) -> None:
    case = ET.SubElement(suite, "testcase", {
        "classname": _x(f"collapsecheck.{c.family}"),
        "name": _x(c.id),
        "time": _seconds(c.seconds),
    })
    summary = (f"{c.verdict.value}: {c.test}; statistic={fmt_num(c.statistic)}, "
               f"p={fmt_num(c.pvalue)}, alpha={fmt_num(c.alpha)}")
    lines = [summary, f"statement: {c.statement}",
             f"thresholds: {fmt_value(c.thresholds)}",
             f"detectable effect: {fmt_value(c.detectable_effect)}", *_stage_lines(c)]
    if c.verdict is Verdict.FAIL:
        failure = ET.SubElement(case, "failure", {
            "message": _x(f"{c.statement} (p={fmt_num(c.pvalue)}, {c.test})"),
            "type": "CheckFailed",
        })
        failure.text = _x("\n".join(lines))
    else:
        if c.verdict is Verdict.WEAK:
            lines.insert(0, "WEAK: the p-value is unusual but not damning; this does not "
                            "fail the run.")
        ET.SubElement(case, "system-out").text = _x("\n".join(lines))


def _claim_case(suite: ET.Element, c: ClaimResult) -> None:
    case = ET.SubElement(suite, "testcase", {
        "classname": "collapsecheck.claims",
        "name": _x(c.id),
        "time": _seconds(c.seconds),
    })
    lines = [f"{c.verdict.value}: {c.claim}", f"reading: {c.reading}"]
    lines += [f"{k}: {fmt_value(v)}" for k, v in c.numbers.items()]
    ET.SubElement(case, "system-out").text = _x("\n".join(lines))


def _control_case(suite: ET.Element, c: ControlResult) -> None:
    case = ET.SubElement(suite, "testcase", {
        "classname": "collapsecheck.controls",
        "name": _x(c.name),
        "time": _seconds(c.seconds),
    })
    lines = [f"control {c.name}: {c.summary}",
             f"verdict {c.verdict.value}; caught by: {', '.join(c.failed_checks) or 'none'}"]
    lines += [f"{r.id}: {r.verdict.value} p={fmt_num(r.pvalue)}" for r in c.checks]
    if c.caught:
        ET.SubElement(case, "system-out").text = _x("\n".join(lines))
    else:
        failure = ET.SubElement(case, "failure", {
            "message": _x(f"control {c.name} not caught: no check FAILed it, so this design "
                          "cannot detect that bug"),
            "type": "ControlNotCaught",
        })
        failure.text = _x("\n".join(lines))


def render_junit(report: ValidationReport) -> str:
    """``junit.xml`` text (UTF-8, with an XML declaration)."""
    n_tests = len(report.checks) + len(report.claims) + len(report.controls)
    n_fail = (sum(c.verdict is Verdict.FAIL for c in report.checks)
              + len(report.uncaught_controls))
    total = sum(float(c.seconds or 0.0) for c in report.checks) + sum(
        float(c.seconds or 0.0) for c in report.claims) + sum(
        float(c.seconds or 0.0) for c in report.controls)
    counts = {"tests": str(n_tests), "failures": str(n_fail), "errors": "0",
              "skipped": "0", "time": _seconds(total)}
    root = ET.Element("testsuites", {"name": "collapsecheck", **counts})
    suite = ET.SubElement(root, "testsuite", {
        "name": _x(f"collapsecheck.{report.profile}"), **counts,
        "timestamp": _x(report.created),
    })
    props = ET.SubElement(suite, "properties")
    env = report.environment
    for name, value in [
        ("profile", report.profile),
        ("seed", report.seed),
        ("verdict", report.verdict.value),
        ("command", report.command),
        ("bit_generator", env.get("bit_generator")),
        ("numpy", env.get("numpy")),
        ("collapsecheck", env.get("collapsecheck")),
    ]:
        if value is not None:
            ET.SubElement(props, "property", {"name": name, "value": _x(value)})
    for c in report.checks:
        _check_case(suite, c)
    for c in report.controls:
        _control_case(suite, c)
    for c in sorted_claims(report.claims):
        _claim_case(suite, c)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
