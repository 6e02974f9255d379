"""Records of a validation run: checks, claims and the whole report.

These are the objects the report writers (``collapsecheck.report``) turn into JSON,
Markdown, HTML and JUnit XML. They are plain frozen dataclasses; ``to_dict`` gives the
canonical JSON shape (DESIGN.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SMALL_P_MEANS",
    "CheckResult",
    "ClaimResult",
    "ClaimVerdict",
    "ControlResult",
    "Stage",
    "ValidationReport",
    "Verdict",
    "grade",
]

#: What a small p-value means for a check of each kind (``CheckResult.kind``; the kinds
#: are defined in :mod:`collapsecheck.checks.base`): a consistency check tests H0 "the
#: simulator follows the exact theory", so a small p is evidence against the simulator
#: and the check PASSes on a large p; a confirmatory check tests H0 "the property does
#: not hold", so a small p confirms it and the check PASSes on a tiny p.
SMALL_P_MEANS = {
    "consistency": "departure from the exact theory (PASS on a large p)",
    "confirmatory": "the property is confirmed (PASS on a small p)",
}


class Verdict(enum.StrEnum):
    """Outcome of a check. WEAK (a p-value unusual but not damning) is escalated by a
    re-run on an independent stream; it stands only where there is nothing to re-run."""

    PASS = "PASS"
    WEAK = "WEAK"
    FAIL = "FAIL"


class ClaimVerdict(enum.StrEnum):
    """A finding about the article, not a failure of the software."""

    SUPPORTED = "SUPPORTED"
    QUALIFIED = "QUALIFIED"
    CONTRADICTED = "CONTRADICTED"


def grade(pvalue: float, *, fail: float, weak: float) -> Verdict:
    """A consistency test's verdict: FAIL below ``fail``, WEAK below ``weak``, else PASS
    (the callers decide what a NaN p-value means for them)."""
    if pvalue < fail:
        return Verdict.FAIL
    return Verdict.WEAK if pvalue < weak else Verdict.PASS


@dataclass(frozen=True)
class Stage:
    """One run of a check's test: the first, or an escalation."""

    seed: int
    spawn_key: tuple[int, ...]
    replicates: int
    statistic: float
    pvalue: float
    verdict: Verdict
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "seed": self.seed,
            "spawn_key": list(self.spawn_key),
            "replicates": self.replicates,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "verdict": self.verdict.value,
            "details": self.details,
        }


@dataclass(frozen=True)
class CheckResult:
    """The final result of one check, with its escalation history.

    Attributes
    ----------
    id : str
        Registry id, e.g. ``"theory.log_var_gof.small_n"``.
    family : str
        The module of ``collapsecheck.checks`` it comes from.
    statement : str
        What is being checked, in one sentence.
    test : str
        The formal test used (and its library function).
    verdict : Verdict
    statistic, pvalue : float
        Of the deciding stage (the last one run).
    alpha : float
        The per-check false-alarm rate it was allotted (FAIL probability for a correct
        simulator, both stages included).
    thresholds : dict
        ``fail`` (immediate FAIL below), ``weak`` (WEAK below), ``escalated_fail``.
    detectable_effect : dict
        The smallest effect it detects at its alpha with the stated power.
    stages : list of Stage
    spec : dict
        The experiment it simulated (first stage).
    numbers : dict
        Estimates, CIs and theory values behind the verdict.
    seconds : float
    """

    id: str
    family: str
    statement: str
    test: str
    verdict: Verdict
    statistic: float
    pvalue: float
    alpha: float
    thresholds: dict[str, float]
    detectable_effect: dict[str, Any]
    stages: tuple[Stage, ...]
    spec: dict[str, Any]
    numbers: dict[str, Any] = field(default_factory=dict)
    kind: str = "consistency"
    seconds: float = 0.0

    @property
    def pass_rule(self) -> str:
        """When the deciding p-value PASSes, from ``kind`` and ``thresholds``:
        ``"p ≥ 3.6e-05"`` for a consistency check (WEAK between ``fail`` and ``weak``),
        ``"p ≤ 0.001"`` for a confirmatory one; empty when the thresholds do not say."""
        if self.kind == "confirmatory":
            level = self.thresholds.get("confirm_at_or_below")
            return "" if level is None else f"p ≤ {level:.2g}"
        weak, fail = self.thresholds.get("weak"), self.thresholds.get("fail")
        if weak is None:
            return "" if fail is None else f"p ≥ {fail:.2g}"
        return f"p ≥ {weak:.2g}" + ("" if fail is None else f" (FAIL below {fail:.2g})")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "family": self.family,
            "kind": self.kind,
            "statement": self.statement,
            "test": self.test,
            "verdict": self.verdict.value,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "alpha": self.alpha,
            "thresholds": self.thresholds,
            "detectable_effect": self.detectable_effect,
            "escalation": [s.to_dict() for s in self.stages],
            "spec": self.spec,
            "numbers": self.numbers,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class ClaimResult:
    """A verdict on one of the article's claims A1..A8.

    ``numbers`` maps a name to ``{"theory": ..., "simulation": ..., "note": ...}`` (either
    side may be absent where it does not apply); ``reading`` says which reading of the
    claim holds and which fails.
    """

    id: str
    claim: str
    verdict: ClaimVerdict
    reading: str
    numbers: dict[str, Any]
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "claim": self.claim,
            "verdict": self.verdict.value,
            "reading": self.reading,
            "numbers": self.numbers,
            "seconds": self.seconds,
        }


def _overall(checks: tuple[CheckResult, ...]) -> Verdict:
    if any(c.verdict is Verdict.FAIL for c in checks):
        return Verdict.FAIL
    if any(c.verdict is Verdict.WEAK for c in checks):
        return Verdict.WEAK
    return Verdict.PASS


@dataclass(frozen=True)
class ControlResult:
    """A positive control: every check of the profile run against a known-bad simulator
    (a :data:`collapsecheck.mutants.MUTANTS` entry), which the design must FAIL.

    ``verdict`` is that run's overall verdict (FAIL when any check FAILs); the control
    is ``caught`` exactly when it is FAIL. A control that is not caught means the
    design cannot detect that bug, so a PASS of the simulator under test says nothing
    about it.
    """

    name: str
    summary: str
    checks: tuple[CheckResult, ...]
    seconds: float = 0.0

    @property
    def verdict(self) -> Verdict:
        return _overall(self.checks)

    @property
    def caught(self) -> bool:
        return self.verdict is Verdict.FAIL

    @property
    def failed_checks(self) -> list[str]:
        return [c.id for c in self.checks if c.verdict is Verdict.FAIL]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "summary": self.summary,
            "verdict": self.verdict.value,
            "caught": self.caught,
            "failed_checks": self.failed_checks,
            "checks": [{"id": c.id, "verdict": c.verdict.value, "pvalue": c.pvalue}
                       for c in self.checks],
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class ValidationReport:
    """Everything ``collapsecheck validate`` found."""

    profile: str
    description: str
    seed: int
    spec: dict[str, Any]
    budget: dict[str, Any]
    checks: tuple[CheckResult, ...]
    claims: tuple[ClaimResult, ...]
    environment: dict[str, Any]
    command: str
    timing: dict[str, float]
    created: str
    figures: dict[str, Any] = field(default_factory=dict)
    controls: tuple[ControlResult, ...] = ()

    @property
    def uncaught_controls(self) -> list[ControlResult]:
        """The positive controls that no check FAILed: bugs this design cannot detect."""
        return [c for c in self.controls if not c.caught]

    @property
    def failed(self) -> bool:
        """A check FAILed, or a positive control was not caught (the run cannot vouch
        for the simulator under test); either exits 1."""
        return (any(c.verdict is Verdict.FAIL for c in self.checks)
                or bool(self.uncaught_controls))

    @property
    def verdict(self) -> Verdict:
        if self.failed:
            return Verdict.FAIL
        return _overall(self.checks)

    @property
    def verdict_reasons(self) -> list[str]:
        """Why the overall verdict is not PASS, one short sentence each (empty for PASS):
        the checks that FAILed (or, short of a FAIL, were WEAK) and the positive controls
        that were not caught."""
        failed = [f"check {c.id} FAIL" for c in self.checks if c.verdict is Verdict.FAIL]
        missed = [f"control {c.name} not caught: the design cannot detect it"
                  for c in self.uncaught_controls]
        if failed or missed:
            return failed + missed
        return [f"check {c.id} WEAK" for c in self.checks if c.verdict is Verdict.WEAK]
