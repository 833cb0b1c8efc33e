"""A small procedure corpus written for these tests (independent of corpora/procedures)."""

from __future__ import annotations

from pathlib import Path

PROCEDURES: dict[str, str] = {
    "sop-ac01.md": """---
doc_id: SOP-AC01
title: Incorrect creditor account number (AC01/AC03)
version: 3.1
effective_date: 2026-03-01
owner: Payments Operations
exception_codes: [AC01, AC03]
message_types: [MT103, pacs.008]
rails: [SWIFT, SEPA]
---
# Incorrect creditor account number

## 1. Purpose and scope
Applies when a beneficiary bank rejects a credit transfer because the creditor IBAN or account
number is invalid or does not exist.

## 3. Procedure
### 3.1 Validate the account
1. Run `validate_iban` on the creditor account to check the IBAN checksum and length.
2. Record the validation error in the case.

### 3.2 Repair from the standing settlement instruction
1. Call `get_ssi` for the ordering customer and the payment currency.
2. Repair the IBAN only when the SSI beneficiary name matches the creditor name.
3. Four-eyes approval is required above EUR 100,000.

```playbook
version: 1
steps:
  - id: iban
    tool: validate_iban
    args: {iban: payment.creditor.account.iban}
rules:
  - otherwise: true
    action: escalate
    rationale: "An analyst decides."
```

## 4. Records
Keep the SSI reference and the validation result in the audit trail.
""",
    "sop-ac04.md": """---
doc_id: SOP-AC04
title: Closed or blocked creditor account (AC04/AC06)
version: 2.0
exception_codes: [AC04, AC06]
message_types: [MT103, pacs.008, pacs.004]
rails: [SWIFT, SEPA]
---
# Closed or blocked creditor account

## 1. Purpose and scope
The beneficiary's account has been closed or is blocked; the funds come back as a return.

## 2. Procedure
1. Use `lookup_account` to confirm the status of the account with the beneficiary bank.
2. If the account is closed, contact the ordering customer for new beneficiary details.
3. Never redirect the funds to another account without a new instruction from the customer.

## 3. Return of funds
When no new instruction arrives within 5 business days, return the funds to the debtor with a
pacs.004 carrying the original reason code.
""",
    "sop-recall.md": """---
doc_id: SOP-RECALL
title: Recall and cancellation requests (MT192, camt.056)
version: 1.4
exception_codes: [RECALL_REQUEST, DUPL, FRAD, CUST, TECH]
message_types: [MT192, camt.056, camt.029]
rails: [SWIFT, SEPA]
---
# Recall and cancellation requests

## 1. Time limits
SEPA credit transfer recalls must be sent within 10 business days of settlement for duplicates
and technical problems; fraud recalls are accepted up to 13 months.

## 2. Answering a recall
1. Use `check_recall_window` with the value date of the original payment.
2. Answer with a camt.029 resolution of investigation, positive or negative.
""",
    "sop-charges.md": """---
doc_id: SOP-CHARGES
title: Charges disputes (OUR, SHA, BEN)
version: 1.0
exception_codes: [INVESTIGATION_QUERY]
message_types: [MT103, MT199]
rails: [SWIFT]
---
# Charges disputes

## 1. Charge bearer options
Field 71A carries OUR, SHA or BEN. With OUR the ordering customer pays all fees, with BEN the
beneficiary pays, with SHA the fees are shared between the parties.

## 2. Claims
A beneficiary bank that deducted fees on an OUR payment is asked to refund them with an MT199 or MT191 claim.
""",
    "sop-index.md": """---
doc_id: SOP-INDEX
title: Exception routing index
version: 1.0
exception_codes: [AC01, AC03, AC04, AC06, DUPL, FRAD, CUST, TECH, RECALL_REQUEST, INVESTIGATION_QUERY]
message_types: []
rails: []
---
# Exception routing index

## 1. Routing table
| code | procedure |
|---|---|
| AC01, AC03 | SOP-AC01 incorrect account |
| AC04, AC06 | SOP-AC04 closed account |
| DUPL, FRAD, CUST, TECH | SOP-RECALL recalls |
""",
}


def write_corpus(directory: Path, files: dict[str, str] | None = None) -> Path:
    """Write the test procedures into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (files or PROCEDURES).items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory
