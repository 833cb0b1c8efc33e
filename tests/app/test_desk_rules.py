"""The desk's small rules: character diff, straight-through eligibility, cut-off, payment columns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pydantic
import pytest
from sqlalchemy import create_engine

from app.services.desk import cutoff_at, payment_columns, stp_check, time_to
from app.services.stp import StpOptions, build_policy, verdict
from app.settings import Settings
from app.ui.chardiff import char_diff
from app.ui.evidence import resolve


def test_char_diff_marks_only_the_changed_characters() -> None:
    before, after = char_diff("DE89370400440532013001", "DE89370400440532013000")
    assert before == [("DE8937040044053201300", False), ("1", True)]
    assert after == [("DE8937040044053201300", False), ("0", True)]
    swapped = char_diff("GB29NWBK60161331926819", "GB29NWBK60161331926891")
    assert "".join(t for t, _ in swapped[0]) == "GB29NWBK60161331926819"
    assert sum(len(t) for t, changed in swapped[1] if changed) <= 2
    assert char_diff(None, "ACME") == ([], [("ACME", True)])


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, database_url="sqlite://", **values)  # type: ignore[arg-type]


GOOD = {
    "exception_code": "AC01",
    "action": "repair",
    "changes": [{"field": "f"}],
    "guard": {"passed": True},
    "confidence": 0.95,
    "versions": {"calibrator": "cal-a"},
}


def fitted_policy(calibrator: str | None = "cal-a") -> dict:
    """AC01/repair eligible from 0.9 (400 clean held-out decisions); AC01/return seen too rarely."""
    points = [{"exception_code": "AC01", "action": "repair", "confidence": 0.9, "wrong": False}] * 400
    points += [{"exception_code": "AC01", "action": "return", "confidence": 0.99, "wrong": False}] * 5
    source = {"kind": "test"} | ({"calibrator": calibrator} if calibrator else {})
    return build_policy(points, target=0.01, min_count=300, source=source)


POLICY = fitted_policy()


@pytest.mark.parametrize(
    ("status", "amount", "proposal", "policy", "kill", "eligible", "why"),
    [
        ("pending_review", 100.0, GOOD, POLICY, False, True, "bound"),
        ("applied", 100.0, GOOD, POLICY, False, False, "case is applied"),
        ("pending_review", 100.0, None, POLICY, False, False, "no proposal"),
        (
            "pending_review",
            100.0,
            GOOD | {"action": "return"},
            POLICY,
            False,
            False,
            "AC01/return not eligible",
        ),
        ("pending_review", 100.0, GOOD | {"exception_code": "BE04"}, POLICY, False, False, "BE04/repair"),
        ("pending_review", 100.0, GOOD | {"action": "escalate"}, POLICY, False, False, "to a person"),
        ("pending_review", 100.0, GOOD | {"changes": []}, POLICY, False, False, "without changes"),
        ("pending_review", 100.0, GOOD | {"guard": {"passed": False}}, POLICY, False, False, "guard"),
        ("pending_review", 100.0, GOOD | {"four_eyes": True}, POLICY, False, False, "four-eyes"),
        (
            "pending_review",
            100.0,
            GOOD | {"confidence": 0.89},
            POLICY,
            False,
            False,
            "under the threshold 0.9",
        ),
        ("pending_review", 10_000.0, GOOD, POLICY, False, False, "amount"),
        ("pending_review", 5_000.0, GOOD, POLICY, False, False, "limit 4000 EUR"),  # the currency's limit
        ("pending_review", None, GOOD, POLICY, False, False, "amount unknown"),
        ("pending_review", 100.0, GOOD, POLICY, True, False, "kill switch"),
        ("pending_review", 100.0, GOOD, None, False, False, "no STP policy"),
        ("pending_review", 100.0, GOOD, fitted_policy("cal-b"), False, False, "calibrator cal-b"),
    ],
)
def test_straight_through_rule_is_the_stp_policy(
    tmp_path: Path,
    status: str,
    amount: float | None,
    proposal: dict | None,
    policy: dict | None,
    kill: bool,
    eligible: bool,
    why: str,
) -> None:
    # REPAIRDESK_STP_ENABLED (auto-apply) is off: bulk approve is a person's decision and needs no opt-in
    result = stp_check(
        status=status,
        amount=amount,
        currency="EUR",
        proposal=proposal,
        policy=policy,
        kill_switch=kill,
        settings=settings(tmp_path, stp_max_amounts={"EUR": 4000.0}),
    )
    assert result.eligible is eligible and why in result.reason, result.reason


def test_bulk_approve_and_auto_apply_share_one_rule(tmp_path: Path) -> None:
    config = settings(tmp_path, stp_enabled=True)
    for proposal in (GOOD, GOOD | {"confidence": 0.5}, GOOD | {"guard": {"passed": False}}):
        for kill in (False, True):
            bulk = stp_check(
                status="pending_review",
                amount=100.0,
                currency="EUR",
                proposal=proposal,
                policy=POLICY,
                kill_switch=kill,
                settings=config,
            )
            auto = verdict(
                proposal,
                amount=100.0,
                currency="EUR",
                policy=POLICY,
                options=StpOptions.from_settings(config),
                kill_switch=kill,
            )
            assert bulk == auto


def test_cut_off_per_currency_and_time_to(tmp_path: Path) -> None:
    config = settings(tmp_path, cutoffs={"usd": "21:30"}, cutoff_default="15:00")
    assert cutoff_at(config, "USD", date(2026, 12, 4)) == datetime(2026, 12, 4, 21, 30, tzinfo=UTC)
    assert cutoff_at(config, "EUR", date(2026, 12, 4)) == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert cutoff_at(config, "EUR", None) is None
    now = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
    assert time_to(datetime(2026, 12, 4, 15, 5, tzinfo=UTC), now) == (7500.0, "2h 05m")
    assert time_to(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), now)[1] == "passed 1d 1h"
    with pytest.raises(pydantic.ValidationError, match="25:00"):
        settings(tmp_path, cutoffs={"EUR": "25:00"})


def test_payment_columns() -> None:
    columns = payment_columns(
        {"amount": "1234.56", "currency": "eur", "value_date": "2026-12-04", "creditor": {"name": "Acme"}}
    )
    assert columns == {
        "amount": 1234.56,
        "currency": "EUR",
        "beneficiary": "Acme",
        "value_date": date(2026, 12, 4),
    }
    assert payment_columns(None) == {}
    assert payment_columns({"amount": "lots", "value_date": "soon"})["amount"] is None


def test_evidence_without_refdata_tables_shows_the_ids() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        found = resolve(connection, ["ssi:C-1:1", "invoice:A+invoice:B", "bank:DEUTDEFF"])
    assert list(found) == ["ssi:C-1:1", "invoice:A", "invoice:B", "bank:DEUTDEFF"]
    assert all(entry["record"] is None for entry in found.values())
    assert found["ssi:C-1:1"]["label"] == "Standing settlement instruction"


def test_a_persons_edit_is_not_straight_through(tmp_path: Path) -> None:
    # the edit keeps the agent's confidence in its payload, but the calibrator never scored it
    result = stp_check(
        status="pending_review",
        amount=100.0,
        currency="EUR",
        proposal=GOOD,
        policy=POLICY,
        kill_switch=False,
        settings=settings(tmp_path),
        source="edit",
    )
    assert not result.eligible and "not the agent's (edit)" in result.reason
