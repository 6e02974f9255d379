r"""Simultaneous bands for the ECDF of values that should be uniform on (0, 1), and the
ECDF-difference plot drawn with them (calibration's p-values, the reports' PIT values).

Two bands, both exactly simultaneous:

* :func:`ecdf_band`: the constant half-width of the two-sided Kolmogorov band, the
  ``level`` quantile of :math:`D_N = \sup_u |F_N(u) - u|` (scipy's exact ``kstwo``), valid
  over the whole of (0, 1).
* :func:`simultaneous_band`: the band of Säilynoja, Bürkner and Vehtari [1]_ at the
  evaluation points :math:`z_i = i/K`, :math:`i = 1..K-1`. At each point it is the central
  pointwise interval of :math:`N F_N(z_i) \sim \mathrm{Bin}(N, z_i)` at level
  :math:`1 - \gamma`, with :math:`\gamma` lowered until the probability that the whole
  ECDF stays inside at every point is at least ``level``. That probability is computed
  exactly (their "optimisation" method): the counts :math:`C_i = N F_N(z_i)` form a
  Markov chain,

  .. math::

      C_1 \sim \mathrm{Bin}(N, z_1), \qquad
      C_{i+1} - C_i \mid C_i \sim \mathrm{Bin}\!\left(N - C_i,
      \frac{z_{i+1} - z_i}{1 - z_i}\right),

  so the coverage is a product of sub-stochastic transition matrices restricted to the
  band (:func:`band_coverage`). The band is narrower than Kolmogorov's near 0 and 1,
  where a departure in the tails shows first.

References
----------
.. [1] T. Säilynoja, P.-C. Bürkner and A. Vehtari, "Graphical test for discrete
   uniformity and its applications in goodness-of-fit evaluation and multiple sample
   comparison", Statistics and Computing 32, 32 (2022).
"""

from __future__ import annotations

import functools
import math
import numbers
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

__all__ = ["SimultaneousBand", "band_coverage", "ecdf_band", "ecdf_counts",
           "ecdf_difference_svg", "simultaneous_band"]

#: Evaluation points of :func:`simultaneous_band` by default: K = max(2, min(N, this)).
DEFAULT_POINTS = 100


def ecdf_band(k: int, level: float = 0.95) -> float:
    """Half-width of the simultaneous ``level`` band of an empirical CDF of ``k`` values:
    the ``level`` quantile of the two-sided Kolmogorov statistic D_k."""
    return float(stats.kstwo.ppf(level, k))


@dataclass(frozen=True)
class SimultaneousBand:
    """A simultaneous band for the ECDF of ``samples`` uniform values, at ``points``.

    ``lower`` and ``upper`` are counts: the ECDF at ``points[i]`` lies in
    ``[lower[i], upper[i]] / samples`` for all i at once with probability ``coverage``
    (exact, at least ``level``) when the values are i.i.d. uniform; ``gamma`` is the
    pointwise level that gives it.
    """

    samples: int
    points: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    gamma: float
    level: float
    coverage: float

    def difference_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The band on the scale of the plot: ``(lower/N - z, upper/N - z)``."""
        return self.lower / self.samples - self.points, self.upper / self.samples - self.points

    def outside(self, u) -> np.ndarray:
        """Boolean per evaluation point: does the ECDF of ``u`` leave the band there?"""
        c = ecdf_counts(u, self.points)
        return (c < self.lower) | (c > self.upper)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.difference_bounds()
        return {"samples": self.samples, "points": self.points.tolist(),
                "lower": lo.tolist(), "upper": hi.tolist(), "gamma": self.gamma,
                "level": self.level, "coverage": self.coverage,
                "method": "Säilynoja, Bürkner and Vehtari (2022), exact coverage"}


def ecdf_counts(u, points) -> np.ndarray:
    """``N F_N(z)`` at each of ``points``: how many of ``u`` are at or below it."""
    s = np.sort(np.asarray(u, dtype=float).ravel())
    return np.searchsorted(s, np.asarray(points, dtype=float), side="right")


def _band_iv(samples, points, level) -> tuple[int, int, float]:
    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral):
        raise TypeError(f"`samples` must be a whole number; got {samples!r}.")
    if samples < 1:
        raise ValueError(f"`samples` must be at least 1; got {samples}.")
    if points is None:
        points = max(2, min(int(samples), DEFAULT_POINTS))
    if isinstance(points, bool) or not isinstance(points, numbers.Integral):
        raise TypeError(f"`points` must be a whole number or None; got {points!r}.")
    if points < 2:
        raise ValueError(f"`points` must be at least 2 (K intervals, K - 1 interior "
                         f"evaluation points); got {points}.")
    if not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"`level` must lie in (0, 1); got {level!r}.")
    return int(samples), int(points), float(level)


def _log_binom_pmf(k: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """log of Bin(n, p) at k, -inf outside 0..n (vectorised, no scipy.stats overhead)."""
    ok = (k >= 0) & (k <= n)
    kk, nn = np.where(ok, k, 0), np.where(ok, n, 0)
    with np.errstate(divide="ignore"):
        out = (special.gammaln(nn + 1) - special.gammaln(kk + 1) - special.gammaln(nn - kk + 1)
               + special.xlogy(kk, p) + special.xlog1py(nn - kk, -p))
    return np.where(ok, out, -np.inf)


def band_coverage(samples: int, points, lower, upper) -> float:
    """Exact probability that the ECDF of ``samples`` i.i.d. uniforms has its count at
    every ``points[i]`` (increasing, in (0, 1)) within ``[lower[i], upper[i]]``.

    Forward recursion over the Markov chain of counts (module docstring); each step
    multiplies by the binomial transition matrix restricted to the band.
    """
    z = np.asarray(points, dtype=float)
    lo = np.asarray(lower, dtype=np.int64)
    hi = np.asarray(upper, dtype=np.int64)
    if not (z.ndim == 1 and z.size == lo.size == hi.size and z.size >= 1
            and np.all(np.diff(z) > 0) and z[0] > 0 and z[-1] < 1):
        raise ValueError("`points` must be increasing in (0, 1), one `lower` and `upper` "
                         "count per point.")
    if np.any(lo > hi):
        return 0.0
    state = np.arange(lo[0], hi[0] + 1)
    prob = np.exp(_log_binom_pmf(state, np.full(state.shape, samples), float(z[0])))
    for i in range(1, z.size):
        q = (z[i] - z[i - 1]) / (1 - z[i - 1])
        nxt = np.arange(lo[i], hi[i] + 1)
        step = np.exp(_log_binom_pmf(nxt[None, :] - state[:, None],
                                     (samples - state)[:, None], float(q)))
        prob = prob @ step
        state = nxt
    return float(min(prob.sum(), 1.0))


def _pointwise(samples: int, z: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    lo = stats.binom.ppf(gamma / 2, samples, z).astype(np.int64)
    hi = stats.binom.ppf(1 - gamma / 2, samples, z).astype(np.int64)
    return lo, hi


@functools.lru_cache(maxsize=32)
def _band(samples: int, points: int, level: float) -> SimultaneousBand:
    z = np.arange(1, points) / points
    alpha = 1 - level

    def cover(g):
        return band_coverage(samples, z, *_pointwise(samples, z, g))

    # Bonferroni's gamma covers at least `level`; the pointwise alpha at most reaches it
    good, bad = alpha / (points - 1), alpha
    if cover(bad) >= level:
        good = bad
    else:
        for _ in range(40):  # bisection on log gamma; the coverage is a step function
            mid = math.sqrt(good * bad)
            if cover(mid) >= level:
                good = mid
            else:
                bad = mid
            if bad / good < 1 + 1e-4:
                break
    lo, hi = _pointwise(samples, z, good)
    return SimultaneousBand(samples, z, lo, hi, good, level, cover(good))


def simultaneous_band(samples: int, *, points: int | None = None,
                      level: float = 0.95) -> SimultaneousBand:
    """The simultaneous ``level`` band of Säilynoja et al. (2022) for the ECDF of
    ``samples`` i.i.d. uniform values, at the ``points - 1`` interior points ``i/points``
    (``points`` defaults to ``max(2, min(samples, 100))``).

    Parameters
    ----------
    samples : int
        N, the number of values whose ECDF is drawn.
    points : int, optional
        K: the band is evaluated at z = 1/K, ..., (K-1)/K.
    level : float
        Simultaneous coverage wanted (0.95).

    Returns
    -------
    SimultaneousBand
        With its exact ``coverage`` (:func:`band_coverage`), the largest attainable at or
        above ``level`` for the pointwise ``gamma`` found (the coverage is a step function
        of ``gamma``, so it is seldom exactly ``level``).

    Notes
    -----
    ``gamma`` is found by bisection on :math:`\\log\\gamma` between Bonferroni's
    :math:`(1 - \\mathrm{level})/(K - 1)` (coverage at least ``level`` by the union bound)
    and :math:`1 - \\mathrm{level}`, keeping the end whose exact coverage is at least
    ``level``. See the module docstring for the recursion and the reference.
    """
    samples, points, level = _band_iv(samples, points, level)
    return _band(samples, points, level)


def ecdf_difference_svg(u, band: SimultaneousBand, *, title: str, xlabel: str = "u",
                        salt: str = "") -> str:
    """The ECDF-difference plot of ``u`` (values that should be uniform): ECDF(z) - z at
    the band's points, the band shaded, and points where the curve leaves it marked.
    Returns an inline ``<svg>`` (:mod:`collapsecheck.report.figures`)."""
    import matplotlib

    from collapsecheck.report.figures import _RC, WIDTH, _figure, _label, _title_width, _to_svg

    z = np.concatenate([[0.0], band.points, [1.0]])
    diff = np.concatenate([[0.0], ecdf_counts(u, band.points) / band.samples - band.points,
                           [0.0]])
    lo, hi = band.difference_bounds()
    lo, hi = np.concatenate([[0.0], lo, [0.0]]), np.concatenate([[0.0], hi, [0.0]])
    out = (diff < lo - 1e-12) | (diff > hi + 1e-12)
    with matplotlib.rc_context(_RC):
        fig = _figure(WIDTH, 4.2)
        ax = fig.add_subplot()
        ax.fill_between(z, lo, hi, step="mid", color="#94a3b8", alpha=0.3, lw=0,
                        label=f"simultaneous {band.level:.0%} band (coverage "
                              f"{band.coverage:.3f})")
        ax.step(z, diff, where="mid", color="#2563eb", lw=1.1, label="ECDF(u) − u")
        if out.any():
            ax.plot(z[out], diff[out], "o", color="#dc2626", ms=4.0,
                    label=f"outside the band ({int(out.sum())} of {band.points.size} points)")
        ax.axhline(0, color="#64748b", lw=0.6)
        ax.set_xlim(0, 1)
        ax.set_xlabel(_label(xlabel))
        ax.set_ylabel("ECDF(u) − u")
        ax.set_title(_label(title, _title_width(WIDTH)))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
        return _to_svg(fig, salt or f"pit-{zlib.crc32(title.encode()):08x}")
