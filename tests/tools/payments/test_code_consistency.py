"""The code-consistency check: which evidence contradicts which reason code."""

from __future__ import annotations

from tools.payments.code_consistency import Evidence, check_code

PAYMENT = {
    "creditor": {"name": "ACME", "account": {"iban": "DE89370400440532013000"}},
    "debtor": {"name": "Ordering GmbH", "address_lines": ["Kaiserstr. 5", "60311 Frankfurt"]},
}


def evidence(**changes: object) -> Evidence:
    return Evidence(**{"payment": PAYMENT, **changes})  # type: ignore[arg-type]


def test_a_duplicate_contradicts_every_repair_code_but_not_a_duplicate_code() -> None:
    duplicate = {"found": True, "duplicates": [{"reference": "PAY-1", "match": "uetr", "days_apart": 2}]}
    for code in ("BE04", "RR03", "AC01", "RC01", "AC04"):
        verdict = check_code(
            code, evidence(duplicates=duplicate, account={"found": True, "status": "closed"})
        )
        assert not verdict.consistent and "PAY-1" in verdict.contradictions[0]
    assert check_code("AM05", evidence(duplicates=duplicate)).consistent
    assert not check_code("AM05", evidence(duplicates=duplicate)).checked


def test_account_status_and_iban_errors_point_at_the_account() -> None:
    closed = {"found": True, "status": "closed"}
    assert check_code("AC04", evidence(account=closed)).consistent
    assert not check_code("BE04", evidence(account=closed)).consistent
    assert not check_code("AC04", evidence(account={"found": True, "status": "open"})).consistent
    errors = [{"code": "IBAN_CHECKSUM", "severity": "error"}]
    assert check_code("AC01", evidence(findings=errors)).supports
    assert not check_code("RR03", evidence(findings=errors)).consistent
    warnings = [{"code": "IBAN_CHECKSUM", "severity": "warning"}]
    assert check_code("RR03", evidence(findings=warnings)).consistent


def test_bank_identifier_codes_need_a_bic_of_another_bank() -> None:
    assert not check_code("RC01", evidence()).consistent  # no creditor agent BIC at all
    same_bank = {**PAYMENT, "creditor_agent": {"bic": "COBADEFFXXX"}}
    assert not check_code("RC01", evidence(payment=same_bank, iban_bic="COBADEFF")).consistent
    other_bank = {**PAYMENT, "creditor_agent": {"bic": "DEUTDEFFXXX"}}
    assert check_code("RC01", evidence(payment=other_bank, iban_bic="COBADEFF")).consistent
    assert not check_code("BE04", evidence(payment=other_bank, iban_bic="COBADEFF")).consistent


def test_parties_and_text_only_raise_doubts() -> None:
    assert not check_code("RR02", evidence()).consistent  # the debtor is complete
    no_debtor_address = {**PAYMENT, "debtor": {"name": "Ordering GmbH"}}
    assert check_code("RR02", evidence(payment=no_debtor_address)).consistent
    assert not check_code("BE04", evidence(payment=no_debtor_address)).consistent
    assert not check_code("BE04", evidence(text_codes=["RECALL_REQUEST"])).consistent
    assert check_code("BE04", evidence(text_codes=["BE04"])).consistent
    assert not check_code("RR03", evidence(document_types=["iso20022.camt.056"])).consistent


def test_without_a_parsed_payment_nothing_is_contradicted() -> None:
    assert check_code("FF01", Evidence()).consistent
    assert check_code("RR02", Evidence()).consistent


def test_a_name_not_as_held_makes_an_address_code_ambiguous() -> None:
    # The message names the account's holder, but not as held (BE01's repair): BE04/RR03 alone would
    # release a name the account does not carry, so the evidence points to BE01 as well.
    variant = evidence(account_holder="Acme GmbH")
    for code in ("BE04", "RR03"):
        verdict = check_code(code, variant)
        assert not verdict.consistent and "as held" in verdict.contradictions[0]
        assert "BE01" in verdict.evidence_codes
    assert check_code("BE01", variant).consistent
    assert check_code("BE04", evidence(account_holder="ACME")).consistent  # the name as held
    assert check_code("BE04", evidence(account_holder=" ACME ")).consistent  # spacing is not a fault
