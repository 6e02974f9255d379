r"""The parameters of one multivariate Gaussian refit experiment, validated on creation.

Generation :math:`t \ge 1` draws n vectors from :math:`N_D(\mu_{t-1}, \Sigma_{t-1})` and
fits the sample mean and :math:`\Sigma_t = S/(n - d)`, S the scatter matrix
:math:`\sum_i (x_i - \bar x)(x_i - \bar x)^\top`. The start is
:math:`\Sigma_0 = \sigma_0^2 I_D` or a given symmetric positive definite matrix
(:func:`load_cov_file`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from collapsecheck.errors import InputError
from collapsecheck.sizes import MAX_N, _is_int, _is_real, sizes_iv

__all__ = ["MAX_COV_FILE_BYTES", "MAX_DIM", "MVGaussianExperiment", "load_cov_file"]

#: Largest dimension accepted (memory per chain is O(D^2); the engines hold a block of
#: 64 chains' D x D factors at once).
MAX_DIM = 1024

#: Largest covariance file read (a 1024 x 1024 matrix at 25 characters a number is 26 MB).
MAX_COV_FILE_BYTES = 64 * 1024 * 1024

#: Relative tolerance of the symmetry check: |C - C^T| <= SYMMETRY_RTOL * max |C|.
SYMMETRY_RTOL = 1e-12


def _mv_experiment_iv(n, dim, generations, replicates, ddof, mu0, sigma0, seed) -> None:
    """Validate the scalar parameters of :class:`MVGaussianExperiment`; raise on the first
    bad one (TypeError for a wrong kind, ValueError for a wrong value; each message names
    the parameter, states the rule and echoes the value)."""
    for name, value in (("n", n), ("dim", dim)):
        if not _is_int(value):
            raise TypeError(f"`{name}` must be a whole number; got {value!r}.")
    for name, value in (("ddof", ddof), ("mu0", mu0), ("sigma0", sigma0)):
        if not _is_real(value):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    if dim < 1:
        raise ValueError(f"`dim` must be at least 1; got {dim}.")
    if dim > MAX_DIM:
        raise ValueError(f"`dim` must be at most {MAX_DIM}; got {dim}.")
    if n > MAX_N:
        raise ValueError(f"`n` must be at most {MAX_N:.0e}; got {n}.")
    if not n > dim:
        raise ValueError(
            f"`n` must exceed `dim` (the scatter matrix of n draws in dimension D has rank "
            f"at most n - 1, so the fit is singular unless n > D); got n={n} with dim={dim}.")
    sizes_iv(generations, replicates, None)
    if not math.isfinite(ddof) or ddof < 0:
        raise ValueError(f"`ddof` must be a finite number >= 0; got {ddof}.")
    if not n - ddof > 0:
        raise ValueError(f"`ddof` must be smaller than `n` (the divisor n - ddof must be "
                         f"positive); got ddof={ddof} with n={n}.")
    if not math.isfinite(mu0):
        raise ValueError(f"`mu0` must be finite; got {mu0}.")
    if not (math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"`sigma0` must be a finite number > 0; got {sigma0}.")
    if seed is not None and not (_is_int(seed) and seed >= 0):
        raise ValueError(f"`seed` must be a whole number >= 0; got {seed!r}.")


def _covariance_iv(covariance, dim: int, *, source: str = "`covariance`",
                   error=ValueError) -> np.ndarray:
    """The covariance as a read-only float64 D x D array, validated: finite, symmetric to
    :data:`SYMMETRY_RTOL` (relative to its largest entry), positive definite (its Cholesky
    factorisation succeeds). ``error`` is the exception class raised for a wrong value."""
    try:
        c = np.array(covariance, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{source} must be a D x D array of real numbers; "
                        f"got {type(covariance).__name__}.") from None
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise error(f"{source} must be a square D x D matrix; got shape {c.shape}.")
    if c.shape[0] != dim:
        raise error(f"{source} must be {dim} x {dim} to match `dim` = {dim}; "
                    f"got {c.shape[0]} x {c.shape[1]}.")
    bad = np.argwhere(~np.isfinite(c))
    if bad.size:
        i, j = bad[0]
        raise error(f"{source} must be finite; entry ({i + 1}, {j + 1}) is {float(c[i, j])!r}.")
    scale = float(np.max(np.abs(c)))
    asym = float(np.max(np.abs(c - c.T)))
    if asym > SYMMETRY_RTOL * scale:
        i, j = np.unravel_index(int(np.argmax(np.abs(c - c.T))), c.shape)
        raise error(f"{source} must be symmetric (to {SYMMETRY_RTOL:g} relative); entries "
                    f"({i + 1}, {j + 1}) = {float(c[i, j])!r} and ({j + 1}, {i + 1}) = "
                    f"{float(c[j, i])!r} "
                    "differ.")
    c = (c + c.T) / 2
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise error(f"{source} must be positive definite; its Cholesky factorisation "
                    f"fails (smallest eigenvalue {float(np.linalg.eigvalsh(c)[0]):.3g}).") from None
    c.flags.writeable = False
    return c


def load_cov_file(path: str | os.PathLike, dim: int | None = None) -> np.ndarray:
    """Read a starting covariance from a CSV file: D lines of D comma-separated numbers.

    Strict: every line must hold D finite numbers (no header, blank lines only at the
    end), the matrix must be symmetric to :data:`SYMMETRY_RTOL` relative to its largest
    entry and positive definite; files larger than :data:`MAX_COV_FILE_BYTES` or with more
    than :data:`MAX_DIM` rows are refused before they are read whole. With ``dim``, the
    matrix must be ``dim x dim``.

    Returns
    -------
    numpy.ndarray
        The read-only float64 matrix, symmetrised exactly (``(C + C^T)/2``).

    Raises
    ------
    InputError
        Naming the file and what is wrong with it (the line, the entry).
    """
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
    except OSError as exc:
        raise InputError(f"cannot read covariance file {name!r}: "
                         f"{exc.strerror or type(exc).__name__}.") from None
    if size > MAX_COV_FILE_BYTES:
        raise InputError(f"covariance file {name!r} is {size} bytes; at most "
                         f"{MAX_COV_FILE_BYTES} are read (a {MAX_DIM} x {MAX_DIM} matrix).")
    rows: list[list[float]] = []
    try:
        with open(name, encoding="utf-8") as fh:
            ended = False
            for lineno, line in enumerate(fh, 1):
                text = line.strip()
                if not text:
                    ended = True
                    continue
                if ended:
                    raise InputError(f"covariance file {name!r}: line {lineno} follows a "
                                     "blank line; blank lines are allowed only at the end.")
                if len(rows) >= MAX_DIM:
                    raise InputError(f"covariance file {name!r} has more than {MAX_DIM} "
                                     "rows.")
                fields = text.split(",")
                try:
                    values = [float(f) for f in fields]
                except ValueError:
                    raise InputError(f"covariance file {name!r}: line {lineno} is not a "
                                     f"list of comma-separated numbers: {text[:80]!r}.") from None
                bad = [v for v in values if not math.isfinite(v)]
                if bad:
                    raise InputError(f"covariance file {name!r}: line {lineno} holds a "
                                     f"non-finite value ({bad[0]!r}).")
                if rows and len(values) != len(rows[0]):
                    raise InputError(f"covariance file {name!r}: line {lineno} has "
                                     f"{len(values)} values, line 1 has {len(rows[0])}.")
                if len(values) > MAX_DIM:
                    raise InputError(f"covariance file {name!r}: line {lineno} has "
                                     f"{len(values)} values; at most {MAX_DIM}.")
                rows.append(values)
    except UnicodeDecodeError:
        raise InputError(f"covariance file {name!r} is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"cannot read covariance file {name!r}: "
                         f"{exc.strerror or type(exc).__name__}.") from None
    if not rows:
        raise InputError(f"covariance file {name!r} is empty.")
    if len(rows) != len(rows[0]):
        raise InputError(f"covariance file {name!r} must hold a square matrix; it has "
                         f"{len(rows)} rows of {len(rows[0])} values.")
    d = len(rows) if dim is None else dim
    return _covariance_iv(rows, d, source=f"covariance file {name!r}", error=InputError)


@dataclass(frozen=True)
class MVGaussianExperiment:
    r"""One multivariate Gaussian refit chain experiment.

    Generation :math:`t \ge 1` draws ``n`` vectors from
    :math:`N_D(\mu_{t-1}, \Sigma_{t-1})` and fits

    .. math::

        \mu_t = \bar x, \qquad
        \Sigma_t = \frac{1}{n - \mathrm{ddof}} \sum_i (x_i - \bar x)(x_i - \bar x)^\top,

    from :math:`\mu_0 = \mathrm{mu0}\,\mathbf 1` and :math:`\Sigma_0 = \sigma_0^2 I_D` (or
    ``covariance``). ``replicates`` independent chains are run.

    Parameters
    ----------
    n : int
        Sample size per generation; ``n > dim`` (else the fit is singular).
    dim : int
        Dimension D, ``1 <= D <=`` :data:`MAX_DIM`.
    generations : int
        Number of refits ``T >= 0``.
    replicates : int
        Number of independent chains, ``>= 1``.
    ddof : float
        ``0 <= ddof < n``; the divisor of the scatter matrix is ``n - ddof``.
    mu0 : float
        Every coordinate of the starting mean.
    sigma0 : float
        :math:`\Sigma_0 = \sigma_0^2 I` when ``covariance`` is None; ``> 0``.
    covariance : array_like or None
        A D x D symmetric positive definite starting covariance (finite; symmetric to
        1e-12 relative); overrides ``sigma0`` (which must then be left at 1).
    seed : int or None
        Entropy of the :class:`numpy.random.SeedSequence` behind every draw; None draws
        fresh entropy and records it.
    """

    #: The model family (:mod:`collapsecheck.families`) these parameters belong to.
    family: ClassVar[str] = "mvgaussian"

    n: int = 32
    dim: int = 10
    generations: int = 100
    replicates: int = 1000
    ddof: float = 0.0
    mu0: float = 0.0
    sigma0: float = 1.0
    covariance: np.ndarray | None = field(default=None, compare=False, repr=False)
    seed: int | None = None

    def __post_init__(self) -> None:
        _mv_experiment_iv(self.n, self.dim, self.generations, self.replicates, self.ddof,
                          self.mu0, self.sigma0, self.seed)
        if self.covariance is not None:
            if self.sigma0 != 1:
                raise ValueError(f"`sigma0` applies only without `covariance` (which sets "
                                 f"Sigma_0 itself); got sigma0={self.sigma0} with a "
                                 "covariance.")
            object.__setattr__(self, "covariance", _covariance_iv(self.covariance, self.dim))
        for name in ("n", "dim", "generations", "replicates"):
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("ddof", "mu0", "sigma0"):
            object.__setattr__(self, name, float(getattr(self, name)))
        seed = np.random.SeedSequence().entropy if self.seed is None else int(self.seed)
        object.__setattr__(self, "seed", seed)

    @property
    def dof(self) -> int:
        """Degrees of freedom of the scatter matrix's Wishart law, ``n - 1``."""
        return self.n - 1

    @property
    def sigma_start(self) -> np.ndarray:
        r""":math:`\Sigma_0` as a D x D array (a new array)."""
        if self.covariance is None:
            return np.eye(self.dim) * self.sigma0**2
        return np.array(self.covariance)

    def to_dict(self) -> dict:
        """The parameters as a plain dict (the ``spec`` of every JSON record); the
        covariance as a list of rows, or None."""
        return {"n": self.n, "dim": self.dim, "generations": self.generations,
                "replicates": self.replicates, "ddof": self.ddof, "mu0": self.mu0,
                "sigma0": self.sigma0,
                "covariance": None if self.covariance is None else self.covariance.tolist(),
                "seed": self.seed}

    def replace(self, **changes) -> MVGaussianExperiment:
        """A copy with some parameters changed, validated again."""
        args = {**self.to_dict(), **changes}
        return MVGaussianExperiment(**args)
