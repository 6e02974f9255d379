"""No hidden threads, the samples engine beyond one piece per row, and a quick start-up.

* While any block runs (main thread, pool threads, worker processes) every BLAS and
  OpenMP pool is held to one thread, and the caller's limits come back afterwards.
* Rows longer than ``PIECE`` are drawn piece by piece into one buffer and merged exactly:
  checked against a reference fit of the same stream, against the exact step law (KS at
  alpha = 1e-6, fixed seed) and for independence from ``chunk_elements`` and workers.
* ``collapsecheck theory`` and ``--help`` import none of scipy.stats, scipy.optimize,
  statsmodels or matplotlib (a module-list test, not a timing test).
"""

import json
import math
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from scipy import stats

from collapsecheck import Experiment
from collapsecheck.engines import simulate
from collapsecheck.engines._blocks import REPLICATE_BLOCK, block_seed, generator, iter_blocks
from collapsecheck.engines.samples import PIECE, _fit_rows
from collapsecheck.theory import StepLaw

threadpoolctl = pytest.importorskip("threadpoolctl")

ALPHA = 1e-6


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def _pool_threads(_: int, pause: float = 0.0) -> list[int]:
    """A block that reports the thread counts of every library pool while it runs."""
    time.sleep(pause)
    return [i["num_threads"] for i in threadpoolctl.threadpool_info()]


needs_blas = pytest.mark.skipif(not _blas_threads(), reason="no BLAS that threadpoolctl sees")


@needs_blas
class TestOneThreadPerWorker:
    @pytest.mark.parametrize(("workers", "threads"), [(1, False), (2, True), (2, False)],
                             ids=["main-thread", "thread-pool", "process-pool"])
    def test_pools_hold_one_thread_while_blocks_run(self, workers, threads):
        before = _blas_threads()
        # ask for more than one thread first, so that the limit is seen to act
        with threadpoolctl.threadpool_limits(limits=max(2, *before), user_api="blas"):
            outside = _blas_threads()
            seen = dict(iter_blocks(_pool_threads, [(i, 0.01 * (i % 3)) for i in range(12)],
                                    workers, threads=threads))
            assert _blas_threads() == outside  # restored once the run is over
        assert _blas_threads() == before
        assert sorted(seen) == list(range(12))
        assert all(n == 1 for counts in seen.values() for n in counts), seen

    def test_overlapping_groups_in_threads_keep_the_limit_until_the_last_ends(self):
        # Groups of different lengths start and end at different times in two threads;
        # a limit lifted by the first to finish would show up in the others.
        from collapsecheck.engines._blocks import _run_group

        before = _blas_threads()
        results, errors = [], []

        def worker(k):
            try:
                for j in range(5):
                    results.append(_run_group(_pool_threads, [(j, 0.002 * ((j + k) % 4))] * 2))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        pool = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert not errors
        assert len(results) == 15
        assert all(n == 1 for group in results for counts in group for n in counts)
        assert _blas_threads() == before

    def test_dask_workers_hold_one_thread(self):
        pytest.importorskip("dask.distributed")
        from collapsecheck.engines._blocks import close_dask_clients

        try:
            seen = dict(iter_blocks(_pool_threads, [(i,) for i in range(6)], 2, scheduler="dask"))
        finally:
            close_dask_clients()
        assert sorted(seen) == list(range(6))
        assert all(n == 1 for counts in seen.values() for n in counts), seen

    def test_engines_run_under_the_limit(self, monkeypatch):
        # the real engines, through simulate, on thread workers (samples from n = 256)
        from collapsecheck.engines import samples

        seen = []
        real = samples._fit_rows

        def spy(*args):
            seen.append(_blas_threads())
            return real(*args)

        monkeypatch.setattr(samples, "_fit_rows", spy)
        e = Experiment(n=300, generations=2, replicates=3 * REPLICATE_BLOCK, seed=1)
        simulate(e, engine="samples", workers=2, record="final")
        assert seen and all(n == 1 for counts in seen for n in counts)


def test_per_thread_pools_are_told_apart():
    # OpenMP runtimes and OpenBLAS on its OpenMP layer keep a limit per calling thread;
    # the rest (OpenBLAS on pthreads, MKL, BLIS) one per process.
    from types import SimpleNamespace as Lib

    from collapsecheck.engines._threads import _per_thread

    assert _per_thread(Lib(user_api="openmp", internal_api="openmp"))
    assert _per_thread(Lib(user_api="blas", internal_api="openblas", threading_layer="openmp"))
    assert not _per_thread(Lib(user_api="blas", internal_api="openblas",
                               threading_layer="pthreads"))
    assert not _per_thread(Lib(user_api="blas", internal_api="mkl", threading_layer="intel"))


def _reference_fit(seed: int, rows: int, n: int):
    """Each row's mean and centred sum of squares from the same stream, drawn whole and
    summed exactly (math.fsum, two passes)."""
    rng = generator(block_seed(seed, 0))
    z = rng.standard_normal((rows, n))
    means = np.array([math.fsum(r) / n for r in z])
    ss = np.array([math.fsum((r - m) ** 2) for r, m in zip(z, means, strict=True)])
    return means, ss


class TestLongRows:
    # 2 pieces + 5 values: a short last piece (two-pass) after two fused ones;
    # 1 piece + 100: a fused last piece; 1 piece + 1: a single-value piece.
    @pytest.mark.parametrize("n", [2 * PIECE + 5, PIECE + 100, PIECE + 1])
    def test_fit_matches_an_exact_fit_of_the_same_stream(self, n):
        rows = 3
        zbar, ss = _fit_rows(generator(block_seed(9, 0)), rows, n, 1 << 14)
        ref_mean, ref_ss = _reference_fit(9, rows, n)
        np.testing.assert_allclose(zbar, ref_mean, rtol=0, atol=1e-15)
        np.testing.assert_allclose(ss, ref_ss, rtol=1e-12)

    def test_results_do_not_depend_on_chunk_or_workers(self):
        e = Experiment(n=PIECE + 5, generations=2, replicates=2 * REPLICATE_BLOCK + 3, seed=21)
        base = simulate(e, engine="samples", workers=1).trajectories
        for workers, chunk in [(2, 1), (3, 1000), (2, 1 << 22)]:
            other = simulate(e, engine="samples", workers=workers, chunk_elements=chunk)
            np.testing.assert_array_equal(other.trajectories.log_var, base.log_var)
            np.testing.assert_array_equal(other.trajectories.mean, base.mean)

    def test_increments_follow_the_exact_step_law(self, long_chains):
        # All R*T increments of log sigma^2 pooled: KS against the exact one-step law.
        # With 2048 increments the test rejects a CDF gap above 0.058 at alpha = 1e-6.
        e, traj = long_chains
        steps = np.diff(traj.log_var, axis=1).ravel()
        assert steps.size == 2048
        assert stats.kstest(steps, StepLaw(e.n, e.ddof).cdf).pvalue > ALPHA
        # the mean's increments, scaled by sigma_{t-1}/sqrt(n), are standard normal
        sigma_prev = np.exp(0.5 * traj.log_var[:, :-1])
        z = np.diff(traj.mean, axis=1) / sigma_prev * math.sqrt(e.n)
        assert stats.kstest(z.ravel(), "norm").pvalue > ALPHA

    def test_wrong_law_is_caught_at_this_n(self, long_chains):
        # the same test has power here: the step law of n / 2 is rejected
        e, traj = long_chains
        steps = np.diff(traj.log_var, axis=1).ravel()
        assert stats.kstest(steps, StepLaw(e.n // 2, e.ddof).cdf).pvalue < ALPHA


@pytest.fixture(scope="module")
def long_chains():
    """256 chains x 8 generations at n = 2 PIECE + 5 (three pieces per row)."""
    e = Experiment(n=2 * PIECE + 5, generations=8, replicates=4 * REPLICATE_BLOCK, ddof=1.0,
                   seed=20261201)
    return e, simulate(e, engine="samples", workers=2).trajectories


_STARTUP_PROBE = r"""
import contextlib, io, json, sys
from collapsecheck.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
heavy = ("scipy.stats", "scipy.optimize", "scipy.interpolate", "statsmodels", "matplotlib",
         "collapsecheck.report.figures", "collapsecheck.report.html", "collapsecheck.summary")
print(json.dumps({"code": int(code), "out": out.getvalue(),
                  "loaded": [m for m in heavy if m in sys.modules],
                  "scipy": "scipy" in sys.modules}))
"""


def _startup(*argv):
    done = subprocess.run([sys.executable, "-c", _STARTUP_PROBE, *argv], capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


class TestStartup:
    def test_theory_imports_no_heavy_modules(self):
        r = _startup("theory", "--n", "10", "--json")
        assert r["code"] == 0
        assert json.loads(r["out"])["log_sigma2_drift"] < 0
        assert r["loaded"] == []

    def test_help_imports_no_scipy(self):
        r = _startup("--help")
        assert r["code"] == 0 and "theory" in r["out"]
        assert r["loaded"] == [] and not r["scipy"]


class TestBrentq:
    """The theory's root finder (in place of scipy.optimize.brentq, which is slow to
    import) finds roots to the same tolerance."""

    @pytest.mark.parametrize("k", [1, 2, 3, 5])
    def test_roots_to_tolerance(self, k):
        from scipy import optimize

        from collapsecheck._roots import brentq

        rng = np.random.default_rng(k)
        for _ in range(200):
            r = rng.normal() * 10 ** rng.uniform(-3, 3)
            lo, hi = r - rng.uniform(0.1, 50), r + rng.uniform(0.1, 50)

            def f(x, r=r):
                return math.copysign(abs(x - r) ** k, x - r) + 1e-3 * (x - r)

            got = brentq(f, lo, hi, xtol=1e-12, rtol=1e-12)
            assert abs(got - r) <= 1e-12 + 1e-12 * abs(r)
            assert abs(got - optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12)) <= (
                2e-12 + 2e-12 * abs(r))

    def test_refuses_an_unbracketed_or_nan_function(self):
        from collapsecheck._roots import brentq

        with pytest.raises(ValueError, match="different signs"):
            brentq(lambda x: x * x + 1, -1.0, 1.0)
        with pytest.raises(ValueError, match="NaN"):
            brentq(lambda x: math.nan if x > 0 else -1.0, -1.0, 1.0)
        assert brentq(lambda x: x, 0.0, 1.0) == 0.0
