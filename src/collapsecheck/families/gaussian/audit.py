r"""The Gaussian family's audit: recorded trajectories of the 1-D refit chain (a file from
any simulator, or measured chains) against exact theory.

The shared result types and grading (:class:`~collapsecheck.audit.AuditCheck`,
:class:`~collapsecheck.audit.AuditResult`, :func:`~collapsecheck.audit.consistency_verdict`)
are :mod:`collapsecheck.audit`, which also serves every name here under its historical
path (``collapsecheck.audit.audit``, ``audit_chains``, ...).

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

Real logs as they come (the article's chain; other regimes need complete chains):

* one chain, or chains of different lengths, or chains that start at generation 1 or
  later (a NaN-padded :class:`~collapsecheck.families.gaussian.records.Trajectories`, as
  ``load(path, ragged=True)`` and :meth:`Trajectories.from_ragged` give). Without
  ``sigma0`` each chain is judged from its first recorded generation on (its start);
  with ``sigma0`` (and ``mu0``) generation 0 is that known start and the unrecorded
  generations before the first recorded one are skipped over.
* The per-generation increments are i.i.d. under H0, so the pooled-increment checks
  (``increment_gof``, ``n_eff``, ``increment_drift``, ``mean_increment_gof``) use every
  recorded one-generation step of every chain; the final-generation check uses the
  chains that reach the last generation; the panel checks (the cluster-robust drift
  regression, collapse, independence) the chains recorded at every generation. What
  cannot run is named in ``skipped`` with the reason.
* ``audit.n_eff`` is a formal check: the pooled sample variance :math:`s^2` of the N
  increments against :math:`\psi'((n-1)/2)`, with its exact finite-N variance
  :math:`\kappa_4/N + 2\kappa_2^2/(N-1)` and third cumulant (:math:`\kappa_j =
  \psi^{(j-1)}((n-1)/2)`), p-value from the Pearson III law with those moments
  (:class:`~collapsecheck.families.gaussian.checks.theory.StepVariance`). Its detectable effect, and
  ``reach["n_relative_error_detectable"]``, is the smallest relative error in n it
  detects at power 0.9.
* ``rate["n_ddof_joint"]``: n from the step variance, then ddof from the mean step
  (:math:`E X = \psi(k) + \log 2 - \log(n - \mathrm{ddof})`), with delta-method
  standard errors that use the exact :math:`\operatorname{Cov}(\bar X, s^2) =
  \kappa_3/N`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import optimize, special
from scipy import stats as sps

from collapsecheck import stats
from collapsecheck.audit import AuditCheck, AuditResult, consistency_verdict
from collapsecheck.checks import Check
from collapsecheck.errors import InputError
from collapsecheck.families.gaussian.checks.collapse import (
    Collapse,
    DriftConsistency,
    regression_grid,
)
from collapsecheck.families.gaussian.checks.independence import ReplicateIndependence
from collapsecheck.families.gaussian.checks.theory import (
    MIN_INCREMENTS,
    IncrementDrift,
    IncrementGof,
    LogVarGof,
    MeanIncrementGof,
    StepVariance,
    pooled_steps,
    sample_variance_moments,
)
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.families.gaussian.records import Trajectories
from collapsecheck.families.gaussian.theory import StepLaw, log_sigma2_drift, log_sigma2_step_var
from collapsecheck.results import Verdict

__all__ = ["audit", "audit_chains", "n_ddof_joint", "n_from_step_variance"]


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


def _refuse_degenerate(data: Trajectories, source: str, steps: np.ndarray | None = None) -> None:
    """Refuse chains that no refit chain produces and no test can read: every chain
    constant, every step the same, or steps too large for double precision. They would
    otherwise reach the tests as a zero or infinite spread: NaN p-values and numerical
    warnings instead of one clear message (naming ``source``, the file, when given)."""
    where = f"{source}: " if source else ""
    with np.errstate(over="ignore", invalid="ignore"):
        steps = np.diff(data.log_var, axis=1) if steps is None else steps
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
    builders += [("n_eff", StepVariance), ("drift_consistency", DriftConsistency),
                 ("collapse", Collapse), ("replicate_independence", ReplicateIndependence)]
    for name, cls in builders:
        try:
            out.append(cls(id=f"audit.{name}", **common))
        except ValueError as exc:
            skipped[name] = str(exc)
    return out, skipped


def audit(traj: Trajectories, *, n: int, ddof: float = 0.0, budget: float = 1e-3,
          weak_alpha: float = 0.01, source: str = "", regime: str = "replace",
          fresh_fraction: float | None = None, n_growth: float = 0.0,
          temperature: float = 1.0, truncate: float | None = None,
          sigma0: float | None = None, mu0: float | None = None) -> AuditResult:
    """Audit recorded chains as draws of the refit chain with sample size ``n`` and
    ``ddof``, under ``regime`` and its modifiers (DESIGN.md's definitions; the default is
    the article's chain). Regimes other than the article's are judged by the checks of
    :func:`collapsecheck.checks.regimes.audit_checks`.

    Under the article's chain the chains may be one, ragged (NaN-padded) or start late
    (module docstring); ``sigma0`` and ``mu0`` give the start (generation 0) of chains
    whose log begins later."""
    # validates n and ddof (and the shape) with the usual messages
    R, G = traj.log_var.shape
    e = Experiment(n=n, generations=max(G - 1, 0), replicates=R, ddof=ddof, seed=0,
                   regime=regime, fresh_fraction=fresh_fraction, n_growth=n_growth,
                   temperature=temperature, truncate=truncate)
    if not 0 < budget < 0.5:
        raise ValueError(f"`--budget` must lie in (0, 0.5); got {budget}.")
    if G < 2:
        raise ValueError("the trajectories need at least generations 0 and 1 to audit.")
    ragged = bool(np.isnan(traj.log_var).any()) or int(traj.generations[0]) != 0
    if e.is_base and (ragged or R < 20 or sigma0 is not None):
        aligned, notes = _aligned(traj, sigma0, mu0)
        if not (np.isnan(aligned.log_var).any() or aligned.replicates < 20):
            # complete chains of one length: the balanced-panel audit, from their start
            res = audit(aligned, n=n, ddof=ddof, budget=budget, weak_alpha=weak_alpha,
                        source=source)
            return replace(res, notes=tuple(notes) + res.notes,
                           spec=dict(res.spec, **_start_spec(traj, sigma0, mu0)))
        return _audit_pooled(aligned, notes, n=n, ddof=ddof, budget=budget,
                             weak_alpha=weak_alpha, source=source,
                             start=_start_spec(traj, sigma0, mu0))
    if ragged:
        raise InputError("chains of different lengths or starting after generation 0 are "
                         "audited only under the article's chain (--regime replace); give "
                         "every chain's generations 0..T for this regime.")
    data = _normalised(traj)
    T = G - 1
    if e.is_base:
        checks, skipped = _candidates(n, ddof, R, T, data.mean is not None)
    else:
        from collapsecheck.families.gaussian.checks.regimes import audit_checks

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
    if not e.is_base:
        return AuditResult(source, spec, tuple(results), rate, skipped)
    steps = pooled_steps(data)
    rate.update(_joint_rate(steps))
    reach = _reach(results, skipped, R, steps.size, R)
    return AuditResult(source, spec, tuple(results), rate, skipped, (), reach)


def _no_check_message(R: int, T: int, skipped: dict[str, str]) -> str:
    """Why nothing can be tested, in the file's terms (chains), not a check's options."""
    head = f"no check can run on {R} chain(s) x {T} generation(s)"
    if R < 20:
        pooled = skipped.get("n_eff", "")
        return (f"{head}: every check needs at least 20 chains, except those that pool the "
                f"increments of one or a few chains, which need enough increments "
                f"({pooled.rstrip('.') or f'at least {MIN_INCREMENTS}'}); record more "
                "generations or replicates.")
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
        verdict, reason = consistency_verdict(p, a, weak_alpha)
    return AuditCheck(check.id, check.statement(), check.test_name(), verdict,
                      outcome.statistic, p, a, reason,
                      check.detectable_effect(a, check.replicates), numbers, check.kind)


def _rate(data: Trajectories, n: int, ddof: float) -> dict:
    """The drift and n_eff of the data, without printing their numerics' warnings: what
    cannot be computed is NaN (null in JSON), and the checks' reasons say why."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _rate_numbers(data, n, ddof)


def _regime_rate(data: Trajectories, e: Experiment) -> dict:
    """The drift of log sigma^2 under a regime, against the exact value of what the
    regression estimates where the regime keeps the chain a random walk (null otherwise):
    the least-squares slope of the exact E[log sigma_t^2] over the same grid (under
    n-growth the steps' drifts differ, so it is not any one step's drift); n_eff belongs
    to the article's chain."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = _rate_numbers(data, e.n, e.ddof)
    out.pop("n_eff", None)
    if "log_sigma2_drift" in out:
        out["log_sigma2_drift"]["exact"] = _exact_regression_slope(e, data.generations[-1])
    return out


def _exact_regression_slope(e: Experiment, last: int) -> float | None:
    """OLS slope of the exact E[log(sigma_t^2/sigma_0^2)] on t over the regression grid,
    for random-walk regimes (replace with temperature or n-growth); None otherwise."""
    from collapsecheck.families.gaussian.checks.regimes import step_law_kind

    if step_law_kind(e) != "walk":
        return None
    grid = regression_grid(last)
    steps = np.array([StepLaw(e.n_at(t), e.ddof).drift for t in range(1, last + 1)])
    mean = np.concatenate([[0.0], np.cumsum(steps + 2 * math.log(e.temperature))])[grid]
    g = grid - grid.mean()
    return float(np.dot(g, mean - mean.mean()) / np.dot(g, g))


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


# ---------------------------------------------------------------------------------------
# Real logs as they come: one chain, ragged chains, late starts
# ---------------------------------------------------------------------------------------


def _start_spec(traj: Trajectories, sigma0: float | None, mu0: float | None) -> dict:
    out: dict[str, Any] = {"first_recorded_generation": int(traj.generations[0])}
    if sigma0 is not None:
        out["sigma0"] = sigma0
    if mu0 is not None:
        out["mu0"] = mu0
    return out


def _aligned(traj: Trajectories, sigma0: float | None,
             mu0: float | None) -> tuple[Trajectories, list[str]]:
    """Each chain on the scale of its start, on one grid of generations counted from it.

    With ``sigma0`` the start is generation 0 at (mu0, sigma0), where a chain does not
    record generation 0 itself; without it, each chain's first recorded generation (the
    chain is then judged from there on). Chains that record nothing are dropped."""
    if sigma0 is not None and not (math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"`--sigma0` must be a finite number > 0; got {sigma0}.")
    if mu0 is not None and not math.isfinite(mu0):
        raise ValueError(f"`--mu0` must be a finite number; got {mu0}.")
    gens = np.asarray(traj.generations, dtype=np.int64)
    if np.any(np.diff(gens) != 1):
        raise ValueError("the recorded generations must be consecutive (pad with NaN).")
    lv = np.asarray(traj.log_var, dtype=float)
    mean = None if traj.mean is None else np.asarray(traj.mean, dtype=float)
    keep = ~np.all(np.isnan(lv), axis=1)
    lv = lv[keep]
    mean = None if mean is None else mean[keep]
    R = lv.shape[0]
    notes = []
    if keep.size > R:
        notes.append(f"{keep.size - R} chain(s) record no generation and are left out")
    first = np.argmax(~np.isnan(lv), axis=1)  # index of each chain's first recorded value
    g_first = gens[first]
    if sigma0 is not None:
        # generation 0 is the known start: put it in front of the grid where needed
        lo = int(gens[0])
        pad = np.full((R, lo), np.nan)
        lv = np.concatenate([pad, lv], axis=1)
        if mean is not None:
            mean = np.concatenate([pad, mean], axis=1)
        late = np.isnan(lv[:, 0])
        lv[late, 0] = 2 * math.log(sigma0)
        if mean is not None:
            mean[late, 0] = (np.nan if mu0 is None
                              else (mu0 - traj.mean_origin) / traj.mean_scale)
        origin = np.zeros(R, dtype=np.int64)
        if late.any():
            notes.append(f"{int(late.sum())} chain(s) start after generation 0 (first recorded: "
                         f"generation {int(g_first[late].min())}"
                         + (f" to {int(g_first[late].max())}" if np.ptp(g_first[late]) else "")
                         + f"); generation 0 is taken as the given start sigma0 = {sigma0:g}"
                         + (f", mu0 = {mu0:g}" if mu0 is not None else
                            " (no --mu0: the means' first step is not used)")
                         + "; the law of later generations counts the unrecorded steps")
    else:
        origin = first
        if np.any(g_first > 0):
            notes.append("without --sigma0, each chain is judged from its first recorded "
                         f"generation on (generation {int(g_first.min())}"
                         + (f" to {int(g_first.max())}" if np.ptp(g_first) else "")
                         + "), which is taken as its start; give --sigma0 (and --mu0) to "
                         "judge it from the known generation 0")
    # left-align each chain at its origin
    cols = np.arange(lv.shape[1])
    take = np.minimum(origin[:, None] + cols[None, :], lv.shape[1] - 1)
    inside = origin[:, None] + cols[None, :] < lv.shape[1]
    lv = np.where(inside, np.take_along_axis(lv, take, axis=1), np.nan)
    if mean is not None:
        mean = np.where(inside, np.take_along_axis(mean, take, axis=1), np.nan)
    recorded = ~np.all(np.isnan(lv), axis=0)
    L = int(np.nonzero(recorded)[0].max()) + 1
    lv0 = lv[:, :1].copy()  # each chain's start, finite by construction
    lv = lv[:, :L] - lv0
    if mean is not None:
        mean = mean[:, :L]
        m0 = np.take_along_axis(mean, np.argmax(~np.isnan(mean), axis=1)[:, None], axis=1)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            mean = (mean - m0) * (traj.mean_scale * np.exp(-0.5 * lv0))
        if np.all(np.isnan(mean)) or np.any(np.isinf(mean)):
            mean = None
    lengths = np.sum(~np.isnan(lv), axis=1)
    if lengths.min() != lengths.max():
        notes.append(f"the chains differ in length ({int(lengths.min()) - 1} to "
                     f"{int(lengths.max()) - 1} generations after their start)")
    return Trajectories(np.arange(L), lv, mean), notes


def _audit_pooled(data: Trajectories, notes: list[str], *, n: int, ddof: float,
                  budget: float, weak_alpha: float, source: str, start: dict) -> AuditResult:
    """The audit of aligned chains that are not a balanced panel of >= 20 (one chain,
    ragged chains, late starts): each check on the part of the data it can use."""
    lv, mean = data.log_var, data.mean
    R, G = lv.shape
    L = G - 1
    ok = ~np.isnan(lv[:, :-1]) & ~np.isnan(lv[:, 1:])
    pairs = Trajectories(np.arange(2), np.stack([lv[:, :-1][ok], lv[:, 1:][ok]], axis=1),
                         None if mean is None else
                         np.stack([mean[:, :-1][ok], mean[:, 1:][ok]], axis=1))
    steps = pairs.log_var[:, 1] - pairs.log_var[:, 0]
    N = int(steps.size)
    if N:
        _refuse_degenerate(data, source, steps)
    at_end = ~np.isnan(lv[:, L])
    complete = ~np.isnan(lv).any(axis=1)
    K, RT = int(complete.sum()), int(at_end.sum())
    todo: list[tuple[str, type, dict, Trajectories]] = []
    skipped: dict[str, str] = {}
    if RT >= 20:
        final = Trajectories(np.array([0, L]), lv[at_end][:, [0, L]])
        todo.append(("log_var_gof", LogVarGof, dict(generations=L, replicates=RT), final))
    else:
        skipped["log_var_gof"] = (f"only {RT} chain(s) reach the last generation ({L} after "
                                  "the start); the law of the final generation needs >= 20")
    pooled = dict(generations=1, replicates=N)
    few = (f"{N} one-generation increments are recorded; the checks that pool them need at "
           f"least {MIN_INCREMENTS}")
    means_ok = 0 if pairs.mean is None else int(np.sum(~np.isnan(pairs.mean).any(axis=1)))
    if N >= MIN_INCREMENTS:
        # On pooled increments a wrong n shows mainly in the step variance: the pooled checks
        # run only where the n_eff check can (its three-moment law needs enough increments).
        try:
            StepVariance(id="audit.n_eff", n=n, ddof=ddof, **pooled)
        except ValueError as exc:
            few = (f"the pooled-increment checks run only with the n_eff check, which cannot "
                   f"run on these {N} increments: {str(exc).split(': ', 1)[-1]}")
            N_usable = 0
        else:
            N_usable = N
    else:
        N_usable = 0
    for name, cls in (("increment_gof", IncrementGof), ("mean_increment_gof", MeanIncrementGof),
                      ("n_eff", StepVariance)):
        if N_usable == 0:
            skipped[name] = few
        elif name == "mean_increment_gof" and means_ok < MIN_INCREMENTS:
            skipped[name] = ("the file records no mean" if mean is None else
                             f"{means_ok} increments of the mean are recorded (both ends and "
                             f"a known start); the check needs at least {MIN_INCREMENTS}")
        else:
            todo.append((name, cls, pooled, pairs))
    panel = Trajectories(np.arange(G), lv[complete], None if mean is None else mean[complete])
    why = (f"needs >= 20 chains recorded at every generation 0..{L} after the start (a "
           f"balanced panel); {K} are")
    for name, cls, need in (("drift_consistency", DriftConsistency, 20),
                            ("collapse", Collapse, 20),
                            ("replicate_independence", ReplicateIndependence, 200)):
        if K >= need:
            todo.append((name, cls, dict(generations=L, replicates=K), panel))
        else:
            skipped[name] = why.replace(">= 20", f">= {need}")
    if "drift_consistency" in skipped:
        if N_usable:
            todo.append(("increment_drift", IncrementDrift, pooled, pairs))
            skipped["drift_consistency"] += "; audit.increment_drift tests the drift instead"
        else:
            skipped["increment_drift"] = few
    checks, sims = [], []
    for name, cls, design, sim in todo:
        try:
            checks.append(cls(id=f"audit.{name}", n=n, ddof=ddof, **design))
            sims.append(sim)
        except ValueError as exc:
            skipped[name] = str(exc)
    if not checks:
        raise ValueError(_no_check_message(R, L, skipped))
    a = budget / len(checks)
    results = [_run_check(c, _fixed(sim), a, weak_alpha) for c, sim in zip(checks, sims,
                                                                           strict=True)]
    spec = {"n": n, "ddof": ddof, "replicates": R, "generations": L, "budget": budget,
            "weak_alpha": weak_alpha, **start}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        rate = _rate_numbers(panel, n, ddof) if K >= 20 else {}
        if "log_sigma2_drift" not in rate and N >= 2:
            d, se = float(steps.mean()), float(steps.std(ddof=1) / math.sqrt(N))
            rate["log_sigma2_drift"] = {"estimate": d, "ci95": [d - 1.96 * se, d + 1.96 * se],
                                        "se": se, "exact": log_sigma2_drift(n, ddof),
                                        "from": "pooled increments"}
        rate["n_eff"] = _pooled_n_eff(steps, n)
        rate.update(_joint_rate(steps))
    reach = _reach(results, skipped, R, N, RT)
    return AuditResult(source, spec, tuple(results), rate, skipped, tuple(notes), reach)


def _pooled_n_eff(steps: np.ndarray, n: int) -> dict:
    """n_eff from the pooled step variance, its 95% CI from the law of s^2 at n_eff."""
    N = steps.size
    if N < 3:
        return {"estimate": math.nan, "ci95": [math.nan, math.nan]}
    s2 = float(steps.var(ddof=1))
    est = n_from_step_variance(s2)
    lo = hi = math.nan
    if math.isfinite(est) and est > 1:
        k = (est - 1) / 2
        _, v, _ = sample_variance_moments(
            tuple(float(special.polygamma(j - 1, k)) for j in (2, 3, 4, 5, 6)), N)
        q = 1.959963984540054 * math.sqrt(v)
        hi = n_from_step_variance(s2 - q) if s2 > q else math.inf
        lo = n_from_step_variance(s2 + q)
    return {"estimate": est, "ci95": [lo, hi], "step_var": s2,
            "step_var_exact": log_sigma2_step_var(n), "increments": int(N),
            "from": "pooled increments"}


def n_ddof_joint(steps) -> dict:
    r"""n and ddof estimated jointly from i.i.d. increments of log sigma^2.

    The step variance fixes n (:math:`\psi'((\hat n-1)/2) = s^2`); the mean step then
    fixes ddof (:math:`\bar X = \psi(\hat k) + \log 2 - \log(\hat n - \widehat{\mathrm{ddof}})`).
    Standard errors by the delta method, with the exact moments at :math:`\hat n`:
    :math:`\operatorname{Var}\bar X = \kappa_2/N`, :math:`\operatorname{Var}s^2 =
    \kappa_4/N + 2\kappa_2^2/(N-1)`, :math:`\operatorname{Cov}(\bar X, s^2) = \kappa_3/N`.
    Returns ``{"n": {estimate, se, ci95}, "ddof": {...}, "correlation", "increments"}``
    (NaN where the step variance does not identify n)."""
    x = np.asarray(steps, dtype=float).ravel()
    N = x.size
    nan = {"estimate": math.nan, "se": math.nan, "ci95": [math.nan, math.nan]}
    out = {"n": dict(nan), "ddof": dict(nan), "correlation": math.nan, "increments": int(N)}
    if N < 3:
        return out
    s2, d = float(x.var(ddof=1)), float(x.mean())
    n_hat = n_from_step_variance(s2)
    if not (math.isfinite(n_hat) and n_hat > 1):
        out["n"]["estimate"] = n_hat
        return out
    k = (n_hat - 1) / 2
    kap = tuple(float(special.polygamma(j - 1, k)) for j in (2, 3, 4, 5, 6))
    _, var_s2, _ = sample_variance_moments(kap, N)
    var_d, cov = kap[0] / N, kap[1] / N
    dn_dv = 2 / float(special.polygamma(2, k))
    E = math.exp(float(special.digamma(k)) + math.log(2) - d)  # n - ddof
    ddof_hat = n_hat - E
    # ddof = n(v) - exp(psi(k(v)) + log 2 - d): d ddof/dv = n'(v) (1 - E psi'(k)/2),
    # d ddof/dd = E
    gv, gd = dn_dv * (1 - E * kap[0] / 2), E
    var_n = dn_dv**2 * var_s2
    var_dd = gv**2 * var_s2 + gd**2 * var_d + 2 * gv * gd * cov
    cov_nd = dn_dv * gv * var_s2 + dn_dv * gd * cov
    z = 1.959963984540054
    for key, est, var in (("n", n_hat, var_n), ("ddof", ddof_hat, var_dd)):
        se = math.sqrt(max(var, 0.0))
        out[key] = {"estimate": est, "se": se, "ci95": [est - z * se, est + z * se]}
    out["correlation"] = cov_nd / math.sqrt(var_n * var_dd) if var_n * var_dd > 0 else math.nan
    return out


def _joint_rate(steps: np.ndarray) -> dict:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return {"n_ddof_joint": n_ddof_joint(steps)}


def _reach(results, skipped: dict[str, str], chains: int, increments: int,
           final_chains: int) -> dict:
    """What these data can show: how much of them each kind of check used, what could not
    run and why, and the smallest relative error in n the n_eff check detects."""
    out: dict[str, Any] = {"chains": chains, "increments": increments,
                           "chains_at_last_generation": final_chains,
                           "skipped": dict(skipped)}
    found = [c for c in results if c.id == "audit.n_eff"]
    if found:
        eff = found[0].detectable_effect
        out["n_relative_error_detectable"] = eff.get("value")
        out["n_relative_error_detectable_at"] = {"alpha": found[0].alpha, "power": 0.9,
                                                 "below": eff.get("below"),
                                                 "above": eff.get("above")}
    else:
        out["n_relative_error_detectable"] = None
        out["n_relative_error_note"] = skipped.get("n_eff", "the n_eff check did not run")
    return out


def audit_chains(trajectories, *, n: int, ddof: float = 0.0, budget: float = 1e-3,
                 weak_alpha: float = 0.01, sigma0: float | None = None,
                 mu0: float | None = None, source: str = "") -> AuditResult:
    """Audit chains given as they come: a :class:`~collapsecheck.trajectories.Trajectories`
    (NaN-padded for ragged chains), a path to a trajectory file (read with
    ``load(path, ragged=True)``), or the std of each chain at generations 0, 1, ... as a
    2-D array (one row a chain) or a list of 1-D arrays of any lengths. Returns the
    :class:`AuditResult` of :func:`audit` under the article's chain."""
    import os

    from collapsecheck.families.gaussian.records import load

    if isinstance(trajectories, str | os.PathLike):
        source = source or str(trajectories)
        traj = load(trajectories, ragged=True)
    elif isinstance(trajectories, Trajectories):
        traj = trajectories
    elif isinstance(trajectories, np.ndarray | list | tuple):
        arr = trajectories
        if isinstance(arr, np.ndarray) and arr.ndim == 1:
            arr = [arr]
        traj = Trajectories.from_ragged(list(arr))
    else:
        raise TypeError("`trajectories` must be Trajectories, a path, or the std of each "
                        f"chain (an array or a list of arrays); got {type(trajectories).__name__}.")
    return audit(traj, n=n, ddof=ddof, budget=budget, weak_alpha=weak_alpha, source=source,
                 sigma0=sigma0, mu0=mu0)
