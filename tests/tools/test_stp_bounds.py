"""STP thresholds: exact Clopper-Pearson bounds against known binomial values, and the fixed-sequence
threshold choice (never certifies a threshold whose observed errors put the bound over the target)."""

from __future__ import annotations

import random

import pytest

from tools.stp_bounds import choose_threshold, clopper_pearson_upper, fit_rules, overall


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        # one-sided 95% upper bounds, i.e. the 0.95 quantile of Beta(k + 1, n - k)
        (0, 299, 0.0099691468),  # 1 - 0.05 ** (1/299): the fewest clean cases that reach 1%
        (0, 298, 0.0100024324),  # one fewer does not
        (1, 10, 0.3941633024),
        (2, 20, 0.2826185249),
        (3, 500, 0.0154337349),
        (5, 1000, 0.0104840769),
        (10, 10000, 0.0016956315),
        (50, 100, 0.5863782854),
    ],
)
def test_the_upper_bound_is_the_exact_binomial_one(k: int, n: int, expected: float) -> None:
    assert clopper_pearson_upper(k, n) == pytest.approx(expected, abs=1e-9)


def test_the_bound_covers_the_observed_rate_and_degenerate_cases() -> None:
    assert clopper_pearson_upper(0, 0) == 1.0
    assert clopper_pearson_upper(7, 7) == 1.0
    assert clopper_pearson_upper(0, 1) == pytest.approx(0.95)
    assert clopper_pearson_upper(4, 100) > 0.04
    assert clopper_pearson_upper(4, 100, level=0.99) > clopper_pearson_upper(4, 100, level=0.95)
    with pytest.raises(ValueError):
        clopper_pearson_upper(3, 2)


def test_the_bound_covers_at_least_its_level_in_simulation() -> None:
    """Exactness: over many binomial draws at p = 1%, the bound falls below p at most 5% of the time."""
    rng = random.Random(7)
    n, p, misses, trials = 400, 0.01, 0, 1000
    for _ in range(trials):
        k = sum(rng.random() < p for _ in range(n))
        misses += clopper_pearson_upper(k, n) < p
    assert misses / trials <= 0.05


def test_a_threshold_is_chosen_only_with_enough_clean_cases() -> None:
    clean = [(0.95, False)] * 299
    choice = choose_threshold(clean, min_count=1)
    assert choice.eligible and choice.threshold == 0.95 and choice.upper_bound <= 0.01
    too_few = choose_threshold([(0.95, False)] * 298, min_count=1)
    assert not too_few.eligible and too_few.threshold is None and too_few.upper_bound > 0.01
    below_minimum = choose_threshold(clean, min_count=500)
    assert not below_minimum.eligible and "fewer than the minimum 500" in below_minimum.reason


def test_the_walk_stops_at_the_first_failing_threshold() -> None:
    """Clean high-confidence cases, then wrong ones lower down: the threshold stays above the errors."""
    points = [(0.99, False)] * 400 + [(0.80, True)] * 20 + [(0.70, False)] * 5000
    choice = choose_threshold(points)
    assert choice.eligible and choice.threshold == 0.99
    assert (choice.n_at_threshold, choice.wrong_at_threshold) == (400, 0)
    # Without the fixed sequence, 0.70 would pass (20 wrong in 5420: bound under 1%); it must not be used.
    assert clopper_pearson_upper(20, 5420) < 0.01


def test_a_wrong_case_at_the_top_makes_the_key_ineligible() -> None:
    points = [(0.99, True)] + [(0.9, False)] * 1000
    choice = choose_threshold(points, min_count=1)
    assert not choice.eligible and "at every tested threshold" in choice.reason


def test_rules_per_code_and_action_and_what_they_would_apply() -> None:
    points = [{"exception_code": "AC01", "action": "repair", "confidence": 0.97, "wrong": False}] * 350
    points += [{"exception_code": "AC01", "action": "repair", "confidence": 0.5, "wrong": True}] * 10
    points += [{"exception_code": "BE04", "action": "repair", "confidence": 0.97, "wrong": False}] * 20
    rules = fit_rules(points)
    by_key = {(r["exception_code"], r["action"]): r for r in rules}
    assert by_key["AC01", "repair"]["eligible"] and by_key["AC01", "repair"]["threshold"] == 0.97
    assert not by_key["BE04", "repair"]["eligible"]
    summary = overall(points, rules)
    assert summary["applied"] == 350 and summary["wrong"] == 0
    assert summary["share"] == pytest.approx(350 / 380)
    assert summary["upper_bound"] == pytest.approx(clopper_pearson_upper(0, 350))
