"""The parameters of one recursive-refit experiment, validated on creation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from collapsecheck.families.gaussian import SPEC
from collapsecheck.sizes import (  # noqa: F401 - shared by every family, re-exported
    MAX_GENERATIONS,
    MAX_N,
    MAX_REPLICATES,
    _is_int,
    _is_real,
    sizes_iv,
)

__all__ = ["ARTICLE", "REGIMES", "Experiment", "n_at", "n_schedule"]

#: The data regimes (DESIGN.md fixes their definitions).
REGIMES = ("replace", "accumulate", "accumulate-subsample", "mix")


def _experiment_iv(n, generations, replicates, ddof, mu0, sigma0, seed) -> None:
    """Validate every parameter of :class:`Experiment`; raise on the first bad one.

    TypeError for the wrong kind of value, ValueError for a wrong value. Each message
    names the parameter in backticks, states the rule and echoes the bad value.
    """
    if not _is_int(n):
        raise TypeError(f"`n` must be a whole number; got {n!r}.")
    sizes_iv(generations, replicates, seed)
    for name, value in (("ddof", ddof), ("mu0", mu0), ("sigma0", sigma0)):
        if not _is_real(value):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    if n < 2:
        raise ValueError(f"`n` must be at least 2 (a spread needs two draws); got {n}.")
    if n > MAX_N:
        raise ValueError(f"`n` must be at most {MAX_N:.0e} (beyond it the chi-square's degrees "
                         f"of freedom are not exact in double precision); got {n}.")
    if not math.isfinite(ddof) or ddof < 0:
        raise ValueError(f"`ddof` must be a finite number >= 0; got {ddof}.")
    if not n - ddof > 0:
        raise ValueError(
            f"`ddof` must be smaller than `n` (the divisor n - ddof must be positive); "
            f"got ddof={ddof} with n={n}."
        )
    if not math.isfinite(mu0):
        raise ValueError(f"`mu0` must be finite; got {mu0}.")
    if not (math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"`sigma0` must be a finite number > 0; got {sigma0}.")


def _regime_iv(regime, fresh_fraction, n_growth, temperature, truncate) -> None:
    """Validate the regime parameters of :class:`Experiment` (same conventions)."""
    if regime not in REGIMES:
        raise ValueError(f"`regime` must be one of {', '.join(REGIMES)}; got {regime!r}.")
    for name, value in (("n_growth", n_growth), ("temperature", temperature)):
        if not _is_real(value):
            raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    for name, value in (("fresh_fraction", fresh_fraction), ("truncate", truncate)):
        if value is not None and not _is_real(value):
            raise TypeError(f"`{name}` must be a real number or None; got {value!r}.")
    if regime == "mix":
        if fresh_fraction is None:
            raise ValueError("`regime` 'mix' needs `fresh_fraction` (the share L of each "
                             "generation's n draws taken from the original N(mu0, sigma0^2)).")
        if not (math.isfinite(fresh_fraction) and 0 <= fresh_fraction <= 1):
            raise ValueError(f"`fresh_fraction` must lie in [0, 1]; got {fresh_fraction}.")
    elif fresh_fraction is not None:
        raise ValueError(f"`fresh_fraction` applies only to `regime` 'mix'; got it with "
                         f"{regime!r}.")
    if not (math.isfinite(n_growth) and 0 <= n_growth <= 10):
        raise ValueError(f"`n_growth` (the exponent P of n_t = ceil(n t^P)) must lie in "
                         f"[0, 10]; got {n_growth}.")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"`temperature` must be a finite number > 0; got {temperature}.")
    if truncate is not None and not (truncate > 0 and not math.isnan(truncate)):
        raise ValueError(f"`truncate` (the cut C of |x - mu| <= C sigma) must be > 0; "
                         f"got {truncate}.")


def n_at(n: int, n_growth: float, t: int) -> int:
    r"""The sample size of generation ``t >= 1``: :math:`n_t = \lceil n t^P \rceil`
    (DESIGN.md). A product within 1e-12 (relative) of a whole number counts as that number,
    so that rounding in ``t ** P`` cannot add a draw (27 ** (1/3) is 3.0000000000000004)."""
    if n_growth == 0 or t <= 1:
        return n
    x = n * float(t) ** n_growth
    r = round(x)
    if abs(x - r) <= 1e-12 * x:
        return int(r)
    return math.ceil(x)


def n_schedule(n: int, n_growth: float, t) -> np.ndarray:
    r""":math:`n_t` (as exact whole floats) for an array of generations ``t >= 1``: the
    vectorised :func:`n_at`, equal to it everywhere.

    The same product ``n * t**P`` and the same rule (within 1e-12 of a whole number counts
    as it, else the ceiling). The outcome could change with an ulp of the product (numpy's
    ``pow`` against Python's) only where its distance to the nearest whole number is within
    1e-14 (relative) of the 1e-12 threshold, or, for products above 1e12 (where every
    product is within 1e-12 of a whole number and is rounded), where it lies within a few
    ulps of a half-integer; there :func:`n_at` itself decides.
    """
    t = np.asarray(t, dtype=float)
    if n_growth == 0:
        return np.full(t.shape, float(n))
    x = n * t**n_growth
    r = np.rint(x)
    gap = np.abs(x - r)
    out = np.where(gap <= 1e-12 * x, r, np.ceil(x))
    out[t <= 1] = n
    near = (np.abs(gap - 1e-12 * x) <= 1e-14 * x) | (np.abs(gap - 0.5) <= 8 * np.spacing(x))
    for i in np.flatnonzero(near & (t > 1)):
        out.flat[i] = n_at(n, n_growth, int(t.flat[i]))
    return out


@dataclass(frozen=True)
class Experiment:
    r"""One Gaussian refit chain experiment (the article's, by default).

    Generation :math:`t \ge 1` draws ``n`` values from
    :math:`N(\mu_{t-1}, \sigma_{t-1}^2)` and fits

    .. math::

        \mu_t = \bar x, \qquad \sigma_t^2 = \frac{1}{n - \mathrm{ddof}} \sum_i (x_i - \bar x)^2,

    starting from :math:`(\mu_0, \sigma_0)`. ``replicates`` independent chains are run.

    Parameters
    ----------
    n : int
        Sample size per generation, ``n >= 2``.
    generations : int
        Number of refits ``T >= 0``; generation 0 is the starting model.
    replicates : int
        Number of independent chains (the article's "experiments"), ``>= 1``.
    ddof : float
        Delta degrees of freedom of the variance fit, real with ``0 <= ddof < n``
        (numpy's ``std`` default, used by the article, is 0).
    mu0, sigma0 : float
        The starting model; ``sigma0 > 0``.
    seed : int or None
        Entropy of the :class:`numpy.random.SeedSequence` that drives every draw.
        ``None`` draws fresh entropy from the operating system and records it, so
        the experiment can always be reproduced from ``seed``.
    regime : {'replace', 'accumulate', 'accumulate-subsample', 'mix'}
        What each generation fits to (DESIGN.md): the n new draws (``replace``, the
        article's chain); all n t draws so far (``accumulate``); n draws taken without
        replacement from that pool (``accumulate-subsample``); or n draws of which
        ``round(fresh_fraction * n)`` come from the original :math:`N(\mu_0, \sigma_0^2)`
        (``mix``, Python's ``round``: halves to even).
    fresh_fraction : float or None
        The share L of fresh draws, in [0, 1]; required by ``mix``, refused otherwise.
    n_growth : float
        P >= 0: generation t >= 1 draws :math:`n_t = \lceil n t^P \rceil` (0: always n).
    temperature : float
        :math:`\tau > 0`: the model samples :math:`N(\mu, (\tau\sigma)^2)`.
    truncate : float or None
        C > 0: the model samples :math:`N(\mu, (\tau\sigma)^2)` conditioned on
        :math:`|x - \mu| \le C \tau\sigma` (not clipped); None: no truncation.
        Temperature and truncation act on the model's draws only (generation 1's included);
        fresh draws of ``mix`` come from the original distribution untouched.
    """

    n: int = 1000
    generations: int = 1000
    replicates: int = 1000
    ddof: float = 0.0
    mu0: float = 0.0
    sigma0: float = 1.0
    seed: int | None = field(default=None)
    regime: str = "replace"
    fresh_fraction: float | None = None
    n_growth: float = 0.0
    temperature: float = 1.0
    truncate: float | None = None

    def __post_init__(self) -> None:
        _experiment_iv(
            self.n, self.generations, self.replicates, self.ddof, self.mu0, self.sigma0, self.seed
        )
        _regime_iv(self.regime, self.fresh_fraction, self.n_growth, self.temperature,
                   self.truncate)
        if self.n_growth and self.generations and n_at(self.n, self.n_growth,
                                                       self.generations) > MAX_N:
            raise ValueError(
                f"with `n_growth` {self.n_growth:g}, generation {self.generations} would draw "
                f"more than {MAX_N:.0e} values; use fewer `generations` or a smaller "
                "`n_growth`.")
        for name in ("n_growth", "temperature"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("fresh_fraction", "truncate"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))
        if self.truncate is not None and math.isinf(self.truncate):
            object.__setattr__(self, "truncate", None)  # no cut at all
        # Normalise numpy scalars to Python ones so records serialise cleanly.
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "generations", int(self.generations))
        object.__setattr__(self, "replicates", int(self.replicates))
        object.__setattr__(self, "ddof", float(self.ddof))
        object.__setattr__(self, "mu0", float(self.mu0))
        object.__setattr__(self, "sigma0", float(self.sigma0))
        seed = np.random.SeedSequence().entropy if self.seed is None else int(self.seed)
        object.__setattr__(self, "seed", seed)

    @property
    def dof(self) -> int:
        """Degrees of freedom of the sum of squares, ``n - 1``."""
        return self.n - 1

    @property
    def is_base(self) -> bool:
        """True for the article's chain: replace, fixed n, temperature 1, no truncation."""
        return (self.regime == "replace" and self.n_growth == 0 and self.temperature == 1
                and self.truncate is None)

    def n_at(self, t: int) -> int:
        """Draws of generation ``t >= 1`` (see :func:`n_at`)."""
        return n_at(self.n, self.n_growth, t)

    def fresh_at(self, t: int) -> int:
        """Fresh draws (from the original distribution) among generation t's n_t:
        ``round(fresh_fraction * n_t)`` under ``mix`` (halves to even), else 0."""
        if self.regime != "mix":
            return 0
        return round(self.fresh_fraction * self.n_at(t))

    def to_dict(self) -> dict:
        """The parameters as a plain dict (the ``spec`` of every JSON record)."""
        return asdict(self)

    def replace(self, **changes) -> Experiment:
        """A copy with some parameters changed, validated again."""
        return Experiment(**{**self.to_dict(), **changes})


#: The experiment of the source article: n = 1000, 1000 generations, 1000 replicates,
#: numpy's default ``std`` (ddof = 0), starting from N(0, 1). Declared with the family
#: (``SPEC.defaults``, the defaults of the command line's options), so that reading the
#: declaration loads no numpy.
ARTICLE = SPEC.defaults
