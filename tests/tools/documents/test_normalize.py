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


def test_word_key_is_worked_out_once_as_cached_property_does() -> None:
    """A word's key (read through a lock-free descriptor) is the folded, trimmed text, computed
    at the first read and kept: the same value, and the same single call, as ``cached_property``."""
    from functools import cached_property

    from tools.documents import layout
    from tools.documents.layout import Word

    calls: list[str] = []

    class Counted:
        def __init__(self, text: str) -> None:
            self.text = text

        @layout._once
        def fast(self) -> str:
            calls.append(self.text)
            return self.text.lower()

        @cached_property
        def plain(self) -> str:
            return self.text.lower()

    item = Counted("Rechnungsnummer")
    assert item.fast == item.fast == item.plain and calls == ["Rechnungsnummer"]
    assert isinstance(Counted.fast, layout._once)
    for text in ["Nº.", "Überweisung:", "(Total)", "TOTAL|", "Fälligkeit;"]:
        word = Word(text, 0.0, 0.0, 1.0, 1.0, 1)
        folded = layout.fold(text.replace("°", "").replace("º", ""))
        assert word.key == word.key == folded.strip(":.#*()[]|;,")
        assert word.__dict__["key"] == word.key


def test_text_word_equals_the_dataclass_word() -> None:
    """The text layer's word builder gives ``Word(...)``: equal, same hash, same fields in the
    same order (defaults included), still frozen; it must follow any new field."""
    import dataclasses

    from tools.documents.layout import Word, text_word

    for args in [("Total", 10.5, 700.25, 40.0, 711.0, 1), ("", -1.0, 0.0, 0.0, 0.0, 3)]:
        built, plain = text_word(*args), Word(*args)
        assert built == plain and hash(built) == hash(plain)
        assert list(built.__dict__.items()) == list(plain.__dict__.items())
        assert [f.name for f in dataclasses.fields(Word)] == list(built.__dict__)
        with pytest.raises(dataclasses.FrozenInstanceError):
            built.text = "changed"  # type: ignore[misc]


def test_match_tokens_equals_the_token_by_token_test() -> None:
    """Label matching by one list comparison gives the per-token comparison's answer."""
    import random

    from tools.documents.document import match_tokens

    def plain(keys: list[str], start: int, label: tuple[str, ...]) -> bool:
        if start + len(label) > len(keys):
            return False
        return all(keys[start + i] == token for i, token in enumerate(label))

    rng = random.Random(9)
    words = ["invoice", "no", "", "total", "amount", "due", "rechnung"]
    for _ in range(3000):
        keys = [rng.choice(words) for _ in range(rng.randint(0, 6))]
        label = tuple(rng.choice(words) for _ in range(rng.randint(1, 3)))
        start = rng.randint(0, 7)
        assert match_tokens(keys, start, label) == plain(keys, start, label)
    assert match_tokens(["total", "amount", "due"], 1, ("amount", "due"))
