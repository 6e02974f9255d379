r"""The count of one category (or of a merged set of categories) as a Markov chain on
{0, ..., n}: transition matrices, backward vectors and absorption/stationary solves.

Setting. Generation :math:`t \ge 1` draws n tokens: :math:`m` of them fresh from the
initial law :math:`p_0` (mix; m = 0 otherwise) and :math:`r = n - m` from the model
:math:`p_{t-1}`, and refits

.. math::

    p_{t,i} = \frac{X_{t,i} + a}{n + A}

(:math:`a = A = 0`: empirical frequencies; add-alpha smoothing: :math:`a = \alpha`,
:math:`A = K\alpha`). Given the past, the count of category i is
:math:`X_{t,i} = Y + Z` with independent :math:`Y \sim \mathrm{Bin}(m, p_{0,i})` and
:math:`Z \sim \mathrm{Bin}(r, (X_{t-1,i} + a)/(n + A))`: it depends on the past only through
:math:`X_{t-1,i}`, so it is a Markov chain on {0..n} whose transition matrix
:class:`CountChain` builds. Generation 1 draws from :math:`p_0` itself, so
:math:`X_{1,i} \sim \mathrm{Bin}(n, p_{0,i})` in every regime. The chain is the neutral
Wright-Fisher chain (with mutation/immigration when m > 0 or a > 0) [1]_.

**Lumpability.** For a set S of categories the merged count :math:`X_{t,S} = \sum_{i\in S}
X_{t,i}` satisfies the same law with :math:`p_{0,i} \to p_{0,S}` and :math:`a \to |S|a`
(multinomial counts of a union are binomial in the summed probability), so it is the same
kind of chain: :meth:`CountChain.merged`.

**Backward vectors.** For f on {0..n}, :math:`E[f(X_t) \mid X_1 = j] = (P^{t-1}f)(j)`, and
:math:`E f(X_t) = \sum_j \mathrm{Bin}(j; n, p_{0,i})(P^{t-1}f)(j)`: one backward sweep
serves every category sharing the matrix (all of them when m = 0). Every entry of
:math:`P`, of :math:`f \ge 0` and of the binomial law is nonnegative, so the products have
no cancellation and keep a componentwise relative accuracy of a few ulps per step:
the results are exact to double precision (no truncation, no series).

References
----------
.. [1] W. J. Ewens, *Mathematical Population Genetics I*, 2nd ed., Springer (2004),
       sections 1.4 and 3.3 (the Wright-Fisher model, absorption times).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.stats import binom

__all__ = [
    "CountChain",
    "backward_chunks",
    "backward_final",
    "binomial_rows",
    "log_binomial_rows",
    "one_blas_thread",
]

def one_blas_thread(func):
    """Run ``func`` with BLAS/OpenMP pools held to one thread
    (:func:`collapsecheck.engines._threads.one_thread_per_worker`): the products here are
    (n+1)-square matrices times a few columns, where library threads only contend with
    each other and with the engines' workers (measured: a 201 x 201 solve 400 times
    slower on a loaded two-core machine)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from collapsecheck.engines._threads import one_thread_per_worker

        with one_thread_per_worker():
            return func(*args, **kwargs)

    return wrapper


#: Generations per chunk of stored backward vectors (memory: CHUNK x (n+1) x columns).
CHUNK = 128


def binomial_rows(n: int, q) -> np.ndarray:
    """The Bin(n, q) probability mass on {0..n}, one row per value of ``q`` (scipy's
    binomial pmf, accurate to a few ulps even far in the tails)."""
    q = np.asarray(q, dtype=float).reshape(-1, 1)
    return binom.pmf(np.arange(n + 1)[None, :], n, q)


@functools.lru_cache(maxsize=8)
def log_comb(n: int) -> np.ndarray:
    """log C(n, j) for j = 0..n, each the correctly rounded log of the exact integer
    (``math.log`` of a Python int): no common offset such as the rounding of
    ``lgamma(n + 1)`` (about 7e-13 at n = 1000) biases a whole row."""
    out = np.array([math.log(math.comb(n, j)) for j in range(n + 1)])
    out.flags.writeable = False
    return out


def log_binomial_rows(n: int, q, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Columns ``lo..hi`` of the Bin(n, q) mass, one row per value of ``q``, by
    ``exp(log C(n,j) + j log q + (n-j) log(1-q))`` (:func:`log_comb`): relative error
    ~1e-13 per entry, about 7 times faster than :func:`binomial_rows`; used for the many
    merged pairs of the survivors' variance."""
    hi = n if hi is None else hi
    q = np.asarray(q, dtype=float).reshape(-1, 1)
    j = np.arange(lo, hi + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lq = np.where(j > 0, j * np.log(q), 0.0)
        lr = np.where(j < n, (n - j) * np.log1p(-q), 0.0)
    return np.exp(log_comb(n)[lo:hi + 1] + lq + lr)


@dataclass(frozen=True)
class CountChain:
    r"""One category's count chain (module notes): ``n`` tokens per generation, ``fresh``
    (m) of them from the initial law with probability ``p_fresh`` for this category, the
    others from the model :math:`(x + a)/(n + A)`."""

    n: int
    fresh: int = 0
    p_fresh: float = 0.0
    a: float = 0.0
    A: float = 0.0

    @property
    def states(self) -> np.ndarray:
        return np.arange(self.n + 1, dtype=float)

    def model(self, x) -> np.ndarray:
        """The model's probability of the category when its count is ``x``."""
        return (np.asarray(x, dtype=float) + self.a) / (self.n + self.A)

    def merged(self, p_fresh: float, size: int) -> CountChain:
        """The chain of a merged set of ``size`` categories (lumpability, module notes)."""
        return CountChain(self.n, self.fresh, p_fresh, self.a * size, self.A)

    def kernel(self) -> np.ndarray:
        """The (n+1) x (n+1) transition matrix (rows sum to 1)."""
        n, m = self.n, self.fresh
        r = n - m
        if self.fresh_draws_only:
            row = binomial_rows(n, [self.p_fresh])[0]
            return np.broadcast_to(row, (n + 1, n + 1)).copy()
        model_part = binomial_rows(r, np.minimum(self.model(self.states), 1.0))
        if m == 0:
            return model_part
        f = binomial_rows(m, [self.p_fresh])[0]
        # P[j, k] = sum_z Z[j, z] f[k - z]: Z times the (r+1) x (n+1) Toeplitz matrix of f.
        toeplitz = np.zeros((r + 1, n + 1))
        for z in range(r + 1):
            toeplitz[z, z:z + m + 1] = f
        return model_part @ toeplitz

    @property
    def fresh_draws_only(self) -> bool:
        return self.fresh == self.n

    def stay_at_zero(self) -> float:
        r"""P(X_t = 0 | X_{t-1} = 0) = (1 - p_fresh)^m (1 - a/(n+A))^r."""
        r = self.n - self.fresh
        return (1.0 - self.p_fresh) ** self.fresh * (1.0 - self.a / (self.n + self.A)) ** r

    def stationary(self) -> np.ndarray | None:
        """The stationary law on {0..n} when the chain is irreducible (m p_fresh > 0 with
        p_fresh < 1, or a > 0 with a < n + A, ...): the left null vector of P - I, by a
        dense solve with the normalisation replacing one equation; None when 0 is
        absorbing (no fresh draws, no smoothing)."""
        if self.stay_at_zero() >= 1.0:
            return None
        P = self.kernel()
        size = self.n + 1
        system = (P - np.eye(size)).T
        system[-1, :] = 1.0
        rhs = np.zeros(size)
        rhs[-1] = 1.0
        pi = np.linalg.solve(system, rhs)
        return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()


def _power_apply(P: np.ndarray, F: np.ndarray, power: int) -> np.ndarray:
    """P^power @ F by binary powering (all entries >= 0: no cancellation)."""
    out = F
    base = P
    while power:
        if power & 1:
            out = base @ out
        power >>= 1
        if power:
            base = base @ base
    return out


def backward_final(P: np.ndarray, F: np.ndarray, generations: int) -> np.ndarray:
    r""":math:`V_T = P^{T-1} F` (for T >= 1): the conditional expectations
    :math:`E[f(X_T) \mid X_1 = j]`, one column per function. Picks the cheaper of T - 1
    matrix-vector products or binary powering (about log2(T) matrix products)."""
    steps = generations - 1
    size = P.shape[0]
    iterate_cost = steps * size * size * F.shape[1]
    square_cost = 2.0 * max(steps, 1).bit_length() * size**3 / 4.0  # gemm ~4x a matvec
    if iterate_cost <= square_cost:
        V = F
        for _ in range(steps):
            V = P @ V
        return V
    return _power_apply(P, F, steps)


def backward_chunks(P: np.ndarray, F: np.ndarray, generations: int,
                    chunk: int = CHUNK) -> Iterator[tuple[int, np.ndarray]]:
    """Yields ``(t0, V)`` with ``V[s] = P^(t0 + s - 1) F`` for consecutive generations
    ``t0 + s`` (1 <= t <= generations), at most ``chunk`` at a time."""
    V = F
    t = 1
    while t <= generations:
        size = min(chunk, generations - t + 1)
        block = np.empty((size, *F.shape))
        for s in range(size):
            if t + s > 1:
                V = P @ V
            block[s] = V
        yield t, block
        t += size


def absorption_solve(P: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    r"""Solve :math:`(I - Q) u = h` on the transient states 1..n-1 (Q: P restricted to
    them), the first-step equations of absorbing chains [1]_: with h = 1, u(j) is the
    expected number of steps to absorption from j; with h(j) = P(absorbed at n | j) it is
    E[steps; absorbed at n]. Exact for the discrete chain (a dense LU solve)."""
    Q = P[1:-1, 1:-1]
    return np.linalg.solve(np.eye(Q.shape[0]) - Q, rhs)
