"""The regime engines (collapsecheck.engines.regimes): law, exact facts, reproducibility.

Statistical tests use fixed seeds and alpha = 1e-6, so they are deterministic. Detectable
effects: the two-sample KS test with 4000 replicates a side rejects at that alpha when the
largest CDF gap exceeds sqrt(-log(alpha/2) (1/4000 + 1/4000)/2) = 0.062, so a law off by a
gap of 0.08 is caught with power above 0.9 (test_wrong_temperature_is_caught shows a real
error is caught by a wide margin). Moment checks demand |z| < 5 (two-sided alpha 6e-7)
with z the difference over its standard error at 1e5 replicates a side, where the raw
moments' CLT holds (n >= 4, T <= 5: kurtosis of sigma_T^2 stays below ((n+1)/(n-1))^T-ish
levels a few, so the SE is honest): an error of about 2% in E[sigma_T^2] is caught.

The independent reference is a plain numpy loop that draws the values themselves (scipy's
truncnorm for truncated draws, ``Generator.permuted`` for subsamples) and keeps the
explicit pool: it shares no code with the engines.
"""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr

from collapsecheck import Experiment, interrupt
from collapsecheck.engines import simulate
from collapsecheck.engines._blocks import REPLICATE_BLOCK, Cancelled
from collapsecheck.engines.regimes.samples import truncated_standard_normal
from collapsecheck.resources import MEMORY_ENV, ResourceError

ALPHA = 1e-6
SEED = 20260511


def _run(e, engine, record="final", **kw):
    kw.setdefault("workers", 1)
    return simulate(e, engine=engine, record=record, **kw).trajectories


def _ks2(a, b):
    return stats.ks_2samp(a, b).pvalue


# Every regime with the modifiers the sufficient engine supports (temperature, n-growth,
# L in {0, 0.3, 1}, ddof 0 and 1), at small n where approximations would break.
SUFFICIENT_CASES = [
    dict(regime="replace", temperature=0.8, n=3, ddof=0.0),
    dict(regime="replace", temperature=1.3, n_growth=0.7, n=4, ddof=1.0),
    dict(regime="replace", n_growth=1.0, n=3, ddof=1.0),
    dict(regime="mix", fresh_fraction=0.0, temperature=1.2, n=5, ddof=0.0),
    dict(regime="mix", fresh_fraction=0.3, n_growth=0.5, n=6, ddof=1.0),
    dict(regime="mix", fresh_fraction=0.3, temperature=0.7, n=3, ddof=0.0),  # 1 fresh, 2 model
    dict(regime="mix", fresh_fraction=1.0, n_growth=1.0, n=4, ddof=1.0),
    dict(regime="accumulate", n=3, ddof=0.0),
    dict(regime="accumulate", temperature=1.5, n_growth=0.5, n=5, ddof=1.0),
    dict(regime="accumulate", temperature=0.6, n=8, ddof=0.0),
]


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in c.items()) for c in cases]


@pytest.mark.parametrize("case", SUFFICIENT_CASES, ids=_ids(SUFFICIENT_CASES))
def test_sufficient_and_samples_agree_in_law(case):
    e = Experiment(generations=5, replicates=4000, mu0=-1.0, sigma0=1.5, seed=SEED, **case)
    a = _run(e, "samples")
    b = _run(e.replace(seed=SEED + 1), "sufficient")
    assert _ks2(a.final_log_var, b.final_log_var) > ALPHA
    assert _ks2(a.final_mean, b.final_mean) > ALPHA


def test_wrong_temperature_is_caught():
    e = Experiment(regime="accumulate", n=4, generations=5, replicates=4000, seed=SEED)
    a = _run(e, "samples")
    b = _run(e.replace(temperature=1.25, seed=SEED + 1), "sufficient")
    assert _ks2(a.final_log_var, b.final_log_var) < ALPHA


# ---------------------------------------------------------------------------------------
# The independent reference: draw the values, keep the explicit pool
# ---------------------------------------------------------------------------------------

def _naive(e, replicates, seed):
    rng = np.random.default_rng(seed)
    mu = np.full(replicates, e.mu0)
    sd = np.full(replicates, e.sigma0)
    pool = np.empty((replicates, 0))
    for t in range(1, e.generations + 1):
        n_t = e.n_at(t)
        m = round(e.fresh_fraction * n_t) if e.regime == "mix" else 0
        shape = (replicates, n_t - m)
        if e.truncate is None:
            z = rng.standard_normal(shape)
        else:
            z = stats.truncnorm.rvs(-e.truncate, e.truncate, size=shape, random_state=rng)
        x = mu[:, None] + e.temperature * sd[:, None] * z
        data = np.concatenate([x, e.mu0 + e.sigma0 * rng.standard_normal((replicates, m))],
                              axis=1)
        if e.regime.startswith("accumulate"):
            pool = np.concatenate([pool, data], axis=1)
            data = pool
            if e.regime == "accumulate-subsample":
                data = rng.permuted(pool, axis=1)[:, :n_t]
        mu = data.mean(axis=1)
        sd = data.std(axis=1, ddof=e.ddof)
    return mu, sd ** 2


def _z_mean(a, b):
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return (a.mean() - b.mean()) / se


def _z_var(a, b):
    def var_and_se(x):
        d = x - x.mean()
        v = d.var()
        return v, math.sqrt(max(np.mean(d ** 4) - v * v, 0.0) / x.size)

    (va, sa), (vb, sb) = var_and_se(a), var_and_se(b)
    return (va - vb) / math.hypot(sa, sb)


REFERENCE_CASES = [
    (dict(regime="replace", temperature=1.2, n_growth=0.5, truncate=1.3, n=5, ddof=1.0),
     ["samples"]),
    (dict(regime="replace", temperature=0.9, n_growth=0.5, n=5, ddof=0.0),
     ["samples", "sufficient"]),
    (dict(regime="mix", fresh_fraction=0.3, temperature=1.1, truncate=2.0, n=6, ddof=0.0),
     ["samples"]),
    (dict(regime="mix", fresh_fraction=0.3, temperature=1.1, n_growth=0.5, n=6, ddof=1.0),
     ["samples", "sufficient"]),
    (dict(regime="accumulate", temperature=1.3, n_growth=0.5, n=4, ddof=1.0),
     ["samples", "sufficient"]),
    (dict(regime="accumulate", truncate=1.0, n=4, ddof=0.0), ["samples"]),
    (dict(regime="accumulate-subsample", n=4, ddof=0.0), ["samples"]),
    (dict(regime="accumulate-subsample", temperature=1.2, n_growth=0.5, truncate=1.5, n=5,
          ddof=1.0), ["samples"]),
]


@pytest.mark.parametrize(("case", "engines"), REFERENCE_CASES,
                         ids=_ids([c for c, _ in REFERENCE_CASES]))
def test_engines_match_naive_reference(case, engines):
    R = 100_000
    e = Experiment(generations=4, replicates=R, mu0=1.5, sigma0=2.0, seed=SEED, **case)
    ref_mu, ref_s2 = _naive(e, R, seed=SEED + 7)
    for engine in engines:
        traj = _run(e, engine)
        s2 = np.exp(traj.final_log_var)
        assert abs(_z_mean(s2, ref_s2)) < 5, (engine, "E[sigma^2]", s2.mean(), ref_s2.mean())
        assert abs(_z_var(traj.final_mean, ref_mu)) < 5, (engine, "Var(mu)")


@pytest.mark.parametrize("case", [c for c, engines in REFERENCE_CASES if engines == ["samples"]],
                         ids=_ids([c for c, engines in REFERENCE_CASES if engines == ["samples"]]))
def test_samples_only_regimes_match_naive_reference_in_law(case):
    # where no sufficient engine exists (truncation, subsample), the whole final law
    e = Experiment(generations=5, replicates=4000, mu0=1.5, sigma0=2.0, seed=SEED, **case)
    ref_mu, ref_s2 = _naive(e, e.replicates, seed=SEED + 9)
    traj = _run(e, "samples")
    assert _ks2(traj.final_log_var, np.log(ref_s2)) > ALPHA
    assert _ks2(traj.final_mean, ref_mu) > ALPHA


def test_preflight_refuses_before_running(monkeypatch):
    from collapsecheck.engines import regimes

    monkeypatch.setenv(MEMORY_ENV, "1M")
    e = Experiment(regime="accumulate-subsample", n=100, generations=30, replicates=200, seed=0)
    with pytest.raises(ValueError, match="sufficient engine cannot run"):
        regimes.preflight(e, "sufficient")
    with pytest.raises(ResourceError, match="at most 10 generations fit"):
        regimes.preflight(e, "samples", workers=1)
    regimes.preflight(e.replace(generations=10), "samples", workers=1)


# ---------------------------------------------------------------------------------------
# Exact facts that need no theory module
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["samples", "sufficient"])
def test_accumulate_mean_variance_product_formula(engine):
    # ddof 0, fixed n: v_1 = (n-1)/n and E[Q_t | past] = sigma_{t-1}^2 (n t - 1/t), so
    # v_t = v_{t-1} (1 - 1/(n t^2)) = prod_{s <= t} (1 - 1/(n s^2)) sigma0^2.
    n, T = 3, 6
    e = Experiment(regime="accumulate", n=n, generations=T, replicates=100_000, sigma0=2.0,
                   seed=SEED)
    traj = _run(e, engine, record="all")
    s2 = np.exp(traj.log_var[:, 1:])
    want = 4.0 * np.cumprod([1 - 1 / (n * s * s) for s in range(1, T + 1)])
    z = (s2.mean(axis=0) - want) / (s2.std(axis=0, ddof=1) / math.sqrt(e.replicates))
    assert np.all(np.abs(z) < 5), (s2.mean(axis=0), want)


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
@pytest.mark.parametrize("n_growth", [0.0, 0.8])
def test_mix_all_fresh_is_a_fresh_fit_every_generation(engine, n_growth):
    # L = 1: generation t fits n_t fresh draws of N(mu0, sigma0^2) whatever came before:
    # (n_t - d) sigma_t^2 / sigma0^2 ~ chi2_{n_t - 1}, mu_t ~ N(mu0, sigma0^2 / n_t).
    e = Experiment(regime="mix", fresh_fraction=1.0, n=4, n_growth=n_growth, ddof=1.0,
                   temperature=3.0, generations=5, replicates=4000, mu0=2.0, sigma0=0.5,
                   seed=SEED)
    traj = _run(e, engine, record="all")
    for t in (1, 5):
        n_t = e.n_at(t)
        q = (n_t - e.ddof) * np.exp(traj.log_var[:, t]) / e.sigma0 ** 2
        assert stats.kstest(q, stats.chi2(n_t - 1).cdf).pvalue > ALPHA
        mu = traj.fitted_mean()[:, t]
        assert stats.kstest(mu, stats.norm(e.mu0, e.sigma0 / math.sqrt(n_t)).cdf).pvalue > ALPHA
    # and generations are independent: no correlation between consecutive fits
    r = np.corrcoef(traj.log_var[:, 4], traj.log_var[:, 5])[0, 1]
    assert abs(r) < 5 / math.sqrt(e.replicates)


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
def test_mix_without_fresh_draws_is_the_replace_chain(engine):
    e = Experiment(regime="mix", fresh_fraction=0.0, n=4, generations=6, replicates=4000,
                   ddof=0.0, sigma0=1.7, seed=SEED)
    assert not e.is_base  # runs on the regime engines
    traj = _run(e, engine)
    base = e.replace(regime="replace", fresh_fraction=None, seed=SEED + 2)
    assert base.is_base  # runs on the base engines
    ref = _run(base, engine)
    assert _ks2(traj.final_log_var, ref.final_log_var) > ALPHA
    assert _ks2(traj.final_mean, ref.final_mean) > ALPHA
    # and with a temperature, against the replace chain with it
    hot = e.replace(temperature=1.3)
    other = _run(hot.replace(regime="replace", fresh_fraction=None, seed=SEED + 3), engine)
    assert _ks2(_run(hot, engine).final_log_var, other.final_log_var) > ALPHA


def test_truncated_replace_mean_variance():
    # sigma_t^2 / sigma_{t-1}^2 = tau^2 S_z / (n - d), S_z the sum of squares of n i.i.d.
    # truncated normals: E S_z = (n - 1) v_C, v_C = 1 - 2 C phi(C) / (2 Phi(C) - 1).
    n, T, C, tau, ddof = 5, 4, 1.2, 1.1, 1.0
    e = Experiment(n=n, generations=T, replicates=100_000, truncate=C, temperature=tau,
                   ddof=ddof, seed=SEED)
    v_c = 1 - 2 * C * stats.norm.pdf(C) / (2 * stats.norm.cdf(C) - 1)
    want = (tau ** 2 * (n - 1) * v_c / (n - ddof)) ** T
    s2 = np.exp(_run(e, "samples").final_log_var)
    z = (s2.mean() - want) / (s2.std(ddof=1) / math.sqrt(s2.size))
    assert abs(z) < 5, (s2.mean(), want)


def test_base_chain_is_bit_identical_through_simulate():
    from collapsecheck.engines import ENGINES

    plain = Experiment(n=5, generations=7, replicates=150, seed=SEED)
    spelled = Experiment(n=5, generations=7, replicates=150, seed=SEED, regime="replace",
                         n_growth=0, temperature=1, truncate=math.inf)
    assert spelled.is_base
    for engine in ("samples", "sufficient"):
        a = simulate(plain, engine=engine, workers=1).trajectories
        b = simulate(spelled, engine=engine, workers=1).trajectories
        np.testing.assert_array_equal(a.log_var, b.log_var)
        np.testing.assert_array_equal(a.mean, b.mean)
        # the base engine itself, block 0
        rec = np.arange(plain.generations + 1)
        mean0, lv0 = ENGINES[engine](plain, 0, REPLICATE_BLOCK, rec, 1 << 14)
        np.testing.assert_array_equal(b.mean[:REPLICATE_BLOCK], mean0)
        np.testing.assert_array_equal(b.log_var[:REPLICATE_BLOCK], lv0)
        # a regime with the same law runs on other streams
        mix0 = simulate(plain.replace(regime="mix", fresh_fraction=0.0), engine=engine,
                        workers=1).trajectories
        assert not np.array_equal(mix0.log_var, a.log_var)


# ---------------------------------------------------------------------------------------
# Truncated draws
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("c", [0.05, 1.0, 3.0])
def test_truncated_draws_follow_truncnorm(c):
    z = np.empty(50_000)
    truncated_standard_normal(np.random.default_rng(SEED), c, z)
    assert np.all(np.abs(z) <= c)
    assert stats.kstest(z, stats.truncnorm(-c, c).cdf).pvalue > ALPHA


class _FixedUniforms:
    def __init__(self, u):
        self.u = np.asarray(u, dtype=float)

    def random(self, out):
        out[...] = self.u


def test_truncated_draws_keep_precision_in_both_tails():
    # u = 1/2 +- w/2 maps to the points whose tail beyond them (inside the cut) is w/2 of
    # the mass; at C = 8 the upper tail sits where Phi(z) rounds to 1, so inverting
    # Phi(-C) + u (Phi(C) - Phi(-C)) directly could not resolve it.
    c = 8.0
    w = np.array([1e-12, 1e-6, 0.3])
    u = np.concatenate([0.5 + w / 2, 0.5 - w / 2])
    w_hi, w_lo = 2 * u[:3] - 1, 1 - 2 * u[3:]  # exact: the w these doubles stand for
    z = np.empty(6)
    truncated_standard_normal(_FixedUniforms(u), c, z)
    a = ndtr(-c)
    upper = (ndtr(-z[:3]) - a) / (1 - 2 * a)  # mass between z and C
    lower = (ndtr(z[3:]) - a) / (1 - 2 * a)  # mass between -C and z
    np.testing.assert_allclose(upper, w_hi / 2, rtol=1e-9)
    np.testing.assert_allclose(lower, w_lo / 2, rtol=1e-9)
    assert np.all(z[:3] > 0) and np.all(z[3:] < 0)


# ---------------------------------------------------------------------------------------
# Reproducibility
# ---------------------------------------------------------------------------------------

REPRO_CASES = [
    (dict(regime="replace", temperature=1.1, n_growth=0.5, truncate=1.5, n=7), ["samples"]),
    (dict(regime="mix", fresh_fraction=0.3, n_growth=0.6, temperature=0.9, n=9),
     ["samples", "sufficient"]),
    (dict(regime="accumulate", temperature=1.2, n_growth=0.3, n=70), ["samples", "sufficient"]),
    (dict(regime="accumulate-subsample", truncate=2.0, n_growth=0.5, n=6), ["samples"]),
]


@pytest.mark.parametrize(("case", "engines"), REPRO_CASES,
                         ids=_ids([c for c, _ in REPRO_CASES]))
def test_same_seed_same_bits_whatever_workers_and_chunk(case, engines):
    e = Experiment(generations=6, replicates=2 * REPLICATE_BLOCK + 5, seed=SEED, **case)
    for engine in engines:
        base = simulate(e, engine=engine, workers=1).trajectories
        for workers, chunk in [(2, 1 << 20), (1, 7), (2, 1)]:
            other = simulate(e, engine=engine, workers=workers,
                             chunk_elements=chunk).trajectories
            np.testing.assert_array_equal(other.log_var, base.log_var)
            np.testing.assert_array_equal(other.mean, base.mean)
        assert np.all(np.isfinite(base.log_var))


def test_long_truncated_rows_are_split_reproducibly():
    from collapsecheck.engines.samples import PIECE

    e = Experiment(n=PIECE + 21, generations=2, replicates=2, truncate=2.0, temperature=1.5,
                   seed=SEED)
    a = _run(e, "samples", chunk_elements=1 << 22)
    b = _run(e, "samples", chunk_elements=1000)
    np.testing.assert_array_equal(a.log_var, b.log_var)
    v_c = 1 - 2 * 2.0 * stats.norm.pdf(2.0) / (2 * stats.norm.cdf(2.0) - 1)
    np.testing.assert_allclose(a.final_log_var, 2 * math.log(1.5 ** 2 * v_c), atol=0.05)


def test_streamed_regime_equals_in_memory_record(tmp_path):
    from collapsecheck.trajectories import TrajectoryWriter, load

    e = Experiment(regime="mix", fresh_fraction=0.5, n=5, generations=9,
                   replicates=REPLICATE_BLOCK + 3, seed=SEED)
    full = simulate(e, engine="samples", workers=1).trajectories
    path = tmp_path / "mix.npz"
    with TrajectoryWriter(path, e.replicates, e.generations) as sink:
        simulate(e, engine="samples", workers=2, sink=sink)
    back = load(path)
    np.testing.assert_array_equal(back.log_var, full.log_var)


# ---------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------

def test_sufficient_refuses_truncation():
    e = Experiment(n=5, generations=3, replicates=10, truncate=2.0, seed=0)
    with pytest.raises(ValueError, match=r"cannot run a truncated model .*`--engine samples`"):
        simulate(e, engine="sufficient")


def test_sufficient_refuses_subsample():
    e = Experiment(regime="accumulate-subsample", n=5, generations=3, replicates=10, seed=0)
    with pytest.raises(ValueError, match=r"cannot run regime 'accumulate-subsample'.*samples"):
        simulate(e, engine="sufficient")


def test_subsample_pool_that_cannot_fit_is_refused(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1M")
    e = Experiment(regime="accumulate-subsample", n=100, generations=30, replicates=200, seed=0)
    with pytest.raises(ResourceError, match=r"at most \d+ generations fit with 1 worker"):
        simulate(e, engine="samples", workers=1)
    with pytest.raises(ResourceError, match=r"over this run's budget of 1 MiB"):
        simulate(e, engine="samples", workers=2)
    # a horizon the message says fits does run
    simulate(e.replace(generations=5), engine="samples", workers=1, record="final")


def test_growing_chain_that_would_overflow_is_refused():
    e = Experiment(n=10, generations=1000, replicates=2, temperature=10.0, seed=0)
    with pytest.raises(ValueError, match=r"could reach about .* beyond the 1418"):
        simulate(e, engine="sufficient")


@pytest.mark.parametrize("kw", [
    dict(regime="replace", n_growth=0.5, generations=100_000),  # collapsing: never refused
    dict(regime="accumulate", temperature=1.5, generations=10_000),  # polynomial growth
    dict(regime="mix", fresh_fraction=0.5, temperature=1.2, generations=100_000),
])
def test_long_chains_that_cannot_overflow_are_accepted(kw):
    from collapsecheck.engines import _overflow_iv

    _overflow_iv(Experiment(n=2, replicates=1, seed=0, **kw))


def test_cancelled_run_stops():
    e = Experiment(regime="accumulate", n=5, generations=50, replicates=10, seed=0)
    interrupt.CANCEL.set()
    try:
        with pytest.raises(Cancelled):
            simulate(e, engine="sufficient", workers=1)
    finally:
        interrupt.clear()
