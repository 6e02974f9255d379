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

Checks never draw random numbers themselves: they ask a :data:`Simulator` for the records
of their family's experiment (which carries the seed). What that experiment is, and which
built-in simulator runs it, each model family declares in its checks' base class
(:meth:`Check.experiment`, :meth:`Check.simulator`; e.g.
:class:`collapsecheck.families.gaussian.checks.base.GaussianCheck`): this module is shared
and knows no family.

``engine_simulator`` (the Gaussian engines' simulator) is a historical name here, resolved
lazily: it lives in :mod:`collapsecheck.families.gaussian.checks.base`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

__all__ = ["Check", "Outcome", "Simulator", "engine_simulator"]  # noqa: F822 - __getattr__

#: ``simulator(experiment, record) -> records``: the experiment is the family's parameters
#: (e.g. the Gaussian :class:`~collapsecheck.experiment.Experiment`), the records its
#: records (e.g. the Gaussian :class:`~collapsecheck.trajectories.Trajectories`), and
#: ``record`` is 'all', 'final' or a list of generations. Each family's checks bring their
#: built-in one (:meth:`Check.simulator`); a researcher's own simulator can be passed in
#: its place.
Simulator = Callable[[Any, str | Sequence[int]], Any]


def __getattr__(name: str) -> Any:
    """``engine_simulator``, the Gaussian engines' simulator, at its historical path
    (:func:`collapsecheck.families.gaussian.checks.base.engine_simulator`), imported when
    first asked for (so importing this module loads no family)."""
    if name == "engine_simulator":
        from collapsecheck.families.gaussian.checks.base import engine_simulator

        return engine_simulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "engine_simulator"})


@dataclass(frozen=True)
class Outcome:
    """One run of a check's test."""

    statistic: float
    pvalue: float
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check(ABC):
    """Base of every check: the experiment's parameters plus the check's own options.

    A model family's checks derive from the family's base class, which implements
    :meth:`experiment` and :meth:`simulator` (e.g.
    :class:`~collapsecheck.families.gaussian.checks.base.GaussianCheck`); a check type
    sets ``type`` (the name used in profiles), ``family`` and ``kind``, and implements
    :meth:`statement`, :meth:`test_name`, :meth:`run` and :meth:`detectable_effect`. A
    class missing any of these cannot be instantiated.

    The fields are the parameters every check takes, in the order :meth:`params` lists
    them: the chain's ``n``, ``generations`` and ``replicates``, the refit and start of
    the location-scale chains (``ddof``, ``mu0``, ``sigma0``: the Gaussian and
    multivariate Gaussian families use them; the categorical family takes them, keeps
    their defaults and lists them, as it always has), and ``engine``; each family's own
    follow.
    """

    type: ClassVar[str]
    family: ClassVar[str]
    kind: ClassVar[str] = "consistency"
    #: Fields holding text, and fields whose None means "not set" (every other field is
    #: a number); a model family's checks extend them with their own parameters.
    text_fields: ClassVar[tuple[str, ...]] = ("id", "engine")
    optional_fields: ClassVar[tuple[str, ...]] = ()

    id: str = ""
    n: int = 10
    generations: int = 10
    replicates: int = 1000
    ddof: float = 0.0
    mu0: float = 0.0
    sigma0: float = 1.0
    engine: str = "sufficient"

    def __new__(cls, *args: Any, **kwargs: Any) -> Check:
        # a family supplies these two; say so plainly (a class missing another abstract
        # method gets Python's own message, naming it)
        missing = sorted({"experiment", "simulator"}
                         & set(getattr(cls, "__abstractmethods__", ())))
        if missing:
            raise TypeError(
                f"check class {cls.__name__!r} does not implement {' and '.join(missing)}: "
                "a check runs on its model family's experiment and simulator, so derive it "
                "from its family's check base (for the Gaussian chain, "
                "collapsecheck.families.gaussian.checks.base.GaussianCheck) or define them.")
        return super().__new__(cls)

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

    @abstractmethod
    def experiment(self, seed: int, replicates: int | None = None) -> Any:
        """The experiment the check simulates: its family's parameters at this check's
        fields, with ``seed`` and ``replicates`` (the check's own when None). Creating it
        validates them (:meth:`__post_init__` does so once, at seed 0)."""

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
    def run(self, experiment: Any, simulator: Simulator) -> Outcome: ...

    @abstractmethod
    def simulator(self, workers: int | None = None, scheduler: str | None = None
                  ) -> Simulator:
        """The built-in simulator of this check's model family, on its ``engine``, run
        by ``workers`` processes (None: automatic) or ``scheduler``; its records must
        not depend on either."""

    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_ENGINES = ("samples", "sufficient")


def _check_iv(check: Check) -> None:
    """Types and allowed values of the fields every check shares (the experiment's own
    rules are applied by the family's parameters, when :meth:`Check.experiment` makes
    them)."""
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
