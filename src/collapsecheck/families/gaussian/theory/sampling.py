r"""The model's sampling law, shared by every regime: moments of one model draw under
temperature and truncation.

The model fitted at generation :math:`t-1` draws :math:`x = \mu + \tau\sigma Z_C`, where
:math:`Z_C` is the standard normal conditioned on :math:`|Z| \le C` (not clipped; ``C =
None`` or ``inf``: no cut) and :math:`\tau` is the temperature (DESIGN.md, "Definitions
fixed for every command"). :math:`Z_C` is symmetric, so :math:`E[x] = \mu` and all odd
central moments vanish; its even moments are ratios of regularised lower incomplete gammas,
because :math:`Z^2 \sim \chi^2_1 = \mathrm{Gamma}(\tfrac12, 2)` and
:math:`z^{2j}` times the :math:`\chi^2_1` density is :math:`E[Z^{2j}]` times the
:math:`\mathrm{Gamma}(\tfrac12 + j, 2)` density:

.. math::

    \kappa(C) = E[Z_C^2] = \frac{P(\tfrac32, C^2/2)}{P(\tfrac12, C^2/2)}
              = 1 - \frac{2C\varphi(C)}{2\Phi(C) - 1}, \qquad
    \mu_4(C) = E[Z_C^4] = \frac{3\,P(\tfrac52, C^2/2)}{P(\tfrac12, C^2/2)}
             = 3 - \frac{2\varphi(C)(C^3 + 3C)}{2\Phi(C) - 1}.

The closed forms on the right cancel catastrophically for small C (:math:`\kappa \sim
C^2/3`), so for :math:`C^2/2 \le 2` the Kummer form :math:`P(a, x) = x^a e^{-x}
M(1, a+1, x)/\Gamma(a+1)` (DLMF 8.5.1, 13.6.5 applied to the ratio) is used:

.. math::

    \kappa = \frac{2x}{3}\frac{M(1, \tfrac52, x)}{M(1, \tfrac32, x)}, \qquad
    \mu_4 = \frac{4x^2}{5}\frac{M(1, \tfrac72, x)}{M(1, \tfrac32, x)}, \qquad x = C^2/2,

with every term positive (relative accuracy near machine precision down to the smallest
normal C), and the gamma ratio (accurate, tending to 1) above. The variance factor of one
model draw is :math:`f = \tau^2\kappa(C)`: :math:`\mathrm{Var}(x) = f\sigma^2`, and its fourth
central moment is :math:`\tau^4\mu_4(C)\sigma^4`.

References
----------
.. [1] N. L. Johnson, S. Kotz, N. Balakrishnan, *Continuous Univariate Distributions*,
   vol. 1, 2nd ed., Wiley 1994, sec. 10.1 (moments of the doubly truncated normal).
.. [2] NIST DLMF, 8.5.1 and 13.6.5 (incomplete gamma as a confluent hypergeometric).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import special

from collapsecheck.experiment import n_schedule

__all__ = [
    "SamplingLaw",
    "fourth_moment_factor",
    "truncated_fourth_moment",
    "truncated_variance_factor",
    "variance_factor",
]

_KUMMER_MAX_X = 2.0  # x = C^2/2 at or below which the Kummer (all-positive) form is used


def _truncate_iv(truncate) -> float:
    """Validate a cut C (None or inf: none) and return it as a float (inf for none)."""
    if truncate is None:
        return math.inf
    if not isinstance(truncate, numbers.Real) or isinstance(truncate, bool):
        raise TypeError(f"`truncate` must be a real number or None; got {truncate!r}.")
    c = float(truncate)
    if not c > 0:  # also refuses NaN
        raise ValueError(f"`truncate` (the cut C of |x - mu| <= C tau sigma) must be > 0; "
                         f"got {truncate}.")
    return c


def _temperature_iv(temperature) -> float:
    if not isinstance(temperature, numbers.Real) or isinstance(temperature, bool):
        raise TypeError(f"`temperature` must be a real number; got {temperature!r}.")
    tau = float(temperature)
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"`temperature` must be a finite number > 0; got {temperature}.")
    return tau


def truncated_variance_factor(truncate: float | None) -> float:
    r""":math:`\kappa(C) = \mathrm{Var}(Z \mid |Z| \le C)` for a standard normal Z.

    Parameters
    ----------
    truncate : float or None
        The cut C > 0; None or ``inf`` for no cut (then 1).

    Returns
    -------
    float
        In (0, 1]; :math:`\sim C^2/3` as :math:`C \to 0` (it underflows to 0 only for
        C below about 1e-154), 1 at C = inf.
    """
    c = _truncate_iv(truncate)
    if math.isinf(c):
        return 1.0
    x = 0.5 * c * c
    if x <= _KUMMER_MAX_X:
        return (c * c / 3.0) * float(special.hyp1f1(1.0, 2.5, x) / special.hyp1f1(1.0, 1.5, x))
    return float(special.gammainc(1.5, x) / special.gammainc(0.5, x))


def truncated_fourth_moment(truncate: float | None) -> float:
    r""":math:`\mu_4(C) = E[Z^4 \mid |Z| \le C]` for a standard normal Z (3 at C = inf,
    :math:`\sim C^4/5` as :math:`C \to 0`)."""
    c = _truncate_iv(truncate)
    if math.isinf(c):
        return 3.0
    x = 0.5 * c * c
    if x <= _KUMMER_MAX_X:
        c2 = c * c
        return (c2 * c2 / 5.0) * float(special.hyp1f1(1.0, 3.5, x)
                                       / special.hyp1f1(1.0, 1.5, x))
    return 3.0 * float(special.gammainc(2.5, x) / special.gammainc(0.5, x))


def variance_factor(temperature: float = 1.0, truncate: float | None = None) -> float:
    r"""The variance of one model draw in units of the fitted :math:`\sigma^2`:
    :math:`f = \tau^2 \kappa(C)`."""
    tau = _temperature_iv(temperature)
    return tau * tau * truncated_variance_factor(truncate)


def fourth_moment_factor(temperature: float = 1.0, truncate: float | None = None) -> float:
    r"""The fourth central moment of one model draw in units of :math:`\sigma^4`:
    :math:`\tau^4 \mu_4(C)`."""
    tau = _temperature_iv(temperature)
    return tau**4 * truncated_fourth_moment(truncate)


@dataclass(frozen=True)
class SamplingLaw:
    r"""The law of one model draw, :math:`x = \mu + \tau\sigma Z_C`, in units of sigma.

    Attributes
    ----------
    temperature : float
        :math:`\tau > 0`.
    truncate : float or None
        The cut C > 0 (None: no cut; ``inf`` is normalised to None).
    """

    temperature: float = 1.0
    truncate: float | None = None

    def __post_init__(self) -> None:
        tau = _temperature_iv(self.temperature)
        c = _truncate_iv(self.truncate)
        object.__setattr__(self, "temperature", tau)
        object.__setattr__(self, "truncate", None if math.isinf(c) else c)

    @property
    def kappa(self) -> float:
        """Variance of the truncated standard normal."""
        return truncated_variance_factor(self.truncate)

    @property
    def mu4(self) -> float:
        """Fourth moment of the truncated standard normal."""
        return truncated_fourth_moment(self.truncate)

    @property
    def variance(self) -> float:
        r""":math:`f = \tau^2\kappa`, the variance of a draw per unit :math:`\sigma^2`."""
        return self.temperature**2 * self.kappa

    @property
    def fourth(self) -> float:
        r""":math:`\tau^4\mu_4`, the fourth central moment per unit :math:`\sigma^4`."""
        return self.temperature**4 * self.mu4

    @property
    def is_gaussian(self) -> bool:
        """True without truncation: draws are exactly normal (tempered or not)."""
        return self.truncate is None


# ---------------------------------------------------------------------------------------
# Shared numerics of the regime modules (private)
# ---------------------------------------------------------------------------------------

#: Generations processed at once by the regime recursions: memory stays bounded at any T.
CHUNK = 1 << 20


def _chunks(n: int, n_growth: float, generations: int,
            chunk: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks ``(t, n_t)`` for t = 1..generations, at most ``chunk`` at a time."""
    for start in range(1, generations + 1, chunk):
        t = np.arange(start, min(start + chunk, generations + 1), dtype=np.int64)
        yield t, n_schedule(n, n_growth, t)


class _LogSumExp:
    """Running natural log of a sum of exponentials, fed in blocks."""

    def __init__(self) -> None:
        self.value = -math.inf

    def add(self, logs: np.ndarray) -> None:
        if logs.size == 0:
            return
        top = max(float(np.max(logs)), self.value)
        if top == -math.inf:
            return
        total = math.exp(self.value - top) + float(np.sum(np.exp(logs - top)))
        self.value = top + math.log(total)
