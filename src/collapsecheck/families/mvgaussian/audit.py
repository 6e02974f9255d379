r"""Audit of recorded multivariate chains (log det and trace per generation) against the
exact theory of the multivariate Gaussian refit chain.

Log format (CSV, UTF-8): header ``replicate,generation,logdet`` and optionally ``trace``
(tr Sigma_t; with ``trace_ratio``, tr Sigma_t / tr Sigma_0 as some studies log it), one row
per recorded (replicate, generation), each pair once; generation 0 is the starting model,
and a log may start at generation 1 (then ``sigma0`` or the covariance file gives
generation 0, or each chain is judged from its first recorded generation on).

What the columns allow (each check at its Bonferroni share of ``budget``), all exact:

* ``logdet_increment_gof``: every step of log det between consecutive recorded
  generations, pooled over chains (i.i.d. under H0: a sum of D independent log-chi-square
  terms, :class:`~collapsecheck.families.mvgaussian.theory.LogDetLaw` at T = 1), against
  its exact CDF by a one-sample Kolmogorov-Smirnov test. One chain suffices.
* ``logdet_drift``: the mean step against the exact drift, z-test with the exact step
  variance (i.i.d. steps). The step variance gives the effective n: the n whose exact
  variance :math:`\sum_i \psi'((n - i)/2)` equals the pooled sample variance, with a CI
  from the exact fourth cumulant.
* ``trace_martingale`` (``trace``): :math:`\operatorname{tr}\Sigma_t /
  \operatorname{tr}\Sigma_{t-1} = \operatorname{tr}(WM) / (c \operatorname{tr} M)`,
  :math:`W \sim \mathrm{Wishart}(n-1, I)`, has conditional mean :math:`r = (n-1)/(n-d)` and
  a conditional variance between :math:`2(n-1)/(c^2 D)` and :math:`2(n-1)/c^2` whatever
  the shape M of the covariance, so the ratios minus r are martingale differences with
  bounded variance and their self-normalised sum is N(0, 1) in the limit (Hall and Heyde
  1980, Th. 3.2). The trace's raw moments are heavy-tailed; its step ratios are not.

Optional columns ``log_eig_1 .. log_eig_D`` (the log eigenvalues of :math:`\Sigma_t`,
largest first; all D or none) give the ordered log eigenvalues' rates over the second half
of the recorded generations beside the exact Lyapunov spectrum (``rate["lyapunov"]``).
They are reported, not graded: the rates are limits, and the mean step of
:math:`\log\lambda_i` approaches :math:`\gamma_i` slowly (at D = 3, n = 10 the largest
eigenvalue's first step exceeds :math:`\gamma_1` by 0.61 on average, its step at
generation 33 still by about 0.005), so a test of them on an arbitrary log would FAIL
correct chains once the log is long enough; the profile's ``mvgaussian_lyapunov`` check
tests them at designs where that bias is measured to be negligible. Their sum must be the
log det column (an identity; a log whose eigenvalues came from a plain covariance loses
the small ones at large condition numbers, which a note reports).

With ``regime="accumulate"`` (every generation refits to all draws so far,
:mod:`~collapsecheck.families.mvgaussian.accumulate`) the steps of log det are independent
but their law has no closed form here, so only ``trace_martingale`` runs (and the trace's
factors depend on n only through :math:`1/(t(nt - d))`, so it says little about n): the
ratio at generation t has the exact conditional mean
:math:`g_t` (t the log's own generation numbers, counted from the start) and conditional SD
at most :math:`s_t`; the differences divided by :math:`s_t` are martingale differences with
conditional variance in [1/D, 1], tested by the same self-normalised sum.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from collapsecheck import stats
from collapsecheck.audit import graded_check
from collapsecheck.errors import InputError

__all__ = ["audit_mv", "load"]

#: Fewest steps a check reads.
MIN_STEPS = 30
_POWER = 0.9
_COLUMNS = ("logdet", "trace")


def _eig_names(dim: int | None) -> tuple[str, ...]:
    return tuple(f"log_eig_{i}" for i in range(1, (dim or 0) + 1))


def load(path, *, trace_ratio: bool = False, dim: int | None = None) -> dict:
    """Read a multivariate log strictly: ``{"generations", "logdet", "trace", "log_eig"}``
    with arrays shaped (replicates, generations), NaN where a chain records nothing
    (``trace`` None when the log has no trace column; with ``trace_ratio``, the column as
    given, a ratio to the initial trace). With ``dim``, the columns ``log_eig_1 ..
    log_eig_<dim>`` may be given (all or none, each row's largest first): ``log_eig`` is
    then shaped (replicates, generations, dim), else None."""
    from collapsecheck.csvlog import (
        _THIN,
        MAX_FILE_BYTES,
        _check_csv_values,
        _csv_line,
        _csv_table,
        _refuse_repeats,
        _require_csv_memory,
        csv_header_line,
    )
    from collapsecheck.resources import require_memory

    path = Path(path)
    if not path.is_file():
        raise InputError(f"multivariate log {str(path)!r} does not exist or is not a file.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"multivariate log {str(path)!r} is over {MAX_FILE_BYTES} bytes; "
                         "thin it (fewer generations or replicates) first.")
    with open(path, encoding="utf-8-sig", errors="strict", newline="") as fh:
        eig_names = _eig_names(dim)
        header, line = csv_header_line(path, fh, ("replicate", "generation", *_COLUMNS,
                                                  *eig_names),
                                       "replicate,generation,logdet,trace")
        given = [h for h in header if h in eig_names]
        if given and len(given) != len(eig_names):
            raise InputError(f"{path}: the header names {len(given)} of the {len(eig_names)} "
                             f"eigenvalue columns log_eig_1..log_eig_{dim}; give all or "
                             "none.")
        if "logdet" not in header or not {"replicate", "generation"} <= set(header):
            raise InputError(f"{path}: header {line!r} lacks replicate, generation or logdet; "
                             "expected replicate,generation,logdet or "
                             "replicate,generation,logdet,trace.")
        _require_csv_memory(path, len(header), 8.0)
        data = _csv_table(path, fh, header)
    col = {name: data[:, i] for i, name in enumerate(header)}
    _check_csv_values(path, col)
    rep, gen = col["replicate"], col["generation"]
    for name, values in (("replicate", rep), ("generation", gen)):
        bad = np.flatnonzero((values < 0) | (values != np.floor(values)))
        if bad.size:
            line_no, _ = _csv_line(path, int(bad[0]))
            raise InputError(f"{path}: line {line_no}: `{name}` must be a whole number >= 0.")
    if "trace" in col:
        bad = np.flatnonzero(~(col["trace"] > 0))
        if bad.size:
            line_no, _ = _csv_line(path, int(bad[0]))
            raise InputError(f"{path}: line {line_no}: `trace` must be > 0 (tr Sigma of a "
                             "covariance).")
    rep, gen = rep.astype(np.int64), gen.astype(np.int64)
    reps, idx = np.unique(rep, return_inverse=True)
    lo = int(gen.min())
    G = int(gen.max()) - lo + 1
    require_memory(8.0 * 8 * reps.size * G,
                   f"{path}: analysing its {reps.size} replicates x {G} generations", _THIN)
    flat = idx * G + (gen - lo)
    _refuse_repeats(path, flat, rep, gen)
    out = {"generations": np.arange(lo, lo + G), "trace_ratio": trace_ratio}
    for name in _COLUMNS:
        if name in col:
            grid = np.full(reps.size * G, np.nan)
            grid[flat] = col[name]
            out[name] = grid.reshape(reps.size, G)
        else:
            out[name] = None
    out["log_eig"] = None
    if eig_names and eig_names[0] in col:
        eig = np.column_stack([col[name] for name in eig_names])
        bad = np.flatnonzero(np.any(np.diff(eig, axis=1) > 0, axis=1))
        if bad.size:
            line_no, _ = _csv_line(path, int(bad[0]))
            raise InputError(f"{path}: line {line_no}: log_eig_1..log_eig_{dim} must be in "
                             "decreasing order (largest eigenvalue first).")
        grid = np.full((reps.size * G, eig.shape[1]), np.nan)
        grid[flat] = eig
        out["log_eig"] = grid.reshape(reps.size, G, eig.shape[1])
    return out


def _steps(gens: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Differences between consecutive recorded generations, every chain pooled."""
    consecutive = np.diff(gens) == 1
    d = (x[:, 1:] - x[:, :-1])[:, consecutive]
    return d[np.isfinite(d)]


def _step_var(n: float, dim: int) -> float:
    from scipy import special

    return float(np.sum(special.polygamma(1, (n - np.arange(1, dim + 1)) / 2.0)))


def _n_from_var(v: float, dim: int) -> float:
    """The real n > dim whose exact log det step variance is ``v`` (decreasing in n)."""
    from scipy import optimize

    lo, hi = dim + 1e-9, 1e12
    if not (v > 0 and math.isfinite(v)):
        return math.nan
    if _step_var(hi, dim) > v:
        return math.inf
    if _step_var(lo, dim) < v:
        return lo
    return float(optimize.brentq(lambda m: _step_var(m, dim) - v, lo, hi, rtol=1e-12))


#: The regimes the multivariate audit knows.
REGIMES = ("replace", "accumulate")


def audit_mv(log: dict, *, n: int, dim: int, ddof: float = 0.0, budget: float = 1e-3,
             weak_alpha: float = 0.01, start: tuple[float, float] | None = None,
             source: str = "", regime: str = "replace"):
    """Audit a multivariate log (:func:`load`) as chains of the D = ``dim`` chain with n
    draws per generation. ``start``: (log det Sigma_0, tr Sigma_0) for logs that start at
    generation 1. ``regime``: ``'replace'`` (each generation fits its n new draws) or
    ``'accumulate'`` (every draw so far; the trace alone is audited). Returns a
    :class:`collapsecheck.audit.AuditResult`."""
    from scipy import special
    from scipy import stats as sps

    from collapsecheck.audit import AuditResult
    from collapsecheck.families.mvgaussian.theory import (
        LogDetLaw,
        logdet_drift,
        logdet_step_var,
    )

    if not 0 < budget < 0.5:
        raise ValueError(f"`budget` must lie in (0, 0.5); got {budget}.")
    if not n > dim >= 1:
        raise ValueError(f"`n` must exceed `dim`; got n={n} with dim={dim}.")
    if regime not in REGIMES:
        raise ValueError(f"`regime` must be one of {', '.join(REGIMES)} for the mvgaussian "
                         f"audit; got {regime!r}.")
    accumulate = regime == "accumulate"
    gens, logdet, trace = log["generations"], log["logdet"], log["trace"]
    notes = []
    if gens[0] > 0 and start is not None:
        ld0, tr0 = start
        gens = np.concatenate([[0], gens])
        logdet = np.column_stack([np.full(logdet.shape[0], ld0), logdet])
        if trace is not None:
            t0 = 1.0 if log.get("trace_ratio") else tr0
            trace = np.column_stack([np.full(trace.shape[0], t0), trace])
        notes.append(f"the log starts at generation {int(gens[1])}; generation 0 is the "
                     "declared start (--sigma0 or --cov-file)")
    elif gens[0] > 0:
        notes.append(f"the log starts at generation {int(gens[0])}; each chain is judged from "
                     "its first recorded generation on")
    d = _steps(gens, logdet)
    candidates = ([] if accumulate else ["logdet_increment_gof", "logdet_drift"]) + (
        ["trace_martingale"] if trace is not None else [])
    skipped = {} if trace is not None else {"trace_martingale": "the log has no trace column"}
    alpha = budget / max(1, len(candidates))
    weak = max(weak_alpha / max(1, len(candidates)), alpha)
    checks, rate, reach = [], {}, {}
    if accumulate:
        for name in ("logdet_increment_gof", "logdet_drift"):
            skipped[name] = ("under accumulate a step of log det is log det((N_(t-1) - ddof) "
                             "I + W + (N_(t-1)/N_t) z z^T) - D log(N_t - ddof), independent of "
                             "the past but without a closed-form law here; the trace's "
                             "conditional mean and variance bound are exact")
    elif d.size < MIN_STEPS:
        for name in ("logdet_increment_gof", "logdet_drift"):
            skipped[name] = (f"only {d.size} steps of log det between consecutive recorded "
                             f"generations (at least {MIN_STEPS} needed)")
    else:
        law = LogDetLaw(n, 1, ddof, dim=dim)
        gof = stats.gof_exact(d, law.cdf)
        gap = stats.kolmogorov_detectable_gap(int(d.size), alpha, _POWER)
        checks.append(graded_check(
            "logdet_increment_gof",
            f"every step of log det Sigma follows its exact law (a sum of {dim} independent "
            f"log-chi-square terms, n={n}, ddof={ddof:g})",
            "one-sample Kolmogorov-Smirnov on the exact CDF of a step, every step pooled",
            gof.statistic, gof.pvalue, alpha, weak,
            {"metric": "sup |F_data - F_exact| of a step", "value": gap, "power": _POWER},
            {"steps": int(d.size)}))
        drift, var = logdet_drift(n, dim, ddof), logdet_step_var(n, dim)
        se = math.sqrt(var / d.size)
        z = stats.z_test(float(d.mean()), se, null=drift)
        zs = float(sps.norm.isf(alpha / 2) + sps.norm.isf(1 - _POWER))
        checks.append(graded_check(
            "logdet_drift",
            f"the mean step of log det Sigma equals its exact drift {drift:.6g}",
            "two-sided z-test of the mean step with the exact step variance (i.i.d. steps)",
            z.statistic, z.pvalue, alpha, weak,
            {"metric": "|mean step - exact drift|", "value": zs * se, "power": _POWER},
            {"estimate": float(d.mean()), "exact": drift, "se": se}))
        ci = z.confidence_interval()
        rate["logdet_drift"] = {"estimate": float(d.mean()), "ci95": [ci.low, ci.high],
                                "exact": drift}
        # effective n from the step variance; Var(s^2) = (kappa4 + 2 sigma^4)/N
        s2 = float(d.var(ddof=1))
        k4 = float(np.sum(special.polygamma(3, (n - np.arange(1, dim + 1)) / 2.0)))
        se_v = math.sqrt((k4 + 2 * var * var) / d.size)
        lo_v, hi_v = max(s2 - 1.959963984540054 * se_v, 1e-300), s2 + 1.959963984540054 * se_v
        rate["n_eff"] = {"estimate": _n_from_var(s2, dim),
                         "ci95": [_n_from_var(hi_v, dim), _n_from_var(lo_v, dim)]}
        dvdn = (_step_var(n * 1.001, dim) - _step_var(n * 0.999, dim)) / (0.002 * n)
        reach["n_relative_error_detectable"] = zs * se_v / abs(dvdn) / n
    if trace is not None and accumulate:
        _accumulate_trace(checks, skipped, gens, trace, n, dim, ddof, alpha, weak)
    elif trace is not None:
        r = (n - 1) / (n - ddof)
        consecutive = np.diff(gens) == 1
        ratio = (trace[:, 1:] / trace[:, :-1])[:, consecutive]
        u = ratio[np.isfinite(ratio)] - r
        if u.size < MIN_STEPS:
            skipped["trace_martingale"] = (f"only {u.size} steps of the trace between "
                                           f"consecutive recorded generations")
        else:
            z = stats.z_test(float(u.sum()) / float(np.sqrt(np.sum(u * u))), 1.0)
            c = n - ddof
            sd_max = math.sqrt(2 * (n - 1)) / c
            zs = float(sps.norm.isf(alpha / 2) + sps.norm.isf(1 - _POWER))
            checks.append(graded_check(
                "trace_martingale",
                f"tr Sigma_t / tr Sigma_(t-1) has conditional mean (n-1)/(n-ddof) = {r:.6g} at "
                "every step",
                "self-normalised martingale z-test of the step ratios minus their exact mean "
                "(martingale CLT; bounded conditional variance)",
                z.statistic, z.pvalue, alpha, weak,
                {"metric": "|mean step ratio - (n-1)/(n-ddof)| (bound from the largest "
                           "conditional SD)", "value": zs * sd_max / math.sqrt(u.size),
                 "power": _POWER},
                {"steps": int(u.size), "mean_ratio": float(u.mean() + r), "exact": r}))
    if log.get("log_eig") is not None and not accumulate:
        eig = log["log_eig"]
        if start is not None and gens.size > eig.shape[1]:  # generation 0 declared
            eig = np.concatenate([np.full((eig.shape[0], 1, eig.shape[2]), np.nan), eig],
                                 axis=1)
        _eigen_rates(rate, notes, gens, eig, logdet, n, dim, ddof)
    if not checks:
        raise InputError(f"{source + ': ' if source else ''}no check can run on this log: "
                         + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    spec = {"family": "mvgaussian", "n": n, "dim": dim, "ddof": ddof, "budget": budget,
            "chains": int(logdet.shape[0]), "generations": [int(gens[0]), int(gens[-1])],
            "regime": regime}
    return AuditResult(source=source, spec=spec, checks=tuple(checks), rate=rate,
                       skipped=skipped, notes=tuple(notes), reach=reach)


def _accumulate_trace(checks, skipped, gens, trace, n, dim, ddof, alpha, weak) -> None:
    """The accumulate regime's trace martingale (module docstring): the step ratios minus
    their exact conditional means g_t, divided by their conditional SD bound s_t."""
    from scipy import stats as sps

    from collapsecheck.families.mvgaussian.accumulate import ratio_scale, trace_factors

    consecutive = np.diff(gens) == 1
    t = gens[1:][consecutive]  # generation t (>= 1) of each ratio tr_t / tr_(t-1)
    g = trace_factors(int(gens[-1]), n, ddof)
    s = ratio_scale(int(gens[-1]), n, ddof)
    ratio = (trace[:, 1:] / trace[:, :-1])[:, consecutive]
    u = (ratio - g[t - 1]) / s[t - 1]
    u = u[np.isfinite(u)]
    if u.size < MIN_STEPS:
        skipped["trace_martingale"] = (f"only {u.size} steps of the trace between "
                                       f"consecutive recorded generations")
        return
    z = stats.z_test(float(u.sum()) / float(np.sqrt(np.sum(u * u))), 1.0)
    zs = float(sps.norm.isf(alpha / 2) + sps.norm.isf(1 - _POWER))
    checks.append(graded_check(
        "trace_martingale",
        "under accumulate, tr Sigma_t / tr Sigma_(t-1) has conditional mean g_t = 1 - "
        "n/(N_t (N_t - ddof)) (g_1 = (n-1)/(n-ddof)), N_t = n t, at every step",
        "self-normalised martingale z-test of the step ratios minus g_t, each divided by "
        "its conditional SD bound s_t (martingale CLT; conditional variance in [1/D, 1])",
        z.statistic, z.pvalue, alpha, weak,
        {"metric": "|mean of (step ratio - g_t)/s_t| (in units of each step's largest "
                   "conditional SD)", "value": zs / math.sqrt(u.size), "power": _POWER},
        {"steps": int(u.size), "mean_standardised": float(u.mean())}))


def _eigen_rates(rate, notes, gens, eig, logdet, n, dim, ddof) -> None:
    """``rate["lyapunov"]``: each ordered log eigenvalue's mean step over the second half
    of the recorded generations (per chain, from its value at the first recorded
    generation at or after the middle to its value at the last; chains lacking either are
    left out), a 95% CI, and the exact Lyapunov rates (limits)."""
    from scipy import special
    from scipy import stats as sps

    from collapsecheck.families.mvgaussian.theory import lyapunov_spectrum

    if eig.shape[2] != dim:
        return
    gap = np.nanmax(np.abs(np.sum(eig, axis=2) - logdet)) if np.any(
        np.isfinite(eig)) else math.nan
    if gap > 1e-6 * max(1.0, float(np.nanmax(np.abs(logdet)))):
        notes.append(f"the log eigenvalues' sum differs from log det by up to {gap:.3g} "
                     "(eigenvalues from a plain covariance lose the small ones at large "
                     "condition numbers)")
    # the window: from the middle of the recorded generations to the last
    ia = int(np.searchsorted(gens, (int(gens[0]) + int(gens[-1]) + 1) // 2))
    ib = gens.size - 1
    if ib <= ia:
        return
    steps = (eig[:, ib] - eig[:, ia]) / float(gens[ib] - gens[ia])
    steps = steps[np.all(np.isfinite(steps), axis=1)]
    if steps.shape[0] == 0:
        return
    exact = lyapunov_spectrum(n, dim, ddof)
    est = steps.mean(axis=0)
    if steps.shape[0] >= 2:
        se = steps.std(axis=0, ddof=1) / math.sqrt(steps.shape[0])
        how = f"from the spread of {steps.shape[0]} chains"
    else:  # one chain: the limit step variance psi'((n-i)/2) per generation
        k = (n - np.arange(1, dim + 1)) / 2.0
        se = np.sqrt(special.polygamma(1, k) / float(gens[ib] - gens[ia]))
        how = "from the limit step variance (one chain)"
    z = float(sps.norm.isf(0.025))
    rate["lyapunov"] = {
        "window": [int(gens[ia]), int(gens[ib])],
        "estimate": est.tolist(), "se": se.tolist(),
        "ci95": [[float(e - z * s), float(e + z * s)] for e, s in zip(est, se, strict=True)],
        "exact": exact.tolist(),
        "note": ("reported, not graded: the Lyapunov rates are limits and the mean step "
                 "approaches them slowly; SE " + how),
    }
