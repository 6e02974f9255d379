r"""Exact theory of the categorical chain's other regimes, and where there is none.

**accumulate** (generation t >= 1 refits to all n t tokens drawn so far; pool counts
:math:`C_t = \sum_{s\le t}X_s`, :math:`p_t = C_t/(nt)`). A category absent from
generation 1 has probability 0 in every later model, and one present in generation 1
stays in the pool for ever, so the survivors (categories present in the data a model is
fitted to) are exactly those of generation 1 at every t >= 1:

.. math::

    E S_t = \sum_i [1 - (1 - p_i)^n],\qquad
    E[S(S-1)] = 2\sum_{i<j}[1 - (1-p_i)^n - (1-p_j)^n + (1 - p_i - p_j)^n],

and likewise P(monomorphic) = :math:`\sum_i p_i^n`, the tail's survivors and
P(all lost) = :math:`(1 - p_T)^n`. :math:`p_t` is a martingale
(:math:`E[p_{t+1} \mid \mathcal F_t] = (t p_t + p_t)/(t+1)`), so the tail's expected mass
is constant, and :math:`E[p_{t+1}^2 \mid \mathcal F_t] = p_t^2 + p_t(1-p_t)/(n(t+1)^2)`
gives

.. math::

    E\Big[1 - \sum_i p_{t,i}^2\Big] = \Big(1 - \sum_i p_{0,i}^2\Big)
        \prod_{s=1}^{t}\Big(1 - \frac{1}{n s^2}\Big)
    \;\xrightarrow[t\to\infty]{}\; \Big(1 - \sum_i p_{0,i}^2\Big)
        \frac{\sin(\pi/\sqrt n)}{\pi/\sqrt n}

(Euler's product for the sine). The expected entropy is not a function of one bounded
chain (the pool's state space grows with t): simulation only.

**Recurrence** (the article's A7, "once the tail disappears it cannot grow back"). Under
pure refit and accumulate a lost category never returns: 0 is absorbing. Under add-alpha
smoothing and mix it returns: from a count of 0 the next count is 0 with probability
:math:`\rho = (1 - p_{0,i})^m (1 - a/(n + A))^{n-m}` (:meth:`.chain.CountChain.stay_at_zero`),
so it stays absent a geometric number of generations, P(back within s generations)
:math:`= 1 - \rho^s`, mean absence :math:`1/(1-\rho)`; in the long run it is present a
fraction :math:`1 - \pi(0)` of the time (the stationary law of its count chain).

**Temperature and top-k** sample from a transform of the whole model (:math:`p^{1/\tau}`
renormalised; the k most probable categories renormalised), which couples the categories:
a category's count is no longer a Markov chain of its own, and no exact theory is given
beyond generation 1, where :math:`X_1 \sim \mathrm{Multinomial}(n, g(p_0))` with g the
transform, i.e. generation 1 of the pure chain started from :math:`g(p_0)`
(:func:`sampling_law`). Everything later is simulation only.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.families.categorical.theory.chain import CountChain, one_blas_thread
from collapsecheck.families.categorical.theory.exact import groups

__all__ = [
    "STATIONARY_MAX_WORK",
    "accumulate_gini_simpson_limit",
    "accumulate_gini_simpson_mean",
    "accumulate_p_monomorphic",
    "accumulate_survivors",
    "accumulate_tail",
    "recurrence",
    "sampling_law",
]

#: Largest total work (multiply-adds) of the stationary solves of :func:`recurrence`.
STATIONARY_MAX_WORK = 2e10


def accumulate_survivors(p0: np.ndarray, n: int) -> tuple[float, float]:
    """(E, Var) of the survivors at every generation t >= 1 under accumulate (those of
    generation 1; module notes), in closed form for any K."""
    v, c = groups(p0)

    def lost_and_present(q):  # (1 - q)^n and 1 - (1 - q)^n, each to full relative accuracy
        with np.errstate(divide="ignore"):
            log_lost = n * np.log1p(-np.minimum(q, 1.0))
        return np.exp(log_lost), -np.expm1(log_lost)

    lost, present = lost_and_present(v)
    es, el = float(c @ present), float(c @ lost)
    K = float(c.sum())
    # sum_{i<j} of (1 - p_i - p_j)^n and of its complement over grouped values, a block of
    # rows at a time (memory bounded for any number of distinct values).
    same_l, same_s = lost_and_present(2 * v)
    pair_lost = float(np.sum(c * (c - 1) / 2 * same_l))
    pair_surv = float(np.sum(c * (c - 1) / 2 * same_s))
    step = max(1, 2_000_000 // max(len(v), 1))
    for start in range(0, len(v), step):
        rows = slice(start, start + step)
        weight = c[rows, None] * c[None, :] * (
            np.arange(len(v))[None, :] > np.arange(len(v))[rows, None])
        bl, bs = lost_and_present(v[rows, None] + v[None, :])
        pair_lost += float(np.sum(weight * bl))
        pair_surv += float(np.sum(weight * bs))
    # Var S = Var L (L = K - S lost) = EL - (EL)^2 + 2 sum_{i<j} l_ij, or the same with
    # survivals, sum_{i<j} P(both present) = (K-1) ES - sum_{i<j} s_ij: the form with the
    # smaller mean rounds least.
    if el <= es:
        var = el - el * el + 2 * pair_lost
    else:
        var = es - es * es + 2 * ((K - 1) * es - pair_surv)
    return es, max(var, 0.0)


def accumulate_p_monomorphic(p0: np.ndarray, n: int) -> float:
    """P(the pool holds one category only) = sum_i p_i^n at every t >= 1."""
    return float(np.sum(p0**n))


def accumulate_tail(p0: np.ndarray, n: int, tail: np.ndarray) -> dict:
    """The tail's expected mass (constant), expected survivors and P(all lost) at every
    t >= 1 under accumulate."""
    q = p0[tail]
    return {"mass_mean": float(q.sum()), "survivors_mean": float(np.sum(1 - (1 - q) ** n)),
            "p_all_lost": float(max(1.0 - q.sum(), 0.0) ** n)}


def accumulate_gini_simpson_mean(p0: np.ndarray, n: int, t) -> np.ndarray:
    r""":math:`(1 - \sum p_0^2)\prod_{s=1}^t (1 - 1/(n s^2))` for each t in ``t``."""
    t = np.atleast_1d(np.asarray(t))
    s = np.arange(1, int(t.max()) + 1, dtype=float)
    logs = np.concatenate([[0.0], np.cumsum(np.log1p(-1.0 / (n * s * s)))]) if len(s) \
        else np.zeros(1)
    g0 = 1.0 - float(np.sum(p0 * p0))
    return g0 * np.exp(logs[t])


def accumulate_gini_simpson_limit(p0: np.ndarray, n: int) -> float:
    r"""The t -> infinity limit, :math:`(1 - \sum p_0^2)\sin(\pi/\sqrt n)/(\pi/\sqrt n)`."""
    x = math.pi / math.sqrt(n)
    return (1.0 - float(np.sum(p0 * p0))) * math.sin(x) / x


def _present(chain: CountChain) -> float:
    """1 - pi(0) of an irreducible chain; 0 when 0 is absorbing from the start."""
    pi = chain.stationary()
    return 0.0 if pi is None else float(1.0 - pi[0])


def sampling_law(p: np.ndarray, temperature: float = 1.0, top_k: int | None = None):
    """The law the model samples from: :math:`p^{1/\\tau}` renormalised, then the ``top_k``
    most probable kept and renormalised. Returns (law, exact) with ``exact`` False when
    top-k must break a tie at its boundary (the kept set then depends on the engine's
    tie-breaking)."""
    q = np.where(p > 0, p, 0.0)
    if temperature != 1.0:
        with np.errstate(divide="ignore"):
            lq = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)) / temperature, -np.inf)
        q = np.exp(lq - lq.max())
    exact = True
    if top_k is not None and top_k < np.count_nonzero(q):
        order = np.argsort(-q, kind="stable")
        exact = bool(q[order[top_k - 1]] > q[order[top_k]])
        keep = np.zeros_like(q)
        keep[order[:top_k]] = q[order[:top_k]]
        q = keep
    return q / q.sum(), exact


@one_blas_thread
def recurrence(p0: np.ndarray, n: int, *, fresh: int = 0, alpha: float = 0.0,
               tail: np.ndarray | None = None, max_work: float = STATIONARY_MAX_WORK) -> dict:
    r"""How a lost category comes back (module notes), for the rarest category, the whole
    tail (merged chain) and all categories in the long run.

    Returns
    -------
    dict
        ``returns`` (bool: False under pure refit, where 0 is absorbing);
        ``rarest`` and ``tail``: ``{"p0", "p_back_next_generation" (1 - rho),
        "mean_generations_absent" (1/(1 - rho); None when it never returns),
        "stationary_p_present" (1 - pi(0), or None)}``; ``stationary_survivors_mean``
        (sum over categories of 1 - pi_i(0)), None when not computed; ``notes``.
    """
    K = len(p0)
    base = CountChain(n, fresh, 0.0, alpha, K * alpha)
    notes = []
    cost_one = (n + 1) ** 3 / 3.0 + (n + 1) ** 2 * (n - fresh + 1 if fresh else 10)

    def one(p, size):
        chain = base.merged(p if fresh else 0.0, size)
        rho = chain.stay_at_zero()
        out = {"p0": p, "p_back_next_generation": 1.0 - rho,
               "mean_generations_absent": None if rho >= 1 else 1.0 / (1.0 - rho),
               "stationary_p_present": None}
        if rho < 1 and cost_one <= max_work:
            out["stationary_p_present"] = float(1.0 - chain.stationary()[0])
        return out

    positive = p0[p0 > 0]
    res = {"returns": base.stay_at_zero() < 1 or bool(fresh and positive.min() < 1),
           "rarest": one(float(p0.min()), 1),
           "tail": None if tail is None else one(float(p0[tail].sum()), int(tail.sum())),
           "stationary_survivors_mean": None, "notes": notes}
    v, c = groups(p0)
    chains = [base.merged(float(x), 1) for x in v] if fresh else [base]
    if not res["returns"]:
        res["stationary_survivors_mean"] = None
        notes.append("recurrence: a lost category never returns (0 is absorbing); in the "
                     "long run one category holds everything.")
    elif len(chains) * cost_one > max_work:
        notes.append(f"stationary_survivors_mean: {len(chains)} stationary solves of size "
                     f"{n + 1} exceed the work limit {max_work:.0e}: not computed.")
    else:
        present = np.array([_present(ch) for ch in chains])
        res["stationary_survivors_mean"] = float(c @ present) if fresh else \
            float(c.sum() * present[0])
    return res


@one_blas_thread
def two_category_temperature(p0: np.ndarray, n: int, generations: int, temperature: float,
                             tail: np.ndarray | None = None,
                             per_generation: bool = False) -> dict:
    r"""Exact values for K = 2 at temperature :math:`\tau` (any regime-free replace chain):
    with two categories the count X of the first determines the model, and the sampling law
    :math:`g(x) = x^{1/\tau}/(x^{1/\tau} + (1-x)^{1/\tau})` depends on X alone, so X is a
    Markov chain, :math:`X_t \sim \mathrm{Bin}(n, g(X_{t-1}/n))`,
    :math:`X_1 \sim \mathrm{Bin}(n, g(p_{0,1}))`. Its forward law gives every summary:
    survivors :math:`1_{X>0} + 1_{X<n}`, entropy and Gini-Simpson of (X/n, 1 - X/n),
    monomorphic :math:`X \in \{0, n\}`, and the tail (the less probable category at rank 2).

    Returns the values at generations 1..T (or T), keyed as :func:`.prediction.predict`'s
    ``final`` (``tail.*`` only with ``tail``).
    """
    x = np.arange(n + 1) / n

    def g(q):
        with np.errstate(divide="ignore"):
            a = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)) / temperature, -np.inf)
            b = np.where(q < 1, np.log1p(-np.where(q < 1, q, 0.0)) / temperature, -np.inf)
        top = np.maximum(a, b)
        return np.exp(a - top) / (np.exp(a - top) + np.exp(b - top))

    from collapsecheck.families.categorical.theory.chain import binomial_rows

    P = binomial_rows(n, g(x))
    pi = binomial_rows(n, g(np.array([p0[0]])))[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where((x > 0) & (x < 1), -x * np.log(x) - (1 - x) * np.log1p(-x), 0.0)
    count = (x > 0) * 1.0 + (x < 1) * 1.0
    first_in_tail = tail is not None and bool(tail[0])
    q_tail = x if first_in_tail else 1 - x
    rows = []
    for t in range(1, generations + 1):
        if t > 1:
            pi = pi @ P
        if per_generation or t == generations:
            es = float(pi @ count)
            row = {"survivors_mean": es,
                   "survivors_sd": math.sqrt(max(float(pi @ count**2) - es * es, 0.0)),
                   "entropy_mean": float(pi @ h),
                   "gini_simpson_mean": float(pi @ (2 * x * (1 - x))),
                   "p_monomorphic": float(pi[0] + pi[n])}
            if tail is not None:
                row |= {"tail.mass_mean": float(pi @ q_tail),
                        "tail.survivors_mean": float(pi @ (q_tail > 0)),
                        "tail.p_all_lost": float(pi @ (q_tail == 0))}
            rows.append(row)
    return {k: np.array([r[k] for r in rows]) for k in rows[0]} if rows else {}
