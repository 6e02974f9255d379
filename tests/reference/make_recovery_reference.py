# Regenerate tests/reference/recovery_reference.json (from the repository root):
#
#     python tests/reference/make_recovery_reference.py
#
# Needs numpy and scipy only (it does not import collapsecheck). Runtime: see the
# "runtime_seconds" field of the JSON (a few minutes on one core).
"""Reference values of P(sigma ever climbs back to 1) for claim A7, by importance sampling.

The log-variance walk S_t = sum of X_i, X = log(Q/(n - ddof)), Q ~ chi2(n - 1), drifts
down. Its Lundberg exponent R > 0 solves E[exp(R X)] = 1, i.e.
R log(2/(n - ddof)) + lgamma(k + R) - lgamma(k) = 0 with k = (n - 1)/2 (found here by
brentq on scipy's gammaln, not by collapsecheck). Under the walk tilted by R the steps
are X = log(2 G/(n - ddof)), G ~ Gamma(k + R), the walk drifts up and the first passage
tau above b is finite almost surely; Wald's identity gives the exact representation

    P(sup_t S_t >= b) = E_R[exp(-R S_tau)],

so the mean of exp(-R S_tau) over tilted paths is an unbiased estimate whose standard
error is the sample SD over sqrt(paths); likewise P(tau <= h) = E_R[exp(-R S_tau); tau <= h]
for the finite horizons h in HORIZONS, from the same paths. This is the method of
tests/test_theory_extras.py::tilted_estimate run at a much larger number of paths; it
shares nothing with the package's method (propagation of the sub-density on a grid below
an absorbing barrier, Richardson-extrapolated).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import optimize, special

OUT = Path(__file__).with_name("recovery_reference.json")
SEED = 20261206
BATCH = 50_000
CHUNK = 256
# (n, ddof, start, paths): the article's recovery from 0.9 and the deeper fall from 0.3.
CASES = [(1000, 0.0, 0.9, 4_000_000), (1000, 0.0, 0.3, 1_000_000)]
HORIZONS = (1000, 3000)


def lundberg(n: int, ddof: float) -> float:
    k = (n - 1) / 2

    def log_mgf(r):
        return r * math.log(2 / (n - ddof)) + special.gammaln(k + r) - special.gammaln(k)

    return optimize.brentq(log_mgf, 1e-6, 50.0, xtol=1e-15, rtol=1e-15)


def tilted_batch(n, ddof, b, r, paths, rng):
    """exp(-R S_tau) and tau for `paths` tilted walks."""
    k, shift = (n - 1) / 2, math.log(2 / (n - ddof))
    s, est, tau = np.zeros(paths), np.zeros(paths), np.zeros(paths, dtype=np.int64)
    alive = np.arange(paths)
    steps = 0
    while alive.size:
        path = s[alive] + np.cumsum(
            np.log(rng.standard_gamma(k + r, (CHUNK, alive.size))) + shift, 0
        )
        hit = path >= b
        done = hit.any(axis=0)
        first = np.argmax(hit, axis=0)
        est[alive[done]] = np.exp(-r * path[first[done], np.nonzero(done)[0]])
        tau[alive[done]] = steps + first[done] + 1
        s[alive[~done]] = path[-1, ~done]
        alive = alive[~done]
        steps += CHUNK
    return est, tau


def main() -> None:
    t0 = time.time()
    cases = []
    for i, (n, ddof, start, paths) in enumerate(CASES):
        b = 2 * math.log(1 / start)
        r = lundberg(n, ddof)
        sums = np.zeros((1 + len(HORIZONS), 2))  # (ever, within each h) x (sum, sum of squares)
        done = 0
        for j in range(0, paths, BATCH):
            rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(i, j // BATCH)))
            est, tau = tilted_batch(n, ddof, b, r, min(BATCH, paths - j), rng)
            for row, x in enumerate([est, *(est * (tau <= h) for h in HORIZONS)]):
                sums[row] += x.sum(), (x**2).sum()
            done += est.size
        means = sums[:, 0] / done
        ses = np.sqrt((sums[:, 1] - done * means**2) / (done - 1) / done)
        cases.append(
            {
                "n": n,
                "ddof": ddof,
                "recovery_start": start,
                "b": b,
                "lundberg_exponent": r,
                "paths": done,
                "probability": float(means[0]),
                "standard_error": float(ses[0]),
                "within": {
                    str(h): {"probability": float(m), "standard_error": float(e)}
                    for h, m, e in zip(HORIZONS, means[1:], ses[1:], strict=True)
                },
            }
        )
        print(cases[-1], file=sys.stderr)
    doc = {
        "description": "P(sigma ever returns from recovery_start to 1), sigma_0 = 1 after the "
        "fall, by importance sampling under the Lundberg tilt (see the script's docstring); "
        "'standard_error' is the Monte Carlo SE of 'probability'; 'within' gives "
        "P(return within h generations) from the same paths.",
        "script": "tests/reference/make_recovery_reference.py",
        "seed": SEED,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": sys.version.split()[0],
        "runtime_seconds": round(time.time() - t0, 1),
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
