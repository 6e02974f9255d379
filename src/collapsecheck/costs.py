"""What a design will cost before it runs: wall time and peak memory.

A profile (or a ``simulate``) is priced from its parameters alone, with throughput
constants measured on a reference machine (below), so that a design that cannot finish
is refused when it is loaded instead of running out of memory or for days.

The model, per run of the simulator (one stage of one check, one claims simulation):

* **draws** = replicates x generations x (n for the ``samples`` engine, 2 for the
  ``sufficient`` engine: one gamma and one normal per replicate-generation).
* **simulation seconds** = core-seconds / workers, where core-seconds =
  replicates x generations x (per-step cost of the engine; for ``samples`` a fixed cost
  per replicate-generation, the Python loop per block and generation, plus n x the cost
  of one normal drawn and fitted) + replicates x recorded generations x the cost of
  recording one value + blocks of 64 replicates x the cost of seeding one block; workers
  are the cores (or ``--workers``), one for jobs under a million draws, never more than
  the blocks. Each call also pays a fixed start-up.
* **analysis seconds** (one core): the check's test on what it recorded, per analysed
  value (per replicate x quadrature node for ``log_var_gof``, whose exact CDF is a
  characteristic-function inversion per value).
* **memory** = what the check records (replicates x recorded generations x 2 arrays x 8
  bytes) x the check's measured analysis overhead (copies, differences, sorting, the
  regression's design matrix), plus the exact CDF's working blocks; the interpreter and
  the libraries (about 100 MB) are not counted.

A check's second stage (escalation) runs ``escalation_factor`` x its replicates, only after
a WEAK first stage; a design must be able to finish when it does, so a validation is priced
as every first stage, the costliest single escalation (a run in which one check turns
WEAK), the article's claims, the report's figures and a fixed overhead; its memory is the
largest of all those runs. Calibration over S seeds is priced as S x every first stage,
plus the escalations expected for a correct simulator (weak_alpha per consistency check
and seed, the design's first-stage miss rate per confirmatory check and seed), plus the
costliest escalation. A profile's claims are priced by their family
(``FamilyClaims.price``, and refused by ``FamilyClaims.require`` when they cannot run;
the article's claims: :mod:`collapsecheck.families.gaussian.claims_cost`); a family that
declares no price adds nothing.
A researcher's own simulator (``validate --simulator``) is priced as the built-in engine
each check names; a scheduler's remote workers are not counted (this machine's cores are).

The constants were measured with :func:`measure` (``python -m collapsecheck.costs``
prints fresh values for the machine it runs on), then rounded up: the model aims never to
underestimate by more than about 2x on the reference machine, and a busier or slower
machine takes longer. Time limits: :data:`LONG_S` (refused unless overridden) and
:data:`NOTICE_S` (``simulate`` prints its estimate).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from collapsecheck.resources import (
    ResourceError,
    available_cores,
    fmt_bytes,
    memory_budget,
    require_memory,
)

__all__ = ["LONG_S", "NOTICE_S", "Cost", "ProfileCost", "calibration_cost", "check_cost",
           "escalation_iv", "fmt_seconds", "output_bytes", "profile_cost",
           "recorded_generations", "require_calibration", "require_profile",
           "require_simulate", "simulate_cost", "simulate_notice", "simulation_cost"]

#: A design estimated to take longer than this is refused unless overridden (--allow-long).
LONG_S = 3600.0
#: ``simulate`` prints its estimate on stderr when it is longer than this.
NOTICE_S = 60.0

# ---------------------------------------------------------------------------------------
# Measured constants
# ---------------------------------------------------------------------------------------

#: Where and when the constants below were measured.
MEASURED_ON = ("2026-12-01; x86_64 (AMD EPYC), 2 cores, Python 3.11.7, numpy 2.4.6; "
               "python -m collapsecheck.costs, best of 3, several runs, machine shared "
               "with other work (rounded up from the quietest runs, cross-checked against "
               "benchmarks/RESULTS.md)")
# Measured (per core, 2 workers busy) -> stored:
#   sufficient, n = 1000: 46 ns (1 worker), 52-75 ns (2 workers) per replicate-generation
#     (benchmarks/RESULTS.md: 26.1 ms for 10^6 on 2 workers = 52 ns)        -> 80 ns
#   sufficient, n = 2: 1.6-2.1 x that                                          -> 2 x
#   samples: 9.4 ns (1 worker), 11.6-21 ns (2 workers) per value (RESULTS.md: 4.48 s for
#     10^9 values on 2 workers = 9 ns; the article profile's checks: 10.4 s each for
#     10^9 values with the machine half busy = 21 ns)                          -> 16 ns
#   samples, per replicate-generation besides the values: 170-320 ns           -> 300 ns
#   recording one value: 60-140 ns                                             -> 150 ns
#   one block's seeding: 54-108 us                                             -> 100 us
#   a call: 0.1-0.2 ms on threads; 45-70 ms starting worker processes    -> 10 ms, 150 ms
#   exact CDF of log sigma_T^2: 18-37 ns per value and quadrature node, 74-90 ns with
#     the machine busy                                                         -> 50 ns

#: sufficient engine: core-seconds per replicate-generation (two draws), all cores busy.
SUFFICIENT_STEP_S = 8e-8
#: ... times this at n = 2 (gamma shape 1/2 < 1: numpy's slower rejection sampler).
SUFFICIENT_N2_FACTOR = 2.0
#: samples engine: core-seconds per normal value drawn and fitted, all cores busy.
SAMPLES_VALUE_S = 1.6e-8
#: samples engine: core-seconds per replicate-generation besides the values (the loop
#: over generations runs once per block of 64 replicates).
SAMPLES_STEP_S = 3e-7
#: Either engine: core-seconds per recorded value (replicate x recorded generation).
RECORD_S = 1.5e-7
#: Either engine: core-seconds per block of 64 replicates (its SeedSequence, Generators).
BLOCK_S = 1e-4
#: Either engine: seconds per simulate call (set-up, threads).
CALL_S = 0.01
#: The samples engine below n = 256 runs its workers as processes: start-up per call.
PROCESS_CALL_S = 0.15
#: The samples engine's workers are threads from this n on (engines.THREADS_MIN_N).
_THREADS_MIN_N = 256

#: Analysis (one core): seconds per analysed value (replicate x recorded generation), by
#: check type, measured 0.5-2x below these; ``log_var_gof`` is priced per replicate and
#: tabulated exact CDF instead (:data:`CDF_TABLE_POINTS`, :data:`CDF_TABULATED_S`).
ANALYSIS_S = {
    "increment_gof": 3e-7,  # 170-390 ns (the chi-square CDF at every increment)
    "mean_increment_gof": 2.5e-7,  # 130-310 ns
    "sigma_mean": 5e-8,  # 20-50 ns
    "sigma2_mean": 5e-8,
    "mu_var": 5e-8,
    "drift_consistency": 5e-8,  # 3-10 ns (the balanced panel's closed-form CR1 slope)
    "drift_equivalence": 5e-8,
    "collapse": 5e-8,
    "engines_agree": 1e-7,  # a two-sample KS (its two engine runs are priced apart)
    "replicate_independence": 1.2e-7,  # 50-110 ns
}
#: Exact CDF of log sigma_T^2 (Gil-Pelaez inversion): seconds per value and node.
CDF_NODE_S = 5e-8
#: ``log_var_gof`` evaluates the exact law's CDF through a table built once per design
#: (theory.LogVarianceLaw.tabulated_cdf; measured 0.05-0.24 s at the shipped designs,
#: 1.9 s at n = 2, T = 1; about 500-2600 nodes, each with the value, density and slope
#: and a check at its midpoint): priced as this many exact evaluations, at most the direct
#: cost, plus the interpolation per value (measured 53-78 ns). The table is cached per
#: process, so a calibration's later seeds do not pay it again; it is still priced per
#: seed (conservative).
CDF_TABLE_POINTS = 6000
CDF_TABULATED_S = 1.5e-7
#: Unknown (user-defined) check types: priced as recording every generation, with this
#: analysis cost per value and memory overhead.
UNKNOWN_ANALYSIS_S = 1e-6
UNKNOWN_MEMORY_FACTOR = 8.0

#: Peak memory / (replicates x recorded generations x 16 bytes), measured with
#: tracemalloc over a whole check run (simulation included), rounded up: measured 2.5
#: for the final-value checks, 4.0-4.7 increment_gof, 6.2 mean_increment_gof, 6.0 the
#: drift checks, 2.5 replicate_independence.
MEMORY_FACTOR = {
    "log_var_gof": 3.0,  # plus its CDF's blocks, 256 x nodes x 16 bytes x 3 (measured 2.8)
    "increment_gof": 6.0,
    "mean_increment_gof": 8.0,
    "sigma_mean": 3.0,
    "sigma2_mean": 3.0,
    "mu_var": 3.0,
    "drift_consistency": 7.5,
    "drift_equivalence": 7.5,
    "collapse": 7.5,
    "engines_agree": 3.0,
    "replicate_independence": 3.5,
}

#: What each check type asks the simulator to record: 'final', 'all' or 'grid' (the
#: drift checks' regression grid of at most 201 generations).
RECORDS = {
    "log_var_gof": "final",
    "increment_gof": "all",
    "mean_increment_gof": "all",
    "sigma_mean": "final",
    "sigma2_mean": "final",
    "mu_var": "final",
    "drift_consistency": "grid",
    "drift_equivalence": "grid",
    "collapse": "grid",
    "engines_agree": "final",
    "replicate_independence": "all",
    "regime_sigma2_mean": "final",
    "regime_mu_var": "final",
    "regime_log_var_gof": "final",
    "regime_increment_gof": "all",
    "regime_mean_increment_gof": "all",
    "regime_step_ratio": "all",
    "step_variance": "all",
    "increment_drift": "all",
}

#: The report's figures besides their simulation (the exact band and density; the
#: figures took 0.5 s in all for the ci profile), seconds.
FIGURES_THEORY_S = 1.0
#: A validation's fixed overhead (imports, reports: measured about 2 s), seconds.
VALIDATE_FIXED_S = 3.0
#: ``simulate``: bytes per replicate held for the final state and its summary (the
#: state, its concatenation, exp, sorting for the quantiles, fourth powers).
SIMULATE_BYTES_PER_REPLICATE = 96
#: ``simulate --out``: seconds per row written (replicate x generation; measured 4 us for
#: CSV, 1 us for .npz) and bytes per row on disk (measured 68 and 23).
OUT_ROW_S = {".csv": 6e-6, ".npz": 1.5e-6}
OUT_ROW_BYTES = {".csv": 70, ".npz": 24}

_REPLICATE_BLOCK = 64


# ---------------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """Estimated wall seconds, peak bytes and elementary draws of one run."""

    seconds: float
    bytes: float
    draws: float = 0.0

    def then(self, other: Cost) -> Cost:
        """This run followed by ``other``: times and draws add, the peak is the larger."""
        return Cost(self.seconds + other.seconds, max(self.bytes, other.bytes),
                    self.draws + other.draws)


def _cores(cores: int | None) -> int:
    return max(1, int(cores)) if cores else available_cores()


def _workers(draws: float, replicates: int, cores: int) -> int:
    blocks = math.ceil(replicates / _REPLICATE_BLOCK)
    return max(1, min(cores if draws >= 1e6 else 1, blocks))


def simulation_cost(engine: str, n: int, generations: int, replicates: int, recorded: int,
                    cores: int | None = None) -> Cost:
    """Time and memory of one engine run recording ``recorded`` generations per
    replicate (memory: the record, 2 arrays of 8 bytes, held twice while the blocks are
    joined)."""
    R, T = float(replicates), float(generations)
    if engine == "samples":
        draws = R * T * n
        core_s = R * T * (SAMPLES_STEP_S + n * SAMPLES_VALUE_S)
    else:
        draws = R * T * 2
        core_s = R * T * SUFFICIENT_STEP_S * (SUFFICIENT_N2_FACTOR if n == 2 else 1.0)
    core_s += R * recorded * RECORD_S + math.ceil(R / _REPLICATE_BLOCK) * BLOCK_S
    workers = _workers(draws, replicates, _cores(cores))
    processes = engine == "samples" and n < _THREADS_MIN_N and workers > 1
    call = PROCESS_CALL_S if processes else CALL_S
    return Cost(core_s / workers + call, 2 * R * recorded * 16, draws)


def recorded_generations(check) -> int:
    """Generations per replicate that ``check`` asks its simulator to record."""
    kind = RECORDS.get(check.type, "all")
    if kind == "final":
        return 1
    if kind == "grid":
        from collapsecheck.checks.collapse import regression_grid

        return int(regression_grid(check.generations).size)
    return check.generations + 1


@functools.lru_cache(maxsize=256)
def _cdf_nodes(n: int, generations: int, ddof: float) -> int:
    """Quadrature nodes of the exact CDF of log sigma_T^2 (its cost per value)."""
    from collapsecheck.theory import LogVarianceLaw

    return int(LogVarianceLaw(n, generations, ddof)._quadrature[0].size)


def check_cost(check, replicates: int | None = None, cores: int | None = None, *,
               table_built: bool = False) -> Cost:
    """Time and memory of one stage of ``check`` at ``replicates`` (default its own);
    ``table_built``: the exact law's CDF table of a ``log_var_gof`` design already exists
    in this process (a calibration's later seeds). A check that prices itself (a method
    ``stage_cost(replicates, cores)``, e.g. the categorical family's) is asked; every
    other is priced by the Gaussian engines' throughput measured here."""
    R = check.replicates if replicates is None else int(replicates)
    own = getattr(check, "stage_cost", None)
    if own is not None:  # a family whose engines have their own throughput prices them
        return own(R, _cores(cores))
    rec = recorded_generations(check)
    n = check.n
    if getattr(check, "family", "") == "regimes" and check.engine == "samples":
        from collapsecheck.engines.regimes import per_draw

        n = max(2, round(per_draw(check.experiment(seed=0, replicates=1), "samples")))
    sim = simulation_cost(check.engine, n, check.generations, R, rec, cores)
    if check.type in ("regime_sigma2_mean", "regime_mu_var"):  # the seeded design pilot
        from collapsecheck.checks.regimes import PILOT_REPLICATES

        sim = sim.then(simulation_cost(check.engine, n, check.generations, PILOT_REPLICATES,
                                       1, cores))
    if check.type == "engines_agree":
        other = "sufficient" if check.engine == "samples" else "samples"
        sim = sim.then(simulation_cost(other, check.n, check.generations, R, rec, cores))
    values = float(R) * rec
    extra_bytes = 0.0
    if check.type == "log_var_gof":
        nodes = _cdf_nodes(check.n, check.generations, check.ddof)
        build = 0.0 if table_built else min(R, CDF_TABLE_POINTS) * nodes * CDF_NODE_S
        analysis = build + R * CDF_TABULATED_S
        extra_bytes = 256 * nodes * 16 * 3  # the CDF's blocks of 256 values x nodes
    else:
        analysis = values * ANALYSIS_S.get(check.type, UNKNOWN_ANALYSIS_S)
    factor = MEMORY_FACTOR.get(check.type, UNKNOWN_MEMORY_FACTOR)
    return Cost(sim.seconds + analysis, values * 16 * factor + extra_bytes, sim.draws)


@dataclass(frozen=True)
class Item:
    """One priced run of a design: ``key`` is the profile key that sets its size."""

    key: str
    label: str
    cost: Cost
    stage: int = 1  # 1 first stage (or a run that always happens), 2 escalation
    index: int | None = None  # the check's index in ``checks``


@dataclass(frozen=True)
class ProfileCost:
    """The priced runs of a profile and the totals (see the module docstring)."""

    items: tuple[Item, ...]
    cores: int
    fixed_s: float = VALIDATE_FIXED_S

    @property
    def always_seconds(self) -> float:
        """Every run that always happens (first stages, claims, figures) and the fixed
        overhead."""
        return self.fixed_s + sum(i.cost.seconds for i in self.items if i.stage == 1)

    @property
    def costliest_escalation(self) -> Item | None:
        esc = [i for i in self.items if i.stage == 2]
        return max(esc, key=lambda i: i.cost.seconds) if esc else None

    @property
    def seconds(self) -> float:
        esc = self.costliest_escalation
        return self.always_seconds + (esc.cost.seconds if esc else 0.0)

    @property
    def peak(self) -> Item | None:
        return max(self.items, key=lambda i: i.cost.bytes) if self.items else None

    @property
    def bytes(self) -> float:
        peak = self.peak
        return peak.cost.bytes if peak else 0.0


def _check_label(i: int, check, replicates: int) -> str:
    return (f"checks[{i}] ({check.type}, {replicates} replicates x {check.generations} "
            f"generations at n = {check.n}, {check.engine} engine)")


def escalation_iv(checks, factor: int, source: str) -> None:
    """Refuse an escalation that is no valid experiment: each check's replicates x
    ``factor`` must stay within :data:`~collapsecheck.experiment.MAX_REPLICATES`."""
    from collapsecheck.experiment import MAX_REPLICATES

    for i, c in enumerate(checks):
        R = c.replicates * factor
        if R > MAX_REPLICATES:
            most = max(1, MAX_REPLICATES // c.replicates)
            many = f"{R:.3g}" if R < 1e300 else f"about 1e{len(str(R)) - 1}"
            raise ResourceError(
                f"profile {source}: `escalation_factor` = {factor} makes "
                f"the re-run of checks[{i}] ({c.type}) {many} replicates, above the most an "
                f"experiment may have ({MAX_REPLICATES:.0e}); lower `escalation_factor` to "
                f"at most {most} or checks[{i}].replicates.")


def profile_cost(profile, cores: int | None = None, *, figures: bool = True,
                 claims: bool = True) -> ProfileCost:
    """Price a validation run of ``profile`` on ``cores`` (default: this machine's)."""
    cores = _cores(cores)
    items: list[Item] = []
    for i, c in enumerate(profile.checks):
        items.append(Item(f"checks[{i}].replicates", _check_label(i, c, c.replicates),
                          check_cost(c, cores=cores), 1, i))
        R2 = c.replicates * profile.escalation_factor
        items.append(Item("escalation_factor", f"the re-run of {_check_label(i, c, R2)}",
                          check_cost(c, R2, cores), 2, i))
    if claims and profile.claims is not None:
        price = _declared_claims(profile).price
        items += price(profile.claims, cores) if price is not None else []
    if figures:
        fig = _figures_item(profile, cores)
        if fig is not None:
            items.append(fig)
    fixed = VALIDATE_FIXED_S
    return ProfileCost(tuple(items), cores, fixed)


def _declared_claims(profile):
    """The :class:`~collapsecheck.families.protocol.FamilyClaims` of the profile's
    ``[claims]`` table (its family prices them: ``price`` and ``require``)."""
    from collapsecheck.profiles import declared_claims

    return declared_claims(getattr(profile, "claims_family", None))[1]


def _figures_item(profile, cores: int) -> Item | None:
    """The figures' run: the claims' chain when the claims name one (``n``,
    ``generations``, ``replicates``), else the first check's."""
    c = profile.claims
    if all(hasattr(c, key) for key in ("n", "generations", "replicates")):
        n, T, R = c.n, c.generations, min(c.replicates, 1000)
    else:
        first = next((k for k in profile.checks if k.generations >= 1), None)
        if first is None:
            return None
        n, T, R = first.n, first.generations, min(first.replicates, 1000)
    sim = simulation_cost("sufficient", n, T, R, min(T + 1, 400), cores)
    return Item("figures", "the report's figures", Cost(sim.seconds + FIGURES_THEORY_S,
                                                        sim.bytes, sim.draws))


def fmt_seconds(s: float) -> str:
    """``45 s``, ``25 min``, ``3.1 h``, ``12 days``, ``2.3e+04 years``."""
    if not math.isfinite(s):
        return "forever"
    if s < 90:
        return f"{max(s, 0.0):.2g} s" if s < 10 else f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.2g} h"
    if s < 365 * 86400:
        return f"{s / 86400:.3g} days"
    return f"{s / (365.25 * 86400):.3g} years"


def _limit_text() -> str:
    return f"{LONG_S / 3600:g} h" if LONG_S >= 3600 else fmt_seconds(LONG_S)


def _cores_text(cores: int) -> str:
    return f"{cores} core{'s' if cores != 1 else ''}"


def require_profile(profile, source: str | None = None, *, allow_long: bool = False,
                    cores: int | None = None, figures: bool = True) -> ProfileCost:
    """Refuse (:class:`~collapsecheck.resources.ResourceError`) a profile whose design
    cannot run here: an escalation beyond the largest experiment, a run that needs more
    memory than :func:`~collapsecheck.resources.memory_budget` (always), or, unless
    ``allow_long``, an estimated time over :data:`LONG_S`. Returns the price."""
    source = source or profile.source or profile.name
    escalation_iv(profile.checks, profile.escalation_factor, source)
    require = _declared_claims(profile).require if profile.claims is not None else None
    if require is not None:
        require(profile.claims, source)
    price = profile_cost(profile, cores, figures=figures)
    _require_items_memory(price, source)
    if not allow_long and price.seconds > LONG_S:
        raise ResourceError(_too_long(price, source))
    return price


def _require_items_memory(price: ProfileCost, source: str) -> None:
    """Refuse the largest run over the memory budget, naming the key that sizes it (a
    first stage before an escalation: its replicates, not the factor, are then at fault)."""
    budget = memory_budget()
    over = [i for i in price.items if i.cost.bytes > budget]
    if not over:
        return
    item = max([i for i in over if i.stage == 1] or over, key=lambda i: i.cost.bytes)
    if item.stage == 2:
        fix = f"lower `escalation_factor` or checks[{item.index}].replicates"
    elif item.index is not None:
        fix = f"lower `{item.key}` or checks[{item.index}].generations"
    else:
        fix = f"lower `{item.key}`"
    require_memory(item.cost.bytes, f"profile {source}: `{item.key}`: {item.label}", fix)


def _too_long(price: ProfileCost, source: str) -> str:
    total = fmt_seconds(price.seconds)
    on = _cores_text(price.cores)
    limit = _limit_text()
    esc = price.costliest_escalation
    if esc is not None and price.always_seconds <= LONG_S:
        return (f"profile {source}: `escalation_factor`: {esc.label} would take about "
                f"{fmt_seconds(esc.cost.seconds)} on {on} ({esc.cost.draws:.2g} draws), so "
                f"the profile would take about {total} when that check turns WEAK, over the "
                f"{limit} limit; lower `escalation_factor`, or pass --allow-long to run it "
                "anyway.")
    first = [i for i in price.items if i.stage == 1]
    top = max(first, key=lambda i: i.cost.seconds)
    esc_text = ""
    if top.index is not None:
        again = next(i for i in price.items if i.index == top.index and i.stage == 2)
        esc_text = f", its escalation {fmt_seconds(again.cost.seconds)} more"
    return (f"profile {source}: `{top.key}`: {top.label} would take about "
            f"{fmt_seconds(top.cost.seconds)} on {on} ({top.cost.draws:.2g} draws{esc_text}), "
            f"and the whole profile about {total}, over the {limit} limit; lower `{top.key}`, "
            "or pass --allow-long to run it anyway.")


# ---------------------------------------------------------------------------------------
# calibrate
# ---------------------------------------------------------------------------------------


def _weak_probability(check, profile) -> float:
    """P(first stage WEAK) for a correct simulator: weak_alpha for a consistency check,
    the design's first-stage miss rate for a confirmatory one."""
    if check.kind == "confirmatory":
        a = profile.budget / max(1, len(profile.checks))
        return float(check.miss_rate(a, check.replicates))
    return float(profile.weak_alpha)


def calibration_cost(profile, seeds: int, cores: int | None = None) -> Cost:
    """Price ``calibrate`` over ``seeds`` seeds (see the module docstring)."""
    return _calibration(profile, seeds, _cores(cores))[0]


def _calibration(profile, seeds: int, cores: int) -> tuple[Cost, float]:
    """The price of a calibration and its seconds per seed (first stages and expected
    escalations)."""
    per_seed = 0.0
    peak = 0.0
    draws = 0.0
    costliest = 0.0
    tables = 0.0  # each design's CDF table, built once per worker process
    for c in profile.checks:
        first = check_cost(c, cores=cores, table_built=True)
        tables += check_cost(c, cores=cores).seconds - first.seconds
        again = check_cost(c, c.replicates * profile.escalation_factor, cores,
                           table_built=True)
        per_seed += first.seconds + _weak_probability(c, profile) * again.seconds
        peak = max(peak, first.bytes, again.bytes)
        draws += seeds * first.draws
        costliest = max(costliest, again.seconds)
    total = seeds * per_seed + costliest + VALIDATE_FIXED_S + tables * _cores(cores)
    return Cost(total, peak, draws), per_seed


def require_calibration(profile, seeds: int, *, allow_long: bool = False,
                        cores: int | None = None) -> Cost:
    """Refuse a calibration that cannot run here (memory always; time over
    :data:`LONG_S` unless ``allow_long``): the time is per seed times seeds."""
    source = profile.source or profile.name
    escalation_iv(profile.checks, profile.escalation_factor, source)
    cores = _cores(cores)
    price, per_seed = _calibration(profile, seeds, cores)
    require_memory(price.bytes, f"profile {source}: calibrating it",
                   "lower the replicates of its largest check")
    if not allow_long and price.seconds > LONG_S:
        raise ResourceError(
            f"profile {source}: calibrating it over `--seeds` = {seeds} would take about "
            f"{fmt_seconds(price.seconds)} on {_cores_text(cores)} (about "
            f"{fmt_seconds(per_seed)} per seed), over the {_limit_text()} limit; use "
            "fewer --seeds, or pass --allow-long to run it anyway.")
    return price


# ---------------------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------------------


def simulate_cost(experiment, engine: str, *, out=None, cores: int | None = None) -> Cost:
    """Price ``collapsecheck simulate``: the chain, holding the final state of each
    replicate and what its summary needs (about :data:`SIMULATE_BYTES_PER_REPLICATE`
    bytes each); with ``out`` (``--out FILE.csv`` or ``.npz``) every generation is also
    recorded and written, one block at a time (never held), at :data:`OUT_ROW_S` per row."""
    e = experiment
    rows = float(e.replicates) * (e.generations + 1)
    rec = e.generations + 1 if out is not None else 1
    n = e.n
    if not e.is_base and engine == "samples":  # draws per generation, n-growth included
        from collapsecheck.engines.regimes import per_draw

        n = max(2, round(per_draw(e, engine)))
    sim = simulation_cost(engine, n, e.generations, e.replicates, rec, cores)
    seconds = sim.seconds + (rows * OUT_ROW_S[_suffix(out)] if out is not None else 0.0)
    return Cost(seconds, float(e.replicates) * SIMULATE_BYTES_PER_REPLICATE, sim.draws)


def _suffix(out) -> str:
    return ".csv" if str(out).lower().endswith(".csv") else ".npz"


def output_bytes(experiment, out) -> float:
    """About how many bytes ``simulate --out`` writes (one row per replicate and
    generation)."""
    e = experiment
    return float(e.replicates) * (e.generations + 1) * OUT_ROW_BYTES[_suffix(out)]


def require_disk(experiment, out) -> None:
    """Refuse a ``simulate --out`` that cannot fit on its disk: the staged arrays (8 bytes
    per value: mean, std and log_var for .npz, mean and log_var for .csv) live beside the
    target until the file, about :func:`output_bytes`, is written."""
    import shutil
    from pathlib import Path

    from collapsecheck.resources import ResourceError

    e = experiment
    values = float(e.replicates) * (e.generations + 1)
    need = values * 8 * (3 if _suffix(out) == ".npz" else 2) + output_bytes(e, out)
    folder = Path(out).parent if str(Path(out).parent) else Path(".")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:  # the folder is checked elsewhere; nothing to measure here
        return
    if need > free:
        raise ResourceError(f"--out {str(out)!r} needs about {fmt_bytes(need)} on disk (the "
                            f"staged arrays and the file), more than the {fmt_bytes(free)} "
                            f"free in {str(folder)!r}; free space, choose another folder, or "
                            "record fewer --replicates or --generations.")


def simulate_notice(cost: Cost, engine: str, cores: int | None = None, *, out=None,
                    experiment=None) -> str | None:
    """The line ``simulate`` prints on stderr before a long run (over :data:`NOTICE_S`),
    or None; with ``out`` and ``experiment`` it also says how much will be written."""
    if cost.seconds <= NOTICE_S:
        return None
    writes = ""
    if out is not None and experiment is not None:
        writes = f"; writes about {fmt_bytes(output_bytes(experiment, out))} to {out}"
    return (f"estimated {fmt_seconds(cost.seconds)} on {_cores_text(_cores(cores))} "
            f"({cost.draws:.2g} draws on the {engine} engine{writes}); Ctrl-C stops it")


def require_simulate(cost: Cost, replicates: int) -> None:
    """Refuse a ``simulate`` whose final state cannot be held in memory."""
    require_memory(cost.bytes, f"simulate with --replicates {replicates}",
                   "lower --replicates")


# ---------------------------------------------------------------------------------------
# Measuring the constants
# ---------------------------------------------------------------------------------------


def measure(repeat: int = 3) -> dict[str, float]:  # pragma: no cover - a benchmark
    """Time the engines (through :func:`collapsecheck.engines.simulate`, with every core
    busy, as validate runs them) and each check's analysis on this machine; return this
    module's constants as measured (the best of ``repeat`` runs: round them up before
    storing them, and measure on an otherwise idle machine)."""
    import time
    import tracemalloc

    from collapsecheck.checks import CHECK_TYPES
    from collapsecheck.engines import simulate
    from collapsecheck.experiment import Experiment

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    cores = available_cores()

    def core_s(engine, n, T, R, record="final", workers=None):
        """Core-seconds of one run (wall x workers used)."""
        e = Experiment(n=n, generations=T, replicates=R, seed=1)
        used = _workers(R * T * (n if engine == "samples" else 2), R, cores) \
            if workers is None else workers
        return best(lambda: simulate(e, engine=engine, record=record, workers=workers)) * used

    out: dict[str, float] = {}
    R, T = 4096, 1000
    out["SUFFICIENT_STEP_S"] = step = core_s("sufficient", 1000, T, R) / (R * T)
    out["SUFFICIENT_N2_FACTOR"] = core_s("sufficient", 2, T, R) / (R * T) / step
    all_s = core_s("sufficient", 1000, 200, R, "all")
    out["RECORD_S"] = max(0.0, all_s - step * R * 200) / (R * 201)
    small = core_s("samples", 2, 400, R, workers=1) / (R * 400)
    big = core_s("samples", 1000, 100, 1024) / (1024 * 100)
    out["SAMPLES_VALUE_S"] = (big - small) / 998
    out["SAMPLES_STEP_S"] = max(0.0, small - 2 * out["SAMPLES_VALUE_S"])
    blocks = 2000
    one = core_s("sufficient", 10, 1, blocks * 64, workers=1)
    out["BLOCK_S"] = max(0.0, one - blocks * 64 * (step + out["RECORD_S"])) / blocks
    out["CALL_S"] = core_s("sufficient", 10, 1, 64, workers=1)
    out["PROCESS_CALL_S"] = (core_s("samples", 10, 1, 8 * 64, workers=cores) / cores
                             if cores > 1 else out["CALL_S"])

    sizes = {"log_var_gof": (1000, 1000, 20000), "increment_gof": (10, 100, 5000),
             "mean_increment_gof": (10, 100, 5000), "sigma_mean": (100, 20, 200000),
             "sigma2_mean": (1000, 100, 200000), "mu_var": (100, 20, 200000),
             "drift_consistency": (1000, 1000, 5000), "drift_equivalence": (1000, 1000, 5000),
             "collapse": (1000, 1000, 5000), "replicate_independence": (10, 100, 5000)}
    # engines_agree is priced as its two engine runs plus a two-sample KS on the final
    # values (a sort), like the other final-value checks
    for name, (n, T, R) in sizes.items():
        check = CHECK_TYPES[name](n=n, generations=T, replicates=R)
        e = check.experiment(seed=5)
        cache: dict = {}

        def sim(experiment, record, cache=cache):
            key = (experiment.seed, str(record))
            if key not in cache:
                cache[key] = simulate(experiment, engine="sufficient",
                                      record=record).trajectories
            return cache[key]

        check.run(e, sim)  # fills the cache: what follows is the analysis alone
        rec = recorded_generations(check)
        s = best(lambda check=check, e=e, sim=sim: check.run(e, sim))
        if name == "log_var_gof":
            out["CDF_NODE_S"] = s / (R * _cdf_nodes(n, T, 0.0))
        else:
            out[f"ANALYSIS_S[{name}]"] = s / (R * rec)
        tracemalloc.start()
        check.run(e, lambda ex, record: simulate(ex, engine="sufficient", workers=1,
                                                 record=record).trajectories)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[f"MEMORY_FACTOR[{name}]"] = peak / (R * rec * 16)
        if name == "log_var_gof":  # with the CDF's blocks: bytes per block element
            out["CDF_BLOCK_BYTES_PER_NODE"] = peak / _cdf_nodes(n, T, 0.0)
    return out


if __name__ == "__main__":  # pragma: no cover
    import platform

    import numpy as np

    print(f"# measured {platform.machine()}, {available_cores()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}")
    for key, value in measure().items():
        print(f"{key} = {value:.3g}")
