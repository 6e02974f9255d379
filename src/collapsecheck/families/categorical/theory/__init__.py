"""Exact theory of the categorical (token) chain, one module per job.

``chain``       one category's count as a Markov chain on {0..n}: matrices, backward vectors
``exact``       the shared engine: survivors, variance, entropy, monomorphic, tail, moments
``replace``     pure refit: per-category loss/fixation, closed forms, absorption times
``regimes``     accumulate (closed forms), recurrence of lost categories (A7), sampling laws
``prediction``  :func:`predict` and :class:`CategoricalPrediction` (exact keys, methods, notes)
"""

from __future__ import annotations

from collapsecheck.families.categorical.theory.prediction import (
    REGIMES,
    CategoricalPrediction,
    predict,
)
from collapsecheck.families.categorical.theory.regimes import (
    accumulate_gini_simpson_limit,
    accumulate_gini_simpson_mean,
    accumulate_p_monomorphic,
    accumulate_survivors,
    accumulate_tail,
    recurrence,
    sampling_law,
    two_category_temperature,
)
from collapsecheck.families.categorical.theory.replace import (
    absorption_times,
    entropy_mean,
    fixation_probability,
    gini_simpson_mean,
    kimura_absorption_time,
    kimura_generations_to_monomorphic,
    loss_probability,
    mean_generations_to_monomorphic,
    p_monomorphic,
    survival_probability,
    survivors_moments,
    tail_mask,
    tail_summary,
)

__all__ = [
    "REGIMES",
    "CategoricalPrediction",
    "absorption_times",
    "accumulate_gini_simpson_limit",
    "accumulate_gini_simpson_mean",
    "accumulate_p_monomorphic",
    "accumulate_survivors",
    "accumulate_tail",
    "entropy_mean",
    "fixation_probability",
    "gini_simpson_mean",
    "kimura_absorption_time",
    "kimura_generations_to_monomorphic",
    "loss_probability",
    "mean_generations_to_monomorphic",
    "p_monomorphic",
    "predict",
    "recurrence",
    "sampling_law",
    "survival_probability",
    "survivors_moments",
    "tail_mask",
    "tail_summary",
    "two_category_temperature",
]
