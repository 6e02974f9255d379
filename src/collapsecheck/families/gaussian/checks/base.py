"""The base of the Gaussian family's checks, and the simulator of its built-in engines.

Every check of the family (:mod:`.theory`, :mod:`.regimes`, :mod:`.collapse`,
:mod:`.engines`, :mod:`.independence`) derives from :class:`GaussianCheck`, which declares
what the shared :class:`~collapsecheck.checks.base.Check` leaves to a family: the
experiment the check simulates (the chain's :class:`~collapsecheck.experiment.Experiment`)
and the built-in simulator that runs it (:func:`engine_simulator`, one of the family's
engines, ``samples`` or ``sufficient``). The chain's parameters are the shared fields
``n``, ``generations``, ``replicates``, ``ddof``, ``mu0`` and ``sigma0``; the regime
checks add the regime's own.

:func:`engine_simulator` was ``collapsecheck.checks.engine_simulator`` (and
``collapsecheck.checks.base.engine_simulator``); both names still resolve to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from collapsecheck.checks.base import Check, Simulator
from collapsecheck.families.gaussian.parameters import Experiment

__all__ = ["GaussianCheck", "engine_simulator"]


def engine_simulator(engine: str, workers: int | None = None,
                     scheduler: str | None = None) -> Simulator:
    """A :data:`~collapsecheck.checks.base.Simulator` that runs one of the Gaussian
    family's built-in engines.

    Parameters
    ----------
    engine : {'samples', 'sufficient'}
        The engine (:func:`collapsecheck.families.gaussian.engines.simulate`).
    workers : int, optional
        Processes (None: automatic); the trajectories do not depend on it.
    scheduler : str, optional
        ``'processes'`` (None), ``'dask'`` or a dask scheduler's address.

    Returns
    -------
    Simulator
        ``run(experiment, record) -> Trajectories``, with the engine's name as its
        ``engine`` attribute.
    """
    from collapsecheck.families.gaussian.engines import simulate

    def run(experiment: Experiment, record):
        return simulate(experiment, engine=engine, workers=workers, record=record,
                        scheduler=scheduler).trajectories

    run.engine = engine  # type: ignore[attr-defined]
    return run


@dataclass(frozen=True)
class GaussianCheck(Check):
    """A check of the Gaussian chain: its experiment is the family's
    :class:`~collapsecheck.experiment.Experiment` of the shared fields, and its simulator
    the family's engine named by ``engine``.

    Subclasses set ``type``, ``family`` and ``kind`` and implement the test, as the shared
    :class:`~collapsecheck.checks.base.Check` says; the regime checks extend
    :meth:`experiment` with the regime's parameters.
    """

    #: The regime checks' text and optional parameters (the shared ones beside them).
    text_fields: ClassVar[tuple[str, ...]] = ("id", "engine", "regime")
    optional_fields: ClassVar[tuple[str, ...]] = ("fresh_fraction", "truncate")

    def experiment(self, seed: int, replicates: int | None = None) -> Experiment:
        """The chain at this check's parameters, with ``seed`` and ``replicates`` (the
        check's own when None)."""
        return Experiment(n=self.n, generations=self.generations,
                          replicates=self.replicates if replicates is None else replicates,
                          ddof=self.ddof, mu0=self.mu0, sigma0=self.sigma0, seed=seed)

    def simulator(self, workers: int | None = None, scheduler: str | None = None
                  ) -> Simulator:
        """The family's engine named by ``engine`` (:func:`engine_simulator`)."""
        return engine_simulator(self.engine, workers, scheduler)
