"""Locale-aware amounts, dates and currencies, with ambiguity showing as lower confidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tools.documents.normalize import numeric_order_evidence, parse_amount, parse_currency, parse_date


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("1.234,56", None, "1234.56"),
        ("1,234.56", None, "1234.56"),
        ("1 234,56", None, "1234.56"),
        ("1'234.56", None, "1234.56"),
        ("€ 717,97", None, "717.97"),
        ("-9,32", None, "-9.32"),
        ("12.345.678,90", None, "12345678.90"),
        ("49,99", ",", "49.99"),
    ],
)
def test_amounts_in_every_notation(text: str, hint: str | None, expected: str) -> None:
    parsed = parse_amount(text, hint)
    assert parsed is not None
    assert parsed.value == Decimal(expected)
    assert parsed.confidence == 1.0


def test_three_digit_group_is_ambiguous_and_the_hint_decides() -> None:
    grouped = parse_amount("1.234", ",")
    decimal = parse_amount("1.234", ".")
    assert grouped is not None and decimal is not None
    assert grouped.value == Decimal(1234)
    assert decimal.value == Decimal("1.234")
    assert grouped.confidence < 1.0 and decimal.confidence < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "08.09.2022",
        "8-9-2022",
        "2022-09-08",
        "8 Sep 2022",
        "8. September 2022",
        "8 septembre 2022",
        "8 de septiembre de 2022",
        "Sep 8, 2022",
        "08/09/2022",
    ],
)
def test_dates_in_every_notation(text: str) -> None:
    parsed = parse_date(text, "DMY")
    assert parsed is not None and parsed.value == date(2022, 9, 8)


def test_ambiguous_numeric_date_follows_document_order_with_lower_confidence() -> None:
    us = parse_date("09/08/2022", "MDY")
    eu = parse_date("09/08/2022", "DMY")
    unambiguous = parse_date("20/08/2022", None)
    assert us is not None and eu is not None and unambiguous is not None
    assert us.value == date(2022, 9, 8) and eu.value == date(2022, 8, 9)
    assert us.confidence < 1.0 and eu.confidence < 1.0 and unambiguous.confidence == 1.0
    assert numeric_order_evidence("Invoice date 03/20/2023, due 04/04/2023") == "MDY"
    assert numeric_order_evidence("8-9-2022 and 22-9-2022") == "DMY"


def test_currency_codes_and_symbols() -> None:
    eur = parse_currency("Total EUR 34,73")
    usd = parse_currency("Total $ 279.84")
    assert eur is not None and eur.value == "EUR" and eur.confidence == 1.0
    assert usd is not None and usd.value == "USD" and usd.confidence < 1.0
    assert parse_currency("no money here") is None


def test_fold_drops_exactly_the_combining_marks_on_random_text() -> None:
    """The translate table gives what dropping each combining mark one by one gives."""
    import random
    import unicodedata

    from tools.documents.normalize import _fold

    def plain(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()

    rng = random.Random(3)
    ranges = [(32, 0x250), (0x300, 0x370), (0x370, 0x3100), (0x1E00, 0x1F00), (0x10000, 0x10400)]
    for _ in range(2000):
        text = "".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(rng.randrange(0, 40)))
        assert _fold(text) == plain(text)
    assert _fold("Empfänger Straße ÉTÉ") == "empfanger strasse ete"
