r"""Engines of the multivariate Gaussian refit chain: ``samples`` and ``sufficient``.

Both keep the covariance factored, :math:`\Sigma_t = L_t L_t^\top` with :math:`L_t`
lower triangular, stored as :math:`L_t = C_t\,\mathrm{diag}(e^{\ell_t})` (C unit lower
triangular, :math:`\ell` the logs of the diagonal), and never form :math:`\Sigma_t`: its
condition number grows like :math:`e^{(\gamma_1 - \gamma_D)T}` (about 1e13 after 65
generations at D = 10, n = 32, past 1e16 by about 85), where a covariance matrix and its
determinant lose every digit of the small eigenvalues. A generation multiplies the factor
by a lower-triangular :math:`B_t/\sqrt{n - d}` with :math:`B_t B_t^\top` the whitened
scatter matrix (Wishart, n - 1 degrees of freedom):

.. math::

    L_t = L_{t-1} B_t/\sqrt{c}:\quad
    C_t = C_{t-1} P_t\,\mathrm{diag}(B_t)^{-1},\quad
    P_t = \mathrm{diag}(e^{\ell}) B_t\,\mathrm{diag}(e^{-\ell}),\quad
    \ell_t = \ell_{t-1} + \log\mathrm{diag}(B_t) - \tfrac12\log c,

so :math:`\log\det\Sigma_t = 2\sum_i \ell_{t,i}` exactly (a triangular product's diagonal
is the product of the diagonals), :math:`P_t` is bounded (below the diagonal
:math:`\ell_i - \ell_j` tends to :math:`-\infty`), and nothing under- or overflows at any
horizon. The mean moves by :math:`L_{t-1}\bar z_t`.

* ``samples`` draws the n x D standard normals Z of every generation (the data are
  :math:`x = \mu + L z`), centres them, and takes :math:`B_t = R^\top` from the QR
  factorisation of the centred Z (diagonal made positive): :math:`R^\top R` is the
  whitened scatter matrix, so :math:`L_{t-1}R^\top R L_{t-1}^\top` is the data's scatter
  matrix, factored without being formed. Rows beyond :data:`PIECE_ELEMENTS` are factored
  in pieces merged exactly (Chan et al.'s pairwise update, in factored form).
* ``sufficient`` draws :math:`B_t` from Bartlett's law (diagonal
  :math:`\sqrt{\chi^2_{n-i}}`, N(0, 1) below) and :math:`\bar z \sim N(0, I/n)`.

Log eigenvalues (at the generations asked for) come from a one-sided Jacobi SVD of the
factor carried out in log scale (:func:`log_singular_values`), accurate relative to each
eigenvalue whatever the condition number.

Stream layout of block b (the reproducibility contract, as the 1-D engines): ``samples``
uses one Generator from ``SeedSequence(seed, spawn_key=(b,))``, consumed generation by
generation, replicate by replicate, n x D normals in row-major order; ``sufficient`` uses
three Generators from its three spawned children (chi-square diagonals, normals below the
diagonal in row-major order, mean normals), each consumed generation-major. Neither
depends on the number of workers or on ``chunk_elements``.

References
----------
.. [1] J. Demmel, K. Veselić, "Jacobi's method is more accurate than QR", SIAM J. Matrix
   Anal. Appl. 13 (1992) 1204-1245 (relative accuracy of one-sided Jacobi).
.. [2] T. F. Chan, G. H. Golub, R. J. LeVeque, "Updating formulae and a pairwise
   algorithm for computing sample variances", Stanford CS report STAN-CS-79-773 (1979).
.. [3] Z. Drmač, K. Veselić, "New fast and accurate Jacobi SVD algorithm I", SIAM J.
   Matrix Anal. Appl. 29 (2008) 1322-1342 (QR preconditioning of one-sided Jacobi).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from collapsecheck.engines._blocks import (
    block_seed,
    block_slices,
    check_cancelled,
    generator,
    iter_blocks,
    resolve_workers,
)
from collapsecheck.families.mvgaussian.parameters import MVGaussianExperiment
from collapsecheck.families.mvgaussian.records import MVRun, MVTrajectories
from collapsecheck.families.mvgaussian.theory import lyapunov_spectrum

__all__ = ["ENGINES", "PIECE_ELEMENTS", "log_singular_values", "simulate"]

#: Most standard normals of one replicate's generation factored at once by ``samples``;
#: longer samples are factored in pieces of ``PIECE_ELEMENTS // D`` rows and merged.
#: Fixed: part of the results' bits.
PIECE_ELEMENTS = 1 << 21

#: Default bound on the float64 values a block's working arrays hold at once.
DEFAULT_CHUNK_ELEMENTS = 1 << 20

_JACOBI_TOL = 1e-15
_JACOBI_MAX_SWEEPS = 60

#: Largest log eigenvalue a chain may reach (2 log DBL_MAX = 1419.6, with a margin).
_LOG_LAMBDA_LIMIT = 1400.0


# ---------------------------------------------------------------------------------------
# Log-scale one-sided Jacobi SVD of C diag(e^ell)
# ---------------------------------------------------------------------------------------


def _round_robin(dim: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Disjoint column pairs covering every pair once per sweep (the circle method)."""
    m = dim + (dim % 2)
    players = list(range(m))
    rounds = []
    for _ in range(m - 1):
        pairs = [(players[i], players[m - 1 - i]) for i in range(m // 2)]
        pairs = [(min(p, q), max(p, q)) for p, q in pairs if p < dim and q < dim]
        if pairs:
            rounds.append((np.array([p for p, _ in pairs]), np.array([q for _, q in pairs])))
        players = [players[0], players[-1], *players[1:-1]]
    return rounds


def _precondition(V: np.ndarray, lv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The QR preconditioning of Drmač-Veselić [3]_, in log scale: with the columns
    sorted by decreasing log norm s, :math:`Y = QR` (Householder, column-wise backward
    stable, so the column scaling factors out exactly), and
    :math:`R\,\mathrm{diag}(e^s)` has the singular values of its transpose
    :math:`\mathrm{diag}(e^s) R^	op = N\,\mathrm{diag}(e^s)`,
    :math:`N_{ij} = R_{ji} e^{s_i - s_j}` (i >= j, so bounded by 1 in size). Jacobi on
    N's columns converges in a few sweeps. Rows of ``V`` are the columns, unit norm."""
    order = np.argsort(-lv, axis=1, kind="stable")
    s = np.take_along_axis(lv, order, axis=1)
    Y = np.take_along_axis(V, order[:, :, None], axis=1)  # rows: sorted columns
    R = np.linalg.qr(np.swapaxes(Y, 1, 2), mode="r")
    D = lv.shape[1]
    upper = np.triu(np.ones((D, D), dtype=bool))
    with np.errstate(under="ignore"):
        W = R * np.exp(np.where(upper, s[:, None, :] - s[:, :, None], -np.inf))
    norms = np.sqrt(np.einsum("rjd,rjd->rj", W, W))
    return W / norms[:, :, None], s + np.log(norms)


def log_singular_values(C: np.ndarray, ell: np.ndarray) -> np.ndarray:
    r"""Natural logs of the singular values of :math:`C\,\mathrm{diag}(e^{\ell})`, largest
    first, for a stack: ``C`` of shape (..., D, D), ``ell`` (..., D).

    One-sided Jacobi (Hestenes) on the columns, each held as a unit vector and the log of
    its norm, so no scale under- or overflows: a rotation of columns p (the larger, log
    norm a) and q (log norm b <= a), with :math:`r = e^{b-a}` and :math:`g = u_p\cdot u_q`,
    uses :math:`\tau = t/r = \mathrm{sign}(\zeta)/(|w| + \sqrt{r^2 + w^2})`,
    :math:`w = (r^2 - 1)/(2g)`, :math:`c = (1 + r^2\tau^2)^{-1/2}`, and gives
    :math:`x_p' \propto e^{a} c\,(u_p - r^2\tau u_q)`,
    :math:`x_q' \propto e^{b} c\,(\tau u_p + u_q)` (the textbook rotation rewritten in
    units of each column's own scale), after the QR preconditioning of
    :func:`_precondition`. Sweeps run the pairs in round-robin order, all
    disjoint pairs of a round at once, until every :math:`|g| \le 10^{-15}`; the
    singular values are then the column norms. One-sided Jacobi computes each singular
    value of :math:`C\,\mathrm{diag}(e^\ell)` to a relative accuracy of about
    :math:`\epsilon\,\kappa(\hat C)`, :math:`\hat C` the column-normalised C
    (Demmel-Veselić [1]_), whatever the spread of :math:`\ell`.
    """
    C = np.asarray(C, dtype=float)
    ell = np.asarray(ell, dtype=float)
    shape = ell.shape
    D = shape[-1]
    # one row of ``V`` per column of C (contiguous), unit norm; log norms in ``lv``
    V = np.swapaxes(C.reshape(-1, D, D), 1, 2).copy()
    lv = ell.reshape(-1, D).copy()
    norms = np.sqrt(np.einsum("rjd,rjd->rj", V, V))
    V /= norms[:, :, None]
    lv += np.log(norms)
    V, lv = _precondition(V, lv)
    rounds = _round_robin(D)
    todo = np.arange(V.shape[0])  # the stack's matrices not yet converged
    for _ in range(_JACOBI_MAX_SWEEPS):
        if todo.size == 0:
            break
        Vt, lt = V[todo], lv[todo]
        worst = np.zeros(todo.size)
        for P, Q in rounds:
            vp, vq = Vt[:, P], Vt[:, Q]
            g = np.einsum("rkd,rkd->rk", vp, vq)
            np.maximum(worst, np.max(np.abs(g), axis=1), out=worst)
            active = np.abs(g) > _JACOBI_TOL
            if not active.any():
                continue
            lp, lq = lt[:, P], lt[:, Q]
            big = lp >= lq
            bigc = big[:, :, None]
            va = np.where(bigc, vp, vq)
            vb = np.where(bigc, vq, vp)
            la, lb = np.where(big, lp, lq), np.where(big, lq, lp)
            r2 = np.exp(2.0 * (lb - la))
            gs = np.where(active, g, 1.0)
            w = (r2 - 1.0) / (2.0 * gs)
            sign = np.where((r2 - 1.0) * gs >= 0, 1.0, -1.0)
            tau = np.where(active, sign / (np.abs(w) + np.sqrt(r2 + w * w)), 0.0)
            log_c = -0.5 * np.log1p(r2 * tau * tau)
            xa = va - (r2 * tau)[:, :, None] * vb
            xb = vb + tau[:, :, None] * va
            na = np.sqrt(np.einsum("rkd,rkd->rk", xa, xa))
            nb = np.sqrt(np.einsum("rkd,rkd->rk", xb, xb))
            xa /= na[:, :, None]
            xb /= nb[:, :, None]
            la = la + log_c + np.log(na)
            lb = lb + log_c + np.log(nb)
            Vt[:, P] = np.where(bigc, xa, xb)
            Vt[:, Q] = np.where(bigc, xb, xa)
            lt[:, P] = np.where(big, la, lb)
            lt[:, Q] = np.where(big, lb, la)
        V[todo], lv[todo] = Vt, lt
        todo = todo[worst > _JACOBI_TOL]
    return -np.sort(-lv, axis=1).reshape(shape)


# ---------------------------------------------------------------------------------------
# The factored state and one generation
# ---------------------------------------------------------------------------------------


def _start(experiment: MVGaussianExperiment, rows: int):
    """(C, ell, mu - mu0) at generation 0 for ``rows`` chains."""
    L0 = np.linalg.cholesky(experiment.sigma_start)
    d = np.diag(L0)
    C = np.broadcast_to(L0 / d[None, :], (rows, *L0.shape)).copy()
    ell = np.broadcast_to(np.log(d), (rows, d.size)).copy()
    return C, ell, np.zeros((rows, d.size))


def _advance(C, ell, dmu, B, zbar, half_log_c) -> None:
    """One generation in place: mu += L zbar, then L <- L B / sqrt(c) in factored form
    (module docstring). ``B`` lower triangular with a positive diagonal."""
    with np.errstate(under="ignore"):
        dmu += np.einsum("rij,rj->ri", C, np.exp(ell) * zbar)
        diff = ell[:, :, None] - ell[:, None, :]
        lower = np.tril(np.ones(diff.shape[1:], dtype=bool))
        P = B * np.exp(np.where(lower, diff, -np.inf))
    diag = np.diagonal(B, axis1=1, axis2=2)
    np.matmul(C, P, out=C)
    C /= diag[:, None, :]
    ell += np.log(diag) - half_log_c


def _log_trace(C, ell) -> np.ndarray:
    r""":math:`\log\operatorname{tr}\Sigma = \log\sum_j e^{2\ell_j}\|c_j\|^2` (log-sum-exp)."""
    x = 2 * ell + np.log(np.einsum("rij,rij->rj", C, C))
    top = np.max(x, axis=1)
    return top + np.log(np.sum(np.exp(x - top[:, None]), axis=1))


class _Out:
    """The block's recorded values (natural coordinates)."""

    def __init__(self, rows, record, eig_record, dim):
        self.record, self.eig_record = record, eig_record
        self.logdet = np.empty((rows, record.size))
        self.log_trace = np.empty((rows, record.size))
        self.mu_sq = np.empty((rows, record.size))
        self.log_eig = np.empty((rows, eig_record.size, dim))
        self.j = self.je = 0

    def take(self, t, C, ell, dmu) -> None:
        if self.j < self.record.size and self.record[self.j] == t:
            self.logdet[:, self.j] = 2 * np.sum(ell, axis=1)
            self.log_trace[:, self.j] = _log_trace(C, ell)
            self.mu_sq[:, self.j] = np.einsum("ri,ri->r", dmu, dmu)
            self.j += 1
        if self.je < self.eig_record.size and self.eig_record[self.je] == t:
            self.log_eig[:, self.je] = 2 * log_singular_values(C, ell)
            self.je += 1

    def result(self):
        return self.logdet, self.log_trace, self.mu_sq, self.log_eig


def _row_chunks(rows: int, per_row: int, chunk_elements: int) -> list[slice]:
    step = max(1, chunk_elements // max(per_row, 1))
    return [slice(s, min(rows, s + step)) for s in range(0, rows, step)]


def _positive_r(Zc: np.ndarray) -> np.ndarray:
    """R of the QR factorisation of each matrix of the stack, rows signed so that its
    diagonal is positive (then :math:`R^\\top` is the lower Cholesky factor of Zc'Zc)."""
    R = np.linalg.qr(Zc, mode="r")
    s = np.sign(np.diagonal(R, axis1=-2, axis2=-1))
    s[s == 0] = 1.0
    return R * s[..., :, None]


def _fit_pieces(rng, n: int, D: int) -> tuple[np.ndarray, np.ndarray]:
    """(zbar, R) of one replicate's n x D standard normals drawn in pieces of
    ``PIECE_ELEMENTS // D`` rows: each piece centred and factored, merged pairwise
    (Chan et al., factored: stack R_a, R_b and sqrt(k_a k_b/(k_a + k_b)) (m_a - m_b),
    then QR)."""
    piece = max(D + 1, PIECE_ELEMENTS // D)
    count, mean, R = 0, np.zeros(D), np.zeros((0, D))
    buf = np.empty((piece, D))
    for start in range(0, n, piece):
        check_cancelled()
        k = min(piece, n - start)
        z = buf[:k]
        rng.standard_normal(out=z)
        m = z.mean(axis=0)
        Rk = np.linalg.qr(z - m, mode="r")
        total = count + k
        link = math.sqrt(count * k / total) * (m - mean)
        R = np.linalg.qr(np.vstack([R, Rk, link[None, :]]), mode="r")
        mean = mean + (m - mean) * (k / total)
        count = total
    s = np.sign(np.diag(R))
    s[s == 0] = 1.0
    return mean, R * s[:, None]


def _samples_generation(rng, rows, n, D, chunk_elements):
    """(B, zbar) of one generation for ``rows`` chains, drawn in stream order."""
    B = np.empty((rows, D, D))
    zbar = np.empty((rows, D))
    if n * D <= PIECE_ELEMENTS:
        for sl in _row_chunks(rows, n * D, chunk_elements):
            Z = rng.standard_normal((sl.stop - sl.start, n, D))
            m = Z.mean(axis=1)
            Z -= m[:, None, :]
            B[sl] = np.swapaxes(_positive_r(Z), 1, 2)
            zbar[sl] = m
        return B, zbar
    for r in range(rows):
        m, R = _fit_pieces(rng, n, D)
        B[r], zbar[r] = R.T, m
    return B, zbar


def run_block_samples(experiment, block: int, rows: int, record: np.ndarray,
                      eig_record: np.ndarray, chunk_elements: int):
    """Simulate ``rows`` chains of block ``block`` drawing every sample; return
    ``(logdet, log_trace, mu_sq_norm, log_eigenvalues)`` at the recorded generations."""
    e = experiment
    rng = generator(block_seed(e.seed, block))
    D, n = e.dim, e.n
    half_log_c = 0.5 * math.log(n - e.ddof)
    C, ell, dmu = _start(e, rows)
    out = _Out(rows, record, eig_record, D)
    out.take(0, C, ell, dmu)
    for t in range(1, e.generations + 1):
        check_cancelled()
        B, zbar = _samples_generation(rng, rows, n, D, chunk_elements)
        for sl in _row_chunks(rows, 4 * D * D, chunk_elements):
            _advance(C[sl], ell[sl], dmu[sl], B[sl], zbar[sl], half_log_c)
        out.take(t, C, ell, dmu)
    return out.result()


def run_block_sufficient(experiment, block: int, rows: int, record: np.ndarray,
                         eig_record: np.ndarray, chunk_elements: int):
    """Simulate ``rows`` chains of block ``block`` from the exact laws of each
    generation's fit (Bartlett factor, mean); same return as :func:`run_block_samples`."""
    e = experiment
    gamma_seq, lower_seq, mean_seq = block_seed(e.seed, block).spawn(3)
    rng_g, rng_l, rng_m = generator(gamma_seq), generator(lower_seq), generator(mean_seq)
    D, n = e.dim, e.n
    half_log_c = 0.5 * math.log(n - e.ddof)
    shapes = (n - np.arange(1, D + 1, dtype=float)) / 2
    below = np.tril_indices(D, -1)
    inv_sqrt_n = 1.0 / math.sqrt(n)
    C, ell, dmu = _start(e, rows)
    out = _Out(rows, record, eig_record, D)
    out.take(0, C, ell, dmu)
    chunks = _row_chunks(rows, 4 * D * D, chunk_elements)
    for t in range(1, e.generations + 1):
        check_cancelled()
        for sl in chunks:
            k = sl.stop - sl.start
            B = np.zeros((k, D, D))
            g = rng_g.standard_gamma(shapes, size=(k, D))
            B[:, np.arange(D), np.arange(D)] = np.sqrt(2.0 * g)
            B[:, below[0], below[1]] = rng_l.standard_normal((k, below[0].size))
            zbar = rng_m.standard_normal((k, D)) * inv_sqrt_n
            _advance(C[sl], ell[sl], dmu[sl], B, zbar, half_log_c)
        out.take(t, C, ell, dmu)
    return out.result()


ENGINES = {"samples": run_block_samples, "sufficient": run_block_sufficient}


# ---------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------


def _generations_iv(name: str, value, generations: int) -> np.ndarray:
    if value is None and name == "eigen_record":
        return np.zeros(0, np.int64)
    if isinstance(value, str):
        if value == "all":
            return np.arange(generations + 1)
        if value == "final":
            return np.array([generations])
        raise ValueError(f"`{name}` must be 'all', 'final' or a list of generations; "
                         f"got {value!r}.")
    arr = np.unique(np.asarray(value, dtype=np.int64))
    if arr.size == 0 or arr[0] < 0 or arr[-1] > generations:
        raise ValueError(f"`{name}` generations must lie in 0..{generations}; got {value!r}.")
    return arr


def _overflow_iv(e: MVGaussianExperiment) -> None:
    """Refuse chains whose covariance could overflow double precision (ddof > 1 makes
    Sigma grow): the largest eigenvalue's envelope, log lambda_max(Sigma_0) + T
    max(gamma_1, 0) plus ten SDs of a step's log chi-square, summed over T."""
    from scipy import special

    top = float(np.log(np.linalg.eigvalsh(e.sigma_start)[-1]))
    g1 = float(lyapunov_spectrum(e.n, e.dim, e.ddof)[0])
    spread = 10 * math.sqrt((e.generations + 1) * float(special.polygamma(1, (e.n - 1) / 2)))
    envelope = top + e.generations * max(g1, 0.0) + spread + math.log(e.dim)
    if envelope > _LOG_LAMBDA_LIMIT:
        raise ValueError(
            f"with n={e.n}, dim={e.dim} and ddof={e.ddof:g} the covariance could overflow "
            f"double precision within {e.generations} generations (log lambda_max could "
            f"reach {envelope:.4g}); use fewer `generations`, a smaller scale or `ddof`.")


def simulate(experiment: MVGaussianExperiment, *, engine: str = "sufficient",
             workers: int | None = None, record: str | Sequence[int] = "all",
             eigen_record: str | Sequence[int] | None = "final",
             chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> MVRun:
    """Run a multivariate experiment with the named engine.

    Parameters
    ----------
    experiment : MVGaussianExperiment
    engine : {'sufficient', 'samples'}
        ``sufficient`` (default, as the 1-D chain's) or ``samples``; same law.
    workers : int or None
        Worker threads (numpy's QR and products release the GIL); None or 0 picks
        automatically. Results are bit-identical for every value.
    record : 'all', 'final' or sequence of int
        Generations at which log det, log trace and the mean's displacement are kept
        (memory: replicates x recorded generations; the working memory of a block is
        bounded by ``chunk_elements`` and O(64 D^2) whatever n and the horizon).
    eigen_record : 'all', 'final', sequence of int or None
        Generations at which the D log eigenvalues are kept (each costs a Jacobi SVD of
        every chain's factor, about as much as 10 to 30 generations at D = 100); None:
        none.
    chunk_elements : int
        Bound on the float64 values a block's working arrays hold at once (does not change
        the results).

    Returns
    -------
    MVRun
    """
    if not isinstance(experiment, MVGaussianExperiment):
        raise TypeError(f"`experiment` must be an MVGaussianExperiment; "
                        f"got {type(experiment).__name__}.")
    if engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {', '.join(sorted(ENGINES))}; "
                         f"got {engine!r}.")
    if workers is not None and not (isinstance(workers, int) and not isinstance(workers, bool)
                                    and workers >= 0):
        raise ValueError(f"`workers` must be a whole number >= 0 (0 = automatic); "
                         f"got {workers!r}.")
    if not (isinstance(chunk_elements, int) and chunk_elements >= 1):
        raise ValueError(f"`chunk_elements` must be a whole number >= 1; "
                         f"got {chunk_elements!r}.")
    e = experiment
    rec = _generations_iv("record", record, e.generations)
    eig = _generations_iv("eigen_record", eigen_record, e.generations)
    _overflow_iv(e)
    slices = block_slices(e.replicates)
    per = e.n * e.dim if engine == "samples" else e.dim * e.dim
    work = float(e.replicates) * e.generations * max(per, e.dim * e.dim)
    nproc = resolve_workers(workers or None, len(slices), work)
    task = ENGINES[engine]
    args = [(e, b, s.stop - s.start, rec, eig, chunk_elements) for b, s in enumerate(slices)]
    parts: list = [None] * len(args)
    start = time.perf_counter()
    for i, part in iter_blocks(task, args, nproc, threads=True):
        parts[i] = part
    elapsed = time.perf_counter() - start
    cat = [np.concatenate([p[k] for p in parts], axis=0) for k in range(4)]
    traj = MVTrajectories(rec, cat[0], cat[1], cat[2], eig, cat[3], e.to_dict())
    return MVRun(traj, engine, nproc, elapsed)

