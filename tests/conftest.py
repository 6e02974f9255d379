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
# Mutation testing (tools/mutation.py): mutmut runs the same test functions from more than
# one process and through its trampolines, which hypothesis's differing-executors check
# refuses; otherwise the "ci" profile (deterministic examples).
settings.register_profile(
    "mutation",
    parent=settings.get_profile("ci"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
