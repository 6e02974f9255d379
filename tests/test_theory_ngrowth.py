"""n-growth theory: exact identities (property-based), mpmath references at 30-40 digits by
routes independent of the module (gamma functions directly, step-by-step recursions, a
numerical convolution and a Gil-Pelaez integral for the CDF, closed forms and nsum for the
limit), the limit against the direct sum at a huge horizon, and seeded Monte Carlo runs."""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import special
from tests.strategies import horizons, n_and_ddof, sigmas

from collapsecheck import Experiment
from collapsecheck.experiment import n_at, n_schedule
from collapsecheck.families.gaussian.theory import ngrowth, replace, temperature
from collapsecheck.families.gaussian.theory.ngrowth import (
    GrowthLaw,
    converges,
    growth_limit,
    predict,
)
from collapsecheck.families.gaussian.theory.steps import StepLaw, _centered_log_cf

FIELDS = ("log_sigma2_drift", "log_sigma2_step_var", "log_sigma2_mean", "log_sigma2_sd",
          "ln_sigma_mean", "ln_sigma2_mean", "ln_mu_var", "prob_step_shrinks")


def _experiment(n, T, ddof=0.0, P=0.0, tau=1.0, sigma0=1.0, **kw):
    return Experiment(n=n, generations=T, ddof=ddof, n_growth=P, temperature=tau,
                      sigma0=sigma0, replicates=1, seed=0, **kw)


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
    @given(st.integers(2, 10**4), st.one_of(st.sampled_from([0.0, 1 / 3, 0.5, 1.0, 2.0, 3.0]),
                                            st.floats(0.0, 10.0)), st.integers(1, 3000))
    @example(3, 1 / 3, 27)  # 27 ** (1/3) is 3.0000000000000004: 9 draws, not 10
    @example(399, 4.5, 364)  # products near a half-integer above 1e12: numpy's and
    @example(394, 4.7578125, 228)  # Python's pow differ by an ulp and round apart
    def test_schedule_is_n_at(self, n, P, T):
        assume(n * float(T) ** P <= 1e15)
        t = np.arange(1, T + 1)
        got = n_schedule(n, P, t)
        assert got.tolist() == [n_at(n, P, int(s)) for s in t]

    @settings(max_examples=30)
    @given(n_and_ddof(), horizons, sigmas)
    @example((2, 0.0), 1, 1.0)
    @example((1000, 0.0), 10**6, 1.0)
    def test_no_growth_is_the_replace_chain(self, nd, T, s0):
        n, d = nd
        e = _experiment(n, T, d, 0.0, 1.0, s0)
        got, want = predict(e), replace.predict(e)
        for name in FIELDS:
            _rel(getattr(got, name), getattr(want, name), 1e-13, 1e-300)
        for key, v in want.ln_sigma_quantiles.items():
            _rel(got.ln_sigma_quantiles[key], v, 1e-13, 1e-300)
        assert got.limit is None

    @settings(max_examples=30)
    @given(n_and_ddof(), horizons, st.floats(0.05, 20.0))
    @example((3, 0.0), 10**6, 1.3)
    def test_no_growth_is_the_temperature_chain(self, nd, T, tau):
        n, d = nd
        e = _experiment(n, T, d, 0.0, tau)
        got, want = predict(e), temperature.predict(e)
        scale = max(1.0, T * abs(math.log(tau)))
        for name in (*FIELDS, "zero_drift_temperature"):
            g, w = getattr(got, name), getattr(want, name)
            assert abs(g - w) <= 1e-13 * max(scale, abs(w)) or g == w, name
        for key, v in want.ln_sigma_quantiles.items():
            assert abs(got.ln_sigma_quantiles[key] - v) <= 1e-13 * max(scale, abs(v))

    @settings(max_examples=15)
    @given(n_and_ddof(max_ddof=5.0), st.integers(0, 100), st.floats(0.0, 3.0),
           st.floats(0.2, 5.0))
    def test_moments_are_sums_over_the_steps(self, nd, T, P, tau):
        # a simple reference: loop over the generations with the scalar step laws
        n, d = nd
        assume(n_at(n, P, max(T, 1)) <= 1e15)
        law = GrowthLaw(n, T, d, P, tau)
        sizes = [n_at(n, P, t) for t in range(1, T + 1)]
        assert law.sizes.tolist() == sizes
        lt = math.log(tau)
        drift = math.fsum(StepLaw(s, d).drift + 2 * lt for s in sizes)
        var = math.fsum(StepLaw(s, d).var for s in sizes)
        sigma = math.fsum(replace.log_sigma_moment(1, s, d, 1.0, 1.0) + lt for s in sizes)
        assert abs(law.mean - drift) <= 1e-13 * max(1.0, math.fsum(abs(StepLaw(s, d).drift)
                                                                  + 2 * abs(lt) for s in sizes))
        _rel(law.sd**2, var, 1e-13, 1e-300)
        assert abs(law.log_sigma_moment(1.0) - sigma) <= 1e-13 * max(1.0, T * (1 + abs(lt)))
        v, m2 = 0.0, 1.0  # Var(mu_t) = Var(mu_{t-1}) + tau^2 E[sigma_{t-1}^2]/n_t
        for s in sizes:
            v += tau * tau * m2 / s
            m2 *= tau * tau * (s - 1) / (s - d)
        if T == 0:
            assert law.log_mu_var() == -math.inf
        elif 1e-300 < v < 1e300:
            _rel(math.exp(law.log_mu_var()), v, 1e-11)

    @settings(max_examples=25)
    @given(st.integers(2, 50), st.integers(1, 30), st.floats(0.0, 2.0), st.floats(0.3, 3.0))
    def test_temperature_shifts_the_law(self, n, T, P, tau):
        hot, cold = GrowthLaw(n, T, 0.0, P, tau), GrowthLaw(n, T, 0.0, P)
        lt = math.log(tau)
        assert abs(hot.mean - (cold.mean + 2 * T * lt)) <= 1e-13 * (1 + abs(hot.mean) + T)
        assert hot.sd == cold.sd
        for p in (1.0, 2.0, -0.5):
            assert abs(hot.log_sigma_moment(p) - cold.log_sigma_moment(p) - p * T * lt) <= (
                1e-13 * (1 + T))
        x = hot.ppf(0.3)
        assert abs(x - (cold.ppf(0.3) + 2 * T * lt)) <= 1e-10 * (1 + abs(x))

    @given(st.floats(0.01, 40.0), st.lists(st.floats(0.5, 1e6), min_size=1, max_size=5),
           st.lists(st.integers(1, 10**6), min_size=5, max_size=5))
    def test_pooled_series_is_the_sum_of_the_steps(self, tmax, ks, ms):
        k = np.array([max(kk, 4 * tmax) for kk in ks])
        m = np.array(ms[: k.size], dtype=float)
        t = np.linspace(-tmax, tmax, 41)
        want = sum(mm * _centered_log_cf(t, kk) for kk, mm in zip(k, m, strict=True))
        got = ngrowth._sum_centered_log_cf_series(t, k, m)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)

    def test_converges_exactly_when_p_above_one_at_temperature_one(self):
        assert converges(1.0001) and converges(2.0) and converges(10.0)
        assert not converges(1.0) and not converges(0.5) and not converges(0.0)
        assert not converges(2.0, temperature=1.01) and not converges(2.0, temperature=0.9)
        assert growth_limit(5, 0.0, 1.0) is None
        assert growth_limit(5, 0.0, 2.0, temperature=1.1) is None

    def test_prediction_fields_and_notes(self):
        p = predict(_experiment(3, 8, 0.0, 1.0, 1.05))
        assert p.regime == "replace" and p.limit is None
        assert set(p.exact) >= {"sigma_mean", "sigma2_mean", "log_sigma2_mean", "mu_var",
                                "sigma_quantiles", "log_sigma2_drift"}
        assert "limit" not in p.exact
        assert list(p.ln_sigma_quantiles) == ["0.025", "0.5", "0.975"]
        assert "n_T = 24" in p.methods["log_sigma2_drift"]
        assert any("P = 1 <= 1" in note for note in p.notes)
        _rel(p.log_sigma2_drift, StepLaw(24).drift + 2 * math.log(1.05), 1e-15)
        hot = predict(_experiment(3, 8, 0.0, 2.0, 1.05))
        assert hot.limit is None and any("tends to +infinity" in s for s in hot.notes)
        lim = predict(_experiment(3, 8, 0.0, 2.0)).limit
        assert {"log_sigma2_mean", "log_sigma2_sd", "sigma2_mean", "mu_var", "method",
                "error_bounds"} <= set(lim)

    def test_over_budget_gives_no_quantiles(self, monkeypatch):
        # the real budget: 10^6 distinct n_t cost more than 6e7 zetas, refused up front
        law = GrowthLaw(10, 10**6, 0.0, 1.0)
        assert not law.invertible and "budget" in law.inversion_note
        assert math.isfinite(law.mean) and math.isfinite(law.log_mu_var())
        with pytest.raises(ValueError, match="the law of S_T is not inverted"):
            law.cdf(0.0)
        # a lowered budget, to exercise the node count on a small case
        monkeypatch.setattr(ngrowth, "INVERSION_BUDGET", 1000)
        p = predict(_experiment(3, 8, 0.0, 1.0))
        assert p.ln_sigma_quantiles is None and p.sigma_quantiles is None
        assert "sigma_quantiles" not in p.exact
        assert "not computed" in p.methods["sigma_quantiles"]
        assert any("quadrature nodes" in note for note in p.notes)
        assert p.final()["sigma_quantiles"] is None

    def test_long_horizon_stays_finite(self):
        p = predict(_experiment(3, 10**6, 0.0, 0.3, 0.8))
        for name in FIELDS:
            assert math.isfinite(getattr(p, name)), name
        assert all(math.isfinite(v) for v in p.ln_sigma_quantiles.values())

    @pytest.mark.parametrize(("changes", "match"), [
        (dict(regime="accumulate"), "`regime` 'replace' only"),
        (dict(truncate=2.0), "`truncate` None"),
    ])
    def test_other_regimes_are_refused(self, changes, match):
        with pytest.raises(ValueError, match=match):
            predict(_experiment(5, 3, 0.0, 1.0, **changes))

    def test_bad_parameters_are_refused(self):
        with pytest.raises(ValueError, match=r"`n_growth` \(the exponent P"):
            GrowthLaw(5, 3, 0.0, -1.0)
        with pytest.raises(TypeError, match="`temperature` must be a real number"):
            GrowthLaw(5, 3, 0.0, 1.0, "hot")
        with pytest.raises(ValueError, match="would draw"):
            GrowthLaw(10, 10**6, 0.0, 3.0)


# ---------------------------------------------------------------------------------------
# Against mpmath, by other routes
# ---------------------------------------------------------------------------------------

MOMENT_CASES = [  # n, T, ddof, P, tau, sigma0
    (2, 6, 0.0, 1.0, 1.0, 1.0),
    (3, 12, 1.0, 0.5, 1.1, 2.0),
    (5, 9, 0.5, 2.0, 0.9, 1.0),
    (4, 40, 0.0, 1 / 3, 1.02, 0.5),
]


@pytest.mark.parametrize("case", MOMENT_CASES, ids=[f"n{c[0]}-T{c[1]}-P{c[3]:.3g}"
                                                    for c in MOMENT_CASES])
def test_moments_against_mpmath(mp, case):
    n, T, d, P, tau, s0 = case
    p = predict(_experiment(n, T, d, P, tau, s0))
    dm, taum, s0m = mp.mpf(d), mp.mpf(tau), mp.mpf(s0)
    drift = var = mp.mpf(0)
    ln_s, ln_s2 = mp.log(s0m), 2 * mp.log(s0m)
    v, m2 = mp.mpf(0), s0m**2
    for t in range(1, T + 1):
        nt = n_at(n, P, t)
        k = mp.mpf(nt - 1) / 2
        drift += mp.digamma(k) + mp.log(2) - mp.log(nt - dm) + 2 * mp.log(taum)
        var += mp.psi(1, k)
        ln_s += mp.log(taum * mp.sqrt(2 / (nt - dm)) * mp.gamma(k + 0.5) / mp.gamma(k))
        ln_s2 += mp.log(taum**2 * 2 / (nt - dm) * mp.gamma(k + 1) / mp.gamma(k))
        v += taum**2 * m2 / nt
        m2 *= taum**2 * (nt - 1) / (nt - dm)
    want = dict(log_sigma2_mean=2 * mp.log(s0m) + drift, log_sigma2_sd=mp.sqrt(var),
                ln_sigma_mean=ln_s, ln_sigma2_mean=ln_s2, ln_mu_var=mp.log(v))
    for name, value in want.items():
        _rel(getattr(p, name), float(value), 1e-12, 1e-15)
    nT = n_at(n, P, T)
    kT = mp.mpf(nT - 1) / 2
    _rel(p.prob_step_shrinks,
         float(mp.gammainc(kT, 0, (nT - dm) / taum**2 / 2, regularized=True)), 1e-12)


def test_two_generations_cdf_by_convolution(mp):
    # S_2 = X_1 + X_2 (n_1 = 3, n_2 = 6): F(x) = int f_{Q1}(q) F_{X2}(x - log(q/(n1-d))
    # - 2 log tau) dq, with the chi-square density and the regularised incomplete gamma,
    # by mpmath quadrature at 30 digits; quantiles are checked by evaluating this CDF.
    n, d, P, tau = 3, 0.5, 1.0, 1.2
    law = GrowthLaw(n, 2, d, P, tau)
    assert law.groups[0].tolist() == [3, 6]
    mp.mp.dps = 30
    try:
        lt2 = 2 * mp.log(tau)
        k1, k2 = mp.mpf(1), mp.mpf(5) / 2

        def cdf(x):
            def f(q):
                dens = q ** (k1 - 1) * mp.exp(-q / 2) / (2**k1 * mp.gamma(k1))
                z = x - mp.log(q / (n - d)) - lt2
                return dens * mp.gammainc(k2, 0, (6 - d) * mp.exp(z - lt2) / 2,
                                          regularized=True)
            return mp.quad(f, [0, 0.5, 2, 6, 15, 40, mp.inf])

        for x in (-0.5,):
            assert abs(float(law.cdf(x)) - float(cdf(x))) < 1e-11, x
        for level in (0.025, 0.5, 0.975):
            assert abs(float(cdf(law.ppf(level))) - level) < 1e-11, level
    finally:
        mp.mp.dps = 40


def test_six_generations_cdf_by_gil_pelaez_in_mpmath(mp):
    # n_t = 3 t^3: 3, 24, 81, 192, 375, 648; the inversion evaluates the three smallest n_t
    # node by node and pools the rest into one series. The reference integrates
    # 1/2 - (1/pi) int Im[e^{-iux} prod_t phi_t(u)]/u du with mpmath at 30 digits.
    n, T, d, P, tau = 3, 6, 0.0, 3.0, 1.0
    law = GrowthLaw(n, T, d, P, tau)
    assert 0 < law._plan.direct.size < law.groups[0].size  # both code paths are used
    mp.mp.dps = 30
    try:
        sizes = [int(s) for s in law.sizes]
        ks = [mp.mpf(s - 1) / 2 for s in sizes]
        shift = sum(mp.log(2) - mp.log(s - d) for s in sizes)
        lg = sum(mp.loggamma(k) for k in ks)

        def cdf(x):
            def f(u):
                log_phi = 1j * u * (shift - x) + sum(mp.loggamma(k + 1j * u) for k in ks) - lg
                return mp.im(mp.exp(log_phi)) / u
            return mp.mpf(1) / 2 - mp.quad(f, [0, 2, 8, 32]) / mp.pi  # |phi(32)| < 1e-60

        p = predict(_experiment(n, T, d, P, tau))
        for key, ln_q in p.ln_sigma_quantiles.items():
            assert abs(float(cdf(2 * mp.mpf(ln_q))) - float(key)) < 1e-10, key
    finally:
        mp.mp.dps = 40


LIMIT_CASES = [(5, 0.0), (5, 1.0), (5, 0.5), (2, 0.0), (12, 1.5)]


@pytest.mark.parametrize(("n", "d"), LIMIT_CASES)
def test_limit_against_closed_forms_and_nsum(mp, n, d):
    # With P = 2, n_t = n t^2 exactly, so with a = n^-1/2, b = (d/n)^1/2 every factor is
    # (t^2 - a^2)/(t^2 - b^2): R_inf = b sin(pi a)/(a sin(pi b)) (Euler's product for sine),
    # R_{t-1} = G(t-a)G(t+a)G(1-b)G(1+b)/(G(1-a)G(1+a)G(t-b)G(t+b)), and the series of the
    # drifts, variances and R_{t-1}/n_t are summed by mpmath's nsum (Richardson/Shanks).
    mp.mp.dps = 30
    try:
        lim = growth_limit(n, d, 2.0, sigma0=1.5)
        dm = mp.mpf(d)
        a, b = 1 / mp.sqrt(n), mp.sqrt(dm / n)
        r_inf = (b * mp.sin(mp.pi * a) / (a * mp.sin(mp.pi * b))) if d else (
            mp.sin(mp.pi * a) / (mp.pi * a))
        g = mp.gamma
        const = (g(1 - b) * g(1 + b)) / (g(1 - a) * g(1 + a))

        def r_before(t):
            return const * g(t - a) * g(t + a) / (g(t - b) * g(t + b))

        drift = mp.nsum(lambda t: mp.digamma((n * t**2 - 1) / 2) + mp.log(2)
                        - mp.log(n * t**2 - dm), [1, mp.inf])
        var = mp.nsum(lambda t: mp.psi(1, (n * t**2 - 1) / 2), [1, mp.inf])
        mu = mp.nsum(lambda t: r_before(t) / (n * t**2), [1, mp.inf])
        want = dict(log_sigma2_mean=2 * mp.log(1.5) + drift, log_sigma2_sd=mp.sqrt(var),
                    sigma2_mean=mp.mpf(1.5) ** 2 * r_inf, mu_var=mp.mpf(1.5) ** 2 * mu)
        for key, value in want.items():
            err = abs(lim[key] - float(value))
            # the stated bound holds (plus the final rounding to a double), and is tight
            assert err <= lim["error_bounds"][key] + 4e-16 * abs(float(value)), key
            assert lim["error_bounds"][key] < 1e-13 * max(1.0, abs(float(value))), key
            _rel(lim[key], float(value), 1e-14, 1e-15)
        _rel(math.exp(lim["ln_sigma2_mean"]), lim["sigma2_mean"], 1e-15)
    finally:
        mp.mp.dps = 40


def test_limit_against_the_direct_sum_at_a_huge_horizon():
    # P = 1.5 (n_t not exact powers, the ceiling matters): the law at T = 2^18 falls short
    # of the limit by the tail of the leading terms, sum_{t > T} c/(n t^P), up to
    # B zeta(2P, T+1)/n^2 and the limit's stated bound.
    n, d, P, T = 4, 0.0, 1.5, 2**18
    lim = growth_limit(n, d, P)
    law = GrowthLaw(n, T, d, P)
    z1, z2 = float(special.zeta(P, T + 1)), float(special.zeta(2 * P, T + 1))
    b_drift, b_var, b_ratio = ngrowth._tail_constants(d)
    bounds = lim["error_bounds"]
    gap = lim["log_sigma2_mean"] - (law.mean - (2 - d) * z1 / n)
    assert abs(gap) <= bounds["log_sigma2_mean"] + b_drift * z2 / n**2 + 1e-15
    assert abs(law.mean - lim["log_sigma2_mean"]) > 1e-4  # the tail itself is not negligible
    gap = lim["log_sigma2_sd"] ** 2 - (law.sd**2 + 2 * z1 / n)
    assert abs(gap) <= 3 * bounds["log_sigma2_sd"] + b_var * z2 / n**2 + 1e-15
    gap = lim["ln_sigma2_mean"] - (law.log_sigma_moment(2.0) - (1 - d) * z1 / n)
    assert abs(gap) <= bounds["sigma2_mean"] / lim["sigma2_mean"] + b_ratio * z2 / n**2 + 1e-15
    mu_t = math.exp(law.log_mu_var())
    assert 0 < lim["mu_var"] - mu_t <= lim["sigma2_mean"] * z1 / n * 1.001 + bounds["mu_var"]


# ---------------------------------------------------------------------------------------
# Monte Carlo
# ---------------------------------------------------------------------------------------


def test_monte_carlo_of_the_growing_chain():
    # Naive simulation of the actual process: generation t draws n_t = ceil(n t^P) normals
    # from N(mu, (tau sigma)^2) and refits. Each check is a z-test at |z| <= 5 (two-sided
    # alpha = 5.7e-7 each, about 5e-6 for the nine together); the seed is fixed.
    n, T, d, P, tau, reps = 3, 8, 0.0, 1.0, 1.05, 200_000
    rng = np.random.default_rng(20260420)
    mu, sigma = np.zeros(reps), np.ones(reps)
    for t in range(1, T + 1):
        nt = n_at(n, P, t)
        before = sigma
        x = rng.normal(mu[:, None], tau * sigma[:, None], size=(reps, nt))
        mu = x.mean(axis=1)
        sigma = np.sqrt(((x - mu[:, None]) ** 2).sum(axis=1) / (nt - d))
    p = predict(_experiment(n, T, d, P, tau))
    law = GrowthLaw(n, T, d, P, tau)

    def z(sample, want, se=None):
        se = sample.std(ddof=1) / math.sqrt(reps) if se is None else se
        return (sample.mean() - want) / se

    log_s2 = np.log(sigma**2)
    assert abs(z(log_s2, p.log_sigma2_mean, p.log_sigma2_sd / math.sqrt(reps))) < 5
    # Var of log sigma^2: the sample variance's SE from the exact cumulants
    centred = (log_s2 - p.log_sigma2_mean) ** 2
    se_var = math.sqrt((law.cumulant(4) + 2 * law.sd**4) / reps)
    assert abs(z(centred, p.log_sigma2_sd**2, se_var)) < 5
    assert abs(z(sigma, p.sigma_mean)) < 5
    assert abs(z(sigma**2, p.sigma2_mean)) < 5
    assert abs(z(mu**2, p.mu_var)) < 5
    for key, q in p.sigma_quantiles.items():
        level = float(key)
        assert abs(z(sigma <= q, level, math.sqrt(level * (1 - level) / reps))) < 5
    s = p.prob_step_shrinks
    assert abs(z(sigma < before, s, math.sqrt(s * (1 - s) / reps))) < 5


def test_monte_carlo_of_the_pooled_series_case():
    # n_t = 3 t^3 up to 648 (both inversion paths): the steps drawn from their exact law,
    # log(chi2_{n_t - 1}/(n_t - d)), 2e5 replicates; the quantiles' coverage and the mean
    # are z-tested at |z| <= 5 (alpha = 5.7e-7 each).
    n, T, d, P, reps = 3, 6, 0.0, 3.0, 200_000
    law = GrowthLaw(n, T, d, P)
    rng = np.random.default_rng(20260421)
    s = sum(np.log(rng.chisquare(nt - 1, size=reps) / (nt - d)) for nt in law.sizes)
    assert abs((s.mean() - law.mean) / (law.sd / math.sqrt(reps))) < 5
    for level in (0.025, 0.5, 0.975):
        frac = np.mean(s <= law.ppf(level))
        assert abs(frac - level) / math.sqrt(level * (1 - level) / reps) < 5
