"""The canonical JSON report (``report.json``): every other writer shows a view of it.

Its shape is fixed by ``collapsecheck/schemas/report.schema.json``
(:func:`collapsecheck.report.schema.validate_report` checks an object against it).
"""

from __future__ import annotations

from typing import Any

from collapsecheck import __version__
from collapsecheck.report._format import verdict_counts
from collapsecheck.report.jsonable import dumps, jsonable
from collapsecheck.results import ClaimVerdict, ValidationReport, Verdict

__all__ = ["SCHEMA_VERSION", "exit_code", "render_json", "report_dict"]

SCHEMA_VERSION = "1.0"


def exit_code(report: ValidationReport) -> int:
    """1 when any check FAILs or a positive control is not caught, else 0 (WEAK does
    not fail a run)."""
    return 1 if report.failed else 0


def _simulator(spec: dict[str, Any]) -> dict[str, Any]:
    """What made the chains: ``kind`` ``"custom"`` (a simulator under test, named by
    ``name`` as given) or ``"built-in"`` (the engines named in the checks' specs), and
    ``tested``, the run's one-sentence account of what it tested."""
    return {"kind": spec.get("simulator", "built-in"), "name": spec.get("simulator_name"),
            "tested": spec.get("tested", "")}


def report_dict(report: ValidationReport) -> dict[str, Any]:
    """The canonical JSON object of ``report``: plain JSON types only, non-finite floats
    as ``null`` (see :func:`collapsecheck.report.jsonable.jsonable`).

    ``bit_generator`` and ``numpy_version`` are lifted out of ``report.environment`` to
    the top level: a seed reproduces a stream only with the same bit generator and numpy.
    ``report.figures`` (plot data) is not part of it. ``simulator`` names what made the
    chains and what was tested (from ``spec``). ``verdict_reasons`` says why the
    verdict is not PASS; ``controls`` lists the positive controls, each with its own
    verdict, whether it was ``caught`` (FAILed, as it must) and the checks that caught it.
    """
    env = dict(report.environment)
    obj = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "collapsecheck", "version": env.get("collapsecheck", __version__)},
        "environment": env,
        "bit_generator": env.get("bit_generator"),
        "numpy_version": env.get("numpy"),
        "profile": report.profile,
        "description": report.description,
        "seed": report.seed,
        "spec": report.spec,
        "simulator": _simulator(report.spec),
        "budget": report.budget,
        "verdict": report.verdict.value,
        "verdict_reasons": report.verdict_reasons,
        "exit_code": exit_code(report),
        "command": report.command,
        "created": report.created,
        "timing": report.timing,
        "summary": {
            "checks": verdict_counts(report.checks, Verdict),
            "claims": verdict_counts(report.claims, ClaimVerdict),
        },
        "checks": [c.to_dict() for c in report.checks],
        "claims": [c.to_dict() for c in report.claims],
        "controls": [c.to_dict() for c in report.controls],
    }
    return jsonable(obj)


def render_json(report: ValidationReport) -> str:
    """``report.json``: :func:`report_dict` as strict, indented JSON text."""
    return dumps(report_dict(report)) + "\n"
