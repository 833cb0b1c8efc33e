"""The desk's case actions over the API: assign, retry, re-triage, hand-off, bulk approve, the repaired
message, the queue columns, and the OpenAPI document (bearer scheme, typed routes, local doc assets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import Api, StubTriage, add_tokens
from tests.app.test_stp import ProposalStub, install_policy
from tools.errors import ValidationError

PAYMENT = {
    "message_type": "pacs.008",
    "reference": "REF-PAY-1",
    "amount": "2500.00",
    "currency": "EUR",
    "value_date": "2026-12-04",
    "creditor": {"name": "Acme Widgets GmbH", "account": {"iban": "DE89370400440532013001"}},
}


def events(api: Api, case_id: str) -> list[dict[str, Any]]:
    trail: list[dict[str, Any]] = api.client.get(
        f"/v1/exceptions/{case_id}/audit", headers=api.h["service"]
    ).json()["events"]
    return trail


def test_assign_to_me_unassign_and_roles(api: Api) -> None:
    case_id = api.wait_status(api.submit(case_id="EXC-A1"))["case_id"]
    url = f"/v1/exceptions/{case_id}/assign"
    taken = api.client.post(url, json={"assignee": "me"}, headers=api.h["analyst"])
    assert taken.status_code == 200, taken.text
    assert taken.json()["assignee"] == "ana"
    other = api.client.post(url, json={"assignee": "bruno"}, headers=api.h["analyst"])
    assert other.status_code == 403 and "only to themselves" in other.json()["error"]["message"]
    service = api.client.post(url, json={"assignee": "me"}, headers=api.h["service"])
    assert service.status_code == 403
    moved = api.client.post(url, json={"assignee": "bruno"}, headers=api.h["approver"])
    assert moved.status_code == 200 and moved.json()["assignee"] == "bruno"
    assigned = [e for e in events(api, case_id) if e["event"] == "assigned"]
    assert [(e["actor"], e["data"]["assignee"], e["data"]["previous"]) for e in assigned] == [
        ("ana", "ana", None),
        ("alice", "bruno", "ana"),
    ]
    assert (
        api.client.post("/v1/exceptions/EXC-NONE/assign", json={}, headers=api.h["analyst"]).status_code
        == 404
    )


class FailingOnce(StubTriage):
    """Raises a typed input error on the first start of each thread, like a bad model answer."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: set[str] = set()

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        if thread_id not in self.failed:
            self.failed.add(thread_id)
            raise ValidationError("the model answered with no proposal", source="model")
        return super().start(case, thread_id)


@pytest.fixture
def flaky_api(make_app: Any) -> Iterator[tuple[Api, FailingOnce]]:
    stub = FailingOnce()
    app = make_app(stub)
    with TestClient(app) as client:
        yield Api(app, client, add_tokens(app)), stub


def test_failure_shows_its_reason_then_retry_succeeds(flaky_api: tuple[Api, FailingOnce]) -> None:
    api, stub = flaky_api
    case_id = api.submit(case_id="EXC-F1")
    failed = api.wait_status(case_id, "failed")
    assert "no proposal" in failed["error"]
    assert (
        api.client.post(f"/v1/exceptions/{case_id}/retry", json={}, headers=api.h["service"]).status_code
        == 403
    )
    retried = api.client.post(
        f"/v1/exceptions/{case_id}/retry", json={"comment": "model back"}, headers=api.h["analyst"]
    )
    assert retried.status_code == 200, retried.text
    view = api.wait_status(case_id, "pending_review")
    assert "error" not in view
    assert stub.failed == {case_id} and stub.started == [case_id]  # the same thread, continued
    retry_event = next(e for e in events(api, case_id) if e["event"] == "retry_requested")
    assert retry_event["actor"] == "ana" and "no proposal" in retry_event["data"]["previous_error"]
    again = api.client.post(f"/v1/exceptions/{case_id}/retry", json={}, headers=api.h["analyst"])
    assert again.status_code == 409  # only a failed case is retried


def test_retriage_runs_a_fresh_thread_with_another_model_and_decides_on_it(
    api: Api, stub_triage: StubTriage
) -> None:
    case_id = api.submit(case_id="EXC-R1")
    api.wait_status(case_id)
    bad = api.client.post(
        f"/v1/exceptions/{case_id}/retriage", json={"model": "no spaces allowed"}, headers=api.h["analyst"]
    )
    assert bad.status_code == 422
    response = api.client.post(
        f"/v1/exceptions/{case_id}/retriage",
        json={"model": "playbook", "comment": "try rules"},
        headers=api.h["analyst"],
    )
    assert response.status_code == 200, response.text
    view = api.wait_status(case_id)
    assert view["triage_model"] == "playbook" and view["proposal_version"] == 2
    assert stub_triage.started == [case_id, f"{case_id}#r1"]
    event = next(e for e in events(api, case_id) if e["event"] == "retriage_requested")
    assert event["data"]["model"] == "playbook" and event["data"]["previous_status"] == "pending_review"
    assert api.decide(case_id, "approver", "approve").status_code == 200
    assert f"{case_id}#r1" in stub_triage.resumed  # the decision resumed the re-triaged thread


def test_hand_off_needs_a_comment_and_leaves_the_flow(api: Api) -> None:
    case_id = api.wait_status(api.submit(case_id="EXC-M1"))["case_id"]
    url = f"/v1/exceptions/{case_id}/manual"
    assert api.client.post(url, json={"comment": ""}, headers=api.h["analyst"]).status_code == 422
    done = api.client.post(url, json={"comment": "call the beneficiary bank"}, headers=api.h["analyst"])
    assert done.status_code == 200 and done.json()["status"] == "manual"
    assert api.decide(case_id, "approver", "approve").status_code == 409
    event = next(e for e in events(api, case_id) if e["event"] == "handed_off")
    assert event["data"]["comment"] == "call the beneficiary bank"
    assert api.queue(status="manual")["items"][0]["case_id"] == case_id


def test_bulk_approve_takes_only_straight_through_cases_and_keeps_maker_checker(api: Api) -> None:
    install_policy(api.app.state.services.db)  # AC01/repair eligible from 0.9; the stub proposes 0.93
    small = api.submit(case_id="EXC-B1", payment=PAYMENT)
    large = api.submit(case_id="EXC-B2", payment=PAYMENT | {"amount": "250000.00"})
    own = api.submit(role="analyst", case_id="EXC-B3", payment=PAYMENT)  # submitted by ana
    for case_id in (small, large, own):
        api.wait_status(case_id)
    analyst = api.client.post(
        "/v1/exceptions/bulk-approve", json={"case_ids": [small]}, headers=api.h["analyst"]
    )
    assert analyst.status_code == 403
    response = api.client.post(
        "/v1/exceptions/bulk-approve",
        json={"case_ids": [small, large, own, "EXC-NONE"], "comment": "STP batch"},
        headers=api.h["approver"],
    )
    assert response.status_code == 200, response.text
    results = {r["case_id"]: r for r in response.json()["results"]}
    assert results[small]["approved"] and results[small]["status"] == "applied"
    assert not results[large]["approved"] and "amount" in results[large]["reason"]
    assert results[own]["approved"]  # alice did not submit it: maker-checker lets her approve
    assert not results["EXC-NONE"]["approved"] and "no such case" in results["EXC-NONE"]["reason"]
    assert api.view(large)["status"] == "pending_review"
    approved = [e for e in events(api, small) if e["event"] == "decision_approve"]
    assert approved[0]["data"]["comment"] == "STP batch" and approved[0]["actor"] == "alice"


def test_bulk_approve_refuses_the_submitter_per_case(api: Api) -> None:
    install_policy(api.app.state.services.db)
    mine = api.submit(role="alice-analyst", case_id="EXC-B4", payment=PAYMENT)  # alice submits...
    other = api.submit(case_id="EXC-B5", payment=PAYMENT)
    api.wait_status(mine)
    api.wait_status(other)
    response = api.client.post(
        "/v1/exceptions/bulk-approve", json={"case_ids": [mine, other]}, headers=api.h["approver"]
    )  # ...and alice approves in bulk
    results = {r["case_id"]: r for r in response.json()["results"]}
    assert not results[mine]["approved"] and "maker-checker" in results[mine]["reason"]
    assert results[other]["approved"]
    assert api.view(mine)["status"] == "pending_review"


def _bulk(api: Api, case_ids: list[str]) -> dict[str, dict[str, Any]]:
    response = api.client.post(
        "/v1/exceptions/bulk-approve", json={"case_ids": case_ids}, headers=api.h["approver"]
    )
    assert response.status_code == 200, response.text
    return {r["case_id"]: r for r in response.json()["results"]}


def test_bulk_approve_decides_by_the_fitted_stp_policy(api: Api, stub_triage: StubTriage) -> None:
    proposals = ProposalStub(stub_triage)
    proposals.overrides["EXC-P2"] = {"confidence": 0.85}  # under the policy's AC01/repair threshold
    violation = {"code": "untrusted_value", "message": "untrusted value"}
    proposals.overrides["EXC-P3"] = {"guard": {"passed": False, "violations": [violation]}}
    cases = [api.submit(case_id=f"EXC-P{i}", payment=PAYMENT) for i in (1, 2, 3)]
    cases.append(api.submit(case_id="EXC-P4", payment=PAYMENT, exception_code="BE04"))  # no rule for it
    cases.append(api.submit(case_id="EXC-P5", payment=PAYMENT))
    for case_id in cases:
        api.wait_status(case_id)
    edit = [{"field": "payment.creditor.account.iban", "new": "DE89370400440532013000"}]
    edited = api.decide("EXC-P5", "analyst", "edit", changes=edit, comment="checked")
    assert edited.status_code == 200, edited.text  # a person's content now, at the agent's confidence
    # no policy fitted: nothing is straight-through eligible, whatever its confidence
    refused = _bulk(api, cases[:1])
    assert not refused["EXC-P1"]["approved"] and "no STP policy" in refused["EXC-P1"]["reason"]
    assert 'name="case_id" value="EXC-P1"' not in api.client.get("/ui", headers=api.h["approver"]).text
    install_policy(api.app.state.services.db)
    engaged = api.client.post(
        "/v1/stp/kill-switch", json={"engaged": True, "reason": "test"}, headers=api.h["admin"]
    )
    assert engaged.status_code == 200, engaged.text
    assert "kill switch" in _bulk(api, cases[:1])["EXC-P1"]["reason"]
    released = api.client.post(
        "/v1/stp/kill-switch", json={"engaged": False, "reason": "test"}, headers=api.h["admin"]
    )
    assert released.status_code == 200, released.text
    results = _bulk(api, cases)
    assert results["EXC-P1"]["approved"] and "bound" in results["EXC-P1"]["reason"]
    assert "under the threshold 0.9" in results["EXC-P2"]["reason"]
    assert "guard" in results["EXC-P3"]["reason"]
    assert "BE04/repair not eligible" in results["EXC-P4"]["reason"]
    assert "not the agent's" in results["EXC-P5"]["reason"]
    assert [c for c in cases if results[c]["approved"]] == ["EXC-P1"]
    assert all(api.view(c)["status"] == "pending_review" for c in cases[1:])


def test_queue_columns_come_from_the_payment_and_the_message(api: Api) -> None:
    from app.db.models import Case

    by_payment = api.submit(case_id="EXC-C1", payment=PAYMENT)
    by_message = api.submit(
        case_id="EXC-C2", message=":20:REF1\n:32A:261122EUR100,00\n:59:/DE89370400440532013000\nACME GMBH\n"
    )
    api.wait_status(by_payment)
    api.wait_status(by_message)
    with api.app.state.services.db.session() as session:
        rows = {c.id: c for c in session.query(Case).all()}
    assert (rows[by_payment].amount, rows[by_payment].currency, rows[by_payment].beneficiary) == (
        2500.0,
        "EUR",
        "Acme Widgets GmbH",
    )
    assert str(rows[by_payment].value_date) == "2026-12-04"
    assert (rows[by_message].amount, rows[by_message].currency, str(rows[by_message].value_date)) == (
        100.0,
        "EUR",
        "2026-11-22",
    )


def test_repaired_message_downloads_after_approval(api: Api) -> None:
    case_id = api.wait_status(api.submit(case_id="EXC-D1"))["case_id"]
    url = f"/v1/exceptions/{case_id}/repaired-message"
    assert api.client.get(url, headers=api.h["analyst"]).status_code == 404  # not applied yet
    assert api.decide(case_id, "approver", "approve").status_code == 200
    response = api.client.get(url, headers=api.h["analyst"])
    assert response.status_code == 200
    assert response.text == ":20:REPAIRED"
    assert response.headers["content-disposition"] == f'attachment; filename="{case_id}-mt103.fin"'
    assert api.client.get(url, params={"format": "xml"}, headers=api.h["analyst"]).status_code == 422


def test_openapi_has_the_bearer_scheme_typed_routes_and_local_docs(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    paths = spec["paths"]
    assert paths["/v1/exceptions/{case_id}"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/healthz"]["get"]
    for path, method, schema in (
        ("/v1/exceptions/{case_id}", "get", "CaseOut"),
        ("/v1/exceptions/{case_id}/decision", "post", "CaseOut"),
        ("/v1/exceptions/{case_id}/audit", "get", "AuditTrail"),
        ("/v1/exceptions/bulk-approve", "post", "BulkApproveOut"),
    ):
        ref = paths[path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith(f"/{schema}"), (path, ref)
    assert "examples" in spec["components"]["schemas"]["CaseOut"]
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = api.client.get(page).text
        assert f"/static-offline-docs/{asset}" in html and "cdn" not in html.lower()
        served = api.client.get(f"/static-offline-docs/{asset}")
        assert served.status_code == 200 and len(served.content) > 100_000


def test_typed_case_view_keeps_every_field(api: Api) -> None:
    case_id = api.wait_status(api.submit(case_id="EXC-V1"))["case_id"]
    view = api.view(case_id)
    # CaseOut declares the contract's fields and passes the others through (nothing is dropped)
    assert view["proposal_version"] == 1 and view["proposal_source"] == "agent"
    assert view["changes"][0]["evidence"] == ["ssi:C-1042:1"]
    assert view["guard"] == {"passed": True, "violations": []}


def test_api_queue_carries_the_desk_columns_and_filters_on_them(api: Api) -> None:
    euro = api.submit(case_id="EXC-QA1", payment=PAYMENT)
    dollar = api.submit(case_id="EXC-QA2", payment=PAYMENT | {"currency": "USD"})
    api.wait_status(euro)
    api.wait_status(dollar)
    api.client.post(f"/v1/exceptions/{dollar}/assign", json={"assignee": "me"}, headers=api.h["analyst"])
    items = {i["case_id"]: i for i in api.queue()["items"]}
    assert items[euro] | {"age_seconds": 0, "created_at": "", "updated_at": ""} == {
        "case_id": euro,
        "status": "pending_review",
        "exception_code": "AC01",
        "action": "repair",
        "confidence": 0.93,
        "customer_id": None,
        "created_at": "",
        "updated_at": "",
        "age_seconds": 0,
        "amount": 2500.0,
        "currency": "EUR",
        "beneficiary": "Acme Widgets GmbH",
        "value_date": "2026-12-04",
        "assignee": None,
        "straight_through": False,
        "qa_status": None,
    }
    assert [i["case_id"] for i in api.queue(currency="usd")["items"]] == [dollar]
    assert [i["case_id"] for i in api.queue(assignee="me")["items"]] == [dollar]
    assert [i["case_id"] for i in api.queue(role="approver", assignee="me")["items"]] == []
    assert [i["case_id"] for i in api.queue(assignee="none")["items"]] == [euro]
    assert [i["case_id"] for i in api.queue(assignee="ana", currency="USD")["items"]] == [dollar]
    bad = api.client.get("/v1/exceptions", params={"currency": "EURO"}, headers=api.h["analyst"])
    assert bad.status_code == 422
