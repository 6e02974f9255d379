"""Both engines against exact theory at small n, reproducibility, long horizons.

Statistical tests use fixed seeds and alpha = 1e-6, so they are deterministic. With
R = 2000 replicates the one-sample KS test at that alpha rejects when the largest CDF gap
exceeds sqrt(-log(alpha/2) / (2R)) = 0.060: a simulator whose law is off by a CDF gap of
0.08 or more is caught with power above 0.95 (the wrong-law tests below show gaps of
0.2 and more are caught by a wide margin).
"""

import math

import numpy as np
import pytest
from scipy import stats

from collapsecheck import Experiment
from collapsecheck.engines import simulate
from collapsecheck.engines._blocks import REPLICATE_BLOCK
from collapsecheck.theory import LogVarianceLaw, predict

ALPHA = 1e-6
ENGINES = ["samples", "sufficient"]


def _final_log_var(e, engine, **kw):
    return simulate(e, engine=engine, record="final", workers=1, **kw).trajectories


def _ks_pvalue(log_var, e):
    law = LogVarianceLaw(e.n, e.generations, e.ddof)
    shift = 2 * math.log(e.sigma0)
    return stats.kstest(log_var - shift, law.cdf).pvalue


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("n", "T", "ddof"), [(2, 1, 0.0), (2, 4, 1.0), (3, 5, 0.0), (4, 3, 0.5),
                                             (5, 8, 1.0), (10, 6, 0.0), (64, 20, 1.0),
                                             (300, 10, 0.0)])
def test_final_log_variance_follows_exact_law(engine, n, T, ddof):
    e = Experiment(n=n, generations=T, replicates=2000, ddof=ddof, sigma0=1.7, seed=20261125)
    traj = _final_log_var(e, engine)
    assert _ks_pvalue(traj.final_log_var, e) > ALPHA


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("wrong", "field"), [({"ddof": 1.0}, "ddof"), ({"n": 4}, "n")])
def test_wrong_law_is_caught(engine, wrong, field):
    # Simulate n=5, ddof=0, and test against a theory with a wrong ddof or n.
    e = Experiment(n=5, generations=5, replicates=2000, ddof=0.0, seed=7)
    traj = _final_log_var(e, engine)
    assert _ks_pvalue(traj.final_log_var, e.replace(**wrong)) < ALPHA


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("n", "T", "ddof"), [(3, 6, 0.0), (5, 10, 1.0), (8, 4, 0.5)])
def test_moments_within_five_standard_errors(engine, n, T, ddof):
    # The log-scale mean and SD, E[sigma_T] and Var(mu_T): |z| < 5 (two-sided alpha 6e-7).
    from collapsecheck.families.gaussian.summary import summarize

    e = Experiment(n=n, generations=T, replicates=4000, ddof=ddof, mu0=-2.0, seed=99)
    traj = _final_log_var(e, engine)
    s = summarize(traj.final_log_var, traj.final_mean, predict(e))
    # log-scale statistics always have a trustworthy SE; raw-scale ones are compared only
    # where the exact kurtosis says their SE can be trusted at this R (clt_ok)
    assert s.log_sigma2_mean.clt_ok and s.log_sigma2_sd.clt_ok
    for est in (s.log_sigma2_mean, s.log_sigma2_sd, s.sigma_mean, s.mu_var):
        if est.clt_ok:
            assert abs(est.z) < 5, est


def test_mean_chain_centred_on_start():
    e = Experiment(n=3, generations=20, replicates=4000, mu0=5.0, seed=3)
    mu = _final_log_var(e, "sufficient").final_mean
    assert abs(mu.mean() - 5.0) < 5 * mu.std(ddof=1) / math.sqrt(mu.size)


def test_engines_agree_with_each_other():
    e = Experiment(n=4, generations=6, replicates=3000, seed=11)
    a = _final_log_var(e, "samples").final_log_var
    b = _final_log_var(e, "sufficient").final_log_var
    assert stats.ks_2samp(a, b).pvalue > ALPHA


def test_increments_are_iid_log_chi_square():
    # Every per-generation increment of log sigma^2 is an independent draw of the step
    # law: pool all of them and test against the exact one-step CDF.
    e = Experiment(n=3, generations=50, replicates=100, seed=5)
    traj = simulate(e, engine="samples", workers=1).trajectories
    steps = np.diff(traj.log_var, axis=1).ravel()
    law = LogVarianceLaw(3, 1, 0.0)
    assert stats.kstest(steps, law.cdf).pvalue > ALPHA
    # lag-1 autocorrelation within chains is ~0 (|r| < 5/sqrt(N))
    d = np.diff(traj.log_var, axis=1)
    r = np.corrcoef(d[:, :-1].ravel(), d[:, 1:].ravel())[0, 1]
    assert abs(r) < 5 / math.sqrt(d[:, 1:].size)


class TestReproducibility:
    @pytest.mark.parametrize("engine", ENGINES)
    @pytest.mark.parametrize("n", [7, 100])  # the two-pass and the fused fit
    def test_same_seed_same_numbers_whatever_workers_and_chunk(self, engine, n):
        e = Experiment(n=n, generations=30, replicates=3 * REPLICATE_BLOCK + 5, seed=123)
        base = simulate(e, engine=engine, workers=1)
        for workers, chunk in [(2, 1 << 21), (3, 97), (1, 1)]:
            other = simulate(e, engine=engine, workers=workers, chunk_elements=chunk)
            np.testing.assert_array_equal(other.trajectories.log_var, base.trajectories.log_var)
            np.testing.assert_array_equal(other.trajectories.mean, base.trajectories.mean)

    def test_long_rows_split_into_pieces_reproducibly(self):
        from collapsecheck.engines import samples

        e = Experiment(n=samples.PIECE * 2 + 17, generations=2, replicates=3, seed=8)
        a = simulate(e, engine="samples", workers=1, chunk_elements=1 << 22).trajectories
        b = simulate(e, engine="samples", workers=2, chunk_elements=1000).trajectories
        np.testing.assert_array_equal(a.log_var, b.log_var)
        # and the merged pieces give the right variance scale: sigma^2 ~ 1 +- 1%
        assert np.all(np.abs(a.log_var[:, -1]) < 0.05)

    @pytest.mark.parametrize("engine", ENGINES)
    def test_different_seeds_differ(self, engine):
        a = _final_log_var(Experiment(n=5, generations=3, replicates=10, seed=1), engine)
        b = _final_log_var(Experiment(n=5, generations=3, replicates=10, seed=2), engine)
        assert not np.array_equal(a.final_log_var, b.final_log_var)

    def test_record_subset_equals_full_record(self):
        e = Experiment(n=6, generations=40, replicates=70, seed=4)
        full = simulate(e, workers=1).trajectories
        part = simulate(e, workers=1, record=[0, 13, 40]).trajectories
        np.testing.assert_array_equal(part.log_var, full.log_var[:, [0, 13, 40]])

    def test_replicates_in_different_blocks_are_independent(self):
        # Same marginal law but no shared numbers: correlation between block 0 and block 1
        # replicate-by-replicate is ~0.
        e = Experiment(n=5, generations=200, replicates=2 * REPLICATE_BLOCK, seed=6)
        traj = simulate(e, workers=1).trajectories
        d = np.diff(traj.log_var, axis=1)
        r = np.corrcoef(d[:REPLICATE_BLOCK].ravel(), d[REPLICATE_BLOCK:].ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(d[:REPLICATE_BLOCK].size)


class TestLongHorizons:
    def test_million_generations_stay_finite(self):
        e = Experiment(n=2, generations=10**6, replicates=3, seed=1)
        traj = simulate(e, engine="sufficient", record="final", workers=1).trajectories
        assert np.all(np.isfinite(traj.final_log_var))
        assert np.all(traj.std[:, -1] == 0.0)  # sigma itself underflows; its log does not
        law = LogVarianceLaw(2, 10**6, 0.0)
        z = (traj.final_log_var - law.mean) / law.sd
        assert np.all(np.abs(z) < 6)

    def test_samples_engine_survives_underflow(self):
        e = Experiment(n=2, generations=3000, replicates=4, seed=2)
        traj = simulate(e, engine="samples", record="final", workers=1).trajectories
        assert np.all(np.isfinite(traj.final_log_var))
        assert np.all(np.isfinite(traj.final_mean))

    @pytest.mark.parametrize("sigma0", [1e-300, 1e300])
    def test_extreme_starting_scale(self, sigma0):
        e = Experiment(n=10, generations=1000, replicates=64, sigma0=sigma0, seed=3)
        traj = simulate(e, record="final", workers=1).trajectories
        assert np.all(np.isfinite(traj.final_log_var))
        assert _ks_pvalue(traj.final_log_var, e) > ALPHA

    def test_huge_n_sufficient(self):
        e = Experiment(n=10**7, generations=100, replicates=64, seed=3)
        traj = simulate(e, record="final", workers=1).trajectories
        assert _ks_pvalue(traj.final_log_var, e) > ALPHA


def test_bad_engine_and_record_are_refused():
    e = Experiment(n=3, generations=2, replicates=2, seed=0)
    with pytest.raises(ValueError, match="`engine` must be one of"):
        simulate(e, engine="fast")
    with pytest.raises(ValueError, match=r"`record` generations must lie in 0\.\.2"):
        simulate(e, record=[5])


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_streamed_output_equals_in_memory_record(tmp_path, suffix):
    from collapsecheck.trajectories import TrajectoryWriter, load

    e = Experiment(n=6, generations=25, replicates=3 * REPLICATE_BLOCK + 7, seed=12)
    full = simulate(e, workers=1).trajectories
    path = tmp_path / f"stream{suffix}"
    with TrajectoryWriter(path, e.replicates, e.generations) as sink:
        run = simulate(e, workers=2, sink=sink)  # blocks may finish out of order
    back = load(path)
    np.testing.assert_array_equal(back.log_var, full.log_var)
    np.testing.assert_array_equal(back.mean, full.mean)
    # only the final generation is kept in memory
    assert run.trajectories.log_var.shape == (e.replicates, 1)
    np.testing.assert_array_equal(run.trajectories.final_log_var, full.final_log_var)


def test_failed_stream_leaves_no_file(tmp_path):
    from collapsecheck.trajectories import TrajectoryWriter

    e = Experiment(n=6, generations=5, replicates=100, seed=1)
    path = tmp_path / "x.npz"
    with pytest.raises(KeyboardInterrupt), TrajectoryWriter(path, 100, 5) as sink:
        simulate(e, workers=1, sink=sink)
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
