"""The replace regime's special functions (families/gaussian/theory/_special.py) against
mpmath at 30+ digits and against scipy.special, and ``theory`` without scipy.

Grids: the shapes k = (n - 1)/2 of n = 2 .. 10^7 (every half-integer to 100, then
geometrically to 5e6), a few shapes that are not half-integers (the root of digamma among
them), orders s = 2 .. 64 of the characteristic function's Hurwitz-zeta series, and
arguments t of the characteristic function from 1e-6 to 4k. Tolerances are in units of
the double epsilon, EPS = 2.2e-16, and stated with each test; scipy's own error against
mpmath on the same grids is what widens a scipy comparison where it is wider.
"""

import json
import math
import os
import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest
from scipy import special as sp

from collapsecheck import Experiment
from collapsecheck.families.gaussian.commands import theory_record
from collapsecheck.families.gaussian.theory import _special as S
from collapsecheck.families.gaussian.theory import replace, steps

EPS = np.finfo(float).eps
DPS = 30

HALF = np.arange(1, 201) / 2  # k = 0.5 .. 100: n = 2 .. 201
K_GRID = np.unique(np.concatenate([
    HALF, np.round(np.geomspace(100, 5e6, 40)) / 2,  # n up to 10^7
    [2499999.5, 4999999.5, 5e6],
    [0.7, 1.4616321449683622, 2.3, 9.99, 17.77, 123.456],  # not half-integers
]))


@pytest.fixture(autouse=True)
def _mp_precision():
    with mp.workdps(DPS):
        yield


def _mpf(x):
    return mp.mpf(float(x))


# ---------------------------------------------------------------------------------------
# Bernoulli numbers and constants
# ---------------------------------------------------------------------------------------


def test_bernoulli_exact_against_mpmath_and_scipy():
    b = S._bernoulli_exact(40)
    assert b[1] == -0.5  # the convention of scipy.special.bernoulli
    for m, value in enumerate(b):
        assert mp.mpf(value.numerator) / value.denominator == mp.bernoulli(m), m
    got = S.bernoulli(24)
    np.testing.assert_array_equal(got, [float(v) for v in b[:25]])  # each rounded once
    # scipy's (specfun's BERNOB recurrence in floating point) is off by up to 1.7e-12
    # relative (B_4 = -0.033333333333275914): harmless where the theory used it, on
    # terms below 1e-19
    np.testing.assert_allclose(got, sp.bernoulli(24), rtol=2e-12, atol=0)


def test_riemann_zeta_half_is_mpmaths_value():
    with mp.workdps(40):
        assert S.RIEMANN_ZETA_HALF == float(mp.zeta(mp.mpf(1) / 2))
    assert S.RIEMANN_ZETA_HALF == pytest.approx(float(sp.zeta(0.5)), rel=2 * EPS)
    assert replace.SIEGMUND_RHO == -S.RIEMANN_ZETA_HALF / math.sqrt(2 * math.pi)
    assert replace.SIEGMUND_RHO == pytest.approx(0.5825971579390106, rel=4 * EPS)


# ---------------------------------------------------------------------------------------
# digamma, polygamma, Hurwitz zeta
# ---------------------------------------------------------------------------------------


def test_digamma_against_mpmath_and_scipy():
    """Within 4 ulp of max(|psi|, 1) (measured: 2.2), and of scipy's value within 6."""
    got = S.digamma(K_GRID)
    for x, g in zip(K_GRID, got, strict=True):
        want = mp.digamma(_mpf(x))
        scale = max(abs(want), 1)
        assert abs(g - want) <= 4 * EPS * scale, x
        assert abs(g - sp.digamma(x)) <= 6 * EPS * float(scale), x
        assert S.digamma(float(x)) == g  # scalar and vectorised calls agree


def test_digamma_closed_forms_are_nearly_exact():
    """Whole and half-whole shapes below 10 (DLMF 5.4.14/15): within 1 ulp of max(|psi|,1)."""
    for x in HALF[HALF < 10]:
        want = mp.digamma(_mpf(x))
        assert abs(S.digamma(x) - want) <= EPS * max(abs(want), 1), x


@pytest.mark.parametrize("m", [1, 2, 3, 5, 10, 11, 20, 30, 63])
def test_polygamma_against_mpmath_and_scipy(m):
    """Relative 4 ulp against mpmath (measured <= 1.6) and 24 against scipy (whose own
    error reaches 17 ulp, at m = 63), where zeta(m + 1, x) = psi^(m)(x)/m! is a normal
    double (above 1e-290)."""
    for x in K_GRID:
        with mp.workdps(DPS + int((m + 1) * math.log10(x + 2))):  # see the zeta test
            want = mp.polygamma(m, _mpf(x))
        if abs(want) / math.factorial(m) < 1e-290:  # zeta(m + 1, x) is subnormal
            continue
        got = S.polygamma(m, x)
        assert abs(got - want) <= 4 * EPS * abs(want), (m, x)
        assert got == pytest.approx(float(sp.polygamma(m, x)), rel=24 * EPS, abs=0), (m, x)


def test_polygamma_zero_is_digamma():
    np.testing.assert_array_equal(S.polygamma(0, K_GRID), S.digamma(K_GRID))


def test_hurwitz_zeta_against_mpmath_and_scipy():
    """s = 2 .. 64 (the characteristic function's series), q over the shapes: relative
    4 ulp against mpmath (measured <= 1.6) and 8 against scipy, for normal-double values.

    mpmath's zeta loses digits at large s and q (at 30 digits, zeta(64, 217) is off by
    2e-10), so the reference is computed with s log10(q) more digits."""
    q = K_GRID[::3]
    for s in range(2, 65):
        got = S.hurwitz_zeta(s, q)
        # vectorised and scalar calls differ only in the grouping of the direct sum
        np.testing.assert_allclose(got, [S.hurwitz_zeta(s, v) for v in q], rtol=2 * EPS)
        for x, g in zip(q, got, strict=True):
            with mp.workdps(DPS + int(s * math.log10(x + 2))):
                want = mp.zeta(s, _mpf(x))
            if want < 1e-290:
                continue
            assert abs(g - want) <= 4 * EPS * want, (s, x)
            assert g == pytest.approx(float(sp.zeta(s, x)), rel=8 * EPS, abs=0), (s, x)


def test_hurwitz_zeta_broadcasts_like_scipy():
    j = np.arange(2, 65)
    for k in (0.5, 3.5, 1e3, 5e6):
        with np.errstate(under="ignore"):
            np.testing.assert_allclose(S.hurwitz_zeta(j, k), sp.zeta(j, k), rtol=8 * EPS,
                                       atol=1e-300)


# ---------------------------------------------------------------------------------------
# log-gamma of complex arguments
# ---------------------------------------------------------------------------------------

T_GRID = (1e-6, 1e-3, 0.1, 0.5, 1.0, 3.0, 10.0, 100.0, 1e3, 1e4)


def _t_values(k):
    return sorted({*T_GRID, k / 4, k, 4 * k})


def test_log_gamma_ratio_against_mpmath():
    r"""log Gamma(k + it) - log Gamma(k), both signs of t: within 8 ulp of
    :math:`|value| + |t|`, plus 4e-18. The imaginary part, about :math:`t\psi(k)`, is
    built from terms of size |t| (:math:`t\log w` and the recurrence's arctangents), so
    near the root of digamma (k = 1.46) it keeps an absolute error of some ulp of |t|;
    the 4e-18 is the rounding of the Stirling corrections (about 1/(12 w) ~ 8e-3) that the
    difference at w + it and at w keeps, visible only at t ~ 1e-6. The characteristic
    function needs absolute accuracy (T times it is the error of log phi^T), which this
    is."""
    for k in K_GRID[::2]:
        ts = np.array(_t_values(k))
        got = S.log_gamma_ratio(k, np.concatenate([ts, -ts]))
        for t, g, gneg in zip(ts, got[: ts.size], got[ts.size :], strict=True):
            want = mp.loggamma(mp.mpc(_mpf(k), _mpf(t))) - mp.loggamma(_mpf(k))
            tol = 8 * EPS * (abs(want) + t) + 4e-18
            assert abs(g - complex(want)) <= tol, (k, t)
            assert abs(gneg - complex(want).conjugate()) <= tol, (k, -t)


def test_loggamma_against_mpmath_and_scipy():
    """The principal branch: within 4 ulp of max(|value|, 1) of mpmath (measured 2.9);
    scipy's own error reaches 16 ulp on this grid, so against scipy 20."""
    for k in K_GRID[::2]:
        for t in _t_values(k):
            z = complex(k, t)
            want = mp.loggamma(mp.mpc(_mpf(k), _mpf(t)))
            scale = float(max(abs(want), 1))
            got = S.loggamma(z)
            assert abs(got - complex(want)) <= 4 * EPS * scale, z
            assert abs(got - sp.loggamma(z)) <= 20 * EPS * scale, z


def test_gammaln_is_math_lgamma():
    x = np.array([0.5, 1.5, 29.5, 5e6])
    np.testing.assert_array_equal(S.gammaln(x), [math.lgamma(v) for v in x])
    # ~2 ulp each side of the truth; relative to max(|value|, 1), as near the zeros
    ref = sp.gammaln(x)
    assert np.all(np.abs(S.gammaln(x) - ref) <= 4 * EPS * np.maximum(1, np.abs(ref)))


# ---------------------------------------------------------------------------------------
# The regularized incomplete gamma function
# ---------------------------------------------------------------------------------------


def _p_reference(a, x):
    r"""P(a, x) = x^a e^{-x}/Gamma(a + 1) * M(1, a + 1, x) (DLMF 8.5.1), Kummer's function
    by mpmath.hyp1f1 at 30 digits; mpmath.gammainc's own series does not converge in its
    default term budget beyond a ~ 1e4."""
    a, x = _mpf(a), _mpf(x)
    return mp.exp(a * mp.log(x) - x - mp.loggamma(a + 1)) * mp.hyp1f1(1, a + 1, x,
                                                                     maxterms=10**7)


def test_gammainc_at_the_step_laws_points():
    """P(k, (n - d)/2), the chance that one refit shrinks sigma, for every shape of the
    grid and ddof 0, 0.5, 1, 1.5, 2: relative 20 ulp (4.4e-15) of mpmath (measured 8.4,
    as scipy's 7.8: the series' ~12 sqrt(a) terms, their logs summed in blocks) and of
    scipy."""
    for k in K_GRID:
        n = 2 * k + 1
        for d in (0.0, 0.5, 1.0, 1.5, 2.0):
            x = (n - d) / 2
            if x <= 0:
                continue
            got = S.gammainc_lower(k, x)
            want = _p_reference(k, x)
            assert abs(got - want) <= 20 * EPS * want, (k, d)
            assert got == pytest.approx(float(sp.gammainc(k, x)), rel=20 * EPS, abs=0)


def test_gammainc_across_its_range():
    """x = a + c sqrt(a), c = -30 .. 40 (both methods: the series up to x = a + sqrt(a)
    + 1 and the continued fraction beyond): relative 10 (1 + |log P|) ulp of mpmath
    where P is a normal double (measured: 5.3 such units), and twice that of scipy from
    c = -3 on. P is the exponential of a sum of logs of size about
    |log P| (the prefactor's a (log(1 + mu) - mu)), each carrying a relative rounding, so
    deep in the lower tail its relative error grows with |log P| (33 ulp at a = 10.5,
    P = 3e-9); scipy's is of the same kind."""
    for a in K_GRID[::4]:
        for c in (-30, -10, -3, -1, -0.1, 0.1, 0.9, 1.1, 1.5, 3, 5, 8, 20, 40):
            x = a + c * math.sqrt(a)
            if x <= 0:
                continue
            got = S.gammainc_lower(a, x)
            want = (mp.gammainc(_mpf(a), 0, _mpf(x), regularized=True) if a < 1e3
                    else _p_reference(a, x))
            if want < 1e-290:
                continue
            rel = 10 * EPS * (1 - float(mp.log(want)))
            assert abs(got - want) <= rel * want, (a, x)
            if c >= -3:  # scipy's own error reaches 18 such units here; far below the mode
                # it loses more (1e-4 relative at a = 5e6, c = -10, where P ~ 1e-23)
                assert got == pytest.approx(float(sp.gammainc(a, x)), rel=2 * rel, abs=0)


def test_gammainc_edges():
    assert S.gammainc_lower(3.0, 0.0) == 0.0
    assert S.gammainc_lower(3.0, math.inf) == 1.0
    assert S.gammainc_lower(0.5, 1e6) == 1.0


def test_step_law_prob_below_matches_its_cdf():
    """prob_below (this module) and cdf (scipy's chdtr) are the same function."""
    for n in (2, 3, 10, 1001, 10**7):
        law = steps.StepLaw(n, 1.0)
        for threshold in (-3.0, -0.1, 0.0, 1e-4, 0.2):
            assert law.prob_below(threshold) == pytest.approx(
                float(law.cdf(threshold)), rel=20 * EPS, abs=1e-300)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: S.digamma(0.25), "`x` must be >= 0.5 here; got 0.25."),
        (lambda: S.hurwitz_zeta(1, 2.0), "`s` must be a whole number >= 2 here; got 1."),
        (lambda: S.hurwitz_zeta(2, 0.1), "`q` must be >= 0.5 here; got 0.1."),
        (lambda: S.polygamma(-1, 2.0), "`m` must be a whole number >= 0; got -1."),
        (lambda: S.loggamma(0.2 + 1j), "`z` must have real part >= 0.5 here"),
        (lambda: S.log_gamma_ratio(0.2, 1.0), "`x` must be >= 0.5 here; got 0.2."),
        (lambda: S.gammaln(0.0), "`x` must be > 0 here; got 0.0."),
        (lambda: S.gammainc_lower(0.25, 1.0), "`a` must be >= 0.5 here; got 0.25."),
        (lambda: S.gammainc_lower(1.0, -1.0), "`x` must be >= 0; got -1.0."),
        (lambda: S.bernoulli(-1), "`n` must be a whole number from 0 to 200; got -1."),
    ],
)
def test_domain_errors(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call()


# ---------------------------------------------------------------------------------------
# The theory that uses them
# ---------------------------------------------------------------------------------------


def test_log_gamma_ratio_excess_against_mpmath():
    """log Gamma(k + a) - log Gamma(k) - a log k, below k = 30 by the recurrence: within
    1e-15 absolute for the theory's a (p/2 = 1/2, 1, 2; a difference of two log-gammas
    of size up to 70 is off by up to 2.3e-14, which T = 10^6 generations turn into 2e-8)."""
    for k in HALF:
        for a in (-0.25, 0.5, 1.0, 2.0):
            want = (mp.loggamma(_mpf(k) + _mpf(a)) - mp.loggamma(_mpf(k))
                    - _mpf(a) * mp.log(_mpf(k)))
            assert abs(replace._log_gamma_ratio_excess(float(k), a) - want) <= 1e-15, (k, a)


class _ScipyBacked:
    """The functions of _special as the theory called them from scipy.special before."""

    digamma = staticmethod(sp.digamma)
    polygamma = staticmethod(sp.polygamma)
    gammaln = staticmethod(sp.gammaln)
    hurwitz_zeta = staticmethod(sp.zeta)
    RIEMANN_ZETA_HALF = float(sp.zeta(0.5))

    @staticmethod
    def bernoulli(n):
        return sp.bernoulli(n)

    @staticmethod
    def log_gamma_ratio(k, t):
        return sp.loggamma(k + 1j * np.asarray(t)) - sp.gammaln(k)

    @staticmethod
    def gammainc_lower(a, x):
        return float(sp.gammainc(a, x))


def _leaves(record, path=""):
    if isinstance(record, dict):
        for key, value in record.items():
            yield from _leaves(value, f"{path}.{key}")
    elif isinstance(record, float):
        yield path, record


RECORD_GRID = [(n, T, d) for n in (2, 3, 10, 59, 61, 1000, 10**7) for T in (1, 10, 10**6)
               for d in (0, 1, 2) if d < n]


def test_theory_records_equal_the_scipy_backed_ones(monkeypatch):
    """``theory --json`` with this module's functions against the same code calling
    scipy.special (as before): every number within 1e-13 relative, except the
    quantiles, which Brent's method finds to within xtol = rtol = 1e-13 in standard
    units of S_T, so two runs whose CDFs differ by ~1e-16 may return points up to
    2e-13 (1 + |y|) SDs apart: for them the bound is 2e-12 max(1, SD) in log sigma
    (and relative in sigma)."""
    ours = {c: theory_record(Experiment(n=c[0], generations=c[1], ddof=c[2], replicates=1,
                                        seed=0)) for c in RECORD_GRID}
    replace._tabulated_cdf.cache_clear()
    monkeypatch.setattr(steps, "special", _ScipyBacked)
    monkeypatch.setattr(replace, "special", _ScipyBacked)
    for case, record in ours.items():
        theirs = dict(_leaves(theory_record(Experiment(n=case[0], generations=case[1],
                                                       ddof=case[2], replicates=1, seed=0))))
        sd = max(1.0, record["final"]["log_sigma2_sd"])
        for path, value in _leaves(record):
            if "sigma_quantiles" in path:
                tol = 2e-12 * sd * (abs(value) if "log_scale" not in path else 1.0)
                assert value == pytest.approx(theirs[path], rel=0, abs=tol), (case, path)
            elif "log" in path:  # an absolute 1e-13 in a log is 1e-13 relative in its exp
                assert value == pytest.approx(theirs[path], rel=1e-13, abs=1e-13), (case, path)
            else:
                assert value == pytest.approx(theirs[path], rel=1e-13, abs=0), (case, path)


THEORY_ARGS = [
    ["--n", "10"],
    ["--n", "1000", "--generations", "1000"],
    ["--n", "10000000", "--generations", "1000000"],
    ["--n", "10", "--ddof", "1"],
    ["--n", "10", "--ddof", "2"],
]

_NO_SCIPY = """
import json, sys
from collapsecheck.cli import run
sys.argv = ["collapsecheck", "theory", *sys.argv[1:], "--json"]
try:
    run()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m == "scipy" or m.startswith("scipy."))))
"""


@pytest.mark.parametrize("args", THEORY_ARGS, ids=lambda a: " ".join(a))
def test_theory_command_does_not_import_scipy(args):
    """The start-up goal of ``collapsecheck theory`` (issue 8): scipy costs ~0.2 s to
    import, and the article's chain needs none of it."""
    env = {k: v for k, v in os.environ.items() if k != "COLLAPSECHECK_DEBUG"}
    proc = subprocess.run([sys.executable, "-c", _NO_SCIPY, *args], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    *record, modules = proc.stdout.strip().splitlines()
    assert json.loads("\n".join(record))["regime"] == "replace"
    assert json.loads(modules) == []
