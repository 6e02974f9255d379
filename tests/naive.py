"""Naive references shared by the regime theory tests: the actual draws, made plainly."""

from __future__ import annotations

from scipy import special


def model_draws(rng, shape, temperature, truncate):
    """Standardised model draws: tau Z, Z ~ N(0,1) conditioned on |Z| <= C (inverse CDF)."""
    if truncate is None:
        return temperature * rng.standard_normal(shape)
    lo = special.ndtr(-truncate)
    return temperature * special.ndtri(lo + (1 - 2 * lo) * rng.random(shape))
