"""Jargon expansion: the lexicon finds phrases by stem, weights synonyms lower, and changes ranking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.errors import ValidationError
from tools.retrieval.bm25 import BM25Index
from tools.retrieval.synonyms import Lexicon, load_lexicon
from tools.retrieval.tokenize import tokenize

GROUPS = [
    ["beneficiary", "bene", "payee"],
    ["account", "acct"],
    ["standing settlement instruction", "ssi"],
    ["reason not specified", "no reason"],
]


def test_abbreviations_add_weighted_tokens_and_spell_out_for_the_dense_model() -> None:
    expansion = Lexicon(GROUPS, weight=0.3).expand("bene's acct closed")
    expected = [*tokenize("beneficiary payee account")]
    assert expansion.tokens == dict.fromkeys(expected, 0.3)
    assert expansion.dense_text == "bene's acct closed (beneficiary; account)"
    assert expansion.groups == ["beneficiary", "account"]


def test_phrases_match_by_stem_and_keep_stopwords() -> None:
    lexicon = Lexicon(GROUPS)
    # "instructions" meets "instruction"; "no reason" matches although "no" is a BM25 stop-word.
    assert set(lexicon.expand("standing settlement instructions").tokens) == {"ssi"}
    assert set(lexicon.expand("returned with no reason").tokens) == {"specifi"}
    # A spelled-out phrase adds the abbreviation but the dense text stays as typed.
    assert lexicon.expand("beneficiary name").dense_text == "beneficiary name"
    assert lexicon.expand("closing the books").tokens == {}


def test_expansion_changes_bm25_ranking() -> None:
    docs = [tokenize("the beneficiary account is closed"), tokenize("bene acct wrong wrong wrong")]
    docs += [tokenize(f"filler text {n}") for n in range(20)]
    index = BM25Index(docs)
    query = "payee details"
    assert index.search(tokenize(query), 5)[0].tolist() == []
    extra = Lexicon(GROUPS).expand(query).tokens
    assert index.search(tokenize(query), 5, None, extra)[0].tolist()[:2] == [0, 1]


def test_shipped_lexicon_loads_and_expands_common_jargon() -> None:
    lexicon = load_lexicon()
    assert len(lexicon.groups) >= 30
    tokens = lexicon.expand("bene acct no ssi on file").tokens
    assert set(tokenize("beneficiary account standing settlement instruction")) <= set(tokens)


@pytest.mark.parametrize(
    "content",
    ['{"groups": [["only one"]]}', '{"groups": "x"}', "not json", '{"groups": [["a", ""]]}'],
)
def test_malformed_lexicon_is_a_validation_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "synonyms.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError) as error:
        load_lexicon(path)
    assert error.value.source == str(path.resolve())


def test_explicit_missing_lexicon_is_an_error_and_a_good_one_loads(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unreadable"):
        load_lexicon(tmp_path / "absent.json")
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"groups": GROUPS}), encoding="utf-8")
    assert load_lexicon(path).groups == GROUPS
