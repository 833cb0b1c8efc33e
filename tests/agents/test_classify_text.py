"""Reading an UNKNOWN case's meaning from its free text, and routing of every covered code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from agents.nodes.classify import classify, classify_unknown, narrative_text
from agents.toolbox import load_procedure_refs
from tools import config
from tools.payments.narrative import (
    LABELLED,
    NONE,
    Head,
    NarrativeClassifier,
    default_artefact,
    routing_labels,
    train,
    training_examples,
)
from tools.retrieval.codes import known_codes


class Scripted:
    """A classifier that answers with fixed probabilities."""

    def __init__(self, ranked: list[tuple[str, float]]) -> None:
        self.ranked = ranked
        self.seen: list[str] = []

    def rank(self, text: str) -> list[tuple[str, float]]:
        self.seen.append(text)
        return self.ranked


MT199 = {"doc_type": "swift.mt199", "payment": {"narrative": ["BENEFICIARY ACCOUNT CLOSED,", "PLS ADVISE"]}}


def test_the_narrative_of_an_attached_mt199_is_read_with_the_notes() -> None:
    assert narrative_text("Bank says:", [MT199]) == "Bank says: BENEFICIARY ACCOUNT CLOSED, PLS ADVISE"


def test_a_sure_classifier_decides_a_case_without_keywords() -> None:
    reader = Scripted([("BE01", 0.8), ("AC01", 0.1)])
    code, confidence, reasons = classify_unknown([], [], "the holder differs from the payee", reader)
    assert code == "BE01" and confidence > 0.5 and "text classifier reads BE01" in reasons[0]
    assert reader.seen == ["the holder differs from the payee"]


@pytest.mark.parametrize(
    "ranked",
    [[("BE01", 0.4), ("AC01", 0.3)], [("BE01", 0.5), ("AC01", 0.45)], [(NONE, 0.9), ("AC01", 0.05)]],
)
def test_an_unsure_or_empty_reading_leaves_the_keyword_rules(ranked: list[tuple[str, float]]) -> None:
    code, _, _ = classify_unknown([], [], "Beneficiary bank rejected: invalid IBAN.", Scripted(ranked))
    assert code == "AC01"  # the keyword rule, not the unsure classifier
    assert classify_unknown([], [], "nothing to see", Scripted(ranked))[0] == "UNKNOWN"


def test_an_error_finding_outweighs_the_text() -> None:
    findings = [{"code": "IBAN_CHECKSUM", "severity": "error"}]
    code, _, _ = classify_unknown(findings, [], "x", Scripted([("RC01", 0.99), ("AC01", 0.01)]))
    assert code == "AC01"


def test_without_a_classifier_the_rules_read_document_narratives() -> None:
    assert classify_unknown([], [MT199], "", None)[0] == "AC04"


def _covered_codes(refs: list[Any]) -> set[str]:
    procedures = {c for p in refs for c in p.exception_codes}
    in_codesets: set[str] = set()
    for path in (config.shared_data_dir() / "codesets").glob("*.json"):
        in_codesets |= set(json.loads(path.read_text(encoding="utf-8"))["codes"])
    return procedures & in_codesets


def test_every_code_set_code_a_procedure_covers_routes_to_a_playbook() -> None:
    refs = load_procedure_refs()
    covered = _covered_codes(refs)
    assert len(covered) >= 25, covered  # the code sets are there and the procedures claim many codes
    toolbox = SimpleNamespace(claiming=lambda code: [p for p in refs if code in p.exception_codes])
    runtime = SimpleNamespace(context=SimpleNamespace(toolbox=toolbox))
    for code in sorted(covered):
        assert code in known_codes(), f"{code}: the reason-code reference does not know it"
        out = classify({"case": {"exception_code": code.lower()}}, runtime)  # type: ignore[arg-type]
        assert out["exception_code"] == code and out["classification_confidence"] == 0.99, code
        claiming = toolbox.claiming(code)
        assert claiming and claiming[0].playbook is not None, f"{code}: no procedure with a playbook"


class HashEmbedder:
    """A deterministic bag-of-words embedder: trains the head in milliseconds in tests."""

    name = "hash-bow"

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % 256] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(norms == 0, 1, norms)).astype(np.float32)


def test_the_head_trains_saves_and_loads(tmp_path: Path) -> None:
    procedures = [p for p in load_procedure_refs()]
    labels = routing_labels(procedures)
    assert labels["AC03"] == "AC01" and labels["RR03"] == labels["BE04"]
    examples = list(LABELLED)
    head = train(examples, HashEmbedder())
    path = tmp_path / "head.npz"
    head.save(path)
    loaded = Head.load(path)
    assert loaded.classes == head.classes and np.allclose(loaded.weights, head.weights)
    reader = NarrativeClassifier(loaded, HashEmbedder())
    right = sum(reader.rank(text)[0][0] == label for text, label in examples)
    assert right / len(examples) > 0.9
    with pytest.raises(ValueError, match="trained on"):
        NarrativeClassifier(loaded, SimpleNamespace(name="other"))


def test_teacher_data_covers_every_label_from_code_sets_and_procedures() -> None:
    from tools.retrieval.procedures import load_procedures

    procedures = [p for p in load_procedures(config.corpora_dir() / "procedures") if p.kind == "procedure"]
    examples = training_examples(procedures, config.shared_data_dir() / "codesets")
    labels = {label for _, label in examples}
    assert set(routing_labels(procedures).values()) <= labels and NONE in labels
    assert any(text.startswith("Rejected: ") for text, _ in examples)  # code-set definitions, templated


@pytest.mark.slow
def test_the_committed_head_reads_phrasings_it_was_not_trained_on() -> None:
    """The artefact in corpora/models on the bundled MiniLM; phrasings written for this test only."""
    from tools.retrieval.embeddings import default_embedder

    reader = NarrativeClassifier(Head.load(default_artefact()), default_embedder())
    probes = {
        "routing code of beneficiary bank is wrong": "RC01",
        "holder name on the account differs": "BE01",
        "Kindly handle": NONE,
    }
    for text, label in probes.items():
        assert reader.rank(text)[0][0] == label, (text, reader.rank(text)[:3])
