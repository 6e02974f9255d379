r"""The ``samples`` engine: every sample drawn, as the article did.

Generation t of a chain draws :math:`x = \mu_{t-1} + \sigma_{t-1} z` with
:math:`z \sim N(0, I_n)` (exactly what ``Generator.normal(mu, sigma, n)`` computes) and
fits :math:`\mu_t = \bar x`, :math:`\sigma_t^2 = \sum (x - \bar x)^2/(n - d)`. The fit is
carried out on the standard draws,

.. math::

    \mu_t = \mu_{t-1} + \sigma_{t-1} \bar z, \qquad
    \log\sigma_t^2 = \log\sigma_{t-1}^2 + \log \textstyle\sum (z - \bar z)^2 - \log(n - d),

which is the same computation rearranged so that :math:`\log\sigma^2` never underflows
at long horizons (sigma itself reaches 0.0 in double precision after a few hundred
thousand generations at n = 1000; its log stays finite).

Stream layout of block b (the reproducibility contract): one Generator (on
:data:`~collapsecheck.engines._blocks.BIT_GENERATOR`) from ``SeedSequence(seed,
spawn_key=(b,))``; for each generation, for each replicate of the
block in order, n standard normals in order. Memory is bounded by ``chunk_elements``:
rows are drawn a few at a time, and a row longer than ``PIECE`` is drawn in fixed pieces
of ``PIECE`` values whose means and sums of squares are merged exactly (Chan et al.), so
results do not depend on ``chunk_elements``.

Every reduction is one of numpy's own loops (``sum``, ``einsum``), never a BLAS call:
the engine starts no library threads of its own, so a worker uses one core (and the
block runner limits BLAS and OpenMP pools to one thread besides).

References
----------
.. [1] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise
   algorithm for computing sample variances", Stanford CS report STAN-CS-79-773 (1979).
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.engines._blocks import Recorder, block_seed, check_cancelled, generator

__all__ = ["PIECE", "run_block"]

#: Longest run of one row drawn and reduced at once (fixed: part of the results' bits).
PIECE = 1 << 16

#: From this n (or piece length, for rows longer than PIECE) on, the sum of squares is
#: taken in one fused pass as sum(z^2) - (sum z)^2 / n: for standard normal draws
#: sum(z^2) ~ n and (sum z)^2/n ~ 1, so the subtraction loses no more than a few ulps.
#: Below it (where the centred sum of squares can be tiny next to sum(z^2), e.g. n = 2
#: with z1 ~ z2) the exact two-pass form is used. Fixed: part of the results' bits.
FUSED_MIN_N = 64


def _fit_rows(rng: np.random.Generator, rows: int, n: int, chunk_elements: int):
    """Draw ``rows`` x ``n`` standard normals in stream order and return each row's
    mean and centred sum of squares."""
    zbar = np.empty(rows)
    ss = np.empty(rows)
    if n <= PIECE:
        step = max(1, chunk_elements // n)
        buf = np.empty((min(step, rows), n))
        for start in range(0, rows, step):
            stop = min(rows, start + step)
            z = buf[: stop - start]
            rng.standard_normal(out=z)
            s1 = z.sum(axis=1)
            if n >= FUSED_MIN_N:
                ss[start:stop] = np.einsum("ij,ij->i", z, z) - s1 * s1 / n
            else:
                z -= (s1 / n)[:, None]
                ss[start:stop] = np.einsum("ij,ij->i", z, z)
            zbar[start:stop] = s1 / n
        return zbar, ss
    # Rows longer than PIECE: each piece is drawn into one reused buffer and reduced in
    # one fused pass (sum and sum of squares, numpy's own loops: no BLAS call, so no
    # library threads), then merged into the row's mean and centred sum of squares with
    # Chan et al.'s exact pairwise update.
    buf = np.empty(PIECE)
    for r in range(rows):
        check_cancelled()
        count, mean, m2 = 0, 0.0, 0.0
        for start in range(0, n, PIECE):
            k = min(PIECE, n - start)
            z = buf[:k]
            rng.standard_normal(out=z)
            s1 = float(z.sum())
            m = s1 / k
            if k >= FUSED_MIN_N:
                piece_m2 = float(np.einsum("i,i->", z, z)) - s1 * s1 / k
            else:  # a short last piece: the exact two-pass form, as for small n
                z -= m
                piece_m2 = float(np.einsum("i,i->", z, z))
            total = count + k
            delta = m - mean
            mean += delta * k / total
            m2 += piece_m2 + delta * delta * count * k / total
            count = total
        zbar[r], ss[r] = mean, m2
    return zbar, ss


def run_block(experiment, block: int, rows: int, record: np.ndarray, chunk_elements: int,
              emit=None, emit_columns: int | None = None):
    """Simulate ``rows`` chains of block ``block``; return ``(mean, log_var)`` arrays of
    shape ``(rows, len(record))`` at the generations listed in ``record``, the mean in
    standardised coordinates (see :class:`~collapsecheck.engines._blocks.Recorder`, which
    also explains ``emit``)."""
    e = experiment
    rng = generator(block_seed(e.seed, block))
    log_div = math.log(e.n - e.ddof)
    rec = Recorder(e, rows, record, emit, emit_columns)
    mu, log_var = rec.start(rows)
    for t in range(1, e.generations + 1):
        check_cancelled()
        zbar, ss = _fit_rows(rng, rows, e.n, chunk_elements)
        mu = mu + np.exp(0.5 * log_var) * zbar
        log_var = log_var + (np.log(ss) - log_div)
        rec.take(t, mu, log_var)
    return rec.result()
