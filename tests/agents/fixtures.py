"""Small, self-contained fixtures for the agent tests: reference data, messages and cases.

They do not depend on the demo data set, so the graph's mechanics are tested even while the demo
corpus changes; the playbook accuracy test uses the demo data (evals/datasets/agent_cases.jsonl).
"""

from __future__ import annotations

from typing import Any

GOOD_IBAN = "DE14370400441234567890"  # the SSI's account (valid, Commerzbank Köln)
BAD_IBAN = "DE15370400441234567890"  # same digits, wrong checksum
OTHER_IBAN = "DE04100700001111111111"  # valid, someone else's

REFDATA: dict[str, Any] = {
    "customers": [
        {
            "customer_id": "C-9001",
            "name": "Muster Maschinenbau GmbH",
            "country": "DE",
            "address_lines": ["Hauptstr. 1", "50667 Koeln"],
        },
        {
            "customer_id": "C-9002",
            "name": "Nordlicht Handel AG",
            "country": "DE",
            "address_lines": ["Ring 5", "20095 Hamburg"],
        },
    ],
    "accounts": [
        {
            "customer_id": "C-9001",
            "iban": GOOD_IBAN,
            "bic": "COBADEFFXXX",
            "currency": "EUR",
            "status": "open",
        },
        {
            "customer_id": "C-9002",
            "iban": OTHER_IBAN,
            "bic": "DEUTDEBBXXX",
            "currency": "EUR",
            "status": "open",
        },
    ],
    "ssis": [
        {
            "ssi_id": "C-9001:1",
            "customer_id": "C-9001",
            "beneficiary_name": "Muster Maschinenbau GmbH",
            "iban": GOOD_IBAN,
            "bic": "COBADEFFXXX",
            "currency": "EUR",
            "address_lines": ["Hauptstr. 1", "50667 Koeln"],
            "country": "DE",
        },
        {
            "ssi_id": "C-9002:1",
            "customer_id": "C-9002",
            "beneficiary_name": "Nordlicht Handel AG",
            "iban": OTHER_IBAN,
            "bic": "DEUTDEBBXXX",
            "currency": "EUR",
            "address_lines": ["Ring 5"],
            "country": "DE",
        },
    ],
    "open_invoices": [],
    "payments": [],
}


def mt103(
    iban: str = BAD_IBAN,
    name: str = "Muster Maschinenbau GmbH",
    amount: str = "12500,00",
    ref: str = "REF-9001",
) -> str:
    return (
        "{1:F01BANKDEFFAXXX0000000000}{2:I103COBADEFFXXXXN}{3:{121:3f2b4c1e-8d2a-4f6b-9c1d-2e3f4a5b6c7d}}{4:\n"
        f":20:{ref}\n:23B:CRED\n:32A:261120EUR{amount}\n"
        ":50K:/DE89370400440532013000\nOrdering Co KG\nBerlin\n"
        f":59:/{iban}\n{name}\nHauptstr. 1\n:70:INV-1\n:71A:SHA\n-}}"
    )


def ac01_case(**overrides: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "case_id": "T-AC01",
        "exception_code": "AC01",
        "message": mt103(),
        "customer_id": "C-9001",
    }
    case.update(overrides)
    return case
