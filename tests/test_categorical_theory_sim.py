"""Exact categorical theory against direct simulation of the multinomial chain.

K = n = 1000, uniform and Zipf (s = 1) starts, horizons 100 and 1000, 400 replicates each
(fixed seeds, one SeedSequence per block). Every comparison is a z-test at 5 standard
errors (false-alarm rate about 6e-7 each, 1e-5 for the file); it catches a gross error
(a wrong chain, a lost category coming back, an off-by-one generation: the survivors'
mean moves by far more than 5 SE between T = 100 and T = 101), not a 1e-3 one, which is
what the mpmath references of ``test_categorical_theory.py`` are for.
"""

import numpy as np
import pytest

from collapsecheck.families.categorical.theory import predict

REPLICATES = 400
BLOCK = 100
HORIZONS = (100, 1000)
K = N = 1000
RANK = 100


def _init(kind):
    w = np.ones(K) if kind == "uniform" else 1.0 / np.arange(1, K + 1)
    return w / w.sum()


def _simulate(p0, seed):
    """Per replicate and horizon: survivors, entropy, monomorphic, tail survivors and
    whether the whole tail is lost. Only present categories are carried (a lost category
    has probability 0 for ever: the chain's own rule, not an assumption of the theory)."""
    out = np.zeros((REPLICATES, len(HORIZONS), 5))
    tail = np.zeros(K, dtype=bool)
    tail[np.argsort(-p0, kind="stable")[RANK:]] = True
    for block in range(REPLICATES // BLOCK):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))
        for r in range(block * BLOCK, (block + 1) * BLOCK):
            ids = np.arange(K)
            p = p0
            for t in range(1, HORIZONS[-1] + 1):
                x = rng.multinomial(N, p)
                keep = x > 0
                ids, x = ids[keep], x[keep]
                p = x / N
                if t in HORIZONS:
                    h = HORIZONS.index(t)
                    out[r, h] = (len(ids), -np.sum(p * np.log(p)), float(len(ids) == 1),
                                 np.sum(tail[ids]), float(not tail[ids].any()))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uniform", "zipf"])
def test_simulation_agrees_with_exact_theory(kind):
    p0 = _init(kind)
    sims = _simulate(p0, seed=20261207 + (kind == "zipf"))
    for h, T in enumerate(HORIZONS):
        f = predict(p0, N, T, tail_rank=RANK).to_dict()["final"]
        theory = (f["survivors_mean"], f["entropy_mean"], f["p_monomorphic"],
                  f["tail"]["survivors_mean"], f["tail"]["p_all_lost"])
        names = ("survivors_mean", "entropy_mean", "p_monomorphic", "tail.survivors_mean",
                 "tail.p_all_lost")
        for k, (name, want) in enumerate(zip(names, theory, strict=True)):
            x = sims[:, h, k]
            se = x.std(ddof=1) / np.sqrt(REPLICATES)
            if k in (2, 4):  # Bernoulli: the SE under the theory's probability
                se = np.sqrt(want * (1 - want) / REPLICATES)
            z = (x.mean() - want) / se
            assert abs(z) < 5, (f"{kind} T={T} {name}: sim {x.mean():.5g} theory "
                                f"{want:.5g} z={z:.2f}")
        # The variance: the sample variance within 5 SE, SE from the sample fourth central
        # moment (Var(s^2) ~ (m4 - sigma^4)/R: no normality assumed).
        x = sims[:, h, 0]
        var, m4 = x.var(ddof=1), np.mean((x - x.mean()) ** 4)
        se_var = np.sqrt((m4 - var**2) / REPLICATES)
        z = (var - f["survivors_sd"] ** 2) / se_var
        assert abs(z) < 5, (f"{kind} T={T} survivors variance: sim {var:.4g} theory "
                            f"{f['survivors_sd'] ** 2:.4g} z={z:.2f}")
