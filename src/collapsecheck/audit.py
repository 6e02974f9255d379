"""Audits of recorded chains: the shared result types and grading.

The data are fixed, so nothing can be re-run: a check's WEAK verdict stands (reported
with its reason, exit 0) and only FAIL exits 1. Each of the m checks gets a = budget/m
and FAILs when p < a, is WEAK when p < ``weak_alpha`` (:func:`consistency_verdict`,
:func:`graded_check`). Every family's audit returns an :class:`AuditResult` of
:class:`AuditCheck` entries (``audit.json``).

The audits themselves live with their family: the Gaussian chain's
(:func:`audit`, :func:`audit_chains`, :func:`n_from_step_variance`,
:func:`n_ddof_joint`) in :mod:`collapsecheck.families.gaussian.audit`, served here under
their historical names when first asked for (so importing this module loads no family);
the other families' in their ``audit`` module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from collapsecheck._alias import served_names
from collapsecheck.results import Verdict, grade

__all__ = [  # noqa: F822 - the Gaussian audit's names are served by __getattr__
    "AuditResult", "audit", "audit_chains", "n_ddof_joint", "n_from_step_variance"]


@dataclass(frozen=True)
class AuditCheck:
    id: str
    statement: str
    test: str
    verdict: Verdict
    statistic: float
    pvalue: float
    alpha: float
    reason: str
    detectable_effect: dict[str, Any]
    numbers: dict[str, Any] = field(default_factory=dict)
    #: "consistency" (a small p is a departure: PASS on a large p) or "confirmatory" (a
    #: small p confirms: PASS on a small p), as :mod:`collapsecheck.checks.base` defines
    #: them; for the human reports (audit.json is unchanged).
    kind: str = "consistency"

    def to_dict(self) -> dict:
        return {"id": self.id, "statement": self.statement, "test": self.test,
                "verdict": self.verdict.value, "statistic": self.statistic,
                "pvalue": self.pvalue, "alpha": self.alpha, "reason": self.reason,
                "detectable_effect": self.detectable_effect, "numbers": self.numbers}


@dataclass(frozen=True)
class AuditResult:
    source: str
    spec: dict[str, Any]
    checks: tuple[AuditCheck, ...]
    rate: dict[str, Any]
    skipped: dict[str, str]
    notes: tuple[str, ...] = ()
    reach: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        verdicts = {c.verdict for c in self.checks}
        for v in (Verdict.FAIL, Verdict.WEAK):
            if v in verdicts:
                return v
        return Verdict.PASS

    def to_dict(self) -> dict:
        return {"verdict": self.verdict.value, "source": self.source, "spec": self.spec,
                "checks": [c.to_dict() for c in self.checks], "rate": self.rate,
                "skipped": self.skipped, "notes": list(self.notes), "reach": self.reach}


def consistency_verdict(p: float, alpha: float, weak_alpha: float) -> tuple[Verdict, str]:
    """The verdict of a consistency test on fixed data and its reason: FAIL below
    ``alpha`` (the check's share of the budget), WEAK below ``weak_alpha`` (it stands:
    nothing can be re-run), else PASS."""
    verdict = grade(p, fail=alpha, weak=weak_alpha)
    reason = {
        Verdict.FAIL: f"p < {alpha:.3g}, this check's share of the budget",
        Verdict.WEAK: (f"p < weak_alpha = {weak_alpha:g}: unusual but not damning; fixed "
                       "data cannot be re-run, so it stands"),
        Verdict.PASS: "",
    }[verdict]
    return verdict, reason


def graded_check(check_id: str, statement: str, test: str, statistic: float, pvalue: float,
                 alpha: float, weak_alpha: float, effect: dict[str, Any],
                 numbers: dict[str, Any]) -> AuditCheck:
    """An :class:`AuditCheck` of a consistency test on fixed data, graded by
    :func:`consistency_verdict` (the model families' audits build theirs with it)."""
    verdict, reason = consistency_verdict(pvalue, alpha, weak_alpha)
    return AuditCheck(check_id, statement, test, verdict, float(statistic), float(pvalue),
                      alpha, reason, effect, numbers)


def _gaussian() -> ModuleType:
    """The Gaussian family's audit (imported when first asked for: it imports this
    module, and importing this one should load no family)."""
    import collapsecheck.families.gaussian.audit as gaussian

    return gaussian


#: The Gaussian audit's names at their historical path (``audit``, ``audit_chains``, ...:
#: :mod:`collapsecheck.families.gaussian.audit`).
__getattr__, __dir__ = served_names(globals(), _gaussian)
