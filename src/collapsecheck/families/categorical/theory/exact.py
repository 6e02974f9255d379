r"""Exact expectations of the categorical chain's summaries from its count chains: the
shared engine of the replace, smoothing and mix regimes.

With :math:`X_{t,i}` the count of category i at generation t (:mod:`.chain`) and
:math:`q(x) = (x + a)/(n + A)` the refitted model:

* survivors :math:`S_t = \#\{i : X_{t,i} > 0\}`: :math:`E S_t = \sum_i s_i(t)`,
  :math:`s_i(t) = P(X_{t,i} > 0)`;
* its variance from pairs: :math:`E[S(S-1)] = 2\sum_{i<j}P(X_i > 0, X_j > 0)
  = 2\sum_{i<j}(s_i + s_j - s_{ij})`, where :math:`s_{ij}` is the survival probability of
  the merged pair, itself a count chain (lumpability, with :math:`p_{0,i} + p_{0,j}` and
  2a). Hence :math:`\mathrm{Var}\,S = ES - (ES)^2 + 2[(K-1)ES - \sum_{i<j}s_{ij}]`; the same
  identity holds for the lost count :math:`K - S` with loss probabilities, and the form
  whose mean is smaller is used (its rounding error is about K eps times that mean);
* entropy (nats) :math:`E H_t = \sum_i E[-q(X_{t,i})\log q(X_{t,i})]` (linearity);
* monomorphic: :math:`P(\exists i: X_{t,i} = n) = \sum_i P(X_{t,i} = n)` (disjoint events,
  K >= 2);
* the initial tail T (categories ranked beyond ``tail_rank``): survivors
  :math:`\sum_{i\in T}s_i(t)`, and P(all lost) = P(merged count of T is 0), the merged chain
  with :math:`p_{0,T}` and :math:`|T|a`;
* :math:`E p_{t,i}` and :math:`E p_{t,i}^2` (hence Gini-Simpson :math:`1 - \sum_i p_i^2` and
  the tail's mass) by their exact affine recursion: with :math:`r = n - m`,
  :math:`E[X \mid p] = m p_0 + r p`, :math:`E[X^2 \mid p] = m p_0(1-p_0) + r p(1-p) +
  (m p_0 + r p)^2`, :math:`p_t = (X + a)/(n + A)`; for pure refit it is the closed form
  :math:`E[1 - \sum p_t^2] = (1 - \sum p_0^2)(1 - 1/n)^t`.

Categories with equal :math:`p_0` share every computation (grouping), and when no token is
fresh (m = 0) all categories share one transition matrix, merged pairs included (up to
their smoothing 2a), so :math:`\sum_{i<j}s_{ij}(t) = W\cdot P^{t-1}1_{\{x>0\}}` with the
single vector :math:`W = \sum_{i<j}\mathrm{Bin}(\cdot; n, p_{0,i}+p_{0,j})`, built once
(each binomial summed over the window where it exceeds 1e-60 by the Chernoff bound, the
pairs in memory-bounded blocks): about 30 s for a Zipf start with K = 10^4, n = 1000. With
fresh draws each distinct p0 (and each distinct pair sum) needs a chain of its own. The work
is bounded by :data:`WORK_LIMIT` (multiply-adds); a quantity that would exceed it is None,
with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from collapsecheck.families.categorical.theory.chain import (
    CountChain,
    backward_chunks,
    backward_final,
    binomial_rows,
    log_binomial_rows,
    one_blas_thread,
)

__all__ = ["WORK_LIMIT", "ExactSeries", "exact_series", "moment_series"]

#: Largest number of multiply-adds (a few tens of seconds on one core) spent on one
#: quantity before it is reported as None with a note.
WORK_LIMIT = 6e10

#: Most pair sums held in memory at once (the pairs are taken in blocks of this size).
PAIR_BLOCK = 2_000_000

#: Columns of the backward vectors: 1{x = 0}, 1{x > 0}, 1{x = n}, -q log q.
LOST, SURV, MONO, ENT = range(4)


@dataclass(frozen=True)
class ExactSeries:
    """Exact values at generations ``t`` (1..T, or T alone); None where not computed, with
    the reason in ``reasons`` (keys as in ``predict``'s ``final``)."""

    generations: np.ndarray
    survivors_mean: np.ndarray | None
    survivors_var: np.ndarray | None
    entropy_mean: np.ndarray | None
    p_monomorphic: np.ndarray | None
    tail_survivors_mean: np.ndarray | None
    tail_p_all_lost: np.ndarray | None
    reasons: dict = field(default_factory=dict)  # key -> why it is None


def groups(values: np.ndarray, mask: np.ndarray | None = None):
    """Distinct values and how many categories (within ``mask``) hold each."""
    v, inverse = np.unique(values, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(v)).astype(float)
    if mask is None:
        return v, counts
    return v, np.bincount(inverse[mask], minlength=len(v)).astype(float)


def pair_sums(v: np.ndarray, c: np.ndarray):
    """Distinct sums p_i + p_j over unordered pairs i < j of categories, with the number of
    pairs giving each (values grouped in ``v`` with multiplicities ``c``)."""
    g = len(v)
    iu, ju = np.triu_indices(g, k=1)
    sums = np.concatenate([v[iu] + v[ju], 2 * v])
    mult = np.concatenate([c[iu] * c[ju], c * (c - 1) / 2])
    keep = mult > 0
    return sums[keep], mult[keep]


def pair_blocks(v: np.ndarray, c: np.ndarray, block: int = PAIR_BLOCK):
    """:func:`pair_sums` in blocks of at most about ``block`` sums (rows of the upper
    triangle of the grouped values at a time): memory bounded for any number of values."""
    g = len(v)
    rows = max(1, block // max(g, 1))
    for start in range(0, g, rows):
        i = np.arange(start, min(start + rows, g))
        ii, jj = np.broadcast_arrays(i[:, None], np.arange(g)[None, :])
        upper = jj >= ii
        ii, jj = ii[upper], jj[upper]
        mult = np.where(ii == jj, c[ii] * (c[ii] - 1) / 2, c[ii] * c[jj])
        keep = mult > 0
        yield v[ii[keep]] + v[jj[keep]], mult[keep]


def _pair_plan(n: int, sums: np.ndarray):
    """Sorted sums cut into chunks, each with the window of states (a, b) outside which
    every one of its binomials is below 1e-60 (:func:`_windows`)."""
    order = np.argsort(sums)
    step = max(1, int(4e6 // (n + 1)))
    plan = []
    for start in range(0, len(sums), step):
        idx = order[start:start + step]
        lo, hi = _windows(n, sums[idx[[0, -1]]])
        plan.append((idx, int(min(lo)), int(max(hi))))
    return plan


def pair_weight_work(n: int, sums: np.ndarray) -> float:
    """Multiply-adds of :func:`pair_weights` (about 20 per binomial term in the windows)."""
    return 20.0 * float(sum(len(idx) * (b - a + 1) for idx, a, b in _pair_plan(n, sums)))


def _windows(n: int, q: np.ndarray, log_tiny: float = -140.0):
    """For each q, the states j outside of which every Bin(j; n, q) < exp(log_tiny)
    (below 1e-60): the Chernoff bound Bin(j; n, q) <= exp(-n KL(j/n || q)), and KL(x || q)
    grows as q moves away from x, so a chunk's window is set by its smallest and largest
    q."""
    j = np.arange(n + 1, dtype=float)
    x = j / n
    q = np.clip(np.asarray(q, dtype=float), 0.0, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(x > 0, x * (np.log(x) - np.log(q)), 0.0) + np.where(
            x < 1, (1 - x) * (np.log1p(-x) - np.log1p(-q)), 0.0)
    kl = np.where(np.isnan(kl), np.inf, kl)
    inside = -n * kl >= log_tiny
    lo = np.argmax(inside, axis=1)
    hi = n - np.argmax(inside[:, ::-1], axis=1)
    return lo, hi


def pair_weights(n: int, sums: np.ndarray, mult: np.ndarray) -> np.ndarray:
    r""":math:`W(j) = \sum_{\text{pairs}} \mathrm{Bin}(j; n, p_i + p_j)`, summing each
    binomial only over its window where it exceeds 1e-60 (what is dropped is below 1e-50
    in total for 1e8 pairs: far below the rounding of W itself)."""
    W = np.zeros(n + 1)
    for idx, a, b in _pair_plan(n, sums):
        rows = log_binomial_rows(n, sums[idx], a, b)
        # Each row is a whole binomial law up to < 1e-57: scaling it to sum 1 removes any
        # common-mode rounding of its terms.
        W[a:b + 1] += (mult[idx] / rows.sum(axis=1)) @ rows
    return W


def _columns(chain: CountChain) -> np.ndarray:
    x = chain.states
    q = chain.model(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(q > 0, -q * np.log(q), 0.0)
    return np.stack([(x == 0) * 1.0, (x > 0) * 1.0, (x == chain.n) * 1.0, h], axis=1)


def _chain_work(n: int, generations: int, fresh: int, per_generation: bool) -> float:
    size = n + 1
    build = size * size * (n - fresh + 1) if fresh else 10.0 * size * size
    steps = max(generations - 1, 0)
    sweep = steps * size * size * 4
    if not per_generation:
        sweep = min(sweep, 2.0 * max(steps, 1).bit_length() * size**3 / 4.0)
    return build + sweep


def _sweep(chains, generations, per_generation):
    """Backward vectors of several chains in lockstep: yields (t-index slice, [V...])."""
    if not per_generation:
        yield slice(0, 1), [backward_final(P, F, generations)[None] for P, F in chains]
        return
    gens = [backward_chunks(P, F, generations) for P, F in chains]
    for blocks in zip(*gens, strict=True):
        t0 = blocks[0][0]
        yield slice(t0 - 1, t0 - 1 + len(blocks[0][1])), [b for _, b in blocks]


@one_blas_thread
def exact_series(p0: np.ndarray, n: int, generations: int, *, tail: np.ndarray | None = None,
                 fresh: int = 0, alpha: float = 0.0, per_generation: bool = False,
                 variance: bool = True, work_limit: float | None = None) -> ExactSeries:
    """Exact survivors (mean, variance), entropy, P(monomorphic) and tail survivors/P(all
    lost) of the chain with ``fresh`` fresh tokens and smoothing ``alpha``, at generations
    1..T (``per_generation``) or T alone (module notes). ``tail`` is a boolean mask of the
    tail's categories, or None. Requires ``generations >= 1``."""
    work_limit = WORK_LIMIT if work_limit is None else work_limit
    K = len(p0)
    base = CountChain(n, fresh, 0.0, alpha, K * alpha)
    v, c = groups(p0)
    tc = groups(p0, tail)[1] if tail is not None else np.zeros_like(c)
    n_out = generations if per_generation else 1
    tgrid = np.arange(1, generations + 1) if per_generation else np.array([generations])
    reasons: dict[str, str] = {}

    def out():
        return np.zeros(n_out)

    res = {k: out() for k in ("surv", "lost", "ent", "mono", "tail_surv", "tail_lost",
                              "pair_surv", "pair_lost")}
    # Jobs: chain -> readers (result key, column, weight vector on X_1's states). Chains
    # with equal parameters share one backward sweep (all of them without fresh draws or
    # smoothing: the merged chains of pairs and of the tail are then the same matrix).
    jobs: dict[CountChain, list] = {}

    def read(chain, key, column, weight):
        jobs.setdefault(chain, []).append((key, column, weight))

    def chain_for(p_fresh, size=1):
        return base.merged(p_fresh if fresh else 0.0, size)

    marginal = [(chain_for(float(x)), np.array([x])) for x in v] if fresh else [(base, v)]
    for chain, vals in marginal:
        B = binomial_rows(n, vals)
        idx = np.searchsorted(v, vals)
        w_all, w_tail = c[idx] @ B, tc[idx] @ B
        for key, col in (("surv", SURV), ("lost", LOST), ("ent", ENT), ("mono", MONO)):
            read(chain, key, col, w_all)
        if tail is not None:
            read(chain, "tail_surv", SURV, w_tail)
    if tail is not None:  # the whole tail lost: the merged chain of the tail
        mass = min(float(p0[tail].sum()), 1.0)
        read(chain_for(mass, int(tail.sum())), "tail_lost", LOST, binomial_rows(n, [mass])[0])
    work = len(jobs) * _chain_work(n, generations, fresh, per_generation)
    if work > work_limit:
        why = (f"the count chains need about {work:.1e} multiply-adds ({len(jobs)} chains: "
               f"one per distinct initial probability with fresh draws), above the limit "
               f"{work_limit:.0e}: not computed.")
        keys = ["survivors_mean", "survivors_sd", "entropy_mean", "p_monomorphic"]
        if tail is not None:
            keys += ["tail.survivors_mean", "tail.p_all_lost"]
        return ExactSeries(tgrid, None, None, None, None, None, None, dict.fromkeys(keys, why))
    var = None
    if variance:
        n_sums = len(v) * (len(v) + 1) // 2  # distinct pairs of values, at most
        if fresh:  # one merged chain per distinct pair sum
            cost = n_sums * _chain_work(n, generations, fresh, per_generation)
        else:  # one pair-weight vector W (windowed binomials), the chain shared
            cost = sum(pair_weight_work(n, np.minimum(x, 1.0)) for x, _ in pair_blocks(v, c))
        if work + cost > work_limit:
            reasons["survivors_sd"] = (
                f"{n_sums} pair sums p_i + p_j ({len(v)} distinct initial probabilities) "
                f"need about {cost:.1e} multiply-adds, above the limit {work_limit:.0e}: "
                "not computed.")
        else:
            var = True
            if fresh:
                sums, mult = pair_sums(v, c)
                sums = np.minimum(sums, 1.0)
                for x, k in zip(sums, mult, strict=True):
                    w = k * binomial_rows(n, [x])[0]
                    read(chain_for(float(x), 2), "pair_lost", LOST, w)
                    read(chain_for(float(x), 2), "pair_surv", SURV, w)
            else:
                W = sum(pair_weights(n, np.minimum(x, 1.0), k) for x, k in pair_blocks(v, c))
                read(chain_for(0, 2), "pair_lost", LOST, W)
                read(chain_for(0, 2), "pair_surv", SURV, W)
    for chain, readers in jobs.items():
        cols = sorted({col for _, col, _ in readers})
        F = _columns(chain)[:, cols]
        for sl, (V,) in _sweep([(chain.kernel(), F)], generations, per_generation):
            for key, col, w in readers:
                res[key][sl] += V[:, :, cols.index(col)] @ w
    tail_lost = res["tail_lost"] if tail is not None else None
    if var:
        var = np.empty(n_out)
        for i in range(n_out):
            es, el = res["surv"][i], res["lost"][i]
            if es <= el:  # E[S(S-1)] = 2[(K-1) ES - sum_{i<j} s_ij]
                var[i] = es - es * es + 2 * ((K - 1) * es - res["pair_surv"][i])
            else:  # E[L(L-1)] = 2 sum_{i<j} l_ij: the merged pair is lost iff both are
                var[i] = el - el * el + 2 * res["pair_lost"][i]
        var = np.maximum(var, 0.0)
    return ExactSeries(tgrid, res["surv"], var, res["ent"], res["mono"],
                       res["tail_surv"] if tail is not None else None, tail_lost,
                       reasons)


def moment_series(p0: np.ndarray, n: int, generations: int, *, fresh: int = 0,
                  alpha: float = 0.0, tail: np.ndarray | None = None,
                  per_generation: bool = False):
    r"""Exact :math:`E[1 - \sum_i p_{t,i}^2]` and the tail's :math:`E\sum_{i\in T}p_{t,i}` at
    generations 0..T (or T alone), by the affine moment recursion of the module notes
    (the closed form for pure refit). Returns (gini, tail_mass); tail_mass None without a
    tail."""
    K = len(p0)
    v, c = groups(p0)
    tc = groups(p0, tail)[1] if tail is not None else None
    r, A = n - fresh, K * alpha
    t_all = np.arange(generations + 1)
    if fresh == 0 and alpha == 0.0:  # closed form; E p_t = p_0 (a martingale)
        g0 = 1.0 - float(np.sum(p0 * p0))
        gini = g0 * np.power(1.0 - 1.0 / n, t_all.astype(float))
        mass = None if tail is None else np.full(generations + 1, float(p0[tail].sum()))
    else:
        mu, s = v.copy(), v * v
        gini = np.empty(generations + 1)
        mass = None if tail is None else np.empty(generations + 1)
        for t in t_all:
            if t > 0:
                ex = fresh * v + r * mu
                ex2 = (fresh * v * (1 - v) + r * (mu - s) + fresh**2 * v * v
                       + 2 * fresh * r * v * mu + r * r * s)
                mu, s = (ex + alpha) / (n + A), (ex2 + 2 * alpha * ex + alpha**2) / (n + A) ** 2
            gini[t] = float(c @ (mu - s))  # sum_i E p_i (1 - p_i) = 1 - sum_i E p_i^2
            if mass is not None:
                mass[t] = float(tc @ mu)
    if per_generation:
        return gini, mass
    return gini[-1:], None if mass is None else mass[-1:]
