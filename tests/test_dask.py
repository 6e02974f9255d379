"""Running on dask.distributed gives the same numbers as a local run of the same seed."""

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")

from collapsecheck import Experiment  # noqa: E402
from collapsecheck.engines import simulate  # noqa: E402
from collapsecheck.engines._blocks import close_dask_clients  # noqa: E402


@pytest.fixture(scope="module")
def cluster_address():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": ":0"}) as cluster:
        yield cluster.scheduler_address
        close_dask_clients()


@pytest.mark.parametrize("engine", ["samples", "sufficient"])
def test_dask_cluster_matches_local_run_bit_for_bit(cluster_address, engine):
    e = Experiment(n=20, generations=30, replicates=300, ddof=0.5, seed=42)
    local = simulate(e, engine=engine, workers=1).trajectories
    remote = simulate(e, engine=engine, scheduler=cluster_address).trajectories
    np.testing.assert_array_equal(remote.log_var, local.log_var)
    np.testing.assert_array_equal(remote.mean, local.mean)


def test_validate_profile_on_dask_matches_local(cluster_address, tmp_path):
    from collapsecheck.profiles import parse_profile
    from collapsecheck.validate import run_profile

    prof = parse_profile({"name": "d", "seed": 3, "budget": 0.001, "checks": [
        {"type": "log_var_gof", "n": 5, "generations": 10, "replicates": 500},
        {"type": "drift_consistency", "n": 5, "generations": 50, "replicates": 200,
         "engine": "samples"}]})
    local = run_profile(prof, figures=False, workers=1)
    remote = run_profile(prof, figures=False, scheduler=cluster_address)
    assert [c.pvalue for c in remote.checks] == [c.pvalue for c in local.checks]


def test_bad_address_is_refused():
    from collapsecheck.engines._blocks import scheduler_iv

    with pytest.raises(ValueError, match="`scheduler` must be 'processes', 'dask'"):
        scheduler_iv("localhost")


def test_local_dask_run_is_silent_when_the_default_dashboard_port_is_taken():
    """distributed's scheduler always starts an HTTP server, by default on port 8787; when
    another cluster holds that port it warns on stderr. A ``--scheduler dask`` run binds a
    free port instead, so its stderr stays the run's own (warnings are errors here)."""
    import socket
    import subprocess
    import sys

    code = ("from collapsecheck import Experiment\n"
            "from collapsecheck.engines import simulate\n"
            "from collapsecheck.engines._blocks import close_dask_clients\n"
            "simulate(Experiment(n=10, generations=3, replicates=8, seed=1), workers=2,\n"
            "         scheduler='dask')\n"
            "close_dask_clients()\n")
    with socket.socket() as holder:
        try:
            holder.bind(("", 8787))
        except OSError:
            pass  # already held by something else: the condition under test holds anyway
        else:
            holder.listen()
        done = subprocess.run([sys.executable, "-W", "error", "-c", code],
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "already in use" not in done.stderr, done.stderr
