"""The unseen agent set (evals/datasets/unseen/, measure only) and its floors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evals import datasets
from evals.base import SuiteOptions
from evals.runner import expand
from tools.catalog import ACTIONS
from tools.refdata.schema import RefDataFile

UNSEEN = Path(datasets.DATASETS_DIR) / "unseen"


def test_the_unseen_set_is_versioned_and_well_formed() -> None:
    rows, entry = datasets.load("agent_unseen")  # raises when the file changed without the manifest
    assert entry["file"] == "unseen/cases.jsonl" and len(rows) >= 60
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["expected"]["action"] in ACTIONS for r in rows)
    codes = Counter(r["case"]["exception_code"] for r in rows)
    for code in ("AC01", "AC04", "AM05", "BE01", "BE04", "RC01", "RR03", "FF01", "REMITTANCE_MISMATCH",
                 "UNAPPLIED_CASH", "RECALL_REQUEST", "INVESTIGATION_QUERY", "UNKNOWN"):  # fmt: skip
        assert codes[code] >= 1, code
    assert {r["format"] for r in rows} == {"mt103", "pacs008", "json"}
    assert sum(r["repair_only"] for r in rows) >= 30
    assert sum(not r["case"].get("customer_id") for r in rows) >= 5


def test_its_reference_data_is_its_own() -> None:
    data = RefDataFile.model_validate(json.loads((UNSEEN / "refdata.json").read_text(encoding="utf-8")))
    demo = json.loads((Path(datasets.DATASETS_DIR).parents[1] / "corpora/demo/refdata.json").read_text())
    assert not {c.customer_id for c in data.customers} & {c["customer_id"] for c in demo["customers"]}
    assert not {a.iban for a in data.accounts} & {a["iban"] for a in demo["accounts"]}


def test_it_is_a_suite_of_its_own_never_part_of_all() -> None:
    assert expand("agent-unseen") == ["agent-unseen"]
    assert "agent-unseen" not in expand("all")


@pytest.mark.slow
def test_the_agent_meets_the_unseen_floors() -> None:
    """Issue 15: >= 95% exact, >= 90% of the repair-only cases exact, no unsafe proposal."""
    from evals.suites import agent_unseen

    rows = agent_unseen.run(SuiteOptions(progress=False)).rows
    exact = sum(r["metrics"]["exact"] for r in rows) / len(rows)
    repair_only = [r["metrics"]["exact"] for r in rows if r["repair_only"]]
    assert exact >= 0.95, [r["id"] for r in rows if not r["correct"]]
    assert sum(repair_only) / len(repair_only) >= 0.90
    assert sum(r["metrics"]["unsafe_rate"] for r in rows) == 0
