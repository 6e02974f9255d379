r"""Audit recorded trajectories (a file from any simulator, or measured chains) against
exact theory.

The data are fixed, so nothing can be re-run: a check's WEAK verdict stands (reported
with its reason, exit 0) and only FAIL exits 1. The same budget rule as ``validate``
applies, without a second stage: each of the m checks gets a = budget/m and FAILs when
p < a, is WEAK when p < ``weak_alpha``.

Data no refit chain produces and no test can read (every chain constant, every step the
same, steps beyond double precision) are refused with one message. The warnings a test's
numerics raise on odd but valid data never reach stderr: they are kept in the check's
``numbers["warnings"]`` and, when the test cannot be computed, name its WEAK reason.

Chains may start anywhere: each is mapped to start at (0, 1) by the location-scale
change :math:`\mu \mapsto (\mu - \mu_0)/\sigma_0`, :math:`\log\sigma^2 \mapsto
\log\sigma^2 - \log\sigma_0^2`, under which the refit chain's law is invariant.

``rate`` reports the drift of :math:`\log\sigma^2` (cluster-robust OLS, 95% CI) and the
effective sample size :math:`n_\mathrm{eff}`: the n whose exact step variance
:math:`\psi'((n-1)/2)` equals the measured variance of the increments (each chain's
sample variance of its increments, averaged, with a t interval over chains, mapped
through the monotone inverse). It does not depend on ddof.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.checks import Check
from collapsecheck.checks.collapse import Collapse, DriftConsistency, regression_grid
from collapsecheck.checks.independence import ReplicateIndependence
from collapsecheck.checks.theory import IncrementGof, LogVarGof, MeanIncrementGof
from collapsecheck.errors import InputError
from collapsecheck.experiment import Experiment
from collapsecheck.results import Verdict, grade
from collapsecheck.theory import log_sigma2_drift, log_sigma2_step_var
from collapsecheck.trajectories import Trajectories

__all__ = ["AuditResult", "audit", "n_from_step_variance"]


def n_from_step_variance(v: float) -> float:
    r"""The (real) n with :math:`\psi'((n-1)/2) = v`: the sample size whose exact step
    variance of :math:`\log\sigma^2` is v. NaN when v is not positive; beyond the bracket
    (v below :math:`\psi'(10^{15})`, or above :math:`\psi'(10^{-12})`) the limit, inf or 1."""
    if not (v > 0 and math.isfinite(v)):
        return math.nan
    f = lambda k: float(special.polygamma(1, k)) - v  # noqa: E731 - a one-line root target
    lo, hi = 1e-12, 1e15
    if f(hi) > 0:  # steps steadier than any representable n: n beyond 2e15
        return math.inf
    if f(lo) < 0:  # steps wilder than n -> 1 allows
        return 1.0
    k = optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500)
    return 1 + 2 * k


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
                "skipped": self.skipped}


def _normalised(traj: Trajectories) -> Trajectories:
    """Each chain mapped to start at (0, 1). Means that cannot be put on that scale in
    double precision (they overflow) are dropped; :func:`audit` says so."""
    lv0 = traj.log_var[:, :1]
    mean = None
    if traj.mean is not None:
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            mean = (traj.mean - traj.mean[:, :1]) * (traj.mean_scale * np.exp(-0.5 * lv0))
        if not np.all(np.isfinite(mean)):
            mean = None
    return Trajectories(traj.generations, traj.log_var - lv0, mean, traj.spec)


def _refuse_degenerate(data: Trajectories, source: str) -> None:
    """Refuse chains that no refit chain produces and no test can read: every chain
    constant, every step the same, or steps too large for double precision. They would
    otherwise reach the tests as a zero or infinite spread: NaN p-values and numerical
    warnings instead of one clear message (naming ``source``, the file, when given)."""
    where = f"{source}: " if source else ""
    with np.errstate(over="ignore", invalid="ignore"):
        steps = np.diff(data.log_var, axis=1)
        spread = float(np.std(steps))
    if not (np.all(np.isfinite(steps)) and math.isfinite(spread)):
        raise InputError(f"{where}the steps of log sigma^2 between generations are too large "
                         "for double precision: the file does not look like refit chains; "
                         "check that log_var holds the natural log of each fitted variance.")
    if spread > 0:
        return
    step = float(steps.flat[0])
    if step == 0:
        raise InputError(f"{where}every chain is constant (its std never changes from one "
                         "generation to the next): the file does not look like refit chains; "
                         "check that std (or log_var) holds the std fitted at each generation.")
    raise InputError(f"{where}every chain's log sigma^2 moves by the same {step:.6g} at every "
                     "generation: the file does not look like refit chains, whose steps are "
                     "random; check that std (or log_var) holds the std fitted at each "
                     "generation.")


def _fixed(traj: Trajectories):
    """A 'simulator' that hands back the recorded data (the seed is ignored)."""
    def run(experiment, record):
        return traj.select(record)

    return run


def _candidates(n: int, ddof: float, R: int, T: int, has_mean: bool) -> tuple[list, dict]:
    common = dict(n=n, generations=T, replicates=R, ddof=ddof)
    out, skipped = [], {}
    builders = [("log_var_gof", LogVarGof), ("increment_gof", IncrementGof)]
    if has_mean:
        builders.append(("mean_increment_gof", MeanIncrementGof))
    else:
        skipped["mean_increment_gof"] = "the file records no mean"
    builders += [("drift_consistency", DriftConsistency), ("collapse", Collapse),
                 ("replicate_independence", ReplicateIndependence)]
    for name, cls in builders:
        try:
            out.append(cls(id=f"audit.{name}", **common))
        except ValueError as exc:
            skipped[name] = str(exc)
    return out, skipped


def audit(traj: Trajectories, *, n: int, ddof: float = 0.0, budget: float = 1e-3,
          weak_alpha: float = 0.01, source: str = "", regime: str = "replace",
          fresh_fraction: float | None = None, n_growth: float = 0.0,
          temperature: float = 1.0, truncate: float | None = None) -> AuditResult:
    """Audit recorded chains as draws of the refit chain with sample size ``n`` and
    ``ddof``, under ``regime`` and its modifiers (DESIGN.md's definitions; the default is
    the article's chain). Regimes other than the article's are judged by the checks of
    :func:`collapsecheck.checks.regimes.audit_checks`."""
    # validates n and ddof (and the shape) with the usual messages
    R, G = traj.log_var.shape
    e = Experiment(n=n, generations=max(G - 1, 0), replicates=R, ddof=ddof, seed=0,
                   regime=regime, fresh_fraction=fresh_fraction, n_growth=n_growth,
                   temperature=temperature, truncate=truncate)
    if not 0 < budget < 0.5:
        raise ValueError(f"`--budget` must lie in (0, 0.5); got {budget}.")
    if G < 2:
        raise ValueError("the trajectories need at least generations 0 and 1 to audit.")
    data = _normalised(traj)
    T = G - 1
    if e.is_base:
        checks, skipped = _candidates(n, ddof, R, T, data.mean is not None)
    else:
        from collapsecheck.checks.regimes import audit_checks

        checks, skipped = audit_checks(e, data.mean is not None)
    if not checks:
        raise ValueError(_no_check_message(R, T, skipped))
    _refuse_degenerate(data, source)
    if traj.mean is not None and data.mean is None:
        skipped["mean_increment_gof"] = ("the means, measured from each chain's start in units "
                                         "of its starting std, overflow double precision")
    a = budget / max(1, len(checks))
    sim = _fixed(data)
    results = [_run_check(check, sim, a, weak_alpha) for check in checks]
    spec = {"n": n, "ddof": ddof, "replicates": R, "generations": T, "budget": budget,
            "weak_alpha": weak_alpha}
    if not e.is_base:
        spec.update(regime=regime, fresh_fraction=e.fresh_fraction, n_growth=e.n_growth,
                    temperature=e.temperature, truncate=e.truncate)
    rate = _rate(data, n, ddof) if e.is_base else _regime_rate(data, e)
    return AuditResult(source, spec, tuple(results), rate, skipped)


def _no_check_message(R: int, T: int, skipped: dict[str, str]) -> str:
    """Why nothing can be tested, in the file's terms (chains), not a check's options."""
    head = f"no check can run on {R} chain(s) x {T} generation(s)"
    if R < 20:
        return f"{head}: every check needs at least 20 chains; record more replicates."
    return f"{head} (first reason: {next(iter(skipped.values()), 'none')})."


def _run_check(check: Check, sim, a: float, weak_alpha: float) -> AuditCheck:
    """Run one check on the fixed data and judge it. The warnings its numerics raise (a
    spread of zero, an overflow in a far tail) are kept with its numbers, and name the
    reason when they leave the test without a p-value: they never reach stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = check.run(check.experiment(seed=0), sim)
    notes = list(dict.fromkeys(_first_line(w.message) for w in caught))
    return _judge(check, outcome, a, weak_alpha, notes)


def _first_line(message) -> str:
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__


def _judge(check: Check, outcome, a: float, weak_alpha: float,
           notes: list[str] | None = None) -> AuditCheck:
    """The verdict on one outcome; ``notes`` are the warnings the test raised."""
    p = outcome.pvalue
    numbers = dict(outcome.numbers, warnings=notes) if notes else outcome.numbers
    if math.isnan(p):
        verdict, reason = Verdict.WEAK, "the test could not be computed from these data"
        if notes:
            reason += f": {notes[0]}"
    elif check.kind == "confirmatory":
        level = check.confirm_level
        if p <= level:
            verdict, reason = Verdict.PASS, f"confirmed at level {level:g}"
        else:
            verdict, reason = Verdict.WEAK, (f"not confirmed at level {level:g} (p = {p:.3g}): "
                                             "too little data to show collapse")
    else:
        verdict = grade(p, fail=a, weak=weak_alpha)
        reason = {
            Verdict.FAIL: f"p < {a:.3g}, this check's share of the budget",
            Verdict.WEAK: (f"p < weak_alpha = {weak_alpha:g}: unusual but not damning; fixed "
                           "data cannot be re-run, so it stands"),
            Verdict.PASS: "",
        }[verdict]
    return AuditCheck(check.id, check.statement(), check.test_name(), verdict,
                      outcome.statistic, p, a, reason,
                      check.detectable_effect(a, check.replicates), numbers)


def _rate(data: Trajectories, n: int, ddof: float) -> dict:
    """The drift and n_eff of the data, without printing their numerics' warnings: what
    cannot be computed is NaN (null in JSON), and the checks' reasons say why."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _rate_numbers(data, n, ddof)


def _regime_rate(data: Trajectories, e: Experiment) -> dict:
    """The drift of log sigma^2 under a regime, against its exact value where the regime
    keeps the chain a random walk (null otherwise); n_eff belongs to the article's chain."""
    from collapsecheck.theory import predict

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = _rate_numbers(data, e.n, e.ddof)
    out.pop("n_eff", None)
    if "log_sigma2_drift" in out:
        out["log_sigma2_drift"]["exact"] = predict(e).log_sigma2_drift
    return out


def _rate_numbers(data: Trajectories, n: int, ddof: float) -> dict:
    grid = regression_grid(data.generations[-1])
    idx = np.searchsorted(data.generations, grid)
    out: dict[str, Any] = {}
    R = data.log_var.shape[0]
    if R >= 2 and grid.size >= 2:
        res = stats.drift_regression(grid, data.log_var[:, idx])
        ci = res.confidence_interval()
        half, half_ci = res.half_life()
        out["log_sigma2_drift"] = {"estimate": res.estimate, "ci95": [ci.low, ci.high],
                                   "se": res.se, "exact": log_sigma2_drift(n, ddof)}
        out["half_life_generations"] = {"estimate": half, "ci95": [half_ci.low, half_ci.high]}
    steps = np.diff(data.log_var, axis=1)
    if steps.shape[1] >= 2 and R >= 2:
        v = steps.var(axis=1, ddof=1)
        m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(R))
        q = float(sps.t.ppf(0.975, R - 1))
        lo, hi = m - q * se, m + q * se
        # n_eff decreases as the step variance grows
        out["n_eff"] = {"estimate": n_from_step_variance(m),
                        "ci95": [n_from_step_variance(hi), n_from_step_variance(lo)
                                 if lo > 0 else math.inf],
                        "step_var": m, "step_var_exact": log_sigma2_step_var(n)}
    return out
