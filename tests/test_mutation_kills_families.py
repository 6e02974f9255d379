"""Tests written to kill mutants that survived ``tools/mutation.py`` (reports/mutation/) in
the categorical and multivariate Gaussian families' exact theory and in the shared audit
grading (src/collapsecheck/audit.py). Each number is checked against an independent
reference (mpmath at high precision, a closed form, or a direct loop written here from the
documented recursion), each grading rule at its boundaries and by its exact wording."""

import math

import numpy as np
import pytest

from collapsecheck.results import Verdict

# ---------------------------------------------------------------------------------------
# Shared audit grading (src/collapsecheck/audit.py)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("p", "verdict"), [
    (0.0, Verdict.FAIL), (0.00999, Verdict.FAIL), (0.01, Verdict.WEAK),
    (0.0999, Verdict.WEAK), (0.1, Verdict.PASS), (0.5, Verdict.PASS), (1.0, Verdict.PASS)])
def test_consistency_verdict_boundaries_and_reasons(p, verdict):
    from collapsecheck.audit import consistency_verdict

    got, reason = consistency_verdict(p, 0.01, 0.1)
    assert got is verdict
    expected = {
        Verdict.FAIL: "p < 0.01, this check's share of the budget",
        Verdict.WEAK: ("p < weak_alpha = 0.1: unusual but not damning; fixed data cannot "
                       "be re-run, so it stands"),
        Verdict.PASS: "",
    }[verdict]
    assert reason == expected


def test_consistency_verdict_formats_alpha_to_three_significant_digits():
    from collapsecheck.audit import consistency_verdict

    verdict, reason = consistency_verdict(1e-9, 0.000123456, 0.001)
    assert verdict is Verdict.FAIL
    assert reason == "p < 0.000123, this check's share of the budget"
    verdict, reason = consistency_verdict(0.0005, 0.0001, 0.00123456)
    assert verdict is Verdict.WEAK
    assert reason.startswith("p < weak_alpha = 0.00123456: ")


def test_graded_check_fields_and_dict():
    from collapsecheck.audit import AuditCheck, graded_check

    effect, numbers = {"delta": 0.3}, {"n": 7}
    c = graded_check("x.id", "a statement", "a test", 3, 0.004, 0.005, 0.05, effect,
                     numbers)
    assert isinstance(c, AuditCheck)
    assert (c.id, c.statement, c.test) == ("x.id", "a statement", "a test")
    assert c.verdict is Verdict.FAIL
    assert c.reason == "p < 0.005, this check's share of the budget"
    assert type(c.statistic) is float and c.statistic == 3.0
    assert type(c.pvalue) is float and c.pvalue == 0.004
    assert c.alpha == 0.005
    assert c.detectable_effect is effect and c.numbers is numbers
    assert c.kind == "consistency"
    assert c.to_dict() == {
        "id": "x.id", "statement": "a statement", "test": "a test", "verdict": "FAIL",
        "statistic": 3.0, "pvalue": 0.004, "alpha": 0.005,
        "reason": "p < 0.005, this check's share of the budget",
        "detectable_effect": {"delta": 0.3}, "numbers": {"n": 7}}
    weak = graded_check("y", "s", "t", 1.5, 0.02, 0.005, 0.05, {}, {})
    assert weak.verdict is Verdict.WEAK and weak.reason.startswith("p < weak_alpha = 0.05")
    ok = graded_check("z", "s", "t", 0.1, 0.5, 0.005, 0.05, {}, {})
    assert ok.verdict is Verdict.PASS and ok.reason == ""


def test_audit_result_verdict_and_dict():
    from collapsecheck.audit import AuditResult, graded_check

    checks = (graded_check("a", "s", "t", 0.0, 0.5, 0.01, 0.05, {}, {}),
              graded_check("b", "s", "t", 0.0, 0.03, 0.01, 0.05, {}, {}))
    r = AuditResult("src.csv", {"n": 3}, checks, {"r": 1}, {"c": "why"}, ("note",),
                    {"reach": 2})
    assert r.verdict is Verdict.WEAK
    d = r.to_dict()
    assert d == {"verdict": "WEAK", "source": "src.csv", "spec": {"n": 3},
                 "checks": [c.to_dict() for c in checks], "rate": {"r": 1},
                 "skipped": {"c": "why"}, "notes": ["note"], "reach": {"reach": 2}}
    fail = AuditResult("s", {}, (*checks, graded_check("c", "s", "t", 0, 1e-6, 0.01, 0.05,
                                                        {}, {})), {}, {})
    assert fail.verdict is Verdict.FAIL and fail.to_dict()["notes"] == []
    assert AuditResult("s", {}, checks[:1], {}, {}).verdict is Verdict.PASS


def test_audit_serves_the_gaussian_names():
    import collapsecheck.audit as audit
    import collapsecheck.families.gaussian.audit as gaussian

    assert audit.audit_chains is gaussian.audit_chains
    assert audit.n_from_step_variance is gaussian.n_from_step_variance
    names = dir(audit)
    assert names == sorted(names)
    assert {"audit_chains", "consistency_verdict", "graded_check"} <= set(names)
    assert not any(k.startswith("__") and k not in vars(audit) for k in names)
    with pytest.raises(AttributeError, match=r"module 'collapsecheck.audit' has no "
                                             r"attribute 'no_such_name'"):
        audit.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="__wrapped__"):
        audit.__wrapped__  # noqa: B018


# ---------------------------------------------------------------------------------------
# Multivariate Gaussian theory (families/mvgaussian/theory.py, accumulate.py)
# ---------------------------------------------------------------------------------------

mpmath = pytest.importorskip("mpmath")
MP = mpmath.mp.clone() if hasattr(mpmath.mp, "clone") else mpmath.mp
MP.dps = 40


def mp_gamma_i(n, i, ddof):
    """psi((n - i)/2) + log 2 - log(n - d) in mpmath."""
    return MP.digamma(MP.mpf(n - i) / 2) + MP.log(2) - MP.log(MP.mpf(n) - MP.mpf(ddof))


@pytest.mark.parametrize(("n", "dim", "ddof"), [(5, 3, 0.0), (12, 4, 1.0), (40, 1, 0.5),
                                                (200, 7, 1.0)])
def test_mv_rates_against_mpmath(n, dim, ddof):
    from collapsecheck.families.mvgaussian import theory as th

    gam = [mp_gamma_i(n, i, ddof) for i in range(1, dim + 1)]
    got = th.lyapunov_spectrum(n, dim, ddof)
    assert got.shape == (dim,)
    for g, ref in zip(got, gam, strict=True):
        assert g == pytest.approx(float(ref), rel=1e-13, abs=1e-15)
    assert th.logdet_drift(n, dim, ddof) == pytest.approx(float(sum(gam)), rel=1e-13,
                                                           abs=1e-14)
    var = sum(MP.polygamma(1, MP.mpf(n - i) / 2) for i in range(1, dim + 1))
    assert th.logdet_step_var(n, dim) == pytest.approx(float(var), rel=1e-13)
    rate = th.anisotropy_rate(n, dim)
    if dim == 1:
        assert rate == 0.0 and type(rate) is float
    else:
        ref = MP.digamma(MP.mpf(n - 1) / 2) - MP.digamma(MP.mpf(n - dim) / 2)
        assert rate == pytest.approx(float(ref), rel=1e-13)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n": 5.0, "dim": 2}, TypeError, r"^`n` must be a whole number; got 5\.0\.$"),
    ({"n": True, "dim": 2}, TypeError, r"^`n` must be a whole number; got True\.$"),
    ({"n": 5, "dim": 2.0}, TypeError, r"^`dim` must be a whole number; got 2\.0\.$"),
    ({"n": 5, "dim": False}, TypeError, r"^`dim` must be a whole number; got False\.$"),
    ({"n": 5, "dim": 0}, ValueError, r"^`dim` must be at least 1; got 0\.$"),
    ({"n": 3, "dim": 3}, ValueError, r"^`n` must exceed `dim`; got n=3 with dim=3\.$"),
    ({"n": 5, "dim": 2, "ddof": 5.0}, ValueError,
     r"^`ddof` must satisfy 0 <= ddof < n; got ddof=5\.0 with n=5\.$"),
    ({"n": 5, "dim": 2, "ddof": -0.5}, ValueError, r"got ddof=-0\.5 with n=5\.$"),
    ({"n": 5, "dim": 2, "ddof": math.nan}, ValueError, r"got ddof=nan with n=5\.$"),
])
def test_mv_input_validation(kwargs, error, match):
    from collapsecheck.families.mvgaussian import theory as th

    with pytest.raises(error, match=match):
        th.lyapunov_spectrum(**kwargs)
    with pytest.raises(error, match=match):
        th.LogDetLaw(kwargs["n"], 3, kwargs.get("ddof", 0.0), dim=kwargs["dim"])


def test_mv_validation_accepts_the_edges():
    from collapsecheck.families.mvgaussian import theory as th

    assert th.lyapunov_spectrum(np.int64(3), np.int64(2), 2.999).shape == (2,)
    assert th.lyapunov_spectrum(2, 1, 0.0).shape == (1,)
    assert th.logdet_step_var(4, 3) == pytest.approx(float(MP.polygamma(1, MP.mpf(0.5))
                                                           + MP.polygamma(1, 1)
                                                           + MP.polygamma(1, MP.mpf(1.5))),
                                                     rel=1e-13)
    with pytest.raises(ValueError, match=r"^`n` must exceed `dim`; got n=4 with dim=4\.$"):
        th.logdet_step_var(4, 4)
    with pytest.raises(ValueError, match=r"^`n` must exceed `dim`; got n=4 with dim=4\.$"):
        th.anisotropy_rate(4, 4)


@pytest.mark.parametrize(("n", "dim", "T", "ddof"), [(6, 3, 4, 0.0), (9, 2, 1, 1.0),
                                                     (30, 5, 7, 0.5)])
def test_logdet_law_groups_mean_sd_against_mpmath(n, dim, T, ddof):
    from collapsecheck.families.mvgaussian import theory as th

    law = th.LogDetLaw(n, T, ddof, dim=dim)
    sizes, mult = law.groups
    assert sizes.dtype == np.int64 and mult.dtype == np.int64
    assert sizes.tolist() == list(range(n - dim + 1, n + 1))
    assert mult.tolist() == [T] * dim
    mean = T * sum(mp_gamma_i(n, i, ddof) for i in range(1, dim + 1))
    var = T * sum(MP.polygamma(1, MP.mpf(n - i) / 2) for i in range(1, dim + 1))
    assert law.mean == pytest.approx(float(mean), rel=1e-12)
    assert law.sd == pytest.approx(float(MP.sqrt(var)), rel=1e-12)
    assert float(law.cdf(law.ppf(0.3))) == pytest.approx(0.3, abs=1e-9)


def test_logdet_law_edges():
    from collapsecheck.families.gaussian.theory import LogVarianceLaw
    from collapsecheck.families.mvgaussian import theory as th

    law0 = th.LogDetLaw(7, 0, 0.0, dim=3)
    assert law0.groups[0].size == 0 and law0.groups[1].size == 0
    assert law0.groups[0].dtype == np.int64 and law0.groups[1].dtype == np.int64
    one = th.LogDetLaw(11, 5, 1.0, dim=1)
    assert one.mean == LogVarianceLaw(11, 5, 1.0).mean
    with pytest.raises(ValueError, match=r"^a LogDetLaw has no `n_growth` or "
                                         r"`temperature`\.$"):
        th.LogDetLaw(7, 2, 0.0, dim=2, n_growth=1.0)
    with pytest.raises(ValueError, match=r"^a LogDetLaw has no `n_growth` or "
                                         r"`temperature`\.$"):
        th.LogDetLaw(7, 2, 0.0, dim=2, temperature=0.5)
    with pytest.raises(TypeError, match=r"^`generations` must be a whole number"):
        th.LogDetLaw(7, 2.0, 0.0, dim=2)
    with pytest.raises(AttributeError, match=r"^a LogDetLaw has no sigma moments; see "
                                             r"`ln_trace_mean`\.$"):
        th.LogDetLaw(7, 2, 0.0, dim=2).log_sigma_moment()
    with pytest.raises(AttributeError, match=r"^a LogDetLaw has no mu variance; see "
                                             r"`ln_mu_sq_norm_mean`\.$"):
        th.LogDetLaw(7, 2, 0.0, dim=2).log_mu_var()


def mp_trace_var(T, n, ddof, a0, b0):
    """Var tr Sigma_T by iterating the 2 x 2 second-moment recursion in mpmath."""
    m, c = MP.mpf(n - 1), MP.mpf(n) - MP.mpf(ddof)
    a, b = MP.mpf(a0) ** 2, MP.mpf(b0)
    for _ in range(T):
        a, b = m / c**2 * (m * a + 2 * b), m / c**2 * (a + (m + 1) * b)
    mean = MP.mpf(a0) * (m / c) ** T
    return a - mean**2


@pytest.mark.parametrize(("T", "n", "ddof", "tr0", "trsq0"), [
    (1, 5, 0.0, 3.0, 3.0), (4, 6, 1.0, 2.5, 1.5), (3, 2, 0.0, 1.0, 1.0),
    (7, 30, 0.5, 4.0, 2.0), (2, 10**6, 1.0, 3.0, 3.0), (3, 5000, 0.0, 2.0, 1.5),
    (1, 1000, 1.0, 2.0, 4.0)])
def test_ln_trace_moments_against_mpmath(T, n, ddof, tr0, trsq0):
    from collapsecheck.families.mvgaussian import theory as th

    r = MP.mpf(n - 1) / (MP.mpf(n) - MP.mpf(ddof))
    assert th.ln_trace_mean(T, n, ddof, tr0) == pytest.approx(
        float(T * MP.log(r) + MP.log(tr0)), rel=1e-13, abs=1e-14)
    var = mp_trace_var(T, n, ddof, tr0, trsq0)
    assert th.ln_trace_var(T, n, ddof, tr0, trsq0) == pytest.approx(float(MP.log(var)),
                                                                   rel=1e-11, abs=1e-11)
    mu = MP.mpf(tr0) / n * sum(r**t for t in range(T))
    assert th.ln_mu_sq_norm_mean(T, n, ddof, tr0) == pytest.approx(float(MP.log(mu)),
                                                                   rel=1e-13, abs=1e-14)
    cov = th.expected_covariance(T, n, ddof, [[tr0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(cov, float(r**T) * np.array([[tr0, 0.5], [0.5, 1.0]]),
                               rtol=1e-14)


@pytest.mark.parametrize(("T", "n", "ddof"), [(3000, 4, 0.0), (2000, 6, 1.0)])
def test_ln_trace_var_overflow_branch_against_mpmath(T, n, ddof):
    from collapsecheck.families.mvgaussian import theory as th

    a0, b0 = 3.0, 2.0
    m = MP.mpf(n - 1)
    r = m / (MP.mpf(n) - MP.mpf(ddof))
    A = (1 + 2 / m) ** T - 1
    B = (1 - 1 / m) ** T - 1
    ref = 2 * T * MP.log(r) + MP.log(a0**2 * (A + 2 * B) / 3 + 2 * b0 * (A - B) / 3)
    assert th.ln_trace_var(T, n, ddof, a0, b0) == pytest.approx(float(ref), rel=1e-12)


def test_ln_trace_edges_and_a_plus_2b():
    from collapsecheck.families.mvgaussian import theory as th

    assert th.ln_trace_var(0, 5, 0.0, 2.0, 2.0) == -math.inf
    assert th.ln_mu_sq_norm_mean(0, 5, 0.0, 2.0) == -math.inf
    np.testing.assert_array_equal(th.expected_covariance(0, 5, 1.0, np.eye(2) * 3), np.eye(2) * 3)
    for T, m in [(2, 7), (5, 1000), (3, 10**6), (1, 9)]:
        ref = (1 + MP.mpf(2) / m) ** T + 2 * (1 - MP.mpf(1) / m) ** T - 3
        got = th._a_plus_2b(T, m)
        if T == 1:
            assert got == 0.0
        else:
            assert got == pytest.approx(float(ref), rel=1e-14)
    for bad in (1.0, True):
        with pytest.raises(TypeError, match="`generations` must be a whole number"):
            th.ln_trace_mean(bad, 5, 0.0, 1.0)
        with pytest.raises(TypeError, match="`generations` must be a whole number"):
            th.ln_trace_var(bad, 5, 0.0, 1.0, 1.0)
        with pytest.raises(TypeError, match="`generations` must be a whole number"):
            th.ln_mu_sq_norm_mean(bad, 5, 0.0, 1.0)
        with pytest.raises(TypeError, match="`generations` must be a whole number"):
            th.expected_covariance(bad, 5, 0.0, np.eye(2))


def test_mv_predict_record_against_independent_values():
    from collapsecheck.families.mvgaussian import theory as th
    from collapsecheck.families.mvgaussian.parameters import MVGaussianExperiment

    cov = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]])
    e = MVGaussianExperiment(n=9, dim=3, generations=4, replicates=10, ddof=1.0,
                             covariance=cov, seed=1)
    p = th.predict(e)
    ld0 = float(MP.log(MP.det(MP.matrix(cov.tolist()))))
    r = MP.mpf(8) / 8
    tr0, trsq0 = 3.5, float(np.sum(cov * cov))
    law = th.LogDetLaw(9, 4, 1.0, dim=3)
    assert (p.n, p.dim, p.generations, p.ddof) == (9, 3, 4, 1.0)
    assert p.logdet0 == pytest.approx(ld0, rel=1e-13, abs=1e-14)
    assert p.logdet_mean == pytest.approx(ld0 + law.mean, rel=1e-13)
    assert p.logdet_sd == law.sd
    assert set(p.logdet_quantiles) == {"0.025", "0.5", "0.975"}
    for key, level in (("0.025", 0.025), ("0.5", 0.5), ("0.975", 0.975)):
        assert float(law.cdf(p.logdet_quantiles[key] - p.logdet0)) == pytest.approx(
            level, abs=1e-9)
    assert p.trace_mean == pytest.approx(float(tr0 * r**4), rel=1e-13)
    assert p.trace_sd == pytest.approx(float(MP.sqrt(mp_trace_var(4, 9, 1.0, tr0, trsq0))),
                                       rel=1e-11)
    assert p.mu_sq_norm_mean == pytest.approx(tr0 / 9 * 4, rel=1e-13)
    assert p.lyapunov == tuple(th.lyapunov_spectrum(9, 3, 1.0).tolist())
    assert p.logdet_drift == th.logdet_drift(9, 3, 1.0)
    assert p.logdet_step_var == th.logdet_step_var(9, 3)
    assert p.anisotropy_rate == th.anisotropy_rate(9, 3)
    assert p.notes == ()
    d = p.to_dict()
    assert d["family"] == "mvgaussian"
    assert d["exact"] == list(th.EXACT_KEYS) and d["limits"] == list(th.LIMIT_KEYS)
    assert d["lyapunov"] == list(p.lyapunov) and d["notes"] == []
    assert (d["logdet_drift"], d["logdet_step_var"], d["anisotropy_rate"]) == (
        p.logdet_drift, p.logdet_step_var, p.anisotropy_rate)
    f = d["final"]
    assert f == p.final()
    assert f["logdet_mean"] == p.logdet_mean and f["logdet_sd"] == p.logdet_sd
    assert f["logdet_quantiles"] == p.logdet_quantiles
    assert f["logdet_quantiles"] is not p.logdet_quantiles
    assert (f["trace_mean"], f["trace_sd"], f["mu_sq_norm_mean"]) == (
        p.trace_mean, p.trace_sd, p.mu_sq_norm_mean)
    assert f["log_scale"] == {"trace_mean": p.ln_trace_mean,
                              "trace_sd": 0.5 * p.ln_trace_var,
                              "mu_sq_norm_mean": p.ln_mu_sq_norm_mean}
    q = th.predict(e, quantiles=False)
    assert q.logdet_quantiles is None and q.final()["logdet_quantiles"] is None
    assert q.notes == ("logdet_quantiles: not computed (quantiles=False).",)


def accumulate_loop(T, n, ddof):
    """g_t and s_t of the accumulate chain in mpmath, from the module's formulas."""
    g, s = [], []
    for t in range(1, T + 1):
        big = MP.mpf(n * t)
        g.append(MP.mpf(n - 1) / (n - MP.mpf(ddof)) if t == 1
                 else 1 - n / (big * (big - ddof)))
        prev = MP.mpf(n * (t - 1))
        s.append(MP.sqrt(2 * ((n - 1) + (prev / big) ** 2)) / (big - ddof))
    return g, s


@pytest.mark.parametrize(("T", "n", "ddof"), [(1, 5, 0.0), (6, 4, 1.0), (9, 20, 0.5)])
def test_mv_accumulate_against_mpmath(T, n, ddof):
    from collapsecheck.families.mvgaussian import accumulate as acc

    g, s = accumulate_loop(T, n, ddof)
    np.testing.assert_allclose(acc.trace_factors(T, n, ddof), [float(x) for x in g],
                               rtol=1e-15)
    np.testing.assert_allclose(acc.ratio_scale(T, n, ddof), [float(x) for x in s],
                               rtol=1e-14)
    ref = MP.log(2.5) + sum(MP.log(x) for x in g)
    assert acc.ln_trace_mean(T, n, ddof, 2.5) == pytest.approx(float(ref), rel=1e-14,
                                                               abs=1e-15)
    assert acc.trace_factors(0, n, ddof).shape == (0,)
    assert acc.ln_trace_mean(0, n, ddof, 2.5) == math.log(2.5)


@pytest.mark.parametrize(("args", "error", "match"), [
    ((2.0, 5, 0.0), TypeError, r"^`generations` must be a whole number; got 2\.0\.$"),
    ((True, 5, 0.0), TypeError, r"^`generations` must be a whole number; got True\.$"),
    ((2, 5.0, 0.0), TypeError, r"^`n` must be a whole number; got 5\.0\.$"),
    ((2, False, 0.0), TypeError, r"^`n` must be a whole number; got False\.$"),
    ((-1, 5, 0.0), ValueError, r"^`generations` must be 0 or more; got -1\.$"),
    ((2, 1, 0.0), ValueError, r"^`n` must be at least 2; got 1\.$"),
    ((2, 5, 5.0), ValueError, r"^`ddof` must satisfy 0 <= ddof < n; got ddof=5\.0 with "
                              r"n=5\.$"),
    ((2, 5, -1.0), ValueError, r"got ddof=-1\.0 with n=5\.$"),
    ((2, 5, math.inf), ValueError, r"got ddof=inf with n=5\.$"),
])
def test_mv_accumulate_input_validation(args, error, match):
    from collapsecheck.families.mvgaussian import accumulate as acc

    for f in (acc.trace_factors, acc.ratio_scale):
        with pytest.raises(error, match=match):
            f(*args)
    with pytest.raises(error, match=match):
        acc.ln_trace_mean(*args, 1.0)


def test_mv_accumulate_edges():
    from collapsecheck.families.mvgaussian import accumulate as acc

    assert acc.trace_factors(np.int64(2), np.int64(2), 1.999).shape == (2,)
    assert acc.trace_factors(1, 2, 0.0).tolist() == [0.5]
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match=r"^`trace0` must be finite and > 0; got "):
            acc.ln_trace_mean(2, 5, 0.0, bad)
