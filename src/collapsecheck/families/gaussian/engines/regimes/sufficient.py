r"""The regimes' ``sufficient`` engine: each batch's mean and sum of squares from its exact law.

A batch of r standard normal draws has :math:`\bar z \sim N(0, 1/r)` independent of
:math:`S_z = 2G`, :math:`G \sim \mathrm{Gamma}((r-1)/2, 1)` (:math:`\chi^2_{r-1}`; 0 for
r = 1), so the model batch (r draws of :math:`N(\mu, \tau^2\sigma^2)`) and the fresh
batch (m draws of the original distribution) of every generation come from four draws per
replicate; :mod:`._steps` merges them exactly. This covers ``replace``, ``mix`` and
``accumulate`` with temperature and n-growth. It does not cover truncation (the truncated
sample's mean and sum of squares have no closed-form joint law) nor
``accumulate-subsample`` (a subsample depends on the pool's values): ``run_block``
refuses them.

Stream layout of block b (the reproducibility contract): four Generators (on
:data:`~collapsecheck.engines._blocks.BIT_GENERATOR`) from
``SeedSequence(seed, spawn_key=(b,)).spawn(4)``, in order: model gammas, model normals,
fresh gammas, fresh normals. Each is consumed generation-major: at generation t, one draw
per replicate of the block in order, from the model streams when the model batch has
r_t >= 2 draws (gamma) or >= 1 (normal), from the fresh streams when m_t >= 2 (gamma) or
>= 1 (normal). Nothing depends on ``chunk_elements`` or the worker count.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.engines._blocks import block_seed, generator
from collapsecheck.families.gaussian.engines.regimes._steps import (
    run_chains,
    sufficient_unavailable,
)

__all__ = ["run_block"]


def _batch(rng_gamma: np.random.Generator, rng_normal: np.random.Generator, rows: int):
    def draw(r: int) -> tuple[np.ndarray, np.ndarray]:
        zbar = rng_normal.standard_normal(rows) * (1.0 / math.sqrt(r))
        if r >= 2:
            ss = rng_gamma.standard_gamma((r - 1) / 2, rows)
            ss *= 2.0
        else:
            ss = np.zeros(rows)
        return zbar, ss

    return draw


def run_block(experiment, block: int, rows: int, record: np.ndarray, chunk_elements: int,
              emit=None, emit_columns: int | None = None):
    """Simulate ``rows`` chains of block ``block``; return ``(mean, log_var)`` arrays of
    shape ``(rows, len(record))`` in standardised coordinates (see
    :class:`~collapsecheck.engines._blocks.Recorder`, which also explains ``emit``)."""
    why = sufficient_unavailable(experiment)
    if why is not None:
        raise ValueError(why[0].upper() + why[1:])
    mg, mn, fg, fn = (generator(s) for s in block_seed(experiment.seed, block).spawn(4))
    return run_chains(experiment, rows, record, emit, emit_columns,
                      model=_batch(mg, mn, rows), fresh=_batch(fg, fn, rows))
