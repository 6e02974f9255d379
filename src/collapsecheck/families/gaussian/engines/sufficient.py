r"""The ``sufficient`` engine: each generation's fit drawn from its exact law.

For Gaussian data the fitted mean and the sum of squares are independent (Cochran), with
:math:`\bar z \sim N(0, 1/n)` and :math:`\sum (z - \bar z)^2 = 2G`, :math:`G \sim
\mathrm{Gamma}((n-1)/2, 1)` (a :math:`\chi^2_{n-1}` variable). So one normal and one gamma
draw per replicate and generation give chains with exactly the law of the ``samples``
engine, whatever n:

.. math::

    \mu_t = \mu_{t-1} + \sigma_{t-1} \bar z_t, \qquad
    \log\sigma_t^2 = \log\sigma_{t-1}^2 + \log G_t + \log\frac{2}{n - d}.

Stream layout of block b (the reproducibility contract): two Generators from the
children of ``SeedSequence(seed, spawn_key=(b,))``, the first for the gammas and the
second for the normals, each consumed generation-major (generation 1 for every replicate
of the block, then generation 2, ...). Because each stream is read in that one order,
results do not depend on how many generations are drawn at a time (``chunk_elements``),
and cumulative sums are carried across chunks in the same order as a single pass.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.engines._blocks import Recorder, block_seed, check_cancelled, generator

__all__ = ["run_block"]


def run_block(experiment, block: int, rows: int, record: np.ndarray, chunk_elements: int,
              emit=None, emit_columns: int | None = None):
    """Simulate ``rows`` chains of block ``block``; return ``(mean, log_var)`` arrays of
    shape ``(rows, len(record))`` at the generations listed in ``record``, the mean in
    standardised coordinates (see :class:`~collapsecheck.engines._blocks.Recorder`, which
    also explains ``emit``)."""
    e = experiment
    gamma_seq, normal_seq = block_seed(e.seed, block).spawn(2)
    rng_gamma, rng_normal = generator(gamma_seq), generator(normal_seq)
    k = (e.n - 1) / 2
    shift = math.log(2.0 / (e.n - e.ddof))
    inv_sqrt_n = 1.0 / math.sqrt(e.n)
    rec = Recorder(e, rows, record, emit, emit_columns)
    mu, log_var = rec.start(rows)
    step = max(1, min(chunk_elements // rows, e.generations))
    # Buffers reused across chunks (fresh large allocations would page-fault every time).
    draws = np.empty((step, rows))
    lv = np.empty((rows, step + 1))
    m = np.empty((rows, step + 1))
    sigma = np.empty((rows, step))
    for t0 in range(1, e.generations + 1, step):
        check_cancelled()
        g = min(step, e.generations + 1 - t0)
        d, L, M, S = draws[:g], lv[:, : g + 1], m[:, : g + 1], sigma[:, :g]
        # Draws come generation-major (the stream layout); the chains are laid out one
        # row per replicate so that the running sums run along contiguous memory.
        L[:, 0] = log_var
        rng_gamma.standard_gamma(k, out=d)
        np.log(d, out=d)
        np.add(d.T, shift, out=L[:, 1:])
        np.cumsum(L, axis=1, out=L)
        M[:, 0] = mu
        rng_normal.standard_normal(out=d)
        np.multiply(d.T, inv_sqrt_n, out=M[:, 1:])
        np.multiply(L[:, :-1], 0.5, out=S)
        np.exp(S, out=S)
        M[:, 1:] *= S
        np.cumsum(M, axis=1, out=M)
        rec.take_range(t0, M, L)
        mu, log_var = M[:, -1].copy(), L[:, -1].copy()
    return rec.result()
