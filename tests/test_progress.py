"""Progress on stderr: the estimate of the time left, its lines in a pipe, its bars on a
terminal, and the priced steps of validate and calibrate."""

from __future__ import annotations

import io
import re

import pytest

from collapsecheck.progress import StepClock, fmt_clock, progress_bar, progress_steps


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00"), (7.4, "0:07"), (59.6, "1:00"), (65, "1:05"), (3723, "1:02:03"),
    (-3, "0:00"), (None, "?"), (float("nan"), "?"), (float("inf"), "?"),
])
def test_fmt_clock(seconds, text):
    assert fmt_clock(seconds) == text


class TestStepClock:
    def test_priced_steps_then_corrected_by_the_measured_pace(self):
        clock = FakeClock()
        c = StepClock([10.0, 10.0, 20.0], clock)
        c.advance(0, 3)
        assert c.remaining() == pytest.approx(40.0)  # nothing measured: the prices
        clock.t = 5.0
        assert c.remaining() == pytest.approx(35.0)
        assert c.step_estimate() == pytest.approx(10.0)
        clock.t = 20.0  # step 0 took 20 s for a price of 10: pace 2
        c.advance(1, 3)
        assert c.remaining() == pytest.approx(2 * 10 + 2 * 20)
        assert c.step_estimate() == pytest.approx(20.0)
        clock.t = 25.0
        assert c.remaining() == pytest.approx(15 + 40)
        assert c.elapsed() == pytest.approx(25.0)
        assert c.step_elapsed() == pytest.approx(5.0)

    def test_a_step_that_overruns_raises_the_pace(self):
        clock = FakeClock()
        c = StepClock([10.0, 10.0, 20.0], clock)
        c.advance(0, 3)
        clock.t = 20.0
        c.advance(1, 3)
        clock.t = 50.0  # 30 s into a step priced 2 x 10 = 20 s
        pace = (20 + 30) / (10 + 10)
        assert c.remaining() == pytest.approx(pace * 20)
        assert c.step_estimate() == pytest.approx(2 * 10)  # as expected when it started
        assert c.fraction() == pytest.approx((10 + 0.99 * 10) / 40)

    def test_finished_and_unknown(self):
        clock = FakeClock()
        c = StepClock([1.0, 2.0], clock)
        assert c.remaining() is None  # no total yet
        c.advance(0, 2)
        clock.t = 3.0
        c.advance(2, 2)
        assert c.remaining() == 0.0
        assert c.fraction() == 1.0
        assert c.step_estimate() is None

    def test_unpriced_steps_count_equally_once_one_has_finished(self):
        clock = FakeClock()
        c = StepClock(None, clock)
        c.advance(0, 4)
        clock.t = 2.0
        assert c.remaining() is None  # nothing to go on yet
        assert c.step_estimate() is None
        clock.t = 4.0
        c.advance(1, 4)
        assert c.remaining() == pytest.approx(3 * 4.0)
        assert c.fraction() == pytest.approx(0.25)

    def test_fraction_weights_steps_by_price_and_never_passes_the_current_step(self):
        clock = FakeClock()
        c = StepClock([30.0, 10.0], clock)
        c.advance(0, 2)
        clock.t = 15.0
        assert c.fraction() == pytest.approx(0.5 * 30 / 40)
        clock.t = 100.0  # overrun: the current step counts at most 99%
        assert c.fraction() == pytest.approx(0.99 * 30 / 40)
        c.advance(1, 2)
        assert c.fraction() == pytest.approx(30 / 40)

    def test_bad_prices_are_taken_as_zero(self):
        clock = FakeClock()
        c = StepClock([float("nan"), -1.0, 4.0], clock)
        c.advance(0, 3)
        assert c.remaining() == pytest.approx(4.0)


def test_steps_in_a_pipe_are_one_line_each_with_elapsed_and_left(capsys):
    clock = FakeClock()
    with progress_steps("validate x", estimates=[10.0, 30.0], clock=clock) as step:
        step("first.check", 0, 2)
        clock.t = 20.0
        step("second.check", 1, 2)
        clock.t = 80.0
        step("done", 2, 2)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "[1/2] first.check (0:00 elapsed, about 0:40 left)",
        "[2/2] second.check (0:20 elapsed, about 1:00 left)",  # pace 2: 2 x 30 s
    ]


def test_disabled_progress_says_nothing(capsys):
    with progress_steps("validate x", enabled=False, estimates=[1.0]) as step:
        step("a", 0, 1)
        step("done", 1, 1)
    with progress_bar("simulating", enabled=False) as advance:
        advance(1, 2)
    with progress_bar("simulating") as advance:  # stderr is not a terminal here
        advance(1, 2)
    assert capsys.readouterr() == ("", "")


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_steps_on_a_terminal_draw_both_bars_with_times(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    monkeypatch.setenv("COLUMNS", "80")
    clock = FakeClock()
    with progress_steps("validate x", estimates=[10.0, 30.0], clock=clock) as step:
        step("theory.log_var_gof.n3.T10.samples", 0, 2)
        clock.t = 4.0
        step("collapse.collapse.n1000.T1000.sufficient", 1, 2)
    text = _plain(tty.getvalue())
    assert "validate x [2/2] collapse.collapse.n1000.T1000.sufficient" in text
    assert re.search(r"all +[━╸╺]+ 0:04 elapsed, about 0:12 left", text)  # pace 0.4 x 30
    assert re.search(r"step +[━╸╺]+ 0:00 of about 0:12", text)
    assert "None" not in text


def test_a_step_over_its_estimate_says_so_on_a_terminal(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    monkeypatch.setenv("COLUMNS", "80")
    clock = FakeClock()
    with progress_steps("validate x", estimates=[10.0, 30.0], clock=clock) as step:
        step("first", 0, 2)
        clock.t = 25.0
        step("first", 0, 2)  # the same step, redrawn 25 s in
    text = _plain(tty.getvalue())
    assert re.search(r"step +[━╸╺]+ 0:25, over the 0:10 expected", text)
    # the run's estimate grows with the overrun: pace 25/10 on the 30 s left
    assert re.search(r"all +[━╸╺]+ 0:25 elapsed, about 1:15 left", text)


def test_block_bar_on_a_terminal_counts_blocks_only_once_known(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr("sys.stderr", tty)
    monkeypatch.setenv("COLUMNS", "80")
    with progress_bar("simulating", estimate=30.0) as advance:
        pass
    text = _plain(tty.getvalue())
    assert "starting" in text and "about 0:30 left" in text
    tty.truncate(0)
    with progress_bar("simulating") as advance:
        advance(3, 12)
    text = _plain(tty.getvalue())
    assert "3/12 blocks" in text and "elapsed, about" in text
    assert "None" not in text


TINY = """
name = "tiny"
seed = 7
budget = 0.001
[[checks]]
type = "log_var_gof"
n = 5
generations = 4
replicates = 300
engine = "sufficient"
[[checks]]
type = "increment_gof"
n = 4
generations = 5
replicates = 200
engine = "samples"
"""


def test_validate_prices_every_step_it_reports(tmp_path):
    from collapsecheck.costs import check_cost
    from collapsecheck.profiles import load_profile
    from collapsecheck.validate import run_profile, step_estimates

    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    prof = load_profile(str(path))
    seen = []
    run_profile(prof, progress=lambda name, done, total: seen.append((name, done, total)),
                controls=["ddof-mismatch"], workers=1)
    estimates = step_estimates(prof, controls=["ddof-mismatch"], workers=1)
    total = seen[0][2]
    assert len(estimates) == total == 2 * len(prof.checks) + 1  # checks, control, figures
    assert [d for _, d, _ in seen[:-1]] == list(range(total))
    first = [check_cost(c, cores=1).seconds for c in prof.checks]
    assert list(estimates[:4]) == pytest.approx(first * 2)
    assert estimates[-1] > 0  # the figures
    # an engine override is priced as it runs: the samples engine at n = 5 costs more
    assert step_estimates(prof, engine="samples", workers=1)[0] > estimates[0]
    assert len(step_estimates(prof, workers=1, figures=False)) == len(prof.checks)


def test_calibrate_prices_every_run_it_reports(tmp_path):
    from collapsecheck.calibrate import calibrate, run_estimates
    from collapsecheck.profiles import load_profile

    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    prof = load_profile(str(path))
    seen = []
    calibrate(prof, [1, 2, 3], workers=1, mutants=["ddof-mismatch"], mutant_seeds=2,
              progress=lambda name, done, total: seen.append((name, done, total)))
    estimates = run_estimates(prof, 3, ["ddof-mismatch"], 2, workers=1)
    assert len(estimates) == seen[0][2] == 3 + 2
    assert len(set(estimates[:3])) == 1 and all(e > 0 for e in estimates)
    # shared by two worker processes, each run's share of the wall time halves
    assert run_estimates(prof, 3, ["ddof-mismatch"], 2, workers=2) == pytest.approx(
        [e / 2 for e in estimates])
