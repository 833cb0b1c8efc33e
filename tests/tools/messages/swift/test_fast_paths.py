"""The one-pass reader of messages laid out by the book must read exactly what the general reader does.

``split_messages`` takes a fast path (:func:`_by_the_book`) for inputs made only of well-formed
messages and falls back to the general block scanner for anything else. These tests compare the two
on the shared FIN samples and on structural mutations of them (braces, block ids, terminators and
whitespace moved around), where any disagreement would change a parse result.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tools.messages.swift.blocks import (
    _attach_service_messages,
    _by_the_book,
    _normalise,
    _split_blocks,
    split_messages,
)

_PIECES = [
    "{",
    "}",
    "-}",
    "{1:",
    "{2:",
    "{3:",
    "{4:",
    "{5:",
    "{S:",
    ":",
    "\n",
    " ",
    "\t",
    "$",
    "{108:X}",
    "-",
]


def _general(text: str) -> list:
    return _attach_service_messages(_split_blocks(text))


def _texts(shared_data: Path) -> list[str]:
    paths = sorted(p for p in (shared_data / "swift_mt").rglob("*") if p.suffix in (".fin", ".txt"))
    return [_normalise(p.read_bytes().decode("utf-8", errors="replace")) for p in paths]


def _mutate(text: str, rnd: random.Random) -> str:
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(text) + 1)
        if rnd.random() < 0.5:
            text = text[:i] + rnd.choice(_PIECES) + text[i:]
        else:
            text = text[:i] + text[i + rnd.randint(1, 4) :]
    return text


def test_fast_path_matches_general_reader_on_samples(shared_data: Path) -> None:
    texts = _texts(shared_data)
    taken = 0
    for text in texts:
        fast = _by_the_book(text)
        if fast is not None:
            taken += 1
            assert _attach_service_messages(fast) == _general(text)
    # the samples are mostly by-the-book messages: the fast path must actually be exercised
    assert taken >= len(texts) // 2


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_matches_general_reader_on_mutations(shared_data: Path, seed: int) -> None:
    rnd = random.Random(seed)
    texts = [t for t in _texts(shared_data) if _by_the_book(t) is not None]
    for text in rnd.sample(texts, min(60, len(texts))):
        for _ in range(10):
            mutated = _mutate(text, rnd)
            fast = _by_the_book(mutated) if mutated.lstrip(" \n\t").startswith("{1:") else None
            if fast is not None:
                assert _attach_service_messages(fast) == _general(mutated), repr(mutated)


@pytest.mark.parametrize(
    "text",
    [
        "{1:F01AAAABBCCXXXX0000000000}{2:I103BBBBCCDDXXXXN}{4:\n:20:X\n-}",
        "  \n{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X\n-}\n\n{1:F01AAAABBCCXXXX0000000000}{4:\n:20:Y\n-}\n",
        "{1:F21AAAABBCCXXXX0000000000}{4:{177:1903250612}{451:0}}{1:F01AAAABBCCXXXX0}{4:\n:20:Z\n-}",
        "{1:F01AAAABBCCXXXX0000000000}{3:}{4:-}{5:}",
        "{1:F01AAAABBCCXXXX0000000000}{3:{108:A}{121:b}}{4:\njunk\n:20:X\n:21:Y\n\n-}{5:{CHK:1}}",
        "{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X\n-}$",  # a stray "$": the general reader notes it
        "{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X-}{5:{CHK:1}}",
        "{1:F01AAAABBCCXXXX0000000000}{2:I103BBBBCCDDXXXXN}{3:{108}}{4:\n:20:X\n-}",  # malformed block 3
        "{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X\n-}{5:{CHK:1}}{S:{SAC:}{COP:P}}",  # user trailer
        "{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X\n-}{S:{SPD:}}",
        "{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X\n-}{S:{SPD:}}{S:{X:1}}",  # two trailers: general reader
    ],
)
def test_split_messages_agrees_with_general_reader(text: str) -> None:
    assert split_messages(text) == _general(_normalise(text))


def test_user_trailer_is_read_on_the_fast_path() -> None:
    text = "{1:F01AAAABBCCXXXX0000000000}{4:\n:20:X\n-}{5:{CHK:1}}{S:{SAC:}{COP:P}}"
    fast = _by_the_book(text)
    assert fast is not None
    assert fast[0].user_trailer == [("SAC", ""), ("COP", "P")]
    assert fast[0].block5 == [("CHK", "1")]
