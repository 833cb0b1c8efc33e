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
        "validate_iban on the creditor account",
        "account number invalid on a credit transfer",
    ],
    ("SOP-AC01", "3.2"): [
        "repair the iban from the standing settlement instruction",
        "ssi name matches the creditor, can I fix the account",
        "use get_ssi for the ordering customer and currency",
        "four eyes approval for an iban repair above 100k",
        "take the iban from the ssi when the name matches",
        "fix a wrong iban using the settlement instruction",
    ],
    ("SOP-AC04", "2"): [
        "beneficiary account is closed what now",
        "confirm account status with the beneficiary bank",
        "customer must give new beneficiary details for a closed account",
        "never redirect funds to another account",
        "use lookup_account to check a closed account",
        "closed beneficiary account, contact the ordering customer",
    ],
    ("SOP-AC04", "3"): [
        "no new instruction after five business days",
        "send the funds back to the debtor with pacs.004",
        "return of funds for a blocked account",
        "when do we return the money to the debtor",
        "return the payment with the original reason code",
        "five days without instructions, send funds back",
    ],
    ("SOP-RECALL", "1"): [
        "how long after settlement can a sepa recall be sent",
        "fraud recall accepted up to 13 months",
        "deadline for a duplicate recall",
        "time limit on recalls for technical problems",
        "ten business days to recall a duplicate",
        "is a fraud recall still possible after a year",
    ],
    ("SOP-RECALL", "2"): [
        "answer a recall with camt.029",
        "resolution of investigation positive or negative",
        "check the recall window with the value date",
        "how do we respond to a cancellation request",
        "camt.029 answer to a camt.056",
        "use check_recall_window before answering",
    ],
    ("SOP-CHARGES", "1"): [
        "who pays the fees with OUR",
        "field 71A charge bearer options",
        "fees shared between the parties SHA",
        "BEN means the beneficiary pays the charges",
        "what does SHA mean for fees",
        "OUR SHA BEN in field 71A",
    ],
    ("SOP-CHARGES", "2"): [
        "beneficiary bank deducted fees on an OUR payment",
        "claim a refund of charges with MT199",
        "MT191 claim for deducted charges",
        "ask the receiving bank to refund the fees",
        "fees were taken from an OUR transfer, how to claim",
        "refund claim for charges deducted by the beneficiary bank",
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
