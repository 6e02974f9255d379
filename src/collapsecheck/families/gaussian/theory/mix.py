r"""Exact theory of the mix regime: each generation refits to fresh and model draws.

Setting (DESIGN.md): generation :math:`t` draws :math:`m = m_t = \mathrm{round}(L n_t)` of
its :math:`n = n_t` values fresh from the original :math:`N(\mu_0, \sigma_0^2)`
(untempered, untruncated) and :math:`r = n - m` from the model fitted at :math:`t-1`
(mean :math:`\mu = \mu_{t-1}`, variance :math:`s = f\sigma_{t-1}^2`, :math:`f =
\tau^2\kappa(C)`, symmetric about :math:`\mu`), and fits :math:`\mu_t = \bar x`,
:math:`\sigma_t^2 = SS/(n - d)`.

**Derivation.** Split the sample into the fresh part (mean :math:`\bar f`, sum of squares
:math:`SS_f`) and the model part (:math:`\bar g`, :math:`SS_g`). Then
:math:`SS = SS_f + SS_g + \frac{mr}{n}(\bar f - \bar g)^2`, and given the model, with
:math:`\delta = \mu - \mu_0`, :math:`E SS_f = (m-1)\sigma_0^2`, :math:`E SS_g = (r-1)s`,
:math:`E(\bar f - \bar g)^2 = \delta^2 + \sigma_0^2/m + s/r` (the parts are independent),
so

.. math::

    E[SS \mid \text{model}] = \frac{n-1}{n}\left(m\sigma_0^2 + r s\right)
        + \frac{mr}{n}\delta^2,

a form that also holds at m = 0, r = 0, m = 1 or r = 1 (the terms with :math:`1/m` or
:math:`1/r` carry a factor m or r). The mean moves as
:math:`\mu_t - \mu_0 = \frac rn \delta + \varepsilon`, :math:`E[\varepsilon \mid
\text{model}] = 0`, :math:`E[\varepsilon^2 \mid \text{model}] = (m\sigma_0^2 + r s)/n^2`.
Taking expectations, :math:`x_t = (v_t, w_t) = (E\sigma_t^2, E(\mu_t - \mu_0)^2)` follows
the exact affine recursion

.. math::

    v_t = \frac{\frac{n-1}{n}(m\sigma_0^2 + r f v_{t-1}) + \frac{mr}{n} w_{t-1}}{n - d},
    \qquad w_t = \frac{r^2}{n^2} w_{t-1} + \frac{m\sigma_0^2 + r f v_{t-1}}{n^2},

from :math:`(v_0, w_0) = (\sigma_0^2, 0)`. :math:`E\mu_t = \mu_0` (by induction), so
:math:`\mathrm{Var}(\mu_t) = w_t`. With fixed n it is :math:`x_t = A x_{t-1} + b` and the
stationary point :math:`(I - A)^{-1} b` exists iff the spectral radius of A (a nonnegative
matrix: its Perron root) is below 1; at m = 0 (replace) :math:`A_{22} = 1`, so it never
does. For m = 1: ddof = 1 gives :math:`v^* = 2\sigma_0^2`, :math:`w^* = \sigma_0^2` for
every n; ddof = 0 gives :math:`v^* = 2(n-1)/(3n-2)\,\sigma_0^2` (0.6644 at n = 100,
:math:`\to 2/3`) and :math:`w^* = n/(3n-2)\,\sigma_0^2`.

The horizon is reached by repeated squaring of the augmented 3x3 matrix (fixed n) or by a
pairwise product of the per-generation matrices in blocks (n-growth); every entry is
nonnegative, so products lose no accuracy, and each product is rescaled to keep long
horizons finite. Log-scale quantities (drift, quantiles) have no closed form here: None.
"""

from __future__ import annotations

import math

import numpy as np

from collapsecheck.experiment import n_schedule
from collapsecheck.families.gaussian.theory.prediction import RegimePrediction
from collapsecheck.families.gaussian.theory.sampling import CHUNK, SamplingLaw
from collapsecheck.families.gaussian.theory.steps import _horizon_iv, _step_iv
from collapsecheck.families.gaussian.theory.truncate import truncated_moments

__all__ = ["mix_matrix", "mix_moments", "mix_stationary", "predict"]


def _mix_iv(fresh_fraction) -> float:
    if fresh_fraction is None or not (0 <= fresh_fraction <= 1):
        raise ValueError(f"`fresh_fraction` must lie in [0, 1]; got {fresh_fraction!r}.")
    return float(fresh_fraction)


def _matrices(nt: np.ndarray, fresh_fraction: float, ddof: float, f: float) -> np.ndarray:
    """Augmented matrices acting on (v, w, sigma0^2), one per generation, shape (T, 3, 3)."""
    m = np.round(fresh_fraction * nt)  # round half to even, as Python's round
    r = nt - m
    out = np.zeros((*nt.shape, 3, 3))
    den = nt * (nt - ddof)
    out[:, 0, 0] = (nt - 1) * r * f / den
    out[:, 0, 1] = m * r / den
    out[:, 0, 2] = (nt - 1) * m / den
    out[:, 1, 0] = r * f / nt**2
    out[:, 1, 1] = (r / nt) ** 2
    out[:, 1, 2] = m / nt**2
    out[:, 2, 2] = 1.0
    return out


def mix_matrix(n: int, fresh_fraction: float, ddof: float = 0.0, *,
               truncate: float | None = None, temperature: float = 1.0) -> np.ndarray:
    r"""The augmented matrix :math:`\begin{pmatrix} A & b \\ 0 & 1\end{pmatrix}` of one
    generation with n draws, acting on :math:`(v, w, \sigma_0^2)` (module notes)."""
    _step_iv(n, ddof)
    f = SamplingLaw(temperature, truncate).variance
    return _matrices(np.array([float(n)]), _mix_iv(fresh_fraction), ddof, f)[0]


def _normalise(mats: np.ndarray, exps: np.ndarray):
    """Scale each matrix by a power of two (exactly) so that its largest entry lies in
    [0.5, 1); the exponents removed are added to ``exps``."""
    top = np.max(mats, axis=(-2, -1))
    _, e = np.frexp(np.where(top > 0, top, 1.0))
    return np.ldexp(mats, -e[..., None, None]), exps + e


def _chain_product(mats: np.ndarray):
    """(P, e) with M_T ... M_1 = 2^e P, by pairwise products (all entries >= 0)."""
    mats, exps = _normalise(mats, np.zeros(len(mats), dtype=np.int64))
    while len(mats) > 1:
        if len(mats) % 2:
            mats = np.concatenate([mats, np.eye(mats.shape[-1])[None]])
            exps = np.concatenate([exps, [0]])
        mats, exps = _normalise(mats[1::2] @ mats[0::2], exps[1::2] + exps[0::2])
    return mats[0], int(exps[0])


def _matrix_power(mat: np.ndarray, power: int):
    """(P, e) with mat^power = 2^e P, by repeated squaring (all entries >= 0)."""
    result, e_r = np.eye(mat.shape[0]), 0
    (base,), (e_b,) = _normalise(mat[None], np.zeros(1, dtype=np.int64))
    while power:
        if power & 1:
            (result,), (e_r,) = _normalise((base @ result)[None], np.array([e_r + e_b]))
        power >>= 1
        if power:
            (base,), (e_b,) = _normalise((base @ base)[None], np.array([2 * e_b]))
    return result, int(e_r)


def _first_fresh(n: int, n_growth: float, lam: float, generations: int) -> int:
    """The first generation t <= generations with m_t = round(L n_t) >= 1, or
    generations + 1 (n_t, hence m_t, is nondecreasing in t: bisection)."""
    def fresh(t):
        return round(lam * float(n_schedule(n, n_growth, np.array([t]))[0])) >= 1
    if generations == 0 or not fresh(generations):
        return generations + 1
    lo, hi = 0, generations  # fresh(hi) holds; fresh(lo) does not (t = 0: none)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fresh(mid) else (mid, hi)
    return hi


def mix_moments(generations: int, n: int, fresh_fraction: float, ddof: float = 0.0,
                sigma0: float = 1.0, *, truncate: float | None = None,
                temperature: float = 1.0, n_growth: float = 0.0) -> tuple[float, float]:
    r"""Natural logs of the exact :math:`E\sigma_T^2` and :math:`\mathrm{Var}(\mu_T)` of the
    mix chain (module notes); ``ln_mu_var`` is -inf at T = 0."""
    _step_iv(n, ddof)
    _horizon_iv(generations)
    lam = _mix_iv(fresh_fraction)
    f = SamplingLaw(temperature, truncate).variance
    ln_s0 = 2 * math.log(sigma0)
    # Generations before the first fresh draw are the replace chain (m_t = 0): there v and
    # w decouple (v_t = f (n_t - 1)/(n_t - d) v_{t-1}, w_t = w_{t-1} + f v_{t-1}/n_t), which
    # keeps E sigma^2 exact where it decays far below Var(mu).
    first = _first_fresh(n, n_growth, lam, generations)
    ln_v, ln_w = truncated_moments(first - 1, n, ddof, 1.0, truncate=truncate,
                                   temperature=temperature, n_growth=n_growth)
    if first > generations:
        return ln_v + ln_s0, ln_w + ln_s0
    top = max(ln_v, ln_w, 0.0)
    with np.errstate(under="ignore"):
        state = np.exp(np.array([ln_v, ln_w, 0.0]) - top)  # (v, w, sigma0^2) / sigma0^2
    e_s = 0
    if n_growth == 0:
        prod, e_p = _matrix_power(_matrices(np.array([float(n)]), lam, ddof, f)[0],
                                  generations - first + 1)
        state, e_s = prod @ state, e_p
    else:
        for start in range(first, generations + 1, CHUNK):
            t = np.arange(start, min(start + CHUNK, generations + 1))
            prod, e_p = _chain_product(_matrices(n_schedule(n, n_growth, t), lam, ddof, f))
            state, (e_top,) = _normalise((prod @ state)[None, :, None],
                                         np.array([e_s + e_p]))
            state = state[0, :, 0]
            e_s = int(e_top)
    with np.errstate(divide="ignore"):
        ln = np.log(state) + e_s * math.log(2.0) + top + ln_s0
    return float(ln[0]), float(ln[1])


def mix_stationary(n: int, fresh_fraction: float, ddof: float = 0.0, sigma0: float = 1.0, *,
                   truncate: float | None = None, temperature: float = 1.0) -> dict | None:
    r"""The stationary :math:`E\sigma^2` and :math:`\mathrm{Var}(\mu)` of the mix chain with
    fixed n, or None when the spectral radius of A is 1 or more (no fixed point is
    approached: e.g. m = round(L n) = 0).

    Returns
    -------
    dict or None
        ``sigma2_mean``, ``mu_var`` (data units), ``spectral_radius`` (the rate at which
        the chain's moments approach them) and ``fresh`` (m).
    """
    mat = mix_matrix(n, fresh_fraction, ddof, truncate=truncate, temperature=temperature)
    a, b = mat[:2, :2], mat[:2, 2]
    radius = float(np.max(np.abs(np.linalg.eigvals(a))))
    if not radius < 1.0:
        return None
    x = np.linalg.solve(np.eye(2) - a, b) * sigma0**2
    return {"sigma2_mean": float(x[0]), "mu_var": float(x[1]), "spectral_radius": radius,
            "fresh": round(_mix_iv(fresh_fraction) * n)}


def predict(experiment) -> RegimePrediction:
    """Exact predictions of the mix regime for an
    :class:`~collapsecheck.experiment.Experiment` (temperature, truncation and n-growth
    included): ``final.sigma2_mean``, ``final.mu_var`` and, for fixed n when it exists,
    ``stationary``; log-scale quantities None (simulation only)."""
    e = experiment
    ln_v, ln_w = mix_moments(e.generations, e.n, e.fresh_fraction, e.ddof, e.sigma0,
                             truncate=e.truncate, temperature=e.temperature,
                             n_growth=e.n_growth)
    exact = ["final.sigma2_mean", "final.mu_var"]
    methods = {"final.sigma2_mean": "exact affine recursion of (E sigma^2, E (mu - mu0)^2)",
               "final.mu_var": "exact affine recursion of (E sigma^2, E (mu - mu0)^2)"}
    notes = []
    stationary = None
    if e.n_growth == 0:
        stationary = mix_stationary(e.n, e.fresh_fraction, e.ddof, e.sigma0,
                                    truncate=e.truncate, temperature=e.temperature)
        if stationary is None:
            notes.append("no stationary point: the recursion's spectral radius is >= 1 "
                         f"(fresh draws per generation: {e.fresh_at(1)})")
        else:
            exact += ["stationary.sigma2_mean", "stationary.mu_var"]
            methods["stationary"] = "fixed point (I - A)^{-1} b of the exact recursion"
    else:
        notes.append("stationary is defined for fixed n only")
    for key in ("log_sigma2_drift", "log_sigma2_step_var", "final.log_sigma2_mean",
                "final.log_sigma2_sd", "final.sigma_mean", "final.sigma_quantiles"):
        methods[key] = "simulation only: no closed form under mixing"
    return RegimePrediction(
        regime=e.regime, generations=e.generations, mu0=e.mu0, sigma0=e.sigma0,
        ln_sigma2_mean=ln_v, ln_mu_var=ln_w, stationary=stationary, exact=tuple(exact),
        methods=methods, notes=tuple(notes),
    )
