"""Progress bars of long evaluation runs: every item passes through, the bar goes to stderr."""

from __future__ import annotations

import pytest

from evals.progress import status, track


def test_track_yields_every_item_and_draws_the_count_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(track(["a", "b", "c"], "retrieval")) == ["a", "b", "c"]
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays the command's output
    assert "retrieval" in captured.err and "3/3" in captured.err


def test_disabled_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(track(iter(range(4)), "quiet", enabled=False)) == [0, 1, 2, 3]
    with status("loading", enabled=False):
        pass
    assert capsys.readouterr().err == ""


def test_status_says_when_a_step_is_done(capsys: pytest.CaptureFixture[str]) -> None:
    with status("retrieval: loading the index"):
        pass
    assert "retrieval: loading the index: done" in capsys.readouterr().err
