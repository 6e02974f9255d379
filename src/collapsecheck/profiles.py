"""Validation profiles: TOML files naming checks, the claims' settings, the seed and the
false-alarm budget.

A profile is found by name among the packaged profiles (``collapsecheck/profile_files``, of
which ``validation/`` in the repository holds the same files) or read from a path.
Every key is validated: an unknown or malformed key is refused with its name.

Format::

    name = "ci"
    description = "..."
    seed = 20241125          # fixed default seed: a CI run is deterministic
    budget = 0.001           # P(a correct simulator ends with any FAIL), whole profile
    weak_alpha = 0.01        # stage-1 p-value below this: WEAK, escalated
    escalation_factor = 4    # the re-run uses this many times the replicates
    engine = "sufficient"    # default engine of the checks

    [claims]                 # optional: judge a family's claims (the article's A1..A8)
    family = "gaussian"      # optional: whose claims (FamilySpec.claims); see below
    n = 1000                 # ... keys of that family's claims config

    [[checks]]
    type = "log_var_gof"     # a type from collapsecheck.checks.CHECK_TYPES
    n = 3
    generations = 10
    replicates = 2000

The ``[claims]`` table belongs to a family, reached through the registry
(:func:`declared_claims`): its key ``family`` names it, and without that key it is the
one registered family that declares claims (``FamilySpec.claims``; today the Gaussian
family's article claims A1..A8, :mod:`collapsecheck.families.gaussian.checks.article`).
The other keys are that family's (its ``from_mapping``); ``family`` is not one of them,
so it never reaches the config nor the report's ``spec.claims``. A table naming a family
that declares no claims is refused.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from collapsecheck.checks import Check, build_check
from collapsecheck.errors import InputError

__all__ = ["Profile", "available_profiles", "declared_claims", "load_profile"]

_TOP_KEYS = {"name", "description", "seed", "budget", "weak_alpha", "escalation_factor",
             "engine", "claims", "checks"}
MAX_PROFILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    seed: int
    budget: float
    weak_alpha: float
    escalation_factor: int
    engine: str
    checks: tuple[Check, ...]
    claims: Any = None  # the config of its family's claims (FamilySpec.claims) or None
    source: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    #: The family whose claims ``claims`` are (None: the default of :func:`declared_claims`).
    claims_family: str | None = None


def _packaged() -> dict[str, Any]:
    root = resources.files("collapsecheck") / "profile_files"
    return {p.name[:-5]: p for p in root.iterdir() if p.name.endswith(".toml")}


def available_profiles() -> dict[str, str]:
    """Packaged profile names and their descriptions."""
    out = {}
    for name, path in sorted(_packaged().items()):
        try:
            out[name] = tomllib.loads(path.read_text(encoding="utf-8")).get("description", "")
        except (OSError, tomllib.TOMLDecodeError):  # pragma: no cover - packaged files
            out[name] = "(unreadable)"
    return out


def load_profile(name_or_path: str, *, allow_long: bool = False) -> Profile:
    """Load a packaged profile by name, or a profile file by path (``*.toml``).

    A design that cannot run here is refused (:func:`collapsecheck.costs.require_profile`):
    one that needs more memory than this run's budget always, one estimated to take over
    an hour unless ``allow_long``.
    """
    packaged = _packaged()
    if name_or_path in packaged and not Path(name_or_path).exists():
        text = packaged[name_or_path].read_text(encoding="utf-8")
        source = f"packaged profile {name_or_path!r}"
    else:
        path = Path(name_or_path)
        if not path.suffix == ".toml" and not path.exists():
            raise InputError(
                f"unknown profile {name_or_path!r}; choose one of "
                f"{', '.join(sorted(packaged))} or give a path to a .toml file."
            )
        if not path.is_file():
            raise InputError(f"profile file {name_or_path!r} does not exist or is not a file.")
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise InputError(f"profile file {name_or_path!r} is larger than 1 MiB.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"profile file {name_or_path!r} is not UTF-8 text.") from None
        source = str(path)
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark (some editors write one)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"profile {source}: not valid TOML ({exc}).") from None
    return parse_profile(raw, source, allow_long=allow_long)


def declared_claims(family: str | None = None) -> tuple[str, Any]:
    """The family whose claims a ``[claims]`` table holds, and its declaration.

    Parameters
    ----------
    family : str or None
        A registered family's name (the table's ``family`` key); None: the one
        registered family that declares claims.

    Returns
    -------
    name : str
    claims : FamilyClaims
        What ``FamilySpec.claims`` names (:class:`~collapsecheck.families.protocol.FamilyClaims`),
        its module imported.

    Raises
    ------
    TypeError
        If ``family`` is not a string.
    ValueError
        If ``family`` is not registered, or declares no claims; without ``family``, if no
        registered family declares claims, or several do (the table must then name one).
    """
    from collapsecheck.families import FAMILIES, spec, specs

    if family is None:
        named = [s.name for s in specs() if s.claims]
        if len(named) != 1:
            raise ValueError("no registered family declares claims." if not named else
                             f"`family` must name whose claims these are, one of "
                             f"{', '.join(named)}.")
        family = named[0]
    elif not isinstance(family, str):
        raise TypeError(f"`family` must be a string naming a family; got {family!r}.")
    ref = spec(family).claims  # ValueError naming the registered families
    if not ref:
        named = [name for name in FAMILIES if spec(name).claims]
        raise ValueError(f"`family` = {family!r} names a family that declares no claims; "
                         f"the families that do: {', '.join(named) or 'none'}.")
    module, name = ref.split(":")
    return family, getattr(importlib.import_module(module), name)


def _expect(raw: dict, key: str, kind, source: str, default=None):
    if key not in raw:
        if default is None:
            raise InputError(f"profile {source}: missing key `{key}`.")
        return default
    value = raw[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"profile {source}: key `{key}` must be {kind.__name__}; got {value!r}.")
    return value


def parse_profile(raw: dict, source: str = "<dict>", *, allow_long: bool = False) -> Profile:
    """Validate a parsed TOML mapping and build the :class:`Profile`; refuse a design that
    cannot run here (see :func:`load_profile`)."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise InputError(f"profile {source}: unknown key(s) {unknown}; allowed: "
                         f"{sorted(_TOP_KEYS)}.")
    name = _expect(raw, "name", str, source)
    description = _expect(raw, "description", str, source, "")
    seed = _expect(raw, "seed", int, source)
    if seed < 0:
        raise InputError(f"profile {source}: `seed` must be >= 0; got {seed}.")
    budget = _expect(raw, "budget", float, source)
    weak = _expect(raw, "weak_alpha", float, source, 0.01)
    factor = _expect(raw, "escalation_factor", int, source, 4)
    engine = _expect(raw, "engine", str, source, "sufficient")
    if not 0 < budget < 0.5:
        raise InputError(f"profile {source}: `budget` must lie in (0, 0.5); got {budget}.")
    if factor < 1:
        raise InputError(f"profile {source}: `escalation_factor` must be >= 1; got {factor}.")
    if engine not in ("samples", "sufficient"):
        raise InputError(f"profile {source}: `engine` must be samples or sufficient; "
                         f"got {engine!r}.")
    tables = raw.get("checks", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise InputError(f"profile {source}: `checks` must be an array of tables ([[checks]]).")
    checks = []
    for i, table in enumerate(tables):
        try:
            checks.append(build_check(table, {"engine": engine}))
        except (ValueError, TypeError) as exc:
            raise InputError(f"profile {source}: checks[{i}]: {exc}") from None
    ids = [c.id for c in checks]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"profile {source}: duplicate check id(s) {dup}; give each an `id`.")
    from collapsecheck.costs import escalation_iv, require_profile

    escalation_iv(checks, factor, source)  # before the re-runs' miss rates are computed
    per_check = budget / max(1, len(checks))
    if not per_check / 2 < weak < 1:
        raise InputError(f"profile {source}: `weak_alpha` must lie in ({per_check / 2:.3g}, 1); "
                         f"got {weak}.")
    for c in checks:
        miss = c.miss_rate(per_check, c.replicates) * c.miss_rate(per_check,
                                                                  c.replicates * factor)
        if c.kind == "confirmatory" and not miss <= per_check:
            raise InputError(
                f"profile {source}: check {c.id!r} would miss (fail a correct simulator) with "
                f"probability {miss:.3g} over both stages, above its share {per_check:.3g} of "
                "the budget; raise its replicates or widen its margin."
            )
    claims = claims_family = None
    if "claims" in raw:
        if not isinstance(raw["claims"], dict):
            raise InputError(f"profile {source}: `claims` must be a table ([claims]).")
        table = dict(raw["claims"])
        try:
            claims_family, declared = declared_claims(table.pop("family", None))
            claims = declared.from_mapping(table)
        except (ValueError, TypeError) as exc:
            raise InputError(f"profile {source}: [claims]: {exc}") from None
    if not checks and claims is None:
        raise InputError(f"profile {source}: no checks and no claims: nothing to run.")
    profile = Profile(name, description, seed, budget, weak, factor, engine, tuple(checks),
                      claims, source, raw, claims_family)
    require_profile(profile, source, allow_long=allow_long)
    return profile


def thresholds(profile: Profile) -> dict[str, float]:
    """The per-check thresholds that keep P(any FAIL | correct simulator) <= budget.

    Bonferroni over the m checks gives each a share a = budget/m. A consistency check
    FAILs at once when p < a/2, is WEAK when p < weak_alpha, and a WEAK one FAILs when
    its re-run on an independent stream has p < a/(2 weak_alpha). With valid p-values,
    P(FAIL) <= a/2 + weak_alpha * a/(2 weak_alpha) = a. A confirmatory check FAILs only
    if both stages miss; the profile is refused unless that probability, computed from
    exact theory, is <= a.
    """
    m = max(1, len(profile.checks))
    a = profile.budget / m
    return {"per_check": a, "fail": a / 2, "weak": profile.weak_alpha,
            "escalated_fail": a / (2 * profile.weak_alpha)}


def budget_summary(profile: Profile) -> dict[str, Any]:
    t = thresholds(profile)
    return {
        "total": profile.budget,
        "rule": ("Bonferroni over checks; two-stage per check: FAIL if p < fail; WEAK if "
                 "p < weak, then re-run with independent streams and escalation_factor x "
                 "replicates and FAIL if p < escalated_fail; so P(FAIL) <= per_check for a "
                 "correct simulator. Confirmatory checks FAIL only if both stages miss, with "
                 "miss rates computed from exact theory at their design."),
        "checks": len(profile.checks),
        "escalation_factor": profile.escalation_factor,
        **t,
        "fixed_seed_note": ("the profile's fixed seed makes a CI run deterministic; "
                            "`collapsecheck calibrate` measures how often other seeds fail"),
    }
