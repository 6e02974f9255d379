"""Simulation engines: one interface, two ways of drawing the same chains.

``samples`` draws all n values of every generation (as the article did); ``sufficient``
draws only the fitted mean and sum of squares from their exact laws. Both return
:class:`~collapsecheck.families.gaussian.records.Trajectories` with the same law; for a
given seed their numbers differ (they consume randomness differently), but each is
reproducible bit for bit whatever the number of workers or the memory chunk.

Experiments other than the article's chain (``not experiment.is_base``: another regime,
temperature, n-growth or truncation) run on
:mod:`collapsecheck.families.gaussian.engines.regimes`, which says which engine supports
which regime; the article's chain always runs on the engines here, unchanged.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from collapsecheck.engines._blocks import (
    BIT_GENERATOR,
    REPLICATE_BLOCK,
    block_slices,
    iter_blocks,
    resolve_workers,
    scheduler_iv,
)
from collapsecheck.families.gaussian.engines import samples, sufficient
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.families.gaussian.records import EMIT_ELEMENTS, Trajectories

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

    if not e.is_base:  # the regimes' own conservative envelope
        from collapsecheck.families.gaussian.engines.regimes import overflow_iv

        overflow_iv(e)
        return

    from collapsecheck.families.gaussian.theory import LogVarianceLaw

    law = LogVarianceLaw(e.n, e.generations, e.ddof)
    if law.mean > 0:  # growing chains peak at the end: their mean + 8 SD there
        top = 2 * math.log(e.sigma0) + law.mean + 8 * law.sd
    else:  # collapsing chains peak near the start (a rise of b has chance <= e^(-R b))
        top = 2 * math.log(e.sigma0) + 8 * math.sqrt(law.step.var)
    if top <= _LOG_VAR_LIMIT:
        return
    if law.mean > 0:
        raise ValueError(
            f"with n={e.n} and ddof={e.ddof:g}, sigma grows (log sigma^2 drifts by "
            f"{law.step.drift:+.3g} per generation) and would overflow double precision "
            f"within {e.generations} generations; use fewer `generations`, a smaller "
            "`sigma0` or a smaller `ddof`."
        )
    raise ValueError(
        f"`sigma0` = {e.sigma0:g} is so close to the largest double (about 1.8e308) that "
        f"one refit's ordinary fluctuation (log sigma^2 moves by up to about "
        f"{8 * math.sqrt(law.step.var):.3g}) would overflow sigma; the chain's law does "
        "not depend on the scale, so run it at a smaller `sigma0` and rescale."
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
        Stream every generation of every replicate to this writer (``record`` must be
        'all'): local workers write each block's columns to its staging files a bounded
        piece at a time (about 2 MiB per block in flight), so memory stays bounded
        whatever replicates x generations; a remote dask cluster returns each block
        whole. The returned trajectories then hold only the final generation.

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
    regimes = None
    if not experiment.is_base:
        from collapsecheck.families.gaussian.engines import regimes

        regimes.engine_iv(experiment, engine)
    _overflow_iv(experiment)
    scheduler = scheduler_iv(scheduler)
    rec = _record_iv(record, experiment.generations)
    if sink is not None and rec.size != experiment.generations + 1:
        raise ValueError("streaming to a `sink` needs `record`='all'.")
    slices = block_slices(experiment.replicates)
    per_draw = experiment.n if engine == "samples" else 2
    if regimes is not None:
        per_draw = regimes.per_draw(experiment, engine)
    work = float(experiment.replicates) * experiment.generations * per_draw
    nproc = resolve_workers(workers or None, len(slices), work)
    if scheduler not in (None, "processes") and not workers:
        nproc = resolve_workers(None, len(slices), float("inf"))  # use every core
    task = ENGINES[engine] if regimes is None else regimes.block_task(experiment, engine)
    if regimes is not None:
        regimes.require_memory(experiment, engine, nproc, chunk_elements)
    # Local workers (threads, processes, a dask cluster on this machine) write a streamed
    # block's columns to the sink's staging files themselves, a bounded piece at a time;
    # a remote cluster hands each block back whole.
    to_files = sink is not None and (scheduler in (None, "processes", "dask"))
    emit_columns = max(1, EMIT_ELEMENTS // REPLICATE_BLOCK)
    args = []
    for b, s in enumerate(slices):
        a = (experiment, b, s.stop - s.start, rec, chunk_elements)
        if to_files:
            a += (sink.sink(s.start, experiment.mu0, experiment.sigma0), emit_columns)
        args.append(a)
    report = None if progress is None else (lambda done: progress(done, len(slices)))
    start = time.perf_counter()
    parts: list = [None] * len(args)
    # Threads where each task is large array work (numpy drops the GIL there); processes
    # where a Python loop per generation would contend for it (samples at small n).
    threads = engine == "sufficient" or experiment.n >= THREADS_MIN_N
    if regimes is not None:  # both regime engines loop over generations in Python
        threads = engine == "samples" and experiment.n >= THREADS_MIN_N
    # closing() stops the pool at once if anything here fails (or Ctrl-C): queued blocks
    # are cancelled, running ones stop at their next check
    with contextlib.closing(iter_blocks(task, args, nproc, scheduler, threads=threads)) as blocks:
        _consume(blocks, parts, slices, sink, to_files, experiment, report)
    elapsed = time.perf_counter() - start
    mean = np.concatenate([p[0] for p in parts], axis=0)
    log_var = np.concatenate([p[1] for p in parts], axis=0)
    generations = rec if sink is None else rec[-1:]
    traj = Trajectories(generations, log_var, mean, spec=experiment.to_dict(),
                        mean_origin=experiment.mu0, mean_scale=experiment.sigma0)
    return SimulationRun(traj, engine, nproc, elapsed)


def _consume(blocks, parts, slices, sink, to_files, experiment, report) -> None:
    """Collect each finished block (its final generation only, when streamed)."""
    for done, (i, part) in enumerate(blocks, 1):
        if sink is not None:
            rows = slices[i].stop - slices[i].start
            if to_files:
                sink.rows_done(rows)
            else:  # keep only the final generation (a copy: a view would pin the block)
                sink.write_rows(slices[i].start, *part, origin=experiment.mu0,
                                scale=experiment.sigma0)
                part = (part[0][:, -1:].copy(), part[1][:, -1:].copy())
        parts[i] = part
        if report:
            report(done)
