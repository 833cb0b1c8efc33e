"""API: submission, triage in the background, roles per route, maker-checker, idempotency, pagination."""

from __future__ import annotations

from tests.agents.fixtures import mt103
from tests.app.conftest import Api, StubTriage


def test_submit_is_202_and_background_triage_stores_the_proposal(api: Api, stub_triage: StubTriage) -> None:
    response = api.client.post(
        "/v1/exceptions",
        json={
            "case_id": "EXC-T1",
            "exception_code": "ac01",
            "message": mt103(ref="R"),
            "customer_id": "C-1042",
        },
        headers=api.h["service"],
    )
    assert response.status_code == 202
    assert response.json()["case_id"] == "EXC-T1"
    assert response.headers["location"] == "/v1/exceptions/EXC-T1"
    view = api.wait_status("EXC-T1")
    assert view["exception_code"] == "AC01"
    assert view["action"] == "repair"
    assert view["changes"][0]["new"] == "DE89370400440532013000"
    assert view["guard"] == {"passed": True, "violations": []}
    assert view["citations"] == [
        {"doc_id": "SOP-AC01", "section": "3.3", "row": 2},
        {"doc_id": "SOP-AC01", "section": "3"},
    ]
    assert stub_triage.started == ["EXC-T1"]


def test_submit_roles(api: Api) -> None:
    for role, expected in (("service", 202), ("analyst", 202), ("approver", 403), ("admin", 403)):
        response = api.client.post(
            "/v1/exceptions", json={"exception_code": "AC01", "message": mt103(ref="X")}, headers=api.h[role]
        )
        assert response.status_code == expected, (role, response.text)
        if expected == 403:
            assert response.json()["error"]["code"] == "forbidden"


def test_read_routes_are_open_to_every_role_and_closed_without_a_token(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    for role in ("service", "analyst", "approver", "admin"):
        for path in ("/v1/exceptions", f"/v1/exceptions/{case_id}", f"/v1/exceptions/{case_id}/audit"):
            assert api.client.get(path, headers=api.h[role]).status_code == 200, (role, path)
    for path in (
        "/v1/exceptions",
        f"/v1/exceptions/{case_id}",
        f"/v1/exceptions/{case_id}/audit",
        "/v1/search?q=x",
    ):
        response = api.client.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    bad = api.client.get("/v1/exceptions", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_decision_roles(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    url = f"/v1/exceptions/{case_id}/decision"
    edit = [{"field": "payment.creditor.name", "new": "ACME GmbH"}]
    refused = [("analyst", "approve"), ("analyst", "reject"), ("service", "approve"), ("admin", "approve")]
    refused += [("service", "edit"), ("admin", "reject")]
    for role, decision in refused:
        body = {"decision": decision, "comment": "checked"} | (
            {"changes": edit} if decision == "edit" else {}
        )
        response = api.client.post(url, json=body, headers=api.h[role])
        assert response.status_code == 403, (role, decision, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert (
        api.client.get(f"/v1/exceptions/{case_id}", headers=api.h["service"]).json()["status"]
        == "pending_review"
    )
    response = api.client.post(url, json={"decision": "reject", "comment": "no"}, headers=api.h["approver"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"


def test_edit_by_analyst_then_approve_by_an_approver(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    edited = [{"field": "payment.creditor.name", "old": "ACME", "new": "ACME GmbH", "evidence": []}]
    response = api.client.post(
        f"/v1/exceptions/{case_id}/decision",
        json={"decision": "edit", "changes": edited, "comment": "name from the customer record"},
        headers=api.h["analyst"],
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "pending_review"
    assert view["changes"] == edited
    assert view["edited_by"] == "ana"
    assert view["proposal_version"] == 2
    # the edit carries its own guard verdict and rationale, not the agent's
    assert view["guard"]["checked"] == "edit" and view["guard"]["passed"] is True
    assert "confidence" not in view and view["rationale"].startswith("Edited by ana")
    approved = api.client.post(
        f"/v1/exceptions/{case_id}/decision", json={"decision": "approve"}, headers=api.h["approver"]
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "applied"
    assert approved.json()["final_changes"] == edited


def test_maker_checker_refuses_the_editor(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    edited = [{"field": "payment.creditor.name", "new": "ACME GmbH"}]
    assert (
        api.client.post(
            f"/v1/exceptions/{case_id}/decision",
            json={"decision": "edit", "changes": edited},
            headers=api.h["approver"],
        ).status_code
        == 200
    )
    own = api.client.post(
        f"/v1/exceptions/{case_id}/decision", json={"decision": "approve"}, headers=api.h["approver"]
    )
    assert own.status_code == 403
    assert "maker-checker" in own.json()["error"]["message"]
    other = api.client.post(
        f"/v1/exceptions/{case_id}/decision", json={"decision": "approve"}, headers=api.h["approver2"]
    )
    assert other.status_code == 200
    assert api.client.get(f"/v1/exceptions/{case_id}", headers=api.h["service"]).json()["status"] == "applied"


def test_maker_checker_refuses_the_submitter(api: Api) -> None:
    case_id = api.submit(role="alice-analyst")  # alice submits with her analyst token ...
    api.wait_status(case_id)
    response = api.client.post(  # ... and may not approve it with her approver token
        f"/v1/exceptions/{case_id}/decision", json={"decision": "approve"}, headers=api.h["approver"]
    )
    assert response.status_code == 403
    assert (
        api.client.get(f"/v1/exceptions/{case_id}", headers=api.h["service"]).json()["status"]
        == "pending_review"
    )


def test_decided_case_takes_no_second_decision(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    url = f"/v1/exceptions/{case_id}/decision"
    assert api.client.post(url, json={"decision": "approve"}, headers=api.h["approver"]).status_code == 200
    again = api.client.post(url, json={"decision": "reject"}, headers=api.h["approver2"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


def test_approve_with_different_changes_is_refused(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    body = {"decision": "approve", "changes": [{"field": "payment.amount", "new": "1"}]}
    response = api.client.post(f"/v1/exceptions/{case_id}/decision", json=body, headers=api.h["approver"])
    assert response.status_code == 422


def test_idempotency_key_returns_the_same_case(api: Api) -> None:
    body = {"exception_code": "AM05", "message": mt103(ref="DUP")}
    headers = api.h["service"] | {"Idempotency-Key": "wf-123"}
    first = api.client.post("/v1/exceptions", json=body, headers=headers)
    second = api.client.post("/v1/exceptions", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["case_id"] == second.json()["case_id"]
    page = api.client.get("/v1/exceptions", headers=api.h["service"]).json()
    assert [item["case_id"] for item in page["items"]] == [first.json()["case_id"]]
    changed = api.client.post("/v1/exceptions", json=body | {"notes": "other"}, headers=headers)
    assert changed.status_code == 409
    assert "Idempotency-Key" in changed.json()["error"]["message"]


def test_client_case_id_reused_with_another_body_is_409(api: Api) -> None:
    api.submit(case_id="EXC-SAME")
    same = api.client.post(
        "/v1/exceptions",
        json={"case_id": "EXC-SAME", "exception_code": "AC01", "message": mt103(ref="REF1", amount="100,00")},
        headers=api.h["service"],
    )
    assert same.status_code == 202 and same.json()["case_id"] == "EXC-SAME"
    other = api.client.post(
        "/v1/exceptions",
        json={"case_id": "EXC-SAME", "exception_code": "AC04", "message": "x"},
        headers=api.h["service"],
    )
    assert other.status_code == 409


def test_pagination_walks_every_case_once_in_order(api: Api) -> None:
    ids = [api.submit(case_id=f"EXC-P{n}", exception_code="AC01" if n % 2 else "RC01") for n in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = api.queue(limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [item["case_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3
    rc01 = api.client.get("/v1/exceptions", params={"code": "rc01"}, headers=api.h["analyst"]).json()
    assert [item["case_id"] for item in rc01["items"]] == [i for n, i in enumerate(ids) if n % 2 == 0]


def test_status_filter(api: Api) -> None:
    first = api.submit()
    api.wait_status(first)
    api.client.post(
        f"/v1/exceptions/{first}/decision", json={"decision": "reject"}, headers=api.h["approver"]
    )
    second = api.submit()
    api.wait_status(second)
    rejected = api.client.get(
        "/v1/exceptions", params={"status": "rejected"}, headers=api.h["analyst"]
    ).json()
    assert [i["case_id"] for i in rejected["items"]] == [first]
    pending = api.client.get(
        "/v1/exceptions", params={"status": "pending_review"}, headers=api.h["analyst"]
    ).json()
    assert [i["case_id"] for i in pending["items"]] == [second]
