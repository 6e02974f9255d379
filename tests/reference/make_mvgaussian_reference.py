"""Generate tests/reference/mvgaussian_reference.json: exact values of the multivariate
chain's theory computed independently with mpmath at 25 digits.

Run from the repository root:  python tests/reference/make_mvgaussian_reference.py

* log det law: the characteristic function of S_T = sum over T generations of
  sum_i log chi2_{n-i} - T D log(n - ddof) is prod_i (Gamma(k_i + iu) 2^{iu}/Gamma(k_i))^T
  (n - ddof)^{-iuTD}, k_i = (n - i)/2; its CDF by the Gil-Pelaez integral evaluated with
  mpmath.quad (tanh-sinh on unit panels, not the package's Gauss-Legendre panels and
  Hurwitz-zeta series), its density likewise, quantiles by mpmath.findroot; mean and
  variance as sums of mpmath digammas and trigammas.
* trace moments: the 2 x 2 linear recursion on (E[(tr S)^2], E[tr S^2]) iterated T times
  in mpmath (not the package's closed form through its eigenvalues), and E[tr] = r^T tr S0.
* E||mu_T - mu_0||^2 = sum_{t<T} r^t tr(S0)/n summed term by term.
* Lyapunov exponents psi((n - i)/2) + log 2 - log(n - ddof).
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath as mp

mp.mp.dps = 25

CASES = [  # n, dim, ddof, T
    (4, 2, 0.0, 1),
    (6, 3, 1.0, 2),
    (10, 4, 0.0, 3),
    (7, 5, 0.5, 2),
    (32, 10, 0.0, 2),
]
LEVELS = ["0.025", "0.5", "0.975"]
COV = [[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]]
TRACE_CASES = [  # n, dim, ddof, T, sigma0 (None: COV)
    (4, 2, 0.0, 1, 1.0), (6, 3, 1.0, 7, 1.5), (12, 5, 0.0, 40, 0.7), (5, 3, 2.0, 25, None),
    (50, 20, 1.0, 300, 1.0), (3, 2, 0.0, 200, 1.0),
]


def log_cf(u, n, dim, ddof, T):
    total = mp.mpf(0)
    for i in range(1, dim + 1):
        k = mp.mpf(n - i) / 2
        total += mp.loggamma(k + 1j * u) - mp.loggamma(k) + 1j * u * mp.log(2)
    return T * total - 1j * u * T * dim * mp.log(n - ddof)


def _edges(n, dim, ddof, T):
    """Unit panels of width 1/2 out to where |phi(u)| < 1e-34 (phi decays like
    exp(-pi u T D / 2))."""
    upper = mp.mpf(1)
    while mp.re(log_cf(upper, n, dim, ddof, T)) > -78:
        upper *= 1.25
    count = int(mp.ceil(2 * upper))
    return [mp.mpf(j) / 2 for j in range(count + 1)]


def cdf(x, n, dim, ddof, T):
    x = mp.mpf(x)
    edges = _edges(n, dim, ddof, T)

    def f(u):
        if u == 0:
            u = mp.mpf("1e-40")
        return mp.im(mp.exp(-1j * u * x + log_cf(u, n, dim, ddof, T))) / u

    return mp.mpf(1) / 2 - mp.quad(f, edges) / mp.pi


def pdf(x, n, dim, ddof, T):
    x = mp.mpf(x)
    edges = _edges(n, dim, ddof, T)
    return mp.quad(lambda u: mp.re(mp.exp(-1j * u * x + log_cf(u, n, dim, ddof, T))),
                   edges) / mp.pi


def moments(n, dim, ddof, T):
    mean = T * sum(mp.digamma(mp.mpf(n - i) / 2) + mp.log(2) for i in range(1, dim + 1)) \
        - T * dim * mp.log(n - ddof)
    var = T * sum(mp.polygamma(1, mp.mpf(n - i) / 2) for i in range(1, dim + 1))
    return mean, var


def trace_case(n, dim, ddof, T, sigma0):
    if sigma0 is None:
        S = mp.matrix(COV)
    else:
        S = mp.eye(dim) * mp.mpf(sigma0) ** 2
    tr = sum(S[i, i] for i in range(dim))
    tr2 = sum(S[i, j] ** 2 for i in range(dim) for j in range(dim))
    m, c = mp.mpf(n - 1), mp.mpf(n) - ddof
    a, b = tr * tr, tr2
    for _ in range(T):
        a, b = (m * m * a + 2 * m * b) / c**2, (m * a + (m * m + m) * b) / c**2
    r = m / c
    mean = r**T * tr
    mu = sum(r**t for t in range(T)) * tr / n
    return {"n": n, "dim": dim, "ddof": ddof, "T": T, "sigma0": sigma0,
            "trace0": float(tr), "trace_sq0": float(tr2),
            "ln_trace_mean": float(mp.log(mean)), "ln_trace_var": float(mp.log(a - mean**2)),
            "ln_mu_sq_norm_mean": float(mp.log(mu))}


def main() -> None:
    out = {"cov": COV, "logdet": [], "trace": [], "lyapunov": []}
    for n, dim, ddof, T in CASES:
        mean, var = moments(n, dim, ddof, T)
        sd = mp.sqrt(var)
        points = [mean + z * sd for z in (-3, -1, 0, 0.5, 2)]
        q = {}
        for key in LEVELS:
            p = mp.mpf(key)
            z = {"0.025": -1.96, "0.5": 0.0, "0.975": 1.96}[key]
            q[key] = float(mp.findroot(lambda x, p=p, a=(n, dim, ddof, T): cdf(x, *a) - p,
                                       mean + z * sd, tol=1e-20))
        out["logdet"].append({
            "n": n, "dim": dim, "ddof": ddof, "T": T, "mean": float(mean),
            "sd": float(sd), "x": [float(x) for x in points],
            "cdf": [float(cdf(x, n, dim, ddof, T)) for x in points],
            "pdf": [float(pdf(x, n, dim, ddof, T)) for x in points],
            "quantiles": q})
        print("logdet", n, dim, ddof, T, "done", flush=True)
    for case in TRACE_CASES:
        out["trace"].append(trace_case(*case))
    for n, dim, ddof in [(4, 3, 0.0), (32, 10, 0.0), (200, 100, 1.0), (11, 10, 0.5)]:
        g = [mp.digamma(mp.mpf(n - i) / 2) + mp.log(2) - mp.log(n - ddof)
             for i in range(1, dim + 1)]
        out["lyapunov"].append({"n": n, "dim": dim, "ddof": ddof,
                                "rates": [float(x) for x in g]})
    path = Path(__file__).with_name("mvgaussian_reference.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
