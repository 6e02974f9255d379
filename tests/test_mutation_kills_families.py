"""Tests written to kill mutants that survived ``tools/mutation.py`` (reports/mutation/) in
the categorical and multivariate Gaussian families' exact theory and in the shared audit
grading (src/collapsecheck/audit.py). Each number is checked against an independent
reference (mpmath at high precision, a closed form, or a direct loop written here from the
documented recursion), each grading rule at its boundaries and by its exact wording."""

import math

import numpy as np
import pytest

from collapsecheck.results import Verdict


def approx(expected, rel=None, abs=0.0):
    """pytest.approx without its default absolute tolerance of 1e-12, which would let
    through any error in a value below about 1e-6 (survival and series terms are)."""
    return pytest.approx(expected, rel=rel, abs=abs)

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


def test_audit_dunder_lookups_load_no_family(monkeypatch):
    """A dunder asked of collapsecheck.audit (``__wrapped__``, ``__path__``: what inspect,
    doctest and importlib probe) is not served from the Gaussian audit, so it does not
    import that family."""
    import sys

    import collapsecheck.audit as audit
    import collapsecheck.families.gaussian as gaussian_pkg
    import collapsecheck.families.gaussian.audit  # noqa: F401 - restored afterwards

    name = "collapsecheck.families.gaussian.audit"
    monkeypatch.setattr(gaussian_pkg, "audit", sys.modules[name])  # restored afterwards
    monkeypatch.delitem(sys.modules, name)
    for dunder in ("__wrapped__", "__path__"):
        with pytest.raises(AttributeError, match=dunder):
            audit.__getattr__(dunder)
    assert name not in sys.modules


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
        assert g == approx(float(ref), rel=1e-13, abs=1e-15)
    assert th.logdet_drift(n, dim, ddof) == approx(float(sum(gam)), rel=1e-13,
                                                           abs=1e-14)
    var = sum(MP.polygamma(1, MP.mpf(n - i) / 2) for i in range(1, dim + 1))
    assert th.logdet_step_var(n, dim) == approx(float(var), rel=1e-13)
    rate = th.anisotropy_rate(n, dim)
    if dim == 1:
        assert rate == 0.0 and type(rate) is float
    else:
        ref = MP.digamma(MP.mpf(n - 1) / 2) - MP.digamma(MP.mpf(n - dim) / 2)
        assert rate == approx(float(ref), rel=1e-13)


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
    assert th.logdet_step_var(4, 3) == approx(float(MP.polygamma(1, MP.mpf(0.5))
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
    assert law.mean == approx(float(mean), rel=1e-12)
    assert law.sd == approx(float(MP.sqrt(var)), rel=1e-12)
    assert float(law.cdf(law.ppf(0.3))) == approx(0.3, abs=1e-9)


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
    assert th.ln_trace_mean(T, n, ddof, tr0) == approx(
        float(T * MP.log(r) + MP.log(tr0)), rel=1e-13, abs=1e-14)
    var = mp_trace_var(T, n, ddof, tr0, trsq0)
    assert th.ln_trace_var(T, n, ddof, tr0, trsq0) == approx(float(MP.log(var)),
                                                                   rel=1e-11, abs=1e-11)
    mu = MP.mpf(tr0) / n * sum(r**t for t in range(T))
    assert th.ln_mu_sq_norm_mean(T, n, ddof, tr0) == approx(float(MP.log(mu)),
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
    assert th.ln_trace_var(T, n, ddof, a0, b0) == approx(float(ref), rel=1e-12)


def test_ln_trace_var_overflow_branch_one_dimension():
    """D = 1 (a0 = b0) in the overflow branch: Var = r^(2T) s^4 ((1 + 2/m)^T - 1)."""
    from collapsecheck.families.mvgaussian import theory as th

    T, n, s2 = 3000, 4, 2.0
    m = MP.mpf(n - 1)
    ref = 2 * T * MP.log(m / n) + 2 * MP.log(s2) + MP.log((1 + 2 / m) ** T - 1)
    assert th.ln_trace_var(T, n, 0.0, s2, s2 * s2) == approx(float(ref), rel=1e-12)


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
            assert got == approx(float(ref), rel=1e-14)
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
    assert p.logdet0 == approx(ld0, rel=1e-13, abs=1e-14)
    assert p.logdet_mean == approx(ld0 + law.mean, rel=1e-13)
    assert p.logdet_sd == law.sd
    assert set(p.logdet_quantiles) == {"0.025", "0.5", "0.975"}
    for key, level in (("0.025", 0.025), ("0.5", 0.5), ("0.975", 0.975)):
        assert float(law.cdf(p.logdet_quantiles[key] - p.logdet0)) == approx(
            level, abs=1e-9)
    assert p.trace_mean == approx(float(tr0 * r**4), rel=1e-13)
    assert p.trace_sd == approx(float(MP.sqrt(mp_trace_var(4, 9, 1.0, tr0, trsq0))),
                                       rel=1e-11)
    assert p.mu_sq_norm_mean == approx(tr0 / 9 * 4, rel=1e-13)
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
    assert acc.ln_trace_mean(T, n, ddof, 2.5) == approx(float(ref), rel=1e-14,
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


def test_mv_accumulate_defaults():
    """ddof defaults to 0 (the MLE), and any finite positive trace0 is accepted."""
    from collapsecheck.families.mvgaussian import accumulate as acc

    g, s = accumulate_loop(3, 6, 0.0)
    np.testing.assert_allclose(acc.trace_factors(3, 6), [float(x) for x in g], rtol=1e-15)
    np.testing.assert_allclose(acc.ratio_scale(3, 6), [float(x) for x in s], rtol=1e-14)
    assert acc.ln_trace_mean(3, 6, 0.0, 0.25) == approx(
        float(MP.log(0.25) + sum(MP.log(x) for x in g)), rel=1e-14)
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match=r"^`trace0` must be finite and > 0; got "):
            acc.ln_trace_mean(2, 5, 0.0, bad)


# ---------------------------------------------------------------------------------------
# Categorical count chains (families/categorical/theory/chain.py)
# ---------------------------------------------------------------------------------------


def mp_binom(n, j, q):
    return MP.binomial(n, j) * MP.mpf(q) ** j * (1 - MP.mpf(q)) ** (n - j)


def mp_kernel(n, fresh, p_fresh, a, A):
    """The count chain's transition matrix in mpmath, by convolving Bin(m, p_fresh) with
    Bin(n - m, min((x + a)/(n + A), 1)) directly."""
    m, r = fresh, n - fresh
    P = MP.matrix(n + 1, n + 1)
    for x in range(n + 1):
        q = min((MP.mpf(x) + a) / (n + MP.mpf(A)), MP.mpf(1))
        for y in range(m + 1):
            for z in range(r + 1):
                P[x, y + z] += mp_binom(m, y, p_fresh) * mp_binom(r, z, q)
    return P


@pytest.mark.parametrize(("n", "fresh", "p_fresh", "a", "A"), [
    (5, 0, 0.0, 0.0, 0.0), (5, 2, 0.3, 0.0, 0.0), (4, 1, 0.25, 0.5, 1.5),
    (6, 0, 0.0, 0.4, 1.2), (3, 3, 0.2, 0.0, 0.0), (4, 2, 0.7, 4.0, 6.0)])
def test_count_chain_kernel_against_mpmath(n, fresh, p_fresh, a, A):
    from collapsecheck.families.categorical.theory.chain import CountChain

    chain = CountChain(n, fresh, p_fresh, a, A)
    P = chain.kernel()
    ref = mp_kernel(n, fresh, p_fresh, a, A)
    assert P.shape == (n + 1, n + 1)
    for i in range(n + 1):
        for j in range(n + 1):
            assert P[i, j] == approx(float(ref[i, j]), rel=1e-13, abs=1e-16)
    P[0, 0] += 1.0  # a copy, not a view of a shared row
    assert chain.kernel()[0, 0] == approx(float(ref[0, 0]), rel=1e-13, abs=1e-16)
    rho = (1 - MP.mpf(p_fresh)) ** fresh * (1 - MP.mpf(a) / (n + MP.mpf(A))) ** (n - fresh)
    assert chain.stay_at_zero() == approx(float(rho), rel=1e-14)
    np.testing.assert_array_equal(chain.states, np.arange(n + 1.0))
    np.testing.assert_allclose(chain.model([0, 2]), [a / (n + A), (2 + a) / (n + A)],
                               rtol=1e-15)
    merged = chain.merged(0.125, 3)
    assert (merged.n, merged.fresh, merged.p_fresh, merged.a, merged.A) == (
        n, fresh, 0.125, 3 * a, A)
    pi = chain.stationary()
    if float(rho) >= 1.0:
        assert pi is None
    else:  # the left null vector of P - I in mpmath, normalised
        M = (ref - MP.eye(n + 1)).T
        for j in range(n + 1):
            M[n, j] = 1
        rhs = MP.matrix([0] * n + [1])
        sol = MP.lu_solve(M, rhs)
        for j in range(n + 1):
            assert pi[j] == approx(float(sol[j]), rel=1e-10, abs=1e-15)


def test_binomial_rows_against_mpmath():
    from collapsecheck.families.categorical.theory.chain import (
        binomial_rows,
        log_binomial_rows,
        log_comb,
    )

    q = [0.0, 0.01, 0.37, 1.0]
    B = binomial_rows(9, q)
    L = log_binomial_rows(9, q)
    W = log_binomial_rows(9, q, 2, 6)
    assert B.shape == L.shape == (4, 10) and W.shape == (4, 5)
    for i, x in enumerate(q):
        for j in range(10):
            ref = float(mp_binom(9, j, x))
            assert B[i, j] == approx(ref, rel=1e-13, abs=1e-300)
            assert L[i, j] == approx(ref, rel=1e-12, abs=1e-300)
            if 2 <= j <= 6:
                assert W[i, j - 2] == L[i, j]
    lc = log_comb(30)
    assert not lc.flags.writeable
    for j in range(31):
        assert lc[j] == float(MP.log(MP.binomial(30, j)))


def test_backward_final_and_chunks_against_mpmath_powers():
    from collapsecheck.families.categorical.theory.chain import (
        CountChain,
        _power_apply,
        backward_chunks,
        backward_final,
    )

    n = 6
    chain = CountChain(n, 2, 0.3, 0.2, 0.6)
    P = chain.kernel()
    F = np.stack([np.arange(n + 1.0), (np.arange(n + 1) == 0) * 1.0], axis=1)
    ref_P = mp_kernel(n, 2, 0.3, 0.2, 0.6)
    powers = [MP.eye(n + 1)]
    for _ in range(40):
        powers.append(ref_P * powers[-1])

    def ref(t):  # P^(t-1) F
        M = powers[t - 1]
        return np.array([[float(sum(M[i, k] * F[k, c] for k in range(n + 1)))
                          for c in range(2)] for i in range(n + 1)])

    for T in (1, 2, 3, 8, 41):
        np.testing.assert_allclose(backward_final(P, F, T), ref(T), rtol=1e-12, atol=1e-300)
    for power in (0, 1, 5, 13):
        np.testing.assert_allclose(_power_apply(P, F, power), ref(power + 1), rtol=1e-12)
    # a wide F makes iterating the dearer path: binary powering is taken
    wide = np.tile(F, (1, 40))
    np.testing.assert_allclose(backward_final(P, wide, 41), np.tile(ref(41), (1, 40)),
                               rtol=1e-12)
    starts, blocks = [], []
    for t0, V in backward_chunks(P, F, 11, chunk=4):
        starts.append(t0)
        blocks.append(V)
    assert starts == [1, 5, 9]
    assert [b.shape for b in blocks] == [(4, n + 1, 2), (4, n + 1, 2), (3, n + 1, 2)]
    got = np.concatenate(blocks)
    for t in range(1, 12):
        np.testing.assert_allclose(got[t - 1], ref(t), rtol=1e-12)
    one = list(backward_chunks(P, F, 3))
    assert len(one) == 1 and one[0][0] == 1 and one[0][1].shape == (3, n + 1, 2)
    assert list(backward_chunks(P, F, 0)) == []


def test_absorption_solve_against_mpmath():
    from collapsecheck.families.categorical.theory.chain import CountChain, absorption_solve

    n = 7
    P = CountChain(n).kernel()
    ref_P = mp_kernel(n, 0, 0.0, 0.0, 0.0)
    Q = MP.matrix(n - 1, n - 1)
    for i in range(n - 1):
        for j in range(n - 1):
            Q[i, j] = ref_P[i + 1, j + 1]
    I_Q = MP.eye(n - 1) - Q
    h = np.arange(1, n) / n
    got = absorption_solve(P, np.stack([np.ones(n - 1), h], axis=1))
    u1 = MP.lu_solve(I_Q, MP.matrix([1] * (n - 1)))
    u2 = MP.lu_solve(I_Q, MP.matrix([MP.mpf(j) / n for j in range(1, n)]))
    for i in range(n - 1):
        assert got[i, 0] == approx(float(u1[i]), rel=1e-12)
        assert got[i, 1] == approx(float(u2[i]), rel=1e-12)


def test_one_blas_thread_keeps_the_function():
    from collapsecheck.families.categorical.theory.chain import one_blas_thread

    @one_blas_thread
    def f(x, *, y=2):
        """doc"""
        return x * y

    assert f(3, y=5) == 15 and f(4) == 8
    assert f.__name__ == "f" and f.__doc__ == "doc"


# ---------------------------------------------------------------------------------------
# Categorical regimes (families/categorical/theory/regimes.py)
# ---------------------------------------------------------------------------------------


def mp_accumulate_survivors(p0, n):
    """E S and Var S of generation 1's survivors by the module's pair formula, in mpmath."""
    p = [MP.mpf(x) for x in p0]
    es = sum(1 - (1 - x) ** n for x in p)
    both = sum(1 - (1 - p[i]) ** n - (1 - p[j]) ** n + max(1 - p[i] - p[j], 0) ** n
               for i in range(len(p)) for j in range(i + 1, len(p)))
    return es, es + 2 * both - es**2


@pytest.mark.parametrize(("p0", "n"), [
    ([1 / 3, 1 / 3, 1 / 3], 4),          # few lost: the lost-count form
    ([0.25, 0.25, 0.25, 0.25], 1),       # few present: the survivors' form
    ([0.5, 0.2, 0.2, 0.1], 3), ([0.6, 0.4], 2), ([0.05] * 6 + [0.7], 5),
    ([0.5, 0.5, 0.0], 3)])
def test_accumulate_survivors_against_mpmath(p0, n):
    from collapsecheck.families.categorical.theory import regimes

    p0 = np.array(p0)
    es, var = regimes.accumulate_survivors(p0, n)
    ref_es, ref_var = mp_accumulate_survivors(p0, n)
    assert es == approx(float(ref_es), rel=1e-14)
    assert var == approx(float(ref_var), rel=1e-12, abs=1e-15)
    assert regimes.accumulate_p_monomorphic(p0, n) == approx(
        float(sum(MP.mpf(x) ** n for x in p0)), rel=1e-14)
    tail = np.zeros(len(p0), dtype=bool)
    tail[-2:] = True
    q = [MP.mpf(x) for x in p0[tail]]
    got = regimes.accumulate_tail(p0, n, tail)
    assert got == approx({"mass_mean": float(sum(q)),
                                 "survivors_mean": float(sum(1 - (1 - x) ** n for x in q)),
                                 "p_all_lost": float((1 - sum(q)) ** n)}, rel=1e-14)


def test_accumulate_one_category_and_full_tail():
    from collapsecheck.families.categorical.theory import regimes

    assert regimes.accumulate_survivors(np.array([1.0]), 3) == (1.0, 0.0)
    got = regimes.accumulate_tail(np.array([0.5, 0.5 + 1e-15]), 2, np.array([True, True]))
    assert got["p_all_lost"] == 0.0


@pytest.mark.parametrize(("p0", "n"), [([0.5, 0.3, 0.2], 4), ([0.9, 0.1], 2)])
def test_accumulate_gini_against_mpmath(p0, n):
    from collapsecheck.families.categorical.theory import regimes

    p0 = np.array(p0)
    g0 = 1 - sum(MP.mpf(x) ** 2 for x in p0)
    got = regimes.accumulate_gini_simpson_mean(p0, n, [0, 1, 2, 7])
    for t, value in zip([0, 1, 2, 7], got, strict=True):
        ref = g0 * MP.fprod([1 - MP.mpf(1) / (n * s * s) for s in range(1, t + 1)])
        assert value == approx(float(ref), rel=1e-14)
    at0 = regimes.accumulate_gini_simpson_mean(p0, n, 0)
    assert at0.shape == (1,) and at0[0] == approx(float(g0), rel=1e-14)
    x = MP.pi / MP.sqrt(n)
    assert regimes.accumulate_gini_simpson_limit(p0, n) == approx(
        float(g0 * MP.sin(x) / x), rel=1e-14)


def test_sampling_law_against_direct_transforms():
    from collapsecheck.families.categorical.theory.regimes import sampling_law

    p = np.array([0.5, 0.3, 0.0, 0.2])
    law, exact = sampling_law(p)
    np.testing.assert_allclose(law, p, rtol=1e-15)
    assert exact is True
    law, exact = sampling_law(p, temperature=0.5)
    ref = [float(MP.mpf(x) ** 2 / sum(MP.mpf(y) ** 2 for y in p)) for x in p]
    np.testing.assert_allclose(law, ref, rtol=1e-14)
    assert law[2] == 0.0 and exact is True
    law, exact = sampling_law(p, temperature=2.0, top_k=2)
    r = [MP.sqrt(MP.mpf(x)) for x in (0.5, 0.3)]
    np.testing.assert_allclose(law, [float(r[0] / sum(r)), float(r[1] / sum(r)), 0.0, 0.0],
                               rtol=1e-14)
    assert exact is True
    law, exact = sampling_law(np.array([0.4, 0.3, 0.3]), top_k=2)
    np.testing.assert_allclose(law, [4 / 7, 3 / 7, 0.0], rtol=1e-15)
    assert exact is False
    law, exact = sampling_law(np.array([0.4, 0.3, 0.3]), top_k=3)
    np.testing.assert_allclose(law, [0.4, 0.3, 0.3], rtol=1e-15)
    assert exact is True
    law, exact = sampling_law(np.array([0.6, 0.4, 0.0]), top_k=2)
    np.testing.assert_allclose(law, [0.6, 0.4, 0.0], rtol=1e-15)
    assert exact is True
    law, exact = sampling_law(np.array([0.5, 0.25, 0.25]), top_k=1)
    np.testing.assert_array_equal(law, [1.0, 0.0, 0.0])
    assert exact is True


def mp_stationary_present(n, fresh, p_fresh, a, A):
    P = mp_kernel(n, fresh, p_fresh, a, A)
    M = (P - MP.eye(n + 1)).T
    for j in range(n + 1):
        M[n, j] = 1
    pi = MP.lu_solve(M, MP.matrix([0] * n + [1]))
    return 1 - pi[0]


def test_recurrence_against_mpmath():
    from collapsecheck.families.categorical.theory import regimes

    p0 = np.array([0.5, 0.3, 0.15, 0.05])
    tail = np.array([False, False, True, True])
    n, fresh = 5, 2
    res = regimes.recurrence(p0, n, fresh=fresh, tail=tail)
    assert res["returns"] is True and res["notes"] == []
    for key, p in (("rarest", 0.05), ("tail", 0.2)):
        rho = (1 - MP.mpf(p)) ** fresh
        got = res[key]
        assert got["p0"] == approx(p, rel=1e-15)
        assert got["p_back_next_generation"] == approx(float(1 - rho), rel=1e-14)
        assert got["mean_generations_absent"] == approx(float(1 / (1 - rho)),
                                                               rel=1e-14)
        assert got["stationary_p_present"] == approx(
            float(mp_stationary_present(n, fresh, p, 0.0, 0.0)), rel=1e-11)
    ref = sum(mp_stationary_present(n, fresh, p, 0.0, 0.0) for p in p0)
    assert res["stationary_survivors_mean"] == approx(float(ref), rel=1e-11)
    # smoothing without fresh draws: one chain for all categories
    alpha = 0.3
    res = regimes.recurrence(p0, n, alpha=alpha, tail=tail)
    rho = (1 - MP.mpf(alpha) / (n + 4 * MP.mpf(alpha))) ** n
    assert res["returns"] is True
    assert res["rarest"]["p_back_next_generation"] == approx(float(1 - rho), rel=1e-14)
    one = mp_stationary_present(n, 0, 0.0, alpha, 4 * alpha)
    assert res["rarest"]["stationary_p_present"] == approx(float(one), rel=1e-11)
    rho2 = (1 - 2 * MP.mpf(alpha) / (n + 4 * MP.mpf(alpha))) ** n
    assert res["tail"]["p_back_next_generation"] == approx(float(1 - rho2),
                                                                  rel=1e-14)
    assert res["tail"]["stationary_p_present"] == approx(
        float(mp_stationary_present(n, 0, 0.0, 2 * alpha, 4 * alpha)), rel=1e-11)
    assert res["stationary_survivors_mean"] == approx(float(4 * one), rel=1e-11)
    assert regimes.recurrence(p0, n, alpha=alpha)["tail"] is None


def test_recurrence_absorbing_and_work_limit():
    from collapsecheck.families.categorical.theory import regimes

    p0 = np.array([0.7, 0.3])
    res = regimes.recurrence(p0, 4)
    assert res["returns"] is False and res["stationary_survivors_mean"] is None
    assert res["rarest"] == {"p0": 0.3, "p_back_next_generation": 0.0,
                             "mean_generations_absent": None, "stationary_p_present": None}
    assert res["notes"] == ["recurrence: a lost category never returns (0 is absorbing); "
                            "in the long run one category holds everything."]
    # fresh draws of a category holding everything: it never leaves, the other never comes
    res = regimes.recurrence(np.array([1.0, 0.0]), 4, fresh=2)
    assert res["returns"] is False
    res = regimes.recurrence(np.array([0.9, 0.1]), 4, fresh=2)
    assert res["returns"] is True
    cost = 5**3 / 3 + 25 * 3
    res = regimes.recurrence(p0, 4, fresh=2, max_work=cost)
    assert res["stationary_survivors_mean"] is None
    assert res["rarest"]["stationary_p_present"] is not None
    assert res["notes"] == ["stationary_survivors_mean: 2 stationary solves of size 5 exceed "
                            "the work limit 1e+02: not computed."]
    res = regimes.recurrence(p0, 4, fresh=2, max_work=2 * cost)
    assert res["stationary_survivors_mean"] is not None and res["notes"] == []
    res = regimes.recurrence(p0, 4, fresh=2, max_work=cost * (1 - 1e-9))
    assert res["rarest"]["stationary_p_present"] is None


def mp_two_category(p1, n, T, tau):
    def g(q):
        a, b = MP.mpf(q) ** (1 / MP.mpf(tau)), (1 - MP.mpf(q)) ** (1 / MP.mpf(tau))
        return a / (a + b)

    P = [[mp_binom(n, k, g(MP.mpf(j) / n)) for k in range(n + 1)] for j in range(n + 1)]
    pi = [mp_binom(n, k, g(p1)) for k in range(n + 1)]
    out = []
    for t in range(1, T + 1):
        if t > 1:
            pi = [sum(pi[j] * P[j][k] for j in range(n + 1)) for k in range(n + 1)]
        x = [MP.mpf(k) / n for k in range(n + 1)]
        cnt = [(k > 0) + (k < n) for k in range(n + 1)]
        es = sum(w * c for w, c in zip(pi, cnt, strict=True))
        out.append({
            "survivors_mean": es,
            "survivors_sd": MP.sqrt(sum(w * c * c for w, c in zip(pi, cnt, strict=True))
                                    - es * es),
            "entropy_mean": sum(w * (-xx * MP.log(xx) - (1 - xx) * MP.log(1 - xx))
                                for w, xx in zip(pi, x, strict=True) if 0 < xx < 1),
            "gini_simpson_mean": sum(w * 2 * xx * (1 - xx) for w, xx in zip(pi, x,
                                                                            strict=True)),
            "p_monomorphic": pi[0] + pi[n],
            "first_mass": sum(w * xx for w, xx in zip(pi, x, strict=True)),
            "first_lost": pi[0], "second_lost": pi[n]})
    return out


@pytest.mark.parametrize(("tau", "tail_first"), [(0.5, False), (1.7, True), (1.0, None)])
def test_two_category_temperature_against_mpmath(tau, tail_first):
    from collapsecheck.families.categorical.theory.regimes import two_category_temperature

    n, T, p1 = 4, 3, 0.35
    p0 = np.array([p1, 1 - p1])
    tail = None if tail_first is None else np.array([tail_first, not tail_first])
    ref = mp_two_category(p1, n, T, tau)
    got = two_category_temperature(p0, n, T, tau, tail=tail, per_generation=True)
    last = two_category_temperature(p0, n, T, tau, tail=tail)
    for key in ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
                "p_monomorphic"):
        assert got[key].shape == (T,) and last[key].shape == (1,)
        for t in range(T):
            assert got[key][t] == approx(float(ref[t][key]), rel=1e-12)
        assert last[key][0] == got[key][-1]
    if tail is None:
        assert not any(k.startswith("tail.") for k in got)
        return
    for t in range(T):
        r = ref[t]
        mass = r["first_mass"] if tail_first else 1 - r["first_mass"]
        lost = r["first_lost"] if tail_first else r["second_lost"]
        assert got["tail.mass_mean"][t] == approx(float(mass), rel=1e-12)
        assert got["tail.p_all_lost"][t] == approx(float(lost), rel=1e-12)
        assert got["tail.survivors_mean"][t] == approx(float(1 - lost), rel=1e-12)
    assert two_category_temperature(p0, n, 0, tau) == {}


# ---------------------------------------------------------------------------------------
# Categorical replace chain and exact series (families/categorical/theory/replace.py,
# exact.py): references by full enumeration of the multinomial chain in mpmath
# ---------------------------------------------------------------------------------------


def compositions(n, K):
    if K == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in compositions(n - first, K - 1):
            yield (first, *rest)


def mp_multinomial(n, counts, probs):
    out = MP.factorial(n)
    for c, q in zip(counts, probs, strict=True):
        out = out / MP.factorial(c) * MP.mpf(q) ** c
    return out


def enumerate_chain(p0, n, T, alpha=0.0, fresh=0):
    """Law of the count vector at generations 1..T of the multinomial chain (module notes of
    chain.py), by brute force over all count vectors in mpmath."""
    K = len(p0)
    A = K * MP.mpf(alpha)

    def draw(probs, m):
        return {s: mp_multinomial(m, s, probs) for s in compositions(m, K)}

    law = draw(p0, n)
    laws = [law]
    fresh_law = draw(p0, fresh) if fresh else {(0,) * K: MP.mpf(1)}
    for _ in range(T - 1):
        new = {s: MP.mpf(0) for s in compositions(n, K)}
        for x, w in law.items():
            model = draw([(c + MP.mpf(alpha)) / (n + A) for c in x], n - fresh)
            for f, wf in fresh_law.items():
                for z, wz in model.items():
                    new[tuple(a + b for a, b in zip(f, z, strict=True))] += w * wf * wz
        law = new
        laws.append(law)
    return laws


def summaries(law, n, alpha, K, tail):
    """Every summary of one generation's law of counts."""
    A = K * MP.mpf(alpha)

    def q(x):
        return [(c + MP.mpf(alpha)) / (n + A) for c in x]

    def ent(x):
        return -sum(v * MP.log(v) for v in q(x) if v > 0)

    es = sum(w * sum(c > 0 for c in x) for x, w in law.items())
    es2 = sum(w * sum(c > 0 for c in x) ** 2 for x, w in law.items())
    out = {"survivors_mean": es, "survivors_var": es2 - es**2,
           "entropy_mean": sum(w * ent(x) for x, w in law.items()),
           "gini_simpson_mean": sum(w * (1 - sum(v * v for v in q(x))) for x, w in law.items()),
           "p_monomorphic": sum(w for x, w in law.items() if max(x) == n)}
    if tail is not None:
        out["tail.survivors_mean"] = sum(w * sum(c > 0 for c, t in zip(x, tail, strict=True)
                                                 if t) for x, w in law.items())
        out["tail.p_all_lost"] = sum(w for x, w in law.items()
                                     if all(c == 0 for c, t in zip(x, tail, strict=True) if t))
        out["tail.mass_mean"] = sum(w * sum(v for v, t in zip(q(x), tail, strict=True) if t)
                                    for x, w in law.items())
    return out


P0_K3 = [0.5, 0.3, 0.2]


@pytest.mark.parametrize(("alpha", "fresh"), [(0.0, 0), (0.5, 0), (0.0, 1), (0.25, 2)])
def test_exact_series_against_enumeration(alpha, fresh):
    from collapsecheck.families.categorical.theory.exact import exact_series, moment_series

    n, T = 4, 4
    p0 = np.array(P0_K3)
    tail = np.array([False, True, True])
    laws = enumerate_chain(P0_K3, n, T, alpha, fresh)
    refs = [summaries(law, n, alpha, 3, tail) for law in laws]
    s = exact_series(p0, n, T, tail=tail, fresh=fresh, alpha=alpha, per_generation=True)
    last = exact_series(p0, n, T, tail=tail, fresh=fresh, alpha=alpha)
    np.testing.assert_array_equal(s.generations, np.arange(1, T + 1))
    np.testing.assert_array_equal(last.generations, [T])
    assert s.reasons == {} and last.reasons == {}
    pairs = (("survivors_mean", "survivors_mean"), ("survivors_var", "survivors_var"),
             ("entropy_mean", "entropy_mean"), ("p_monomorphic", "p_monomorphic"),
             ("tail_survivors_mean", "tail.survivors_mean"),
             ("tail_p_all_lost", "tail.p_all_lost"))
    for attr, key in pairs:
        got = getattr(s, attr)
        assert got.shape == (T,)
        for t in range(T):
            assert got[t] == approx(float(refs[t][key]), rel=1e-11, abs=1e-15), (
                attr, t)
        assert getattr(last, attr)[0] == approx(float(refs[-1][key]), rel=1e-11,
                                                       abs=1e-15)
    gini, mass = moment_series(p0, n, T, fresh=fresh, alpha=alpha, tail=tail,
                               per_generation=True)
    assert gini.shape == mass.shape == (T + 1,)
    assert gini[0] == approx(1 - sum(x * x for x in P0_K3), rel=1e-15)
    assert mass[0] == approx(0.5, rel=1e-15)
    for t in range(1, T + 1):
        assert gini[t] == approx(float(refs[t - 1]["gini_simpson_mean"]), rel=1e-12)
        assert mass[t] == approx(float(refs[t - 1]["tail.mass_mean"]), rel=1e-12)
    g1, m1 = moment_series(p0, n, T, fresh=fresh, alpha=alpha, tail=tail)
    assert g1.shape == m1.shape == (1,)
    assert g1[0] == gini[-1] and m1[0] == mass[-1]
    g2, m2 = moment_series(p0, n, T, fresh=fresh, alpha=alpha)
    assert m2 is None and g2[0] == gini[-1]
    assert moment_series(p0, n, T, fresh=fresh, alpha=alpha, per_generation=True)[1] is None


def test_exact_series_variance_off_and_no_tail():
    from collapsecheck.families.categorical.theory.exact import exact_series

    s = exact_series(np.array(P0_K3), 4, 3, variance=False)
    ref = summaries(enumerate_chain(P0_K3, 4, 3)[-1], 4, 0.0, 3, None)
    assert s.survivors_var is None
    assert s.tail_survivors_mean is None and s.tail_p_all_lost is None
    assert s.survivors_mean[0] == approx(float(ref["survivors_mean"]), rel=1e-12)
    assert s.p_monomorphic[0] == approx(float(ref["p_monomorphic"]), rel=1e-11)


def test_exact_series_work_limits_and_their_notes():
    from collapsecheck.families.categorical.theory import exact as ex

    p0 = np.array([0.4, 0.3, 0.2, 0.1])
    tail = np.array([False, False, True, True])
    # one chain per distinct p0 with fresh draws (4 marginal chains, 1 merged tail chain)
    one = ex._chain_work(5, 3, 2, False)
    assert one == 36 * 4 + min(2 * 36 * 4, 2.0 * 2 * 216 / 4)
    assert ex._chain_work(5, 3, 0, True) == 10 * 36 + 2 * 36 * 4
    assert ex._chain_work(5, 1, 0, False) == 10 * 36
    s = ex.exact_series(p0, 5, 3, tail=tail, fresh=2, work_limit=5 * one * (1 - 1e-12))
    why = (f"the count chains need about {5 * one:.1e} multiply-adds (5 chains: one per "
           f"distinct initial probability with fresh draws), above the limit "
           f"{5 * one * (1 - 1e-12):.0e}: not computed.")
    assert s.reasons == dict.fromkeys(["survivors_mean", "survivors_sd", "entropy_mean",
                                       "p_monomorphic", "tail.survivors_mean",
                                       "tail.p_all_lost"], why)
    assert s.survivors_mean is None and s.survivors_var is None and s.entropy_mean is None
    assert s.p_monomorphic is None and s.tail_survivors_mean is None
    assert s.tail_p_all_lost is None
    np.testing.assert_array_equal(s.generations, [3])
    s = ex.exact_series(p0, 5, 3, fresh=2, work_limit=4 * one * (1 - 1e-12))
    assert set(s.reasons) == {"survivors_mean", "survivors_sd", "entropy_mean",
                              "p_monomorphic"}
    # the marginal chains fit, the pair chains (10 pair sums) do not
    s = ex.exact_series(p0, 5, 3, fresh=2, work_limit=4 * one + 10 * one * (1 - 1e-12))
    assert s.survivors_var is None and s.survivors_mean is not None
    assert s.reasons == {"survivors_sd": (
        f"10 pair sums p_i + p_j (4 distinct initial probabilities) need about "
        f"{10 * one:.1e} multiply-adds, above the limit "
        f"{4 * one + 10 * one * (1 - 1e-12):.0e}: not computed.")}
    s = ex.exact_series(p0, 5, 3, fresh=2, work_limit=14 * one)
    assert s.survivors_var is not None and s.reasons == {}


def test_pair_helpers_against_direct_sums():
    from collapsecheck.families.categorical.theory import exact as ex

    p0 = np.array([0.3, 0.2, 0.2, 0.2, 0.1])
    v, c = ex.groups(p0)
    np.testing.assert_array_equal(v, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(c, [1.0, 3.0, 1.0])
    assert c.dtype == float
    v2, c2 = ex.groups(p0, np.array([True, True, False, True, False]))
    np.testing.assert_array_equal(v2, v)
    np.testing.assert_array_equal(c2, [0.0, 2.0, 1.0])
    direct: dict = {}
    for i in range(5):
        for j in range(i + 1, 5):
            key = round(p0[i] + p0[j], 12)
            direct[key] = direct.get(key, 0) + 1
    sums, mult = ex.pair_sums(v, c)
    got: dict = {}
    for x, k in zip(sums, mult, strict=True):
        got[round(x, 12)] = got.get(round(x, 12), 0) + k
    assert got == direct
    assert mult.sum() == 10 and np.all(mult > 0)
    for block in (1, 2, 3, 100):
        got = {}
        for xs, ks in ex.pair_blocks(v, c, block=block):
            assert np.all(ks > 0)
            for x, k in zip(xs, ks, strict=True):
                got[round(x, 12)] = got.get(round(x, 12), 0) + k
        assert got == direct, block
    n = 9
    sums = np.array([0.05, 0.3, 0.5, 0.97])
    mult = np.array([2.0, 1.0, 3.0, 0.5])
    W = ex.pair_weights(n, sums, mult)
    ref = [float(sum(k * mp_binom(n, j, x) for x, k in zip(sums, mult, strict=True)))
           for j in range(n + 1)]
    np.testing.assert_allclose(W, ref, rtol=1e-12, atol=1e-300)
    lo, hi = ex._windows(200, np.array([0.0, 0.5, 1.0]))
    assert lo.tolist()[0] == 0 and hi.tolist()[2] == 200
    for q, a, b in zip([0.0, 0.5, 1.0], lo, hi, strict=True):
        inside = [j for j in range(201) if mp_binom(200, j, q) > MP.mpf("1e-61")]
        assert a <= min(inside) and b >= max(inside)
        assert mp_binom(200, max(a - 1, 0), q) < 1e-60 or a == 0
        assert b == 200 or mp_binom(200, b + 1, q) < 1e-60
    plan = ex._pair_plan(200, np.array([0.5, 0.1, 0.9]))
    assert len(plan) == 1
    idx, a, b = plan[0]
    assert idx.tolist() == [1, 0, 2]
    assert ex.pair_weight_work(200, np.array([0.5, 0.1, 0.9])) == 20.0 * 3 * (b - a + 1)


def mp_per_category(p, n, t):
    """(lost, present, fixed) probabilities of one category at generation t by the count
    chain's forward law in mpmath."""
    P = mp_kernel(n, 0, 0.0, 0.0, 0.0)
    law = MP.matrix([[mp_binom(n, j, p) for j in range(n + 1)]])
    for _ in range(t - 1):
        law = law * P
    return law[0], 1 - law[0], law[n]


def test_replace_per_category_against_mpmath():
    from collapsecheck.families.categorical.theory import replace as rp

    n = 5
    p = np.array([[0.0, 0.1], [0.45, 1.0]])
    for t in (1, 2, 6):
        lost, surv, fix = (rp.loss_probability(p, n, t), rp.survival_probability(p, n, t),
                           rp.fixation_probability(p, n, t))
        assert lost.shape == surv.shape == fix.shape == (2, 2)
        for idx in np.ndindex(2, 2):
            ref = mp_per_category(p[idx], n, t)
            assert lost[idx] == approx(float(ref[0]), rel=1e-12, abs=1e-300)
            assert surv[idx] == approx(float(ref[1]), rel=1e-12, abs=1e-300)
            assert fix[idx] == approx(float(ref[2]), rel=1e-12, abs=1e-300)
    scalar = rp.loss_probability(0.1, n, 2)
    assert np.ndim(scalar) == 0
    assert float(scalar) == approx(float(mp_per_category(0.1, n, 2)[0]), rel=1e-12)
    np.testing.assert_array_equal(rp.loss_probability([0.0, 0.3, 1.0], n, 0), [1.0, 0, 0])
    np.testing.assert_array_equal(rp.survival_probability([0.0, 0.3, 1.0], n, 0), [0, 1, 1])
    np.testing.assert_array_equal(rp.fixation_probability([0.0, 0.3, 1.0], n, 0), [0, 0, 1])
    assert np.ndim(rp.fixation_probability(0.3, n, 0)) == 0


def test_replace_summaries_against_enumeration():
    from collapsecheck.families.categorical.theory import replace as rp

    n, T = 4, 3
    p0 = np.array(P0_K3)
    tail = np.array([False, True, True])
    refs = [summaries(law, n, 0.0, 3, tail) for law in enumerate_chain(P0_K3, n, T)]
    for t in range(1, T + 1):
        r = refs[t - 1]
        assert rp.entropy_mean(p0, n, t) == approx(float(r["entropy_mean"]), rel=1e-12)
        assert rp.p_monomorphic(p0, n, t) == approx(float(r["p_monomorphic"]),
                                                           rel=1e-11)
        es, var = rp.survivors_moments(p0, n, t)
        assert es == approx(float(r["survivors_mean"]), rel=1e-12)
        assert var == approx(float(r["survivors_var"]), rel=1e-11)
        assert rp.gini_simpson_mean(p0, n, t) == approx(
            float(r["gini_simpson_mean"]), rel=1e-13)
        got = rp.tail_summary(p0, n, t, 1)
        assert got["rank"] == 1 and got["mass_mean"] == approx(0.5, rel=1e-15)
        assert got["survivors_mean"] == approx(float(r["tail.survivors_mean"]),
                                                      rel=1e-12)
        assert got["p_all_lost"] == approx(float(r["tail.p_all_lost"]), rel=1e-11)
    z = np.array([0.5, 0.5, 0.0])
    assert rp.entropy_mean(z, n, 0) == approx(math.log(2), rel=1e-15)
    assert rp.survivors_moments(z, n, 0) == (2.0, 0.0)
    assert rp.gini_simpson_mean(z, n, 0) == 0.5
    assert rp.tail_summary(z, n, 0, 1) == {"rank": 1, "mass_mean": 0.5,
                                           "survivors_mean": 1.0, "p_all_lost": 0.0}
    assert rp.tail_summary(z, n, 0, 2) == {"rank": 2, "mass_mean": 0.0,
                                           "survivors_mean": 0.0, "p_all_lost": 1.0}
    np.testing.assert_array_equal(rp.tail_mask(np.array([0.2, 0.4, 0.2, 0.2]), 2),
                                  [False, False, True, True])
    assert rp.tail_mask(np.array([0.2, 0.4, 0.2, 0.2]), 2).dtype == bool


def mp_absorption(p, n):
    """E[G], E[G | fixed], E[G | lost] from generation 0 by first-step equations in mpmath."""
    P = mp_kernel(n, 0, 0.0, 0.0, 0.0)
    if n == 1:
        return MP.mpf(1), (MP.mpf(1) if p > 0 else None), (MP.mpf(1) if p < 1 else None)
    Q = MP.matrix(n - 1, n - 1)
    for i in range(n - 1):
        for j in range(n - 1):
            Q[i, j] = P[i + 1, j + 1]
    I_Q = MP.eye(n - 1) - Q
    tau = MP.lu_solve(I_Q, MP.matrix([1] * (n - 1)))
    fix = MP.lu_solve(I_Q, MP.matrix([MP.mpf(j) / n for j in range(1, n)]))
    B = [mp_binom(n, j, p) for j in range(n + 1)]
    e_abs = 1 + sum(B[j] * tau[j - 1] for j in range(1, n))
    e_fix = MP.mpf(p) + sum(B[j] * fix[j - 1] for j in range(1, n))
    cf = e_fix / p if p > 0 else None
    cl = (e_abs - e_fix) / (1 - MP.mpf(p)) if p < 1 else None
    return e_abs, cf, cl


@pytest.mark.parametrize("n", [1, 2, 6])
def test_absorption_times_against_mpmath(n):
    from collapsecheck.families.categorical.theory import replace as rp

    p = np.array([0.0, 0.15, 0.5, 1.0])
    got = rp.absorption_times(p, n)
    assert got["p_fixation"] is not None
    np.testing.assert_array_equal(got["p_fixation"], p)
    for i, x in enumerate(p):
        e_abs, cf, cl = mp_absorption(x, n)
        assert got["absorption"][i] == approx(float(e_abs), rel=1e-12)
        if cf is None:
            assert math.isnan(got["fixation"][i])
        else:
            assert got["fixation"][i] == approx(float(cf), rel=1e-12)
        if cl is None:
            assert math.isnan(got["loss"][i])
        else:
            assert got["loss"][i] == approx(float(cl), rel=1e-12)
    one = rp.absorption_times(0.15, n)
    assert np.ndim(one["absorption"]) == 0
    assert float(one["absorption"]) == got["absorption"][1]
    p0 = np.array([0.5, 0.3, 0.2, 0.0])
    ref = sum(MP.mpf(x) * mp_absorption(x, n)[1] for x in p0 if x > 0)
    assert rp.mean_generations_to_monomorphic(p0, n) == approx(float(ref), rel=1e-12)
    assert rp.mean_generations_to_monomorphic(np.array([1.0, 0.0]), n) == 0.0
    assert rp.mean_generations_to_monomorphic(np.array([0.25] * 4), n) == approx(
        float(mp_absorption(0.25, n)[1]), rel=1e-12)


def test_absorption_limit_and_kimura():
    from collapsecheck.families.categorical.theory import replace as rp

    with pytest.raises(ValueError, match=r"^`n` must be at most 4000 for the dense "
                                         r"absorption solve; got 4001\.$"):
        rp.absorption_times(0.5, 4001)
    p = np.array([0.0, 0.2, 0.5, 1.0])
    got = rp.kimura_absorption_time(p, 10)
    ref = [0.0] + [float(-20 * (MP.mpf(x) * MP.log(x) + (1 - MP.mpf(x)) * MP.log(1 - x)))
                   for x in (0.2, 0.5)] + [0.0]
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=0)
    assert np.ndim(rp.kimura_absorption_time(0.2, 10)) == 0
    p0 = np.array([0.6, 0.4, 0.0])
    ref = -20 * sum((1 - MP.mpf(x)) * MP.log(1 - MP.mpf(x)) for x in p0)
    got = rp.kimura_generations_to_monomorphic(p0, 10)
    assert got == approx(float(ref), rel=1e-14)
    zero = rp.kimura_generations_to_monomorphic(np.array([1.0, 0.0]), 10)
    assert zero == 0.0 and math.copysign(1.0, zero) == 1.0


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda rp: rp.loss_probability(0.5, 2.0, 1), TypeError,
     r"^`n` must be an integer; got 2\.0\.$"),
    (lambda rp: rp.loss_probability(0.5, True, 1), TypeError,
     r"^`n` must be an integer; got True\.$"),
    (lambda rp: rp.loss_probability(0.5, 0, 1), ValueError,
     r"^`n` must be at least 1; got 0\.$"),
    (lambda rp: rp.loss_probability(0.5, 3, 1.0), TypeError,
     r"^`t` must be an integer; got 1\.0\.$"),
    (lambda rp: rp.loss_probability(0.5, 3, False), TypeError,
     r"^`t` must be an integer; got False\.$"),
    (lambda rp: rp.loss_probability(0.5, 3, -1), ValueError,
     r"^`t` must be at least 0; got -1\.$"),
    (lambda rp: rp.loss_probability("x", 3, 1), TypeError,
     r"^`p` must be a probability or an array of them; got 'x'\.$"),
    (lambda rp: rp.loss_probability(1.5, 3, 1), ValueError,
     r"^`p` must lie in \[0, 1\]; got 1\.5\.$"),
    (lambda rp: rp.loss_probability(-0.1, 3, 1), ValueError,
     r"^`p` must lie in \[0, 1\]; got -0\.1\.$"),
    (lambda rp: rp.loss_probability(math.nan, 3, 1), ValueError,
     r"^`p` must lie in \[0, 1\]; got nan\.$"),
    (lambda rp: rp.entropy_mean([0.5, 0.5], 3, -1), ValueError, r"^`t` must be at least 0"),
    (lambda rp: rp.survivors_moments([0.5, 0.5], 3, 1.5), TypeError,
     r"^`t` must be an integer"),
    (lambda rp: rp.tail_summary([0.5, 0.5], 3, -2, 1), ValueError,
     r"^`t` must be at least 0"),
    (lambda rp: rp.gini_simpson_mean([0.5, 0.5], 0, 1), ValueError,
     r"^`n` must be at least 1"),
    (lambda rp: rp.kimura_absorption_time(0.5, 0), ValueError, r"^`n` must be at least 1"),
    (lambda rp: rp.kimura_generations_to_monomorphic([2.0], 3), ValueError,
     r"^`p` must lie in \[0, 1\]"),
    (lambda rp: rp.absorption_times(0.5, 0), ValueError, r"^`n` must be at least 1"),
])
def test_replace_input_validation(call, error, match):
    from collapsecheck.families.categorical.theory import replace as rp

    with pytest.raises(error, match=match):
        call(rp)


def test_replace_validation_accepts_numpy_integers_and_edges():
    from collapsecheck.families.categorical.theory import replace as rp

    a = rp.loss_probability(np.array([0.0, 1.0]), np.int64(1), np.int64(0))
    np.testing.assert_array_equal(a, [1.0, 0.0])
    assert float(rp.loss_probability(0.5, 1, 1)) == approx(0.5, rel=1e-15)


# ---------------------------------------------------------------------------------------
# Categorical predictions (families/categorical/theory/prediction.py): every branch's
# numbers against the enumeration and its record by its documented shape and wording
# ---------------------------------------------------------------------------------------

CHAIN = "backward vectors of the count chain Bin(n, X/n)"
SMOOTH = "backward vectors of the count chain (fresh draws / smoothing)"
NEVER = ("recurrence: a lost category never returns (0 is absorbing); in the long run one "
         "category holds everything.")
FINAL_KEYS = ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
              "p_monomorphic")


def chain_methods(how, pure):
    return {"survivors_mean": how + ", summed over categories",
            "survivors_sd": how + "; pairs by lumpability (merged pair chains)",
            "entropy_mean": how + ", by linearity over categories",
            "p_monomorphic": how + "; sum of P(X_i = n) (disjoint events)",
            "gini_simpson_mean": "closed form (1 - sum p0^2)(1 - 1/n)^t" if pure
            else "exact affine recursion of E p, E p^2",
            "tail.mass_mean": "E p_t (martingale under pure refit; affine recursion "
                              "otherwise)",
            "tail.survivors_mean": how + ", summed over the tail",
            "tail.p_all_lost": how + ", merged tail chain (lumpability)"}


def check_against(final, per, ref_rows, tail=True):
    """``final`` and the per-generation lists against enumeration rows (generations 1..T)."""
    r = ref_rows[-1]
    for k in FINAL_KEYS:
        want = MP.sqrt(r["survivors_var"]) if k == "survivors_sd" else r[k]
        assert final[k] == approx(float(want), rel=1e-11, abs=1e-15), k
    if tail:
        for k in ("mass_mean", "survivors_mean", "p_all_lost"):
            assert final["tail"][k] == approx(float(r["tail." + k]), rel=1e-11,
                                                     abs=1e-15), k
    if per is not None:
        for t, row in enumerate(ref_rows, start=1):
            assert per["survivors_mean"][t] == approx(float(row["survivors_mean"]),
                                                             rel=1e-11)
            assert per["p_monomorphic"][t] == approx(float(row["p_monomorphic"]),
                                                            rel=1e-11, abs=1e-15)
            assert per["gini_simpson_mean"][t] == approx(
                float(row["gini_simpson_mean"]), rel=1e-11)
            if tail:
                assert per["tail_p_all_lost"][t] == approx(
                    float(row["tail.p_all_lost"]), rel=1e-11, abs=1e-15)
                assert per["tail_mass_mean"][t] == approx(
                    float(row["tail.mass_mean"]), rel=1e-11)


def test_predict_replace_record():
    from collapsecheck.families.categorical.theory import replace as rp
    from collapsecheck.families.categorical.theory.prediction import predict

    n, T = 4, 3
    rows = [summaries(law, n, 0.0, 3, [False, True, True])
            for law in enumerate_chain(P0_K3, n, T)]
    p = predict(P0_K3, n, T, tail_rank=1, per_generation=True)
    d = p.to_dict()
    assert (d["family"], d["regime"], d["n"], d["generations"], d["categories"]) == (
        "categorical", "replace", 4, 3, 3)
    per = d["per_generation"]
    assert per["generation"] == [0, 1, 2, 3]
    assert set(per) == {"generation", *FINAL_KEYS, "tail_mass_mean", "tail_survivors_mean",
                        "tail_p_all_lost"}
    assert all(len(v) == 4 and all(type(x) is float for x in v)
               for k, v in per.items() if k != "generation")
    assert per["survivors_mean"][0] == 3.0 and per["survivors_sd"][0] == 0.0
    assert per["entropy_mean"][0] == approx(
        float(-sum(MP.mpf(x) * MP.log(x) for x in P0_K3)), rel=1e-15)
    assert per["gini_simpson_mean"][0] == approx(0.62, rel=1e-15)
    assert per["p_monomorphic"][0] == 0.0
    assert per["tail_mass_mean"][0] == approx(0.5, rel=1e-15)
    assert per["tail_survivors_mean"][0] == 2.0 and per["tail_p_all_lost"][0] == 0.0
    check_against(d["final"], per, rows)
    assert d["final"]["tail"]["rank"] == 1
    assert list(d["final"]) == [*FINAL_KEYS, "tail"]
    assert d["exact"] == list(KEYS_ALL)
    assert d["methods"] == chain_methods(CHAIN, True)
    assert d["notes"] == [NEVER]
    assert d["absorption"] == {
        "mean_generations_to_monomorphic": rp.mean_generations_to_monomorphic(
            np.array(P0_K3), n),
        "kimura_approximation": rp.kimura_generations_to_monomorphic(np.array(P0_K3), n),
        "method": "exact: linear solve on the transient states of the count chain; "
                  "kimura_approximation is Kimura's diffusion formula (approximate)"}
    assert "notes" not in d["recurrence"] and d["recurrence"]["returns"] is False
    assert p.generation_grid == (0, 1, 2, 3) and p.per_generation is True
    last = predict(P0_K3, n, T, tail_rank=1)
    assert "per_generation" not in last.to_dict() and last.generation_grid == (3,)
    lf = last.to_dict()["final"]
    for k in FINAL_KEYS:
        assert lf[k] == approx(d["final"][k], rel=1e-13)
    assert lf["tail"] == approx(d["final"]["tail"], rel=1e-13)
    assert all(v.shape == (1,) for v in last.series.values())


KEYS_ALL = ("survivors_mean", "survivors_sd", "entropy_mean", "gini_simpson_mean",
            "p_monomorphic", "tail.mass_mean", "tail.survivors_mean", "tail.p_all_lost")


@pytest.mark.parametrize(("regime", "alpha", "ff", "fresh"), [
    ("replace", 0.5, 0.0, 0), ("mix", 0.0, 0.3, 1), ("mix", 0.25, 0.5, 2)])
def test_predict_smoothing_and_mix_records(regime, alpha, ff, fresh):
    from collapsecheck.families.categorical.theory.prediction import predict
    from collapsecheck.families.categorical.theory.regimes import recurrence

    n, T = 4, 3
    rows = [summaries(law, n, alpha, 3, [False, True, True])
            for law in enumerate_chain(P0_K3, n, T, alpha, fresh)]
    p = predict(P0_K3, n, T, tail_rank=1, regime=regime, alpha=alpha, fresh_fraction=ff,
                per_generation=True)
    d = p.to_dict()
    check_against(d["final"], d["per_generation"], rows)
    assert d["methods"] == chain_methods(SMOOTH, False)
    assert d["notes"] == [] and "absorption" not in d
    rec = recurrence(np.array(P0_K3), n, fresh=fresh, alpha=alpha,
                     tail=np.array([False, True, True]))
    assert d["recurrence"] == {k: v for k, v in rec.items() if k != "notes"}
    assert d["recurrence"]["returns"] is True


def test_predict_accumulate_records():
    from collapsecheck.families.categorical.theory import regimes
    from collapsecheck.families.categorical.theory.prediction import predict

    p0 = np.array(P0_K3)
    n, T = 4, 3
    d = predict(P0_K3, n, T, tail_rank=1, regime="accumulate", per_generation=True).to_dict()
    es, var = regimes.accumulate_survivors(p0, n)
    per = d["per_generation"]
    assert per["survivors_mean"] == [3.0, es, es, es]
    assert per["survivors_sd"] == [0.0, *[math.sqrt(var)] * 3]
    assert per["entropy_mean"] is None
    g = regimes.accumulate_gini_simpson_mean(p0, n, [1, 2, 3])
    assert per["gini_simpson_mean"][1:] == g.tolist()
    pm = regimes.accumulate_p_monomorphic(p0, n)
    assert per["p_monomorphic"][1:] == [pm] * 3
    tl = regimes.accumulate_tail(p0, n, np.array([False, True, True]))
    assert per["tail_p_all_lost"][1:] == [tl["p_all_lost"]] * 3
    assert per["tail_survivors_mean"][1:] == [tl["survivors_mean"]] * 3
    assert per["tail_mass_mean"][1:] == [tl["mass_mean"]] * 3
    assert d["exact"] == [k for k in KEYS_ALL if k != "entropy_mean"]
    assert d["methods"] == {
        "survivors_mean": "closed form: the survivors of generation 1",
        "survivors_sd": "closed form from (1 - p_i - p_j)^n",
        "entropy_mean": "simulation only",
        "gini_simpson_mean": "closed form (1 - sum p0^2) prod_s (1 - 1/(n s^2))",
        "p_monomorphic": "closed form sum_i p_i^n",
        "tail.mass_mean": "martingale: constant",
        "tail.survivors_mean": "closed form: generation 1",
        "tail.p_all_lost": "closed form (1 - p_tail)^n"}
    assert d["notes"] == ["entropy_mean: under accumulate the pool's count chain grows with "
                          "t (states 0..n t); no exact value here: simulation only.", NEVER]
    assert "absorption" not in d and d["recurrence"]["returns"] is False
    last = predict(P0_K3, n, T, regime="accumulate").to_dict()
    assert last["final"]["gini_simpson_mean"] == g[-1]
    assert last["final"]["survivors_mean"] == es and last["final"]["tail"] is None
    assert last["exact"] == ["survivors_mean", "survivors_sd", "gini_simpson_mean",
                             "p_monomorphic"]
    sm = predict(P0_K3, n, T, tail_rank=2, regime="accumulate", alpha=0.5).to_dict()
    why = "accumulate with smoothing has no exact theory here: simulation only."
    assert sm["exact"] == [] and sm["methods"] == dict.fromkeys(KEYS_ALL, "simulation only")
    assert sm["notes"] == [f"{k}: {why}" for k in KEYS_ALL]
    assert all(sm["final"][k] is None for k in FINAL_KEYS)
    assert sm["final"]["tail"] == {"rank": 2, "mass_mean": None, "survivors_mean": None,
                                   "p_all_lost": None}
    assert "recurrence" not in sm and "absorption" not in sm


def test_predict_sampling_records():
    from collapsecheck.families.categorical.theory.prediction import predict
    from collapsecheck.families.categorical.theory.regimes import sampling_law

    n = 4
    # top-1: a point mass from generation 1
    d = predict(P0_K3, n, 3, tail_rank=1, top_k=1, per_generation=True).to_dict()
    per = d["per_generation"]
    assert per["survivors_mean"] == [3.0, 1.0, 1.0, 1.0]
    assert per["entropy_mean"][1:] == [0.0] * 3 and per["p_monomorphic"][1:] == [1.0] * 3
    assert per["tail_p_all_lost"][1:] == [1.0] * 3 and per["tail_mass_mean"][1:] == [0.0] * 3
    assert d["methods"] == dict.fromkeys(KEYS_ALL, "top-1: a point mass on the most "
                                                   "probable category from generation 1 on")
    assert "recurrence" not in d and "absorption" not in d and d["notes"] == []
    top1 = predict(P0_K3, n, 3, top_k=1, regime="accumulate").to_dict()
    assert top1["final"]["survivors_mean"] == 1.0 and top1["final"]["tail"] is None
    # generation 1 under temperature: the pure chain's generation 1 from the sampling law
    law = [float(x) for x in sampling_law(np.array(P0_K3), 0.5)[0]]
    rows = [summaries(enumerate_chain(law, n, 1)[0], n, 0.0, 3, [False, True, True])]
    d = predict(P0_K3, n, 1, tail_rank=1, temperature=0.5).to_dict()
    check_against({**d["final"], "tail": {**d["final"]["tail"], "mass_mean": float(
        rows[0]["tail.mass_mean"])}}, None, rows)
    assert d["final"]["tail"]["mass_mean"] == approx(law[1] + law[2], rel=1e-15)
    prefix = "generation 1 is the pure chain's generation 1 from the sampling law: "
    assert d["methods"] == {k: prefix + v for k, v in chain_methods(CHAIN, True).items()}
    assert "recurrence" not in d and "absorption" not in d
    # beyond generation 1: simulation only, with the reason
    d = predict(P0_K3, n, 2, tail_rank=1, temperature=0.5).to_dict()
    text = ("temperature=0.5, top_k=None: the temperature/top-k transform couples the "
            "categories; no category's count is a Markov chain of its own, so beyond "
            "generation 1 (pure refit, no tie at the top-k boundary) there is no exact "
            "theory here: simulation only.")
    assert d["notes"] == [f"{k}: {text}" for k in KEYS_ALL] and d["exact"] == []
    assert d["methods"] == dict.fromkeys(KEYS_ALL, "simulation only")
    d = predict([0.4, 0.3, 0.3], n, 1, top_k=2).to_dict()
    text = ("temperature=1.0, top_k=2: top-k must break a tie at its boundary; no category's "
            "count is a Markov chain of its own, so beyond generation 1 (pure refit, no tie "
            "at the top-k boundary) there is no exact theory here: simulation only.")
    assert d["notes"] == [f"{k}: {text}" for k in KEYS_ALL[:5]]
    # smoothing with a sampling transform at generation 1: no exact value either
    assert predict(P0_K3, n, 1, temperature=0.5, alpha=0.1).to_dict()["exact"] == []
    assert predict(P0_K3, n, 1, temperature=0.5, regime="mix",
                   fresh_fraction=0.5).to_dict()["exact"] == []
    # top-k not below the number of nonzero categories is no transform
    same = predict([0.5, 0.5, 0.0], n, 2, top_k=2).to_dict()
    assert same["methods"] == {k: v for k, v in chain_methods(CHAIN, True).items()
                               if not k.startswith("tail.")}
    assert same["final"] == predict([0.5, 0.5, 0.0], n, 2).to_dict()["final"]


def test_predict_two_categories_at_temperature_record():
    from collapsecheck.families.categorical.theory.prediction import predict
    from collapsecheck.families.categorical.theory.regimes import two_category_temperature

    p0 = np.array([0.35, 0.65])
    d = predict(p0, 4, 3, tail_rank=1, temperature=1.7, per_generation=True).to_dict()
    ref = two_category_temperature(p0, 4, 3, 1.7, np.array([True, False]), True)
    assert d["per_generation"]["survivors_mean"][1:] == ref["survivors_mean"].tolist()
    assert d["per_generation"]["tail_mass_mean"][1:] == ref["tail.mass_mean"].tolist()
    assert d["methods"] == dict.fromkeys(KEYS_ALL, "K = 2: the first count is a Markov "
                                                   "chain under temperature; its forward law")
    assert "recurrence" not in d and "absorption" not in d


def test_predict_generation_zero_and_notes(monkeypatch):
    from collapsecheck.families.categorical.theory import prediction as pr

    d = pr.predict([0.5, 0.5, 0.0], 4, 0, tail_rank=2).to_dict()
    assert d["final"] == {"survivors_mean": 2.0, "survivors_sd": 0.0,
                          "entropy_mean": approx(math.log(2), rel=1e-15),
                          "gini_simpson_mean": 0.5, "p_monomorphic": 0.0,
                          "tail": {"rank": 2, "mass_mean": 0.0, "survivors_mean": 0.0,
                                   "p_all_lost": 1.0}}
    assert d["methods"] == dict.fromkeys(KEYS_ALL, "generation 0 is p0 itself")
    assert "recurrence" not in d and d["exact"] == list(KEYS_ALL)
    assert d["absorption"]["mean_generations_to_monomorphic"] > 0
    one = pr.predict([1.0, 0.0], 4, 0).to_dict()["final"]
    assert one["p_monomorphic"] == 1.0 and one["entropy_mean"] == 0.0
    monkeypatch.setattr(pr, "ABSORPTION_MAX_N", 3)
    d = pr.predict(P0_K3, 4, 1).to_dict()
    assert "absorption" not in d
    assert d["notes"] == [NEVER, "absorption: n = 4 is above 3 (dense solve): not computed."]
    assert "absorption" in pr.predict(P0_K3, 3, 1).to_dict()


def test_predict_clips_probabilities_at_one():
    from collapsecheck.families.categorical.theory.prediction import predict

    d = predict([0.999999, 1e-6], 1, 1, tail_rank=1, per_generation=True).to_dict()
    assert max(d["per_generation"]["p_monomorphic"]) <= 1.0
    assert max(d["per_generation"]["tail_p_all_lost"]) <= 1.0
    assert d["final"]["p_monomorphic"] == 1.0


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"p0": "ab"}, TypeError, r"^`p0` must be a sequence of probabilities; got 'ab'\.$"),
    ({"p0": [[0.5, 0.5]]}, ValueError,
     r"^`p0` must be 1-D with at least 2 categories; got \[\[0\.5, 0\.5\]\]\.$"),
    ({"p0": [1.0]}, ValueError, r"^`p0` must be 1-D with at least 2 categories; got "
                                r"\[1\.0\]\.$"),
    ({"p0": [object(), 1]}, TypeError, r"^`p0` must be a sequence of probabilities; got "),
    ({"p0": [0.5, math.nan]}, ValueError, r"^`p0` must be finite and non-negative; got "
                                          r"\[0\.5, nan\]\.$"),
    ({"p0": [1.5, -0.5]}, ValueError, r"^`p0` must be finite and non-negative"),
    ({"p0": [0.5, 0.25]}, ValueError,
     r"^`p0` must sum to 1 \(within 1e-6\); got a sum of 0\.75\.$"),
    ({"p0": [0.5, 0.5 + 1.1e-6]}, ValueError, r"^`p0` must sum to 1 \(within 1e-6\)"),
    ({"n": 2.0}, TypeError, r"^`n` must be an integer; got 2\.0\.$"),
    ({"n": True}, TypeError, r"^`n` must be an integer; got True\.$"),
    ({"n": 0}, ValueError, r"^`n` must be at least 1; got 0\.$"),
    ({"generations": -1}, ValueError, r"^`generations` must be at least 0; got -1\.$"),
    ({"tail_rank": 0}, ValueError, r"^`tail_rank` must be between 1 and 2; got 0\.$"),
    ({"tail_rank": 3}, ValueError, r"^`tail_rank` must be between 1 and 2; got 3\.$"),
    ({"regime": "pool"}, ValueError,
     r"^`regime` must be one of replace, accumulate, mix; got 'pool'\.$"),
    ({"alpha": -0.1}, ValueError, r"^`alpha` must be finite and >= 0; got -0\.1\.$"),
    ({"alpha": math.inf}, ValueError, r"^`alpha` must be finite and >= 0; got inf\.$"),
    ({"alpha": "0"}, TypeError, r"^`alpha` must be a number; got '0'\.$"),
    ({"alpha": False}, TypeError, r"^`alpha` must be a number; got False\.$"),
    ({"fresh_fraction": 1.5}, ValueError, r"^`fresh_fraction` must be in \[0, 1\]; got "
                                          r"1\.5\.$"),
    ({"fresh_fraction": -0.5}, ValueError, r"^`fresh_fraction` must be in \[0, 1\]"),
    ({"temperature": 0.0}, ValueError, r"^`temperature` must be finite and > 0; got 0\.0\.$"),
    ({"top_k": 0}, ValueError, r"^`top_k` must be at least 1; got 0\.$"),
    ({"top_k": 1.0}, TypeError, r"^`top_k` must be an integer; got 1\.0\.$"),
])
def test_predict_input_validation(kwargs, error, match):
    from collapsecheck.families.categorical.theory.prediction import predict

    args = {"p0": P0_K3, "n": 4, "generations": 2, **kwargs}
    with pytest.raises(error, match=match):
        predict(args.pop("p0"), args.pop("n"), args.pop("generations"), **args)


def test_predict_validation_edges():
    from collapsecheck.families.categorical.theory.prediction import predict

    p = predict(np.array([0.5, 0.5 + 9e-7]), np.int64(1), np.int64(0), tail_rank=np.int64(1),
                alpha=np.float64(0.0), fresh_fraction=1, temperature=np.int64(1), top_k=None)
    assert (p.n, p.generations, p.tail_rank, p.categories) == (1, 0, 1, 2)
    assert type(p.n) is int and type(p.tail_rank) is int
    assert p.series["tail.mass_mean"][0] == approx(0.5 - 4.5e-7 / 1.0000009,
                                                          rel=1e-12)
    assert predict(P0_K3, 4, 1, regime="mix", fresh_fraction=0.0).to_dict()["final"] == (
        predict(P0_K3, 4, 1).to_dict()["final"])
    full = predict(P0_K3, 4, 2, regime="mix", fresh_fraction=1.0).to_dict()
    assert full["final"]["survivors_mean"] == approx(
        float(sum(1 - (1 - MP.mpf(x)) ** 4 for x in P0_K3)), rel=1e-12)


@pytest.mark.parametrize(("n", "cols", "T", "powering"), [
    (6, 2, 1, False), (6, 2, 2, False), (6, 2, 6, False), (6, 2, 7, True),
    (6, 5, 2, True),     # one step, 5 columns: 245 multiply-adds against 171.5
    (3, 2, 2, False),    # a tie (32 against 32): iterating
    (3, 3, 2, True)])
def test_backward_final_picks_the_cheaper_path(monkeypatch, n, cols, T, powering):
    """The documented cost model: T - 1 products of an (n+1)-square matrix with ``cols``
    columns against 2 bit_length(T - 1) (n+1)^3 / 4 for binary powering."""
    from collapsecheck.families.categorical.theory import chain as ch

    calls = []
    real = ch._power_apply
    monkeypatch.setattr(ch, "_power_apply", lambda P, F, p: calls.append(p) or real(P, F, p))
    P = ch.CountChain(n, 1, 0.3).kernel()
    F = np.linspace(0.0, 1.0, (n + 1) * cols).reshape(n + 1, cols)
    got = ch.backward_final(P, F, T)
    assert calls == ([T - 1] if powering else [])
    np.testing.assert_allclose(got, np.linalg.matrix_power(P, T - 1) @ F, rtol=1e-12)


def test_mv_predict_notes_a_law_it_cannot_invert(monkeypatch):
    from collapsecheck.families.gaussian.theory import ngrowth
    from collapsecheck.families.mvgaussian import theory as th
    from collapsecheck.families.mvgaussian.parameters import MVGaussianExperiment

    monkeypatch.setattr(ngrowth, "INVERSION_BUDGET", 0)
    e = MVGaussianExperiment(n=9, dim=3, generations=4, replicates=10, seed=1)
    law = th.LogDetLaw(9, 4, 0.0, dim=3)
    assert not law.invertible and law.inversion_note
    p = th.predict(e)
    assert p.logdet_quantiles is None
    assert p.notes == (f"logdet_quantiles: {law.inversion_note}.",)
    assert p.to_dict()["notes"] == [f"logdet_quantiles: {law.inversion_note}."]


def test_mv_rates_defaults_and_two_dimensions():
    from collapsecheck.families.mvgaussian import theory as th

    ref = MP.digamma(MP.mpf(8) / 2) - MP.digamma(MP.mpf(7) / 2)
    assert th.anisotropy_rate(9, 2) == approx(float(ref), rel=1e-13)
    drift = sum(mp_gamma_i(9, i, 0.0) for i in (1, 2, 3))
    assert th.logdet_drift(9, 3) == approx(float(drift), rel=1e-13)
    np.testing.assert_allclose(th.lyapunov_spectrum(9, 2),
                               [float(mp_gamma_i(9, i, 0.0)) for i in (1, 2)], rtol=1e-13)


@pytest.mark.parametrize(("T", "n", "ddof"), [(1, 3, 0.0), (5, 3, 1.0)])
def test_ln_trace_var_m_two_against_mpmath(T, n, ddof):
    """n = 3 (m = 2): (1 - 1/m)^T - 1 is not -1; a start of two unequal variances."""
    from collapsecheck.families.mvgaussian import theory as th

    tr0, trsq0 = 2.0, 1.5**2 + 0.5**2
    ref = MP.log(mp_trace_var(T, n, ddof, tr0, trsq0))
    assert th.ln_trace_var(T, n, ddof, tr0, trsq0) == approx(float(ref), rel=1e-12)


@pytest.mark.parametrize(("T", "m"), [(200, 10**6), (50, 10**4), (1000, 10**7)])
def test_a_plus_2b_series_stops_only_below_rounding(T, m):
    from collapsecheck.families.mvgaussian import theory as th

    ref = (1 + MP.mpf(2) / m) ** T + 2 * (1 - MP.mpf(1) / m) ** T - 3
    got = th._a_plus_2b(T, m)
    assert type(got) is float
    assert got == approx(float(ref), rel=1e-14)


def test_accumulate_survivors_in_several_blocks():
    """1500 distinct probabilities: the pair sums are taken in blocks of rows (2e6 // 1500
    = 1333 rows at a time, two blocks); the variance against the covariance form
    sum_i s_i l_i + 2 sum_{i<j} [(1 - p_i - p_j)^n - l_i l_j], l_i = (1 - p_i)^n."""
    from collapsecheck.families.categorical.theory import regimes

    K, n = 1500, 400
    w = 1.0 + np.arange(K) / K
    p0 = w / w.sum()
    assert np.unique(p0).size == K
    lost = (1 - p0) ** n
    both = (1 - p0[:, None] - p0[None, :]) ** n - lost[:, None] * lost[None, :]
    cov = (both.sum() - np.trace(both)) / 2
    var = float(np.sum(lost * (1 - lost)) + 2 * cov)
    es, got = regimes.accumulate_survivors(p0, n)
    assert es == approx(float(np.sum(1 - lost)), rel=1e-13)
    assert got == approx(var, rel=1e-9)


def test_recurrence_with_a_category_that_never_appears():
    """Fresh draws and a zero-probability category: its count chain stays at 0 (no
    stationary law), so it adds 0 to the long-run survivors."""
    from collapsecheck.families.categorical.theory import regimes

    p0 = np.array([0.6, 0.4, 0.0])
    n, fresh = 4, 2
    res = regimes.recurrence(p0, n, fresh=fresh)
    assert res["returns"] is True
    assert res["rarest"]["p_back_next_generation"] == 0.0
    assert res["rarest"]["mean_generations_absent"] is None
    assert res["rarest"]["stationary_p_present"] is None
    ref = sum(mp_stationary_present(n, fresh, p, 0.0, 0.0) for p in (0.6, 0.4))
    assert res["stationary_survivors_mean"] == approx(float(ref), rel=1e-11)


def test_sampling_law_at_a_low_temperature_against_mpmath():
    """tau = 0.002: p^500 spans hundreds of orders of magnitude, so the shift by the
    largest log must be a subtraction (an addition underflows every entry but the first)."""
    from collapsecheck.families.categorical.theory.regimes import sampling_law

    p = np.array([0.5, 0.3, 0.2])
    law, exact = sampling_law(p, temperature=0.002)
    powers = [MP.mpf(x) ** 500 for x in p]
    ref = [float(w / sum(powers)) for w in powers]
    assert exact is True
    assert ref[1] > 1e-120 and ref[2] > 1e-300
    for got, want in zip(law, ref, strict=True):
        assert got == approx(want, rel=1e-11)


def test_survivors_moments_without_the_variance(monkeypatch):
    """Past the work limit for the merged pairs, the variance is None and the mean stands."""
    from collapsecheck.families.categorical.theory import exact as ex
    from collapsecheck.families.categorical.theory import replace as rp

    marginal = ex._chain_work(4, 2, 0, False)
    monkeypatch.setattr(ex, "WORK_LIMIT", marginal * (1 + 1e-9))
    es, var = rp.survivors_moments(np.array(P0_K3), 4, 2)
    ref = summaries(enumerate_chain(P0_K3, 4, 2)[-1], 4, 0.0, 3, None)
    assert var is None
    assert es == approx(float(ref["survivors_mean"]), rel=1e-12)


def test_tail_mask_breaks_ties_by_index():
    """The documented rule (largest first, ties by index) on a start with many ties, where
    numpy's default sort (introsort) orders equal values otherwise."""
    from collapsecheck.families.categorical.theory.replace import tail_mask

    rng = np.random.default_rng(0)
    for K in (20, 50, 100):
        p0 = rng.choice([0.3, 0.2, 0.1], size=K)
        p0 = p0 / p0.sum()
        ranked = sorted(range(K), key=lambda i: (-p0[i], i))
        for rank in (1, int(np.sum(p0 == p0.max())) + 1, K // 2):
            want = np.zeros(K, dtype=bool)
            want[ranked[rank:]] = True
            np.testing.assert_array_equal(tail_mask(p0, rank), want)


def test_pair_weight_work_counts_the_window():
    """The work of the pair weights: 20 multiply-adds per binomial term in each chunk's
    window [a, b] (a > 0 here: every sum is near 1/2)."""
    from collapsecheck.families.categorical.theory import exact as ex

    sums = np.array([0.45, 0.5, 0.55])
    ((_, a, b),) = ex._pair_plan(1000, sums)
    assert a > 0 and b < 1000
    assert ex.pair_weight_work(1000, sums) == 20.0 * 3 * (b - a + 1)


def test_predict_accumulate_with_smoothing_and_no_tail():
    from collapsecheck.families.categorical.theory.prediction import predict

    d = predict(P0_K3, 4, 3, regime="accumulate", alpha=0.5).to_dict()
    why = "accumulate with smoothing has no exact theory here: simulation only."
    assert d["methods"] == dict.fromkeys(FINAL_KEYS, "simulation only")
    assert d["notes"] == [f"{k}: {why}" for k in FINAL_KEYS]
    assert d["exact"] == [] and d["final"]["tail"] is None


def test_predict_per_generation_without_a_tail():
    from collapsecheck.families.categorical.theory.prediction import predict

    d = predict(P0_K3, 4, 2, per_generation=True).to_dict()
    assert set(d["per_generation"]) == {"generation", *FINAL_KEYS}
    rows = [summaries(law, 4, 0.0, 3, None) for law in enumerate_chain(P0_K3, 4, 2)]
    check_against(d["final"], d["per_generation"], rows, tail=False)
