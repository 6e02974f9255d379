"""What a model family declares, and what the shared layers may ask of it.

A family is a package under :mod:`collapsecheck.families` whose ``__init__`` defines one
:class:`FamilySpec` named ``SPEC``. The spec is plain data (importing it loads no numpy),
so the command line can build its options from every registered family at start-up and
stay quick; the heavy parts (theory, engines, records, printing) live in the modules the
spec names and are imported only when a command runs for that family.

The protocol, in the spirit of scipy.stats' distribution infrastructure (a family declares
a few primitives; the shared layers derive the rest):

``options``
    The family's own command-line options (:class:`FamilyOption`), e.g. ``--categories``.
    The command line adds each to the commands it names; a family's option given with
    another family is a usage error (exit 2) naming the family that owns it.
``accepts``
    Which of the options the commands already declare (the Gaussian family's, such as
    ``--regime`` or ``--temperature``) this family also takes; any other, given on the
    command line with this family, is a usage error.
``engines``
    The engine names ``--engine`` accepts for this family.
``native``
    True for the one family whose options the commands declare (the Gaussian chain's:
    ``--ddof``, ``--regime``, ...; the typer functions of :mod:`collapsecheck.cli` are
    declarations, their bodies empty). It is reached through ``commands`` like every other
    family, with two differences: ``params`` holds exactly the options the command
    declares (no family's ``options``), and the command line leaves every check of the
    input to the family's functions (no ``--engine`` check against ``engines``, no
    translation of :class:`TypeError`/:class:`ValueError`: they raise
    :class:`~collapsecheck.errors.InputError` naming the option, in the order they check,
    and anything else they raise is a bug, exit 70).
``defaults``
    For the native family: the values of the commands' declared options that default to
    its reference design (the Gaussian family's: the article's experiment, ``n``,
    ``generations``, ``replicates``, ``ddof``, ``mu0``, ``sigma0``), read when the
    command line is built.
``checks``
    ``"module:NAME"`` of a mapping from profile check ``type`` names to the family's
    :class:`~collapsecheck.checks.base.Check` subclasses (registered with the shared ones;
    each check brings its family's experiment and simulator, ``Check.experiment`` and
    ``Check.simulator``, which the shared ``Check`` leaves abstract: the family's checks
    derive from its own base class, e.g. ``GaussianCheck``).
``figures``
    ``"module:function"``, called for every validation report as ``function(profile,
    results, seed=..., stream=..., workers=..., simulator=..., source=...)``
    (:func:`collapsecheck.figure_data.figure_data`); returns ``{kind: data}`` for the
    report's figure kinds (:mod:`collapsecheck.report.figures`, e.g. ``panels``), empty
    when the profile holds nothing of the family's to draw. ``seed`` is the families'
    figure seed; ``stream(*key)`` the seed of the report's figure stream ``key``, for a
    family that needs several (the Gaussian family keeps its historical ``()`` and
    ``(1,)``; ``seed`` is ``stream(2)``); ``simulator`` the simulator under test (None:
    the built-in engines) and ``source`` its label for titles.
``results``
    ``"module:function"``, called as ``function(records, experiment, record, name)`` on
    what a simulator under test returned for an experiment of the family (``validate
    --simulator``, controls, calibration); returns the records, or raises
    :class:`~collapsecheck.errors.InputError` saying what is malformed. A family's
    parameters class names its family in a class attribute ``family``.
``mutants``
    ``"module:NAME"`` of its ``{name: Mutant}`` mapping (deliberately wrong simulators,
    :class:`collapsecheck.mutants.Mutant`, each naming the profile that must catch it);
    ``collapsecheck mutants``, ``calibrate --mutant`` and ``validate --controls`` list and
    run them, ``--mutant <family>`` standing for all of them.
``claims``
    ``"module:NAME"`` of a :class:`FamilyClaims` (a study's claims about the family, e.g.
    the Gaussian family's article claims A1..A8): how a profile's ``[claims]`` table
    (whose optional key ``family`` names the family; :mod:`collapsecheck.profiles`) is
    read into a config, ``from_mapping(table) -> config``, raising
    :class:`ValueError`/:class:`TypeError` naming the bad key; how ``validate`` judges
    it, ``evaluate(config, seed=..., workers=..., simulator=...)`` returning the
    :class:`~collapsecheck.results.ClaimResult` tuple the report records; and the names
    the run shows (``label``, its progress step; ``subject``, in the report's sentence
    of what was tested); optionally, what they cost (``price``) and when they cannot run
    (``require``), for the cost model. The config is a frozen record whose ``to_dict()`` is the
    report's ``spec.claims`` and whose ``engine`` names the built-in engine of its
    simulations. None: the family has no claims, and a ``[claims]`` table naming it is
    refused.
``mutant_groups``
    ``group name -> "module:NAME"`` of a part of ``mutants`` (a ``{name: Mutant}``
    mapping), for a family whose mutants different profiles catch: the groups, in order,
    partition its mutants, each name stands for its part wherever mutants are named
    (``--mutant``, ``--controls``, :func:`collapsecheck.mutants.select`) and heads it in
    the list of valid names. Without groups, the family's mutants are one group under
    the family's name. (The Gaussian family's: ``all``, caught by ``ci``, and
    ``regimes``.)
``schemas``
    ``command -> path`` (inside the ``collapsecheck`` package) of the JSON Schema its
    ``--json`` record of that command follows, shipped with the package.
``commands``
    ``command name -> "module:function"``, for every command the family runs (the native
    family's included: :mod:`collapsecheck.families.gaussian.cli`). The function is called
    as ``function(params, *, json_=...)`` with ``params`` a dict of every option the
    family takes (the universal ones, ``accepts`` and ``options``; ``json_`` aside) as
    parsed, and returns an exit code; it raises :class:`TypeError`/:class:`ValueError`
    (or :class:`~collapsecheck.errors.InputError`) for bad input, which the command line
    turns into one line and exit 2 (for the native family, see ``native``). It needs no
    typer context: what it must know of the command line is in ``params``.

A test of the design: adding a family is a new subpackage plus one line in
:data:`collapsecheck.families.FAMILIES`; no shared module changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["UNIVERSAL_OPTIONS", "FamilyClaims", "FamilyOption", "FamilySpec"]

#: Options every family takes (DESIGN.md's shared names and the output switches).
UNIVERSAL_OPTIONS = frozenset({
    "family", "n", "generations", "replicates", "seed", "engine", "workers", "json_",
    "no_progress",
})


@dataclass(frozen=True)
class FamilyOption:
    """One family-specific command-line option.

    Parameters
    ----------
    name : the Python parameter name (``tail_rank``); the flag is ``--tail-rank``.
    type : ``int``, ``float``, ``str`` or ``bool`` (a flag).
    help : one sentence for ``--help``, stating the rule the value must satisfy.
    default : the value when the option is not given (``None``: not set).
    commands : the commands that take it.
    """

    name: str
    type: type
    help: str
    default: object = None
    commands: tuple[str, ...] = ("theory", "simulate", "audit")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class FamilyClaims:
    """A family's claims, as ``FamilySpec.claims`` names them (see the module docstring).

    Parameters
    ----------
    label : the progress step's name while they run (``"article claims A1..A8"``).
    subject : what they are, inside a sentence (``"claims A1..A8"``).
    from_mapping : ``from_mapping(table) -> config``, the config of a profile's
        ``[claims]`` table (without its ``family`` key); :class:`ValueError` or
        :class:`TypeError` with a message naming the bad key or value.
    evaluate : ``evaluate(config, seed=..., workers=..., simulator=...)``, the
        :class:`~collapsecheck.results.ClaimResult` of every claim, in order;
        ``simulator`` (None: the built-in engine) makes every simulated number.
    price : ``price(config, cores) -> list`` of :class:`collapsecheck.costs.Item`, what
        the claims' runs cost on ``cores`` cores (the cost model's units; a profile's
        price is refused over its limits). None: the claims add nothing to the price.
    require : ``require(config, source)``, raising
        :class:`~collapsecheck.resources.ResourceError` (one line naming the ``[claims]``
        key) when the claims cannot run at all. None: nothing to refuse beyond
        ``from_mapping``'s rules.
    """

    label: str
    subject: str
    from_mapping: Callable[[Mapping[str, Any]], Any]
    evaluate: Callable[..., tuple]
    price: Callable[[Any, int], list] | None = None
    require: Callable[[Any, str], None] | None = None


@dataclass(frozen=True)
class FamilySpec:
    """A family's declaration (see the module docstring for each field's contract)."""

    name: str
    summary: str
    options: tuple[FamilyOption, ...] = ()
    accepts: frozenset[str] | None = None  # None: every option the commands declare
    engines: tuple[str, ...] = ("samples", "sufficient")
    commands: dict[str, str] = field(default_factory=dict)
    native: bool = False  # the commands declare its options (the Gaussian family)
    defaults: dict[str, object] = field(default_factory=dict)  # native: declared defaults
    checks: str | None = None  # "module:NAME" of its {type: Check subclass} mapping
    figures: str | None = None  # "module:function" giving its report figures' data
    results: str | None = None  # "module:function" validating a simulator's records
    mutants: str | None = None  # "module:NAME" of its {name: Mutant} mapping
    claims: str | None = None  # "module:NAME" of its FamilyClaims (a [claims] table)
    mutant_groups: dict[str, str] = field(default_factory=dict)  # group -> "module:NAME"
    schemas: dict[str, str] = field(default_factory=dict)  # command -> JSON Schema file

    def takes(self, option: str, declared: frozenset[str]) -> bool:
        """Whether this family takes ``option``; ``declared`` are the options the command
        itself declares (as opposed to those added from families' ``options``)."""
        if option in UNIVERSAL_OPTIONS or any(o.name == option for o in self.options):
            return True
        return option in declared and (self.accepts is None or option in self.accepts)
