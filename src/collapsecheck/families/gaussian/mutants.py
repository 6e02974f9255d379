"""The Gaussian family's mutants: deliberately wrong simulators of the 1-D refit chain.

Each imitates one realistic bug of a simulator with the signature of ``validate
--simulator`` plugins, ``(experiment, record) -> Trajectories``, and says so in a
one-line summary: :data:`MUTANTS` (caught by the ``ci`` profile, the group ``all``) and
:data:`REGIME_MUTANTS` (bugs of the regimes' simulators, caught by the ``regimes``
profile, the group ``regimes``), together :data:`GAUSSIAN_MUTANTS`, which the family
declares as every family does (``FamilySpec.mutants`` and ``mutant_groups``). The shared
machinery (:class:`~collapsecheck.mutants.Mutant`, the lookup of every family's mutants,
``select``) is :mod:`collapsecheck.mutants`, which also serves every name here under its
historical path (``collapsecheck.mutants.MUTANTS``, ``collapsecheck.mutants:ddof_mismatch``,
``from collapsecheck.mutants import tails``).

Every mutant draws its randomness from ``experiment.seed`` alone, so it is deterministic,
and holds in memory only what it returns (replicates x recorded generations) plus one
block's state. Where the bug is a transformation of correct output or a wrong
:class:`~collapsecheck.families.gaussian.parameters.Experiment`, it is built on the
correct engines (:func:`collapsecheck.families.gaussian.engines.simulate`, one worker);
where it needs the draws themselves, it runs its own chains block by block, from
``SeedSequence(seed, spawn_key=(block,))`` for each block of 64 replicates on the
engines' bit generator, as the engines do. Two of those bugs act on individual draws
(``truncated-tails``, ``mad-sigma``): up to ``n =`` :data:`DRAWS_MAX_N` every draw is
made; above it each generation's fit is drawn from its large-n law (exact first two
moments of the tail-cut sum of squares; the scaled MAD's asymptotic normal law), so that
a profile at n = 1000 costs what the sufficient engine costs rather than minutes.

The parametrised builders (:func:`wrong_ddof`, :func:`wrong_n`, :func:`drift_offset`,
:func:`paired_replicates`, :func:`mean_step_scale`, :func:`tails`, ...) set a bug's
strength freely, e.g. to the smallest effect a check claims to detect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from statistics import NormalDist

import numpy as np

from collapsecheck.engines._blocks import (
    REPLICATE_BLOCK,
    Recorder,
    block_seed,
    block_slices,
    generator,
)
from collapsecheck.families.gaussian.engines import _overflow_iv, _record_iv, simulate
from collapsecheck.families.gaussian.parameters import Experiment
from collapsecheck.families.gaussian.records import Trajectories
from collapsecheck.mutants import Mutant

__all__ = [
    "DRAWS_MAX_N",
    "GAUSSIAN_MUTANTS",
    "MUTANTS",
    "REGIME_MUTANTS",
    "clipped_samples",
    "correct",
    "drift_offset",
    "mean_step_scale",
    "paired_replicates",
    "tails",
    "wrong_ddof",
    "wrong_n",
]

#: ``(experiment, record) -> Trajectories``, as :data:`collapsecheck.checks.Simulator`.
Simulator = Callable[[Experiment, str | Sequence[int]], Trajectories]

#: Largest n at which the draw-level mutants draw every value (see the module's notes).
DRAWS_MAX_N = 256


# ---------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------


def _engine(e: Experiment, record, engine: str = "sufficient") -> Trajectories:
    """The correct engine's chains (``samples`` where a regime has no sufficient law)."""
    if engine == "sufficient" and not e.is_base:
        from collapsecheck.families.gaussian.engines.regimes import engine_iv

        try:
            engine_iv(e, engine)
        except ValueError:
            engine = "samples"
    return simulate(e, engine=engine, record=record, workers=1).trajectories


def _claim(t: Trajectories, e: Experiment, **arrays) -> Trajectories:
    """``t`` with some arrays changed, reported as the claimed experiment ``e`` (the
    mean keeps the engines' coordinates, ``mean_origin`` and ``mean_scale``)."""
    return replace(t, spec=e.to_dict(), **arrays)


def _chains(e: Experiment, record, make_step) -> Trajectories:
    """Run chains of our own, block by block, as the engines do: block ``b`` draws from
    ``SeedSequence(seed, spawn_key=(b,))``; the state is ``(mu - mu0)/sigma0`` and
    ``log(sigma^2/sigma0^2)``, and ``make_step(e, rows)`` returns the refit
    ``step(rng, mu, log_var) -> (mu, log_var)`` of one generation. Only the recorded
    generations are kept."""
    _overflow_iv(e)
    rec = _record_iv(record, e.generations)
    means, log_vars = [], []
    for b, s in enumerate(block_slices(e.replicates)):
        rows = s.stop - s.start
        rng = generator(block_seed(e.seed, b))
        step = make_step(e, rows)
        out = Recorder(e, rows, rec)
        mu, log_var = out.start(rows)
        for t in range(1, e.generations + 1):
            mu, log_var = step(rng, mu, log_var)
            out.take(t, mu, log_var)
        m, lv = out.result()
        means.append(m)
        log_vars.append(lv)
    return Trajectories(rec, np.concatenate(log_vars), np.concatenate(means), spec=e.to_dict(),
                        mean_origin=e.mu0, mean_scale=e.sigma0)


def _sufficient_draws(rng: np.random.Generator, rows: int, n: int):
    """One generation's standardised fit from its exact law: the sample mean of n
    standard normals and their centred sum of squares (2 Gamma((n-1)/2))."""
    ss = 2.0 * rng.standard_gamma((n - 1) / 2, rows)
    zbar = rng.standard_normal(rows) / math.sqrt(n)
    return zbar, ss


# ---------------------------------------------------------------------------------------
# Parametrised builders
# ---------------------------------------------------------------------------------------


def correct(engine: str = "sufficient") -> Simulator:
    """The correct engine, as a simulator (the reference every mutant departs from)."""
    def run(e, record):
        return _engine(e, record, engine)

    return run


def wrong_ddof(delta: float = 1.0, engine: str = "sufficient") -> Simulator:
    """Fits the variance with ddof + delta but claims ddof (halfway to n where ddof +
    delta would reach it)."""
    def run(e, record):
        ddof = e.ddof + delta if e.ddof + delta < e.n else (e.ddof + e.n) / 2
        t = _engine(e.replace(ddof=ddof), record, engine)
        return _claim(t, e)

    return run


def _sample_size(size: Callable[[int], int], engine: str) -> Simulator:
    def run(e, record):
        m = max(2, int(size(e.n)))
        t = _engine(e.replace(n=m, ddof=min(e.ddof, m - 1)), record, engine)
        return _claim(t, e)

    return run


def wrong_n(delta: int = -1, engine: str = "sufficient") -> Simulator:
    """Draws n + delta samples per generation but claims n."""
    return _sample_size(lambda n: n + delta, engine)


def drift_offset(per_generation: float) -> Simulator:
    """Adds a fixed amount to every increment of log sigma^2 (a biased variance fit)."""
    def run(e, record):
        t = _engine(e, record)
        return _claim(t, e, log_var=t.log_var + per_generation * t.generations[None, :])

    return run


def paired_replicates() -> Simulator:
    """Reuses random numbers: replicates come in identical pairs (marginals stay right)."""
    def run(e, record):
        half = e.replace(replicates=math.ceil(e.replicates / 2))
        t = _engine(half, record)
        idx = np.repeat(np.arange(half.replicates), 2)[: e.replicates]
        return _claim(t, e, log_var=t.log_var[idx], mean=t.mean[idx])

    return run


def mean_step_scale(factor: float | Callable[[Experiment], float]) -> Simulator:
    """Draws the fitted mean's increments with SD factor * sigma/sqrt(n) (``factor`` a
    number, or a function of the experiment)."""
    def run(e, record):
        f = factor(e) if callable(factor) else factor
        t = _engine(e, record)
        # the stored mean is (mu - mu0)/sigma0, the sum of the increments so far: scaling
        # every increment scales it (the sigma chain does not depend on the mean)
        return _claim(t, e, mean=t.mean * f)

    return run


def _truncated_moments(at: float, mode: str) -> tuple[float, float]:
    """E[Y^2] and E[Y^4] of a standard normal clipped to, or redrawn within, +-at."""
    nd = NormalDist()
    pdf, tail = nd.pdf(at), nd.cdf(-at)
    inside = 1 - 2 * tail
    # integrals of z^2 and z^4 times the normal density over [-at, at]
    i2 = inside - 2 * at * pdf
    i4 = 3 * i2 - 2 * at**3 * pdf
    if mode == "redraw":
        return i2 / inside, i4 / inside
    return i2 + 2 * at**2 * tail, i4 + 2 * at**4 * tail


def tails(at: float = 3.0, mode: str = "redraw") -> Simulator:
    """Draws every sample but cuts its tails at mu +- at * sigma: ``'redraw'`` rejects
    and redraws values beyond (a truncated normal), ``'clip'`` sets them to the bound.

    Above n = :data:`DRAWS_MAX_N` the centred sum of squares is drawn from the gamma law
    with its exact mean and variance under the cut, (n-1) m2 and (n-1)^2/n (m4 - (n-3)/
    (n-1) m2^2) (exactly chi-square without a cut), and the sample mean from N(0, m2/n)."""
    if mode not in ("redraw", "clip"):
        raise ValueError(f"`mode` must be 'redraw' or 'clip'; got {mode!r}.")
    if not at > 0:
        raise ValueError(f"`at` must be > 0; got {at!r}.")
    m2, m4 = _truncated_moments(at, mode)

    def make_step(e, rows):
        n, log_div = e.n, math.log(e.n - e.ddof)
        if n > DRAWS_MAX_N:
            mean_ss = (n - 1) * m2
            var_ss = (n - 1) ** 2 / n * (m4 - (n - 3) / (n - 1) * m2 * m2)
            shape, scale = mean_ss**2 / var_ss, var_ss / mean_ss
            sd_mean = math.sqrt(m2 / n)

            def step(rng, mu, log_var):
                ss = scale * rng.standard_gamma(shape, rows)
                zbar = sd_mean * rng.standard_normal(rows)
                return mu + np.exp(0.5 * log_var) * zbar, log_var + (np.log(ss) - log_div)

            return step

        def step(rng, mu, log_var):
            z = rng.standard_normal((rows, n))
            if mode == "clip":
                np.clip(z, -at, at, out=z)
            else:
                flat = z.reshape(-1)
                idx = np.flatnonzero(np.abs(flat) > at)
                while idx.size:
                    flat[idx] = rng.standard_normal(idx.size)
                    idx = idx[np.abs(flat[idx]) > at]
            zbar = z.mean(axis=1)
            z -= zbar[:, None]
            with np.errstate(divide="ignore"):  # all n clipped to one bound: sigma = 0
                log_ss = np.log(np.einsum("ij,ij->i", z, z))
            return mu + np.exp(0.5 * log_var) * zbar, log_var + (log_ss - log_div)

        return step

    def run(e, record):
        return _chains(e, record, make_step)

    return run


def clipped_samples(clip: float) -> Simulator:
    """Draws every sample but clips it to mu +- clip * sigma (tails cut, not resampled)."""
    return tails(clip, "clip")


# ---------------------------------------------------------------------------------------
# The registry's bugs
# ---------------------------------------------------------------------------------------


def _n_minus_10pct() -> Simulator:
    return _sample_size(lambda n: round(0.9 * n), "sufficient")


def _off_by_one() -> Simulator:
    def run(e, record):
        want = _record_iv(record, e.generations)
        if e.generations == 0:
            return _claim(_engine(e, record), e)
        # generation t is recorded with the fit of t - 1 (generation 0 twice): the chain
        # of T - 1 refits, shifted by one place (the engines' streams do not depend on
        # the horizon, so this is the first T - 1 refits of the correct chain)
        src = np.maximum(want - 1, 0)
        t = _engine(e.replace(generations=e.generations - 1), np.unique(src).tolist())
        idx = np.searchsorted(t.generations, src)
        return _claim(t, e, generations=want, log_var=t.log_var[:, idx], mean=t.mean[:, idx])

    return run


def _shared_stream() -> Simulator:
    def run(e, record):
        k = min(e.replicates, REPLICATE_BLOCK)
        t = _engine(e.replace(replicates=k), record)
        idx = np.arange(e.replicates) % k
        return _claim(t, e, log_var=t.log_var[idx], mean=t.mean[idx])

    return run


def _antithetic_pairs() -> Simulator:
    def run(e, record):
        half = e.replace(replicates=math.ceil(e.replicates / 2))
        t = _engine(half, record)
        idx = np.repeat(np.arange(half.replicates), 2)[: e.replicates]
        sign = np.where(np.arange(e.replicates) % 2 == 1, -1.0, 1.0)[:, None]
        # -z has the same sum of squares as z and the opposite mean increments
        return _claim(t, e, log_var=t.log_var[idx], mean=t.mean[idx] * sign)

    return run


def _frozen_mean() -> Simulator:
    def run(e, record):
        t = _engine(e, record)
        return _claim(t, e, mean=np.zeros_like(t.mean))  # mu0, in the stored coordinates

    return run


def _variance_not_sd() -> Simulator:
    def run(e, record):
        t = _engine(e, record)
        return _claim(t, e, log_var=2.0 * t.log_var)  # log((sigma^2)^2)

    return run


def _mean_spread() -> Simulator:
    return mean_step_scale(lambda e: math.sqrt(e.n / (e.n - 1)))


def _c4_log(n: int) -> float:
    """log c4(n), c4(n) = E[s]/sigma for the ddof = 1 SD s of n normal draws."""
    return 0.5 * math.log(2 / (n - 1)) + math.lgamma(n / 2) - math.lgamma((n - 1) / 2)


def _biased_drift() -> Simulator:
    def run(e, record):
        t = _engine(e, record)
        offset = -2.0 * _c4_log(e.n)  # sigma / c4 each generation: log sigma^2 - 2 log c4
        return _claim(t, e, log_var=t.log_var + offset * t.generations[None, :])

    return run


#: 1 / Phi^-1(3/4): makes the MAD of normal draws consistent for sigma.
MAD_SCALE = 1 / NormalDist().inv_cdf(0.75)


def _mad_sigma() -> Simulator:
    q = NormalDist().inv_cdf(0.75)
    # large n: MAD_SCALE * MAD -> N(1 - 0.8/n, v/n) with v = 1/(16 phi(q)^2 q^2) = 1.3605
    # (the median of |X| has density 2 phi(q) at q); -0.8/n is the finite-sample bias
    # of Croux & Rousseeuw's correction factor n/(n - 0.8); asymptotically independent of
    # the sample mean (the MAD is an even functional)
    v = 1 / (16 * NormalDist().pdf(q) ** 2 * q * q)

    def make_step(e, rows):
        n = e.n
        if n > DRAWS_MAX_N:
            centre, sd = 1 - 0.8 / n, math.sqrt(v / n)

            def step(rng, mu, log_var):
                s = np.abs(centre + sd * rng.standard_normal(rows))
                zbar = rng.standard_normal(rows) / math.sqrt(n)
                return mu + np.exp(0.5 * log_var) * zbar, log_var + 2 * np.log(s)

            return step

        def step(rng, mu, log_var):
            z = rng.standard_normal((rows, n))
            zbar = z.mean(axis=1)
            med = np.median(z, axis=1)
            s = MAD_SCALE * np.median(np.abs(z - med[:, None]), axis=1)
            return mu + np.exp(0.5 * log_var) * zbar, log_var + 2 * np.log(s)

        return step

    def run(e, record):
        return _chains(e, record, make_step)

    return run


def _stale_center() -> Simulator:
    def make_step(e, rows):
        n, log_div = e.n, math.log(e.n - e.ddof)

        def step(rng, mu, log_var):
            zbar, ss = _sufficient_draws(rng, rows, n)
            # sum (x - mu_prev)^2 = sum (x - xbar)^2 + n (xbar - mu_prev)^2
            ss = ss + n * zbar * zbar
            return mu + np.exp(0.5 * log_var) * zbar, log_var + (np.log(ss) - log_div)

        return step

    def run(e, record):
        return _chains(e, record, make_step)

    return run


def _update_order() -> Simulator:
    def make_step(e, rows):
        n, log_div = e.n, math.log(e.n - e.ddof)

        def step(rng, mu, log_var):
            zbar, ss = _sufficient_draws(rng, rows, n)
            log_var = log_var + (np.log(ss) - log_div)
            return mu + np.exp(0.5 * log_var) * zbar, log_var  # the new sigma, not the old

        return step

    def run(e, record):
        return _chains(e, record, make_step)

    return run


def _normal_steps() -> Simulator:
    def make_step(e, rows):
        n = e.n
        drift, sd = -(2 - e.ddof) / n, math.sqrt(2 / (n - 1))

        def step(rng, mu, log_var):
            zbar = rng.standard_normal(rows) / math.sqrt(n)
            new = log_var + (drift + sd * rng.standard_normal(rows))
            return mu + np.exp(0.5 * log_var) * zbar, new

        return step

    def run(e, record):
        return _chains(e, record, make_step)

    return run


def _population_fresh() -> Simulator:
    def make_step(e, rows):
        n, log_div = e.n, math.log(e.n - e.ddof)

        def step(rng, mu, log_var):
            zbar, ss = _sufficient_draws(rng, rows, n)
            return zbar, np.log(ss) - log_div  # refit to N(mu0, sigma0^2) every time

        return step

    def run(e, record):
        return _chains(e, record, make_step)

    return run


# ---------------------------------------------------------------------------------------
# Regime bugs (each behaves correctly outside the regime it breaks)
# ---------------------------------------------------------------------------------------


def _fresh_from_model() -> Simulator:
    """mix: the 'fresh' draws come from the current model instead of the original
    N(mu0, sigma0^2), which is the replace chain claimed as mix."""
    def run(e, record):
        if e.regime != "mix":
            return _engine(e, record)
        t = _engine(e.replace(regime="replace", fresh_fraction=None), record)
        return _claim(t, e)

    return run


def _pool_forgets_first() -> Simulator:
    """accumulate: the pool loses generation 1's draws (the real data) from generation 2
    on, so generation t fits to the n_2 + ... + n_t model draws only. Runs its own chains
    (:func:`_chains`) from the exact law of each batch (mean and chi-square sum of
    squares); truncation is not supported."""
    def make_step(e, rows):
        tau2 = e.temperature ** 2
        state = {"t": 0, "count": 0, "mean": np.zeros(rows), "q": np.zeros(rows)}

        def step(rng, mu, log_var):
            state["t"] += 1
            nt = e.n_at(state["t"])
            s = tau2 * np.exp(log_var)
            zbar, ss = _sufficient_draws(rng, rows, nt)
            batch_mean, batch_q = mu + np.sqrt(s) * zbar, s * ss
            if state["t"] == 1:  # the real data: fitted, then forgotten
                return batch_mean, np.log(batch_q / (nt - e.ddof))
            total = state["count"] + nt
            delta = batch_mean - state["mean"]
            state["q"] = state["q"] + batch_q + delta * delta * (state["count"] * nt / total)
            state["mean"] = state["mean"] + delta * (nt / total)
            state["count"] = total
            return state["mean"].copy(), np.log(state["q"] / (total - e.ddof))

        return step

    def run(e, record):
        if e.regime != "accumulate":
            return _engine(e, record)
        if e.truncate is not None:
            raise ValueError("the pool-forgets-first mutant has no truncated version.")
        return _chains(e, record, make_step)

    return run


def _temperature_on_mean() -> Simulator:
    """temperature: tau scales the spread of the mean's draw but the variance is refitted
    as at tau = 1 (the temperature applied to the mean instead of the samples)."""
    def run(e, record):
        if e.temperature == 1 or e.regime != "replace":
            return _engine(e, record)
        t = _engine(e.replace(temperature=1.0), record)
        return _claim(t, e, mean=t.mean * e.temperature)

    return run


def _clipped_not_truncated() -> Simulator:
    """truncation: clips the model's draws to mu +- C sigma instead of conditioning on
    |x - mu| <= C sigma (the article's chain otherwise; temperature 1 only)."""
    def run(e, record):
        if e.truncate is None or e.regime != "replace" or e.temperature != 1 or e.n_growth:
            return _engine(e, record)
        base = e.replace(truncate=None)
        return _claim(clipped_samples(e.truncate)(base, record), e)

    return run


def _growth_lag() -> Simulator:
    """n-growth: generation t draws n_{t-1} values (the schedule one generation late;
    generation 1 draws n), replace regime without truncation; its own chains
    (:func:`_chains`) from the exact law of each fit."""
    def make_step(e, rows):
        log_tau2 = 2 * math.log(e.temperature)
        state = {"t": 0}

        def step(rng, mu, log_var):
            state["t"] += 1
            nt = e.n_at(max(1, state["t"] - 1))
            zbar, ss = _sufficient_draws(rng, rows, nt)
            mu = mu + np.exp(0.5 * (log_var + log_tau2)) * zbar
            return mu, log_var + log_tau2 + np.log(ss / (nt - e.ddof))

        return step

    def run(e, record):
        if not e.n_growth or e.regime != "replace" or e.truncate is not None:
            return _engine(e, record)
        return _chains(e, record, make_step)

    return run


def _pool_stalls() -> Simulator:
    """accumulate-subsample: the pool is the previous generation's subsample plus the new
    batch (it stops growing) instead of every draw so far; every value is drawn (fixed n,
    no truncation), in chains of its own (:func:`_chains`)."""
    def make_step(e, rows):
        n, tau = e.n, e.temperature
        state = {"kept": np.empty((rows, 0))}

        def step(rng, mu, log_var):
            new = mu[:, None] + tau * np.exp(0.5 * log_var)[:, None] * \
                rng.standard_normal((rows, n))
            pool = np.concatenate([state["kept"], new], axis=1)
            pick = np.argpartition(rng.random(pool.shape), n - 1, axis=1)[:, :n]
            kept = state["kept"] = np.take_along_axis(pool, pick, axis=1)
            mu = kept.mean(axis=1)
            return mu, np.log(((kept - mu[:, None]) ** 2).sum(axis=1) / (n - e.ddof))

        return step

    def run(e, record):
        if e.regime != "accumulate-subsample" or e.n_growth or e.truncate is not None:
            return _engine(e, record)
        return _chains(e, record, make_step)

    return run


# ---------------------------------------------------------------------------------------
# The registries
# ---------------------------------------------------------------------------------------


def _registry(*entries: tuple[str, str, Callable[[], Simulator]], profile: str = "ci"
              ) -> dict[str, Mutant]:
    return {name: Mutant(name, summary, build, profile) for name, summary, build in entries}


MUTANTS: dict[str, Mutant] = _registry(
    ("ddof-mismatch", "fits the variance with divisor n - (ddof + 1) but claims ddof",
     wrong_ddof),
    ("n-minus-10pct", "draws round(0.9 n) values per generation but claims n",
     _n_minus_10pct),
    ("off-by-one", "records generation t - 1's fit as generation t (generation 0 twice, the "
     "last refit lost)", _off_by_one),
    ("shared-stream", "seeds every block of 64 replicates with the same stream (the spawn "
     "key forgotten): replicate r repeats replicate r mod 64", _shared_stream),
    ("antithetic-pairs", "odd replicates reuse the previous replicate's draws negated "
     "(antithetic variates): every marginal right, the pairs dependent", _antithetic_pairs),
    ("truncated-tails", "rejects and redraws samples beyond mu +- 3 sigma (a truncated "
     "normal: the variance fit shrinks by 2.7% per generation)", tails),
    ("frozen-mean", "never refits the mean: mu stays mu0 while sigma is refitted",
     _frozen_mean),
    ("mad-sigma", "fits sigma as 1.4826 x the median absolute deviation instead of the SD",
     _mad_sigma),
    ("variance-not-sd", "returns sigma^2 where sigma is expected (log_var doubled)",
     _variance_not_sd),
    ("mean-spread", "draws the mean's increment with SD sigma/sqrt(n - 1) instead of "
     "sigma/sqrt(n)", _mean_spread),
    ("biased-drift", "divides each fitted SD by c4(n) to 'unbias' it, so log sigma^2 gains "
     "-2 log c4(n) every generation", _biased_drift),
    ("stale-center", "fits the variance around the previous generation's mean instead of "
     "the new sample mean", _stale_center),
    ("update-order", "updates sigma first and draws the mean's increment with the new "
     "sigma_t instead of sigma_(t-1)", _update_order),
    ("normal-steps", "draws each log sigma^2 step from its large-n normal approximation "
     "N(-(2 - ddof)/n, 2/(n - 1)) instead of the exact log-chi-square law", _normal_steps),
    ("population-fresh", "draws every generation from the original N(mu0, sigma0^2) "
     "instead of the previous fit (no feedback loop)", _population_fresh),
)


#: Bugs of the regimes' simulators, caught by the ``regimes`` profile's checks.
REGIME_MUTANTS: dict[str, Mutant] = _registry(
    ("mix-fresh-from-model", "mix: draws the 'fresh' share from the current model instead "
     "of the original N(mu0, sigma0^2)", _fresh_from_model),
    ("pool-forgets-first", "accumulate: the pool loses generation 1's draws (the real data) "
     "from generation 2 on", _pool_forgets_first),
    ("temperature-on-mean", "temperature: scales the mean's draw by tau but refits sigma as "
     "at tau = 1", _temperature_on_mean),
    ("clipped-not-truncated", "truncation: clips the model's draws to mu +- C sigma instead "
     "of conditioning on |x - mu| <= C sigma", _clipped_not_truncated),
    ("growth-lag", "n-growth: generation t draws n_(t-1) values (the schedule one "
     "generation late)", _growth_lag),
    ("pool-stalls", "accumulate-subsample: the pool is the last subsample plus the new "
     "batch (it stops growing) instead of every draw so far", _pool_stalls),
    profile="regimes",
)


#: Every mutant of the family, :data:`MUTANTS` then :data:`REGIME_MUTANTS` (its
#: ``FamilySpec.mutants``: ``--mutant gaussian``); its groups ``all`` and ``regimes``
#: are its ``FamilySpec.mutant_groups``.
GAUSSIAN_MUTANTS: dict[str, Mutant] = {**MUTANTS, **REGIME_MUTANTS}
