r"""The multivariate family's figure for the validation report: the distribution losing
dimensions (figure kind ``panels``, :func:`collapsecheck.report.figures.panels_svg`).

One panel per ordered log eigenvalue :math:`\log\lambda_i(\Sigma_t)` (largest first) of
simulated chains, their mean with its 95% interval, and the line through the start with
slope the exact Lyapunov rate :math:`\gamma_i`
(:func:`~collapsecheck.families.mvgaussian.theory.lyapunov_spectrum`); the rate is a
limit, so the mean sits an O(1) offset from its line (above it for the largest, below for
the smallest: near-equal eigenvalues repel) that stops growing once the eigenvalues have
separated. A last panel: :math:`\log\det\Sigma_t`, whose exact mean
:math:`\log\det\Sigma_0 + t\,` :func:`~collapsecheck.families.mvgaussian.theory.logdet_drift`
is exact at every t, beside the simulated mean with its 95% interval.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["figure_data"]

#: Most eigenvalue panels drawn (the largest and smallest are always among them).
MAX_EIGEN_PANELS = 4


def _design(profile):
    """The design drawn: the profile's first ``mvgaussian_lyapunov`` check, else its first
    check of the family (None when it has none with a generation)."""
    mine = [c for c in profile.checks if c.family == "mvgaussian" and c.generations >= 1]
    lyap = [c for c in mine if c.type == "mvgaussian_lyapunov"]
    return (lyap or mine or [None])[0]


def _shown(dim: int) -> list[int]:
    """Indices of the eigenvalues drawn: all up to :data:`MAX_EIGEN_PANELS`, else evenly
    spaced from the largest to the smallest."""
    if dim <= MAX_EIGEN_PANELS:
        return list(range(dim))
    return sorted(set(np.rint(np.linspace(0, dim - 1, MAX_EIGEN_PANELS)).astype(int).tolist()))


def _panel(values: np.ndarray, exact: np.ndarray, ylabel: str, label: str,
           chains: int) -> dict:
    R = values.shape[0]
    return {"ylabel": ylabel, "exact": exact.tolist(), "exact_label": label,
            "simulated": values.mean(axis=0).tolist(),
            "se": (values.std(axis=0, ddof=1) / math.sqrt(R)).tolist(),
            "chains": values[:chains].tolist()}


def figure_data(profile, results, *, seed: int, workers: int | None = None,
                simulator=None, stream=None, source: str = "",
                chains: int = 12, replicates: int = 400) -> dict:
    """``{"panels": ...}`` for the design of :func:`_design`: ``replicates`` chains from
    ``seed`` drawn by ``simulator`` (asked for every generation's eigenvalues, the
    family's convention of a list of generations) or the family's sufficient engine.
    ``stream`` and ``source``, which the protocol also passes, are not used: one seed
    suffices, and the title names the source in its own words."""
    from collapsecheck.families.mvgaussian.theory import (
        anisotropy_rate,
        logdet_drift,
        lyapunov_spectrum,
    )

    check = _design(profile)
    if check is None:
        return {}
    e = check.experiment(seed, min(check.replicates, replicates))
    T = e.generations
    gens = list(range(T + 1))
    if simulator is None:
        from collapsecheck.families.mvgaussian.engines import simulate

        records = simulate(e, engine="sufficient", workers=workers, record="all",
                           eigen_record="all").trajectories
        source = "built-in sufficient engine"
    else:
        records = simulator(e, gens)
        source = "the simulator under test"
    L = np.asarray(records.log_eigenvalues, float)
    if L.shape[1:] != (T + 1, e.dim) or \
            np.asarray(records.eigen_generations).tolist() != gens:
        return {}  # not this family's eigenvalues at every generation: nothing to draw
    t = np.arange(T + 1, dtype=float)
    gamma = lyapunov_spectrum(e.n, e.dim, e.ddof)
    start = L[0, 0]  # every chain starts at Sigma_0
    panels = [_panel(L[:, :, i], start[i] + t * gamma[i],
                     f"log lambda_{i + 1}(Sigma_t)" + (" (largest)" if i == 0 else
                                                        " (smallest)" if i == e.dim - 1
                                                        else ""),
                     "exact Lyapunov rate gamma_i (line through the start)",
                     chains)
              for i in _shown(e.dim)]
    ld = np.asarray(records.logdet, float)
    ld_gens = np.asarray(records.generations).tolist()
    if ld_gens == gens:
        exact_ld = ld[0, 0] + t * logdet_drift(e.n, e.dim, e.ddof)
        panels.append(_panel(ld, exact_ld, "log det Sigma_t (line: exact mean)",
                             "exact mean", chains))
    rates = ", ".join(f"{g:.3g}" for g in gamma)
    return {"panels": {
        "generations": gens, "panels": panels,
        "title": (f"The distribution loses dimensions: D={e.dim}, n={e.n}"
                  f"{f', ddof={e.ddof:g}' if e.ddof else ''}; exact rates gamma_i = {rates} "
                  f"per generation, log(lambda_1/lambda_D) growing at "
                  f"{anisotropy_rate(e.n, e.dim):.3g}\n({source}, {L.shape[0]} chains)"),
        "caption": ("The multivariate chain: each ordered log eigenvalue of Sigma_t "
                    "(largest first) in simulated chains, their mean with its 95% interval, "
                    "and the line through the start whose slope is the exact Lyapunov rate "
                    "gamma_i. The rates are limits: the mean runs parallel to its line at "
                    "an O(1) offset (the largest above, the smallest below) once the "
                    "eigenvalues have separated, so compare slopes, not heights. Last "
                    "panel: log det Sigma_t, whose exact mean (the line) holds at every "
                    "generation, beside the simulated mean and its 95% interval."),
    }}
