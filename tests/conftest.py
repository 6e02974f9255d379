"""Shared test configuration: a deterministic hypothesis profile for CI."""

import os

from hypothesis import HealthCheck, settings

# Deterministic in CI (as numpy's conftest): same examples every run, no database.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
