r"""Recorded multivariate chains, how they were made, and their final-generation summary
beside theory (frozen dataclasses).

:func:`final_summary` follows :mod:`collapsecheck.summary`: means with ``se = s/sqrt(R)``
and a Student-t interval; spreads (``logdet_sd``, ``trace_sd``) with the delta-method
standard error from the sample fourth moment; quantiles of log det with the
distribution-free interval from order statistics. The trace is a raw moment of a
heavy-tailed quantity (its squared coefficient of variation grows like
:math:`(1 + 2/(n-1))^T`), so each raw-scale estimate carries ``clt_ok``: False where the
sample kurtosis makes the normal interval untrustworthy at this many replicates (the
guard :mod:`collapsecheck.summary` uses where no exact fourth moment is known). The
log-scale statistics are the reliable ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from collapsecheck.summary import (
    Estimate,
    QuantileEstimate,
    _empirical_clt_ok,
    _mean_estimate,
    _var_se,
)

__all__ = ["MVFinalSummary", "MVRun", "MVTrajectories", "check_simulated", "final_summary"]


@dataclass(frozen=True)
class MVTrajectories:
    r"""Chains of the multivariate refit process at the recorded generations.

    Attributes
    ----------
    generations : ndarray of int, shape (G,)
        The recorded generations (0 is the starting model).
    logdet : ndarray, shape (replicates, G)
        :math:`\log\det\Sigma_t`.
    log_trace : ndarray, shape (replicates, G)
        :math:`\log\operatorname{tr}\Sigma_t` (finite where the trace itself underflows).
    mu_sq_norm : ndarray, shape (replicates, G)
        :math:`\|\mu_t - \mu_0\|^2`.
    eigen_generations : ndarray of int, shape (Ge,)
        The generations at which the eigenvalues were recorded.
    log_eigenvalues : ndarray, shape (replicates, Ge, D)
        :math:`\log\lambda_i(\Sigma_t)`, largest first, computed to high relative accuracy
        from the factored covariance (never from the covariance itself).
    spec : dict
        The experiment's parameters.
    """

    generations: np.ndarray
    logdet: np.ndarray
    log_trace: np.ndarray
    mu_sq_norm: np.ndarray
    eigen_generations: np.ndarray
    log_eigenvalues: np.ndarray
    spec: dict

    @property
    def trace(self) -> np.ndarray:
        r""":math:`\operatorname{tr}\Sigma_t` (0 where it underflows; see ``log_trace``)."""
        with np.errstate(under="ignore", over="ignore"):
            return np.exp(self.log_trace)

    @property
    def replicates(self) -> int:
        return int(self.logdet.shape[0])

    @property
    def dim(self) -> int:
        return int(self.log_eigenvalues.shape[2])

    def column(self, generation: int) -> int:
        """Index of ``generation`` among the recorded ones (ValueError if not recorded)."""
        hit = np.flatnonzero(self.generations == generation)
        if hit.size == 0:
            raise ValueError(f"generation {generation} was not recorded.")
        return int(hit[0])


@dataclass(frozen=True)
class MVRun:
    """Trajectories with how they were made."""

    trajectories: MVTrajectories
    engine: str
    workers: int
    simulate_s: float


@dataclass(frozen=True)
class MVFinalSummary:
    """Simulation against theory at the final recorded generation (the ``final`` object of
    ``simulate --json`` for this family)."""

    replicates: int
    generation: int
    logdet_mean: Estimate
    logdet_sd: Estimate
    trace_mean: Estimate
    trace_sd: Estimate
    mu_sq_norm_mean: Estimate
    logdet_quantiles: dict[str, QuantileEstimate]

    def to_dict(self) -> dict:
        out = {name: getattr(self, name).to_dict()
               for name in ("logdet_mean", "logdet_sd", "trace_mean", "trace_sd",
                            "mu_sq_norm_mean")}
        out["logdet_quantiles"] = {k: v.to_dict() for k, v in self.logdet_quantiles.items()}
        return out


def _sd_estimate(x: np.ndarray, theory: float | None, clt_ok: bool = True) -> Estimate:
    """Sample SD and its delta-method standard error (R >= 4), as summary.py does."""
    R = x.size
    if R < 4:
        s = float(np.std(x, ddof=1)) if R > 1 else math.nan
        return Estimate(s, math.nan, (math.nan, math.nan), theory, clt_ok)
    s2, se2 = _var_se(x)
    s = math.sqrt(s2)
    se = se2 / (2 * s) if s > 0 else 0.0
    return Estimate(s, se, (s - 1.96 * se, s + 1.96 * se), theory, clt_ok)


def final_summary(records: MVTrajectories, theory_final) -> MVFinalSummary:
    """Compare the last recorded generation of ``records`` with the exact predictions.

    Parameters
    ----------
    records : MVTrajectories
    theory_final : MVPrediction or dict
        The prediction, or its ``final()`` dict (keys ``logdet_mean``, ``logdet_sd``,
        ``logdet_quantiles``, ``trace_mean``, ``trace_sd``, ``mu_sq_norm_mean`` and
        ``log_scale``); a None theory value gives an estimate without a z-score.

    Returns
    -------
    MVFinalSummary
        Every raw-scale statistic of the trace is computed in units of its exact mean
        (from ``log_scale``) and scaled back, so horizons where the trace underflows keep
        their z-scores.
    """
    th = theory_final.final() if hasattr(theory_final, "final") else dict(theory_final)
    ln = th.get("log_scale") or {}
    ld = records.logdet[:, -1]
    R = ld.size
    ldm = _mean_estimate(ld, th.get("logdet_mean"))
    lds = _sd_estimate(ld, th.get("logdet_sd"))
    ln_tm = ln.get("trace_mean")
    base = float(np.mean(records.log_trace[:, -1])) if ln_tm is None else ln_tm
    with np.errstate(under="ignore", over="ignore"):
        tr = np.exp(records.log_trace[:, -1] - base)
    ok_mean = _empirical_clt_ok(tr)
    dev = tr - tr.mean()
    ok_sd = _empirical_clt_ok(dev * dev)
    th_tm, th_ts = th.get("trace_mean"), th.get("trace_sd")
    ln_ts = ln.get("trace_sd")
    tm = _mean_estimate(tr, None if ln_tm is None else 1.0, ok_mean).scaled(base, th_tm)
    ts_theory = None if ln_ts is None else math.exp(ln_ts - base)
    ts = _sd_estimate(tr, ts_theory, ok_sd).scaled(base, th_ts)
    mu = records.mu_sq_norm[:, -1]
    mum = _mean_estimate(mu, th.get("mu_sq_norm_mean"), _empirical_clt_ok(mu))
    quantiles = {}
    th_q = th.get("logdet_quantiles") or {}
    for key in ("0.025", "0.5", "0.975"):
        level = float(key)
        est = float(np.quantile(ld, level))
        if R >= 2:
            ci = stats.quantile_test(ld, q=est, p=level).confidence_interval(0.95)
            ci95 = (float(ci.low), float(ci.high))
        else:
            ci95 = (math.nan, math.nan)
        quantiles[key] = QuantileEstimate(level, est, ci95, th_q.get(key))
    return MVFinalSummary(R, int(records.generations[-1]), ldm, lds, tm, ts, mum, quantiles)


def check_simulated(records, experiment, record, name: str) -> MVTrajectories:
    """What a simulator under test returned for ``experiment`` (``validate --simulator``):
    :class:`MVTrajectories` with one row per replicate, ending at the horizon, finite log
    det and log trace, and, when ``record`` is a list of generations, finite log
    eigenvalues of every chain at exactly those generations (how many per chain is the
    checks' to judge); otherwise an InputError naming the problem."""
    from collapsecheck.errors import InputError

    if not isinstance(records, MVTrajectories):
        raise InputError(f"the simulator {name!r} returned {type(records).__name__}; for the "
                         "mvgaussian family it must return collapsecheck.families.mvgaussian."
                         "records.MVTrajectories.")
    if records.replicates != experiment.replicates or \
            int(np.asarray(records.generations)[-1]) != experiment.generations:
        raise InputError(f"the simulator {name!r} returned {records.replicates} chains up to "
                         f"generation {int(np.asarray(records.generations)[-1])}; expected "
                         f"{experiment.replicates} up to {experiment.generations}.")
    for column in ("logdet", "log_trace"):
        if not np.all(np.isfinite(getattr(records, column))):
            raise InputError(f"the simulator {name!r} returned non-finite `{column}` values.")
    if not isinstance(record, str):  # eigenvalues asked for at these generations
        want = [int(g) for g in record]
        got = np.asarray(records.log_eigenvalues)
        # the number of eigenvalues is the check's to judge (a chain with another number
        # is not D-dimensional: a FAIL, not malformed output)
        if np.asarray(records.eigen_generations).tolist() != want or got.ndim != 3 or \
                got.shape[:2] != (experiment.replicates, len(want)):
            raise InputError(
                f"the simulator {name!r} was asked for the log eigenvalues at generations "
                f"{want} (eigen_generations, log_eigenvalues of shape "
                f"({experiment.replicates}, {len(want)}, {experiment.dim})); it returned "
                f"eigen_generations {np.asarray(records.eigen_generations).tolist()} and "
                f"shape {got.shape}.")
        if not np.all(np.isfinite(got)):
            raise InputError(f"the simulator {name!r} returned non-finite `log_eigenvalues`.")
    return records
