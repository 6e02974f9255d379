# Regenerate tests/reference/theory_reference.json (from the repository root):
#
#     /work/venv/bin/python tests/reference/make_theory_reference.py
#
# (any Python with mpmath >= 1.3 installed works: `pip install mpmath`; mpmath is a
# dev-only dependency of this script -- the test-suite only reads the JSON and must
# never import mpmath). Runtime: see the "runtime_seconds" field of the JSON.
"""High-precision reference values for ``collapsecheck.theory``, by independent methods.

The Gaussian refit chain: sigma_t^2 = sigma_{t-1}^2 * Q_t / (n - ddof), Q_t ~ chi2(n-1)
i.i.d., so S_T = log(sigma_T^2 / sigma_0^2) = sum_t X_t with X_t = log Q_t - log(n-ddof).
With Y = Q/2 ~ Gamma(k, 1), k = (n-1)/2, and W = log Y, X = W + log 2 - log(n - ddof).

Everything is computed with mpmath at ``DPS`` significant digits, and nothing here
imports numpy, scipy or collapsecheck. The methods deliberately differ from the
package's (scipy special functions, Gil-Pelaez on composite Gauss-Legendre in double
precision):

* step moments (drift, step variance, E[(sigma_t/sigma_{t-1})^p]) are evaluated in
  closed form (digamma, trigamma, log-gamma) AND by direct numerical integration of the
  log-gamma density of W (mpmath tanh-sinh quadrature); the script aborts if the two
  disagree beyond 1e-25. Var(mu_T) is likewise checked against the quadrature-derived
  ratio r = E[sigma_t^2]/E[sigma_{t-1}^2] summed as a geometric series.
* quantiles of S_T (hence of sigma_T = sigma_0 exp(S_T/2)):
    - T = 1: inversion of the regularised lower incomplete gamma function
      (chi-square CDF), exact;
    - 2 <= T <= 5 with k <= 50: the exact CDF of a product of T i.i.d. Gamma(k)
      variables, P(Y_1...Y_T <= z) = G^{T,1}_{1,T+1}(z | 1; k,...,k, 0) / Gamma(k)^T
      (Meijer G-function, mpmath.meijerg, i.e. Slater's residue series -- no Fourier
      inversion at all);
    - otherwise (long horizons, or huge k): Gil-Pelaez inversion of the exact
      characteristic function Gamma(k+it)^T/Gamma(k)^T (mpmath complex log-gamma at DPS
      digits), integrated by adaptive tanh-sinh quadrature (mpmath.quad) on panels of
      width 1/2, truncated where |phi| < 10^-(DPS+3).
  Every quantile is also recomputed by the Gil-Pelaez route; the absolute difference
  between the two routes is stored per case ("quantile_crosscheck"), and for every
  (n, ddof) the Gil-Pelaez T = 1 quantiles are compared with the exact chi-square ones.
  Roots are found by a bracketing Illinois iteration to 1e-28 in standardised units.

Raw values that a double cannot hold (overflow, or underflow below the smallest normal
double 2.2250738585072014e-308) are written as null; their natural log is always given.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import mpmath
from mpmath import mp, mpf

DPS = 40
mp.dps = DPS
LEVELS = ("0.025", "0.5", "0.975")
COMMAND = "/work/venv/bin/python tests/reference/make_theory_reference.py"
OUT = Path(__file__).with_name("theory_reference.json")
DBL_MAX = mpf("1.7976931348623157e308")
DBL_MIN = mpf("2.2250738585072014e-308")
ROOT_TOL = mpf("1e-28")
SELF_TOL = mpf("1e-25")
XCHECK_TOL = mpf("1e-18")

# (n, T, ddof, sigma0). sigma0 is written as a string for the case id; the computation
# uses float(sigma0), the double the tests pass, converted exactly to mpf.
CASES = [
    (2, 1, 0, "1"),
    (2, 5, 0, "1"),
    (3, 2, 1, "1"),
    (4, 3, 0, "1"),  # strongly non-normal
    (4, 3, 0.5, "2.5"),
    (5, 10, 1, "1"),
    (10, 100, 0, "1"),
    (7, 20, 2.5, "0.3"),
    (1000, 1000, 0, "1"),  # the article
    (1000, 10000, 0, "1"),
    (100, 10**6, 1, "1"),
    (2, 10**6, 0, "1"),
    (10**7, 3, 0, "1"),
    (2, 5, 0, "1e-300"),  # tiny sigma0: E[sigma^2], Var(mu) underflow
    (1000, 1000, 0, "1e300"),  # huge sigma0: E[sigma^2] overflows
]


def raw_or_null(log_value):
    """exp(log_value) as a float, or None if a (normal) double cannot hold it."""
    v = mp.exp(log_value)
    if v > DBL_MAX or v < DBL_MIN:
        return None
    return float(v)


def normal_ppf(p):
    return mp.sqrt(2) * mp.erfinv(2 * mpf(p) - 1)


# ----------------------------------------------------------------------------------
# One step: closed forms and quadrature of the log-gamma density
# ----------------------------------------------------------------------------------


def step_closed(n, ddof):
    k = mpf(n - 1) / 2
    drift = mp.digamma(k) + mp.log(2) - mp.log(mpf(n) - mpf(ddof))
    var = mp.psi(1, k)
    return k, drift, var


def log_step_moment_closed(n, ddof, p):
    """log E[(sigma_t/sigma_{t-1})^p] = (p/2) log(2/(n-d)) + lgamma(k+p/2) - lgamma(k)."""
    k = mpf(n - 1) / 2
    p = mpf(p)
    return p / 2 * mp.log(2 / (mpf(n) - mpf(ddof))) + mp.loggamma(k + p / 2) - mp.loggamma(k)


def step_by_quadrature(n, ddof):
    """E[X], Var X and log E[e^{pX/2}] (p = 1, 2) by integrating the density of W."""
    k = mpf(n - 1) / 2
    lg = mp.loggamma(k)
    m = mp.log(k)  # mode of W
    s = min(1 / mp.sqrt(k), mpf(1))

    def logdens(w):
        return k * w - mp.exp(w) - lg

    # finite range: the log-density falls 300 below its peak (e^-300 ~ 1e-130)
    peak = logdens(m)
    lo = hi = 0
    while logdens(m - s * lo) > peak - 300:
        lo += 1
    while logdens(m + s * hi) > peak - 300:
        hi += 1
    pts = [m + s * j for j in range(-lo, hi + 1)]

    def dens(w):
        return mp.exp(logdens(w))

    total = mp.quad(dens, pts)
    e1 = mp.quad(lambda w: (w - m) * dens(w), pts)
    e2 = mp.quad(lambda w: (w - m) ** 2 * dens(w), pts)
    shift = mp.log(2) - mp.log(mpf(n) - mpf(ddof))
    drift = m + e1 + shift
    var = e2 - e1**2
    log_mom = {}
    for p in (1, 2):
        a = mpf(p) / 2
        # E[e^{aW}] = e^{a m} E[e^{a (W-m)}]
        mgf = mp.quad(lambda w, a=a: mp.exp(a * (w - m)) * dens(w), pts)
        log_mom[p] = a * m + mp.log(mgf) + a * shift
    return total, drift, var, log_mom


# ----------------------------------------------------------------------------------
# Law of S_T
# ----------------------------------------------------------------------------------


def gamma_cdf(k, z):
    """P(Y <= z), Y ~ Gamma(k, 1): mpmath.gammainc, or for k > 1e4 (where its
    hypergeometric series does not converge) tanh-sinh quadrature of the density of
    W = log Y on panels of width 1/sqrt(k) from 300 e-folds below the peak."""
    if k <= 10**4:
        return mp.gammainc(k, 0, z, regularized=True)
    lg, m, s = mp.loggamma(k), mp.log(k), 1 / mp.sqrt(k)
    w = mp.log(z)
    lo = m - 26 * s  # k*w - e^w is within 1e-5 relative of -k*x^2/2 here: e^-300 tail

    def dens(v):
        return mp.exp(k * v - mp.exp(v) - lg)

    if w <= lo:
        raise ValueError("gamma_cdf: argument in the negligible lower tail")
    npan = int(mp.ceil((w - lo) / s))
    return mp.quad(dens, [lo + (w - lo) * i / npan for i in range(npan + 1)])


class GilPelaez:
    """CDF of Y = (S_T - T k1)/sqrt(T k2) by Gil-Pelaez with mpmath.quad (tanh-sinh)."""

    def __init__(self, n, T, ddof):
        self.k, _, k2 = step_closed(n, ddof)
        self.T = T
        self.sd = mp.sqrt(T * k2)
        self.lgk = mp.loggamma(self.k)
        self.psik = mp.digamma(self.k)
        self._cache = {}
        floor = -(DPS + 3) * mp.log(10)
        upper = mpf(1)
        while mp.re(self._logphi(upper)) > floor:
            upper *= mpf("1.25")
        self.upper = upper
        npan = int(mp.ceil(upper * 2))
        self.panels = [upper * i / npan for i in range(npan + 1)]

    def _logphi(self, u):
        t = u / self.sd
        return self.T * (mp.loggamma(self.k + 1j * t) - self.lgk - 1j * t * self.psik)

    def phi(self, u):
        key = u
        v = self._cache.get(key)
        if v is None:
            v = mp.exp(self._logphi(u))
            self._cache[key] = v
        return v

    def cdf(self, y):
        y = mpf(y)
        integral = mp.quad(lambda u: mp.im(mp.expj(-u * y) * self.phi(u)) / u, self.panels)
        return mpf(1) / 2 - integral / mp.pi


def product_gamma_cdf(k, T, z):
    """P(Y_1 ... Y_T <= z), Y_i ~ Gamma(k, 1) i.i.d., by the Meijer G-function."""
    return mp.meijerg([[1], []], [[k] * T, [0]], z) / mp.gamma(k) ** T


def solve_increasing(F, p, y0):
    """y with F(y) = p, F increasing; bracket from y0, then Illinois regula falsi."""
    p = mpf(p)
    a, fa = mpf(y0), F(y0) - p
    step = mpf("0.25")
    b = a + (step if fa < 0 else -step)
    fb = F(b) - p
    while fa * fb > 0:
        step *= 2
        a, fa = b, fb
        b = b + (step if fb < 0 else -step)
        fb = F(b) - p
    side = 0
    for _ in range(200):
        c = (a * fb - b * fa) / (fb - fa)
        fc = F(c) - p
        if fc == 0 or abs(b - a) < ROOT_TOL:
            return c
        if fc * fb < 0:
            a, fa = b, fb
            b, fb = c, fc
            side = 0
        else:
            b, fb = c, fc
            if side == -1:
                fa /= 2
            side = -1
        if abs(b - a) < ROOT_TOL:
            return (a * fb - b * fa) / (fb - fa)
    raise RuntimeError("root finding did not converge")


def cornish_fisher(n, ddof, T, p):
    k, _, k2 = step_closed(n, ddof)
    g1 = mp.psi(2, k) / k2**1.5 / mp.sqrt(T)
    z = normal_ppf(p)
    return z + (z**2 - 1) * g1 / 6


def quantiles_exact(n, T, ddof):
    """Standardised quantiles y_p of S_T, with the method name (None if no exact route)."""
    k, k1, k2 = step_closed(n, ddof)
    mean, sd = T * k1, mp.sqrt(T * k2)
    lz = T * mp.log((mpf(n) - mpf(ddof)) / 2)  # log(prod Y) = S_T + T log((n-d)/2)
    if T == 1:
        method = "chi-square CDF inversion (mpmath.gammainc, regularised)"
        if k > 10**4:
            method = "chi-square CDF inversion (quadrature of the gamma density)"

        def F(y):
            return gamma_cdf(k, mp.exp(mean + sd * y + lz))

    elif T <= 5 and k <= 50:
        method = "Meijer-G CDF of a product of Gamma(k) variables (mpmath.meijerg)"

        def F(y):
            return product_gamma_cdf(k, T, mp.exp(mean + sd * y + lz))

    else:
        return None, None
    return method, {lv: solve_increasing(F, lv, cornish_fisher(n, ddof, T, lv)) for lv in LEVELS}


def quantiles_gp(n, T, ddof):
    gp = GilPelaez(n, T, ddof)
    return {lv: solve_increasing(gp.cdf, lv, cornish_fisher(n, ddof, T, lv)) for lv in LEVELS}


# ----------------------------------------------------------------------------------


def fmt(x):
    return float(x)


def main() -> int:
    t_start = time.perf_counter()
    results = []
    step_checks = {}
    t1_checks = {}
    for n, T, ddof, s0 in CASES:
        t0 = time.perf_counter()
        sigma0 = mpf(float(s0))  # exactly the double the tests will pass
        log_s0 = mp.log(sigma0)
        _, k1, k2 = step_closed(n, ddof)

        # -- one-step self-check by quadrature (once per (n, ddof))
        if (n, ddof) not in step_checks:
            total, d_q, v_q, lm_q = step_by_quadrature(n, ddof)
            errs = {
                "density_mass": abs(total - 1),
                "drift": abs(d_q - k1),
                "step_var": abs(v_q - k2) / k2,
                "log_step_moment_p1": abs(lm_q[1] - log_step_moment_closed(n, ddof, 1)),
                "log_step_moment_p2": abs(lm_q[2] - log_step_moment_closed(n, ddof, 2)),
                # E[sigma_t^2]/E[sigma_{t-1}^2] = (n-1)/(n-ddof)
                "ratio_r": abs(lm_q[2] - mp.log(mpf(n - 1) / (mpf(n) - mpf(ddof)))),
            }
            bad = {key: v for key, v in errs.items() if v > SELF_TOL}
            if bad:
                raise SystemExit(f"closed form != quadrature for n={n} ddof={ddof}: {bad}")
            step_checks[(n, ddof)] = max(errs.values())

        # -- moments
        log_sigma2_mean = 2 * log_s0 + T * k1
        log_sigma2_sd = mp.sqrt(T * k2)
        ln_sigma_mean = log_s0 + T * log_step_moment_closed(n, ddof, 1)
        r = mpf(n - 1) / (mpf(n) - mpf(ddof))
        # E[sigma_t^2 / sigma_{t-1}^2] = r exactly (Gamma(k+1)/Gamma(k) = k); the log-gamma
        # form agrees to ~T*10^-DPS, but log r keeps ln E[sigma_T^2] exactly 0 when r = 1
        assert abs(log_step_moment_closed(n, ddof, 2) - mp.log(r)) < SELF_TOL
        ln_sigma2_mean = 2 * log_s0 + T * mp.log(r)
        geo = mpf(T) if r == 1 else (mp.power(r, T) - 1) / (r - 1)
        ln_mu_var = 2 * log_s0 - mp.log(n) + mp.log(geo)
        if T <= 10**4:  # direct sum of E[sigma_t^2]/n as a check of the closed form
            direct = mp.fsum(mp.power(r, t) for t in range(T))
            assert abs(direct / geo - 1) < SELF_TOL, (n, T, ddof)

        # -- quantiles of S_T (standardised y, then s = mean + sd*y)
        method, y_exact = quantiles_exact(n, T, ddof)
        y_gp = quantiles_gp(n, T, ddof)
        if method is None:
            method = "Gil-Pelaez, mpmath complex loggamma + tanh-sinh quad"
            y_q = y_gp
            xdiff = None
        else:
            y_q = y_exact
            xdiff = max(abs(y_exact[lv] - y_gp[lv]) for lv in LEVELS) * log_sigma2_sd
            if xdiff > XCHECK_TOL:
                raise SystemExit(f"quantile routes disagree for {(n, T, ddof)}: {xdiff}")
        # Gil-Pelaez at T = 1 against the exact chi-square inversion, same (n, ddof)
        if (n, ddof) not in t1_checks:
            _, y1_exact = quantiles_exact(n, 1, ddof)
            y1_gp = quantiles_gp(n, 1, ddof)
            t1_checks[(n, ddof)] = max(abs(y1_exact[lv] - y1_gp[lv]) for lv in LEVELS) * mp.sqrt(k2)
        gp_t1_diff = t1_checks[(n, ddof)]
        if gp_t1_diff > XCHECK_TOL:
            raise SystemExit(f"Gil-Pelaez T=1 check failed for {(n, ddof)}: {gp_t1_diff}")

        s_q = {lv: T * k1 + log_sigma2_sd * y_q[lv] for lv in LEVELS}
        ln_q = {lv: log_s0 + s_q[lv] / 2 for lv in LEVELS}

        results.append(
            {
                "id": f"n{n}_T{T}_ddof{ddof}_sigma0_{s0}",
                "n": n,
                "generations": T,
                "ddof": float(ddof),
                "sigma0": float(sigma0),
                "log_sigma2_drift": fmt(k1),
                "log_sigma2_step_var": fmt(k2),
                "log_sigma2_mean": fmt(log_sigma2_mean),
                "log_sigma2_sd": fmt(log_sigma2_sd),
                "sigma_mean": raw_or_null(ln_sigma_mean),
                "ln_sigma_mean": fmt(ln_sigma_mean),
                "sigma2_mean": raw_or_null(ln_sigma2_mean),
                "ln_sigma2_mean": fmt(ln_sigma2_mean),
                "mu_var": raw_or_null(ln_mu_var),
                "ln_mu_var": fmt(ln_mu_var),
                "log_variance_ppf": {lv: fmt(s_q[lv]) for lv in LEVELS},
                "ln_sigma_quantiles": {lv: fmt(ln_q[lv]) for lv in LEVELS},
                "sigma_quantiles": {lv: raw_or_null(ln_q[lv]) for lv in LEVELS},
                "quantile_method": method,
                "quantile_crosscheck": {
                    "gil_pelaez_abs_diff_S": None if xdiff is None else mp.nstr(xdiff, 3),
                    "gil_pelaez_T1_vs_chi2_abs_diff_S": mp.nstr(gp_t1_diff, 3),
                },
                "step_quadrature_max_err": mp.nstr(step_checks[(n, ddof)], 3),
            }
        )
        print(
            f"n={n:>8} T={T:>7} ddof={ddof:<4} sigma0={s0:<6} {time.perf_counter() - t0:7.1f}s"
            f"  xcheck={results[-1]['quantile_crosscheck']}",
            flush=True,
        )

    runtime = time.perf_counter() - t_start
    doc = {
        "description": (
            "Reference values for collapsecheck.theory (Gaussian refit chain), computed "
            "with mpmath by methods independent of the package; see the script's docstring. "
            "'log_variance_ppf' are quantiles of S_T = log(sigma_T^2/sigma_0^2); "
            "'ln_*' are natural logs; raw values a normal double cannot hold are null."
        ),
        "command": COMMAND,
        "script": "tests/reference/make_theory_reference.py",
        "mpmath_version": mpmath.__version__,
        "python_version": sys.version.split()[0],
        "dps": DPS,
        "levels": list(LEVELS),
        "runtime_seconds": round(runtime, 1),
        "cases": results,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(results)} cases) in {runtime:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
