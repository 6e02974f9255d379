"""Recorded multivariate chains and how they were made (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MVRun", "MVTrajectories"]


@dataclass(frozen=True)
class MVTrajectories:
    r"""Chains of the multivariate refit process at the recorded generations.

    Attributes
    ----------
    generations : ndarray of int, shape (G,)
        The recorded generations (0 is the starting model).
    logdet : ndarray, shape (replicates, G)
        :math:`\log\det\Sigma_t`.
    log_trace : ndarray, shape (replicates, G)
        :math:`\log\operatorname{tr}\Sigma_t` (finite where the trace itself underflows).
    mu_sq_norm : ndarray, shape (replicates, G)
        :math:`\|\mu_t - \mu_0\|^2`.
    eigen_generations : ndarray of int, shape (Ge,)
        The generations at which the eigenvalues were recorded.
    log_eigenvalues : ndarray, shape (replicates, Ge, D)
        :math:`\log\lambda_i(\Sigma_t)`, largest first, computed to high relative accuracy
        from the factored covariance (never from the covariance itself).
    spec : dict
        The experiment's parameters.
    """

    generations: np.ndarray
    logdet: np.ndarray
    log_trace: np.ndarray
    mu_sq_norm: np.ndarray
    eigen_generations: np.ndarray
    log_eigenvalues: np.ndarray
    spec: dict

    @property
    def trace(self) -> np.ndarray:
        r""":math:`\operatorname{tr}\Sigma_t` (0 where it underflows; see ``log_trace``)."""
        with np.errstate(under="ignore", over="ignore"):
            return np.exp(self.log_trace)

    @property
    def replicates(self) -> int:
        return int(self.logdet.shape[0])

    @property
    def dim(self) -> int:
        return int(self.log_eigenvalues.shape[2])

    def column(self, generation: int) -> int:
        """Index of ``generation`` among the recorded ones (ValueError if not recorded)."""
        hit = np.flatnonzero(self.generations == generation)
        if hit.size == 0:
            raise ValueError(f"generation {generation} was not recorded.")
        return int(hit[0])


@dataclass(frozen=True)
class MVRun:
    """Trajectories with how they were made."""

    trajectories: MVTrajectories
    engine: str
    workers: int
    simulate_s: float
