"""List fields in an analyst's edit: address lines and remittance lines, line by line.

The rules follow the message the repair is written in (MT: 35 characters of the SWIFT X set a line,
3 address lines after the name, 4 lines in field 70; pacs.008: AdrLine of 70, Ustrd of 140); the
form turns posted lines into a list change that keeps its source; the API refuses a bad line with
422 naming the field and stores nothing; the edit's own guard runs on the lines; and an approved
list change is written into the repaired message and reads back.
"""

from __future__ import annotations

import pytest

from agents.repair import repaired_message
from app.services.edits import line_fields, message_format, validate_changes
from app.ui.edit_form import changes_from_form, edit_rows, with_posted
from tests.agents.fixtures import mt103
from tests.app.conftest import Api
from tools.errors import ValidationError
from tools.extract import extract_bytes
from tools.messages.model import to_json_dict

ADDRESS = "payment.creditor.address_lines"
REMITTANCE = "payment.remittance_information.unstructured"
PAYMENT = {
    "currency": "EUR",
    "creditor": {"name": "Acme", "address_lines": ["Hauptstr. 1", "10115 Berlin"]},
    "remittance_information": {"unstructured": ["INV-1"]},
}


def _refusal(changes: list[dict[str, object]], fmt: str) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_changes(changes, fmt)
    return f"{caught.value.source}: {caught.value.reason}"


def test_line_fields_are_the_address_and_remittance_lists() -> None:
    assert {ADDRESS, "payment.debtor.address_lines", REMITTANCE} <= line_fields()
    assert "payment.sender_to_receiver_information" not in line_fields()
    assert message_format({"message": "<Document/>"}) == "xml"
    assert message_format({"message": mt103()}) == "fin"
    assert message_format({"payment": {"message_type": "pacs.008"}}) == "xml"


@pytest.mark.parametrize(
    ("field", "lines", "fmt", "reason"),
    [
        (ADDRESS, ["x" * 36], "fin", "line 1 has 36 characters"),
        (ADDRESS, ["a", "b", "c", "d"], "fin", "4 lines"),
        (ADDRESS, ["Hauptstraße 1"], "fin", "'ß' is not in the SWIFT X character set"),
        (ADDRESS, ["ok", ":70:INV-9"], "fin", "line 2 starts with ':'"),
        (ADDRESS, ["x" * 71], "xml", "line 1 has 71 characters"),
        (ADDRESS, ["Haupt\tstr. 1"], "xml", "control character (U+0009)"),
        (ADDRESS, ["a\u200bb"], "xml", "control character (U+200B)"),
        (ADDRESS, [], "xml", "at least one line"),
        (ADDRESS, ["ok", "  "], "xml", "line 2 is empty"),
        (ADDRESS, "Hauptstr. 1", "xml", "a list of text lines"),
        (REMITTANCE, ["INV"] * 5, "fin", "5 lines; MT field 70 allows 4"),
        (REMITTANCE, ["y" * 141], "xml", "line 1 has 141 characters"),
    ],
)
def test_a_bad_line_is_refused_naming_the_field_and_the_line(
    field: str, lines: object, fmt: str, reason: str
) -> None:
    refusal = _refusal([{"field": field, "new": lines}], fmt)
    assert refusal.startswith(f"changes[0].{field}: ") and reason in refusal, refusal


def test_lines_within_the_rules_pass() -> None:
    validate_changes([{"field": ADDRESS, "new": ["Hauptstr. 1", "10115 Berlin", "(Hinterhaus)"]}], "fin")
    validate_changes([{"field": ADDRESS, "new": ["Hauptstraße 1 – Hinterhaus " + "x" * 40]}], "xml")
    validate_changes([{"field": REMITTANCE, "new": ["Invoice INV-1 " + "z" * 120]}], "xml")


def test_the_form_offers_the_lines_and_posts_them_back_as_one_list_change() -> None:
    proposed = [{"field": REMITTANCE, "old": ["INV-1"], "new": ["INV-1", "INV-2"], "evidence": ["inv:2"]}]
    rows = {r["field"]: r for r in edit_rows(proposed, PAYMENT, ["inv:2", "ssi:C-1:1"], "fin")}
    address, remittance = rows[ADDRESS], rows[REMITTANCE]
    assert address["lines"] == address["current_lines"] == ["Hauptstr. 1", "10115 Berlin"]
    assert (address["max_length"], address["max_lines"], address["charset"]) == (35, 3, "x")
    assert address["source"] == "analyst-asserted"
    assert remittance["lines"] == ["INV-1", "INV-2"] and remittance["source"] == "inv:2"
    xml = {r["field"]: r for r in edit_rows(proposed, PAYMENT, [], "xml")}[ADDRESS]
    assert (xml["max_length"], xml["max_lines"], xml["charset"]) == (70, 7, "")  # pacs.008
    form = {
        f"lines:{ADDRESS}": "1",
        f"line:{ADDRESS}:0": " Hauptstr. 12 ",
        f"line:{ADDRESS}:1": "",  # removed on the page
        f"line:{ADDRESS}:10": "Hinterhaus",  # added later: ordered by number, not as text
        f"line:{ADDRESS}:2": "10115 Berlin",
        f"source:{ADDRESS}": "ssi:C-1:1",
        f"lines:{REMITTANCE}": "1",
        f"line:{REMITTANCE}:0": "INV-1",  # back to the payment's own lines: no change
    }
    changes = changes_from_form(form, proposed, PAYMENT)
    assert changes == [
        {
            "field": ADDRESS,
            "old": ["Hauptstr. 1", "10115 Berlin"],
            "new": ["Hauptstr. 12", "10115 Berlin", "Hinterhaus"],
            "evidence": ["ssi:C-1:1"],
        }
    ]
    shown = {r["field"]: r for r in with_posted(list(rows.values()), form)}
    assert shown[ADDRESS]["lines"] == ["Hauptstr. 12", "10115 Berlin", "Hinterhaus"]
    assert shown["payment.creditor.name"] == rows["payment.creditor.name"]


def test_the_api_refuses_a_bad_line_and_stores_a_good_one_with_its_guard(api: Api) -> None:
    case_id = api.submit()  # an MT103: 35 characters a line
    api.wait_status(case_id)
    too_long = [{"field": ADDRESS, "new": ["Hauptstrasse 1, Hinterhaus, Aufgang B"]}]
    refused = api.decide(case_id, "analyst", "edit", changes=too_long)
    assert refused.status_code == 422, refused.text
    message = refused.json()["error"]["message"]
    assert f"changes[0].{ADDRESS}" in message and "37 characters" in message and "35" in message
    assert api.view(case_id)["proposal_version"] == 1  # nothing stored
    lines = ["Hauptstrasse 1", "Aufgang B"]
    asserted = [{"field": ADDRESS, "new": lines, "evidence": ["analyst-asserted"]}]
    edited = api.decide(case_id, "analyst", "edit", changes=asserted, comment="per phone call")
    assert edited.status_code == 200, edited.text
    view = edited.json()
    assert view["changes"][0]["new"] == lines
    assert view["guard"]["passed"] is True and view["guard"]["analyst_asserted"] == [ADDRESS]
    forged = [{"field": ADDRESS, "new": lines, "evidence": ["ssi:C-0000:9"]}]
    again = api.decide(case_id, "analyst", "edit", changes=forged)
    assert again.json()["guard"]["passed"] is False  # cited evidence that is not of this case


@pytest.mark.parametrize("fmt", ["fin", "xml"])
def test_an_approved_list_change_is_written_and_reads_back(fmt: str) -> None:
    [extraction] = [e for e in extract_bytes(mt103().encode(), "m.fin") if e.payment is not None]
    payment = to_json_dict(extraction.payment)  # type: ignore[arg-type]
    changes = [
        {"field": ADDRESS, "new": ["Hauptstrasse 12", "10115 Berlin"]},
        {"field": REMITTANCE, "new": ["INV-1", "INV-2"]},
    ]
    validate_changes(changes, fmt)
    text = repaired_message(payment, changes, fmt)
    assert "Hauptstrasse 12" in text and "INV-2" in text


def test_a_line_the_server_refuses_is_named_in_the_page_and_the_lines_stay(api: Api) -> None:
    from tests.app.test_ui import sign_in

    case_id = api.submit(case_id="EXC-LINES")  # an MT103: the SWIFT X character set
    api.wait_status(case_id)
    csrf = sign_in(api, "analyst")
    form = {
        "csrf_token": csrf,
        "decision": "edit",
        "edit_form": "1",
        "comment": "address from the beneficiary's letter",
        f"lines:{ADDRESS}": "1",
        f"line:{ADDRESS}:0": "Hauptstraße 1",  # 'ß' is not in the X set: the page's check was bypassed
        f"line:{ADDRESS}:1": "Hinterhaus",
        f"source:{ADDRESS}": "analyst-asserted",
    }
    refused = api.client.post(f"/ui/cases/{case_id}/decision", data=form)
    assert refused.status_code == 400
    assert f"changes[0].{ADDRESS}: line 1: &#39;ß&#39; is not in the SWIFT X character set" in refused.text
    assert 'value="Hauptstraße 1"' in refused.text and 'value="Hinterhaus"' in refused.text  # not lost
    assert api.view(case_id)["proposal_version"] == 1
    saved = api.client.post(
        f"/ui/cases/{case_id}/decision", data=form | {f"line:{ADDRESS}:0": "Hauptstrasse 1"}
    )
    assert saved.status_code == 200 and "Edit saved" in saved.text
    change = {c["field"]: c for c in api.view(case_id)["changes"]}[ADDRESS]
    assert change == {
        "field": ADDRESS,
        "old": ["Hauptstr. 1"],
        "new": ["Hauptstrasse 1", "Hinterhaus"],
        "evidence": ["analyst-asserted"],
    }
