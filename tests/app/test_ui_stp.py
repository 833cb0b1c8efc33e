"""Straight-through processing in the UI: STP and QA marks in the queue and on the case page, the QA
form, and the STP page whose kill switch only an admin can use (audited)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import AuditEvent
from app.jobs.triage import TriageRunners
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import Api, StubTriage, add_tokens
from tests.app.test_stp import _triaged, install_policy
from tests.app.test_ui import sign_in


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """UI rendering does not depend on the database kind (the API tests cover both)."""
    target = tmp_path / "repairdesk.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def stp_api(make_settings: Callable[..., Settings], stub_triage: StubTriage) -> Iterator[Api]:
    settings = make_settings(stp_enabled=True, stp_max_amount=1000.0, stp_qa_share=1.0)
    app = create_app(settings, configure_logs=False, runners=TriageRunners.fixed(stub_triage))
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        install_policy(app.state.services.db)
        yield api


def test_the_queue_and_case_page_mark_straight_through_cases_and_take_qa(stp_api: Api) -> None:
    api = stp_api
    case_id = api.submit(case_id="EXC-UI-STP")
    api.wait_status(case_id, "applied")
    csrf = sign_in(api, "analyst")
    queue = api.client.get("/ui").text
    assert 'data-testid="stp-badge"' in queue and "QA pending" in queue
    assert 'href="/ui?qa=pending"' in queue
    assert "EXC-UI-STP" in api.client.get("/ui", params={"qa": "pending"}).text
    assert "EXC-UI-STP" not in api.client.get("/ui", params={"qa": "agreed"}).text
    assert "Unknown straight-through filter" in api.client.get("/ui", params={"qa": "bogus"}).text

    page = api.client.get(f"/ui/cases/{case_id}").text
    assert 'data-testid="stp"' in page and "system:stp" in page and "policy v1" in page
    assert 'data-testid="qa-form"' in page
    form = {"csrf_token": csrf, "verdict": "disagree", "correct_action": "", "comment": ""}
    refused = api.client.post(f"/ui/cases/{case_id}/qa", data=form)
    assert refused.status_code == 400 and "correct action" in refused.text
    form |= {"correct_action": "return", "reason_code": "duplicate"}
    done = api.client.post(f"/ui/cases/{case_id}/qa", data=form, follow_redirects=False)
    assert done.status_code == 303
    page = api.client.get(done.headers["location"]).text
    assert "QA disagreed" in page and 'data-testid="qa-form"' not in page


def test_only_an_admin_sees_and_uses_the_kill_switch(stp_api: Api) -> None:
    api = stp_api
    csrf = sign_in(api, "approver")
    page = api.client.get("/ui/stp").text
    assert 'data-testid="policy"' in page and 'data-testid="kill-switch-form"' not in page
    refused = api.client.post("/ui/stp/kill-switch", data={"csrf_token": csrf, "engaged": "1", "reason": "x"})
    assert refused.status_code == 403 and "admin" in refused.text
    assert api.client.get("/v1/stp", headers=api.h["analyst"]).json()["kill_switch"]["engaged"] is False

    api.client.post("/ui/logout", data={"csrf_token": csrf})
    csrf = sign_in(api, "admin")
    assert 'data-testid="stp-admin"' in api.client.get("/ui").text
    page = api.client.get("/ui/stp").text
    assert 'data-testid="engage"' in page
    done = api.client.post(
        "/ui/stp/kill-switch", data={"csrf_token": csrf, "engaged": "1", "reason": "bad AC01 repairs"}
    )
    assert done.status_code == 200 and 'data-testid="release"' in done.text
    assert api.client.get("/v1/stp", headers=api.h["analyst"]).json()["kill_switch"]["engaged"] is True
    with api.app.state.services.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event == "stp_kill_switch")).one()
        assert event.actor == "root" and event.data["reason"] == "bad AC01 repairs"
    case_id = api.submit(case_id="EXC-UI-KILLED")
    _triaged(api.app.state.services.db, case_id)
    assert api.view(case_id)["status"] == "pending_review"
