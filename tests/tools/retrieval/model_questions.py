"""Questions over the small test corpus (tests/tools/retrieval/corpus.py), for the model lifecycle test.

Each section is asked about in several wordings, so both halves of the split (evals.retrieval_eval
split_of, by id) hold questions about the same sections: a model trained on the tuning half can be
scored on the held-out half.
"""

from __future__ import annotations

import json
from pathlib import Path

ASKED: dict[tuple[str, str], list[str]] = {
    ("SOP-AC01", "3.1"): [
        "the creditor iban fails its checksum",
        "how do I validate the beneficiary account number",
        "iban length wrong on the credit transfer",
        "check the iban checksum and record the error",
    ],
    ("SOP-AC01", "3.2"): [
        "repair the iban from the standing settlement instruction",
        "ssi name matches the creditor, can I fix the account",
        "use get_ssi for the ordering customer and currency",
        "four eyes approval for an iban repair above 100k",
    ],
    ("SOP-AC04", "2"): [
        "beneficiary account is closed what now",
        "confirm account status with the beneficiary bank",
        "customer must give new beneficiary details for a closed account",
        "never redirect funds to another account",
    ],
    ("SOP-AC04", "3"): [
        "no new instruction after five business days",
        "send the funds back to the debtor with pacs.004",
        "return of funds for a blocked account",
        "when do we return the money to the debtor",
    ],
    ("SOP-RECALL", "1"): [
        "how long after settlement can a sepa recall be sent",
        "fraud recall accepted up to 13 months",
        "deadline for a duplicate recall",
        "time limit on recalls for technical problems",
    ],
    ("SOP-RECALL", "2"): [
        "answer a recall with camt.029",
        "resolution of investigation positive or negative",
        "check the recall window with the value date",
        "how do we respond to a cancellation request",
    ],
    ("SOP-CHARGES", "1"): [
        "who pays the fees with OUR",
        "field 71A charge bearer options",
        "fees shared between the parties SHA",
        "BEN means the beneficiary pays the charges",
    ],
    ("SOP-CHARGES", "2"): [
        "beneficiary bank deducted fees on an OUR payment",
        "claim a refund of charges with MT199",
        "MT191 claim for deducted charges",
        "ask the receiving bank to refund the fees",
    ],
}


def write_questions(path: Path) -> Path:
    rows = []
    number = 0
    for (doc_id, section), wordings in ASKED.items():
        for text in wordings:
            number += 1
            rows.append(
                {"id": f"m-{number:03d}", "question": text, "gold": [{"doc_id": doc_id, "section": section}]}
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
