"""Checks of the categorical chain against its exact theory (profile ``type`` names).

The per-generation statistics of a token chain are not i.i.d. steps as in the Gaussian
chain (the survivors and the entropy only fall, and their increments depend on the whole
law), so these checks use what is exact instead:

* ``categorical_gini_mean``: the mean of the Gini-Simpson index 1 - sum p_T^2 over
  independent chains against its closed form E = (1 - sum p0^2)(1 - 1/n)^T; the index
  lies in [0, 1], so its mean is normal by the CLT; z-test with the sample SD.
* ``categorical_survivors_mean``: the mean number of surviving categories at T against
  the exact expectation, z-test with the exact standard deviation (both from the
  per-category binomial chains; the variance from the lumpability of neutral refit).
* ``categorical_gini_martingale``: every generation of every chain at once.
  E[G_t | past] = (1 - 1/n) G_{t-1} exactly (the heterozygosity recursion of neutral
  Wright-Fisher drift), so D_t = G_t - (1 - 1/n) G_{t-1} is a martingale difference
  sequence; the self-normalised sum sum D / sqrt(sum D^2) over independent chains is
  N(0, 1) in the limit (martingale CLT, Hall and Heyde 1980, Th. 3.2). A wrong n, or a
  refit that is not by plain frequencies, biases every D_t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from collapsecheck import stats
from collapsecheck.checks.base import Check, Outcome

__all__ = ["CHECK_TYPES", "CategoricalCheck", "GiniMartingale", "GiniMean", "SurvivorsMean"]

_POWER = 0.9


def _normal_isf(p: float) -> float:
    from scipy.stats import norm

    return float(norm.isf(p))


@dataclass(frozen=True)
class CategoricalCheck(Check):
    """A check of the categorical chain: the family's parameters beside the shared ones
    (``ddof``, ``mu0`` and ``sigma0`` are not used by this family)."""

    family: ClassVar[str] = "categorical"
    #: A design every check type of the family accepts (tests and listings use it).
    example: ClassVar[dict] = {"categories": 10, "n": 20, "generations": 10,
                               "replicates": 200}
    text_fields: ClassVar[tuple[str, ...]] = ("id", "engine", "regime", "init")
    optional_fields: ClassVar[tuple[str, ...]] = ("fresh_fraction", "zipf_s", "tail_rank",
                                                  "top_k", "categories")

    categories: int | None = 10
    init: str = "uniform"
    zipf_s: float | None = None
    tail_rank: int | None = None
    regime: str = "replace"
    fresh_fraction: float | None = None
    alpha: float = 0.0
    temperature: float = 1.0
    top_k: int | None = None

    def default_id(self) -> str:
        law = self.init if self.init != "zipf" else f"zipf{self.zipf_s or 1:g}"
        kind = self.type.removeprefix(f"{self.family}_")
        return (f"{self.family}.{kind}.K{self.categories}.{law}.n{self.n}."
                f"T{self.generations}.{self.engine}")

    def experiment(self, seed: int, replicates: int | None = None):
        from collapsecheck.families.categorical.parameters import CategoricalExperiment

        return CategoricalExperiment(
            n=self.n, generations=self.generations, seed=seed,
            replicates=self.replicates if replicates is None else replicates,
            categories=self.categories, init=self.init, zipf_s=self.zipf_s,
            tail_rank=self.tail_rank, regime=self.regime, fresh_fraction=self.fresh_fraction,
            alpha=self.alpha, temperature=self.temperature, top_k=self.top_k)

    def simulator(self, workers=None, scheduler=None):
        """The family's engines (local workers; the records do not depend on them)."""
        from collapsecheck.families.categorical.engines import simulate

        engine = self.engine

        def run(experiment, record):
            return simulate(experiment, engine=engine, workers=workers).records

        run.engine = engine  # type: ignore[attr-defined]
        return run

    def stage_cost(self, replicates: int, cores: int):
        """Time and memory of one stage on the family's engines
        (:mod:`collapsecheck.families.categorical.costs`)."""
        from collapsecheck.families.categorical.costs import stage_cost

        return stage_cost(self, replicates, cores)

    def prediction(self):
        from collapsecheck.families.categorical.theory import predict

        e = self.experiment(seed=0, replicates=1)
        return predict(e.p0, e.n, e.generations, tail_rank=e.tail_rank, regime=e.regime,
                       alpha=e.alpha, fresh_fraction=e.fresh_fraction or 0.0,
                       temperature=e.temperature, top_k=e.top_k)

    def law(self) -> str:
        return (f"K={self.categories} categories, {self.init} start, n={self.n} tokens per "
                "generation")


def _plain_refit_iv(check: CategoricalCheck) -> None:
    """E[G_t | past] = (1 - 1/n) G_(t-1) holds for refit by plain frequencies only."""
    if check.regime != "replace" or check.alpha or check.temperature != 1 or check.top_k:
        raise ValueError(f"check {check.id!r}: the closed form of E[Gini-Simpson] holds for "
                         "plain refit (regime replace, no smoothing, temperature or top-k).")


@dataclass(frozen=True)
class GiniMean(CategoricalCheck):
    type: ClassVar[str] = "categorical_gini_mean"

    def _exact(self) -> float:
        p0 = self.experiment(seed=0, replicates=1).p0
        return float((1.0 - np.sum(p0 * p0)) * (1.0 - 1.0 / self.n) ** self.generations)

    def validate_design(self) -> None:
        _plain_refit_iv(self)
        p0 = self.experiment(seed=0, replicates=1).p0
        if self._exact() < 1e-3 * (1.0 - float(np.sum(p0 * p0))):
            raise ValueError(f"check {self.id!r}: E[Gini-Simpson] falls below 1e-3 of its "
                             f"start by T={self.generations} (n={self.n}): nearly every chain "
                             "holds one category by then and the mean has nothing to test. "
                             "Use a shorter horizon or a larger n.")

    def statement(self) -> str:
        return (f"E[1 - sum p_T^2] at T={self.generations} ({self.law()}) equals "
                "(1 - sum p0^2)(1 - 1/n)^T")

    def test_name(self) -> str:
        return "two-sided z-test of the mean Gini-Simpson index with the sample SD"

    def run(self, experiment, simulator) -> Outcome:
        g = np.asarray(simulator(experiment, "final").gini_simpson, float)[:, -1]
        exact = self._exact()
        se = float(g.std(ddof=1)) / math.sqrt(g.size)
        if se == 0:  # every chain has the same index: it can only be the exact mean if
            ok = bool(np.all(g == exact))  # the law is degenerate
            return Outcome(0.0 if ok else math.inf, 1.0 if ok else 0.0,
                           {"estimate": float(g.mean()), "exact": exact, "se": 0.0})
        z = stats.z_test(float(g.mean()), se, null=exact)
        ci = z.confidence_interval()
        return Outcome(z.statistic, z.pvalue, {"estimate": float(g.mean()), "exact": exact,
                                               "se": se, "ci95": [ci.low, ci.high]})

    def detectable_effect(self, alpha, replicates) -> dict:
        # SD of G_T is at most its range/2; the exact bound keeps the statement honest
        sd = 0.5 * (1.0 - 1.0 / max(self.categories or 2, 2))
        d = (_normal_isf(alpha / 2) + _normal_isf(1 - _POWER)) * sd / math.sqrt(replicates)
        return {"metric": "|E[Gini-Simpson_T] - exact| (bound from the index's range)",
                "value": d, "relative": d / self._exact() if self._exact() > 0 else None,
                "power": _POWER}


@dataclass(frozen=True)
class SurvivorsMean(CategoricalCheck):
    type: ClassVar[str] = "categorical_survivors_mean"

    def _exact(self) -> tuple[float, float]:
        final = self.prediction().to_dict()["final"]
        mean, sd = final["survivors_mean"], final["survivors_sd"]
        if mean is None or sd is None:
            raise ValueError(f"check {self.id!r}: the exact mean and SD of the survivors are "
                             "not available at this design (see `theory --family "
                             "categorical --json` notes).")
        return float(mean), float(sd)

    def validate_design(self) -> None:
        self._exact()

    def statement(self) -> str:
        return (f"E[surviving categories at T={self.generations}] ({self.law()}) equals the "
                "exact sum over categories of P(not lost by T)")

    def test_name(self) -> str:
        return "two-sided z-test of the mean number of survivors with the exact SD"

    def run(self, experiment, simulator) -> Outcome:
        s = np.asarray(simulator(experiment, "final").survivors, float)[:, -1]
        mean, sd = self._exact()
        se = sd / math.sqrt(s.size)
        if se == 0:  # a degenerate law: every chain must match it exactly
            ok = bool(np.all(s == mean))
            return Outcome(0.0 if ok else math.inf, 1.0 if ok else 0.0,
                           {"estimate": float(s.mean()), "exact": mean, "se_exact": 0.0})
        z = stats.z_test(float(s.mean()), se, null=mean)
        ci = z.confidence_interval()
        return Outcome(z.statistic, z.pvalue, {"estimate": float(s.mean()), "exact": mean,
                                               "se_exact": se, "ci95": [ci.low, ci.high]})

    def detectable_effect(self, alpha, replicates) -> dict:
        mean, sd = self._exact()
        d = (_normal_isf(alpha / 2) + _normal_isf(1 - _POWER)) * sd / math.sqrt(replicates)
        return {"metric": "|E[survivors_T] - exact|", "value": d,
                "relative": d / mean if mean else None, "power": _POWER}


@dataclass(frozen=True)
class GiniMartingale(CategoricalCheck):
    type: ClassVar[str] = "categorical_gini_martingale"

    def validate_design(self) -> None:
        _plain_refit_iv(self)
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")

    def statement(self) -> str:
        return (f"G_t - (1 - 1/n) G_(t-1) has conditional mean 0 at every generation "
                f"t <= {self.generations} ({self.law()}): Gini-Simpson decays by exactly "
                "1 - 1/n per generation in expectation")

    def test_name(self) -> str:
        return ("self-normalised martingale z-test, sum D_t / sqrt(sum D_t^2) over every "
                "chain and generation (martingale CLT)")

    def run(self, experiment, simulator) -> Outcome:
        g = np.asarray(simulator(experiment, "all").gini_simpson, float)
        d = g[:, 1:] - (1.0 - 1.0 / self.n) * g[:, :-1]
        total, scale = float(d.sum()), float(np.sqrt(np.sum(d * d)))
        if scale == 0.0:  # every chain absorbed at once: nothing to test
            return Outcome(0.0, 1.0, {"increments": int(d.size), "note": "no variation"})
        z = stats.z_test(total / scale, 1.0)
        # the decay factor the data imply, and the n it corresponds to
        prev = g[:, :-1]
        denom = float(np.sum(prev * prev))
        slope = float(np.sum(g[:, 1:] * prev) / denom) if denom > 0 else math.nan
        return Outcome(z.statistic, z.pvalue, {
            "increments": int(d.size), "decay_factor": slope,
            "decay_factor_exact": 1.0 - 1.0 / self.n,
            "n_implied": 1.0 / (1.0 - slope) if slope < 1 else math.inf})

    def detectable_effect(self, alpha, replicates) -> dict:
        r"""A declared n off by a relative e shifts every D_t by G_(t-1) e / n to first
        order, so the statistic moves by :math:`e\,m_1 \sqrt{R} / (n \sqrt{m_2})` with
        :math:`m_1 = E\sum_t G_{t-1}` (exact: the closed form of E[G_t]) and
        :math:`m_2 = E\sum_t D_t^2` (from a seeded pilot of 64 chains on the sufficient
        engine: it has no closed form from the index alone); solved for power 0.9."""
        p0 = self.experiment(seed=0, replicates=1).p0
        g0 = 1.0 - float(np.sum(p0 * p0))
        r = 1.0 - 1.0 / self.n
        m1 = g0 * (1 - r ** self.generations) / (1 - r)
        m2 = _pilot_m2(self)
        zs = _normal_isf(alpha / 2) + _normal_isf(1 - _POWER)
        e = zs * self.n * math.sqrt(m2) / (m1 * math.sqrt(replicates)) if m1 > 0 else math.inf
        return {"metric": "relative error in n (first order; pilot of 64 chains)", "value": e,
                "power": _POWER}


def _pilot_m2(check: CategoricalCheck) -> float:
    """Mean over chains of sum_t D_t^2 from 64 seeded chains (seed 0, sufficient)."""
    from collapsecheck.families.categorical.engines import simulate

    e = check.experiment(seed=0, replicates=64)
    g = np.asarray(simulate(e, engine="sufficient", workers=1).records.gini_simpson, float)
    d = g[:, 1:] - (1.0 - 1.0 / check.n) * g[:, :-1]
    return float(np.mean(np.sum(d * d, axis=1)))


#: The family's check types, registered by :mod:`collapsecheck.checks`.
CHECK_TYPES: dict[str, type[Check]] = {
    cls.type: cls for cls in (GiniMean, SurvivorsMean, GiniMartingale)}
