"""Benchmarks, as ratios taken in the same run on the same machine.

    python benchmarks/bench.py [--quick] [--section NAME ...] [--markdown benchmarks/RESULTS.md]

Prints a table: the article's own loop (extrapolated from a subset), the raw fill rate of
numpy's Generator (several bit generators, float64 and float32), both engines at the
article's scale (1000 replicates x 1000 generations x n = 1000) with 1 and all workers,
the ratios the project promises (sufficient engine vs the article's loop >= 1000x;
samples engine >= 0.7 x raw fill x cores), the samples engine's share of the fill floor
from n = 100 to n = 10^6 on 1 and 2 workers, peak resident memory of the process tree and
of ``simulate --out`` (npz, csv), start-up time of ``theory`` and ``--help``, the
``ci``, ``regimes`` and ``article`` profiles' wall times (the latter beside the floor of
the draws it makes), the cost of one ``ci`` seed on one worker beside its engines' share (``seed-cost``), and
the machine (cores, CPU, numpy version, BLAS).

Each part is a section (``--section share --section startup``; default: all of them);
the ratios a section reports are against numbers measured in the same run (the fill rate
is measured once, when a section first needs it, and shown).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from collapsecheck import Experiment
from collapsecheck.engines import BIT_GENERATOR, simulate


def article_loop(replicates: int, generations: int, n: int, seed: int = 0) -> float:
    """The article's experiment as a 2024 essay writes it, with numpy's global
    ``np.random`` functions: seconds per replicate-generation."""
    np.random.seed(seed)  # noqa: NPY002 - the legacy API is what is being measured
    start = time.perf_counter()
    for _ in range(replicates):
        mu, sigma = 0.0, 1.0
        for _ in range(generations):
            x = np.random.normal(mu, sigma, n)  # noqa: NPY002 - as the essay wrote it
            mu, sigma = np.mean(x), np.std(x)
    return (time.perf_counter() - start) / (replicates * generations)


def generator_loop(replicates: int, generations: int, n: int, seed: int = 0) -> float:
    """The same loop on a modern ``Generator`` (faster normals): seconds per
    replicate-generation. Reported beside the article's loop for a stricter ratio."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(replicates):
        mu, sigma = 0.0, 1.0
        for _ in range(generations):
            x = rng.normal(mu, sigma, n)
            mu, sigma = x.mean(), x.std()
    return (time.perf_counter() - start) / (replicates * generations)


def fill_rate(bitgen: str, dtype, seconds: float = 1.0) -> float:
    """Normals per second that one core's Generator fills into a cache-sized buffer."""
    rng = np.random.Generator(getattr(np.random, bitgen)(1))
    buf = np.empty(1 << 15, dtype=dtype)
    rng.standard_normal(out=buf, dtype=dtype)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(50):
            rng.standard_normal(out=buf, dtype=dtype)
        count += 50 * buf.size
    return count / (time.perf_counter() - start)


def engine_time(engine: str, workers: int, e: Experiment, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        run = simulate(e, engine=engine, workers=workers, record="final")
        best = min(best, run.simulate_s)
    return best


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024  # Linux reports KiB


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{i['internal_api']} {i.get('version', '')}" for i in threadpool_info())
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _command(*args: str) -> list[str]:
    """The installed ``collapsecheck`` script beside this interpreter (what a user runs),
    else ``python -m collapsecheck``."""
    script = Path(sys.executable).with_name("collapsecheck")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "collapsecheck",
                                                         *args]


def child_peak_rss_mb(cmd: list[str], cwd: str | None = None) -> tuple[float, float]:
    """Run ``cmd`` to completion; return its peak resident set (MB; ru_maxrss of that
    child alone, through wait4) and its wall time (s)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err.strip()}")
    return usage.ru_maxrss / 1024, wall  # Linux reports KiB


#: The samples engine's share of the fill floor: n -> (replicates, generations), about
#: 1.3e8 values each (about a second of filling on one core).
SHARE_CASES = {100: (1280, 1000), 1000: (1024, 125), 65_537: (128, 16), 10**6: (128, 1)}


def profile_draws(name: str) -> dict[str, float]:
    """Elementary draws of one passing ``validate --profile NAME``, by kind.

    Counted: every check's first stage (a passing run never escalates): replicates x
    generations x n normals on the samples engine, x 2 (a gamma and a normal) on the
    sufficient engine; ``engines_agree`` runs both engines. The claims' simulations on their
    engine: the article run, the long run, the one-step run, the ddof = 1 run and the
    recovery run; their exact-law Monte Carlo draws; the report figures' run (sufficient
    engine, at most 1000 replicates). Not counted: the exact theory's quadratures."""
    from collapsecheck.profiles import load_profile

    profile = load_profile(name)
    out = {"samples normals": 0.0, "sufficient draws": 0.0, "exact-law MC draws": 0.0}

    def run(engine: str, n: int, generations: int, replicates: int) -> None:
        if engine == "samples":
            out["samples normals"] += float(replicates) * generations * n
        else:
            out["sufficient draws"] += 2.0 * replicates * generations

    for c in profile.checks:
        run(c.engine, c.n, c.generations, c.replicates)
        if c.type == "engines_agree":
            run("sufficient" if c.engine == "samples" else "samples", c.n, c.generations,
                c.replicates)
    c = profile.claims
    if c is not None:
        for generations, replicates in ((c.generations, c.replicates),
                                        (c.long_generations, c.replicates),
                                        (1, c.one_step_replicates),
                                        (c.generations, c.replicates),  # ddof = 1
                                        (c.recovery_horizon, c.recovery_replicates)):
            run(c.engine, c.n, generations, replicates)
        out["exact-law MC draws"] += float(c.mc_repetitions) * (
            max((*c.sizes, c.replicates)) + c.replicates)
        run("sufficient", c.n, c.generations, min(c.replicates, 1000))  # figures
    return out


class Run:
    """The rows of one benchmark run, and numbers measured once and shared by sections
    (each added to the table when it is first measured)."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count())
        self.rows: list[tuple[str, str, str]] = []
        self.article = Experiment(n=1000, generations=1000, replicates=1000, seed=1)
        self._loops = None
        self._fills: dict = {}

    def add(self, a: str, b: str, c: str = "") -> None:
        self.rows.append((a, b, c))

    def loops(self) -> tuple[float, float]:
        """Seconds of the whole article experiment by the article's loop, and by the
        same loop on a Generator (extrapolated from a subset)."""
        if self._loops is None:
            reps = 5 if self.quick else 20
            e = self.article
            loop = article_loop(reps, 1000, 1000)
            loop_total = loop * e.replicates * e.generations
            self.add("article loop, np.random (per replicate-generation)",
                     f"{loop * 1e6:.1f} us", f"whole experiment ~{loop_total:.1f} s")
            gloop = generator_loop(reps, 1000, 1000)
            gloop_total = gloop * e.replicates * e.generations
            self.add("same loop on a Generator (per replicate-generation)",
                     f"{gloop * 1e6:.1f} us", f"whole experiment ~{gloop_total:.1f} s")
            self._loops = (loop_total, gloop_total)
        return self._loops

    def fill(self, bitgen: str = BIT_GENERATOR, dtype=np.float64) -> float:
        """Normals per second one core fills into a preallocated buffer."""
        key = (bitgen, np.dtype(dtype).name)
        if key not in self._fills:
            r = fill_rate(bitgen, dtype, 0.5 if self.quick else 1.0)
            self._fills[key] = r
            self.add(f"raw fill, {bitgen} {key[1]}, 1 core", f"{r / 1e6:.0f} M normals/s")
        return self._fills[key]


def section_loop(run: Run) -> None:
    run.loops()


def section_fill(run: Run) -> None:
    for bitgen in ("PCG64", "SFC64", "Philox"):
        for dtype in (np.float64, np.float32):
            run.fill(bitgen, dtype)


def section_sufficient(run: Run) -> None:
    loop_total, gloop_total = run.loops()
    repeats = 1 if run.quick else 7
    suff1 = engine_time("sufficient", 1, run.article, repeats)
    suffn = engine_time("sufficient", run.cores, run.article, repeats)
    run.add("sufficient engine, article scale, 1 worker", f"{suff1 * 1e3:.1f} ms",
            f"{loop_total / suff1:.0f}x the article loop")
    run.add(f"sufficient engine, article scale, {run.cores} workers", f"{suffn * 1e3:.1f} ms",
            f"{loop_total / suffn:.0f}x the article loop (goal >= 1000x); "
            f"{gloop_total / suffn:.0f}x the Generator loop")


def section_samples(run: Run) -> None:
    raw = run.fill()  # the engines' own bit generator
    e = run.article
    draws = e.replicates * e.generations * e.n
    samp1 = engine_time("samples", 1, e, 1)
    sampn = engine_time("samples", run.cores, e, 1)
    run.add("samples engine, article scale, 1 worker", f"{samp1:.2f} s",
            f"{draws / samp1 / 1e6:.0f} M normals/s = {draws / samp1 / raw:.2f} x raw "
            f"{BIT_GENERATOR} fill")
    run.add(f"samples engine, article scale, {run.cores} workers", f"{sampn:.2f} s",
            f"{draws / sampn / 1e6:.0f} M normals/s = "
            f"{draws / sampn / (raw * run.cores):.2f} x raw {BIT_GENERATOR} fill x cores "
            "(goal >= 0.7)")


def fill_time(values: float, bitgen: str = BIT_GENERATOR) -> float:
    """Seconds one core takes to fill ``values`` standard normals (float64) into a
    preallocated cache-sized buffer: the floor of any engine that draws them."""
    rng = np.random.Generator(getattr(np.random, bitgen)(1))
    buf = np.empty(1 << 15)
    rng.standard_normal(out=buf)
    reps = max(1, round(values / buf.size))
    start = time.perf_counter()
    for _ in range(reps):
        rng.standard_normal(out=buf)
    return (time.perf_counter() - start) * values / (reps * buf.size)


def section_share(run: Run) -> None:
    """The samples engine's share of the fill floor: the time one core takes to fill the
    same number of normals into a preallocated buffer, over the engine's time x its
    workers (1.0: the engine costs nothing beyond drawing). Engine runs and fills
    alternate, and the best of each is kept, so both see the same machine."""
    repeats = 1 if run.quick else 3
    for n, (R, T) in SHARE_CASES.items():
        if run.quick:
            R = max(64, R // 4)
        e = Experiment(n=n, generations=T, replicates=R, seed=1)
        draws = float(R) * T * n
        for workers in (1, 2):
            t = floor = float("inf")
            for _ in range(repeats):
                t = min(t, engine_time("samples", workers, e, 1))
                floor = min(floor, fill_time(draws))
            kind = "threads" if n >= 256 else "processes"
            run.add(f"samples engine share of the fill floor, n = {n:,}, {workers} worker"
                    f"{'s' if workers > 1 else ''}", f"{floor / workers / t:.2f}",
                    f"{R} x {T} x n in {t:.3f} s ({kind}); fill {floor:.3f} core-s "
                    f"({draws / floor / 1e6:.0f} M/s)")


def section_big(run: Run) -> None:
    big = Experiment(n=200_000, generations=2, replicates=500, seed=1)
    t0 = time.perf_counter()
    simulate(big, engine="samples", workers=run.cores, record="final")
    run.add("samples engine, 500 replicates x n = 200,000 x 2 generations",
            f"{time.perf_counter() - t0:.2f} s", "memory bounded by the chunk size")
    run.add("peak resident memory, this process + workers (max of each)",
            f"{peak_rss_mb():.0f} MB", "goal < 1 GB")


def section_simulate_memory(run: Run) -> None:
    """Peak resident memory of ``simulate --out`` (a child process of its own) writing
    every generation of 2e4 replicates x 1000 generations."""
    R, T = (2000, 1000) if run.quick else (20_000, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in ("npz", "csv"):
            out = Path(tmp) / f"x.{suffix}"
            rss, wall = child_peak_rss_mb(_command(
                "simulate", "--replicates", str(R), "--generations", str(T), "--seed", "1",
                "--no-progress", "--out", str(out)))
            size = out.stat().st_size / 1e6
            run.add(f"peak resident memory, simulate --out x.{suffix}, {R:,} x {T} (whole "
                    "command)", f"{rss:.0f} MB",
                    f"{wall:.1f} s; file {size:.0f} MB; held whole, the three arrays would "
                    f"be {3 * 8 * R * (T + 1) / 1e6:.0f} MB")


def startup_times(cmd: list[str], runs: int) -> tuple[float, float, float]:
    """Fastest wall time, median wall time and fastest CPU time (user + system, of the
    child alone) of ``runs`` runs of ``cmd``; the fastest run is the one least disturbed
    by other work on the machine, the CPU time the least sensitive to it."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), statistics.median(walls), min(cpus)


#: The commands whose start-up is measured (issue 8: ``--help`` and ``theory`` well under
#: 0.5 s); the largest theory case computes the most, the rest is importing.
STARTUP_COMMANDS = (("theory", "--n", "10", "--json"),
                    ("theory", "--n", "10000000", "--generations", "1000000", "--json"),
                    ("--help",))


def section_startup(run: Run) -> None:
    runs = 7 if run.quick else 11
    probe = ("import sys; from collapsecheck.cli import run; "
             "sys.argv = ['collapsecheck', 'theory', '--n', '10', '--json']\n"
             "try:\n    run()\nexcept SystemExit:\n    pass\n"
             "print('scipy' in sys.modules, file=sys.stderr)")
    scipy_loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                                  text=True, check=True).stderr.strip().splitlines()[-1]
    for args in STARTUP_COMMANDS:
        best, med, cpu = startup_times(_command(*args), runs)
        note = (f"fastest of {runs} runs (median {med:.3f} s; CPU {cpu:.3f} s); goal well "
                "under 0.5 s")
        if args[0] == "theory" and args[2] == "10":
            note += f"; scipy imported: {scipy_loaded == 'True'}"
        run.add(f"start-up, collapsecheck {' '.join(args)} (whole command)", f"{best:.3f} s",
                note)
    best, med, cpu = startup_times([sys.executable, "-c", "pass"], runs)
    run.add("start-up, python -c pass (the interpreter alone)", f"{best:.3f} s",
            f"fastest of {runs} runs (median {med:.3f} s)")
    for code in ("import numpy", "import numpy, scipy.special", "import collapsecheck.cli"):
        best, med, _ = startup_times([sys.executable, "-c", code], runs)
        run.add(f"start-up, python -c '{code}'", f"{best:.3f} s",
                f"fastest of {runs} runs (median {med:.3f} s), interpreter included")


def section_ci(run: Run) -> None:
    t0 = time.perf_counter()
    subprocess.run(_command("validate", "--profile", "ci", "--no-progress"), check=True,
                   capture_output=True)
    run.add("validate --profile ci (whole command)", f"{time.perf_counter() - t0:.1f} s",
            "goal < 60 s")


def section_regimes(run: Run) -> None:
    t0 = time.perf_counter()
    subprocess.run(_command("validate", "--profile", "regimes", "--no-progress"), check=True,
                   capture_output=True)
    run.add("validate --profile regimes (whole command)", f"{time.perf_counter() - t0:.1f} s",
            "17 checks, no claims")


def section_article(run: Run) -> None:
    """``validate --profile article`` beside the floor of the draws it makes: every draw
    costed as one normal filled on one core (the sufficient engine's gammas are slower, so
    the floor is a little low), spread over the cores."""
    raw = run.fill()
    draws = profile_draws("article")
    total = sum(draws.values())
    floor = total / raw / run.cores
    t0 = time.perf_counter()
    subprocess.run(_command("validate", "--profile", "article", "--no-progress"), check=True,
                   capture_output=True)
    wall = time.perf_counter() - t0
    counted = ", ".join(f"{v:.3g} {k}" for k, v in draws.items())
    run.add("validate --profile article (whole command)", f"{wall:.1f} s",
            f"floor {floor:.1f} s = {total:.3g} draws ({counted}) / {raw / 1e6:.0f} M per "
            f"core-s / {run.cores} cores; wall = {wall / floor:.2f} x floor")


def section_seed_cost(run: Run) -> None:
    """One seed of the ``ci`` profile's checks as ``calibrate`` runs them (every check,
    escalating where WEAK; no claims, no figures) on one worker, beside the engines' own
    time inside the same runs (the raw cost of the same draws): the rest is the analysis
    (tests and exact theory). Median over seeds after a warm-up seed, which also pays
    for what is computed once per process (imports, the exact laws' tables). Then one
    whole ``run_profile`` (checks, the article's claims, figures) for the same seed."""
    from dataclasses import replace

    from collapsecheck.families.gaussian.checks.base import engine_simulator
    from collapsecheck.profiles import load_profile
    from collapsecheck.validate import run_check, run_profile

    profile = load_profile("ci")
    in_engines = [0.0]

    def timed(engine: str):
        simulator = engine_simulator(engine, 1, None)

        def run_timed(e, record):
            t0 = time.perf_counter()
            try:
                return simulator(e, record)
            finally:
                in_engines[0] += time.perf_counter() - t0

        return run_timed

    def one_seed(seed: int) -> tuple[float, float]:
        in_engines[0] = 0.0
        seeded = replace(profile, seed=seed)
        t0 = time.perf_counter()
        for check in profile.checks:
            run_check(check, seeded, timed(check.engine), workers=1)
        return time.perf_counter() - t0, in_engines[0]

    first, first_engines = one_seed(1)
    seeds = range(2, 4 if run.quick else 7)
    costs = [one_seed(s) for s in seeds]
    total = statistics.median(t for t, _ in costs)
    engines = statistics.median(e for _, e in costs)
    run.add("ci seed cost: the checks, as calibrate runs them, 1 worker",
            f"{total:.3f} s", f"median of seeds {seeds.start}..{seeds.stop - 1}; the first "
            f"seed in the process {first:.2f} s (engines {first_engines:.2f} s; imports, "
            "exact-law tables built once)")
    run.add("ci seed cost: of which the engines (raw cost of the same draws)",
            f"{engines:.3f} s", f"analysis {total - engines:.3f} s; seed = "
            f"{total / engines:.2f} x its engines")
    if not run.quick:
        report = run_profile(profile, seed=seeds.start, workers=1)
        timing = report.timing
        run.add("ci seed cost: run_profile (checks, claims A1..A8, figures), 1 worker",
                f"{timing['total_s']:.2f} s", f"checks {timing['checks_s']:.2f} s, claims "
                f"{timing['claims_s']:.2f} s (calibrate runs neither claims nor figures)")


SECTIONS = {
    "loop": section_loop,
    "fill": section_fill,
    "sufficient": section_sufficient,
    "samples": section_samples,
    "share": section_share,
    "big": section_big,
    "simulate-memory": section_simulate_memory,
    "startup": section_startup,
    "ci": section_ci,
    "regimes": section_regimes,
    "article": section_article,
    "seed-cost": section_seed_cost,
}


def machine(cores: int) -> str:
    return (f"{dt.date.today().isoformat()}; {platform.machine()}, {cores} cores (nproc; "
            f"{os.cpu_count()} online), {cpu_model()}; Python {platform.python_version()}; "
            f"numpy {np.__version__}; BLAS {blas_info()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller subsets, one repeat")
    ap.add_argument("--section", action="append", choices=sorted(SECTIONS),
                    help="run only this part (repeatable; default: every part, in order)")
    ap.add_argument("--markdown", help="also append the table to this file, as a dated "
                    "section (created with a title if missing)")
    args = ap.parse_args()
    run = Run(args.quick)
    chosen = [name for name in SECTIONS if not args.section or name in args.section]
    for name in chosen:
        SECTIONS[name](run)

    where = machine(run.cores)
    width = max(len(r[0]) for r in run.rows)
    lines = [f"machine: {where}", ""]
    lines += [f"{a:<{width}}  {b:>18}  {c}" for a, b, c in run.rows]
    print("\n".join(lines))
    if args.markdown:
        command = "python benchmarks/bench.py" + "".join(
            f" --section {name}" for name in (args.section or ())) + (
            " --quick" if args.quick else "")
        md = [f"## {dt.date.today().isoformat()}: {', '.join(chosen)}", "",
              f"Machine: {where}", "", f"Command: `{command}`", "",
              "| measurement | value | ratio / note |", "|---|---|---|"]
        md += [f"| {a} | {b} | {c} |" for a, b, c in run.rows]
        path = Path(args.markdown)
        head = "" if path.exists() else "# Benchmark results\n"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(head + "\n" + "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
