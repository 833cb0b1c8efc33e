"""Tokens keep payment identifiers whole; codes and message types are recognised in queries."""

from __future__ import annotations

from tools.retrieval.tokenize import codes_in, message_types_in, normalise_message_type, stem, tokenize


def test_identifiers_survive_tokenisation() -> None:
    tokens = tokenize("AC04 on MT103 field 57A, camt.056 and pacs.008.001.08; charges OUR/SHA")
    for expected in ("ac04", "mt103", "103", "57a", "camt.056", "camt", "056", "pacs.008", "our", "sha"):
        assert expected in tokens, expected
    assert "on" not in tokens and "and" not in tokens


def test_inflections_meet() -> None:
    assert stem("closed") == stem("closing") == stem("closes") == stem("close")
    assert stem("charges") == stem("charged") == stem("charge")
    assert stem("address") == "address"
    assert stem("ac04") == "ac04"


def test_codes_in_query() -> None:
    known = frozenset({"AC04", "CUST", "DUPL", "AM05"})
    assert codes_in("ac04 closed, CUST asked; cust is short for customer", known) == ["AC04", "CUST"]
    assert codes_in("AM05 or AM05 again, and XX99", known) == ["AM05"]


def test_message_types() -> None:
    assert message_types_in("MT 202 COV, mt103 and camt.056 / pacs.008.001.08") == [
        "mt202cov",
        "mt103",
        "camt.056",
        "pacs.008",
    ]
    assert normalise_message_type("MT103") == normalise_message_type("mt 103") == "mt103"
