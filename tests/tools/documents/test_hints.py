"""Per-counterparty YAML hints pin a field when the generic extractor is wrong for one sender."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.documents import extract_document

ADVICE = b"""Remittance advice
Payer: Acme Widgets Ltd
Payee: Zeta Supplies Ltd
Payment date: 2024-03-05
Our sign: ZX-778812
Total paid: EUR 1,250.00
"""


def test_hint_reads_a_sender_specific_label(tmp_path: Path, tool_config: Callable[..., Any]) -> None:
    [before] = extract_document(ADVICE, "advice.txt")
    assert before.remittance is not None and before.remittance.payment_reference is None
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "acme.yaml").write_text(
        'name: acme\nmatch: ["Acme Widgets Ltd"]\nfields:\n  payment_reference: {label: "Our sign"}\n'
    )
    (tmp_path / "templates" / "other.yaml").write_text(
        'name: other\nmatch: ["Somebody Else"]\nfields:\n  payer: {value: "Wrong"}\n'
    )
    tool_config(corpora_dir=tmp_path)
    [after] = extract_document(ADVICE, "advice.txt")
    assert after.remittance is not None
    assert after.remittance.payment_reference == "ZX-778812"
    assert after.remittance.payer is not None and after.remittance.payer.name == "Acme Widgets Ltd"
    assert after.remittance.total_amount is not None and str(after.remittance.total_amount) == "1250.00"
