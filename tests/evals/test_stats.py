"""Metrics and statistics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from agents.contract import Proposal
from evals.base import SuiteResult, aggregate, summarise
from evals.stats import bootstrap_mean, calibration, paired_bootstrap
from evals.suites.agent import score
from evals.suites.extraction import resolve_path, same_value


def test_bootstrap_mean_value_and_interval() -> None:
    estimate = bootstrap_mean([1, 0, 1, 1])
    assert estimate.value == 0.75
    assert estimate.n == 4
    low, high = estimate.ci95
    assert 0.0 <= low <= 0.75 <= high <= 1.0
    assert bootstrap_mean([1, 1, 1]).ci95 == (1.0, 1.0)  # no variance, no interval
    assert math.isnan(bootstrap_mean([]).value)


def test_bootstrap_is_deterministic() -> None:
    assert bootstrap_mean([0.1, 0.5, 0.9, 0.3]).ci95 == bootstrap_mean([0.1, 0.5, 0.9, 0.3]).ci95


def test_paired_difference() -> None:
    diff = paired_bootstrap([0, 0, 1, 1], [1, 1, 1, 1])
    assert diff.value == 0.5
    with pytest.raises(ValueError):
        paired_bootstrap([1], [1, 0])


def test_expected_calibration_error_by_hand() -> None:
    # bin (0.8, 0.9]: confidences 0.9, 0.9 with one hit -> |0.5 - 0.9| * 2/4 = 0.2
    # bin (0.1, 0.2]: confidences 0.2, 0.2 with no hit -> |0.0 - 0.2| * 2/4 = 0.1
    result = calibration([0.9, 0.9, 0.2, 0.2], [True, False, False, False])
    assert result.ece == pytest.approx(0.3)
    assert {round(b["accuracy"], 2) for b in result.bins} == {0.5, 0.0}


def test_aggregate_skips_unmeasured_samples() -> None:
    rows = [
        {"metrics": {"a": 1.0, "b": None}},
        {"metrics": {"a": 0.0, "b": 1.0}},
        {"metrics": {"a": float("nan")}},
    ]
    metrics = aggregate(rows, "suite")
    assert metrics["suite.a"]["value"] == 0.5 and metrics["suite.a"]["n"] == 2
    assert metrics["suite.b"]["value"] == 1.0 and metrics["suite.b"]["n"] == 1


def test_summary_latency_and_calibration() -> None:
    rows = [
        {"id": str(i), "latency_ms": float(i), "confidence": 0.9, "correct": i % 2 == 0, "metrics": {}}
        for i in range(10)
    ]
    summary = summarise(SuiteResult("agent", rows))
    assert summary["latency_ms"]["p50"] == pytest.approx(4.5)
    assert summary["calibration"]["ece"] == pytest.approx(0.4)


def test_agent_scoring_flags_wrong_repairs_as_unsafe() -> None:
    expected = {
        "action": "repair",
        "changes": [{"field": "payment.creditor.account.iban", "new": "DE89370400440532013000"}],
    }
    right = Proposal.model_validate(
        {
            "action": "repair",
            "changes": [
                {"field": "payment.creditor.account.iban", "new": "DE89370400440532013000", "old": "x"}
            ],
        }
    )
    wrong = Proposal.model_validate(
        {
            "action": "repair",
            "changes": [{"field": "payment.creditor.account.iban", "new": "DE02120300000000202051"}],
        }
    )
    escalated = Proposal(action="escalate")
    assert score(right, expected)["exact"] == 1.0 and score(right, expected)["unsafe_rate"] == 0.0
    assert score(wrong, expected)["unsafe_rate"] == 1.0 and score(wrong, expected)["exact"] == 0.0
    assert score(escalated, expected) | {} == {
        "action_accuracy": 0.0,
        "exact": 0.0,
        "changes_exact": 0.0,
        "unsafe_rate": 0.0,
        "escalation_rate": 1.0,
        "guard_passed": 0.0,
    }


def test_extraction_field_comparison() -> None:
    document = {
        "statement": {"entries": [{"amount": "8.850"}]},
        "remittance": {"payee": {"name": "Azure  Interior"}},
    }
    assert same_value("8.85", resolve_path(document, "statement.entries[0].amount"))
    assert same_value("azure interior", resolve_path(document, "remittance.payee.name"))
    assert resolve_path(document, "statement.entries[3].amount") is None
    assert not same_value("8.85", None)
