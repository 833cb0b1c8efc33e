"""Training pairs from the corpus and the tuning questions; hard negatives never name a right answer."""

from __future__ import annotations

import pytest

from tests.tools.retrieval.corpus import write_corpus
from tools.retrieval import training_data as td
from tools.retrieval.chunking import Chunk, chunk_procedure
from tools.retrieval.index_store import load_corpus


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> list[Chunk]:
    folder = write_corpus(tmp_path_factory.mktemp("td") / "procedures")
    return [c for p in load_corpus([folder]) for c in chunk_procedure(p)]


def test_question_pairs_cover_every_chunk_inside_a_gold_section(chunks: list[Chunk]) -> None:
    question = td.LabelledQuestion(id="q1", question="iban repair", gold=[("SOP-AC01", "3")])
    pairs = td.question_pairs([question], chunks)
    assert {p.positive_id for p in pairs} == {
        c.chunk_id for c in chunks if c.doc_id == "SOP-AC01" and c.section.startswith("3.")
    }
    assert all(p.anchor == "iban repair" and p.source == "question" for p in pairs)


def test_corpus_pairs(chunks: list[Chunk]) -> None:
    headings = td.heading_pairs(chunks)
    assert any(p.anchor == "Charges disputes (OUR, SHA, BEN): Claims" for p in headings)
    decisions = td.decision_pairs(chunks)
    # The routing table's rows: not the header nor the separator, nor cells too short to be a question.
    assert [p.anchor for p in decisions] == ["DUPL, FRAD, CUST, TECH (Exception routing index)"]
    assert decisions[0].positive_id.startswith("SOP-INDEX#1#")
    definitions = {"AC04": "Account number specified has been closed on the books."}
    reference = td.reference_pairs(chunks, definitions)
    assert {p.positive_id.split("#")[0] for p in reference} == {"SOP-AC04", "SOP-INDEX"}


def test_hard_negatives_are_the_best_ranked_wrong_chunk(chunks: list[Chunk]) -> None:
    question = td.LabelledQuestion(id="q", question="closed account", gold=[("SOP-AC04", "2")])
    pairs = td.question_pairs([question], chunks)
    positive = next(i for i, c in enumerate(chunks) if c.doc_id == "SOP-AC04" and c.section == "2")
    wrong = next(i for i, c in enumerate(chunks) if c.doc_id == "SOP-RECALL")
    mined = td.mine_negatives(pairs, chunks, lambda _text: [positive, wrong])
    assert [p.negative_id for p in mined] == [chunks[wrong].chunk_id]
    # Only positives ranked: no negative rather than a wrong one.
    assert td.mine_negatives(pairs, chunks, lambda _text: [positive])[0].negative is None


def test_manifest_hash_is_order_free_and_content_bound(chunks: list[Chunk]) -> None:
    pairs = td.heading_pairs(chunks)
    first = td.dataset_manifest(pairs, corpus="x")
    assert first == td.dataset_manifest(list(reversed(pairs)), corpus="x")
    assert first["pairs"] == len(pairs) and first["by_source"] == {"heading": len(pairs)}
    changed = [pairs[0].model_copy(update={"anchor": "other"}), *pairs[1:]]
    assert td.dataset_manifest(changed)["hash"] != first["hash"]


def test_right_answers_are_never_in_batch_negatives(chunks: list[Chunk]) -> None:
    from tools.retrieval.finetune import anchor_positives, negative_mask

    gold = [c for c in chunks if c.doc_id == "SOP-AC01" and c.section.startswith("3.")]
    assert len(gold) >= 2  # a gold section of several chunks: the case that needs the mask
    question = td.LabelledQuestion(id="q1", question="iban repair", gold=[("SOP-AC01", "3")])
    asked = td.question_pairs([question], chunks)
    other = td.heading_pairs([c for c in chunks if c.doc_id == "SOP-AC04"])[:1]
    batch = [*asked, asked[0], *other]  # a repeated question meets itself too
    ids = [p.positive_id for p in batch]
    mask = negative_mask(batch, ids, anchor_positives(batch))
    for row, pair in enumerate(batch):
        for column, chunk_id in enumerate(ids):
            # Masked: another right answer of the same question. Kept: the row's own positive and
            # every chunk that is not an answer to the anchor (the other procedure's section).
            expected = (
                column != row and pair.anchor == "iban repair" and chunk_id in {g.chunk_id for g in gold}
            )
            assert mask[row][column] == expected, (row, column)


def test_question_anchors_are_worded_as_the_search_embeds_them(chunks: list[Chunk], tmp_path) -> None:
    import json

    from tools.retrieval.synonyms import load_lexicon

    table = tmp_path / "synonyms.json"
    table.write_text(json.dumps({"groups": [["beneficiary", "bene"], ["account", "acct"]]}), encoding="utf-8")
    lexicon = load_lexicon(table)
    asked = td.LabelledQuestion(id="q1", question="bene acct closed", gold=[("SOP-AC04", "1")])
    served = lexicon.expand(asked.question).dense_text
    assert served != asked.question  # the table does expand it, so the test can tell the two apart

    pairs = td.question_pairs(td.as_served([asked], lambda text: lexicon.expand(text).dense_text), chunks)

    assert pairs and {p.anchor for p in pairs} == {served}


def test_pairs_come_only_from_the_chosen_sources(chunks: list[Chunk]) -> None:
    asked = td.LabelledQuestion(id="q1", question="iban repair", gold=[("SOP-AC01", "3")])
    definitions = {"AC04": "Account number specified has been closed on the books."}
    everything = td.corpus_and_question_pairs([asked], chunks, definitions, question_repeat=2)
    assert {p.source for p in everything} == set(td.SOURCES)
    only_questions = td.corpus_and_question_pairs(
        [asked], chunks, definitions, question_repeat=2, sources=["question"]
    )
    assert only_questions == [p for p in everything if p.source == "question"]
    with pytest.raises(ValueError, match="recipes"):
        td.corpus_and_question_pairs([asked], chunks, definitions, sources=["question", "recipes"])
