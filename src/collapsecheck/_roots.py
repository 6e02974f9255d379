"""A bracketing root finder for the theory's quantiles, without importing scipy.optimize.

Importing scipy.optimize loads scipy.linalg, scipy.sparse and the HiGHS solvers, which
costs more start-up than the whole ``theory`` command needs; its quantiles need only the
root of one monotone scalar function in a bracket. :func:`brentq` is Brent's method
(R. P. Brent, *Algorithms for Minimization without Derivatives*, 1973, ch. 4): inverse
quadratic or secant steps inside a bracket that always shrinks, and a bisection whenever
such a step would not shrink it fast enough, so it converges at least as surely as
bisection. Its tolerances mean what they mean for ``scipy.optimize.brentq``: the root is
returned once it is bracketed within ``xtol + rtol * |x|``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["brentq"]


def _value(f: Callable[[float], float], x: float) -> float:
    y = float(f(x))
    if math.isnan(y):
        raise ValueError(f"the function value at x={x!r} is NaN")
    return y


def brentq(f: Callable[[float], float], a: float, b: float, *, xtol: float = 2e-12,
           rtol: float = 4 * 2.220446049250313e-16, maxiter: int = 100) -> float:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` differ in sign, to within
    ``xtol + rtol * |root|``."""
    if not (xtol > 0 and rtol > 0):
        raise ValueError("`xtol` and `rtol` must be positive")
    fa, fb = _value(f, a), _value(f, b)
    if fa == 0:
        return float(a)
    if fb == 0:
        return float(b)
    if (fa > 0) == (fb > 0):
        raise ValueError("f(a) and f(b) must have different signs")
    a, b = float(a), float(b)
    c, fc = a, fa  # b is the best estimate; the root lies between b and c
    step = last = b - a
    for _ in range(maxiter):
        if (fb > 0) == (fc > 0):  # keep the root bracketed by b and c
            c, fc = a, fa
            step = last = b - a
        if abs(fc) < abs(fb):  # b is the end nearer the root
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 0.5 * (xtol + rtol * abs(b))
        half = 0.5 * (c - b)
        if abs(half) <= tol or fb == 0:
            return b
        if abs(last) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # two points: secant
                p, q = 2 * half * s, 1 - s
            else:  # three points: inverse quadratic interpolation
                qa, r = fa / fc, fb / fc
                p = s * (2 * half * qa * (qa - r) - (b - a) * (r - 1))
                q = (qa - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            else:
                p = -p
            if 2 * p < min(3 * half * q - abs(tol * q), abs(last * q)):
                last, step = step, p / q  # accept the interpolated step
            else:
                step = last = half  # bisect
        else:
            step = last = half  # bisect
        a, fa = b, fb
        b += step if abs(step) > tol else math.copysign(tol, half)
        fb = _value(f, b)
    raise RuntimeError(f"no root found to the tolerance in {maxiter} iterations")
