"""How the replicates of an experiment are split into blocks and run.

The block is the unit of randomness: block ``b`` covers replicates
``[b * REPLICATE_BLOCK, (b + 1) * REPLICATE_BLOCK)`` and draws only from
``SeedSequence(seed, spawn_key=(b,))``. Its numbers therefore depend on the seed and the
block index alone, never on how many workers run the blocks, in which order they finish,
or how much memory each may use; the block size is part of the reproducibility contract
and is fixed.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from collapsecheck import interrupt

__all__ = ["REPLICATE_BLOCK", "SCHEDULERS", "Cancelled", "Recorder", "block_seed", "block_slices",
           "check_cancelled", "iter_blocks", "resolve_workers", "run_blocks", "scheduler_iv"]

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


class Recorder:
    """Collects a block's recorded generations, in *standardised coordinates*.

    Every engine runs its chains from (0, 0): the mean as (mu - mu0)/sigma0 and the
    log-variance as log(sigma^2/sigma0^2). The refit chain's law is invariant under this
    location-scale change, and it keeps the mean's increments representable whatever
    mu0 and sigma0 are (mu0 = 1e200 would otherwise swallow every increment, and
    sigma0 = 1e-320 would make them subnormal). ``2 log sigma0`` is added to the recorded
    log-variance (an exact shift); the mean's origin and scale travel with the
    :class:`~collapsecheck.trajectories.Trajectories` (``mean_origin``, ``mean_scale``).

    Without ``emit`` the whole record is kept (``rows x len(record)``). With ``emit``,
    at most ``columns`` recorded generations are held: each full buffer is handed to
    ``emit(j0, mean, log_var)`` (``j0`` the index in ``record`` of its first column) and
    reused, so a block's memory stays bounded whatever the horizon; :meth:`result` then
    returns only the last recorded generation.
    """

    def __init__(self, experiment, rows: int, record: np.ndarray, emit=None,
                 columns: int | None = None):
        self.record = record
        self.shift = 2 * math.log(experiment.sigma0)
        self.emit = emit
        width = record.size if emit is None else max(1, min(record.size, columns or 1))
        self.out_mu = np.empty((rows, width))
        self.out_lv = np.empty((rows, width))
        self.j = 0  # next recorded generation (index in record)
        self.j0 = 0  # index in record of the buffer's first column
        self.last = None

    def start(self, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """The chains' state at generation 0, recorded if asked for: ``(mu, log_var)``."""
        mu, log_var = np.zeros(rows), np.zeros(rows)
        self.take(0, mu, log_var)
        return mu, log_var

    def wants(self, t: int) -> bool:
        return self.j < self.record.size and self.record[self.j] == t

    def take(self, t: int, mu: np.ndarray, log_var: np.ndarray) -> None:
        """Record generation ``t`` if it is asked for."""
        if self.wants(t):
            self._put(mu, log_var)

    def take_range(self, t0: int, M: np.ndarray, L: np.ndarray) -> None:
        """Record from columns ``M[:, k], L[:, k]`` holding generation ``t0 + k - 1``
        for k >= 1 (column 0 is the state before ``t0``)."""
        stop = t0 + M.shape[1] - 1
        while self.j < self.record.size and self.record[self.j] < stop:
            k = self.record[self.j] - t0 + 1
            self._put(M[:, k], L[:, k])

    def _put(self, mu, log_var) -> None:
        c = self.j - self.j0
        self.out_mu[:, c] = mu
        np.add(log_var, self.shift, out=self.out_lv[:, c])
        self.j += 1
        if self.emit is not None and (c + 1 == self.out_mu.shape[1]
                                      or self.j == self.record.size):
            self.last = (self.out_mu[:, c].copy(), self.out_lv[:, c].copy())
            self.emit(self.j0, self.out_mu[:, : c + 1], self.out_lv[:, : c + 1])
            self.j0 = self.j
        check_cancelled()

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, log_var)`` of shape (rows, len(record)); with ``emit``, only the last
        recorded generation, shape (rows, 1)."""
        if self.emit is None:
            return self.out_mu, self.out_lv
        if self.last is None:
            raise RuntimeError("no generation was recorded")
        return self.last[0][:, None], self.last[1][:, None]


# ---------------------------------------------------------------------------------------
# Interrupts: a worker stops at its next check once its run is cancelled
# ---------------------------------------------------------------------------------------

_local = threading.local()


class Cancelled(KeyboardInterrupt):
    """Raised inside a block whose run was cancelled (Ctrl-C in the main thread)."""


def check_cancelled() -> None:
    """Raise :class:`Cancelled` if the run this thread works for was cancelled, or a
    SIGINT arrived. Engines call it between bounded pieces of work (a chunk of
    generations, a row of a very large n), so a cancelled block stops within
    milliseconds."""
    event = getattr(_local, "cancel", None)
    if event is not None and event.is_set():
        raise Cancelled("run cancelled")
    if interrupt.CANCEL.is_set():
        raise Cancelled("interrupted")


def _run_cancellable(cancel: threading.Event, task: Callable, group: list[tuple]) -> list:
    """Run a group of blocks in a pool thread, stopping when ``cancel`` is set."""
    _local.cancel = cancel
    try:
        if cancel.is_set():
            raise Cancelled("run cancelled")
        return _run_group(task, group)
    finally:
        _local.cancel = None


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
            # No dashboard, and the scheduler's HTTP server (always started) on a free
            # port: the default 8787 may be taken by another cluster, and distributed then
            # warns on stderr.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None,
                                   scheduler_kwargs={"dashboard_address": ":0"})
            _DASK_CLIENTS[key] = Client(cluster)
        else:
            _DASK_CLIENTS[key] = Client(scheduler, timeout=30)
    return _DASK_CLIENTS[key]


def _kill_dask_client(scheduler: str, workers: int) -> None:
    """Stop at once what a client runs: cancel its futures and, for a local cluster, kill
    its worker processes (a running task cannot be interrupted, and a graceful close
    waits seconds for it); the client is then closed and forgotten."""
    import logging

    key = (scheduler, workers if scheduler == "dask" else None)
    client = _DASK_CLIENTS.pop(key, None)
    if client is None:
        return
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    cluster = getattr(client, "cluster", None)
    for nanny in (getattr(cluster, "workers", None) or {}).values():
        with contextlib.suppress(Exception):
            os.kill(nanny.process.process.pid, 9)
    with contextlib.suppress(Exception):
        client.close(timeout=1)
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close(timeout=1)


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
            yield i, _run_group(task, [a])[0]
        return
    groups = _groups(len(args), workers)
    window = max(2, 2 * workers)
    if scheduler in (None, "processes"):
        yield from _iter_local(task, args, groups, workers, window, threads)
        return
    yield from _iter_dask(task, args, groups, workers, window, scheduler)


def _iter_local(task, args, groups, workers, window, threads):
    """Local pools. On Ctrl-C (or any exception, or the consumer closing the generator)
    queued groups are cancelled, running threads stop at their next
    :func:`check_cancelled`, and worker processes are terminated: nothing waits for
    running work."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    cancel = threading.Event()
    if threads:
        pool = ThreadPoolExecutor(max_workers=workers)

        def submit(g):
            return pool.submit(_run_cancellable, cancel, task, [args[i] for i in g])
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context())

        def submit(g):
            return pool.submit(_run_group, task, [args[i] for i in g])
    finished_cleanly = False
    try:
        pending = {}
        queue = iter(groups)
        for g in itertools.islice(queue, window):
            pending[submit(g)] = g
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                g = pending.pop(fut)
                yield from zip(g, fut.result(), strict=True)
                nxt = next(queue, None)
                if nxt is not None:
                    pending[submit(nxt)] = nxt
        finished_cleanly = True
    finally:
        if finished_cleanly:
            pool.shutdown(wait=True)
        else:
            cancel.set()
            _abandon(pool)


def _abandon(pool) -> None:
    """Shut ``pool`` down without waiting: cancel what is queued; terminate worker
    processes (a thread pool's workers stop at their next check for cancellation)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()


def _iter_dask(task, args, groups, workers, window, scheduler):
    from dask.distributed import as_completed

    client = _dask_client(scheduler, workers)
    queue = iter(groups)
    futures = {client.submit(_run_group, task, [args[i] for i in g], pure=False): g
               for g in itertools.islice(queue, window)}
    try:
        pool = as_completed(list(futures))
        for fut in pool:
            g = futures.pop(fut)
            yield from zip(g, fut.result(), strict=True)
            nxt = next(queue, None)
            if nxt is not None:
                new = client.submit(_run_group, task, [args[i] for i in nxt], pure=False)
                futures[new] = nxt
                pool.add(new)
    finally:
        if futures:  # interrupted or failed: running tasks cannot be stopped, so a local
            _kill_dask_client(scheduler, workers)  # cluster is killed, a remote one told


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
    """Run a group of blocks (in whatever worker: the main thread, a pool thread, a
    worker process, a dask worker) with BLAS and OpenMP pools held to one thread, so no
    library starts threads behind the workers' backs (see
    :mod:`collapsecheck.engines._threads`)."""
    from collapsecheck.engines._threads import one_thread_per_worker

    with one_thread_per_worker():
        return [task(*a) for a in group]
