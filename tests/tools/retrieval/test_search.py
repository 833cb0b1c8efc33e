"""Hybrid search over the test corpus: code boosting, filters, modes, one hit per section, errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tools.errors import ValidationError
from tools.retrieval.bm25 import BM25Index
from tools.retrieval.chunking import Chunk
from tools.retrieval.search import BM25_B, Hit, Mode, ProcedureSearch
from tools.retrieval.synonyms import Lexicon
from tools.retrieval.tokenize import tokenize
from tools.retrieval.vector_index import build_vector_index


def _ids(hits: list[Hit]) -> list[tuple[str, str]]:
    return [(h.doc_id, h.section) for h in hits]


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("AC04", "SOP-AC04"),
        ("what does ac04 mean", "SOP-AC04"),
        ("AC06 blocked", "SOP-AC04"),
        ("AC01 repair", "SOP-AC01"),
        ("DUPL", "SOP-RECALL"),
    ],
)
def test_named_code_finds_its_procedure_first(searcher: ProcedureSearch, query: str, doc_id: str) -> None:
    hits = searcher.search(query, k=5)
    assert hits[0].doc_id == doc_id
    # The routing index lists every code; the narrow procedure must still come first.
    assert hits[0].doc_id != "SOP-INDEX"


def test_code_boost_beats_unboosted_ranking(searcher: ProcedureSearch) -> None:
    # Without the code, the words alone point at the recall procedure (fees and claims are elsewhere).
    query = "recall time limits AC04"
    assert searcher.search(query, k=1)[0].doc_id == "SOP-AC04"
    assert searcher.search("recall time limits", k=1)[0].doc_id == "SOP-RECALL"


def test_reference_definition_follows_the_procedure(searcher: ProcedureSearch) -> None:
    hits = searcher.search("AC04", k=10)
    kinds = [h.kind for h in hits]
    assert ("CODESET-status", "AC04") in _ids(hits)
    assert kinds.index("reference") > kinds.index("procedure")


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_plain_language_questions(searcher: ProcedureSearch, mode: Mode) -> None:
    assert (
        searcher.search("who pays the fees when the charge option is OUR", mode=mode, k=3)[0].doc_id
        == "SOP-CHARGES"
    )
    top = searcher.search("beneficiary account was closed, what now", mode=mode, k=3)
    assert top[0].doc_id == "SOP-AC04"


def test_bm25_tolerates_typos(searcher: ProcedureSearch) -> None:
    hits = searcher.search("standng setlement instruktion", mode="bm25", k=3)
    assert hits and hits[0].doc_id == "SOP-AC01" and hits[0].section == "3.2"


def test_code_filter_is_strict(searcher: ProcedureSearch) -> None:
    hits = searcher.search("return the funds", code="ac06", k=10)
    assert hits and all("AC06" in h.exception_codes for h in hits)
    assert {h.doc_id for h in hits} <= {"SOP-AC04", "SOP-INDEX", "CODESET-status"}
    assert searcher.search("return the funds", code="ZZ99", k=5) == []


def test_message_type_filter(searcher: ProcedureSearch) -> None:
    hits = searcher.search("answer the request", message_type="camt.056", k=10, mode="dense")
    assert hits and {h.doc_id for h in hits} == {"SOP-RECALL"}
    combined = searcher.search("account", code="AC04", message_type="pacs.004", k=10)
    assert combined and {h.doc_id for h in combined} == {"SOP-AC04"}
    assert searcher.search("account", code="AC01", message_type="pacs.004", k=10) == []


def test_hits_are_unique_sections_with_contract_json(searcher: ProcedureSearch) -> None:
    hits = searcher.search("account", k=20)
    assert len(_ids(hits)) == len(set(_ids(hits)))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert set(hits[0].model_dump()) == {"doc_id", "section", "title", "text", "score"}
    assert len(searcher.search("account", k=2)) == 2


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"query": "  "}, "empty"),
        ({"query": "x" * 3000}, "longer"),
        ({"query": "ok", "k": 0}, "k must be"),
        ({"query": "ok", "k": 1000}, "k must be"),
        ({"query": "ok", "mode": "magic"}, "mode must be"),
        ({"query": "ok", "code": "AC04; DROP"}, "not an exception code"),
    ],
)
def test_bad_input_is_a_validation_error(
    searcher: ProcedureSearch, kwargs: dict[str, object], reason: str
) -> None:
    query = kwargs.pop("query")
    with pytest.raises(ValidationError, match=reason):
        searcher.search(query, **kwargs)  # type: ignore[arg-type]


def test_concurrent_searches_agree(searcher: ProcedureSearch) -> None:
    expected = _ids(searcher.search("closed account return of funds", k=5))
    results: list[list[tuple[str, str]]] = []

    def work() -> None:
        results.append(_ids(searcher.search("closed account return of funds", k=5)))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 6


def _section(section: str, heading: str, text: str, doc_id: str = "SOP-X", title: str = "") -> Chunk:
    title = title or "Closed beneficiary account"
    return Chunk(
        chunk_id=f"{doc_id}#{section}#0", doc_id=doc_id, title=title, section=section, heading=heading,
        heading_path=[title, heading], text=f"{section} {heading}\n{text}", exception_codes=["AC04"],
        message_types=["mt103", "pacs.004"],
    )  # fmt: skip


def test_short_boilerplate_section_does_not_win_on_the_title_alone() -> None:
    """Every chunk repeats its procedure's title and codes; BM25's length normalisation must not let a
    15-word "Records" section beat the section that answers on those shared words alone."""
    chunks = [
        _section("5", "Records", "Record the case id and the approver."),
        _section(
            "3.2",
            "Look for a replacement",
            "1. Call get_ssi for the ordering customer and currency. 2. A replacement account in the SSI "
            "may be used when the name matches and the SSI account is open. 3. Check the SSI account "
            "status with lookup_account; if it is closed too, do not use it and ask the customer.",
        ),
        _section("1", "Purpose", "Fees and charges on outgoing payments.", "SOP-Z", "Charges"),
    ]
    vectors = np.eye(len(chunks), 8, dtype=np.float32)
    search = ProcedureSearch(chunks, build_vector_index(vectors), vectors=vectors, lexicon=Lexicon([]))
    query = "beneficiary account closed what now"
    assert _ids(search.search(query, mode="bm25", k=2)) == [("SOP-X", "3.2"), ("SOP-X", "5")]
    # Okapi's usual b = 0.75 ranks the short section first on this query: the test tells them apart.
    okapi = BM25Index([tokenize(c.lexical_text()) for c in chunks], b=0.75)
    assert okapi.search(tokenize(query), 2)[0].tolist() == [0, 1]
    assert BM25_B < 0.75
