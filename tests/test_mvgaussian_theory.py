"""Exact theory of the multivariate Gaussian chain against independent references.

``tests/reference/mvgaussian_reference.json`` comes from
``python tests/reference/make_mvgaussian_reference.py`` (mpmath, 25 digits: its own
Gil-Pelaez inversion by tanh-sinh quadrature, the trace recursion iterated rather than
solved, sums term by term). Further identities here: D = 2 against the closed form
chi2_{n-1} chi2_{n-2} = Gamma(n-2)^2 (Legendre's duplication formula), D = 1 against the
1-D chain's law, and the trace variance against mpmath's recursion over hypothesis-drawn
inputs.
"""

import json
import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from collapsecheck.families.mvgaussian.parameters import MVGaussianExperiment
from collapsecheck.families.mvgaussian.theory import (
    LogDetLaw,
    anisotropy_rate,
    expected_covariance,
    ln_mu_sq_norm_mean,
    ln_trace_mean,
    ln_trace_var,
    logdet_drift,
    logdet_step_var,
    lyapunov_spectrum,
    predict,
)
from collapsecheck.theory import LogVarianceLaw

REFERENCE = json.loads((Path(__file__).parent / "reference" / "mvgaussian_reference.json")
                       .read_text())


def _id(c):
    return f"n{c['n']}-D{c['dim']}-ddof{c['ddof']:g}-T{c.get('T', '')}"


@pytest.mark.parametrize("c", REFERENCE["logdet"], ids=_id)
def test_logdet_law_against_mpmath(c):
    law = LogDetLaw(c["n"], c["T"], c["ddof"], dim=c["dim"])
    assert law.mean == pytest.approx(c["mean"], rel=1e-13, abs=1e-13)
    assert law.sd == pytest.approx(c["sd"], rel=1e-13)
    assert logdet_drift(c["n"], c["dim"], c["ddof"]) * c["T"] == pytest.approx(
        c["mean"], rel=1e-13, abs=1e-13)
    assert logdet_step_var(c["n"], c["dim"]) * c["T"] == pytest.approx(c["sd"] ** 2, rel=1e-13)
    np.testing.assert_allclose(law.cdf(np.array(c["x"])), c["cdf"], rtol=0, atol=1e-11)
    np.testing.assert_allclose(law.pdf(np.array(c["x"])), c["pdf"], rtol=1e-9, atol=1e-12)
    for key, want in c["quantiles"].items():
        assert float(law.ppf(float(key))) == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("c", REFERENCE["logdet"], ids=_id)
def test_prediction_logdet_quantiles(c):
    """predict() shifts the law by log det Sigma_0 = D log sigma0^2."""
    e = MVGaussianExperiment(n=c["n"], dim=c["dim"], ddof=c["ddof"], generations=c["T"],
                             sigma0=2.0, replicates=1, seed=0)
    p = predict(e)
    shift = c["dim"] * math.log(4.0)
    assert p.logdet_mean == pytest.approx(c["mean"] + shift, rel=1e-13)
    assert p.logdet_sd == pytest.approx(c["sd"], rel=1e-13)
    for key, want in c["quantiles"].items():
        assert p.logdet_quantiles[key] == pytest.approx(want + shift, abs=1e-9)


@pytest.mark.parametrize("n", [4, 5, 9, 40])
@pytest.mark.parametrize("ddof", [0.0, 1.0])
def test_increment_d2_is_twice_log_gamma(n, ddof):
    """chi2_{n-1} chi2_{n-2} has the law of G^2, G ~ Gamma(n - 2, 1) (equal Mellin
    transforms by the duplication formula), so one generation's increment at D = 2 has
    CDF P(G <= e^{(x + 2 log c)/2}) = gammainc(n - 2, .)."""
    law = LogDetLaw(n, 1, ddof, dim=2)
    x = law.mean + law.sd * np.linspace(-6, 4, 41)
    want = special.gammainc(n - 2, np.exp((x + 2 * math.log(n - ddof)) / 2))
    np.testing.assert_allclose(law.cdf(x), want, rtol=0, atol=2e-12)
    for p in (1e-6, 0.025, 0.5, 0.975):
        want_q = 2 * math.log(special.gammaincinv(n - 2, p)) - 2 * math.log(n - ddof)
        assert float(law.ppf(p)) == pytest.approx(want_q, abs=1e-9)


@pytest.mark.parametrize(("n", "T", "ddof"), [(3, 1, 0.0), (10, 7, 1.0), (1000, 50, 0.0)])
def test_dimension_one_is_the_1d_law(n, T, ddof):
    """D = 1 is the 1-D chain. Its moments agree to the last ulp or two: the 1-D replace
    law takes its trigamma from families/gaussian/theory/_special.py, the log det law
    (through GrowthLaw) from scipy; the CDF and quantiles are the same code."""
    law, base = LogDetLaw(n, T, ddof, dim=1), LogVarianceLaw(n, T, ddof)
    assert law.mean == pytest.approx(base.mean, rel=4.5e-16, abs=0)
    assert law.sd == pytest.approx(base.sd, rel=4.5e-16, abs=0)
    x = base.mean + base.sd * np.array([-3.0, -1.0, 0.0, 2.0])
    np.testing.assert_allclose(law.cdf(x), base.cdf(x), rtol=1e-15, atol=0)
    assert float(law.ppf(0.3)) == pytest.approx(float(base.ppf(0.3)), rel=1e-14)


def test_logdet_law_zero_generations_is_a_point_mass():
    law = LogDetLaw(8, 0, 0.0, dim=3)
    assert law.mean == 0 and law.sd == 0
    np.testing.assert_array_equal(law.cdf([-1e-9, 0.0]), [0.0, 1.0])


def test_logdet_law_has_no_1d_moments():
    with pytest.raises(AttributeError, match="no sigma moments"):
        LogDetLaw(8, 2, 0.0, dim=3).log_sigma_moment(1.0)


@pytest.mark.parametrize("c", REFERENCE["trace"],
                         ids=lambda c: f"n{c['n']}-D{c['dim']}-T{c['T']}-s{c['sigma0']}")
def test_trace_and_mean_moments_against_mpmath(c):
    args = (c["T"], c["n"], c["ddof"])
    assert ln_trace_mean(*args, c["trace0"]) == pytest.approx(c["ln_trace_mean"], rel=1e-13,
                                                              abs=1e-13)
    assert ln_trace_var(*args, c["trace0"], c["trace_sq0"]) == pytest.approx(
        c["ln_trace_var"], rel=1e-12, abs=1e-12)
    assert ln_mu_sq_norm_mean(*args, c["trace0"]) == pytest.approx(
        c["ln_mu_sq_norm_mean"], rel=1e-13, abs=1e-13)


def test_prediction_with_a_covariance_matches_the_reference():
    c = next(c for c in REFERENCE["trace"] if c["sigma0"] is None)
    e = MVGaussianExperiment(n=c["n"], dim=c["dim"], ddof=c["ddof"], generations=c["T"],
                             covariance=REFERENCE["cov"], replicates=1, seed=0)
    p = predict(e, quantiles=False)
    assert p.ln_trace_mean == pytest.approx(c["ln_trace_mean"], rel=1e-13)
    assert p.ln_trace_var == pytest.approx(c["ln_trace_var"], rel=1e-12)
    assert p.ln_mu_sq_norm_mean == pytest.approx(c["ln_mu_sq_norm_mean"], rel=1e-13)
    assert p.logdet0 == pytest.approx(float(np.linalg.slogdet(np.array(c and
                                                                        REFERENCE["cov"]))[1]),
                                      rel=1e-14)
    np.testing.assert_allclose(expected_covariance(c["T"], c["n"], c["ddof"], e.sigma_start),
                               np.array(REFERENCE["cov"]) * math.exp(p.ln_trace_mean)
                               / np.trace(np.array(REFERENCE["cov"])), rtol=1e-13)


def _mp_trace_var(T, n, ddof, tr, tr2):
    with mp.workdps(40):
        m, c = mp.mpf(n - 1), mp.mpf(n) - mp.mpf(ddof)
        a, b = mp.mpf(tr) ** 2, mp.mpf(tr2)
        for _ in range(T):
            a, b = (m * m * a + 2 * m * b) / c**2, (m * a + (m * m + m) * b) / c**2
        return float(mp.log(a - (m / c) ** (2 * T) * mp.mpf(tr) ** 2))


@st.composite
def trace_inputs(draw):
    n = draw(st.integers(2, 400))
    ddof = draw(st.sampled_from([0.0, 1.0, 0.3]))
    T = draw(st.integers(1, 300))
    dim = draw(st.integers(1, min(n - 1, 50)))
    eig = draw(st.lists(st.floats(1e-3, 1e3), min_size=dim, max_size=dim))
    return n, ddof, T, math.fsum(eig), math.fsum(x * x for x in eig)


@given(trace_inputs())
def test_trace_variance_closed_form_equals_recursion(args):
    """The closed form through the recursion's eigenvalues (m + 2, m - 1), its
    small-T binomial branch and its overflow branch, against the recursion iterated in
    mpmath."""
    n, ddof, T, tr, tr2 = args
    assert ln_trace_var(T, n, ddof, tr, tr2) == pytest.approx(
        _mp_trace_var(T, n, ddof, tr, tr2), rel=1e-11, abs=1e-11)


def test_trace_variance_long_horizon_branch():
    """Where (1 + 2/m)^T overflows a double, against mpmath's closed-form log."""
    n, T, tr, tr2 = 3, 2000, 3.0, 5.0
    with mp.workdps(40):
        m = mp.mpf(n - 1)
        a0, b0 = mp.mpf(tr) ** 2, mp.mpf(tr2)
        A, B = (1 + 2 / m) ** T - 1, (1 - 1 / m) ** T - 1
        want = float(2 * T * mp.log(m / n) + mp.log(a0 * (A + 2 * B) / 3 + 2 * b0 * (A - B) / 3))
    assert ln_trace_var(T, n, 0.0, tr, tr2) == pytest.approx(want, rel=1e-13)
    assert ln_trace_var(0, n, 0.0, tr, tr2) == -math.inf


@pytest.mark.parametrize("c", REFERENCE["lyapunov"], ids=_id)
def test_lyapunov_spectrum_against_mpmath(c):
    got = lyapunov_spectrum(c["n"], c["dim"], c["ddof"])
    np.testing.assert_allclose(got, c["rates"], rtol=1e-13, atol=1e-15)
    assert np.all(np.diff(got) < 0)
    assert math.fsum(got) == pytest.approx(logdet_drift(c["n"], c["dim"], c["ddof"]),
                                           rel=1e-13)
    assert anisotropy_rate(c["n"], c["dim"]) == pytest.approx(c["rates"][0] - c["rates"][-1],
                                                              rel=1e-12, abs=1e-15)


def test_theory_json_layout():
    e = MVGaussianExperiment(n=32, dim=10, generations=65, replicates=1, seed=0)
    d = predict(e).to_dict()
    for key in ("logdet_drift", "logdet_step_var", "lyapunov", "anisotropy_rate", "final",
                "exact", "limits"):
        assert key in d
    assert len(d["lyapunov"]) == 10 and d["lyapunov"] == sorted(d["lyapunov"], reverse=True)
    assert set(d["final"]) >= {"logdet_mean", "logdet_sd", "logdet_quantiles", "trace_mean",
                               "trace_sd", "mu_sq_norm_mean"}
    assert set(d["final"]["logdet_quantiles"]) == {"0.025", "0.5", "0.975"}
    assert "lyapunov" in d["limits"] and "anisotropy_rate" in d["limits"]
    assert "final.trace_sd" in d["exact"]
    json.dumps(d, allow_nan=False)


@pytest.mark.parametrize(("m", "eig"), [(5, (3.0, 1.0, 0.2)), (12, (1.0, 1.0, 1.0, 1.0))])
def test_wishart_moments_behind_the_trace_recursion(m, eig):
    """The two identities the trace recursion rests on, by simulation from raw Gaussian
    data (W = Z'Z, Z an m x D standard normal matrix; not Bartlett's construction), for a
    fixed symmetric M (rotated, so not diagonal): E[tr(WM)^2] = m^2 (tr M)^2 + 2m tr M^2
    and E[tr(WMWM)] = m(m+1) tr M^2 + m (tr M)^2 (Isserlis: the k = l terms give
    (tr M)^2 + 2 tr M^2, the k != l terms tr M^2). 200,000 draws, 5 SEs; at m = 5 the
    wrong factor m^2 for m(m+1) in the second is off by 13%, about 50 SEs."""
    D = len(eig)
    rng = np.random.default_rng(99)
    Qm, _ = np.linalg.qr(rng.standard_normal((D, D)))
    M = Qm @ np.diag(eig) @ Qm.T
    R = 200_000
    Z = rng.standard_normal((R, m, D))
    W = np.einsum("rki,rkj->rij", Z, Z)
    WM = W @ M
    tr_wm = np.trace(WM, axis1=1, axis2=2)
    tr_wmwm = np.einsum("rij,rji->r", WM, WM)
    t1, t2 = float(np.trace(M)), float(np.sum(M * M))
    for x, want in ((tr_wm**2, m * m * t1 * t1 + 2 * m * t2),
                    (tr_wmwm, m * (m + 1) * t2 + m * t1 * t1)):
        se = x.std(ddof=1) / math.sqrt(R)
        assert abs(x.mean() - want) < 5 * se, (x.mean(), want, se)
        assert se < 0.01 * want
