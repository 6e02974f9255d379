"""Run a profile: every check with its escalation, the article's claims, the figures.

Seeds: check ``id`` at stage ``s`` (0 first run, 1 escalation) draws from
``SeedSequence(profile_seed, spawn_key=(crc32(id), s))``, so each check's streams are
independent of the others', independent between stages, and unchanged when checks are
added to or removed from a profile.

A simulator under test (``simulator=``, ``validate --simulator``) makes every simulated
number of the run: the checks' chains, the claims' simulated numbers (the ``evaluate`` of
the claims' family, ``FamilySpec.claims``: the Gaussian family's is
:func:`~collapsecheck.families.gaussian.checks.article.evaluate_claims`) and the figures'
chains; what only a built-in engine or exact theory gives is marked so (``source`` of
each claim number; the figures' titles). Its checks are named by :meth:`Check.base_id`
(no engine: none runs), their streams derived from that id, never from the simulator's
name; two checks of the profile that differ only by engine are then one test and run
once (``spec["merged_checks"]``). ``spec`` keeps ``"simulator": "custom" | "built-in"`` and
adds ``simulator_name`` (as given, e.g. ``"pkg.mod:func"``) and ``tested``, a sentence
saying what the run tested.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from collapsecheck.checks import Check, Simulator
from collapsecheck.profiles import Profile, budget_summary, declared_claims, thresholds
from collapsecheck.records import environment
from collapsecheck.results import (
    CheckResult,
    ControlResult,
    Stage,
    ValidationReport,
    Verdict,
    grade,
)
from collapsecheck.seeds import derived_seed

__all__ = ["check_seed", "control_names", "run_check", "run_profile", "simulator_checks",
           "simulator_label", "step_estimates"]


def control_names(names: Iterable[str]) -> tuple[str, ...]:
    """Positive-control names as given (:func:`collapsecheck.mutants.select`: a group's
    name, such as ``"all"`` or ``"regimes"``, or a family's, for its mutants; each entry
    may be a comma-separated list), in order, without repeats. An unknown name is an
    :class:`~collapsecheck.errors.InputError` listing the valid ones, group by group."""
    from collapsecheck.errors import InputError
    from collapsecheck.mutants import UnknownMutant, mutant_groups, select

    try:
        return tuple(select(names))
    except UnknownMutant as exc:
        takes = "; or ".join(f"{group!r} or names from: {', '.join(members)}"
                             for group, members in mutant_groups())
        raise InputError(f"unknown control {exc.name!r}; --controls takes {takes}.") from None


def check_seed(profile_seed: int, check_id: str, stage: int) -> tuple[int, tuple[int, int]]:
    """The experiment seed of one stage of one check, and its spawn key."""
    key = (zlib.crc32(check_id.encode("utf-8")), stage)
    return derived_seed(profile_seed, key), key


def _stage_verdict(check: Check, pvalue: float, stage: int, t: dict) -> Verdict:
    if math.isnan(pvalue):
        return Verdict.FAIL
    if check.kind == "confirmatory":
        if pvalue <= check.confirm_level:
            return Verdict.PASS
        return Verdict.WEAK if stage == 0 else Verdict.FAIL
    if stage == 0:
        return grade(pvalue, fail=t["fail"], weak=t["weak"])
    return grade(pvalue, fail=t["escalated_fail"], weak=t["escalated_fail"])


def run_check(check: Check, profile: Profile, simulator: Simulator | None = None,
              workers: int | None = None, scheduler: str | None = None,
              simulator_name: str | None = None) -> CheckResult:
    """Run one check, escalating a WEAK first stage once. With ``simulator_name`` (the
    name of ``simulator``) the result's ``spec`` names it (``"engine": "simulator"``,
    ``"simulator": simulator_name``) instead of the check's built-in engine."""
    t = thresholds(profile)
    sim = simulator or check.simulator(workers, scheduler)
    stages: list[Stage] = []
    start = time.perf_counter()
    replicates = check.replicates
    first_spec = None
    for stage in (0, 1):
        seed, key = check_seed(profile.seed, check.id, stage)
        experiment = check.experiment(seed, replicates)  # the check's family's parameters
        first_spec = first_spec or experiment.to_dict()
        outcome = check.run(experiment, sim)
        verdict = _stage_verdict(check, outcome.pvalue, stage, t)
        stages.append(Stage(seed, key, replicates, outcome.statistic, outcome.pvalue, verdict,
                            outcome.numbers))
        if verdict is not Verdict.WEAK:
            break
        replicates = check.replicates * profile.escalation_factor
    last = stages[-1]
    thresholds_used = ({"confirm_at_or_below": check.confirm_level,
                        "designed_miss_rate_both_stages":
                            check.miss_rate(t["per_check"], check.replicates)
                            * check.miss_rate(t["per_check"],
                                              check.replicates * profile.escalation_factor)}
                       if check.kind == "confirmatory"
                       else {"fail": t["fail"], "weak": t["weak"],
                             "escalated_fail": t["escalated_fail"]})
    return CheckResult(
        id=check.id, family=check.family, statement=check.statement(), test=check.test_name(),
        verdict=last.verdict, statistic=last.statistic, pvalue=last.pvalue,
        alpha=t["per_check"], thresholds=thresholds_used,
        detectable_effect=check.detectable_effect(t["fail"], check.replicates),
        stages=tuple(stages),
        spec=({**first_spec, "engine": check.engine} if simulator_name is None else
              {**first_spec, "engine": "simulator", "simulator": simulator_name}),
        numbers=last.details, kind=check.kind, seconds=time.perf_counter() - start,
    )


def simulator_label(simulator) -> str:
    """``module:qualname`` of a simulator callable, for a report that was given no name."""
    try:
        module = getattr(simulator, "__module__", None) or "?"
        name = (getattr(simulator, "__qualname__", None) or getattr(simulator, "__name__", None)
                or type(simulator).__name__)
        return f"{module}:{name}"
    except Exception:
        return "simulator"


def simulator_checks(checks: Iterable[Check]) -> tuple[tuple[Check, ...], dict[str, list[str]]]:
    """The checks as run on a simulator under test: each named by its
    :meth:`~collapsecheck.checks.Check.base_id`, and of several with the same base id
    (the profile ran one design on both engines) only the first; ``merged`` maps a kept
    id to the profile's ids it stands for when there were several."""
    out: dict[str, Check] = {}
    merged: dict[str, list[str]] = {}
    for c in checks:
        base = c.base_id()
        merged.setdefault(base, []).append(c.id)
        if base not in out:
            out[base] = c if c.id == base else replace(c, id=base)
    return tuple(out.values()), {k: v for k, v in merged.items() if len(v) > 1}


def _tested(profile: Profile, name: str | None, merged: dict, figures: bool) -> str:
    """One sentence: what this run tested, and where its numbers come from."""
    n = len(profile.checks)
    claims = profile.claims is not None
    subject = declared_claims(profile.claims_family)[1].subject if claims else ""
    if name is None:
        engines = sorted({c.engine for c in profile.checks})
        text = (f"the built-in engines ({', '.join(engines) or 'none'}) against exact theory: "
                f"{n} check(s)")
        if claims:
            text += (f"; the simulated numbers of {subject} from the built-in "
                     f"{profile.claims.engine} engine")
        if figures:
            text += "; the figures' chains from the built-in sufficient engine"
        return text + "."
    text = (f"the simulator {name!r} against exact theory: every simulated number of the "
            f"{n} check(s) comes from it (named without an engine; their streams derive "
            "from those names)")
    if merged:
        text += (f", {sum(len(v) - 1 for v in merged.values())} profile check(s) that "
                 "differed only by engine merged into the one test they make of it")
    if claims:
        text += (f"; so do the simulated numbers of {subject} (each number's `source`), "
                 "whose verdicts are decided by exact theory")
    if figures:
        text += "; the figures' chains and PIT plots come from it too"
    if any(c.family == "regimes" for c in profile.checks) and figures:
        text += " (the regimes figure alone is drawn from the built-in engines)"
    if any(c.family == "engines" for c in profile.checks):
        text += "; engines_agree checks compare it with the built-in engine they name"
    return text + "."


def guarded(simulator: Simulator) -> Simulator:
    """Wrap a user's simulator: whatever it raises (any exception, ``SystemExit``, a
    ``KeyboardInterrupt`` of its own, any ``BaseException``) and malformed results become
    an :class:`~collapsecheck.errors.InputError` naming the problem (the user's code, not
    a bug in collapsecheck); a real Ctrl-C stays an interrupt. What it prints goes to
    stderr, so stdout keeps only collapsecheck's output."""
    import importlib

    from collapsecheck.families import spec
    from collapsecheck.plugin import simulator_failure, stdout_to_stderr

    try:
        name = str(getattr(simulator, "__name__", None) or type(simulator).__name__)
    except Exception:
        name = "simulator"

    def run(experiment: Any, record):  # a family's parameters
        try:
            with stdout_to_stderr():
                traj = simulator(experiment, record)
        except BaseException as exc:
            raise simulator_failure(f"the simulator {name!r}", exc) from None
        # each family's rules for what its simulator returns (FamilySpec.results)
        family = getattr(type(experiment), "family", "gaussian")
        module, function = spec(family).results.split(":")
        return getattr(importlib.import_module(module), function)(traj, experiment, record,
                                                                  name)

    return run


def _require_controls_time(profile: Profile, price, controls: tuple[str, ...]) -> None:
    """Refuse controls that would take the run over the hour: each costs about one more
    pass over the checks' first stages (a caught control seldom escalates)."""
    from collapsecheck.costs import LONG_S, fmt_seconds
    from collapsecheck.resources import ResourceError

    per_pass = sum(i.cost.seconds for i in price.items if i.index is not None and i.stage == 1)
    total = price.seconds + len(controls) * per_pass
    if total > LONG_S:
        raise ResourceError(
            f"profile {profile.source or profile.name}: --controls: {len(controls)} "
            f"control(s) add about {fmt_seconds(len(controls) * per_pass)} to the run's "
            f"{fmt_seconds(price.seconds)}, about {fmt_seconds(total)} in all, over the "
            f"{LONG_S / 3600:g} h limit; name fewer controls, or pass --allow-long to run "
            "it anyway.")


def _as_run(profile: Profile, seed: int | None, engine: str | None) -> Profile:
    """``profile`` with ``seed`` and ``engine`` (when given) in place of its own."""
    if seed is not None:
        profile = replace(profile, seed=seed)
    if engine is not None:
        checks = tuple(replace(c, engine=engine, id="") if c.id == c.default_id()
                       else replace(c, engine=engine) for c in profile.checks)
        profile = replace(profile, checks=checks, engine=engine)
    return profile


def step_estimates(profile: Profile, *, engine: str | None = None, controls: Iterable[str] = (),
                   workers: int | None = None, figures: bool = True) -> tuple[float, ...]:
    """Priced seconds of each progress step of :func:`run_profile` with the same
    arguments, in the order it reports them: every check's first stage, each control's
    pass over the checks, the article's claims, the figures
    (:func:`collapsecheck.costs.profile_cost`; an escalation is not foreseen, so a check
    that escalates takes longer than its estimate). For an estimate of the time left,
    not a promise: the prices aim to err long by up to 2x on the reference machine."""
    from collapsecheck.costs import profile_cost
    from collapsecheck.resources import available_cores

    profile = _as_run(profile, None, engine)
    cores = min(workers, available_cores()) if workers else None
    price = profile_cost(profile, cores, figures=figures)
    first = {i.index: i.cost.seconds for i in price.items
             if i.index is not None and i.stage == 1}
    checks = [first.get(i, 0.0) for i in range(len(profile.checks))]
    steps = checks * (1 + len(control_names(controls)))
    if profile.claims is not None:
        steps.append(sum(i.cost.seconds for i in price.items if i.key.startswith("claims")))
    if figures:
        steps.append(sum(i.cost.seconds for i in price.items if i.key == "figures"))
    return tuple(steps)


def run_profile(
    profile: Profile,
    *,
    simulator: Simulator | None = None,
    workers: int | None = None,
    seed: int | None = None,
    engine: str | None = None,
    command: str = "",
    progress: Callable[[str, int, int], None] | None = None,
    figures: bool = True,
    scheduler: str | None = None,
    allow_long: bool = True,
    controls: Iterable[str] = (),
    simulator_name: str | None = None,
) -> ValidationReport:
    """Run every check and claim of ``profile``.

    ``simulator`` replaces the built-in engines for every check, for the claims'
    simulated numbers and for the figures' chains (a researcher's own simulator; see the
    module docstring), ``simulator_name`` names it in the report (as the user gave it,
    e.g. ``"mysim.py:simulate"``; by default ``module:qualname``); ``seed`` and
    ``engine`` override the profile's. ``controls`` names
    positive controls (:data:`collapsecheck.mutants.MUTANTS`, or ``"all"``; see
    :func:`control_names`): each is run through every check as the simulator under test
    is (same seeds, both stages; the article's claims are not judged again) and must
    FAIL; one that does not is in ``report.uncaught_controls`` and fails the run. They
    run on the mutants whatever ``simulator`` is. With ``allow_long=False``
    the run is priced again after those overrides, on ``workers``, and refused before
    anything runs when it would take over an hour (:func:`collapsecheck.costs.require_profile`;
    :func:`~collapsecheck.profiles.load_profile` priced the profile as written).
    """
    control_list = control_names(controls)
    profile = _as_run(profile, seed, engine)
    if simulator is not None:
        simulator_name = simulator_name or simulator_label(simulator)
        simulator = guarded(simulator)
    else:
        simulator_name = None
    checks = profile.checks
    merged: dict[str, list[str]] = {}
    if simulator is not None:
        checks, merged = simulator_checks(checks)
        profile = replace(profile, checks=checks)
    if not allow_long:
        from collapsecheck.costs import require_profile
        from collapsecheck.resources import available_cores

        price = require_profile(profile, allow_long=False, figures=figures,
                                cores=min(workers, available_cores()) if workers else None)
        if control_list:
            _require_controls_time(profile, price, control_list)
    total = (len(checks) * (1 + len(control_list)) + (1 if profile.claims is not None else 0)
             + (1 if figures else 0))
    t0 = time.perf_counter()
    results = []
    for i, check in enumerate(checks):
        if progress:
            progress(check.id, i, total)
        results.append(run_check(check, profile, simulator, workers, scheduler,
                                 simulator_name))
    checks_s = time.perf_counter() - t0
    control_results = []
    done = len(checks)
    if control_list:
        from collapsecheck.mutants import ALL_MUTANTS
    for name in control_list:
        mutant = ALL_MUTANTS[name]
        tc = time.perf_counter()
        runs = []
        for check in checks:
            if progress:
                progress(f"control {name}: {check.id}", done, total)
            runs.append(run_check(check, profile, mutant, workers, scheduler,
                                  f"mutant:{name}"))
            done += 1
        control_results.append(ControlResult(name, mutant.summary, tuple(runs),
                                             time.perf_counter() - tc))
    controls_s = time.perf_counter() - t0 - checks_s
    claims = ()
    claims_s = 0.0
    if profile.claims is not None:
        declared = declared_claims(profile.claims_family)[1]  # FamilySpec.claims
        if progress:
            progress(declared.label, done, total)
        t1 = time.perf_counter()
        claims = declared.evaluate(profile.claims, seed=profile.seed, workers=workers,
                                   simulator=simulator)
        claims_s = time.perf_counter() - t1
    figs = {}
    if figures:
        from collapsecheck.figure_data import figure_data

        if progress:
            progress("figures", total - 1, total)
        figs = figure_data(profile, results, workers=workers, simulator=simulator,
                           source=("built-in engine sufficient" if simulator is None
                                   else f"simulator {simulator_name}"))
    if progress:
        progress("done", total, total)
    spec = (profile.claims.to_dict() if profile.claims is not None and
            hasattr(profile.claims, "to_dict") else {})
    timing = {"checks_s": checks_s, "claims_s": claims_s}
    if control_list:
        timing["controls_s"] = controls_s
    return ValidationReport(
        profile=profile.name, description=profile.description, seed=profile.seed,
        spec={"engine": profile.engine, "simulator": "custom" if simulator else "built-in",
              "simulator_name": simulator_name,
              "tested": _tested(profile, simulator_name, merged, figures),
              "merged_checks": merged,
              "claims": spec, "controls": list(control_list)},
        budget=budget_summary(profile), checks=tuple(results), claims=tuple(claims),
        environment=environment(), command=command,
        timing={**timing, "total_s": time.perf_counter() - t0},
        created=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        figures=figs, controls=tuple(control_results),
    )
