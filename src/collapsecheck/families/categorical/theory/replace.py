r"""Exact theory of the categorical chain under pure refit (the replace regime), per
category and for the whole distribution.

Generation t >= 1 draws n tokens from :math:`p_{t-1}` and refits
:math:`p_t = X_t/n`. Each count is the neutral Wright-Fisher chain
:math:`X_{t,i} \mid X_{t-1,i} = j \sim \mathrm{Bin}(n, j/n)`, :math:`X_{1,i} \sim
\mathrm{Bin}(n, p_{0,i})` (:mod:`.chain`); 0 and n are absorbing, so a category not drawn
has probability 0 forever after. Everything here is exact at every t (backward vectors
of the chain, lumpability for pairs and for the tail; :mod:`.exact`), apart from the
functions named ``kimura_*``, which are the diffusion approximation and say so.

Closed forms: :math:`E p_{t,i} = p_{0,i}` (a martingale), so the fixation probability is
:math:`p_{0,i}` and the expected mass of any fixed set of categories is constant, and

.. math::

    E\Big[1 - \sum_i p_{t,i}^2\Big] = \Big(1 - \sum_i p_{0,i}^2\Big)(1 - 1/n)^t,

from :math:`E[p_t(1 - p_t) \mid p_{t-1}] = (1 - 1/n)\,p_{t-1}(1 - p_{t-1})` [1]_.

**Absorption times.** With Q the matrix on the transient states 1..n-1,
:math:`(I - Q)\tau = 1` gives the expected number of further generations to absorption,
and :math:`(I - Q)u = h`, :math:`h(j) = j/n`, gives :math:`u(j) = E[\text{steps};
\text{fixation}]` (first-step analysis of :math:`E[T 1_{\text{fix}}]`, since
:math:`P(\text{fix} \mid j) = j/n`). Counting generations from 0 (X_1 is drawn at generation
1), :math:`E[G] = 1 + \sum_j \mathrm{Bin}(j; n, p)\tau(j)`. Kimura's diffusion
approximation :math:`E[G] \approx -2n[p\log p + (1-p)\log(1-p)]` [2]_ is shown beside it,
labelled as such.

References
----------
.. [1] W. J. Ewens, *Mathematical Population Genetics I*, 2nd ed., Springer (2004), 1.4.
.. [2] M. Kimura and T. Ohta, "The average number of generations until fixation of a mutant
       gene in a finite population", *Genetics* 61 (1969) 763-771.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.families.categorical.theory.chain import (
    CountChain,
    absorption_solve,
    backward_final,
    binomial_rows,
    one_blas_thread,
)
from collapsecheck.families.categorical.theory.exact import (
    LOST,
    MONO,
    SURV,
    _columns,
    exact_series,
)

__all__ = [
    "ABSORPTION_MAX_N",
    "absorption_times",
    "entropy_mean",
    "fixation_probability",
    "gini_simpson_mean",
    "kimura_absorption_time",
    "kimura_generations_to_monomorphic",
    "loss_probability",
    "mean_generations_to_monomorphic",
    "p_monomorphic",
    "survival_probability",
    "survivors_moments",
    "tail_summary",
]

#: Largest n for the dense absorption solve (about n^3/3 multiply-adds).
ABSORPTION_MAX_N = 4000


def _n_iv(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"`n` must be an integer; got {n!r}.")
    if n < 1:
        raise ValueError(f"`n` must be at least 1; got {n!r}.")
    return int(n)


def _t_iv(t) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
        raise TypeError(f"`t` must be an integer; got {t!r}.")
    if t < 0:
        raise ValueError(f"`t` must be at least 0; got {t!r}.")
    return int(t)


def _p_iv(p) -> np.ndarray:
    try:
        arr = np.asarray(p, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`p` must be a probability or an array of them; got {p!r}.") from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError(f"`p` must lie in [0, 1]; got {p!r}.")
    return arr


@one_blas_thread
def _per_category(p, n, t, column):
    p, n, t = _p_iv(p), _n_iv(n), _t_iv(t)
    flat = p.reshape(-1)
    if t == 0:
        x0 = {LOST: flat == 0, SURV: flat > 0, MONO: flat == 1}[column] * 1.0
        return x0.reshape(p.shape)[()]
    chain = CountChain(n)
    V = backward_final(chain.kernel(), _columns(chain)[:, [column]], t)[:, 0]
    return (binomial_rows(n, flat) @ V).reshape(p.shape)[()]


def loss_probability(p, n: int, t: int):
    r"""P(a category of initial probability ``p`` is lost by generation ``t``):
    :math:`P(X_t = 0) = \sum_j \mathrm{Bin}(j; n, p)(P^{t-1}1_{\{0\}})(j)`, exact;
    vectorised over ``p``. Lost at t means lost for ever (0 is absorbing).

    Examples
    --------
    >>> from collapsecheck.families.categorical.theory import loss_probability
    >>> round(float(loss_probability(0.001, 1000, 1)), 6)  # (1 - p)^n at t = 1
    0.367695
    """
    return _per_category(p, n, t, LOST)


def survival_probability(p, n: int, t: int):
    """P(the category is still present at generation ``t``) = 1 - loss, computed directly
    (keeps its relative accuracy when it is tiny)."""
    return _per_category(p, n, t, SURV)


def fixation_probability(p, n: int, t: int):
    """P(the category holds all n tokens at generation ``t``) (fixed by t: n is
    absorbing); tends to ``p`` as t grows (martingale)."""
    return _per_category(p, n, t, MONO)


def gini_simpson_mean(p0, n: int, t: int) -> float:
    r""":math:`E[1 - \sum_i p_{t,i}^2] = (1 - \sum_i p_{0,i}^2)(1 - 1/n)^t` (module notes)."""
    p0, n, t = _p_iv(p0), _n_iv(n), _t_iv(t)
    return float((1.0 - np.sum(p0 * p0)) * math.pow(1.0 - 1.0 / n, t))


@one_blas_thread
def _final(p0, n, t, **kw):
    p0, n, t = _p_iv(p0), _n_iv(n), _t_iv(t)
    return exact_series(p0, n, t, **kw)


def entropy_mean(p0, n: int, t: int) -> float:
    r""":math:`E[-\sum_i p_{t,i}\log p_{t,i}]` in nats, by linearity over categories."""
    p0 = _p_iv(p0)
    if _t_iv(t) == 0:
        q = p0[p0 > 0]
        return float(-np.sum(q * np.log(q)))
    return float(_final(p0, n, t, variance=False).entropy_mean[0])


def p_monomorphic(p0, n: int, t: int) -> float:
    """P(one category holds all n tokens at generation ``t``) = sum_i P(X_{t,i} = n)
    (disjoint events for K >= 2)."""
    return float(np.sum(fixation_probability(p0, n, t)))


def survivors_moments(p0, n: int, t: int) -> tuple[float, float | None]:
    """(E, Var) of the number of categories present at generation ``t``; Var from the
    merged pairs (lumpability), None when the pair work exceeds the limit
    (:data:`.exact.WORK_LIMIT`)."""
    p0 = _p_iv(p0)
    if _t_iv(t) == 0:
        return float(np.sum(p0 > 0)), 0.0
    s = _final(p0, n, t)
    var = None if s.survivors_var is None else float(s.survivors_var[0])
    return float(s.survivors_mean[0]), var


def tail_summary(p0, n: int, t: int, rank: int) -> dict:
    """The initial tail (categories ranked beyond ``rank`` by p0, largest first): its
    expected mass (constant: a martingale), expected survivors and P(all of it lost)."""
    p0 = _p_iv(p0)
    tail = tail_mask(p0, rank)
    mass = float(p0[tail].sum())
    if _t_iv(t) == 0:
        return {"rank": rank, "mass_mean": mass, "survivors_mean": float(np.sum(p0[tail] > 0)),
                "p_all_lost": float(mass == 0)}
    s = _final(p0, n, t, tail=tail, variance=False)
    return {"rank": rank, "mass_mean": mass, "survivors_mean": float(s.tail_survivors_mean[0]),
            "p_all_lost": float(s.tail_p_all_lost[0])}


def tail_mask(p0: np.ndarray, rank: int) -> np.ndarray:
    """Categories ranked beyond ``rank`` by p0 (largest first; ties by index, which changes
    no expectation: categories with equal p0 are exchangeable)."""
    order = np.argsort(-p0, kind="stable")
    mask = np.zeros(len(p0), dtype=bool)
    mask[order[rank:]] = True
    return mask


@one_blas_thread
def absorption_times(p, n: int) -> dict:
    r"""Exact expected generations (counted from generation 0) until a category of initial
    probability ``p`` is absorbed, and until it is fixed or lost given that it is (module
    notes); arrays over ``p``.

    Returns
    -------
    dict
        ``absorption`` :math:`E[G]`, ``fixation`` :math:`E[G \mid \text{fixed}]`, ``loss``
        :math:`E[G \mid \text{lost}]` (nan where the condition has probability 0),
        ``p_fixation`` (= p).
    """
    p, n = _p_iv(p), _n_iv(n)
    if n > ABSORPTION_MAX_N:
        raise ValueError(f"`n` must be at most {ABSORPTION_MAX_N} for the dense absorption "
                         f"solve; got {n!r}.")
    B = binomial_rows(n, p.reshape(-1))
    if n == 1:
        tau = fix = np.zeros(0)
    else:
        P = CountChain(n).kernel()
        j = np.arange(1, n) / n
        sol = absorption_solve(P, np.stack([np.ones(n - 1), j], axis=1))
        tau, fix = sol[:, 0], sol[:, 1]
    inner = B[:, 1:-1]
    flat = p.reshape(-1)
    e_abs = 1.0 + inner @ tau
    e_fix = flat + inner @ fix  # E[G; fixed] = P(fixed) * 1 + E[further steps; fixed]
    e_loss = e_abs - e_fix
    with np.errstate(divide="ignore", invalid="ignore"):
        cond_fix = np.where(flat > 0, e_fix / flat, np.nan)
        cond_loss = np.where(flat < 1, e_loss / (1 - flat), np.nan)
    shape = p.shape
    return {"absorption": e_abs.reshape(shape)[()], "fixation": cond_fix.reshape(shape)[()],
            "loss": cond_loss.reshape(shape)[()], "p_fixation": p}


def mean_generations_to_monomorphic(p0, n: int) -> float:
    r"""Exact :math:`E[\min\{t : \text{one category holds all } n \text{ tokens}\}]`: exactly
    one category fixes, at the moment the distribution becomes monomorphic, so it is
    :math:`\sum_i E[G_i; i \text{ fixed}]` (0 when p0 is already a point mass)."""
    p0 = _p_iv(p0)
    if np.max(p0) >= 1.0:
        return 0.0
    v, c = np.unique(p0, return_counts=True)
    times = absorption_times(v, n)
    e_fix = np.where(v > 0, np.nan_to_num(times["fixation"]) * v, 0.0)
    return float(c @ e_fix)


def kimura_absorption_time(p, n: int):
    r"""Kimura's diffusion approximation (not exact) of the expected generations to
    absorption, :math:`-2n[p\log p + (1-p)\log(1-p)]` (haploid, effective size n) [2]_."""
    p, n = _p_iv(p), _n_iv(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0) + np.where(
            p < 1, (1 - p) * np.log1p(-np.where(p < 1, p, 0)), 0.0)
    return (-2.0 * n * h)[()]


def kimura_generations_to_monomorphic(p0, n: int) -> float:
    r"""The diffusion approximation (not exact) of :func:`mean_generations_to_monomorphic`:
    :math:`\sum_i p_i\,\bar t_{\text{fix}}(p_i) = -2n\sum_i (1-p_i)\log(1-p_i)`."""
    p0, n = _p_iv(p0), _n_iv(n)
    q = p0[p0 < 1]
    return float(-2.0 * n * np.sum((1 - q) * np.log1p(-q))) + 0.0  # no -0.0
