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
* ``mvgaussian_lyapunov``: "the tails disappear" of the 1-D chain becomes "the
  distribution loses dimensions": the ordered log eigenvalues of :math:`\Sigma_t` separate
  at the Lyapunov rates :math:`\gamma_i = \psi(\tfrac{n-i}2) + \log 2 - \log(n-d)`.
  Each chain's mean step of :math:`\log\lambda_i` over a late window
  :math:`(t_0, T]` against :math:`\gamma_i`, jointly for i = 1..D (Hotelling's
  :math:`T^2` on the chains' window rates, F reference). The rates are **limits**, not
  values at a finite T: the mean step of :math:`\log\lambda_i` at generation t differs
  from :math:`\gamma_i` while the eigenvalues are still close (near-degenerate
  eigenvalues repel), a bias that decays slowly (like the chance that a gap random walk
  with drift :math:`\gamma_i - \gamma_{i+1}` is still near 0). The window skips the
  first :math:`t_0` generations and the O(1) offset of :math:`\log\lambda_i - t\gamma_i`
  cancels in the difference; the profile's designs (small n - i, where the gaps separate
  fastest) keep the remaining bias well inside the check's standard error. Measured with
  40 000 chains: at D = 3, n = 5, window (60, 160] the mean window rates minus
  :math:`\gamma_i` are 1.1e-4, -5.8e-4, 0.0 (Monte Carlo SEs 4.0e-4, 4.9e-4, 6.4e-4),
  at most 0.13 of the check's SE at 500 chains; at D = 2, n = 4, window (40, 120],
  -9.1e-4, -7.2e-4 (SEs 5.4e-4, 7.2e-4), at most 0.19 of it (twice that at the escalated
  stage's 2000 chains); tests/test_mvgaussian_lyapunov.py re-measures it with 20 000. At
  designs like the article-scale D = 10, n = 32 the gaps separate far more slowly (the
  top ones by about 1/(n - i) per generation against a step SD near 2/sqrt(n - i)) and no
  affordable window is free of the bias. What is exact at every T is the log det law (the
  sum of all D rates), which the other checks test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from collapsecheck import stats
from collapsecheck.checks.base import Check, Outcome

__all__ = ["CHECK_TYPES", "LogdetGof", "LyapunovRates", "MVGaussianCheck", "StepGof",
           "TraceMartingale", "hotelling_test"]

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
        """The family's engines: every generation's log det, log trace and mean recorded;
        the log eigenvalues at ``record`` when it is a list of generations (the
        family's convention: a check that needs eigenvalues asks for them by naming the
        generations), none for ``'all'`` or ``'final'``."""
        from collapsecheck.families.mvgaussian.engines import simulate

        engine = self.engine

        def run(experiment, record):
            return simulate(experiment, engine=engine, workers=workers, record="all",
                            eigen_record=eigen_generations(record)).trajectories

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


def eigen_generations(record):
    """The generations at which a simulator of this family records log eigenvalues when
    asked for ``record``: the list itself, or None for ``'all'`` and ``'final'``."""
    return None if isinstance(record, str) else list(record)


def hotelling_test(x: np.ndarray, null: np.ndarray) -> tuple[float, float]:
    r"""Hotelling's one-sample :math:`T^2` test of :math:`E[x] = ` ``null`` on the rows of
    ``x`` (R independent observations of a p-vector, R > p):
    :math:`T^2 = R(\bar x - \mu_0)^\top S^{-1}(\bar x - \mu_0)`, S the sample covariance,
    and :math:`\frac{R-p}{p(R-1)}T^2 \sim F_{p, R-p}` under H0 for normal rows (Anderson
    2003, sec. 5.2; asymptotically chi-square with p degrees of freedom whatever the law).
    Returns ``(T2, pvalue)``."""
    from scipy import stats as sps

    R, p = x.shape
    d = x.mean(axis=0) - null
    S = np.atleast_2d(np.cov(x, rowvar=False))
    t2 = float(R * d @ np.linalg.solve(S, d))
    return t2, float(sps.f.sf((R - p) / (p * (R - 1)) * t2, p, R - p))


@dataclass(frozen=True)
class LyapunovRates(MVGaussianCheck):
    r"""The ordered log eigenvalues of :math:`\Sigma_t` grow at the Lyapunov rates
    (module docstring): each chain's window rate :math:`(\log\lambda_i(\Sigma_T) -
    \log\lambda_i(\Sigma_{t_0}))/(T - t_0)`, i = 1..D, against
    :func:`~collapsecheck.families.mvgaussian.theory.lyapunov_spectrum` by
    :func:`hotelling_test`. ``burn_in`` is :math:`t_0` (default T/2)."""

    type: ClassVar[str] = "mvgaussian_lyapunov"
    example: ClassVar[dict] = {"dim": 3, "n": 5, "generations": 40, "replicates": 200}

    burn_in: int = -1  # -1: generations // 2

    def __post_init__(self) -> None:
        if self.burn_in == -1:
            object.__setattr__(self, "burn_in", self.generations // 2)
        super().__post_init__()

    def validate_design(self) -> None:
        b = self.burn_in
        if isinstance(b, bool) or not isinstance(b, int | np.integer):
            raise TypeError(f"check {self.id!r}: `burn_in` must be a whole number; got {b!r}.")
        if not 0 <= b < self.generations:
            raise ValueError(f"check {self.id!r}: `burn_in` must satisfy 0 <= burn_in < "
                             f"generations = {self.generations}; got {b}.")
        if self.replicates <= 2 * self.dim:
            raise ValueError(f"check {self.id!r}: `replicates` must exceed 2 dim = "
                             f"{2 * self.dim} for the covariance of the rates; got "
                             f"{self.replicates}.")

    def default_id(self) -> str:
        base = super().default_id()
        return base.replace(f".T{self.generations}",
                            f".T{self.generations}.from{self.burn_in}", 1)

    def statement(self) -> str:
        return (f"the distribution loses dimensions: log lambda_i(Sigma_t), i = 1..{self.dim} "
                f"largest first, grow at the exact Lyapunov rates psi((n-i)/2) + log 2 - "
                f"log(n-ddof) ({self.law()}; a limit, measured as the mean step over "
                f"generations {self.burn_in}..{self.generations})")

    def test_name(self) -> str:
        return ("Hotelling T^2 of the chains' window rates of the ordered log eigenvalues "
                "against the Lyapunov spectrum (F reference)")

    def _window(self) -> int:
        return self.generations - self.burn_in

    def run(self, experiment, simulator) -> Outcome:
        from collapsecheck.families.mvgaussian.theory import anisotropy_rate, lyapunov_spectrum

        want = [self.burn_in, self.generations]
        records = simulator(experiment, want)
        L = np.asarray(records.log_eigenvalues, float)
        eig_gens = np.asarray(records.eigen_generations).tolist()
        if L.ndim != 3 or L.shape[2] != self.dim or eig_gens != want:
            # a chain with another number of eigenvalues is not D-dimensional
            return Outcome(math.inf, 0.0, {
                "eigenvalue_shape": list(L.shape), "eigen_generations": eig_gens,
                "expected": f"{self.dim} eigenvalues at generations {want}"})
        rates = (L[:, 1] - L[:, 0]) / self._window()
        gamma = lyapunov_spectrum(self.n, self.dim, self.ddof)
        try:
            t2, p = hotelling_test(rates, gamma)
        except np.linalg.LinAlgError:  # rates without spread in some direction: not this law
            return Outcome(math.inf, 0.0, {"rates": rates.mean(axis=0).tolist(),
                                           "exact_rates": gamma.tolist(),
                                           "problem": "the chains' rates have a singular "
                                                      "covariance"})
        se = rates.std(axis=0, ddof=1) / math.sqrt(rates.shape[0])
        aniso = rates[:, 0] - rates[:, -1]
        return Outcome(t2, p, {
            "window": want,
            "rates": rates.mean(axis=0).tolist(), "exact_rates": gamma.tolist(),
            "se": se.tolist(),
            "anisotropy_rate": float(aniso.mean()),
            "exact_anisotropy_rate": anisotropy_rate(self.n, self.dim),
        })

    def detectable_effect(self, alpha, replicates) -> dict:
        r"""The error :math:`\delta` in one rate :math:`\gamma_i` (the hardest i) that
        the F test at level ``alpha`` detects with power 0.9: noncentrality
        :math:`R\delta^2/\sigma_i^2`, :math:`\sigma_i^2 = \psi'(\tfrac{n-i}2)/(T - t_0)`
        the limit variance of one chain's window rate (the steps of
        :math:`\log\lambda_i` tend to independent :math:`\log\chi^2_{n-i}` terms)."""
        from scipy import optimize, special
        from scipy import stats as sps

        p, R = self.dim, replicates
        crit = sps.f.isf(alpha, p, R - p)
        lam = optimize.brentq(lambda x: sps.ncf.sf(crit, p, R - p, x) - _POWER, 1e-9, 1e4)
        k = (self.n - np.arange(1, p + 1)) / 2
        sd = np.sqrt(special.polygamma(1, k) / self._window())
        return {"metric": "|window rate - gamma_i| of one ordered log eigenvalue "
                          "(per generation)",
                "value": float(math.sqrt(lam / R) * sd.max()), "power": _POWER}


#: The family's check types, registered by :mod:`collapsecheck.checks`.
CHECK_TYPES: dict[str, type[Check]] = {
    cls.type: cls for cls in (LogdetGof, StepGof, TraceMartingale, LyapunovRates)}
