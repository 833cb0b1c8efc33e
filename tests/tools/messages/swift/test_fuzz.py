"""Property tests: mangled real messages never raise anything but ParseError."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SHARED_DATA
from tools.errors import ParseError
from tools.messages.model import Extraction
from tools.messages.swift import parse_fin

PROWIDE = SHARED_DATA / "swift_mt" / "prowide"
TEXTS = (
    [p.read_bytes().decode("utf-8", errors="replace") for p in sorted(PROWIDE.glob("*.fin"))]
    if PROWIDE.is_dir()
    else []
)
pytestmark = pytest.mark.skipif(not TEXTS, reason=f"prowide fixtures not found at {PROWIDE}")

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_parse_error(text: str) -> list[Extraction] | None:
    try:
        result = parse_fin(text, "fuzz")
    except ParseError:
        return None
    assert all(isinstance(x, Extraction) for x in result)
    for extraction in result:
        extraction.to_json_dict()  # serialisable, whatever came in
    return result


@_SETTINGS
@given(st.sampled_from(TEXTS or [""]), st.floats(min_value=0.0, max_value=1.0))
def test_truncations(text: str, fraction: float) -> None:
    _parse_or_parse_error(text[: int(len(text) * fraction)])


@_SETTINGS
@given(
    st.sampled_from(TEXTS or [""]),
    st.lists(st.tuples(st.floats(0.0, 0.999), st.characters()), min_size=1, max_size=8),
)
def test_byte_flips(text: str, flips: list[tuple[float, str]]) -> None:
    chars = list(text)
    for where, char in flips:
        if chars:
            chars[int(where * len(chars))] = char
    _parse_or_parse_error("".join(chars))


@_SETTINGS
@given(st.sampled_from(TEXTS or [""]), st.randoms(use_true_random=False))
def test_field_shuffles(text: str, rnd: random.Random) -> None:
    head, sep, rest = text.partition("{4:")
    body, end, tail = rest.partition("-}")
    fields = body.replace("\r\n", "\n").split("\n:")
    rnd.shuffle(fields)
    result = _parse_or_parse_error(head + sep + "\n:".join(fields) + end + tail)
    if sep and end:
        assert result  # a message with its blocks still reads as a message


@_SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    _parse_or_parse_error(text)


def test_most_mangled_messages_still_give_results() -> None:
    rnd = random.Random(7)
    returned = 0
    for text in TEXTS:
        chars = list(text)
        for _ in range(3):
            chars[rnd.randrange(len(chars))] = rnd.choice("{}:-$\n/X")
        if _parse_or_parse_error("".join(chars)):
            returned += 1
    assert returned >= 0.9 * len(TEXTS)


def test_no_message_at_all_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        parse_fin("hello world, no FIN here", "note.txt")
    assert info.value.source == "note.txt"
    with pytest.raises(ParseError):
        parse_fin("", "empty.fin")


def test_fixture_count(shared_data: Path) -> None:
    assert len(TEXTS) >= 180
