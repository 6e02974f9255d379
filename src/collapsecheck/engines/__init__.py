"""Simulation engines: one interface, two ways of drawing the same chains.

``samples`` draws all n values of every generation (as the article did); ``sufficient``
draws only the fitted mean and sum of squares from their exact laws. Both return
:class:`~collapsecheck.trajectories.Trajectories` with the same law; for a given seed their
numbers differ (they consume randomness differently), but each is reproducible bit for bit
whatever the number of workers or the memory chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from collapsecheck.engines import samples, sufficient
from collapsecheck.engines._blocks import (
    BIT_GENERATOR,
    block_slices,
    iter_blocks,
    resolve_workers,
    scheduler_iv,
)
from collapsecheck.experiment import Experiment
from collapsecheck.trajectories import Trajectories

__all__ = ["BIT_GENERATOR", "ENGINES", "SimulationRun", "simulate"]

ENGINES: dict[str, Callable] = {"samples": samples.run_block, "sufficient": sufficient.run_block}


#: From this n on, the samples engine runs its local workers as threads (see simulate).
THREADS_MIN_N = 256

#: Default bound on the float64 values a block holds at once (128 KiB: the samples
#: engine's draws then stay in a core's L2 cache between the fill and the fit).
DEFAULT_CHUNK_ELEMENTS = 1 << 14


@dataclass(frozen=True)
class SimulationRun:
    """Trajectories with how they were made."""

    trajectories: Trajectories
    engine: str
    workers: int
    simulate_s: float


def _record_iv(record, generations: int) -> np.ndarray:
    if record is None:
        return np.arange(generations + 1)
    if isinstance(record, str):
        if record == "final":
            return np.array([generations])
        if record == "all":
            return np.arange(generations + 1)
        raise ValueError(
            f"`record` must be 'all', 'final' or a list of generations; got {record!r}.")
    arr = np.unique(np.asarray(record, dtype=np.int64))
    if arr.size == 0 or arr[0] < 0 or arr[-1] > generations:
        raise ValueError(f"`record` generations must lie in 0..{generations}; got {record!r}.")
    return arr


#: Largest log sigma^2 a chain may reach: 2 log(DBL_MAX) = 1419.6; beyond it sigma (and
#: the mean's increments) overflow double precision.
_LOG_VAR_LIMIT = 1418.0


def _overflow_iv(e: Experiment) -> None:
    """Refuse experiments whose chains would overflow double precision: with ddof > 1
    sigma can grow, and beyond about 1e304 neither sigma nor the mean is representable.
    (Chains that collapse are fine: log sigma^2 is tracked and never underflows.)"""
    import math

    from collapsecheck.theory import LogVarianceLaw

    law = LogVarianceLaw(e.n, e.generations, e.ddof)
    if law.mean > 0:  # growing chains peak at the end: their mean + 8 SD there
        top = 2 * math.log(e.sigma0) + law.mean + 8 * law.sd
    else:  # collapsing chains peak near the start (a rise of b has chance <= e^(-R b))
        top = 2 * math.log(e.sigma0) + 8 * math.sqrt(law.step.var)
    if top > _LOG_VAR_LIMIT:
        raise ValueError(
            f"with n={e.n} and ddof={e.ddof:g}, sigma grows (log sigma^2 drifts by "
            f"{law.step.drift:+.3g} per generation) and would overflow double precision "
            f"within {e.generations} generations; use fewer `generations`, a smaller "
            "`sigma0` or a smaller `ddof`."
        )


def simulate(
    experiment: Experiment,
    *,
    engine: str = "sufficient",
    workers: int | None = None,
    record: str | Sequence[int] | None = "all",
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
    sink=None,
) -> SimulationRun:
    """Run ``experiment`` with the named engine.

    Parameters
    ----------
    experiment : Experiment
    engine : {'samples', 'sufficient'}
    workers : int or None
        Processes to use; ``None`` picks the number of cores for large jobs and 1 for
        small ones. Results are identical for every value.
    record : 'all', 'final' or sequence of int
        Which generations to keep (memory is replicates x recorded generations).
    chunk_elements : int
        Bound on the values one block holds at once; does not change the results.
    progress : callable(done_blocks, total_blocks), optional
    scheduler : {'processes', 'dask'} or str, optional
        Where the blocks run: local processes (default), a dask.distributed LocalCluster
        (``'dask'``), or the dask scheduler at an address (``'tcp://host:8786'``).
        Results are bit-identical for every choice.
    sink : TrajectoryWriter, optional
        Stream every generation of every replicate to this writer, block by block in
        replicate order (``record`` must be 'all'); the returned trajectories then hold
        only the final generation, so memory stays bounded whatever replicates x
        generations.

    Returns
    -------
    SimulationRun
        ``timing`` is the engine's wall time including worker start-up.
    """
    if engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {sorted(ENGINES)}; got {engine!r}.")
    if not (isinstance(chunk_elements, int) and chunk_elements >= 1):
        raise ValueError(f"`chunk_elements` must be a whole number >= 1; got {chunk_elements!r}.")
    if workers is not None and not (isinstance(workers, int) and workers >= 0):
        raise ValueError(f"`workers` must be a whole number >= 0 (0 = automatic); got {workers!r}.")
    _overflow_iv(experiment)
    scheduler = scheduler_iv(scheduler)
    rec = _record_iv(record, experiment.generations)
    if sink is not None and rec.size != experiment.generations + 1:
        raise ValueError("streaming to a `sink` needs `record`='all'.")
    slices = block_slices(experiment.replicates)
    per_draw = experiment.n if engine == "samples" else 2
    work = float(experiment.replicates) * experiment.generations * per_draw
    nproc = resolve_workers(workers or None, len(slices), work)
    if scheduler not in (None, "processes") and not workers:
        nproc = resolve_workers(None, len(slices), float("inf"))  # use every core
    task = ENGINES[engine]
    args = [(experiment, b, s.stop - s.start, rec, chunk_elements) for b, s in enumerate(slices)]
    report = None if progress is None else (lambda done: progress(done, len(slices)))
    start = time.perf_counter()
    parts: list = [None] * len(args)
    pending: dict = {}
    next_block = 0
    # Threads where each task is large array work (numpy drops the GIL there); processes
    # where a Python loop per generation would contend for it (samples at small n).
    threads = engine == "sufficient" or experiment.n >= THREADS_MIN_N
    blocks = iter_blocks(task, args, nproc, scheduler, threads=threads)
    for done, (i, part) in enumerate(blocks, 1):
        if sink is None:
            parts[i] = part
        else:  # write blocks in replicate order; keep only the final generation
            pending[i] = part
            while next_block in pending:
                m, lv = pending.pop(next_block)
                sink.write(m, lv)
                parts[next_block] = (m[:, -1:], lv[:, -1:])
                next_block += 1
        if report:
            report(done)
    elapsed = time.perf_counter() - start
    mean = np.concatenate([p[0] for p in parts], axis=0)
    log_var = np.concatenate([p[1] for p in parts], axis=0)
    generations = rec if sink is None else rec[-1:]
    traj = Trajectories(generations, log_var, mean, spec=experiment.to_dict())
    return SimulationRun(traj, engine, nproc, elapsed)
