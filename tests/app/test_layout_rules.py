"""A correction taught through the API changes the next extraction from the same issuer, and only
that issuer's; removing the rule restores the previous behaviour. Corrections are audited."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from tests.app.conftest import Api
from tools.documents.service import read_pages


def _invoice(issuer: str, iban: str, vat: str, number: str, net: str, total: str) -> bytes:
    """A German invoice whose grand total sits behind a label the extractor does not know."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    rows = [
        (issuer, ""),
        ("Hafenstrasse 12, 20457 Hamburg", ""),
        (f"USt-IdNr: {vat}", ""),
        ("", ""),
        ("Rechnung", ""),
        ("Rechnungsnummer:", number),
        ("Rechnungsdatum:", "01.10.2026"),
        ("", ""),
        ("Summe netto", f"{net} EUR"),
        ("Zu begleichen", f"{total} EUR"),
        ("", ""),
        (f"IBAN: {iban}", ""),
    ]
    for label, value in rows:
        pdf.cell(90, 8, label)
        pdf.cell(60, 8, value, new_x="LMARGIN", new_y="NEXT")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


ISSUER_A = ("Kestrel Widgets GmbH", "DE89370400440532013000", "DE123456788")
ISSUER_B = ("Heron Tools GmbH", "DE02120300000000202051", "DE987654321")


def _extract(api: Api, data: bytes, name: str) -> dict[str, Any]:
    response = api.client.post(
        "/v1/documents", files={"file": (name, data, "application/pdf")}, headers=api.h["analyst"]
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _total(extraction: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    field = next((f for f in extraction["fields"] if f["name"] == "remittance.total_amount"), {})
    return (extraction.get("remittance") or {}).get("total_amount"), field


def _box_of(data: bytes, text: str) -> list[float]:
    [page] = read_pages(data, "taught.pdf")
    word = next(w for line in page.lines for w in line.words if w.text == text)
    return [word.x0, word.top, word.x1, word.bottom]


def test_correction_teaches_the_issuer_layout_and_can_be_removed(api: Api) -> None:
    taught = _invoice(*ISSUER_A, "A-1001", "100,00", "119,00")
    case_id = api.submit(documents=[{"name": "a1.pdf", "content_base64": base64.b64encode(taught).decode()}])
    [document] = api.view(case_id)["documents"]
    document_id = document["document_id"]

    next_a = _invoice(*ISSUER_A, "A-1002", "250,00", "297,50")
    other_b = _invoice(*ISSUER_B, "B-77", "40,00", "47,60")
    before_a, _ = _total(_extract(api, next_a, "a2.pdf"))
    before_b, _ = _total(_extract(api, other_b, "b1.pdf"))
    assert before_a != "297.50"  # without the lesson the extractor takes the net sum

    # Bad corrections are refused with the field named, nothing stored.
    bad = api.client.post(
        f"/v1/documents/{document_id}/corrections",
        json={"field": "remittance.iban", "value": "DE00123", "page": 1, "bbox": [1, 1, 2, 2]},
        headers=api.h["analyst"],
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"]
    missing = api.client.post(
        "/v1/documents/" + "0" * 64 + "/corrections",
        json={"field": "remittance.total_amount", "value": "1.00", "page": 1, "bbox": [1, 1, 2, 2]},
        headers=api.h["analyst"],
    )
    assert missing.status_code == 404
    readonly = api.client.post(
        f"/v1/documents/{document_id}/corrections",
        json={"field": "remittance.total_amount", "value": "119.00", "page": 1, "bbox": [1, 1, 2, 2]},
        headers=api.h["service"],
    )
    assert readonly.status_code == 403

    response = api.client.post(
        f"/v1/documents/{document_id}/corrections",
        json={
            "field": "remittance.total_amount",
            "value": "119.00",
            "page": 1,
            "bbox": _box_of(taught, "119,00"),
        },
        headers=api.h["analyst"],
    )
    assert response.status_code == 201, response.text
    rule = response.json()["rule"]
    assert rule["field"] == "remittance.total_amount" and rule["created_by"]
    assert _total(response.json()["extraction"][0])[0] == "119.00"  # the taught document itself

    after_a, field = _total(_extract(api, next_a, "a2.pdf"))
    assert after_a == "297.50"
    assert field["source"]["rule"] == f"layout-rule {rule['id']}, taught by {rule['created_by']}"
    assert _total(_extract(api, other_b, "b1.pdf"))[0] == before_b  # another issuer: unchanged

    listed = api.client.get("/v1/layout-rules", headers=api.h["analyst"]).json()["rules"]
    assert [r["id"] for r in listed] == [rule["id"]]
    events = api.client.get(f"/v1/exceptions/{case_id}/audit", headers=api.h["analyst"]).json()["events"]
    assert any(e["event"] == "document_corrected" and e["data"]["rule_id"] == rule["id"] for e in events)

    removed = api.client.delete(f"/v1/layout-rules/{rule['id']}", headers=api.h["analyst"])
    assert removed.status_code == 200, removed.text
    assert api.client.get("/v1/layout-rules", headers=api.h["analyst"]).json()["rules"] == []
    assert _total(_extract(api, next_a, "a2.pdf"))[0] == before_a  # the previous behaviour is back
    again = api.client.delete(f"/v1/layout-rules/{rule['id']}", headers=api.h["analyst"])
    assert again.status_code == 404
    events = api.client.get(f"/v1/exceptions/{case_id}/audit", headers=api.h["analyst"]).json()["events"]
    assert any(e["event"] == "layout_rule_removed" for e in events)


def test_case_page_form_corrects_a_field_from_a_selected_box(api: Api) -> None:
    from tests.app.test_ui import sign_in

    taught = _invoice(*ISSUER_A, "A-2001", "10,00", "11,90")
    case_id = api.submit(documents=[{"name": "a.pdf", "content_base64": base64.b64encode(taught).decode()}])
    [document] = api.view(case_id)["documents"]
    csrf = sign_in(api, "analyst")
    page = api.client.get(f"/ui/cases/{case_id}").text
    assert 'data-testid="correction"' in page and 'data-width="' in page
    action = f"/ui/cases/{case_id}/documents/{document['document_id']}/corrections"
    form = {"field": "remittance.total_amount", "value": "11.90", "page": "1", "csrf_token": csrf}
    unselected = api.client.post(action, data=form | {"bbox": ""}, follow_redirects=False)
    assert unselected.status_code == 400 and "select the value on the page" in unselected.text
    box = ",".join(f"{v:.1f}" for v in _box_of(taught, "11,90"))
    saved = api.client.post(action, data=form | {"bbox": box}, follow_redirects=False)
    assert saved.status_code == 303 and "layout%20rule" in saved.headers["location"].replace(" ", "%20")
    [rule] = api.client.get("/v1/layout-rules", headers=api.h["analyst"]).json()["rules"]
    assert rule["field"] == "remittance.total_amount" and rule["document_id"] == document["document_id"]
    assert _total(_extract(api, _invoice(*ISSUER_A, "A-2002", "20,00", "23,80"), "a3.pdf"))[0] == "23.80"


def test_a_taught_correction_is_a_field_label_in_the_decision_record_and_the_export(
    api: Api, tmp_path: Any
) -> None:
    from app.services.cases import get_case
    from app.services.corrections import decision_record, export_dataset

    # An issuer of its own: rules taught by the other tests may still be active in a shared database.
    taught = _invoice(
        "Plover Parts GmbH", "DE44500105175407324931", "DE111111125", "P-3001", "100,00", "119,00"
    )
    case_id = api.submit(documents=[{"name": "a1.pdf", "content_base64": base64.b64encode(taught).decode()}])
    [document] = api.view(case_id)["documents"]
    before, _ = _total(_extract(api, taught, "a1.pdf"))
    # The generic reading misses it: "Summe netto" is a part, not the total, and "Zu begleichen"
    # is no label it knows.
    assert before != "119.00"
    response = api.client.post(
        f"/v1/documents/{document['document_id']}/corrections",
        json={
            "field": "remittance.total_amount",
            "value": "119.00",
            "page": 1,
            "bbox": _box_of(taught, "119,00"),
        },
        headers=api.h["analyst"],
    )
    assert response.status_code == 201, response.text
    rule_id = response.json()["rule"]["id"]
    db = api.app.state.services.db
    with db.session() as session:
        [label] = decision_record(session, get_case(session, case_id))["document_corrections"]
        export = export_dataset(session, tmp_path)
    assert label["document_id"] == document["document_id"] and label["document"] == "a1.pdf"
    assert (label["field"], label["old"], label["new"]) == ("remittance.total_amount", before, "119.00")
    assert label["user"] == response.json()["rule"]["created_by"] and label["rule_removed"] is False
    # Undecided, the case is exported for its field label alone, without a case label.
    [row] = [json.loads(line) for line in (export.path / "corrections.jsonl").read_text().splitlines()]
    assert row["case_id"] == case_id and row["label"] is None and row["document_corrections"] == [label]
    assert json.loads((export.path / "manifest.json").read_text())["counts"]["field_labels"] == 1
    api.client.delete(f"/v1/layout-rules/{rule_id}", headers=api.h["analyst"])
    with db.session() as session:
        [label] = decision_record(session, get_case(session, case_id))["document_corrections"]
    assert label["rule_removed"] is True  # the label stays; the record says the rule is gone
