"""The records that ``theory`` and ``simulate`` emit: plain dicts in the shapes that
DESIGN.md fixes, built from library results so that Python users get the same objects."""

from __future__ import annotations

import platform

import numpy as np

from collapsecheck import __version__
from collapsecheck.engines import BIT_GENERATOR, SimulationRun
from collapsecheck.experiment import Experiment
from collapsecheck.summary import FinalSummary, summarize
from collapsecheck.theory import TheoryPrediction, predict

__all__ = ["environment", "nonfinite_notes", "simulation_record", "theory_record"]


def nonfinite_notes(obj, path: str = "") -> list[str]:
    """One note per number in ``obj`` that is NaN or infinite (written as null in JSON),
    so that no such value passes silently."""
    import math

    notes = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            notes += nonfinite_notes(v, f"{path}.{k}" if path else str(k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            notes += nonfinite_notes(v, f"{path}[{i}]")
    elif isinstance(obj, float) and not math.isfinite(obj):
        what = ("overflows double precision" if math.isinf(obj)
                else "is undefined (e.g. too few replicates for it)")
        notes.append(f"{path} {what} and is written as null; the log_scale values, where "
                     "given, stay finite")
    return notes


def environment() -> dict:
    """Versions and the bit generator: what a seed needs to reproduce a stream."""
    return {
        "collapsecheck": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "bit_generator": BIT_GENERATOR,
    }


def theory_record(experiment: Experiment, prediction: TheoryPrediction | None = None) -> dict:
    """``collapsecheck theory --json``: exact predictions for the experiment."""
    p = prediction or predict(experiment)
    spec = {k: v for k, v in experiment.to_dict().items() if k not in ("replicates", "seed")}
    record = {
        "spec": spec,
        "log_sigma2_drift": p.log_sigma2_drift,
        "log_sigma2_step_var": p.log_sigma2_step_var,
        "step": {
            "drift_large_n_approximation": -(2 - experiment.ddof) / experiment.n,
            "prob_sigma_shrinks": p.prob_step_shrinks,
            "sigma2_mean_ratio": (experiment.n - 1) / (experiment.n - experiment.ddof),
        },
        "final": p.final(),
        "versions": {"collapsecheck": __version__},
    }
    record["notes"] = nonfinite_notes(record)
    return record


def simulation_record(run: SimulationRun, prediction: TheoryPrediction | None = None,
                      summary: FinalSummary | None = None) -> dict:
    """``collapsecheck simulate --json``: final statistics with SEs, beside theory."""
    traj = run.trajectories
    experiment = Experiment(**traj.spec)
    p = prediction or predict(experiment)
    s = summary or summarize(traj.final_log_var, traj.final_mean, p)
    env = environment()
    record = {
        "spec": traj.spec,
        "seed": experiment.seed,
        "engine": run.engine,
        "workers": run.workers,
        "bit_generator": env["bit_generator"],
        "numpy_version": env["numpy"],
        "versions": env,
        "final": s.to_dict(),
        "theory": {
            "log_sigma2_drift": p.log_sigma2_drift,
            "log_sigma2_step_var": p.log_sigma2_step_var,
        },
        "timing": {"simulate_s": run.simulate_s},
    }
    record["notes"] = nonfinite_notes(record)
    return record
