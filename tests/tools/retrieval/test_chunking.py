"""Chunks keep headings, step numbers and the front matter; long sections split between steps."""

from __future__ import annotations

from tests.tools.retrieval.corpus import PROCEDURES
from tools.retrieval.chunking import chunk_procedure
from tools.retrieval.procedures import parse_procedure_text


def test_chunks_carry_metadata_and_steps() -> None:
    procedure = parse_procedure_text(PROCEDURES["sop-ac01.md"], source="sop-ac01.md")
    chunks = {c.section: c for c in chunk_procedure(procedure)}
    # "3. Procedure" has no text of its own: its sub-sections are the chunks.
    assert set(chunks) == {"1", "3.1", "3.2", "4"}
    chunk = chunks["3.2"]
    assert chunk.doc_id == "SOP-AC01"
    assert chunk.title == "Incorrect creditor account number (AC01/AC03)"
    assert chunk.heading == "Repair from the standing settlement instruction"
    assert chunk.heading_path[-2:] == ["3. Procedure", "3.2 Repair from the standing settlement instruction"]
    assert chunk.steps == [1, 2, 3]
    assert chunk.exception_codes == ["AC01", "AC03"]
    assert chunk.message_types == ["mt103", "pacs.008"]
    assert chunk.rails == ["SWIFT", "SEPA"]
    assert chunk.text.startswith("3.2 Repair from the standing settlement instruction\n1. Call `get_ssi`")
    assert "3. Procedure" in chunk.embedding_text()
    assert "AC01" in chunk.lexical_text()
    assert chunk.chunk_id == "SOP-AC01#3.2#0"


def test_long_section_splits_between_steps_never_inside_one() -> None:
    steps = "\n".join(
        f"{n}. Step {n} " + "word " * 40 + f"\n   continuation of step {n}." for n in range(1, 9)
    )
    text = f"---\ndoc_id: SOP-LONG\ntitle: Long\nexception_codes: [AM05]\n---\n## 2. Steps\n{steps}\n"
    chunks = chunk_procedure(parse_procedure_text(text, source="long.md"), max_words=120)
    assert len(chunks) > 1
    assert all(c.section == "2" and c.exception_codes == ["AM05"] for c in chunks)
    assert [c.part for c in chunks] == list(range(len(chunks)))
    assert sorted(s for c in chunks for s in c.steps) == list(range(1, 9))
    for chunk in chunks:
        # Every step's continuation line sits in the same chunk as the step itself.
        for step in chunk.steps:
            assert f"continuation of step {step}." in chunk.text
        assert chunk.text.startswith("2 Steps\n")
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_reference_sections_are_about_their_own_code() -> None:
    text = (
        "---\ndoc_id: CODESET-x\ntitle: X\nkind: reference\n---\n"
        "# X\nintro\n## AC04\nclosed\n## AC06\nblocked\n"
    )
    chunks = chunk_procedure(parse_procedure_text(text, source="x.md"))
    assert [(c.section, c.exception_codes, c.kind) for c in chunks] == [
        ("X", [], "reference"),
        ("AC04", ["AC04"], "reference"),
        ("AC06", ["AC06"], "reference"),
    ]
