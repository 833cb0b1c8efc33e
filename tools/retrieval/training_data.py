"""Training pairs for the retriever, made only from what the product already has.

Sources (``TrainingPair.source``):

- ``question``: the tuning half of the team's retrieval questions (the caller passes only those; the
  held-out half and any unseen set never reach this module), paired with every chunk inside a gold
  section;
- ``heading``: a procedure section's heading path (procedure title and heading) and its text: teaches
  the model what each section of each procedure is about;
- ``decision``: a decision-table row's evidence cell (the situation an analyst is in) and the table's
  chunk, which says what to do;
- ``reference``: a reason code's ISO definition and the opening section of the procedures that list
  the code (how an upstream reason reads, and where we handle it).

Hard negatives (:func:`mine_negatives`): for each anchor, the best-ranked chunk of the *current* index
(any callable ``rank(text) -> chunk ids``) that is not a positive of that anchor and not another part
of the same section. They are what the model confuses today.

:func:`dataset_manifest` hashes the pairs (sorted, so order does not matter) and counts them per
source; the hash goes into the registry with every model trained on them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from tools.retrieval.chunking import Chunk

_TABLE_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
_SEPARATOR = re.compile(r"^[\s|:-]+$")
MIN_ANCHOR_WORDS = 3
SOURCES: tuple[str, ...] = ("question", "heading", "decision", "reference")


class TrainingPair(BaseModel):
    anchor: str
    positive: str  # a chunk's embedding_text(): what the index holds
    positive_id: str  # its chunk_id; pairs sharing a positive are not each other's negatives
    negative: str | None = None
    negative_id: str | None = None
    source: str


class LabelledQuestion(BaseModel):
    id: str
    question: str
    gold: list[tuple[str, str]]  # (doc_id, section); a hit inside a gold section counts


def section_matches(hit_section: str, gold_section: str) -> bool:
    return hit_section == gold_section or hit_section.startswith(gold_section + ".")


def question_pairs(questions: Iterable[LabelledQuestion], chunks: Sequence[Chunk]) -> list[TrainingPair]:
    """One pair per (question, chunk inside one of its gold sections)."""
    pairs: list[TrainingPair] = []
    for question in questions:
        for chunk in chunks:
            if any(
                chunk.doc_id == doc and section_matches(chunk.section, section)
                for doc, section in question.gold
            ):
                pairs.append(_pair(question.question, chunk, "question"))
    return pairs


def heading_pairs(chunks: Sequence[Chunk]) -> list[TrainingPair]:
    """Procedure title and section heading -> the section's chunks (procedures only)."""
    pairs: list[TrainingPair] = []
    for chunk in chunks:
        if chunk.kind != "procedure" or not chunk.heading:
            continue
        anchor = f"{chunk.title}: {chunk.heading}"
        if len(anchor.split()) >= MIN_ANCHOR_WORDS:
            pairs.append(_pair(anchor, chunk, "heading"))
    return pairs


def decision_pairs(chunks: Sequence[Chunk]) -> list[TrainingPair]:
    """Each decision-table row's first cell (the evidence) -> the chunk holding the table."""
    pairs: list[TrainingPair] = []
    for chunk in chunks:
        if chunk.kind != "procedure":
            continue
        rows = [m.group(1) for m in map(_TABLE_ROW.match, chunk.text.splitlines()) if m]
        for row in rows[1:]:  # the first row is the table's header
            if _SEPARATOR.match(row):
                continue
            cells = [c.strip().strip("`") for c in row.split("|")]
            evidence = cells[0] if cells else ""
            if len(evidence.split()) >= MIN_ANCHOR_WORDS:
                pairs.append(_pair(f"{evidence} ({chunk.title})", chunk, "decision"))
    return pairs


def reference_pairs(chunks: Sequence[Chunk], definitions: dict[str, str]) -> list[TrainingPair]:
    """A listed code's definition -> the opening chunk of each procedure that lists the code."""
    opening: dict[str, Chunk] = {}
    for chunk in chunks:
        if chunk.kind == "procedure" and chunk.doc_id not in opening:
            opening[chunk.doc_id] = chunk
    pairs: list[TrainingPair] = []
    for chunk in opening.values():
        for code in chunk.exception_codes:
            definition = definitions.get(code, "")
            if len(definition.split()) >= MIN_ANCHOR_WORDS:
                pairs.append(_pair(definition, chunk, "reference"))
    return pairs


def mine_negatives(
    pairs: Sequence[TrainingPair],
    chunks: Sequence[Chunk],
    rank: Callable[[str], Sequence[int]],
) -> list[TrainingPair]:
    """Each pair with the best-ranked chunk that is not one of the anchor's positives (see above)."""
    positives: dict[str, set[tuple[str, str]]] = {}
    by_id = {c.chunk_id: c for c in chunks}
    for pair in pairs:
        chunk = by_id[pair.positive_id]
        positives.setdefault(pair.anchor, set()).add((chunk.doc_id, chunk.section))
    ranked: dict[str, Sequence[int]] = {}
    out: list[TrainingPair] = []
    for pair in pairs:
        if pair.anchor not in ranked:
            ranked[pair.anchor] = rank(pair.anchor)
        negative = next(
            (
                chunks[i]
                for i in ranked[pair.anchor]
                if (chunks[i].doc_id, chunks[i].section) not in positives[pair.anchor]
            ),
            None,
        )
        if negative is None:
            out.append(pair)
        else:
            out.append(
                pair.model_copy(
                    update={"negative": negative.embedding_text(), "negative_id": negative.chunk_id}
                )
            )
    return out


def as_served(questions: Iterable[LabelledQuestion], expand: Callable[[str], str]) -> list[LabelledQuestion]:
    """The questions worded as the served dense query reads them (``expand``: the search's jargon
    expansion, ``Lexicon.expand(q).dense_text``).

    Why: the search embeds "bene acct invalid" as "bene acct invalid (beneficiary; account; ...)";
    a model trained on the bare wording learns a query it is never sent (45% of the tuning questions
    differ). On the tuning half's validation split, training on the served wording raised dense
    recall@1 and MRR at equal recall@5 (benchmarks/retriever_tuning.py --expand-anchors).
    """
    return [q.model_copy(update={"question": expand(q.question)}) for q in questions]


def corpus_and_question_pairs(
    questions: Iterable[LabelledQuestion],
    chunks: Sequence[Chunk],
    definitions: dict[str, str],
    *,
    question_repeat: int = 1,
    sources: Iterable[str] = SOURCES,
) -> list[TrainingPair]:
    """The pairs of ``sources`` (default: all) together; the question pairs ``question_repeat`` times.

    Why repeat: the questions are the only pairs in the analysts' own words (abbreviations, codes,
    typos); the corpus pairs outnumber them about three to one, and repeating them is the cheapest
    way to weigh that register more. How many times is a hyper-parameter chosen on the tuning half.
    """
    wanted = set(sources)
    unknown = wanted - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown pair sources {sorted(unknown)} (known: {', '.join(SOURCES)})")
    asked = question_pairs(questions, chunks) if "question" in wanted else []
    corpus = (
        (heading_pairs(chunks) if "heading" in wanted else [])
        + (decision_pairs(chunks) if "decision" in wanted else [])
        + (reference_pairs(chunks, definitions) if "reference" in wanted else [])
    )
    return asked * max(1, question_repeat) + corpus


def dataset_manifest(pairs: Sequence[TrainingPair], **extra: Any) -> dict[str, Any]:
    """Content hash (sha256 over the sorted pairs), counts per source, and ``extra`` facts."""
    lines = sorted(json.dumps(p.model_dump(), sort_keys=True) for p in pairs)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    counts: dict[str, int] = {}
    for pair in pairs:
        counts[pair.source] = counts.get(pair.source, 0) + 1
    return {
        "hash": digest,
        "pairs": len(pairs),
        "by_source": counts,
        "with_negative": sum(1 for p in pairs if p.negative),
        **extra,
    }


def _pair(anchor: str, chunk: Chunk, source: str) -> TrainingPair:
    return TrainingPair(
        anchor=anchor.strip(), positive=chunk.embedding_text(), positive_id=chunk.chunk_id, source=source
    )
