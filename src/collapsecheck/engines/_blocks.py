"""How the replicates of an experiment are split into blocks and run.

The block is the unit of randomness: block ``b`` covers replicates
``[b * REPLICATE_BLOCK, (b + 1) * REPLICATE_BLOCK)`` and draws only from
``SeedSequence(seed, spawn_key=(b,))``. Its numbers therefore depend on the seed and the
block index alone, never on how many workers run the blocks, in which order they finish,
or how much memory each may use; the block size is part of the reproducibility contract
and is fixed.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

__all__ = ["REPLICATE_BLOCK", "SCHEDULERS", "block_seed", "block_slices", "iter_blocks",
           "resolve_workers", "run_blocks", "scheduler_iv"]

#: ``processes`` (local worker processes), ``dask`` (a dask.distributed LocalCluster) or
#: the address of a running dask.distributed scheduler (``tcp://host:8786``).
SCHEDULERS = ("processes", "dask")

#: Replicates per block. Changing it changes which numbers a seed produces.
REPLICATE_BLOCK = 64


def block_slices(replicates: int) -> list[slice]:
    """The replicate ranges of the blocks, in order."""
    return [
        slice(start, min(start + REPLICATE_BLOCK, replicates))
        for start in range(0, replicates, REPLICATE_BLOCK)
    ]


#: The bit generator behind every engine's streams, recorded in every report (a seed
#: alone does not pin a stream across bit generators or numpy versions). SFC64 fills
#: normal and gamma draws about 20% faster than numpy's default PCG64 here
#: (benchmarks/RESULTS.md) and passes the same statistical test batteries (TestU01
#: BigCrush, PractRand); it has no jump-ahead, which SeedSequence spawning makes
#: unnecessary.
BIT_GENERATOR = "SFC64"


def generator(seed_seq: np.random.SeedSequence) -> np.random.Generator:
    """A Generator on :data:`BIT_GENERATOR` seeded from ``seed_seq``."""
    return np.random.Generator(getattr(np.random, BIT_GENERATOR)(seed_seq))


def block_seed(seed: int, block: int) -> np.random.SeedSequence:
    """The SeedSequence of one block: ``SeedSequence(seed, spawn_key=(block,))``."""
    return np.random.SeedSequence(seed, spawn_key=(block,))


def start_block(experiment, rows: int, record: np.ndarray):
    """The state every engine starts a block from: each chain at (mu0, log sigma0^2),
    output arrays for the recorded generations, generation 0 recorded if asked for.
    Returns ``(mu, log_var, out_mu, out_lv, j)``, ``j`` the next output column."""
    mu = np.full(rows, experiment.mu0)
    log_var = np.full(rows, 2 * math.log(experiment.sigma0))
    out_mu = np.empty((rows, record.size))
    out_lv = np.empty((rows, record.size))
    j = 0
    if record.size and record[0] == 0:
        out_mu[:, 0], out_lv[:, 0] = mu, log_var
        j = 1
    return mu, log_var, out_mu, out_lv, j


def resolve_workers(workers: int | None, blocks: int, work: float) -> int:
    """The number of workers to use: ``workers`` if given (>= 1), else as many cores as
    there are when the job (``work`` elementary draws) is big enough to repay starting
    them (a million draws), but never more than the number of blocks."""
    if workers is not None and workers >= 1:
        return max(1, min(workers, blocks))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    auto = (cores or 1) if work >= 1e6 else 1
    return max(1, min(auto, blocks))


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def scheduler_iv(scheduler: str | None) -> str | None:
    """Validate a scheduler name or address (see :data:`SCHEDULERS`)."""
    if scheduler is None or scheduler in SCHEDULERS:
        return scheduler
    if isinstance(scheduler, str) and "://" in scheduler:
        return scheduler
    raise ValueError(f"`scheduler` must be 'processes', 'dask' or a dask scheduler address "
                     f"such as tcp://host:8786; got {scheduler!r}.")


_DASK_CLIENTS: dict = {}


def _dask_client(scheduler: str, workers: int):
    """One dask.distributed Client per scheduler for the life of the process (a local
    cluster is started once, not per simulation)."""
    key = (scheduler, workers if scheduler == "dask" else None)
    if key not in _DASK_CLIENTS:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ImportError("the dask scheduler needs dask.distributed: "
                              "pip install 'collapsecheck[dask]'") from None
        if scheduler == "dask":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            _DASK_CLIENTS[key] = Client(cluster)
        else:
            _DASK_CLIENTS[key] = Client(scheduler, timeout=30)
    return _DASK_CLIENTS[key]


def close_dask_clients() -> None:
    """Close every client (and local cluster) this process started."""
    while _DASK_CLIENTS:
        _, client = _DASK_CLIENTS.popitem()
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()


def _groups(n_args: int, workers: int) -> list[list[int]]:
    # Groups of blocks per submission keep inter-process overhead small for tiny blocks.
    per_task = max(1, math.ceil(n_args / (max(workers, 1) * 8)))
    return [list(range(i, min(i + per_task, n_args))) for i in range(0, n_args, per_task)]


def iter_blocks(task: Callable, args: Sequence[tuple], workers: int,
                scheduler: str | None = None, threads: bool = False
                ) -> Iterator[tuple[int, object]]:
    """Yield ``(index, task(*args[index]))`` as blocks complete, in any order. At most
    ``2 * workers`` groups are in flight at once, so finished-but-unconsumed results stay
    bounded (a consumer that writes them out keeps memory bounded too).

    Locally, ``threads=True`` runs the workers as threads: numpy releases the GIL while
    it fills arrays with random draws and reduces them, so a task made of large array
    operations scales across cores without the start-up of processes."""
    if scheduler in (None, "processes") and (workers <= 1 or len(args) <= 1):
        for i, a in enumerate(args):
            yield i, task(*a)
        return
    groups = _groups(len(args), workers)
    window = max(2, 2 * workers)
    if scheduler in (None, "processes"):
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        executor = (ThreadPoolExecutor(max_workers=workers) if threads
                    else ProcessPoolExecutor(max_workers=workers, mp_context=_context()))
        with executor as pool:
            pending = {}
            queue = iter(groups)
            for g in itertools.islice(queue, window):
                pending[pool.submit(_run_group, task, [args[i] for i in g])] = g
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    g = pending.pop(fut)
                    yield from zip(g, fut.result(), strict=True)
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[pool.submit(_run_group, task, [args[i] for i in nxt])] = nxt
        return
    from dask.distributed import as_completed

    client = _dask_client(scheduler, workers)
    queue = iter(groups)
    futures = {client.submit(_run_group, task, [args[i] for i in g], pure=False): g
               for g in itertools.islice(queue, window)}
    pool = as_completed(list(futures))
    for fut in pool:
        g = futures.pop(fut)
        yield from zip(g, fut.result(), strict=True)
        nxt = next(queue, None)
        if nxt is not None:
            new = client.submit(_run_group, task, [args[i] for i in nxt], pure=False)
            futures[new] = nxt
            pool.add(new)


def run_blocks(
    task: Callable,
    args: Sequence[tuple],
    workers: int,
    progress: Callable[[int], None] | None = None,
    scheduler: str | None = None,
) -> list:
    """Run ``task(*a)`` for every ``a`` in ``args``; results are returned in the order of
    ``args`` whatever order the workers finish in. ``progress(k)`` is called as blocks
    complete, with the number completed so far. ``scheduler`` picks local processes
    (default) or dask (:data:`SCHEDULERS`); the results are identical either way, since
    each block's numbers depend only on its own seed."""
    results: list = [None] * len(args)
    for done, (i, r) in enumerate(iter_blocks(task, args, workers, scheduler), 1):
        results[i] = r
        if progress:
            progress(done)
    return results


def _run_group(task: Callable, group: list[tuple]) -> list:
    return [task(*a) for a in group]
