"""Persistent queue across restarts and the audit hash chain (and tampering)."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from app.cli.main import cli
from app.db.models import AuditEvent, AuditHead, Job
from app.jobs.queue import HOST, claim
from app.services.audit import verify_chain, verify_events
from tests.agents.fixtures import mt103
from tests.app.conftest import Api, StubTriage, add_tokens


def test_restart_with_jobs_pending_loses_none(make_app: Callable[..., FastAPI]) -> None:
    gate = threading.Event()  # the first "process" never finishes a triage
    try:
        first = make_app(StubTriage(gate), workers=0)
        with TestClient(first) as client:
            headers = add_tokens(first)
            ids = [
                client.post(
                    "/v1/exceptions",
                    json={"exception_code": "AC01", "message": mt103(ref=f"R{n}")},
                    headers=headers["service"],
                ).json()["case_id"]
                for n in range(4)
            ]
            # A worker of a process that then died took the first job: its pid no longer exists.
            with first.state.services.db.session() as session:
                claimed = claim(session, f"{HOST}:{2**22 + 12345}:gone", lease_seconds=3600)
            assert claimed is not None and claimed.case_id == ids[0]
        gate.set()
        stub = StubTriage()
        second = make_app(stub, workers=2)
        with TestClient(second) as client:
            api = Api(second, client, add_tokens(second))
            for case_id in ids:
                assert api.wait_status(case_id)["action"] == "repair"
            # A job is marked done just after its proposal is stored: wait for the last one.
            deadline = time.monotonic() + 10
            while True:
                with second.state.services.db.session() as session:
                    jobs = session.execute(select(Job.case_id, Job.status)).all()
                if all(status == "done" for _, status in jobs) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert sorted(jobs) == sorted((case_id, "done") for case_id in ids)
            assert sorted(stub.started) == sorted(ids)
    finally:
        gate.set()


def test_an_expired_lease_is_claimed_again_and_a_live_one_is_not(api: Api) -> None:
    api.app.state.services.pool.stop()  # claim by hand
    case_id = api.submit()
    db = api.app.state.services.db
    with db.session() as session:
        first = claim(session, f"{HOST}:{os.getpid()}:other-live", lease_seconds=3600)
        assert first is not None and first.case_id == case_id
        assert claim(session, "elsewhere:1:x", lease_seconds=60) is None  # held, lease running
        session.execute(update(Job).where(Job.id == first.id).values(lease_until=Job.started_at))
        session.commit()
        again = claim(session, "elsewhere:1:x", lease_seconds=60)
    assert again is not None and again.id == first.id and again.attempts == 2


def test_failing_triage_is_retried_then_marks_the_case_failed(make_app: Callable[..., FastAPI]) -> None:
    class Broken(StubTriage):
        def start(self, case: dict[str, object], thread_id: str) -> dict[str, object]:
            self.started.append(thread_id)
            raise RuntimeError("model endpoint down")

    broken = Broken()
    app = make_app(broken, job_max_attempts=2)
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        case_id = api.submit()
        view = api.wait_status(case_id, "failed")
        assert "model endpoint down" in view["error"]
        assert broken.started == [case_id, case_id]


def test_audit_trail_is_chained_and_tampering_is_detected(api: Api, db_url: str) -> None:
    case_id = api.submit()
    api.wait_status(case_id)
    assert api.decide(case_id, "approver", "approve", comment="ok").status_code == 200
    events = api.client.get(f"/v1/exceptions/{case_id}/audit", headers=api.h["analyst"]).json()["events"]
    assert [e["event"] for e in events] == [
        "case_created",
        "triage_started",
        "proposed",
        "decision_approve",
        "decision_applied",
    ]
    assert events[-2]["actor"] == "alice" and events[-2]["data"]["comment"] == "ok"
    assert events[-1]["data"]["status"] == "applied"
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"]
    db = api.app.state.services.db
    with db.session() as session:
        assert verify_chain(session).ok

    runner = CliRunner()
    env = {"DATABASE_URL": db_url, "REPAIRDESK_DATA_DIR": str(api.app.state.services.settings.data_dir)}
    ok = runner.invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "5 events" in ok.output

    tampered_seq = events[2]["seq"]
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET data = :d WHERE seq = :s"),
            {"d": json.dumps({"action": "no_action"}), "s": tampered_seq},
        )
    with db.session() as session:
        report = verify_chain(session)
    assert report.first_bad_seq == tampered_seq
    broken = runner.invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert f"seq {tampered_seq}" in broken.output


def test_deleting_the_last_event_is_detected(api: Api) -> None:
    api.submit()
    db = api.app.state.services.db
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)"))
    with db.session() as session:
        assert not verify_chain(session).ok


def test_events_appended_while_verifying_are_not_taken_for_tampering(api: Api) -> None:
    # `repairdesk audit verify` on a live service: the head is read, then events keep being appended
    db = api.app.state.services.db
    api.submit()
    with db.session() as session:
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    api.submit()
    with db.session() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert len(events) > head.seq
    keys = [db.audit_key]
    assert verify_events(events, head=(head.seq, head.hash), keys=keys).ok
    # ...but a head that is not on the chain still fails
    assert not verify_events(events, head=(head.seq, "f" * 64), keys=keys).ok
    assert not verify_events(events[: head.seq - 1], head=(head.seq, head.hash), keys=keys).ok


def test_a_running_job_keeps_its_lease(make_app: Callable[..., FastAPI]) -> None:
    gate = threading.Event()
    try:
        app = make_app(StubTriage(gate), job_lease_seconds=0.6)
        with TestClient(app) as client:
            api = Api(app, client, add_tokens(app))
            case_id = api.submit()
            db = app.state.services.db
            time.sleep(1.5)  # well past the first lease: the heartbeat must have renewed it
            with db.session() as session:
                assert claim(session, "elsewhere:1:x", lease_seconds=60) is None
                job = session.execute(select(Job).where(Job.case_id == case_id)).scalar_one()
                assert job.status == "running" and job.attempts == 1
            gate.set()
            api.wait_status(case_id)
    finally:
        gate.set()
