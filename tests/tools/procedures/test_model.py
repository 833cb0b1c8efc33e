"""The one procedure model: decision tables, rows of rules, named policy thresholds, the corpus cache."""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from tools import config
from tools.errors import ValidationError
from tools.procedures import default_corpus, get_procedure, load_policies, parse_procedure_text
from tools.procedures.expressions import ExpressionError
from tools.procedures.policies import default_policies

DOC = """---
doc_id: SOP-T
title: A test procedure
---
# A test procedure

## 3. Procedure
### 3.1 Look up
1. Run `get_ssi`.

### 3.2 Decide
| Evidence | Action |
|---|---|
| Sanctions remark (policy `sanctions`) | `escalate` |
| SSI found, name matches | `repair` the IBAN from the SSI |
| Anything else | `request_info` from the customer |

## 4. Records
Keep the SSI reference.

```playbook
version: 1
steps:
  - id: ssi
    tool: get_ssi
    args: {customer_id: case.customer_id}
rules:
  - when: "ssi.found and ssi.name_score >= policy.ssi.min_name_score"
    action: repair
    row: 2
    four_eyes: standard
    changes:
      - field: payment.creditor.account.iban
        value: ssi.iban
        evidence: ssi.ref
  - otherwise: true
    action: request_info
    row: ROW
```
"""


def parse(row: str = "3", **replace: str) -> object:
    text = DOC.replace("ROW", row)
    for old, new in replace.items():
        text = text.replace(old, new)
    return parse_procedure_text(text, source="sop-t.md")


def test_decision_table_rows_and_the_rules_that_cite_them() -> None:
    procedure = parse_procedure_text(DOC.replace("ROW", "3"), source="sop-t.md")
    section = procedure.decision_section
    assert section is not None and section.id == "3.2"
    table = section.decision_table
    assert table is not None and table.header == ("Evidence", "Action")
    assert [(r.number, r.action) for r in table.rows] == [(1, "escalate"), (2, "repair"), (3, "request_info")]
    assert table.rows[1].evidence == "SSI found, name matches"
    assert procedure.section("3.1") is not None and procedure.section("3.1").decision_table is None  # type: ignore[union-attr]
    playbook = procedure.playbook
    assert playbook is not None
    repair, fallback = playbook.rules
    assert repair.four_eyes == "standard" and repair.four_eyes_above == Decimal(250000)
    citation = procedure.citation_for(repair)
    assert citation is not None and citation.as_dict() == {"doc_id": "SOP-T", "section": "3.2", "row": 2}
    assert procedure.citation_for(fallback).as_dict()["row"] == 3  # type: ignore[union-attr]
    # A global policy's rule cites the row that names the policy.
    sanctions = default_policies().rules()[0]
    assert procedure.citation_for(sanctions).as_dict() == {"doc_id": "SOP-T", "section": "3.2", "row": 1}  # type: ignore[union-attr]


def test_section_markdown_includes_subsections_and_leaves_out_the_playbook() -> None:
    procedure = parse_procedure_text(DOC.replace("ROW", "3"), source="sop-t.md")
    text = procedure.section_markdown("3")
    assert text is not None
    assert "### 3.1 Look up" in text and "### 3.2 Decide" in text and "| Anything else |" in text
    assert "Records" not in text
    assert "rules:" not in (procedure.section_markdown("4") or "")


@pytest.mark.parametrize(
    ("row", "replace", "reason"),
    [
        ("9", {}, "has no row 9"),
        ("3", {"four_eyes: standard": "four_eyes: lavish"}, "not a threshold of the four-eyes policy"),
        ("3", {"four_eyes: standard": "four_eyes: standard\n    four_eyes_above: 5"}, "not both"),
        ("3", {"| Evidence | Action |": "| Evidence | Handling |"}, "no decision table"),
        ("x", {}, "bad number"),
    ],
)
def test_bad_rows_and_thresholds_name_the_file(row: str, replace: dict[str, str], reason: str) -> None:
    with pytest.raises(ExpressionError) as error:
        parse(row, **replace)
    assert error.value.source == "sop-t.md"
    assert reason in error.value.reason


def test_policies_are_validated_and_name_the_file(tmp_path: Path) -> None:
    good = (Path(__file__).resolve().parents[3] / "corpora" / "policies.yaml").read_text(encoding="utf-8")
    path = tmp_path / "policies.yaml"
    path.write_text(good.replace("min_name_score: 0.85", "min_name_score: high"), encoding="utf-8")
    with pytest.raises(ValidationError) as error:
        load_policies(path)
    assert error.value.source == str(path) and "ssi.min_name_score" in error.value.reason
    path.write_text(good.replace("note_pattern: '", "note_pattern: '(("), encoding="utf-8")
    with pytest.raises(ValidationError, match="note_pattern"):
        load_policies(path)
    path.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="mapping"):
        load_policies(path)


def test_the_sanctions_policy_reads_codes_findings_and_notes() -> None:
    sanctions = default_policies().sanctions
    assert sanctions.applies({"exception_code": "RR04"}, [])
    assert sanctions.applies({"exception_code": "AC01"}, [{"code": "SANCTIONS_HIT"}])
    assert sanctions.applies({"exception_code": "AC01", "notes": "possible OFAC match"}, [])
    assert not sanctions.applies({"exception_code": "AC01", "notes": "customer called about the IBAN"}, [])


def test_the_corpus_is_parsed_once_per_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "procedures"
    folder.mkdir()
    path = folder / "SOP-T.md"
    path.write_text(DOC.replace("ROW", "3"), encoding="utf-8")
    # the autouse tool_config fixture restores the configuration after the test
    config.configure(replace(config.current(), corpora_dir=tmp_path))
    first = default_corpus()
    assert default_corpus() is first  # nothing changed: the same parsed objects
    assert get_procedure("SOP-T").playbook is not None
    # No policies.yaml in this corpus: the product's own policies still hold.
    assert first.policies.ssi.min_name_score == 0.85
    edited = DOC.replace("ROW", "3").replace("A test procedure", "An edited procedure")
    path.write_text(edited, encoding="utf-8")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 5))
    assert default_corpus() is not first
    assert get_procedure("SOP-T").title == "An edited procedure"
