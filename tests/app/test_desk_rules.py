"""The desk's small rules: character diff, straight-through eligibility, cut-off, payment columns."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pydantic
import pytest
from sqlalchemy import create_engine

from app.services.desk import cutoff_at, payment_columns, stp_check, time_to
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


GOOD = {"action": "repair", "changes": [{"field": "f"}], "guard": {"passed": True}, "confidence": 0.95}


@pytest.mark.parametrize(
    ("status", "amount", "proposal", "eligible", "why"),
    [
        ("pending_review", 100.0, GOOD, True, "within limits"),
        ("applied", 100.0, GOOD, False, "case is applied"),
        ("pending_review", 100.0, None, False, "no proposal"),
        ("pending_review", 100.0, GOOD | {"action": "return"}, False, "not a repair"),
        ("pending_review", 100.0, GOOD | {"changes": []}, False, "not a repair"),
        ("pending_review", 100.0, GOOD | {"guard": {"passed": False}}, False, "guard"),
        ("pending_review", 100.0, GOOD | {"confidence": 0.89}, False, "confidence under 0.9"),
        ("pending_review", 10_000.0, GOOD, False, "amount"),
        ("pending_review", None, GOOD, False, "amount unknown"),
    ],
)
def test_straight_through_rule(
    tmp_path: Path, status: str, amount: float | None, proposal: dict | None, eligible: bool, why: str
) -> None:
    result = stp_check(status=status, amount=amount, proposal=proposal, settings=settings(tmp_path))
    assert result.eligible is eligible and why in result.reason


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
