r"""Checks of the multivariate Gaussian chain against its exact theory (profile ``type``
names).

* ``mvgaussian_logdet_gof``: :math:`\log\det\Sigma_T - \log\det\Sigma_0` of independent
  chains against its exact law (a sum of TD independent log-chi-square terms,
  :class:`~collapsecheck.families.mvgaussian.theory.LogDetLaw`), one-sample
  Kolmogorov-Smirnov on the exact CDF.
* ``mvgaussian_step_gof``: every generation's step of log det, pooled over chains and
  generations (i.i.d. under H0), against the exact one-step law.
* ``mvgaussian_trace_martingale``: :math:`\operatorname{tr}\Sigma_t /
  \operatorname{tr}\Sigma_{t-1}` minus its exact conditional mean :math:`(n-1)/(n-d)`,
  martingale differences of bounded conditional variance whatever the covariance's shape
  (:mod:`~collapsecheck.families.mvgaussian.audit`); self-normalised z-test over every
  chain and generation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from collapsecheck import stats
from collapsecheck.checks.base import Check, Outcome

__all__ = ["CHECK_TYPES", "LogdetGof", "MVGaussianCheck", "StepGof", "TraceMartingale"]

_POWER = 0.9


@dataclass(frozen=True)
class MVGaussianCheck(Check):
    """A check of the multivariate chain: ``dim`` beside the shared parameters (the start
    is sigma0^2 I)."""

    family: ClassVar[str] = "mvgaussian"
    example: ClassVar[dict] = {"dim": 3, "n": 10, "generations": 5, "replicates": 200}

    dim: int = 3

    def default_id(self) -> str:
        kind = self.type.removeprefix(f"{self.family}_")
        ddof = f".ddof{self.ddof:g}" if self.ddof else ""
        return (f"{self.family}.{kind}.D{self.dim}.n{self.n}.T{self.generations}{ddof}."
                f"{self.engine}")

    def experiment(self, seed: int, replicates: int | None = None):
        from collapsecheck.families.mvgaussian.parameters import MVGaussianExperiment

        return MVGaussianExperiment(
            n=self.n, dim=self.dim, generations=self.generations, ddof=self.ddof,
            mu0=self.mu0, sigma0=self.sigma0, seed=seed,
            replicates=self.replicates if replicates is None else replicates)

    def simulator(self, workers=None, scheduler=None):
        """The family's engines (every generation recorded, no eigenvalues)."""
        from collapsecheck.families.mvgaussian.engines import simulate

        engine = self.engine

        def run(experiment, record):
            return simulate(experiment, engine=engine, workers=workers, record="all",
                            eigen_record=None).trajectories

        run.engine = engine  # type: ignore[attr-defined]
        return run

    def validate_design(self) -> None:
        if self.generations < 1:
            raise ValueError(f"check {self.id!r}: `generations` must be >= 1.")

    def law(self) -> str:
        return f"D={self.dim}, n={self.n}, ddof={self.ddof:g}"

    def detectable_effect(self, alpha, replicates) -> dict:
        gap = stats.kolmogorov_detectable_gap(self._values(replicates), alpha, _POWER)
        return {"metric": "sup |F_data - F_exact|", "value": gap, "power": _POWER}

    def _values(self, replicates: int) -> int:
        return replicates


@dataclass(frozen=True)
class LogdetGof(MVGaussianCheck):
    type: ClassVar[str] = "mvgaussian_logdet_gof"

    def statement(self) -> str:
        return (f"log det Sigma_T at T={self.generations} ({self.law()}) follows its exact "
                "law, a sum of T D log-chi-square terms")

    def test_name(self) -> str:
        return "one-sample Kolmogorov-Smirnov on the exact CDF (characteristic-function inversion)"

    def run(self, experiment, simulator) -> Outcome:
        from collapsecheck.families.mvgaussian.theory import LogDetLaw

        records = simulator(experiment, "final")
        s = np.asarray(records.logdet, float)[:, -1] - 2 * self.dim * math.log(self.sigma0)
        law = LogDetLaw(self.n, self.generations, self.ddof, dim=self.dim)
        gof = stats.gof_exact(s, law.cdf)
        return Outcome(gof.statistic, gof.pvalue, {"mean": float(s.mean()),
                                                   "exact_mean": float(law.mean)})


@dataclass(frozen=True)
class StepGof(MVGaussianCheck):
    type: ClassVar[str] = "mvgaussian_step_gof"

    def statement(self) -> str:
        return (f"every step of log det Sigma ({self.law()}) follows its exact law: a sum of "
                "D independent log-chi-square terms with n-1, ..., n-D degrees of freedom")

    def test_name(self) -> str:
        return "one-sample Kolmogorov-Smirnov of every step pooled (i.i.d. under H0)"

    def _values(self, replicates: int) -> int:
        return replicates * self.generations

    def run(self, experiment, simulator) -> Outcome:
        from collapsecheck.families.mvgaussian.theory import LogDetLaw

        d = np.diff(np.asarray(simulator(experiment, "all").logdet, float), axis=1).ravel()
        gof = stats.gof_exact(d, LogDetLaw(self.n, 1, self.ddof, dim=self.dim).cdf)
        return Outcome(gof.statistic, gof.pvalue, {"steps": int(d.size),
                                                   "mean_step": float(d.mean())})


@dataclass(frozen=True)
class TraceMartingale(MVGaussianCheck):
    type: ClassVar[str] = "mvgaussian_trace_martingale"

    def statement(self) -> str:
        return (f"tr Sigma_t / tr Sigma_(t-1) has conditional mean (n-1)/(n-ddof) at every "
                f"generation t <= {self.generations} ({self.law()})")

    def test_name(self) -> str:
        return ("self-normalised martingale z-test of the trace's step ratios minus "
                "(n-1)/(n-ddof), over every chain and generation")

    def run(self, experiment, simulator) -> Outcome:
        lt = np.asarray(simulator(experiment, "all").log_trace, float)
        u = np.exp(np.diff(lt, axis=1)).ravel() - (self.n - 1) / (self.n - self.ddof)
        z = stats.z_test(float(u.sum()) / float(np.sqrt(np.sum(u * u))), 1.0)
        return Outcome(z.statistic, z.pvalue, {"steps": int(u.size),
                                               "mean_ratio_minus_exact": float(u.mean())})

    def detectable_effect(self, alpha, replicates) -> dict:
        from scipy.stats import norm

        c = self.n - self.ddof
        sd_max = math.sqrt(2 * (self.n - 1)) / c
        zs = float(norm.isf(alpha / 2) + norm.isf(1 - _POWER))
        return {"metric": "|mean step ratio - (n-1)/(n-ddof)| (bound from the largest "
                          "conditional SD)",
                "value": zs * sd_max / math.sqrt(replicates * self.generations),
                "power": _POWER}


#: The family's check types, registered by :mod:`collapsecheck.checks`.
CHECK_TYPES: dict[str, type[Check]] = {
    cls.type: cls for cls in (LogdetGof, StepGof, TraceMartingale)}
