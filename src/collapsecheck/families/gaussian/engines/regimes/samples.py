r"""The regimes' ``samples`` engine: every value drawn, for every regime and modifier.

Generation t draws its :math:`r_t = n_t - m_t` model values as :math:`\mu + \tau\sigma z`
with z standard normal, or, under truncation at C, standard normal conditioned on
:math:`|z| \le C` (drawn by inversion, :func:`truncated_standard_normal`); ``mix`` adds
:math:`m_t` fresh N(0, 1) values (standardised coordinates: the original :math:`N(\mu_0,
\sigma_0^2)`). The batches are reduced exactly as the base samples engine reduces its rows
(:func:`collapsecheck.families.gaussian.engines.samples._fit_rows`: chunked, long rows in
fixed pieces merged exactly) and merged exactly by :mod:`._steps`. For
``accumulate-subsample`` every chain keeps its real pool of :math:`N_t = n_1 + \dots + n_t`
values (``rows x N_T`` float64 per block;
:func:`collapsecheck.families.gaussian.engines.regimes.require_memory` refuses what cannot
fit) and fits the :math:`n_t` values whose random keys are smallest: a uniformly random
subset, drawn without replacement.

Stream layout of block b (the reproducibility contract): three Generators (on
:data:`~collapsecheck.engines._blocks.BIT_GENERATOR`) from
``SeedSequence(seed, spawn_key=(b,)).spawn(3)``, in order:

* **model**: for each generation, for each replicate of the block in order, its r_t model
  draws in order: one standard normal each, or one uniform (``Generator.random``) each
  when truncating;
* **fresh** (``mix``): for each generation, for each replicate in order, m_t standard
  normals;
* **keys** (``accumulate-subsample``): for each generation, for each replicate in order,
  N_t uniforms, one per pool value (pool order: generation 1's draws, then generation 2's,
  ...); the n_t smallest keys pick the subsample.

Each stream is read in that one order however many rows are drawn at a time, so results
do not depend on ``chunk_elements`` or on the worker count.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from collapsecheck.engines._blocks import Recorder, block_seed, check_cancelled, generator
from collapsecheck.families.gaussian.engines.regimes._steps import run_chains
from collapsecheck.families.gaussian.engines.samples import _fit_rows

__all__ = ["TruncatedNormals", "run_block", "truncated_standard_normal"]


def truncated_standard_normal(rng: np.random.Generator, c: float, out: np.ndarray) -> None:
    r"""Fill ``out`` with standard normals conditioned on :math:`|z| \le c`, one uniform
    each, by inversion in the symmetric form: with :math:`w = 2u - 1`,

    .. math::

        z = -\operatorname{sign}(w)\,\Phi^{-1}\big(\Phi(-c) + |w|\,(\tfrac12 - \Phi(-c))\big),

    so the inverse CDF is only ever evaluated below 1/2, where its argument keeps full
    relative precision (inverting a probability near 1 would lose the upper tail). The
    result is clipped to [-c, c] against rounding at the cut."""
    a = float(ndtr(-c))
    rng.random(out=out)
    negative = out < 0.5
    out *= 2.0
    out -= 1.0
    np.abs(out, out=out)
    out *= 0.5 - a
    out += a
    ndtri(out, out=out)  # <= 0
    np.maximum(out, -c, out=out)
    np.negative(out, out=out, where=~negative)


class TruncatedNormals:
    """A draw source whose ``standard_normal(out=...)`` fills truncated standard normals
    (one uniform of ``rng`` per value), so the base engine's row reduction
    (``_fit_rows``) runs unchanged on truncated draws."""

    def __init__(self, rng: np.random.Generator, c: float):
        self.rng = rng
        self.c = float(c)

    def standard_normal(self, size=None, *, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            out = np.empty(size)
        truncated_standard_normal(self.rng, self.c, out)
        return out


def run_block(experiment, block: int, rows: int, record: np.ndarray, chunk_elements: int,
              emit=None, emit_columns: int | None = None):
    """Simulate ``rows`` chains of block ``block``; return ``(mean, log_var)`` arrays of
    shape ``(rows, len(record))`` in standardised coordinates (see
    :class:`~collapsecheck.engines._blocks.Recorder`, which also explains ``emit``)."""
    e = experiment
    model_seq, fresh_seq, keys_seq = block_seed(e.seed, block).spawn(3)
    model = generator(model_seq)
    if e.truncate is not None:
        model = TruncatedNormals(model, e.truncate)
    if e.regime == "accumulate-subsample":
        return _run_subsample(e, rows, record, chunk_elements, emit, emit_columns, model,
                              generator(keys_seq))
    fresh = generator(fresh_seq)
    return run_chains(e, rows, record, emit, emit_columns,
                      model=lambda r: _fit_rows(model, rows, r, chunk_elements),
                      fresh=lambda m: _fit_rows(fresh, rows, m, chunk_elements))


def pool_size(e) -> int:
    r"""Values in each chain's pool at the end: :math:`N_T = \sum_{t \le T} n_t`."""
    return sum(e.n_at(t) for t in range(1, e.generations + 1))


def _run_subsample(e, rows, record, chunk_elements, emit, emit_columns, model, keys):
    log_tau2 = 2.0 * math.log(e.temperature)
    rec = Recorder(e, rows, record, emit, emit_columns)
    mu, log_var = rec.start(rows)
    pool = np.empty((rows, pool_size(e)))
    size = 0
    for t in range(1, e.generations + 1):
        check_cancelled()
        n_t = e.n_at(t)
        sd = np.exp(0.5 * (log_var + log_tau2))
        _draw_into(model, pool, size, n_t, mu, sd, chunk_elements)
        size += n_t
        mu, ss = _subsample_fit(keys, pool[:, :size], n_t, chunk_elements)
        log_var = np.log(ss) - math.log(n_t - e.ddof)
        rec.take(t, mu, log_var)
    return rec.result()


def _draw_into(model, pool, start, n_t, mu, sd, chunk_elements) -> None:
    """Append each row's n_t model draws ``mu + sd z`` to the pool (stream order)."""
    rows = pool.shape[0]
    step = max(1, chunk_elements // n_t)
    buf = np.empty((min(step, rows), n_t))
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        z = buf[: r1 - r0]
        model.standard_normal(out=z)
        z *= sd[r0:r1, None]
        z += mu[r0:r1, None]
        pool[r0:r1, start:start + n_t] = z
        if n_t > chunk_elements:
            check_cancelled()


def _subsample_fit(keys, pool, n_t, chunk_elements):
    """Each row's mean and centred sum of squares of n_t pool values taken without
    replacement (those with the n_t smallest of one uniform key per value)."""
    rows, size = pool.shape
    mean, ss = np.empty(rows), np.empty(rows)
    step = max(1, chunk_elements // size)
    buf = np.empty((min(step, rows), size))
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        k = buf[: r1 - r0]
        keys.random(out=k)
        pick = np.argpartition(k, n_t - 1, axis=1)[:, :n_t]
        x = np.take_along_axis(pool[r0:r1], pick, axis=1)
        m = x.sum(axis=1) / n_t
        x -= m[:, None]
        mean[r0:r1] = m
        ss[r0:r1] = np.einsum("ij,ij->i", x, x)
        if size > chunk_elements:
            check_cancelled()
    return mean, ss
