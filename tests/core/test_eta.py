"""``eta``: the clock of progress lines, read as a person reads a countdown."""

from __future__ import annotations

from pytest_featureprobe.eta import StepClock


def test_each_step_after_the_first_says_how_long_one_takes_and_what_is_left():
    now = [10.0]
    clock = StepClock(lambda: now[0])
    said = []
    for done, took in ((1, 9.0), (2, 2.0), (3, 4.0), (4, 0.0)):
        now[0] += took
        said.append(clock.finished(done, 4))
    # step 1 ends the slow start, which is not counted: steps 2 and 3 took 2 s and 4 s
    assert said == ["", " [2.0 s each, about 0:04 left]", " [3.0 s each, about 0:03 left]", ""]
    assert clock.finished(1, 3) == ""  # a new count starts its own clock
    now[0] += 90.0
    assert clock.finished(2, 3) == " [90.0 s each, about 1:30 left]"
