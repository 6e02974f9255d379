"""The Gaussian family's figures for the validation report (its ``FamilySpec.figures``,
drawn by :mod:`collapsecheck.report.figures`).

For the article's experiment (or the profile's first Gaussian check, without claims): a
handful of sigma trajectories with the exact 2.5/50/97.5% quantile band, a histogram of
the final log sigma^2 over its exact density, a QQ plot against the exact law, the
probability integral transforms of every one-generation step and of the endpoint under
their exact laws (:func:`pit_data`); every drift check's estimate with its CI, the exact
drift and equivalence margins; and, when the profile has regime checks, the regimes side
by side (:func:`regimes_figure_data`). The chains come from the simulator under test when
there is one (``validate --simulator``), else from the built-in sufficient engine.

Seeds: the chains come from the report's figure stream ``()`` and the regimes' from
``(1,)`` (``stream()`` and ``stream(1)``, :func:`collapsecheck.figure_data.figure_stream`),
the streams these figures had before the family declared them, so a report's figures do
not change; the other families draw from the common figure ``seed`` (stream ``(2,)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from collapsecheck.families.gaussian.engines import simulate
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.families.gaussian.theory import LogVarianceLaw, StepLaw

__all__ = ["PIT_MIN_VALUES", "PIT_VALUES", "REGIMES_FIGURE", "audit_figures", "drift_data",
           "figure_data", "pit_data", "regimes_figure_data"]

#: Recorded values (chains x generations) of the figure run: every generation is kept
#: up to this many, so that the PIT plot sees every one-generation step.
_FIGURE_ELEMENTS = 1 << 21


def _figure_experiment(profile, results, seed: int) -> Experiment | None:
    """The experiment the trajectories, endpoint, QQ and PIT figures draw: the article's
    (the profile's claims, at most 1000 replicates), else that of the first Gaussian
    check with a generation; None when there is neither."""
    c = profile.claims
    if c is not None:
        return Experiment(n=c.n, generations=c.generations, replicates=min(c.replicates, 1000),
                          ddof=c.ddof, seed=seed)
    from collapsecheck.families import FAMILIES

    for r in results:
        s = r.spec
        if getattr(r, "family", "") in FAMILIES and r.family != "gaussian":
            continue  # another model family's check: its figures are its own
        if s.get("generations", 0) >= 1:
            return Experiment(n=s["n"], generations=s["generations"],
                              replicates=min(s["replicates"], 1000), ddof=s["ddof"],
                              mu0=s["mu0"], sigma0=s["sigma0"], seed=seed)
    return None


def figure_data(profile, results, *, seed: int, stream: Callable[..., int],
                workers: int | None = None, simulator=None,
                source: str = "built-in engine sufficient", chains: int = 30,
                band_points: int = 60) -> dict:
    """The Gaussian family's figures of the report of ``profile`` (module docstring),
    ``{kind: data}`` (empty when there is nothing of the family's to draw).

    The chains are drawn by ``simulator`` (a :data:`~collapsecheck.checks.Simulator`;
    the built-in ``sufficient`` engine when None) from the figure stream ``stream()``
    and labelled with ``source``; the regimes' figure draws from ``stream(1)``. ``seed``
    (the families' common figure seed) is not used: see the module docstring. The
    figure run records every generation when chains x generations fit in
    :data:`_FIGURE_ELEMENTS` (else the first generations and an even grid), and feeds
    the PIT plots (:func:`pit_data`); ``chains`` of them are drawn, and the exact band
    at ``band_points`` generations.
    """
    out: dict = {}
    e = _figure_experiment(profile, results, stream())
    if e is not None:
        T = e.generations
        grid = np.unique(np.linspace(0, T, min(T + 1, 400)).round().astype(int))
        head = max(1, min(T, _FIGURE_ELEMENTS // e.replicates - 1))
        record = np.union1d(grid, np.arange(head + 1))
        if simulator is None:
            traj = simulate(e, record=record.tolist(), workers=workers).trajectories
        else:
            traj = simulator(e, record.tolist())
        out.update(pit_data(traj.log_var, traj.generations, n=e.n, ddof=e.ddof,
                            source=source))
        keep = np.isin(traj.generations, grid)
        sigma = np.exp(0.5 * np.asarray(traj.log_var)[:chains][:, keep])
        traj = replace(traj, generations=np.asarray(traj.generations)[keep],
                       log_var=np.asarray(traj.log_var)[:, keep],
                       mean=None if traj.mean is None else np.asarray(traj.mean)[:, keep])
        band_gen = np.unique(np.linspace(0, T, min(T + 1, band_points)).round().astype(int))
        levels = (0.025, 0.5, 0.975)
        band = {str(q): [] for q in levels}
        for g in band_gen:
            law = LogVarianceLaw(e.n, int(g), e.ddof)
            qs = np.atleast_1d(law.ppf(np.array(levels)))
            for q, v in zip(levels, qs, strict=True):
                band[str(q)].append(e.sigma0 * math.exp(0.5 * float(v)))
        out["trajectories"] = {
            "generations": grid.tolist(),
            "sigma": sigma.tolist(),
            "band_generations": band_gen.tolist(),
            "band": band,
            "title": (f"sigma over generations: {chains} chains ({source}), n={e.n}, "
                      f"ddof={e.ddof:g}, with the exact 95% band and median"),
        }
        law = LogVarianceLaw(e.n, T, e.ddof)
        if T >= 1:
            s = traj.final_log_var - 2 * math.log(e.sigma0)
            lo, hi = law.ppf(1e-4), law.ppf(1 - 1e-4)
            x = np.linspace(min(lo, s.min()), max(hi, s.max()), 300)
            out["endpoint"] = {
                "log_sigma2": s.tolist(), "grid": x.tolist(), "density": law.pdf(x).tolist(),
                "title": (f"log(sigma_T^2/sigma_0^2) at T={T}: {s.size} replicates ({source}) "
                          "vs exact density"),
            }
            probs = (np.arange(1, 100) / 100.0)
            out["qq"] = {
                "theoretical": np.atleast_1d(law.ppf(probs)).tolist(),
                "sample": np.quantile(s, probs).tolist(),
                "title": "QQ plot of log(sigma_T^2/sigma_0^2): percentiles, sample vs exact",
            }
    drift = drift_data(results)
    if drift:
        out["drift"] = drift
    if any(getattr(r, "family", "") == "regimes" for r in results):
        out["regimes"] = regimes_figure_data(stream(1), workers=workers)
    return out


def drift_data(results) -> list[dict]:
    """One row per drift check among ``results`` (those whose numbers hold
    ``drift_estimate`` and a non-zero ``drift_exact``): its estimate, 95% CI and
    equivalence margin as relative errors (x - exact)/|exact|, so that drifts of very
    different sizes (checks at different n) share one axis; the exact drift is 0."""
    drift = []
    for r in results:
        num = r.numbers
        if "drift_estimate" in num and num["drift_exact"] != 0:
            exact = num["drift_exact"]

            def rel(x, exact=exact):
                return (x - exact) / abs(exact)

            margin = num.get("margin")
            drift.append({"id": r.id, "estimate": rel(num["drift_estimate"]),
                          "ci95": [rel(v) for v in num["drift_ci95"]], "theory": 0.0,
                          "margin": None if margin is None else [rel(v) for v in margin]})
    return drift


#: The regimes drawn side by side (n = 20, 100 generations): the article's chain, what
#: prevents collapse, and what worsens it.
REGIMES_FIGURE = (
    ("replace (the article's chain)", {}),
    ("accumulate", {"regime": "accumulate"}),
    ("mix, 10% fresh", {"regime": "mix", "fresh_fraction": 0.1}),
    ("n-growth, n_t = ceil(n t)", {"n_growth": 1.0}),
    ("temperature 0.98", {"temperature": 0.98}),
    ("truncated at 2 sigma", {"truncate": 2.0}),
)


def regimes_figure_data(seed: int, *, n: int = 20, generations: int = 100,
                        chains: int = 1000, points: int = 21, workers=None) -> dict:
    """Exact E[sigma_t^2] of each regime in :data:`REGIMES_FIGURE` at ``points``
    generations, beside the mean of ``chains`` simulated chains (sufficient engine where
    the regime has one, samples otherwise) with its standard error."""
    from collapsecheck.families.gaussian.theory import predict

    grid = np.unique(np.linspace(0, generations, points).round().astype(int))
    curves = []
    for label, params in REGIMES_FIGURE:
        e = Experiment(n=n, generations=generations, replicates=chains, seed=seed, **params)
        exact = [1.0 if g == 0 else float(predict(e.replace(generations=int(g))).sigma2_mean)
                 for g in grid]
        engine = "samples" if e.truncate is not None else "sufficient"
        traj = simulate(e, engine=engine, record=grid.tolist(), workers=workers).trajectories
        s2 = np.exp(traj.log_var - 2 * math.log(e.sigma0))
        curves.append({"label": label, "exact": exact, "simulated": s2.mean(axis=0).tolist(),
                       "se": (s2.std(axis=0, ddof=1) / math.sqrt(chains)).tolist()})
    return {"generations": grid.tolist(), "curves": curves,
            "title": f"E[sigma_t^2]/sigma_0^2 by regime (n={n}): exact (lines), {chains} "
                     "chains of the built-in engines (points, 95% intervals)"}


#: At most this many PIT values per plot: every value is i.i.d. uniform under the exact
#: law, so an evenly strided subset of a larger set is too; the band is exact for it.
PIT_VALUES = 2000
#: Fewest PIT values worth a plot.
PIT_MIN_VALUES = 20


def _strided(u: np.ndarray, limit: int) -> np.ndarray:
    if u.size <= limit:
        return u
    return u[np.linspace(0, u.size - 1, limit).round().astype(np.int64)]


def pit_data(log_var, generations, *, n: int, ddof: float, source: str = "",
             limit: int = PIT_VALUES) -> dict:
    r"""The probability integral transforms of recorded chains under the exact law.

    ``log_var`` (chains x recorded generations, NaN where a chain is not recorded) at
    ``generations`` (increasing). Two sets of values, each uniform on (0, 1) exactly
    when the chains follow the article's refit chain with this ``n`` and ``ddof``:

    * ``pit_increments``: :math:`u = F_X(\log\sigma_t^2 - \log\sigma_{t-1}^2)` for every
      recorded one-generation step, :math:`F_X` the exact step law
      (:class:`~collapsecheck.theory.StepLaw`: :math:`X = \log(\chi^2_{n-1}/(n -
      \mathrm{ddof}))`); the steps are i.i.d. under H0 (Cochran), within and across
      chains.
    * ``pit_endpoint``: :math:`u = F_T(\log(\sigma_T^2/\sigma_0^2))` for every chain
      recorded at the first and the last generation, :math:`F_T` the exact law of the sum
      of T steps (:class:`~collapsecheck.theory.LogVarianceLaw`), T their distance.

    Each is thinned to at most ``limit`` values by an even stride (a fixed subset of
    i.i.d. values is i.i.d.). A set with fewer than :data:`PIT_MIN_VALUES` values is left
    out. The values are plotted as ECDF differences in the band of
    :func:`collapsecheck.report.ecdf.simultaneous_band`.
    """
    lv = np.asarray(log_var, dtype=np.float64)
    g = np.asarray(generations, dtype=np.int64)
    out: dict = {}
    by = f" ({source})" if source else ""
    if lv.ndim != 2 or lv.shape[1] != g.size or g.size < 2:
        return out
    consecutive = np.flatnonzero(np.diff(g) == 1)
    if consecutive.size:
        steps = lv[:, consecutive + 1] - lv[:, consecutive]
        steps = steps[np.isfinite(steps)]
        if steps.size >= PIT_MIN_VALUES:
            u = _strided(StepLaw(n, ddof).cdf(steps), limit)
            out["pit_increments"] = {
                "u": u.tolist(), "total": int(steps.size),
                "title": (f"PIT of the one-generation steps of log σ²{by}: {u.size} of "
                          f"{steps.size} steps, n={n}, ddof={ddof:g}"),
                "xlabel": "u = F_step(log σ_t² − log σ_{t−1}²)",
            }
    ends = lv[:, -1] - lv[:, 0]
    ends = ends[np.isfinite(ends)]
    T = int(g[-1] - g[0])
    if T >= 1 and ends.size >= PIT_MIN_VALUES:
        u = _strided(np.asarray(LogVarianceLaw(n, T, ddof).cdf(ends), dtype=float), limit)
        out["pit_endpoint"] = {
            "u": u.tolist(), "total": int(ends.size),
            "title": (f"PIT of log(σ_T²/σ_0²) at T={T}{by}: {u.size} of {ends.size} chains"),
            "xlabel": "u = F_T(log σ_T² − log σ_0²)",
        }
    return out


def audit_figures(traj, result) -> dict[str, Any]:
    """The PIT plots' data of the audited chains ``traj``
    (:class:`~collapsecheck.families.gaussian.records.Trajectories`) under the exact law of
    ``result`` (an :class:`~collapsecheck.audit.AuditResult`) for the audit report
    (:mod:`collapsecheck.report.audit`): the article's chain only
    (another regime's steps have another law; then nothing)."""
    if result.spec.get("regime", "replace") != "replace":
        return {}
    return pit_data(traj.log_var, traj.generations, n=int(result.spec["n"]),
                    ddof=float(result.spec["ddof"]), source="recorded chains")
