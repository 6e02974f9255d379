"""Hypothesis strategies for experiment parameters."""

from hypothesis import assume
from hypothesis import strategies as st

# Sample sizes: mostly small (where approximations break), some huge.
sample_sizes = st.one_of(
    st.integers(min_value=2, max_value=12),
    st.integers(min_value=13, max_value=2000),
    st.integers(min_value=2001, max_value=10**7),
)


@st.composite
def n_and_ddof(draw, max_ddof: float | None = None):
    """(n, ddof) with 0 <= ddof < n, ddof whole or fractional."""
    n = draw(sample_sizes)
    upper = n - 1e-3 if max_ddof is None else min(max_ddof, n - 1e-3)
    ddof = draw(st.one_of(st.sampled_from([0.0, 1.0]),
                          st.floats(min_value=0.0, max_value=upper, allow_nan=False)))
    assume(ddof < n)
    return n, ddof


horizons = st.one_of(st.integers(0, 20), st.integers(21, 10**6))
sigmas = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False,
                   exclude_min=False).filter(lambda s: s > 0)
