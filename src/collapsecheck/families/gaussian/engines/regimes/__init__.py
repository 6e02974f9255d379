r"""Engines for the regimes of the Gaussian refit chain (everything but the article's chain).

:func:`collapsecheck.families.gaussian.engines.simulate` runs an experiment with
``experiment.is_base`` on the base engines
(:mod:`collapsecheck.families.gaussian.engines.samples`, ``.sufficient``), unchanged, and
every other experiment here:

============================  ===========  =========================================
regime                        samples      sufficient
============================  ===========  =========================================
replace, mix, accumulate      yes          yes, with temperature and n-growth;
                                           refused with truncation
accumulate-subsample          yes          refused (needs the pool's values)
============================  ===========  =========================================

Refusals are a ``ValueError`` of one sentence naming why and suggesting
``--engine samples`` (:func:`engine_iv`). ``samples`` draws every value
(:mod:`.samples`); ``sufficient`` draws each batch's mean and sum of squares from their
exact law (:mod:`.sufficient`); both apply the same exact fit of each regime
(:mod:`._steps`), run per block of replicates with the block's own streams, and record
``(mean, log sigma^2)`` in standardised coordinates as the base engines do.

Before a run, :func:`overflow_iv` refuses chains that would overflow double precision
(a cheap conservative envelope of log sigma^2) and :func:`require_memory` refuses an
``accumulate-subsample`` run whose pools cannot fit in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import digamma, polygamma

from collapsecheck.families.gaussian.engines.regimes import samples, sufficient
from collapsecheck.families.gaussian.engines.regimes._steps import sufficient_unavailable
from collapsecheck.families.gaussian.parameters import n_schedule

__all__ = ["ENGINES", "block_task", "engine_iv", "overflow_iv", "per_draw", "preflight",
           "require_memory", "total_draws"]

ENGINES: dict[str, Callable] = {"samples": samples.run_block, "sufficient": sufficient.run_block}

#: Largest log sigma^2 a chain may reach (as for the base chain: 2 log(DBL_MAX) = 1419.6).
LOG_VAR_LIMIT = 1418.0


def engine_iv(experiment, engine: str) -> None:
    """Raise ValueError (one sentence) if ``engine`` cannot run ``experiment``."""
    if engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {sorted(ENGINES)}; got {engine!r}.")
    why = sufficient_unavailable(experiment) if engine == "sufficient" else None
    if why is not None:
        raise ValueError(why[0].upper() + why[1:])


def block_task(experiment, engine: str) -> Callable:
    """The block function of ``engine`` for ``experiment`` (after :func:`engine_iv`)."""
    engine_iv(experiment, engine)
    return ENGINES[engine]


def preflight(experiment, engine: str, workers: int = 1,
              chunk_elements: int = 1 << 14) -> None:
    """Every refusal :func:`~collapsecheck.families.gaussian.engines.simulate` would make for
    a regime experiment, before anything runs or is written: :func:`engine_iv`, :func:`overflow_iv`
    and :func:`require_memory` (with ``workers`` blocks at once)."""
    engine_iv(experiment, engine)
    overflow_iv(experiment)
    require_memory(experiment, engine, max(1, workers), chunk_elements)


def _n_vec(e, t: np.ndarray) -> np.ndarray:
    """``e.n_at`` for an array of generations, as floats."""
    return n_schedule(e.n, e.n_growth, t)


#: Generations up to which sums over t are taken term by term.
_EXACT_T = 1 << 20


def total_draws(e) -> float:
    r"""Model and fresh draws per replicate over the run, :math:`\sum_{t \le T} n_t`
    (exact up to :data:`_EXACT_T` generations, an upper bound beyond)."""
    T = e.generations
    if e.n_growth == 0:
        return float(e.n) * T
    if T <= _EXACT_T:
        return float(_n_vec(e, np.arange(1, T + 1)).sum())
    p = e.n_growth
    return T + e.n * (T ** (p + 1) / (p + 1) + T ** p)  # sum t^P <= int_1^T + T^P


def per_draw(experiment, engine: str) -> float:
    """Elementary draws per replicate and generation (the worker heuristic's work)."""
    e = experiment
    if e.generations == 0:
        return 1.0
    if engine == "sufficient":
        return 4.0 if e.regime == "mix" else 2.0
    draws = total_draws(e) / e.generations
    if e.regime == "accumulate-subsample":  # one key per pool value every generation
        draws *= (e.generations + 1) / 2
    return draws


def require_memory(experiment, engine: str, workers: int, chunk_elements: int) -> None:
    """Refuse (:class:`~collapsecheck.resources.ResourceError`) an ``accumulate-subsample``
    run whose pools (``rows x N_T`` float64 per block, ``workers`` blocks at once, plus
    the per-block key, index and subsample buffers) exceed the memory budget; the
    message says what would fit. Other regimes hold O(rows) per block: nothing to check."""
    from collapsecheck.engines._blocks import REPLICATE_BLOCK
    from collapsecheck.resources import fmt_bytes, memory_budget
    from collapsecheck.resources import require_memory as require

    e = experiment
    if e.regime != "accumulate-subsample" or engine != "samples" or e.generations == 0:
        return
    rows = min(REPLICATE_BLOCK, e.replicates)

    def need(pool: float, nproc: int) -> float:
        return nproc * 8.0 * (rows * pool + 4 * max(chunk_elements, pool))

    pool = total_draws(e)
    if need(pool, workers) <= memory_budget():
        return
    budget = memory_budget()
    # the longest horizon that fits with these workers (pools grow with t)
    fit_t = 0
    lo, hi = 0, e.generations
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if need(total_draws(e.replace(generations=mid)), workers) <= budget:
            lo = mid
        else:
            hi = mid - 1
    fit_t = lo
    fixes = []
    if fit_t >= 1:
        fixes.append(f"at most {fit_t} generations fit with {workers} worker(s)")
    else:
        fixes.append(f"not even one generation of n={e.n} fits")
    if workers > 1 and need(pool, 1) <= budget:
        fixes.append(f"all {e.generations} fit with workers=1 ({fmt_bytes(need(pool, 1))})")
    require(need(pool, workers),
            f"accumulate-subsample keeps every chain's pool of {pool:.4g} values "
            f"({rows} chains per block, {workers} block(s) at once), which",
            "; ".join(fixes) + ", or use a smaller `n` or `n_growth`")


def overflow_iv(experiment) -> None:
    r"""Refuse experiments whose chains could overflow double precision.

    A cheap envelope of :math:`\log\sigma_t^2` (relative to :math:`\log\sigma_0^2`): the
    largest over t of its mean plus 8 standard deviations, with per-generation step means
    and variances bounded from above. ``replace`` uses the exact untruncated step law
    (:math:`\log\tau^2 + E\log\chi^2_{n_t-1} - \log(n_t - d)`; truncation only narrows
    the draws), summed term by term for the first 4096 generations and over geometric
    blocks of generations beyond (each block's step mean bounded by the larger of its end
    values, its variance by the first). ``accumulate`` bounds each step of
    :math:`\log Q_t - \log(N_t - d)` by Jensen's inequality,
    :math:`\log(1 + \tau^2 y_t) - \log(1 + y_t)` with :math:`y_t = n_t/(N_{t-1} - d)`,
    and its variance by :math:`2\tau^4 y_t^2/n_t`. ``mix`` and ``accumulate-subsample``
    take the larger of these envelopes plus a margin (log 3, and 14 for the fresh draws'
    share): heuristics, with 8 standard deviations to spare."""
    e = experiment
    if e.generations == 0:
        top = 0.0
    elif e.regime == "replace":
        top = _replace_top(e)
    elif e.regime == "accumulate":
        top = _accumulate_top(e)
    else:
        top = max(_replace_top(e), _accumulate_top(e), 14.0) + math.log(3.0)
    top += 2 * math.log(e.sigma0)
    if top <= LOG_VAR_LIMIT:
        return
    mods = [f"temperature {e.temperature:g}"] + (
        [f"n_growth {e.n_growth:g}"] if e.n_growth else [])
    raise ValueError(
        f"with regime {e.regime!r}, n={e.n}, ddof={e.ddof:g} and {', '.join(mods)}, "
        f"log sigma^2 could reach about {top:.4g} within {e.generations} generations, "
        f"beyond the {LOG_VAR_LIMIT:g} that double precision holds; use fewer "
        "`generations`, a lower `temperature` or a smaller `sigma0` (the chain's law does "
        "not depend on the scale)."
    )


def _crude_ok(e, mean_step: float, var_step: float) -> bool:
    T = e.generations
    return (T * max(0.0, mean_step) + 8 * math.sqrt(T * var_step)
            + 2 * math.log(e.sigma0) + 20 <= LOG_VAR_LIMIT)


def _envelope(counts, means, variances) -> float:
    """max over the path of (mean + 8 SD), each block's steps at their bounds."""
    M = np.cumsum(counts * means)
    V = np.cumsum(counts * variances)
    M_prev = np.concatenate([[0.0], M[:-1]])
    return float(np.max(np.maximum(M_prev, M) + 8 * np.sqrt(V)))


def _replace_step(e, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = (n - 1) / 2
    mean = 2 * math.log(e.temperature) + digamma(k) + math.log(2.0) - np.log(n - e.ddof)
    return mean, polygamma(1, k)


def _replace_top(e) -> float:
    T = e.generations
    m1, v1 = _replace_step(e, np.array([float(e.n)]))
    lt2 = 2 * math.log(e.temperature)
    if _crude_ok(e, max(float(m1[0]), lt2 + max(0.0, math.log((e.n - 1) / (e.n - e.ddof)))),
                 float(v1[0])):
        return 0.0
    head = np.arange(1, min(T, 4096) + 1)
    if T > 4096:
        tail = np.unique(np.geomspace(4097, T, 20000).astype(np.int64))
        starts = np.concatenate([head, tail[tail > 4096]])
    else:
        starts = head
    ends = np.concatenate([starts[1:], [T + 1]])
    m_lo, v_lo = _replace_step(e, _n_vec(e, starts))
    m_hi, _ = _replace_step(e, _n_vec(e, ends - 1))
    return _envelope((ends - starts).astype(float), np.maximum(m_lo, m_hi), v_lo)


def _accumulate_top(e) -> float:
    T = e.generations
    tau2 = e.temperature ** 2
    m1, v1 = _replace_step(e, np.array([float(e.n)]))
    if _crude_ok(e, max(float(m1[0]), math.log(max(tau2, 1.0))), float(v1[0])):
        return 0.0
    t_max = min(T, _EXACT_T)
    t = np.arange(1, t_max + 1)
    n_t = _n_vec(e, t)
    N = np.cumsum(n_t)
    y = n_t[1:] / (N[:-1] - e.ddof)
    means = np.concatenate([m1, np.log1p(tau2 * y) - np.log1p(y)])
    variances = np.concatenate([v1, 2 * tau2 ** 2 * y ** 2 / n_t[1:]])
    top = _envelope(np.ones(t_max), means, variances)
    if T > t_max:  # steps <= (tau^2 - 1) y_t with y_t <= 1.01 (P + 1)/(t - 1) out here
        M = float(np.sum(means))
        V = float(np.sum(variances))
        rise = max(0.0, tau2 - 1) * 1.01 * (e.n_growth + 1) * math.log((T - 1) / (t_max - 1))
        top = max(top, M + rise + 8 * math.sqrt(V) + 1.0)
    return top
