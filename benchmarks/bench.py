"""Benchmarks, as ratios taken in the same run on the same machine.

    python benchmarks/bench.py [--quick] [--markdown benchmarks/RESULTS.md]

Prints a table: the article's own loop (extrapolated from a subset), the raw fill rate of
numpy's Generator (several bit generators, float64 and float32), both engines at the
article's scale (1000 replicates x 1000 generations x n = 1000) with 1 and all workers,
the ratios the project promises (sufficient engine vs the article's loop >= 1000x;
samples engine >= 0.7 x raw fill x cores), peak resident memory of the process tree, the
``ci`` profile's wall time, and the machine (cores, numpy version, BLAS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import time

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller subsets, one repeat")
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    article = Experiment(n=1000, generations=1000, replicates=1000, seed=1)
    rows = []

    loop = article_loop(5 if args.quick else 20, 1000, 1000)
    loop_total = loop * article.replicates * article.generations
    rows.append(("article loop, np.random (per replicate-generation)", f"{loop * 1e6:.1f} us",
                 f"whole experiment ~{loop_total:.1f} s"))
    gloop = generator_loop(5 if args.quick else 20, 1000, 1000)
    gloop_total = gloop * article.replicates * article.generations
    rows.append(("same loop on a Generator (per replicate-generation)", f"{gloop * 1e6:.1f} us",
                 f"whole experiment ~{gloop_total:.1f} s"))

    fills = {}
    for bitgen in ("PCG64", "SFC64", "Philox"):
        for dtype in (np.float64, np.float32):
            r = fill_rate(bitgen, dtype, 0.5 if args.quick else 1.0)
            fills[(bitgen, np.dtype(dtype).name)] = r
            rows.append((f"raw fill, {bitgen} {np.dtype(dtype).name}, 1 core",
                         f"{r / 1e6:.0f} M normals/s", ""))
    raw = fills[(BIT_GENERATOR, "float64")]  # the engines' own bit generator

    repeats = 1 if args.quick else 7
    suff1 = engine_time("sufficient", 1, article, repeats)
    suffn = engine_time("sufficient", cores, article, repeats)
    rows.append(("sufficient engine, article scale, 1 worker", f"{suff1 * 1e3:.1f} ms",
                 f"{loop_total / suff1:.0f}x the article loop"))
    rows.append((f"sufficient engine, article scale, {cores} workers", f"{suffn * 1e3:.1f} ms",
                 f"{loop_total / suffn:.0f}x the article loop (goal >= 1000x); "
                 f"{gloop_total / suffn:.0f}x the Generator loop"))

    draws = article.replicates * article.generations * article.n
    samp1 = engine_time("samples", 1, article, 1)
    sampn = engine_time("samples", cores, article, 1)
    rows.append(("samples engine, article scale, 1 worker", f"{samp1:.2f} s",
                 f"{draws / samp1 / 1e6:.0f} M normals/s = {draws / samp1 / raw:.2f} x raw "
                 f"{BIT_GENERATOR} fill"))
    rows.append((f"samples engine, article scale, {cores} workers", f"{sampn:.2f} s",
                 f"{draws / sampn / 1e6:.0f} M normals/s = "
                 f"{draws / sampn / (raw * cores):.2f} x raw {BIT_GENERATOR} fill x cores "
                 "(goal >= 0.7)"))

    big = Experiment(n=200_000, generations=2, replicates=500, seed=1)
    t0 = time.perf_counter()
    simulate(big, engine="samples", workers=cores, record="final")
    rows.append(("samples engine, 500 replicates x n = 200,000 x 2 generations",
                 f"{time.perf_counter() - t0:.2f} s", "memory bounded by the chunk size"))
    rows.append(("peak resident memory, this process + workers (max of each)",
                 f"{peak_rss_mb():.0f} MB", "goal < 1 GB"))

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "collapsecheck", "validate", "--profile", "ci",
                    "--no-progress"], check=True, capture_output=True)
    rows.append(("validate --profile ci (whole command)", f"{time.perf_counter() - t0:.1f} s",
                 "goal < 60 s"))

    machine = (f"{dt.date.today().isoformat()}; {platform.machine()}, {cores} cores; "
               f"Python {platform.python_version()}; numpy {np.__version__}; BLAS "
               f"{blas_info()}")
    width = max(len(r[0]) for r in rows)
    lines = [f"machine: {machine}", ""]
    lines += [f"{a:<{width}}  {b:>18}  {c}" for a, b, c in rows]
    print("\n".join(lines))
    if args.markdown:
        md = ["# Benchmark results", "", f"Machine: {machine}", "",
              "Command: `python benchmarks/bench.py`", "",
              "| measurement | value | ratio / note |", "|---|---|---|"]
        md += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
