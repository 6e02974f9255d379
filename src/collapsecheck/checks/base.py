"""What a check is, and the simulators it may be run against.

A check is a statement about the chain, an experiment to simulate, a formal test from
:mod:`collapsecheck.stats`, and what that test can detect. Two kinds:

* ``consistency`` checks test H0 "the simulator follows the exact theory"; a small
  p-value is evidence against the simulator. A correct simulator fails one only by
  chance, with the probability the profile allots it (its alpha).
* ``confirmatory`` checks test H0 "the property does NOT hold" (no collapse; drift not
  equivalent to theory); a small p-value confirms the property. A correct simulator
  fails one only when the test misses, so its allotted alpha bounds the miss rate, which
  the check computes from exact theory at its design (``miss_rate``).

Checks never draw random numbers themselves: they ask a :data:`Simulator` for
trajectories of an :class:`~collapsecheck.experiment.Experiment`, which carries the seed.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the Gaussian family's, imported where used: this module is shared
    from collapsecheck.families.gaussian.parameters import Experiment
    from collapsecheck.families.gaussian.records import Trajectories

__all__ = ["Check", "Outcome", "Simulator", "engine_simulator"]

#: ``simulator(experiment, record) -> Trajectories``; ``record`` is 'all', 'final' or a
#: list of generations. The built-in engines are wrapped by :func:`engine_simulator`;
#: a researcher's own simulator can be passed in their place.
Simulator = Callable[["Experiment", str | Sequence[int]], "Trajectories"]


def engine_simulator(engine: str, workers: int | None = None,
                     scheduler: str | None = None) -> Simulator:
    """A :data:`Simulator` that runs one of the built-in engines."""
    from collapsecheck.families.gaussian.engines import simulate

    def run(experiment: Experiment, record) -> Trajectories:
        return simulate(experiment, engine=engine, workers=workers, record=record,
                        scheduler=scheduler).trajectories

    run.engine = engine  # type: ignore[attr-defined]
    return run


@dataclass(frozen=True)
class Outcome:
    """One run of a check's test."""

    statistic: float
    pvalue: float
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check(ABC):
    """Base of every check: the experiment's parameters plus the check's own options.

    Subclasses set ``type`` (the name used in profiles), ``family`` and ``kind``, and
    implement :meth:`statement`, :meth:`test_name`, :meth:`run` and
    :meth:`detectable_effect`.
    """

    type: ClassVar[str]
    family: ClassVar[str]
    kind: ClassVar[str] = "consistency"
    #: Fields holding text, and fields whose None means "not set" (every other field is
    #: a number); a model family's checks extend them with their own parameters.
    text_fields: ClassVar[tuple[str, ...]] = ("id", "engine", "regime")
    optional_fields: ClassVar[tuple[str, ...]] = ("fresh_fraction", "truncate")

    id: str = ""
    n: int = 10
    generations: int = 10
    replicates: int = 1000
    ddof: float = 0.0
    mu0: float = 0.0
    sigma0: float = 1.0
    engine: str = "sufficient"

    def __post_init__(self) -> None:
        _check_iv(self)
        if not self.id:
            object.__setattr__(self, "id", self.default_id())
        self.experiment(seed=0)  # validates the parameters now, not mid-run
        self.validate_design()

    # -- description -------------------------------------------------------------------
    def default_id(self) -> str:
        ddof = f".ddof{self.ddof:g}" if self.ddof else ""
        return f"{self.family}.{self.type}.n{self.n}.T{self.generations}{ddof}.{self.engine}"

    def base_id(self) -> str:
        """The id that names the check when a simulator under test, not a built-in
        engine, makes its chains (``validate --simulator``): the default id without its
        engine, or the id the profile gave. Its streams derive from it, so neither the
        engine named in the profile nor the simulator's file name can change them."""
        if self.id != self.default_id():
            return self.id
        suffix = f".{self.engine}"
        return self.id[: -len(suffix)] if self.id.endswith(suffix) else self.id

    @abstractmethod
    def statement(self) -> str: ...

    @abstractmethod
    def test_name(self) -> str: ...

    # -- design ------------------------------------------------------------------------
    def validate_design(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Raise ValueError if the check cannot be trusted at these parameters."""

    def experiment(self, seed: int, replicates: int | None = None) -> Experiment:
        """The experiment the check simulates (the Gaussian family's parameters; another
        family's checks override this)."""
        from collapsecheck.families.gaussian.parameters import Experiment

        return Experiment(n=self.n, generations=self.generations,
                          replicates=self.replicates if replicates is None else replicates,
                          ddof=self.ddof, mu0=self.mu0, sigma0=self.sigma0, seed=seed)

    @abstractmethod
    def detectable_effect(self, alpha: float, replicates: int) -> dict[str, Any]:
        """The smallest departure detected at level ``alpha`` with power 0.9."""

    @property
    def confirm_level(self) -> float | None:
        """Confirmatory checks: the level at or below which the p-value confirms the
        property (None for consistency checks)."""
        return None

    def miss_rate(self, alpha: float, replicates: int) -> float:
        """Confirmatory checks: probability that a correct simulator fails to confirm."""
        return 0.0

    # -- running -----------------------------------------------------------------------
    @abstractmethod
    def run(self, experiment: Experiment, simulator: Simulator) -> Outcome: ...

    def simulator(self, workers: int | None = None, scheduler: str | None = None
                  ) -> Simulator:
        """The built-in simulator of this check's model family, on its engine."""
        return engine_simulator(self.engine, workers, scheduler)

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_ENGINES = ("samples", "sufficient")


def _check_iv(check: Check) -> None:
    """Types and allowed values of the fields every check shares (the experiment's own
    rules are applied by Experiment)."""
    if not isinstance(check.id, str):
        raise TypeError(f"`id` must be a string; got {check.id!r}.")
    if check.engine not in _ENGINES:
        raise ValueError(f"`engine` must be one of {', '.join(_ENGINES)}; got {check.engine!r}.")
    for f in fields(check):
        value = getattr(check, f.name)
        if f.name in check.text_fields:  # strings (checked by the family's parameters)
            continue
        if value is None and f.name in check.optional_fields:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"`{f.name}` must be a number; got {value!r}.")
    if check.replicates < MIN_REPLICATES:
        raise ValueError(f"check {check.id or check.type!r}: `replicates` must be at least "
                         f"{MIN_REPLICATES} for its test to mean anything; got "
                         f"{check.replicates}.")


#: Fewest replicates any check accepts (several need more; each says so).
MIN_REPLICATES = 20


def finite_or_none(x: float) -> float | None:
    return x if isinstance(x, float | int) and math.isfinite(x) else None
