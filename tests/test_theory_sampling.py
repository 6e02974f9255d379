"""The model's sampling law: moments of the truncated, tempered normal draw."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from collapsecheck.experiment import n_schedule
from collapsecheck.families.gaussian.theory.sampling import (
    SamplingLaw,
    fourth_moment_factor,
    truncated_fourth_moment,
    truncated_variance_factor,
    variance_factor,
)

# Reference (mpmath 1.4.1, 40 digits), produced by:
#   python -c "import mpmath as mp; mp.mp.dps=40
#   for C in ['1e-6','0.1','0.5','1','1.5','2','3','5','8']:
#       C=mp.mpf(C); Z=mp.quad(lambda z: mp.exp(-z*z/2),[0,C])
#       print(C, mp.quad(lambda z: z**2*mp.exp(-z*z/2),[0,C])/Z,
#             mp.quad(lambda z: z**4*mp.exp(-z*z/2),[0,C])/Z)"
TRUNCATED_MOMENTS = [
    (1.0e-6, 3.3333333333328889e-13, 1.999999999999619e-25),
    (0.1, 0.0033288910066998022, 1.9961930166404577e-5),
    (0.5, 0.080589154600811698, 0.01191475245263802),
    (1.0, 0.29112509477279321, 0.16450037909117284),
    (1.5, 0.55152441576155131, 0.6455031827481444),
    (2.0, 0.77374130354992325, 1.4161891248494627),
    (3.0, 0.97333692466254148, 2.6800430959504977),
    (5.0, 0.99998513279632924, 2.9995837182972188),
    (8.0, 0.99999999999991916, 2.999999999994584),
]


@pytest.mark.parametrize(("c", "kappa", "mu4"), TRUNCATED_MOMENTS)
def test_truncated_moments_match_mpmath(c, kappa, mu4):
    assert truncated_variance_factor(c) == pytest.approx(kappa, rel=1e-13)
    assert truncated_fourth_moment(c) == pytest.approx(mu4, rel=1e-13)


def test_truncated_moments_match_live_mpmath_quad():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    for c in (1e-9, 0.03, 0.7, 1.2, 1.9, 2.1, 2.7, 4.4, 6.5, 12.0, 40.0):
        cm = mp.mpf(c)
        z = mp.quad(lambda x: mp.exp(-x * x / 2), [0, cm])
        k = mp.quad(lambda x: x**2 * mp.exp(-x * x / 2), [0, cm]) / z
        m = mp.quad(lambda x: x**4 * mp.exp(-x * x / 2), [0, cm]) / z
        assert truncated_variance_factor(c) == pytest.approx(float(k), rel=1e-12), c
        assert truncated_fourth_moment(c) == pytest.approx(float(m), rel=1e-12), c


@pytest.mark.parametrize("c", [0.6, 1.0, 2.0, 3.5, 7.0])
def test_closed_forms_where_they_do_not_cancel(c):
    phi = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(c / math.sqrt(2))  # 2 Phi(C) - 1
    assert truncated_variance_factor(c) == pytest.approx(1 - 2 * c * phi / mass, rel=1e-12)
    assert truncated_fourth_moment(c) == pytest.approx(3 - 2 * phi * (c**3 + 3 * c) / mass,
                                                       rel=1e-12)


@pytest.mark.parametrize("c", [1e-150, 1e-30, 1e-8, 1e-5])
def test_small_cut_series(c):
    # kappa = C^2/3 (1 - 2 C^2/15 + O(C^4)), mu4 = C^4/5 (1 - 4 C^2/21 + O(C^4)) (Taylor)
    assert truncated_variance_factor(c) == pytest.approx(c * c / 3 * (1 - 2 * c * c / 15),
                                                         rel=1e-14)
    if c > 1e-70:  # C^4 underflows below
        assert truncated_fourth_moment(c) == pytest.approx(c**4 / 5 * (1 - 4 * c * c / 21),
                                                           rel=1e-14)


@pytest.mark.parametrize("c", [None, math.inf, 60.0, 1e300])
def test_no_cut_is_the_normal(c):
    assert truncated_variance_factor(c) == 1.0
    assert truncated_fourth_moment(c) == 3.0
    assert variance_factor(1.7, c) == pytest.approx(1.7**2, rel=1e-15)
    assert fourth_moment_factor(1.7, c) == pytest.approx(3 * 1.7**4, rel=1e-15)


def test_sampling_law_object():
    law = SamplingLaw(0.8, 2.0)
    assert law.variance == pytest.approx(0.64 * 0.77374130354992325, rel=1e-13)
    assert law.fourth == pytest.approx(0.8**4 * 1.4161891248494627, rel=1e-13)
    assert not law.is_gaussian
    assert SamplingLaw(1.0, math.inf).truncate is None
    assert SamplingLaw(1.0, math.inf).is_gaussian


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"temperature": 0.0}, ValueError, "`temperature` must be a finite number > 0; got 0.0"),
    ({"temperature": "hot"}, TypeError, "`temperature` must be a real number; got 'hot'"),
    ({"truncate": -1.0}, ValueError, r"`truncate` \(the cut C of .*\) must be > 0; got -1.0"),
    ({"truncate": math.nan}, ValueError, "`truncate`"),
    ({"truncate": True}, TypeError, "`truncate` must be a real number or None; got True"),
])
def test_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        variance_factor(**kwargs)


@given(st.floats(min_value=1e-3, max_value=30.0), st.floats(min_value=1e-3, max_value=30.0))
def test_moments_are_monotone_and_platykurtic(c1, c2):
    lo, hi = sorted((c1, c2))
    k_lo, k_hi = truncated_variance_factor(lo), truncated_variance_factor(hi)
    assert 0 < k_lo <= k_hi * (1 + 1e-14) and k_hi <= 1
    # The truncated normal's kurtosis lies between the uniform's 9/5 and the normal's 3.
    kurt = truncated_fourth_moment(lo) / k_lo**2
    assert 1.8 * (1 - 1e-12) <= kurt <= 3 * (1 + 1e-12)


def test_moments_match_inverse_cdf_draws():
    # Seeded draws of the truncated normal by ndtri on uniforms in (Phi(-C), Phi(C)); each
    # comparison is within 5 standard errors (two-sided alpha ~ 6e-7; z^2 and z^4 are
    # bounded, so their CLT holds at 4e5 draws).
    rng = np.random.default_rng(20240611)
    for c in (0.5, 1.3, 2.5):
        lo = special.ndtr(-c)
        z = special.ndtri(lo + (1 - 2 * lo) * rng.random(400_000))
        for power, theory in ((2, truncated_variance_factor(c)),
                              (4, truncated_fourth_moment(c))):
            x = z**power
            se = x.std(ddof=1) / math.sqrt(x.size)
            assert abs(x.mean() - theory) < 5 * se, (c, power, x.mean(), theory, se)


def test_n_schedule_matches_experiment():
    from collapsecheck.experiment import n_at

    t = np.arange(1, 3001)
    for n, p in ((2, 0.0), (3, 1.0 / 3), (7, 0.5), (10, 1.0), (5, 2.5)):
        got = n_schedule(n, p, t)
        want = np.array([n_at(n, p, int(i)) for i in t], dtype=float)
        np.testing.assert_array_equal(got, want)
