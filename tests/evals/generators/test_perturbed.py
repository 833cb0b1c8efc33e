"""The perturbed set: size, determinism, kept gold, split by source case, no unseen rows."""

from __future__ import annotations

import json
from collections import Counter

from evals import datasets
from evals.generators import perturbed


def test_at_least_a_thousand_rows_of_every_kind_deterministically() -> None:
    rows, manifest = perturbed.load()
    again, _ = perturbed.load()
    assert len(rows) >= 1000 and manifest["count"] == len(rows)
    assert perturbed.digest(again) == manifest["sha256"]
    kinds = Counter(r["perturbation"] for r in rows)
    assert set(kinds) == {
        "wrong_code", "withheld", "no_customer", "wrong_code_no_customer",
        "adversarial_notes", "adversarial_remittance",
    }  # fmt: skip
    assert kinds["wrong_code"] >= 600


def test_rows_keep_the_source_gold_and_change_only_what_they_say() -> None:
    sources = {row["id"]: row for row in datasets.load("agent_cases")[0]}
    for row in perturbed.load()[0]:
        source = sources[row["source_id"]]
        assert row["expected"] == source["expected"]
        case, original = row["case"], source["case"]
        if row["perturbation"] == "wrong_code":
            assert case["exception_code"] not in (original["exception_code"], "UNKNOWN")
        if row["perturbation"] == "withheld":
            assert case["exception_code"] == "UNKNOWN"
        if "no_customer" in row["perturbation"]:
            assert "customer_id" not in case and original.get("customer_id")
        if row["perturbation"].startswith("adversarial"):
            text = json.dumps(case)
            attacks = (*perturbed.NOTES_ATTACKS, perturbed.REMITTANCE_ATTACK[:35])
            assert any(a in text for a in attacks) and text != json.dumps(original)


def test_non_repair_truths_are_mostly_sent_as_repair_codes() -> None:
    rows = [r for r in perturbed.load()[0] if r["perturbation"] == "wrong_code"]
    non_repair = [r for r in rows if r["expected"]["action"] != "repair"]
    as_repair = [r for r in non_repair if r["case"]["exception_code"] in perturbed.REPAIR_CODES]
    assert len(as_repair) >= 0.7 * len(non_repair)


def test_split_is_by_source_case_and_the_unseen_set_is_not_used() -> None:
    rows = perturbed.load()[0]
    splits: dict[str, set[str]] = {}
    for row in rows:
        splits.setdefault(row["source_id"], set()).add(row["split"])
    assert all(len(s) == 1 for s in splits.values())
    held = {r["id"] for r in perturbed.load("held-out")[0]}
    train = {r["id"] for r in perturbed.load("train")[0]}
    assert held and train and not held & train and len(held) >= 300
    unseen = {row["id"] for row in datasets.load("agent_unseen")[0]}
    assert not unseen & {r["source_id"] for r in rows}
