"""The API benchmark's tail diagnostics: a whole-service pause and an uneven connection split."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import load_script

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "api.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script(SCRIPT, "bench_api")


def test_a_pause_of_the_whole_service_shows_as_quiet_time(bench: ModuleType) -> None:
    # two connections, responses every 10 ms, except for 150 ms in which none came back
    finished = [0.01, 0.02, 0.03, 0.18, 0.19]
    run = bench.Run([0.01, 0.01, 0.01, 0.15, 0.01], [0, 1, 0, 1, 0], finished, 0, 0.2)
    figures = bench.stall_figures(run)
    assert figures["max_quiet_ms"] == pytest.approx(150.0)
    assert figures["slot_mean_ms_min"] == pytest.approx(10.0)
    assert figures["slot_mean_ms_max"] == pytest.approx(80.0)


def test_no_responses_give_zero_figures(bench: ModuleType) -> None:
    figures = bench.stall_figures(bench.Run([], [], [], 0, 0.0))
    assert figures == {"max_quiet_ms": 0.0, "slot_mean_ms_min": 0.0, "slot_mean_ms_max": 0.0}
