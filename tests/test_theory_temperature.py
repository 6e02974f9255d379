"""Temperature theory: exact identities (property-based), mpmath references at 40 digits by
routes independent of the module (gamma functions directly, recursions, chi-square and
Gil-Pelaez CDFs), and a seeded Monte Carlo run of the actual process."""

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.strategies import horizons, n_and_ddof, sigmas

from collapsecheck import Experiment
from collapsecheck.families.gaussian.theory import replace
from collapsecheck.families.gaussian.theory.temperature import (
    EXACT_KEYS,
    log_mu_var_tempered,
    predict,
    zero_drift_temperature,
)

temperatures = st.floats(min_value=0.05, max_value=20.0, allow_nan=False)


def _experiment(n, T, ddof=0.0, tau=1.0, sigma0=1.0, **kw):
    return Experiment(n=n, generations=T, ddof=ddof, temperature=tau, sigma0=sigma0,
                      replicates=1, seed=0, **kw)


def _rel(got, want, rel, abs_=0.0):
    assert got == pytest.approx(want, rel=rel, abs=abs_), (got, want)


@pytest.fixture(scope="module")
def mp():
    import mpmath  # a declared test dependency: missing, the tests must fail, not skip
    mpmath.mp.dps = 40
    return mpmath


# ---------------------------------------------------------------------------------------
# Exact identities
# ---------------------------------------------------------------------------------------


class TestIdentities:
    @given(n_and_ddof())
    @example((2, 0.0))
    @example((10**7, 1.0))
    def test_zero_drift_temperature_zeroes_the_drift(self, nd):
        n, d = nd
        tau0 = zero_drift_temperature(n, d)
        drift = replace.log_sigma2_drift(n, d)
        assert abs(drift + 2 * math.log(tau0)) <= 1e-14 * max(1.0, abs(drift))
        p = predict(_experiment(n, 3, d, tau0))
        assert abs(p.log_sigma2_drift) <= 1e-14 * max(1.0, abs(drift))
        assert p.zero_drift_temperature == tau0

    @settings(max_examples=40)
    @given(n_and_ddof(), horizons, sigmas)
    @example((2, 0.0), 1, 1.0)
    @example((1000, 0.0), 10**6, 1.0)
    def test_temperature_one_is_the_replace_chain(self, nd, T, s0):
        n, d = nd
        e = _experiment(n, T, d, 1.0, s0)
        got, want = predict(e), replace.predict(e)
        for name in ("log_sigma2_drift", "log_sigma2_step_var", "log_sigma2_mean",
                     "log_sigma2_sd", "ln_sigma_mean", "ln_sigma2_mean", "ln_mu_var",
                     "prob_step_shrinks"):
            _rel(getattr(got, name), getattr(want, name), 1e-13, 1e-300)
        assert got.ln_sigma_quantiles.keys() == want.ln_sigma_quantiles.keys()
        for key, v in want.ln_sigma_quantiles.items():
            _rel(got.ln_sigma_quantiles[key], v, 1e-13, 1e-300)
        assert got.final().keys() == want.final().keys()

    @settings(max_examples=40)
    @given(n_and_ddof(), horizons, temperatures)
    @example((3, 0.0), 10**6, 1.3)  # long horizon: everything stays finite (in logs)
    @example((2, 1.0), 10**6, 0.2)
    def test_shift_identity(self, nd, T, tau):
        n, d = nd
        hot, cold = predict(_experiment(n, T, d, tau)), predict(_experiment(n, T, d, 1.0))
        lt = math.log(tau)
        scale = max(1.0, T * abs(lt))
        for name, shift in (("log_sigma2_mean", 2 * T * lt), ("ln_sigma_mean", T * lt),
                            ("ln_sigma2_mean", 2 * T * lt), ("log_sigma2_drift", 2 * lt)):
            got, want = getattr(hot, name), getattr(cold, name) + shift
            assert math.isfinite(got)
            assert abs(got - want) <= 1e-13 * max(scale, abs(want)), name
        assert hot.log_sigma2_sd == cold.log_sigma2_sd
        assert hot.log_sigma2_step_var == cold.log_sigma2_step_var
        for key, v in cold.ln_sigma_quantiles.items():
            assert abs(hot.ln_sigma_quantiles[key] - (v + T * lt)) <= 1e-13 * max(scale, abs(v))
        assert math.isfinite(hot.ln_mu_var) or T == 0

    @given(n_and_ddof(), st.integers(0, 300), temperatures)
    def test_mu_var_recursion(self, nd, T, tau):
        # Var(mu_t) = Var(mu_{t-1}) + tau^2 E[sigma_{t-1}^2]/n, E[sigma_t^2] = rho E[..]
        n, d = nd
        v, m2 = 0.0, 1.0
        for _ in range(T):
            v += tau * tau * m2 / n
            m2 *= tau * tau * (n - 1) / (n - d)
        got = log_mu_var_tempered(T, n, d, 1.0, tau)
        if T == 0:
            assert got == -math.inf
        elif math.isfinite(v) and v > 1e-300:
            _rel(math.exp(got), v, 1e-11)

    def test_exact_lists_every_field(self):
        p = predict(_experiment(5, 7, 0.0, 1.2))
        assert p.exact == EXACT_KEYS
        assert set(p.final()) - {"log_scale"} <= set(EXACT_KEYS)
        assert p.regime == "replace" and p.limit is None and p.stationary is None
        assert set(p.methods) == set(EXACT_KEYS) - {"mu_mean"}
        assert list(p.ln_sigma_quantiles) == ["0.025", "0.5", "0.975"]

    @pytest.mark.parametrize(("changes", "match"), [
        (dict(regime="accumulate"), "`regime` 'replace' only"),
        (dict(n_growth=1.0), "`n_growth` 0"),
        (dict(truncate=2.0), "`truncate` None"),
    ])
    def test_other_regimes_are_refused(self, changes, match):
        with pytest.raises(ValueError, match=match):
            predict(_experiment(5, 3, 0.0, 1.1, **changes))

    def test_bad_temperature_is_refused(self):
        with pytest.raises(ValueError, match="`temperature` must be a finite number > 0"):
            log_mu_var_tempered(3, 5, 0.0, 1.0, -1.0)
        with pytest.raises(TypeError, match="`temperature` must be a real number"):
            log_mu_var_tempered(3, 5, 0.0, 1.0, "1")


# ---------------------------------------------------------------------------------------
# Against mpmath at 40 digits, by other routes
# ---------------------------------------------------------------------------------------

CASES = [  # n, T, ddof, tau, sigma0
    (2, 1, 0.0, 0.7, 1.0),
    (3, 4, 0.0, 1.3, 2.0),
    (5, 3, 1.0, 1.1, 0.5),
    (10, 25, 0.0, 0.95, 1.0),
    (1000, 1000, 0.0, 1.0005, 1.0),
]


def _mp_reference(mp, n, T, d, tau, s0):
    k = mp.mpf(n - 1) / 2
    tau, s0, d = mp.mpf(tau), mp.mpf(s0), mp.mpf(d)
    drift = mp.digamma(k) + mp.log(2) - mp.log(n - d) + 2 * mp.log(tau)
    one = s0 * tau * mp.sqrt(2 / (n - d)) * mp.gamma(k + mp.mpf(1) / 2) / mp.gamma(k)
    # E[sigma_T^p] = (E[sigma_1^p]/sigma0^p)^T sigma0^p (independent steps)
    ln_sigma_mean = mp.log(s0) + T * (mp.log(one) - mp.log(s0))
    two = tau**2 * 2 / (n - d) * mp.gamma(k + 1) / mp.gamma(k)
    ln_sigma2_mean = 2 * mp.log(s0) + T * mp.log(two)
    v, m2 = mp.mpf(0), s0**2  # the mean's variance by its recursion, step by step
    for _ in range(T):
        v += tau**2 * m2 / n
        m2 *= tau**2 * (n - 1) / (n - d)
    shrink = mp.gammainc(k, 0, (n - d) / tau**2 / 2, regularized=True)
    return dict(log_sigma2_drift=drift, log_sigma2_step_var=mp.psi(1, k),
                log_sigma2_mean=2 * mp.log(s0) + T * drift, ln_sigma_mean=ln_sigma_mean,
                ln_sigma2_mean=ln_sigma2_mean, ln_mu_var=mp.log(v), prob_step_shrinks=shrink,
                log_sigma2_sd=mp.sqrt(T * mp.psi(1, k)))


@pytest.mark.parametrize("case", CASES, ids=[f"n{c[0]}-T{c[1]}-d{c[2]}-tau{c[3]}" for c in CASES])
def test_against_mpmath(mp, case):
    n, T, d, tau, s0 = case
    p = predict(_experiment(n, T, d, tau, s0))
    want = _mp_reference(mp, *case)
    for name, value in want.items():
        _rel(getattr(p, name), float(value), 1e-12, 1e-15)
    _rel(p.zero_drift_temperature,
         float(mp.exp(-(want["log_sigma2_drift"] - 2 * mp.log(tau)) / 2)), 1e-14)


def test_one_generation_quantiles_by_chi_square_cdf(mp):
    # sigma_1 = tau sigma0 sqrt(Q/(n - d)): F(q) = P(Q <= (n - d)(q/(tau sigma0))^2).
    for n, d, tau, s0 in ((2, 0.0, 0.7, 1.0), (4, 1.0, 1.5, 3.0), (30, 0.0, 1.02, 1.0)):
        p = predict(_experiment(n, 1, d, tau, s0))
        k = mp.mpf(n - 1) / 2
        for key, ln_q in p.ln_sigma_quantiles.items():
            x = (n - d) * mp.exp(2 * (mp.mpf(ln_q) - mp.log(tau) - mp.log(s0)))
            level = mp.gammainc(k, 0, x / 2, regularized=True)
            assert abs(float(level) - float(key)) < 1e-11, (n, key, level)


def test_small_horizon_quantiles_by_gil_pelaez_in_mpmath(mp):
    # F(x) = 1/2 - (1/pi) int_0^inf Im[e^{-iux} phi(u)^T]/u du with the CF of one tempered
    # step phi(u) = exp(iu(log 2 - log(n - d) + 2 log tau)) Gamma(k + iu)/Gamma(k),
    # integrated by mpmath's tanh-sinh quadrature at 30 digits.
    n, T, d, tau = 5, 3, 0.0, 1.25
    mp.mp.dps = 30
    try:
        k = mp.mpf(n - 1) / 2
        shift = mp.log(2) - mp.log(n - d) + 2 * mp.log(tau)
        lg_k = mp.loggamma(k)

        def cdf(x):
            def f(u):
                log_phi = T * (1j * u * shift + mp.loggamma(k + 1j * u) - lg_k)
                return mp.im(mp.exp(log_phi - 1j * u * x)) / u
            return mp.mpf(1) / 2 - mp.quad(f, [0, 0.5, 1, 2, 4, 8, 16, 32]) / mp.pi

        p = predict(_experiment(n, T, d, tau))
        for key, ln_q in p.ln_sigma_quantiles.items():
            level = cdf(2 * mp.mpf(ln_q))  # S_T = 2 log(sigma_T/sigma0)
            assert abs(float(level) - float(key)) < 1e-10, (key, level)
    finally:
        mp.mp.dps = 40


# ---------------------------------------------------------------------------------------
# Monte Carlo of the actual process
# ---------------------------------------------------------------------------------------


def test_monte_carlo_of_the_tempered_chain():
    # Naive simulation: every generation draws n normals from N(mu, (tau sigma)^2) and
    # refits. Each check is a z-test at |z| <= 5 (two-sided alpha = 5.7e-7 each, about
    # 5e-6 for the seven together); the seed is fixed, so the outcome is deterministic.
    n, T, d, tau, reps = 4, 10, 1.0, 1.1, 200_000
    rng = np.random.default_rng(20260419)
    mu, sigma = np.zeros(reps), np.ones(reps)
    for _ in range(T):
        before = sigma
        x = rng.normal(mu[:, None], tau * sigma[:, None], size=(reps, n))
        mu = x.mean(axis=1)
        sigma = np.sqrt(((x - mu[:, None]) ** 2).sum(axis=1) / (n - d))
    p = predict(_experiment(n, T, d, tau))

    def z_mean(sample, want, se=None):
        se = sample.std(ddof=1) / math.sqrt(reps) if se is None else se
        return (sample.mean() - want) / se

    log_s2 = np.log(sigma**2)
    assert abs(z_mean(log_s2, p.log_sigma2_mean, p.log_sigma2_sd / math.sqrt(reps))) < 5
    assert abs(z_mean(sigma, p.sigma_mean)) < 5
    assert abs(z_mean(mu**2, p.mu_var)) < 5
    for key, q in p.sigma_quantiles.items():
        level = float(key)
        assert abs(z_mean(sigma <= q, level, math.sqrt(level * (1 - level) / reps))) < 5
    shrank = sigma < before
    assert abs(z_mean(shrank, p.prob_step_shrinks,
                      math.sqrt(p.prob_step_shrinks * (1 - p.prob_step_shrinks) / reps))) < 5
