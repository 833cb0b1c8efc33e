"""Decisions: proposal versions (ETag / If-Match, 409 when stale), maker-checker by content, edits
re-validated and re-guarded, analyst-asserted values with two approvers, reject reasons, a decision
left half-applied by a crash finished at start-up, idempotency keys per client."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.schemas import DecisionIn
from app.db.models import Case, Decision, Job, Proposal
from app.services.decisions import record_decision
from tests.agents.fixtures import mt103
from tests.app.conftest import Api, StubTriage, add_tokens

IBAN = "payment.creditor.account.iban"


def _counts(api: Api, case_id: str) -> tuple[int, int]:
    with api.app.state.services.db.session() as session:
        proposals = session.scalar(
            select(func.count()).select_from(Proposal).where(Proposal.case_id == case_id)
        )
        decisions = session.scalar(
            select(func.count()).select_from(Decision).where(Decision.case_id == case_id)
        )
    return int(proposals or 0), int(decisions or 0)


def test_get_returns_the_version_as_etag_and_a_stale_decision_changes_nothing(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    got = api.client.get(f"/v1/exceptions/{case_id}", headers=api.h["approver"])
    assert got.headers["etag"] == '"v1"' and got.json()["proposal_version"] == 1
    edit = [{"field": "payment.creditor.name", "new": "ACME GmbH"}]
    edited = api.decide(case_id, "analyst", "edit", changes=edit, proposal_version=1)
    assert edited.status_code == 200 and edited.headers["etag"] == '"v2"'
    # the approver still looks at version 1: both ways of naming it are refused, nothing changes
    before = _counts(api, case_id)
    stale = api.client.post(
        f"/v1/exceptions/{case_id}/decision",
        json={"decision": "approve"},
        headers=api.h["approver"] | {"If-Match": '"v1"'},
    )
    assert stale.status_code == 409, stale.text
    assert "version 1" in stale.json()["error"]["message"]
    assert api.decide(case_id, "approver", "approve", proposal_version=1).status_code == 409
    assert _counts(api, case_id) == before
    assert api.view(case_id)["status"] == "pending_review"
    bad = api.client.post(
        f"/v1/exceptions/{case_id}/decision",
        json={"decision": "approve"},
        headers=api.h["approver"] | {"If-Match": "yesterday"},
    )
    assert bad.status_code == 422
    ok = api.client.post(
        f"/v1/exceptions/{case_id}/decision",
        json={"decision": "approve"},
        headers=api.h["approver"] | {"If-Match": '"v2"'},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "applied"
    assert ok.json()["final_changes"][0]["new"] == "ACME GmbH"  # the edit, not the old proposal


def test_the_author_of_an_identical_resubmitted_edit_cannot_approve(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    edit = [{"field": "payment.creditor.name", "new": "ACME GmbH"}]
    assert api.decide(case_id, "alice-analyst", "edit", changes=edit).status_code == 200  # alice edits
    assert api.decide(case_id, "analyst", "edit", changes=edit).status_code == 200  # ana re-submits it
    refused = api.decide(case_id, "approver", "approve")  # alice, now as approver
    assert refused.status_code == 403
    assert "maker-checker" in refused.json()["error"]["message"]
    assert api.decide(case_id, "approver2", "approve").status_code == 200


def test_an_edit_that_fails_validation_is_refused_naming_the_field_and_nothing_is_stored(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    before = _counts(api, case_id)
    cases = [
        (
            [{"field": IBAN, "new": "DE89370400440532013001"}],
            "changes[0].payment.creditor.account.iban",
            "IBAN",
        ),
        (
            [{"field": "payment.creditor_agent.bic", "new": "NOTABIC!"}],
            "changes[0].payment.creditor_agent.bic",
            "BIC",
        ),
        ([{"field": "payment.currency", "new": "EUX"}], "changes[0].payment.currency", "ISO 4217"),
        (
            [{"field": "payment.creditor.shoe_size", "new": "44"}],
            "changes[0].payment.creditor.shoe_size",
            "not a field",
        ),
    ]
    for changes, source, reason in cases:
        response = api.decide(case_id, "analyst", "edit", changes=changes)
        assert response.status_code == 422, response.text
        message = response.json()["error"]["message"]
        assert source in message and reason in message, message
    assert _counts(api, case_id) == before


def test_a_forged_evidence_id_fails_the_edits_own_guard_and_cannot_be_approved(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    forged = [{"field": IBAN, "new": "DE44500105175407324931", "evidence": ["ssi:C-0000:9"]}]
    edited = api.decide(case_id, "analyst", "edit", changes=forged, comment="per phone call")
    assert edited.status_code == 200, edited.text
    view = edited.json()
    assert view["guard"]["passed"] is False and view["guard"]["checked"] == "edit"
    assert "ssi:C-0000:9" in view["guard"]["violations"][0]["message"]
    assert "confidence" not in view and "Planner" not in view["rationale"]
    refused = api.decide(case_id, "approver", "approve")
    assert refused.status_code == 422
    assert "guard failed" in refused.json()["error"]["message"]
    assert api.view(case_id)["status"] == "pending_review"
    # an account change with no evidence at all is not the analyst's word alone either
    unsourced = api.decide(
        case_id, "analyst", "edit", changes=[{"field": IBAN, "new": "DE44500105175407324931"}]
    )
    assert unsourced.json()["guard"]["passed"] is False


def test_analyst_asserted_content_needs_two_different_approvers(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    asserted = [{"field": IBAN, "new": "DE44500105175407324931", "evidence": ["analyst-asserted"]}]
    view = api.decide(case_id, "analyst", "edit", changes=asserted).json()
    assert view["guard"]["passed"] is True and view["guard"]["second_approver_required"] is True
    first = api.decide(case_id, "approver", "approve")
    assert first.status_code == 200 and first.json()["status"] == "pending_review"
    again = api.decide(case_id, "approver", "approve")
    assert again.status_code == 403 and "second" in again.json()["error"]["message"]
    second = api.decide(case_id, "approver2", "approve")
    assert second.status_code == 200 and second.json()["status"] == "applied"


def test_a_reject_stores_its_reason_code_and_correct_action(api: Api) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    response = api.decide(
        case_id, "approver", "reject", reason_code="AC04", correct_action="return", comment="closed"
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    with api.app.state.services.db.session() as session:
        row = session.scalars(select(Decision).where(Decision.case_id == case_id)).one()
    assert (row.reason_code, row.correct_action, row.state) == ("AC04", "return", "applied")
    events = api.client.get(f"/v1/exceptions/{case_id}/audit", headers=api.h["analyst"]).json()["events"]
    assert events[-2]["data"]["reason_code"] == "AC04" and events[-1]["event"] == "decision_applied"


def test_a_decision_recorded_before_a_crash_is_applied_once_at_start_up(
    make_app: Callable[..., FastAPI], stub_triage: StubTriage
) -> None:
    first = make_app()
    with TestClient(first) as client:
        api = Api(first, client, add_tokens(first))
        case_id = api.submit()
        api.wait_status(case_id)
        services = first.state.services
        # The process dies: its workers are gone before the continuation can run. Without this, an
        # idle worker's 0.5 s poll could claim the decision job before the status is read (seen once
        # in a full run under load).
        assert services.pool is not None
        services.pool.stop()
        # the request's transaction committed, then the process died before the continuation ran
        with services.db.session() as session:
            record_decision(
                session,
                services.store,
                stub_triage,
                case_id,
                DecisionIn(decision="reject"),
                user="alice",
                role="approver",
            )
        assert api.view(case_id)["status"] == "pending_review"
        assert api.decide(case_id, "approver2", "approve").status_code == 409  # no second decision meanwhile
    second = make_app(workers=0)
    with TestClient(second) as client:  # start-up recovery applies it
        api = Api(second, client, add_tokens(second))
        assert api.view(case_id)["status"] == "rejected"
        with second.state.services.db.session() as session:
            jobs = session.execute(select(Job.kind, Job.status).where(Job.case_id == case_id)).all()
            states = session.scalars(select(Decision.state).where(Decision.case_id == case_id)).all()
        assert ("decision", "done") in jobs and states == ["applied"]
    assert list(stub_triage.resumed) == [case_id]


def test_idempotency_keys_belong_to_the_client(api: Api) -> None:
    body = {"exception_code": "AC01", "message": mt103(ref="REF1")}
    key = {"Idempotency-Key": "same-key"}
    mine = api.client.post("/v1/exceptions", json=body, headers=api.h["service"] | key)
    theirs = api.client.post("/v1/exceptions", json=body | {"notes": "other"}, headers=api.h["analyst"] | key)
    assert mine.status_code == theirs.status_code == 202
    assert mine.json()["case_id"] != theirs.json()["case_id"]
    replay = api.client.post("/v1/exceptions", json=body, headers=api.h["service"] | key)
    assert replay.json()["case_id"] == mine.json()["case_id"]
    # another client's case id: a 409 that names nothing of theirs
    taken = api.client.post(
        "/v1/exceptions", json=body | {"case_id": mine.json()["case_id"]}, headers=api.h["analyst"]
    )
    assert taken.status_code == 409
    assert mine.json()["case_id"] not in taken.text
    with api.app.state.services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 2
