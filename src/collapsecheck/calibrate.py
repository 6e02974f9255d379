"""Measure a profile's false-alarm rate by running its checks over many seeds, and how
often deliberately wrong simulators (:data:`collapsecheck.mutants.MUTANTS`) are caught.

A profile's fixed seed makes a CI run deterministic; this measures how often other seeds
would turn a correct simulator red, and whether each consistency check's first-stage
p-values are uniform (the assumption the budget rests on).

* ``fail_rate`` (also ``false_alarm_rate``): runs with at least one FAIL out of K, with
  the correct simulator (the built-in engines), with a two-sided Clopper-Pearson 95%
  interval, its exact one-sided 95% upper bound ``beta.ppf(0.95, k + 1, K - k)`` (1 when
  k = K; 0 FAILs in 3000 runs give 1 - 0.05**(1/3000) = 0.000998), and a one-sided
  binomial test of H0 rate <= budget (:func:`scipy.stats.binomtest`).
* per check: FAIL and WEAK counts, and a one-sided KS test that the first-stage p-values
  of consistency checks are not stochastically smaller than U(0, 1) (valid: P(p <= a)
  <= a; conservative is allowed).
* ``weak_rate``: runs in which at least one consistency check was WEAK at its first
  stage, beside ``weak_rate_design``, what the design predicts. A first stage is WEAK
  when ``fail <= p < weak_alpha`` (:func:`collapsecheck.results.grade`, ``fail`` = a/2,
  a = budget / m over the m checks), so with exactly uniform p-values each consistency
  check is WEAK with probability ``weak_alpha - a/2``, independently across checks (they
  draw from independent streams)::

      weak_rate_design = 1 - prod over consistency checks of (1 - (weak_alpha - a/2))

  (confirmatory checks are left out of both: their first stage is WEAK when it misses,
  at the rate their design computes, reported per check as ``weak_rate_design``).
* ``pvalue_uniformity``: the per-check one-sided KS p-values above, and
  ``pvalue_uniformity_p``, one test over all consistency checks: Bonferroni,
  min(1, m' x the smallest), m' the number of consistency checks; valid whatever the
  dependence between the checks' p-values.
* ``mutants``: for each requested mutant, the runs (one per seed, every check with its
  two-stage grading, the mutant as the simulator under test, as ``validate --simulator``
  runs it) that end with at least one FAIL: ``kill_rate`` = killed / K, with its exact
  one-sided 95% lower bound ``beta.ppf(0.05, k, K - k + 1)`` (0 when k = 0; 60 of 60
  give 0.05**(1/60) = 0.951), and ``killed_by``: per check, the runs it FAILed.

The calibration fails (``passed`` false) when the binomial test rejects at level 0.001
or a check's p-values are too small at level 0.001 / (number of checks). The command
exits 1 when the calibration fails or a requested mutant's kill rate is below
:data:`KILL_RATE_REQUIRED` (``mutants_passed`` false).

Seeds (and the mutants' runs) run in worker processes when ``workers`` is not 1 and
there is more than one run; every run draws from its seed alone, so the results do not
depend on ``workers``.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats as sps

from collapsecheck.profiles import Profile, thresholds
from collapsecheck.results import Verdict
from collapsecheck.validate import guarded, run_check

__all__ = ["KILL_RATE_REQUIRED", "CalibrationResult", "calibrate", "lower_bound95",
           "mutant_names", "run_estimates", "upper_bound95"]

CALIBRATION_ALPHA = 1e-3
#: A requested mutant caught in fewer runs than this fraction fails the command (exit 1).
KILL_RATE_REQUIRED = 0.95
#: Mutants that draw every value up to n = DRAWS_MAX_N (priced as the samples engine).
_DRAWS_EVERY_VALUE = ("truncated-tails", "mad-sigma")


def upper_bound95(k: int, runs: int) -> float:
    """Exact (Clopper-Pearson) one-sided 95% upper bound of a rate seen k times in
    ``runs``: ``beta.ppf(0.95, k + 1, runs - k)``, 1 when k = runs."""
    return 1.0 if k >= runs else float(sps.beta.ppf(0.95, k + 1, runs - k))


def lower_bound95(k: int, runs: int) -> float:
    """Exact (Clopper-Pearson) one-sided 95% lower bound of a rate seen k times in
    ``runs``: ``beta.ppf(0.05, k, runs - k + 1)``, 0 when k = 0."""
    return 0.0 if k <= 0 else float(sps.beta.ppf(0.05, k, runs - k + 1))


def mutant_names(requested: Iterable[str]) -> list[str]:
    """The mutants asked for, in order and once each (:func:`collapsecheck.mutants.select`:
    ``all`` for every one, comma-separated lists allowed). An unknown name is a
    ValueError listing the valid ones."""
    from collapsecheck.mutants import select

    return select(requested)


@dataclass(frozen=True)
class CalibrationResult:
    profile: str
    seeds: list[int]
    budget: float
    runs: int
    failed_runs: int
    fail_rate_ci95: tuple[float, float]
    fail_rate_pvalue: float
    checks: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    weak_runs: int = 0
    weak_rate_design: float = 0.0
    mutants: list[dict] = field(default_factory=list)
    pvalues: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def conclusive(self) -> bool:
        """Enough runs to see a false-alarm rate at the budget (about 3/budget: then a
        rate of the budget gives a FAIL with probability 0.95)."""
        return self.runs * self.budget >= 3

    @property
    def passed(self) -> bool:
        uniform_ok = all(c.get("validity_ok", True) for c in self.checks.values())
        return self.fail_rate_pvalue >= CALIBRATION_ALPHA and uniform_ok

    @property
    def false_alarm_upper95(self) -> float:
        return upper_bound95(self.failed_runs, self.runs)

    @property
    def mutants_passed(self) -> bool:
        """Every requested mutant killed in at least :data:`KILL_RATE_REQUIRED` of the
        runs (true when none was requested)."""
        return all(m["kill_rate"] >= KILL_RATE_REQUIRED for m in self.mutants)

    @property
    def ok(self) -> bool:
        """The command's verdict: the calibration passed and every mutant was caught."""
        return self.passed and self.mutants_passed

    def pvalue_uniformity(self) -> dict[str, float]:
        """Per consistency check, the one-sided KS p-value of its first-stage p-values."""
        return {cid: c["uniformity_pvalue"] for cid, c in self.checks.items()
                if "uniformity_pvalue" in c}

    def pvalue_uniformity_p(self) -> float | None:
        """Bonferroni over the consistency checks: min(1, m' x the smallest KS p)."""
        ps = list(self.pvalue_uniformity().values())
        return min(1.0, len(ps) * min(ps)) if ps else None

    def to_dict(self) -> dict:
        rate = self.failed_runs / self.runs
        return {
            "profile": self.profile, "seeds": self.runs, "first_seed": self.seeds[0],
            "seed_range": [self.seeds[0], self.seeds[-1]],
            "runs": self.runs, "budget": self.budget, "failed_runs": self.failed_runs,
            "fail_rate": rate,
            "fail_rate_ci95": list(self.fail_rate_ci95),
            "fail_rate_pvalue_vs_budget": self.fail_rate_pvalue,
            "false_alarm_rate": rate, "false_alarm_ci95": list(self.fail_rate_ci95),
            "false_alarm_upper95": self.false_alarm_upper95,
            "false_alarm_budget": self.budget,
            "weak_runs": self.weak_runs, "weak_rate": self.weak_runs / self.runs,
            "weak_rate_design": self.weak_rate_design,
            "pvalue_uniformity_p": self.pvalue_uniformity_p(),
            "pvalue_uniformity_correction": "bonferroni",
            "pvalue_uniformity": self.pvalue_uniformity(),
            "passed": self.passed, "conclusive_about_budget": self.conclusive,
            "mutants": self.mutants, "kill_rate_required": KILL_RATE_REQUIRED,
            "mutants_passed": self.mutants_passed,
            "checks": self.checks, "seconds": self.seconds,
        }


def calibrate(profile: Profile, seeds: list[int], *, workers: int | None = None,
              progress: Callable[[str, int, int], None] | None = None,
              allow_long: bool = False, mutants: Sequence[str] = (),
              mutant_seeds: int | None = None) -> CalibrationResult:
    """Run every check of ``profile`` once per seed with the built-in engines, and once
    per seed with each of ``mutants`` (names in :data:`collapsecheck.mutants.MUTANTS`,
    ``all`` for every one) as the simulator under test: on the first ``mutant_seeds``
    seeds when given (a mutant's kill rate needs far fewer seeds than a false-alarm rate
    near the budget).

    With ``workers`` other than 1 and more than one run, the runs (a seed, or a seed and a
    mutant) go to worker processes (``workers``, or every core when None), each running
    its checks on one worker; the results do not depend on ``workers``. Ctrl-C terminates
    the worker processes at once.

    A calibration that cannot fit in memory, or (unless ``allow_long``) is estimated to
    take over an hour (per seed times seeds, :func:`collapsecheck.costs.require_calibration`,
    plus the mutants' runs), is refused before any runs."""
    if not seeds:
        raise ValueError("`seeds` must not be empty.")
    names = mutant_names(mutants)
    if mutant_seeds is not None and not (isinstance(mutant_seeds, int) and mutant_seeds >= 1):
        raise ValueError(f"`mutant_seeds` must be a whole number >= 1; got {mutant_seeds!r}.")
    mseeds = list(seeds[:mutant_seeds]) if mutant_seeds is not None else list(seeds)
    price = _require(profile, len(seeds), names, workers, allow_long,
                     mutant_runs=len(mseeds))
    start = time.perf_counter()
    tasks = [(seed, None) for seed in seeds] + [(seed, m) for seed in mseeds for m in names]
    results = _run_all(profile, tasks, workers, progress, price.bytes)
    if progress:
        progress("done", len(tasks), len(tasks))
    runs = len(seeds)
    t = thresholds(profile)
    per_check: dict[str, dict] = {c.id: {"kind": c.kind, "fail": 0, "weak": 0, "p": []}
                                  for c in profile.checks}
    failed = weak_runs = 0
    kills = {m: {"killed": 0, "killed_by": {c.id: 0 for c in profile.checks}} for m in names}
    for (_, mutant), res in zip(tasks, results, strict=True):
        any_fail = any(f for _, _, f in res)
        if mutant is not None:
            kills[mutant]["killed"] += any_fail
            for check, (_, _, f) in zip(profile.checks, res, strict=True):
                kills[mutant]["killed_by"][check.id] += f
            continue
        failed += any_fail
        any_weak = False
        for check, (pvalue, verdict, f) in zip(profile.checks, res, strict=True):
            rec = per_check[check.id]
            rec["p"].append(pvalue)
            rec["weak"] += verdict == Verdict.WEAK.value
            rec["fail"] += f
            any_weak |= check.kind == "consistency" and verdict == Verdict.WEAK.value
        weak_runs += any_weak
    test = sps.binomtest(failed, runs, profile.budget, alternative="greater")
    ci = sps.binomtest(failed, runs).proportion_ci(confidence_level=0.95, method="exact")
    m = max(1, len(profile.checks))
    checks = {}
    pvalues = {c.id: [float(x) for x in per_check[c.id]["p"]] for c in profile.checks
               if c.kind == "consistency"}
    no_weak = 1.0
    for check in profile.checks:
        rec = per_check[check.id]
        p = np.array(rec.pop("p"), dtype=float)
        p = np.where(np.isnan(p), 0.0, p)  # a NaN p-value FAILs: as small as it gets
        out = {**rec, "weak_rate": rec["weak"] / runs}
        if check.kind == "consistency":
            design = max(0.0, t["weak"] - t["fail"])
            no_weak *= 1.0 - design
        else:
            design = float(check.miss_rate(t["per_check"], check.replicates))
        out["weak_rate_design"] = design
        if check.kind == "consistency":
            # Validity, not exact uniformity: the budget needs P(p <= a) <= a, which a
            # conservative p-value (e.g. a Bonferroni combination, capped at 1) also meets.
            # One-sided KS: H1 is that p-values are stochastically smaller than uniform.
            ks = float(sps.kstest(p, "uniform", alternative="greater").pvalue)
            out["uniformity_pvalue"] = ks
            if p.size >= 5:
                out["validity_pvalue"] = ks
                out["validity_ok"] = bool(ks >= CALIBRATION_ALPHA / m)
        checks[check.id] = out
    from collapsecheck.mutants import ALL_MUTANTS

    mutant_records = [{
        "name": name, "summary": ALL_MUTANTS[name].summary, "seeds": len(mseeds),
        "killed": rec["killed"], "kill_rate": rec["killed"] / len(mseeds),
        "kill_lower95": lower_bound95(rec["killed"], len(mseeds)),
        "killed_by": rec["killed_by"],
    } for name, rec in kills.items()]
    return CalibrationResult(profile.name, list(seeds), profile.budget, runs, failed,
                             (float(ci.low), float(ci.high)), float(test.pvalue), checks,
                             time.perf_counter() - start, weak_runs, 1.0 - no_weak,
                             mutant_records, pvalues)


# ---------------------------------------------------------------------------------------
# Running: one run is one seed, with the engines or one mutant
# ---------------------------------------------------------------------------------------


def _label(seed: int, mutant: str | None) -> str:
    return f"seed {seed}" if mutant is None else f"seed {seed}, mutant {mutant}"


def _one_run(profile: Profile, seed: int, mutant: str | None,
             workers: int | None) -> list[tuple[float, str, bool]]:
    """Every check of ``profile`` at ``seed`` (the engines, or the mutant through
    :func:`collapsecheck.validate.guarded`, as ``validate --simulator`` runs it): per
    check, its first-stage p-value and verdict and whether it ended FAIL."""
    simulator = None
    if mutant is not None:
        from collapsecheck.mutants import ALL_MUTANTS

        simulator = guarded(ALL_MUTANTS[mutant])
    run = replace(profile, seed=seed)
    out = []
    for check in profile.checks:
        res = run_check(check, run, simulator, workers=workers)
        first = res.stages[0]
        out.append((float(first.pvalue), first.verdict.value, res.verdict is Verdict.FAIL))
    return out


def _ignore_sigint() -> None:
    """Worker processes leave Ctrl-C to the parent, which terminates them."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool_run(profile: Profile, seed: int, mutant: str | None) -> list:
    from collapsecheck.engines._threads import one_thread_per_worker

    with one_thread_per_worker():
        return _one_run(profile, seed, mutant, 1)


def _processes(workers: int | None, runs: int, peak_bytes: float) -> int:
    """Worker processes for ``runs`` runs: 1 (run here) when ``workers`` is 1 or there is
    one run; else ``workers`` (every core when None), at most the runs, and no more than
    the memory budget holds at the largest check's peak each."""
    from collapsecheck.resources import available_cores, memory_budget

    if workers == 1 or runs <= 1:
        return 1
    procs = min(workers or available_cores(), runs)
    if peak_bytes > 0:
        procs = min(procs, max(1, int(memory_budget() // peak_bytes)))
    return max(1, procs)


def _run_all(profile: Profile, tasks: list[tuple[int, str | None]], workers: int | None,
             progress: Callable[[str, int, int], None] | None, peak_bytes: float) -> list:
    """Run ``tasks`` ((seed, mutant or None) each); results in the order of ``tasks``."""
    total = len(tasks)
    procs = _processes(workers, total, peak_bytes)
    if procs == 1:
        results = []
        for i, (seed, mutant) in enumerate(tasks):
            if progress:
                progress(_label(seed, mutant), i, total)
            results.append(_one_run(profile, seed, mutant, workers))
        return results
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from collapsecheck.engines._blocks import _abandon, _context

    if progress:
        progress(f"{total} runs on {procs} processes", 0, total)
    results: list = [None] * total
    pool = ProcessPoolExecutor(max_workers=procs, mp_context=_context(),
                               initializer=_ignore_sigint)
    finished_cleanly = False
    try:
        queue = iter(range(total))
        pending = {}

        def submit(i: int) -> None:
            pending[pool.submit(_pool_run, profile, *tasks[i])] = i

        for i in itertools.islice(queue, 2 * procs):
            submit(i)
        done = 0
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                results[i] = fut.result()
                done += 1
                if progress:
                    progress(f"{_label(*tasks[i])} done", done, total)
                nxt = next(queue, None)
                if nxt is not None:
                    submit(nxt)
        finished_cleanly = True
    finally:
        if finished_cleanly:
            pool.shutdown(wait=True)
        else:  # Ctrl-C or an error: cancel what is queued, terminate the workers
            _abandon(pool)
    return results


# ---------------------------------------------------------------------------------------
# Price
# ---------------------------------------------------------------------------------------


def run_estimates(profile: Profile, seeds: int, mutants: Sequence[str] = (),
                  mutant_seeds: int | None = None, workers: int | None = None
                  ) -> tuple[float, ...]:
    """Priced wall seconds of each run of :func:`calibrate` with the same arguments, in
    the order its progress counts them (the engines' runs, then each seed's mutants):
    a run's core-seconds on one worker (every check's first stage, plus its escalation
    weighted by the chance that it escalates, as :mod:`collapsecheck.costs` prices a
    calibration) over the worker processes that share the runs. For an estimate of the
    time left, not a promise."""
    from collapsecheck.costs import _calibration

    names = mutant_names(mutants)
    mseeds = seeds if mutant_seeds is None else min(mutant_seeds, seeds)
    engines = _calibration(profile, 1, 1)[1]  # one seed's checks on one worker
    runs = [engines] * seeds + [_mutant_seconds(profile, m) for _ in range(mseeds)
                                for m in names]
    procs = _processes(workers, len(runs), 0.0)
    return tuple(r / procs for r in runs)


def _mutant_seconds(profile: Profile, name: str) -> float:
    """Core-seconds of one seed's run of ``profile`` against mutant ``name`` (one worker):
    each check's first stage as the engine it names (as the samples engine for a mutant
    that draws every value, up to n = DRAWS_MAX_N), plus its escalation: always for a
    confirmatory check (a mutant that moves the drift makes its first stage miss),
    with probability weak_alpha for a consistency check (a check that catches the mutant
    mostly FAILs at once)."""
    from collapsecheck.costs import check_cost
    from collapsecheck.mutants import DRAWS_MAX_N

    total = 0.0
    for check in profile.checks:
        priced = check
        if name in _DRAWS_EVERY_VALUE and check.n <= DRAWS_MAX_N and check.engine != "samples":
            priced = copy.copy(check)
            object.__setattr__(priced, "engine", "samples")
        first = check_cost(priced, cores=1).seconds
        again = check_cost(priced, check.replicates * profile.escalation_factor, 1).seconds
        escalates = 1.0 if check.kind == "confirmatory" else profile.weak_alpha
        total += first + escalates * again
    return total


def _require(profile: Profile, seeds: int, mutants: list[str], workers: int | None,
             allow_long: bool, mutant_runs: int | None = None):
    """:func:`collapsecheck.costs.require_calibration` for the engines' runs, plus the
    mutants' runs (seeds x mutants x the profile's checks, on the worker processes)."""
    from collapsecheck.costs import LONG_S, Cost, fmt_seconds, require_calibration
    from collapsecheck.resources import ResourceError, available_cores

    cores = min(workers, available_cores()) if workers else None
    if not mutants:
        return require_calibration(profile, seeds, allow_long=allow_long, cores=cores)
    price = require_calibration(profile, seeds, allow_long=True, cores=cores)
    on = cores or available_cores()
    mseeds = seeds if mutant_runs is None else mutant_runs
    runs = seeds + mseeds * len(mutants)
    parallel = 1 if workers == 1 or runs <= 1 else min(on, runs)
    per_seed = sum(_mutant_seconds(profile, m) for m in mutants) / parallel
    seconds = price.seconds + mseeds * per_seed
    if not allow_long and seconds > LONG_S:
        source = profile.source or profile.name
        limit = f"{LONG_S / 3600:g} h" if LONG_S >= 3600 else fmt_seconds(LONG_S)
        raise ResourceError(
            f"profile {source}: calibrating it over `--seeds` = {seeds} with "
            f"{len(mutants)} mutant{'s' if len(mutants) != 1 else ''} would take about "
            f"{fmt_seconds(seconds)} on {on} core{'s' if on != 1 else ''} (the mutants "
            f"about {fmt_seconds(per_seed)} per seed), over the {limit} limit; use fewer "
            "--seeds or --mutant, or pass --allow-long to run it anyway.")
    return Cost(seconds, price.bytes, price.draws)
