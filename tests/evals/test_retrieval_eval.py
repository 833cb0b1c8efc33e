"""Retrieval metrics on hand-computed examples, evaluate() over a fake search, and the real floors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from evals.retrieval_eval import (
    doc_recall_at,
    evaluate,
    load_questions,
    ndcg_at,
    recall_at,
    reciprocal_rank,
    relevance,
    section_matches,
    split_of,
)
from tools.errors import ValidationError

GOLD = [("SOP-A", "3"), ("SOP-B", "2.1")]
HITS = [("SOP-C", "1"), ("SOP-A", "3.2"), ("SOP-A", "3.4"), ("SOP-B", "2"), ("SOP-B", "2.1")]


def test_section_matching_is_hierarchical_one_way() -> None:
    assert section_matches("3.2", "3") and section_matches("3", "3")
    assert not section_matches("3", "3.2") and not section_matches("31", "3")


def test_hand_computed_metrics() -> None:
    # Hits 2 and 3 both fall in gold ("SOP-A", "3"): only the first is credited. Hit 5 is the second gold.
    assert relevance(HITS, GOLD) == [0, 1, 0, 0, 1]
    assert recall_at(HITS, GOLD, 1) == 0.0
    assert recall_at(HITS, GOLD, 2) == 1.0
    assert reciprocal_rank(HITS, GOLD) == 0.5
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(HITS, GOLD, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at(HITS, GOLD, 2) == pytest.approx((1 / math.log2(3)) / ideal)
    assert doc_recall_at(HITS, GOLD, 1) == 0.0 and doc_recall_at(HITS, GOLD, 2) == 1.0
    assert reciprocal_rank([("SOP-X", "1")], GOLD) == 0.0
    assert ndcg_at([("SOP-A", "3")], [("SOP-A", "3")], 5) == 1.0


class _Hit:
    def __init__(self, doc_id: str, section: str) -> None:
        self.doc_id, self.section = doc_id, section


class _FakeSearch:
    """Answers from a fixed table per mode; records the calls."""

    def __init__(self, table: dict[str, dict[str, list[tuple[str, str]]]]) -> None:
        self.table = table
        self.calls: list[tuple[str, str | None, int, str]] = []

    def search(self, query: str, *, code: str | None = None, k: int = 5, mode: Any = "hybrid") -> list[_Hit]:
        self.calls.append((query, code, k, mode))
        return [_Hit(*pair) for pair in self.table[mode].get(query, [])][:k]


def test_split_is_deterministic_and_balanced() -> None:
    ids = [f"r-{n:03d}" for n in range(400)]
    first = [split_of(i) for i in ids]
    assert first == [split_of(i) for i in ids] and set(first) == {"tuning", "held-out"}
    assert 150 < first.count("tuning") < 250


def test_evaluate_reports_every_mode(tmp_path: Path) -> None:
    dataset = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "q1",
            "question": "closed account",
            "code": "AC04",
            "gold": [{"doc_id": "SOP-AC04", "section": "3"}],
        },
        {"id": "q2", "query": "fees OUR", "doc_id": "SOP-CHG", "sections": ["1", "2"]},
    ]
    dataset.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    search = _FakeSearch(
        {
            "bm25": {"closed account": [("SOP-X", "1"), ("SOP-AC04", "3.1")], "fees OUR": []},
            "dense": {
                "closed account": [("SOP-AC04", "3")],
                "fees OUR": [("SOP-CHG", "9"), ("SOP-CHG", "2")],
            },
            "hybrid": {"closed account": [("SOP-AC04", "3.2")], "fees OUR": [("SOP-CHG", "1")]},
        }
    )
    result = evaluate(dataset, search, ks=(1, 5))
    assert result["questions"] == 2
    assert result["modes"]["hybrid"]["recall@1"] == 1.0 and result["modes"]["hybrid"]["mrr"] == 1.0
    assert result["modes"]["bm25"]["recall@1"] == 0.0 and result["modes"]["bm25"]["recall@5"] == 0.5
    assert result["modes"]["bm25"]["mrr"] == 0.25
    assert result["modes"]["dense"]["mrr"] == pytest.approx((1 + 0.5) / 2)
    assert result["modes"]["dense"]["doc_recall@1"] == 1.0
    assert set(result["modes"]["hybrid"]) == {
        "recall@1",
        "recall@5",
        "mrr",
        "ndcg@5",
        "doc_recall@1",
        "doc_recall@5",
    }
    assert result["rows"][1]["gold"] == [
        {"doc_id": "SOP-CHG", "section": "1"},
        {"doc_id": "SOP-CHG", "section": "2"},
    ]
    assert result["rows"][0]["modes"]["bm25"]["hits"] == ["SOP-X#1", "SOP-AC04#3.1"]
    by_split = result["splits"][split_of("q1")]
    assert by_split["questions"] == (2 if split_of("q2") == split_of("q1") else 1)
    assert by_split["modes"]["hybrid"]["recall@1"] == 1.0
    # The code filter is off by default; questions are searched as typed.
    assert {call[1] for call in search.calls} == {None}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "not JSON"),
        ('{"gold": [{"doc_id": "A", "section": "1"}]}', "no question"),
        ('{"question": "q"}', "no gold"),
        ('{"question": "q", "gold": [{"doc_id": "A"}]}', "doc_id and section"),
    ],
)
def test_malformed_dataset_line_is_named(tmp_path: Path, line: str, reason: str) -> None:
    dataset = tmp_path / "bad.jsonl"
    dataset.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=reason) as error:
        load_questions(dataset)
    assert error.value.source == f"{dataset}:1"


ISSUE_FLOOR = 0.95


@pytest.mark.slow
def test_floors_on_the_real_corpus_and_questions(real_corpus_index: Any) -> None:
    """Issue 4: hybrid recall@5 >= 0.95 on all the questions, and above BM25 and dense alone.

    Measured 0.962 (tuning half 0.975, held-out half 0.949; BM25 0.924, dense 0.748) after the BM25
    length normalisation and the boost scale were set on the tuning half only (docs/retrieval.md).
    """
    from tests.conftest import require
    from tools.config import REPO_ROOT
    from tools.retrieval.search import ProcedureSearch

    dataset = REPO_ROOT / "evals" / "datasets" / "retrieval.jsonl"
    require(dataset.is_file(), "retrieval questions missing")
    result = evaluate(dataset, ProcedureSearch.load(real_corpus_index.index_dir))
    modes = result["modes"]
    assert result["questions"] >= 200
    assert modes["hybrid"]["recall@5"] >= ISSUE_FLOOR, modes
    assert modes["hybrid"]["recall@5"] > modes["bm25"]["recall@5"], modes
    assert modes["hybrid"]["recall@5"] > modes["dense"]["recall@5"], modes
    # Both halves are reported; the held-out half was never used for tuning (docs/retrieval.md).
    splits = result["splits"]
    assert splits["tuning"]["questions"] + splits["held-out"]["questions"] == result["questions"]
    assert min(s["questions"] for s in splits.values()) >= result["questions"] // 3
