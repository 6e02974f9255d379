"""``collapsecheck.testing``: the README's pytest example, verbatim, and the assertions'
messages."""

from pathlib import Path

import numpy as np
import pytest

# --- the README's example (README.md, "In your own test suite (pytest)"), verbatim ---
from collapsecheck.checks import engine_simulator
from collapsecheck.testing import assert_simulator_consistent

simulate = engine_simulator("samples")  # your own simulate(experiment, record) goes here


def test_simulator_matches_exact_theory():
    assert_simulator_consistent(simulate, n=20, generations=200, replicates=200, seed=1)
# --- end of the example ---


from collapsecheck import Experiment  # noqa: E402 - after the verbatim example
from collapsecheck.engines import simulate as run  # noqa: E402
from collapsecheck.testing import assert_chains_consistent  # noqa: E402

EXAMPLE = '''from collapsecheck.checks import engine_simulator
from collapsecheck.testing import assert_simulator_consistent

simulate = engine_simulator("samples")  # your own simulate(experiment, record) goes here


def test_simulator_matches_exact_theory():
    assert_simulator_consistent(simulate, n=20, generations=200, replicates=200, seed=1)
'''


def test_readme_holds_the_example_verbatim():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE}```" in readme
    assert EXAMPLE in Path(__file__).read_text(encoding="utf-8")


def _wrong_n(true_n):
    """A simulator that draws at ``true_n`` whatever it is asked for."""
    def sim(experiment, record):
        e = Experiment(n=true_n, generations=experiment.generations,
                       replicates=experiment.replicates, seed=experiment.seed)
        return run(e, record=record, workers=1).trajectories

    return sim


def test_a_wrong_simulator_raises_with_check_size_and_alpha():
    with pytest.raises(AssertionError) as info:
        assert_simulator_consistent(_wrong_n(22), n=20, generations=200, replicates=200, seed=1)
    message = str(info.value)
    assert "audit.n_eff" in message and "< alpha = " in message
    assert "var: measured" in message and "relative" in message  # by how much
    assert "the data's own n = 2" in message


def test_chains_assertion_passes_silently_and_fails_on_wrong_n():
    e = Experiment(n=100, generations=3000, replicates=1, seed=4)
    chain = run(e, workers=1).trajectories
    assert assert_chains_consistent(chain, n=100) is None
    with pytest.raises(AssertionError, match=r"audit\.n_eff: p = .* < alpha = "):
        assert_chains_consistent(chain, n=80)
    # the std of one chain as a plain list of arrays is accepted too
    assert assert_chains_consistent([np.exp(chain.log_var[0] / 2)], n=100) is None
