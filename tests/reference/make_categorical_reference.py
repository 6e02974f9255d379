# Regenerate tests/reference/categorical_reference.json (from the repository root):
#
#     /work/main/.venv/bin/python tests/reference/make_categorical_reference.py
#
# (any Python with mpmath >= 1.3 and numpy; the test-suite only reads the JSON). Runtime: see
# the "runtime_seconds" field of the JSON.
"""Reference values for ``collapsecheck.families.categorical.theory``, by methods
independent of the package's.

The package propagates *backward* vectors ``P^{t-1} f`` in double precision and contracts
them with the binomial law of ``X_1``. Here the *forward* law of each count is propagated
instead, ``pi_t = pi_{t-1} P`` from ``pi_1 = Bin(n, p0)``, with transition matrices built
from scratch (mpmath binomials at ``DPS`` digits; mix kernels as explicit double sums), and
every summary is read off the forward laws:

* survivors, entropy (nats), P(monomorphic), the tail's survivors and Gini-Simpson
  (``E[q(1-q)]`` summed from the laws, not the package's moment recursion or closed form);
* Var(survivors) from the forward laws of merged pairs, P(all of the tail lost) from the
  forward law of the merged tail (lumpability itself is checked by full multinomial
  enumeration in the tests);
* accumulate: the pool count ``C_t`` on {0..n t} propagated forward (not the package's
  closed forms), with merged pairs;
* absorption times by mpmath's LU solve at ``DPS`` digits, stationary laws likewise.

Large cases (n = K = 1000, T = 1000, uniform and Zipf) are computed in double precision
by forward propagation with numpy (binomial rows from a log-gamma formula, no scipy),
for the summary of the uniform start and for selected categories and the merged tail of
the Zipf start.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import mpmath
import numpy as np
from mpmath import mp, mpf

DPS = 30
mp.dps = DPS
OUT = Path(__file__).with_name("categorical_reference.json")


def init(kind: str, K: int, s: float = 1.0):
    if kind == "uniform":
        return [mpf(1) / K] * K
    w = [mpf(i) ** (-mpf(s)) for i in range(1, K + 1)]
    tot = sum(w)
    return [x / tot for x in w]


def binom_row(n: int, q):
    q = mpf(q)
    return [mpmath.binomial(n, j) * q**j * (1 - q) ** (n - j) for j in range(n + 1)]


def kernel(n: int, m: int, p_fresh, a, A):
    """P[j][k] = P(Bin(m, p_fresh) + Bin(n - m, (j + a)/(n + A)) = k)."""
    r = n - m
    fresh = binom_row(m, p_fresh) if m else [mpf(1)]
    rows = []
    for j in range(n + 1):
        model = binom_row(r, (mpf(j) + a) / (n + A))
        row = [mpf(0)] * (n + 1)
        for y, fy in enumerate(fresh):
            for z, gz in enumerate(model):
                row[y + z] += fy * gz
        rows.append(row)
    return rows


def forward(pi, P, steps):
    n1 = len(pi)
    for _ in range(steps):
        pi = [mpmath.fsum(pi[j] * P[j][k] for j in range(n1)) for k in range(n1)]
    return pi


def law_at(n, m, p_fresh, a, A, p_init, T):
    """Law of the count at generation T >= 1 (X_1 ~ Bin(n, p_init))."""
    P = kernel(n, m, p_fresh, a, A)
    return forward(binom_row(n, p_init), P, T - 1)


def chain_case(kind, K, n, T, tail_rank, alpha=0.0, L=0.0):
    p0 = init(kind, K)
    a, A = mpf(alpha), K * mpf(alpha)
    m = round(L * n)
    order = sorted(range(K), key=lambda i: (-p0[i], i))
    tail = set(order[tail_rank:])
    laws = [law_at(n, m, p0[i], a, A, p0[i], T) for i in range(K)]

    def q(x):
        return (mpf(x) + a) / (n + A)

    surv = [1 - law[0] for law in laws]
    es = mpmath.fsum(surv)
    ent = mpmath.fsum(law[x] * (-q(x) * mpmath.log(q(x)) if q(x) > 0 else 0)
                      for law in laws for x in range(n + 1))
    gini = mpmath.fsum(law[x] * q(x) * (1 - q(x)) for law in laws for x in range(n + 1))
    mono = mpmath.fsum(law[n] for law in laws)
    # pairs: P(both present) = s_i + s_j - s_ij, s_ij from the merged chain
    both = mpf(0)
    for i in range(K):
        for j in range(i + 1, K):
            merged = law_at(n, m, p0[i] + p0[j], 2 * a, A, p0[i] + p0[j], T)
            both += surv[i] + surv[j] - (1 - merged[0])
    var = es + 2 * both - es**2
    pt = sum(p0[i] for i in tail)
    tail_law = law_at(n, m, pt, len(tail) * a, A, pt, T)
    tail_mass = mpmath.fsum(laws[i][x] * q(x) for i in tail for x in range(n + 1))
    return {"kind": kind, "K": K, "n": n, "generations": T, "tail_rank": tail_rank,
            "alpha": alpha, "fresh_fraction": L,
            "survivors_mean": float(es), "survivors_sd": float(mpmath.sqrt(var)),
            "entropy_mean": float(ent), "gini_simpson_mean": float(gini),
            "p_monomorphic": float(mono),
            "tail": {"mass_mean": float(tail_mass),
                     "survivors_mean": float(mpmath.fsum(surv[i] for i in tail)),
                     "p_all_lost": float(tail_law[0])},
            "loss_probability": [float(law[0]) for law in laws]}


def pool_law(n, p, T):
    """Law of the accumulate pool count C_T of a (merged) category with initial mass p."""
    law = {x: v for x, v in enumerate(binom_row(n, p))}
    for t in range(1, T):
        new = {}
        for c, w in law.items():
            for x, v in enumerate(binom_row(n, mpf(c) / (n * t))):
                new[c + x] = new.get(c + x, 0) + w * v
        law = new
    return law


def accumulate_case(kind, K, n, T, tail_rank):
    p0 = init(kind, K)
    order = sorted(range(K), key=lambda i: (-p0[i], i))
    tail = set(order[tail_rank:])
    laws = [pool_law(n, p0[i], T) for i in range(K)]
    N = n * T
    surv = [1 - law.get(0, 0) for law in laws]
    es = mpmath.fsum(surv)
    both = mpf(0)
    for i in range(K):
        for j in range(i + 1, K):
            both += surv[i] + surv[j] - (1 - pool_law(n, p0[i] + p0[j], T).get(0, 0))
    gini = mpmath.fsum(w * (mpf(c) / N) * (1 - mpf(c) / N) for law in laws
                       for c, w in law.items())
    pt = sum(p0[i] for i in tail)
    return {"kind": kind, "K": K, "n": n, "generations": T, "tail_rank": tail_rank,
            "survivors_mean": float(es), "survivors_sd": float(mpmath.sqrt(es + 2 * both
                                                                           - es**2)),
            "gini_simpson_mean": float(gini),
            "p_monomorphic": float(mpmath.fsum(law.get(N, 0) for law in laws)),
            "tail": {"mass_mean": float(mpmath.fsum(w * mpf(c) / N for i in tail
                                                    for c, w in laws[i].items())),
                     "survivors_mean": float(mpmath.fsum(surv[i] for i in tail)),
                     "p_all_lost": float(pool_law(n, pt, T).get(0, 0))}}


def absorption_case(n, ps):
    P = kernel(n, 0, 0, 0, 0)
    size = n - 1
    I_Q = mpmath.matrix(size, size)
    for i in range(size):
        for j in range(size):
            I_Q[i, j] = (1 if i == j else 0) - P[i + 1][j + 1]
    tau = mpmath.lu_solve(I_Q, mpmath.matrix([1] * size))
    fix = mpmath.lu_solve(I_Q, mpmath.matrix([mpf(j) / n for j in range(1, n)]))
    out = []
    for p in ps:
        b = binom_row(n, p)
        e_abs = 1 + mpmath.fsum(b[j] * tau[j - 1] for j in range(1, n))
        e_fix = mpf(p) + mpmath.fsum(b[j] * fix[j - 1] for j in range(1, n))
        out.append({"p": float(p), "absorption": float(e_abs),
                    "fixation": float(e_fix / p), "loss": float((e_abs - e_fix) / (1 - p))})
    return {"n": n, "cases": out}


def stationary_case(n, m, p_fresh, alpha, K):
    P = kernel(n, m, mpf(p_fresh), mpf(alpha), K * mpf(alpha))
    size = n + 1
    M = mpmath.matrix(size, size)
    for i in range(size):
        for j in range(size):
            M[i, j] = P[j][i] - (1 if i == j else 0)
    for j in range(size):
        M[size - 1, j] = 1
    rhs = mpmath.matrix([0] * (size - 1) + [1])
    pi = mpmath.lu_solve(M, rhs)
    return {"n": n, "fresh": m, "p_fresh": p_fresh, "alpha": alpha, "K": K,
            "p_present": float(1 - pi[0])}


# --- large cases in double precision, forward laws ------------------------------------

def np_rows(n, q):
    """Bin(n, q) rows evaluated in mpmath (exact integer binomial coefficients, powers at
    DPS digits), rounded to double once."""
    combs = [mpf(math.comb(n, k)) for k in range(n + 1)]
    out = np.empty((len(q), n + 1))
    for i, qi in enumerate(q):
        qi = mpf(qi)
        up = [mpf(1)]
        down = [mpf(1)]
        for _ in range(n):
            up.append(up[-1] * qi)
            down.append(down[-1] * (1 - qi))
        out[i] = [float(combs[k] * up[k] * down[n - k]) for k in range(n + 1)]
    return out


def large_forward(n, p_list, T):
    P = np_rows(n, [mpf(j) / n for j in range(n + 1)])
    pi = np_rows(n, p_list)
    for _ in range(T - 1):
        pi = pi @ P
    return pi


def large_cases():
    n = K = 1000
    out = []
    # uniform: one law for every category, the pair (2/K) and the tail (K - 100)/K.
    for T in (1, 100, 1000):
        laws = large_forward(n, [mpf(1) / K, mpf(2) / K, mpf(9) / 10], T)
        q = np.arange(n + 1) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(q > 0, -q * np.log(q), 0.0)
        s = float(laws[0, 1:].sum())  # P(X > 0) summed, not 1 - P(X = 0): no cancellation
        s_pair = float(laws[1, 1:].sum())
        es = K * s
        # Var S = Var L with L the lost count: EL - EL^2 + 2 sum_{i<j} P(both lost), the
        # pair's loss read from the merged chain; or the same with survivals
        # (P(both present) = s_i + s_j - s_ij). The form with the smaller mean cancels less.
        el = K * laws[0, 0]
        if el < es:
            var = el - el**2 + K * (K - 1) * laws[1, 0]
        else:
            var = es - es**2 + K * (K - 1) * (2 * s - s_pair)
        out.append({"kind": "uniform", "K": K, "n": n, "generations": T, "tail_rank": 100,
                    "survivors_mean": es, "survivors_sd": math.sqrt(var),
                    "entropy_mean": K * float(laws[0] @ h), "p_monomorphic": K * laws[0, n],
                    "tail": {"survivors_mean": 900 * s, "p_all_lost": laws[2, 0]}})
    # Zipf s = 1: selected categories, and the merged tail beyond rank 10 and 100.
    p0 = init("zipf", K)
    ranks = [1, 2, 10, 100, 500, 1000]
    for T in (1, 100, 1000):
        laws = large_forward(n, [*(p0[r - 1] for r in ranks), sum(p0[10:]), sum(p0[100:])],
                             T)
        out.append({"kind": "zipf", "K": K, "n": n, "generations": T,
                    "loss_probability": {str(r): laws[i, 0] for i, r in enumerate(ranks)},
                    "fixation_probability": {str(r): laws[i, n] for i, r in enumerate(ranks)},
                    "tail_p_all_lost": {"10": laws[-2, 0], "100": laws[-1, 0]}})
    return out


def main():
    start = time.time()
    chain = []
    for kind in ("uniform", "zipf"):
        for K, n, T, rank in ((3, 5, 1, 1), (3, 5, 7, 1), (5, 12, 20, 2), (4, 30, 50, 2),
                              (8, 10, 30, 3)):
            for alpha, L in ((0.0, 0.0), (0.5, 0.0), (0.0, 0.25), (0.3, 0.5)):
                if (alpha, L) != (0.0, 0.0) and n == 30:
                    continue
                chain.append(chain_case(kind, K, n, T, rank, alpha, L))
    acc = [accumulate_case(kind, K, n, T, rank) for kind in ("uniform", "zipf")
           for K, n, T, rank in ((3, 4, 1, 1), (3, 4, 5, 1), (5, 6, 4, 2))]
    absorption = [absorption_case(10, [mpf(1) / 10, mpf(1) / 2, mpf(9) / 10]),
                  absorption_case(30, [mpf(1) / 30, mpf(1) / 7, mpf(1) / 2])]
    stationary = [stationary_case(10, 0, 0.0, 0.5, 5), stationary_case(12, 3, 0.1, 0.0, 5),
                  stationary_case(12, 3, 0.25, 0.2, 4)]
    large = large_cases()
    OUT.write_text(json.dumps({
        "command": "/work/main/.venv/bin/python tests/reference/make_categorical_reference.py",
        "dps": DPS, "runtime_seconds": round(time.time() - start, 1),
        "chain": chain, "accumulate": acc, "absorption": absorption,
        "stationary": stationary, "large": large}, indent=1))


if __name__ == "__main__":
    main()
