"""Deliberately wrong simulators: each gets one thing wrong, the checks must catch it.

Every mutant has the :data:`collapsecheck.checks.Simulator` signature
``(experiment, record) -> Trajectories`` and is built on the correct engines, so all it
changes is the one bug named.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from collapsecheck.engines import simulate
from collapsecheck.trajectories import Trajectories


def correct(engine="sufficient"):
    def run(e, record):
        return simulate(e, engine=engine, record=record, workers=1).trajectories

    return run


def wrong_ddof(delta=1.0, engine="sufficient"):
    """Fits the variance with ddof + delta but claims ddof."""
    def run(e, record):
        t = simulate(e.replace(ddof=e.ddof + delta), engine=engine, record=record,
                     workers=1).trajectories
        return replace(t, log_var=t.log_var, mean=t.mean, spec=e.to_dict())

    return run


def wrong_n(delta=-1, engine="sufficient"):
    """Draws n + delta samples per generation but claims n."""
    def run(e, record):
        t = simulate(e.replace(n=e.n + delta, ddof=min(e.ddof, e.n + delta - 1)),
                     engine=engine, record=record, workers=1).trajectories
        return replace(t, log_var=t.log_var, mean=t.mean, spec=e.to_dict())

    return run


def drift_offset(per_generation: float):
    """Adds a fixed amount to every increment of log sigma^2 (a biased variance fit)."""
    def run(e, record):
        t = simulate(e, record=record, workers=1).trajectories
        lv = t.log_var + per_generation * t.generations[None, :]
        return replace(t, log_var=lv, mean=t.mean, spec=e.to_dict())

    return run


def paired_replicates():
    """Reuses random numbers: replicates come in identical pairs (marginals stay right)."""
    def run(e, record):
        half = e.replace(replicates=math.ceil(e.replicates / 2))
        t = simulate(half, record=record, workers=1).trajectories
        idx = np.repeat(np.arange(half.replicates), 2)[: e.replicates]
        return replace(t, log_var=t.log_var[idx], mean=t.mean[idx], spec=e.to_dict())

    return run


def mean_spread(factor: float):
    """Draws the fitted mean's increments with SD factor * sigma/sqrt(n)."""
    def run(e, record):
        t = simulate(e, record="all", workers=1).trajectories
        steps = np.diff(t.mean, axis=1) * factor
        mean = np.concatenate([t.mean[:, :1], t.mean[:, :1] + np.cumsum(steps, axis=1)], axis=1)
        full = replace(t, mean=mean, spec=e.to_dict())  # same coordinates as t
        return _select(full, record)

    return run


def clipped_samples(clip: float):
    """Draws every sample but clips it to mu +- clip * sigma (tails cut, not resampled)."""
    def run(e, record):
        rng = np.random.default_rng(e.seed)
        R, T, n = e.replicates, e.generations, e.n
        mu = np.full(R, e.mu0)
        lv = np.full(R, 2 * math.log(e.sigma0))
        mus, lvs = [mu.copy()], [lv.copy()]
        for _ in range(T):
            z = np.clip(rng.standard_normal((R, n)), -clip, clip)
            m = z.mean(axis=1)
            ss = ((z - m[:, None]) ** 2).sum(axis=1)
            mu = mu + np.exp(0.5 * lv) * m
            lv = lv + np.log(ss / (n - e.ddof))
            mus.append(mu.copy())
            lvs.append(lv.copy())
        full = Trajectories(np.arange(T + 1), np.array(lvs).T, np.array(mus).T, e.to_dict())
        return _select(full, record)

    return run


def _select(t: Trajectories, record) -> Trajectories:
    return t.select(record)
