r"""The article's remedy, quantified: how much fresh data keeps the chain near the original.

Under ``--regime mix`` each generation fits n draws of which :math:`m = \mathrm{round}(L n)`
come from the original :math:`N(\mu_0, \sigma_0^2)`. With any fresh data (m >= 1) the chain
no longer collapses: it settles into a stationary law. How near the original that law
stays is judged on the log scale, by the stationary geometric mean of sigma,
:math:`\exp(E[\log\sigma_\infty^2]/2)`, against :math:`\sigma_0` (the median of a
log-symmetric law; the arithmetic :math:`E[\sigma^2]` is a poor yardstick: at ddof 1 it is
not monotone in m, one fresh draw per generation giving a stationary
:math:`E[\sigma^2] = 2\sigma_0^2` because the model's mean wanders from mu0 and the fresh
draw lands far from it, although with no fresh data :math:`E[\sigma_T^2] = \sigma_0^2` at
every T).

:func:`smallest_fresh_count` finds, for one (n, ddof), the smallest m whose stationary
geometric mean is at least :math:`(1 - \varepsilon)\sigma_0`. Exact values exist at the
ends: m = n (every draw fresh: :math:`E[\log\sigma^2] = \psi((n-1)/2) + \log(2/(n - d))`,
exact) and m = 0 (collapse, :math:`-\infty`); in between :math:`E[\log\sigma_\infty^2]` has
no closed form and is computed by Monte Carlo of the exact sufficient-statistic law of one
generation (the mix regime's law: model part mean and chi-square sum of squares, fresh part
likewise, merged exactly), with its standard error from batch means; every number is
labelled so. The search assumes that :math:`E[\log\sigma_\infty^2]` increases with m (each
extra fresh draw pulls harder towards the original) only between the points of a doubling
grid it evaluates; a smaller m that also meets the target is reported in the row's note. The
estimates at m - 1 and m are reported, so the decision and its margin can be read.

Where even m = n cannot reach the target (a fit of n fresh draws is biased low on the log
scale by the exact amount above: at n = 10, ddof 1, by 5.6% in sigma), the answer is
``None``, with that exact value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special

__all__ = ["RemedyRow", "reference_record", "remedy_markdown", "remedy_record", "remedy_table",
           "smallest_fresh_count", "stationary_log_sigma2"]

#: The seed of every Monte Carlo estimate here (a SeedSequence per (n, ddof, m)).
REMEDY_SEED = 2024


@dataclass(frozen=True)
class StationaryEstimate:
    """Monte Carlo estimate of :math:`E[\\log(\\sigma_\\infty^2/\\sigma_0^2)]`."""

    m: int
    estimate: float
    se: float
    sd: float
    method: str


def _fresh_all_exact(n: int, ddof: float) -> float:
    """E[log(sigma^2/sigma0^2)] when every draw is fresh: psi((n-1)/2) + log(2/(n-ddof))."""
    return float(special.digamma((n - 1) / 2) + math.log(2.0 / (n - ddof)))


def stationary_log_sigma2(n: int, ddof: float, m: int, *, chains: int = 4000,
                          seed: int = REMEDY_SEED) -> StationaryEstimate:
    r"""Stationary :math:`E[\log(\sigma^2/\sigma_0^2)]` of the mix chain with m of n fresh
    (and the stationary SD of :math:`\log\sigma^2`, ``sd``).

    Exact for m = n; otherwise ``chains`` chains of the exact one-generation law run from
    the original for a burn-in of :math:`B = \max(200, 10 n/m)` generations (the pull to
    the original relaxes as :math:`(1 - m/n)^t`, so the start's influence is below
    :math:`e^{-10}`), then :math:`2B` generations are averaged; the standard error comes
    from 20 batch means over the chains (independent), each averaged over time.
    """
    if m == n:
        return StationaryEstimate(m, _fresh_all_exact(n, ddof), 0.0,
                                  math.sqrt(float(special.polygamma(1, (n - 1) / 2))), "exact")
    if m <= 0:
        return StationaryEstimate(m, -math.inf, 0.0, math.nan,
                                  "exact (collapse: no stationary law)")
    r = n - m
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(
        seed, spawn_key=(n, round(ddof * 1000), m))))
    burn = max(200, math.ceil(10 * n / m))
    window = 2 * burn
    mu = np.zeros(chains)
    lv = np.zeros(chains)
    acc = np.zeros(chains)
    acc2 = np.zeros(chains)
    inv_n = 1.0 / n
    for t in range(burn + window):
        sd = np.exp(0.5 * lv)
        g = mu + sd * rng.standard_normal(chains) / math.sqrt(r)
        ss_g = (sd * sd) * (2.0 * rng.standard_gamma((r - 1) / 2, chains) if r > 1 else 0.0)
        f = rng.standard_normal(chains) / math.sqrt(m)
        ss_f = 2.0 * rng.standard_gamma((m - 1) / 2, chains) if m > 1 else 0.0
        ss = ss_g + ss_f + (m * r * inv_n) * (f - g) ** 2
        mu = (r * g + m * f) * inv_n
        lv = np.log(ss / (n - ddof))
        if t >= burn:
            acc += lv
            acc2 += lv * lv
    per_chain = acc / window
    batches = per_chain.reshape(20, -1).mean(axis=1)
    mean = float(batches.mean())
    sd = math.sqrt(max(float(np.mean(acc2 / window)) - mean * mean, 0.0))
    return StationaryEstimate(m, mean, float(batches.std(ddof=1) / math.sqrt(20)), sd,
                              f"Monte Carlo: {chains} chains, burn-in {burn}, window {window} "
                              f"generations, SE from 20 batch means (seed {seed})")


@dataclass(frozen=True)
class RemedyRow:
    """One row of the remedy table: the smallest fresh count m (and fraction m/n) whose
    stationary geometric mean of sigma is at least (1 - tolerance) sigma0."""

    n: int
    ddof: float
    tolerance: float
    target_log_sigma2: float
    fresh_count: int | None
    fresh_fraction: float | None
    at_m: dict | None
    below_m: dict | None
    all_fresh_log_sigma2: float
    sigma2_mean_stationary: float | None
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def smallest_fresh_count(n: int, ddof: float = 0.0, tolerance: float = 0.05, *,
                         chains: int = 4000) -> RemedyRow:
    """The smallest m in 1..n from which on the stationary E[log sigma^2/sigma0^2] is at
    least 2 log(1 - tol): every m of a doubling grid above it, and m itself, meet it (a
    failing grid point is bisected against the next; see the module docstring)."""
    if not 0 < tolerance < 1:
        raise ValueError(f"`tolerance` must lie in (0, 1); got {tolerance}.")
    target = 2 * math.log1p(-tolerance)
    top = _fresh_all_exact(n, ddof)
    if top < target:
        return RemedyRow(n, ddof, tolerance, target, None, None, None, None, top,
                         _stationary_sigma2(n, ddof, n),
                         f"unreachable: even all-fresh data give E[log sigma^2] = {top:.4g} "
                         f"(exact) < {target:.4g}")
    cache: dict[int, StationaryEstimate] = {n: stationary_log_sigma2(n, ddof, n)}

    def near(est: StationaryEstimate) -> bool:
        return est.estimate >= target

    def value(m: int) -> StationaryEstimate:
        if m not in cache:
            cache[m] = stationary_log_sigma2(n, ddof, m, chains=chains)
        return cache[m]

    # E[log sigma^2] need not increase with m (one fresh draw inflates the spread, and at
    # ddof 1 lifts the geometric mean): find the largest failing m on a doubling grid, then
    # bisect between it and the next grid point, so the answer is the smallest m from which
    # on every checked m meets the target.
    grid = sorted({min(n, 2**j) for j in range(0, n.bit_length() + 1)})
    failing = [g for g in grid if g < n and not near(value(g))]
    lo = max(failing, default=0)
    hi = min(g for g in grid if g > lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if near(value(mid)):
            hi = mid
        else:
            lo = mid
    at = value(hi)
    below = value(lo) if lo > 0 else StationaryEstimate(0, -math.inf, 0.0, 0.0, "exact (collapse)")
    margin = min(abs(at.estimate - target) / at.se if at.se else math.inf,
                 abs(below.estimate - target) / below.se if below.se else math.inf)
    note = (f"decision margin {margin:.1f} standard errors" if math.isfinite(margin)
            else "decided by exact values")
    if any(g < lo for g in grid if near(value(g))):
        note += "; not monotone in m: smaller m also meet the target (" + ", ".join(
            str(g) for g in grid if g < lo and near(value(g))) + ")"
    return RemedyRow(n, ddof, tolerance, target, hi, hi / n, asdict(at), asdict(below), top,
                     _stationary_sigma2(n, ddof, hi), note)


def _stationary_sigma2(n: int, ddof: float, m: int) -> float | None:
    """The exact stationary E[sigma^2]/sigma0^2 of the mix chain (the regime's theory)."""
    from collapsecheck.families.gaussian.theory.mix import mix_stationary

    value = mix_stationary(n, m / n, ddof)
    return None if value is None else float(value["sigma2_mean"])


def remedy_table(ns=(10, 30, 100, 300, 1000), ddofs=(0.0, 1.0), tolerance: float = 0.05,
                 *, chains: int = 4000) -> list[RemedyRow]:
    """:func:`smallest_fresh_count` over a grid of n and ddof."""
    return [smallest_fresh_count(n, d, tolerance, chains=chains) for d in ddofs for n in ns]


def remedy_record(ns, ddofs, tolerance: float = 0.05, *, chains: int = 4000) -> dict:
    """The remedy table as the JSON record of ``collapsecheck remedy``."""
    from collapsecheck import __version__

    rows = remedy_table(ns, ddofs, tolerance, chains=chains)
    return {
        "what": "smallest fresh count m (fraction m/n) of the mix regime whose stationary "
                "geometric mean of sigma, exp(E[log sigma^2]/2), is at least "
                f"(1 - {tolerance:g}) sigma0",
        "tolerance": tolerance, "seed": REMEDY_SEED, "chains": chains,
        "command": "collapsecheck remedy " + " ".join(
            [*(f"--n {n}" for n in ns), *(f"--ddof {d:g}" for d in ddofs),
             f"--tolerance {tolerance:g}"]),
        "method": "bisection on m; E[log sigma^2] exact at m = n, Monte Carlo of the exact "
                  "one-generation law elsewhere (see collapsecheck.remedy)",
        "versions": {"collapsecheck": __version__},
        "rows": [r.to_dict() for r in rows],
    }


def remedy_markdown(record: dict) -> str:
    """The remedy table in Markdown."""
    lines = ["# The article's remedy, quantified", "",
             f"Question: {record['what']}.", "",
             f"Method: {record['method']}. Reproduce with `{record['command']}`.", "",
             "| n | ddof | smallest m | fraction m/n | E[log sigma^2] at m (SE) | at m - 1 (SE) "
             "| all fresh (exact) | stationary E[sigma^2] at m (exact) | note |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cell(est):
        if est is None:
            return "-"
        if est["estimate"] is None or est["estimate"] == -math.inf:  # -inf: null in JSON
            return "-inf (exact: no fresh data, collapse)"
        if est["se"] == 0:
            return f"{est['estimate']:.4g} (exact)"
        return f"{est['estimate']:.4f} ({est['se']:.1g}; SD {est['sd']:.2g})"

    for r in record["rows"]:
        m = "-" if r["fresh_count"] is None else str(r["fresh_count"])
        frac = "-" if r["fresh_fraction"] is None else f"{r['fresh_fraction']:.4g}"
        s2 = "-" if r["sigma2_mean_stationary"] is None else f"{r['sigma2_mean_stationary']:.4g}"
        lines.append(f"| {r['n']} | {r['ddof']:g} | {m} | {frac} | {cell(r['at_m'])} | "
                     f"{cell(r['below_m'])} | {r['all_fresh_log_sigma2']:.4g} | {s2} | "
                     f"{r['note']} |")
    lines += ["", f"Target: E[log sigma^2/sigma0^2] >= 2 log(1 - {record['tolerance']:g}).",
              "E[sigma^2] is shown to make the point of the module docstring: it is not the "
              "yardstick (at ddof 1 a single fresh draw gives 2 sigma0^2).", ""]
    return "\n".join(lines)


def reference_record() -> dict | None:
    """The committed remedy table shipped with the package (``reference/remedy.json``,
    written by ``collapsecheck remedy --out reports/remedy`` and copied there; the test
    suite checks it against that report and recomputes a row of it), or None."""
    import json
    from importlib import resources

    try:
        text = resources.files("collapsecheck").joinpath("reference/remedy.json").read_text()
    except (FileNotFoundError, OSError):
        return None
    return json.loads(text)


def remedy_rows_markdown(record: dict) -> list[str]:
    """The table rows of :func:`remedy_markdown` (header included)."""
    doc = remedy_markdown(record).splitlines()
    return [line for line in doc if line.startswith("|")]
