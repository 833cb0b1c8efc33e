"""CBPR+ usage rules on phoughton/iso20022-cbpr-ur test files.

Each violator's name says the rule it breaks (``__violates_pacs.008-R41_commodity_currency_XAU``, year
from its folder); the parser must report that rule. Base files outside ``violators/`` must produce no
error, except the few whose own name marks a defect the dataset planted (``dodgy_IBAN``,
``slash_in_instrid``): those must report exactly that defect.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tools.messages.iso20022 import RULES, parse_xml

CBPR = SHARED_DATA / "iso20022" / "cbpr_phoughton" / "test_files"
VIOLATORS = sorted(CBPR.glob("*/violators/*.xml")) if CBPR.is_dir() else []
BASES = sorted(p for p in CBPR.glob("*/*.xml")) if CBPR.is_dir() else []
_NAME = re.compile(r"__violates_(?P<message>[a-z]{4}\.\d{3})-(?P<rule>R\d+)_")
# base files whose name declares a planted defect -> the finding code that defect must produce
PLANTED = {"dodgy_IBAN": "IBAN_CHECKSUM", "slash_in_instrid": "CBPR_CAMT054_R20"}


def _expected_code(path: Path) -> str:
    match = _NAME.search(path.name)
    assert match, path.name
    year = path.parent.parent.name
    rules = [r for r in RULES if r.message == match["message"] and r.numbers.get(year) == match["rule"]]
    assert rules, f"rule {match['message']} {match['rule']} (SR{year}) is not in the implemented subset"
    return rules[0].code


@pytest.mark.parametrize("path", VIOLATORS, ids=lambda p: f"{p.parent.parent.name}/{p.stem[-50:]}")
def test_violator_reports_its_rule(path: Path, iso_dir: Path) -> None:
    extraction = parse_xml(path.read_bytes(), path.name)
    code = _expected_code(path)
    hits = [f for f in extraction.findings if f.code == code]
    assert hits, f"{path.name}: expected {code}, got {[f.code for f in extraction.findings]}"
    topic = path.stem.split("__violates_")[1]
    if "commodity_currency_XAU" in topic:
        assert all(h.severity == "error" and "XAU" in h.message for h in hits)
        assert all((h.field or "").endswith("IntrBkSttlmAmt") for h in hits)
    if "msgdefidr_mismatch" in topic:
        assert all(h.severity == "error" and h.field == "/AppHdr/MsgDefIdr" for h in hits)
    if "slash_in_instrid" in topic:
        assert all(h.severity == "error" and (h.field or "").endswith("/InstrId") for h in hits)


@pytest.mark.parametrize("path", BASES, ids=lambda p: f"{p.parent.name}/{p.stem[-50:]}")
def test_base_file_has_no_errors_but_planted_ones(path: Path, iso_dir: Path) -> None:
    extraction = parse_xml(path.read_bytes(), path.name)
    assert extraction.payment is not None or extraction.statement is not None
    errors = sorted({f.code for f in extraction.findings if f.severity == "error"})
    planted = sorted({code for marker, code in PLANTED.items() if marker in path.name})
    assert errors == planted, [f.message for f in extraction.findings if f.severity == "error"]


def test_violator_differs_from_base_only_by_the_rule(iso_dir: Path) -> None:
    base = CBPR / "2025" / "pacs008_credit_transfer_sample.xml"
    violator = (
        CBPR
        / "2025"
        / "violators"
        / ("pacs008_credit_transfer_sample__violates_pacs.008-R41_commodity_currency_XAU.xml")
    )
    base_codes = {f.code for f in parse_xml(base.read_bytes(), base.name).findings}
    violator_codes = {f.code for f in parse_xml(violator.read_bytes(), violator.name).findings}
    assert violator_codes - base_codes == {"CBPR_PACS008_R41"}


def test_rules_only_apply_to_cbpr_traffic() -> None:
    # the same commodity currency without a CBPR+ header is not a CBPR+ finding
    xml = (
        (
            CBPR
            / "2025"
            / "violators"
            / ("pacs008_credit_transfer_sample__violates_pacs.008-R41_commodity_currency_XAU.xml")
        ).read_bytes()
        if CBPR.is_dir()
        else b""
    )
    if not xml:
        pytest.skip("CBPR samples absent")
    stripped = re.sub(rb"swift\.cbprplus\.\d+", b"other.service", xml)
    codes = {f.code for f in parse_xml(stripped, "no-cbpr").findings}
    assert not any(code.startswith("CBPR_") for code in codes)


def test_sr2026_only_rule_is_a_warning(iso_dir: Path) -> None:
    path = (
        CBPR / "2026" / "violators" / "camt054_credit_notification_sample__violates_camt.054-R10_existing.xml"
    )
    hits = [f for f in parse_xml(path.read_bytes(), path.name).findings if f.code == "CBPR_CAMT054_R10"]
    assert [h.severity for h in hits] == ["warning"]
    assert "R10 in SR2026" in hits[0].message
