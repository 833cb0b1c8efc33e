"""Straight-through processing end to end: auto-apply after triage on the API's worker pool and in a
Celery worker, never when the guard failed, over the amount limit, with the kill switch on, under the
policy's threshold or with STP off; the admin-only, audited kill switch; QA of applied cases becoming
labels; ``straight_through`` on every proposal and in the queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli.main import cli
from app.db.models import AuditEvent, Case, Decision, Job, StpApplication
from app.db.session import Database
from app.jobs import celery_app
from app.jobs.triage import TriageRunners
from app.main import create_app
from app.services.audit_state import verify_state
from app.services.corrections import decision_record, labelled_records
from app.services.stp import SYSTEM_MAKER, StpOptions, build_policy, decision_points, store_policy, verdict
from app.services.stp_apply import qa_sampled
from app.settings import Settings, get_settings
from tests.app.conftest import Api, StubTriage, add_tokens, celery_context

GOOD = {"passed": True, "violations": []}


def install_policy(db: Database, *, confidence: float = 0.9, code: str = "AC01", n: int = 400) -> None:
    """A policy whose only eligible key is ``code``/repair at ``confidence`` (``n`` clean decisions)."""
    points = [{"exception_code": code, "action": "repair", "confidence": confidence, "wrong": False}] * n
    policy = build_policy(points, target=0.01, min_count=300, source={"kind": "test"})
    with db.session() as session:
        store_policy(session, policy, actor="test")
        session.commit()


class ProposalStub:
    """The conftest's stub triage, with per-case changes to what it proposes (set before submitting)."""

    def __init__(self, stub: StubTriage) -> None:
        self.stub = stub
        self.overrides: dict[str, dict[str, Any]] = {}
        start = stub.start

        def start_with_overrides(case: dict[str, Any], thread_id: str) -> dict[str, Any]:
            return start(case, thread_id) | self.overrides.get(case["case_id"], {})

        stub.start = start_with_overrides  # type: ignore[method-assign]


@pytest.fixture
def proposals(stub_triage: StubTriage) -> ProposalStub:
    return ProposalStub(stub_triage)


STP_ON = {"stp_enabled": True, "stp_max_amount": 1000.0, "stp_qa_share": 0.0}
# Each scenario: settings, proposal overrides, kill switch, and whether it may go straight through.
SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any], bool, bool]] = {
    "eligible": (STP_ON, {}, False, True),
    "guard failed": (
        STP_ON,
        {
            "guard": {
                "passed": False,
                "violations": [{"code": "untrusted_source", "message": "untrusted value"}],
            }
        },
        False,
        False,
    ),
    "over the limit": (STP_ON | {"stp_max_amount": 50.0}, {}, False, False),
    "over the currency's limit": (STP_ON | {"stp_max_amounts": {"EUR": 99.0}}, {}, False, False),
    "kill switch on": (STP_ON, {}, True, False),
    "under the threshold": (STP_ON, {"confidence": 0.85}, False, False),
    "STP off": (STP_ON | {"stp_enabled": False}, {}, False, False),
}


def _engage(api: Api, engaged: bool = True) -> None:
    response = api.client.post(
        "/v1/stp/kill-switch", json={"engaged": engaged, "reason": "test"}, headers=api.h["admin"]
    )
    assert response.status_code == 200, response.text


def _events(db: Database, case_id: str | None = None, event: str | None = None) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if case_id is not None:
            query = query.where(AuditEvent.case_id == case_id)
        if event is not None:
            query = query.where(AuditEvent.event == event)
        return list(session.scalars(query))


def _triaged(db: Database, case_id: str, timeout: float = 15) -> None:
    """Wait for the case's triage job to finish (it finishes after the straight-through step)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as session:
            status = session.scalar(select(Job.status).where(Job.case_id == case_id, Job.kind == "triage"))
        if status == "done":
            return
        time.sleep(0.05)
    raise AssertionError(f"the triage job of {case_id} did not finish")


def _check_outcome(api: Api, case_id: str, applied: bool, stp_enabled: bool) -> dict[str, Any]:
    db: Database = api.app.state.services.db
    _triaged(db, case_id)
    view = api.wait_status(case_id, "applied" if applied else "pending_review")
    assert view["straight_through"] is applied
    users = [d["user"] for d in view["decisions"]]
    assert users == ([SYSTEM_MAKER] if applied else [])
    events = [e.event for e in _events(db, case_id)]
    if applied:
        approve = next(e for e in _events(db, case_id, "decision_approve"))
        assert approve.actor == SYSTEM_MAKER and approve.data["straight_through"] is True
        assert approve.data["policy_version"] == 1 and approve.data["threshold"] == 0.9
        assert "decision_applied" in events and view["final_changes"]
        assert view["stp"]["policy_version"] == 1
    else:
        assert "decision_approve" not in events
        declined = _events(db, case_id, "stp_declined")
        assert len(declined) == (1 if stp_enabled else 0)  # off: STP says nothing at all
    return view


# The rule's other reasons (four-eyes, hand-over actions, per-currency limits) are the unit test's below.
API_SCENARIOS = [
    "eligible",
    "guard failed",
    "over the limit",
    "kill switch on",
    "under the threshold",
    "STP off",
]


@pytest.mark.parametrize("scenario", API_SCENARIOS)
def test_the_api_path_applies_only_what_the_rule_allows(
    scenario: str, make_settings: Callable[..., Settings], proposals: ProposalStub, stub_triage: StubTriage
) -> None:
    settings, overrides, kill, applied = SCENARIOS[scenario]
    app = create_app(
        make_settings(**settings), configure_logs=False, runners=TriageRunners.fixed(stub_triage)
    )
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        install_policy(app.state.services.db)
        if kill:
            _engage(api)
        proposals.overrides["EXC-STP-API"] = overrides
        case_id = api.submit(case_id="EXC-STP-API")
        _check_outcome(api, case_id, applied, settings["stp_enabled"])
        queued = api.queue()["items"]
        assert [(i["case_id"], i["straight_through"]) for i in queued] == [(case_id, applied)]


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Settings], None]]:
    """Point a Celery worker context built in this process at ``settings`` (through the environment)."""

    def point(settings: Settings) -> None:
        env = {
            "DATABASE_URL": settings.database_url,
            "REPAIRDESK_DATA_DIR": str(settings.data_dir),
            "REPAIRDESK_STP_ENABLED": str(settings.stp_enabled).lower(),
            "REPAIRDESK_STP_MAX_AMOUNT": str(settings.stp_max_amount),
            "REPAIRDESK_STP_MAX_AMOUNTS": json.dumps(settings.stp_max_amounts),
            "REPAIRDESK_STP_QA_SHARE": str(settings.stp_qa_share),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    yield point


@pytest.mark.parametrize(
    "scenario",
    [
        "eligible",
        "guard failed",
        "over the limit",
        "over the currency's limit",
        "kill switch on",
        "under the threshold",
    ],
)
def test_the_worker_path_applies_only_what_the_rule_allows(
    scenario: str,
    make_settings: Callable[..., Settings],
    proposals: ProposalStub,
    worker_env: Callable[[Settings], None],
    stub_triage: StubTriage,
) -> None:
    settings_values, overrides, kill, applied = SCENARIOS[scenario]
    settings = make_settings(workers=0, **settings_values)  # an API-only process: Celery runs the jobs
    app = create_app(settings, configure_logs=False, runners=TriageRunners.fixed(stub_triage))
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        db: Database = app.state.services.db
        install_policy(db)
        if kill:
            _engage(api)
        proposals.overrides["EXC-STP-CELERY"] = overrides
        case_id = api.submit(case_id="EXC-STP-CELERY")
        with db.session() as session:
            job_id = session.scalar(select(Job.id).where(Job.case_id == case_id, Job.kind == "triage"))
        worker_env(settings)
        delivery: Any = SimpleNamespace(request=SimpleNamespace(retries=0))
        assert (
            celery_app.handle_triage(delivery, case_id, int(job_id or 0), celery_context(stub_triage))
            == "done"
        )
        _check_outcome(api, case_id, applied, True)


def test_the_kill_switch_is_admin_only_audited_and_stops_the_next_case(
    make_settings: Callable[..., Settings], proposals: ProposalStub, stub_triage: StubTriage
) -> None:
    app = create_app(make_settings(**STP_ON), configure_logs=False, runners=TriageRunners.fixed(stub_triage))
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        db: Database = app.state.services.db
        install_policy(db)
        for role in ("analyst", "approver", "service"):
            refused = client.post(
                "/v1/stp/kill-switch", json={"engaged": True, "reason": "x"}, headers=api.h[role]
            )
            assert refused.status_code == 403, role
        assert client.get("/v1/stp", headers=api.h["analyst"]).json()["kill_switch"]["engaged"] is False
        assert _events(db, event="stp_kill_switch") == []
        first = api.submit(case_id="EXC-STP-BEFORE")
        api.wait_status(first, "applied")

        _engage(api)
        state = client.get("/v1/stp", headers=api.h["analyst"]).json()
        assert state["kill_switch"]["engaged"] is True and state["active"] is False
        assert state["kill_switch"]["changed_by"] == "root"
        (event,) = _events(db, event="stp_kill_switch")
        assert event.actor == "root" and event.data == {
            "engaged": True,
            "was_engaged": False,
            "reason": "test",
        }
        second = api.submit(case_id="EXC-STP-AFTER")
        _triaged(db, second)
        view = api.wait_status(second, "pending_review")
        assert view["straight_through"] is False
        assert "kill switch" in _events(db, second, "stp_declined")[0].data["reason"]

        _engage(api, engaged=False)
        assert [e.data["engaged"] for e in _events(db, event="stp_kill_switch")] == [True, False]
        third = api.submit(case_id="EXC-STP-AGAIN")
        api.wait_status(third, "applied")


def test_qa_of_applied_cases_is_queued_and_a_disagreement_becomes_the_label(
    make_settings: Callable[..., Settings], proposals: ProposalStub, stub_triage: StubTriage
) -> None:
    app = create_app(
        make_settings(**STP_ON | {"stp_qa_share": 1.0}),
        configure_logs=False,
        runners=TriageRunners.fixed(stub_triage),
    )
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        db: Database = app.state.services.db
        install_policy(db)
        agreed, disputed = api.submit(case_id="EXC-QA-1"), api.submit(case_id="EXC-QA-2")
        for case_id in (agreed, disputed):
            assert api.wait_status(case_id, "applied")["stp"]["qa_status"] == "pending"
        pending = api.queue(qa="pending")["items"]
        assert {i["case_id"]: i["qa_status"] for i in pending} == {agreed: "pending", disputed: "pending"}
        assert api.queue(qa="disagreed")["items"] == []

        url = "/v1/exceptions/{}/qa"
        refused = client.post(url.format(agreed), json={"verdict": "agree"}, headers=api.h["service"])
        assert refused.status_code == 403
        needs_action = client.post(
            url.format(disputed), json={"verdict": "disagree"}, headers=api.h["analyst"]
        )
        assert needs_action.status_code == 422
        ok = client.post(url.format(agreed), json={"verdict": "agree"}, headers=api.h["analyst"])
        assert ok.status_code == 200 and ok.json()["stp"]["qa_status"] == "agreed"
        body = {
            "verdict": "disagree",
            "correct_action": "return",
            "reason_code": "duplicate",
            "comment": "dup",
        }
        ok = client.post(url.format(disputed), json=body, headers=api.h["approver"])
        assert ok.status_code == 200 and ok.json()["stp"]["qa_status"] == "disagreed"
        again = client.post(url.format(disputed), json={"verdict": "agree"}, headers=api.h["analyst"])
        assert again.status_code == 409
        assert [e.data["verdict"] for e in _events(db, event="decision_qa")] == ["agree", "disagree"]
        assert [i["case_id"] for i in api.queue(qa="disagreed")["items"]] == [disputed]
        assert len(api.queue(qa="stp")["items"]) == 2
        bad = client.get("/v1/exceptions", params={"qa": "maybe"}, headers=api.h["analyst"])
        assert bad.status_code == 422

        with db.session() as session:
            labels = {
                case_id: decision_record(
                    session, session.scalars(select(Case).where(Case.id == case_id)).one()
                )["label"]
                for case_id in (agreed, disputed)
            }
        assert labels[agreed]["decision"] == "approve" and labels[agreed]["qa"] is True
        assert labels[disputed]["decision"] == "reject" and labels[disputed]["action"] == "return"
        assert labels[disputed]["reason_code"] == "duplicate"
        with db.session() as session:  # `repairdesk audit verify`: the rows agree with the events
            assert verify_state(session).disagreement is None


def test_an_unreviewed_straight_through_case_is_no_label(
    make_settings: Callable[..., Settings], proposals: ProposalStub, stub_triage: StubTriage
) -> None:
    """The system's own decision is never gold: without a person's QA there is no label."""
    app = create_app(make_settings(**STP_ON), configure_logs=False, runners=TriageRunners.fixed(stub_triage))
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        db: Database = app.state.services.db
        install_policy(db)
        case_id = api.submit(case_id="EXC-STP-NOLABEL")
        api.wait_status(case_id, "applied")
        with db.session() as session:
            case = session.scalars(select(Case).where(Case.id == case_id)).one()
            record = decision_record(session, case)
            assert record["final"]["user"] == SYSTEM_MAKER and record["label"] is None
            application = session.scalars(select(StpApplication)).one()
            decision = session.get(Decision, application.decision_id)
            assert decision is not None and decision.user == SYSTEM_MAKER and decision.state == "applied"


def test_every_proposal_says_whether_it_went_straight_through(api: Api) -> None:
    case_id = api.submit()
    view = api.wait_status(case_id)
    assert view["straight_through"] is False and "stp" not in view
    refused = api.client.post(
        f"/v1/exceptions/{case_id}/qa", json={"verdict": "agree"}, headers=api.h["analyst"]
    )
    assert refused.status_code == 409
    assert api.queue()["items"][0]["straight_through"] is False


def test_the_rule_names_each_reason() -> None:
    options = StpOptions(enabled=True, max_amount=1000.0, max_amounts={"GBP": 10.0})
    points = [{"exception_code": "AC01", "action": "repair", "confidence": 0.9, "wrong": False}] * 300
    policy = build_policy(points, target=0.01, min_count=300, source={})
    proposal = {
        "exception_code": "AC01",
        "action": "repair",
        "changes": [{"field": "f", "new": "v"}],
        "confidence": 0.95,
        "guard": GOOD,
    }

    def why(amount: float | None = 100.0, currency: str = "EUR", **changes: Any) -> str:
        found = verdict(
            proposal | changes.get("proposal", {}),
            amount=amount,
            currency=currency,
            policy=changes.get("policy", policy),
            options=changes.get("options", options),
            kill_switch=changes.get("kill", False),
        )
        return "eligible" if found.eligible else found.reason

    assert why() == "eligible"
    assert "not enabled" in why(options=StpOptions())
    assert "kill switch" in why(kill=True)
    assert "guard" in why(proposal={"guard": {"passed": False}})
    assert "guard" in why(proposal={"guard": {}})  # a missing verdict is no pass
    assert "four-eyes" in why(proposal={"guard": GOOD | {"second_approver_required": True}})
    assert "under the threshold" in why(proposal={"confidence": 0.89})
    assert "not eligible" in why(proposal={"exception_code": "BE04"})
    assert "no STP policy" in why(policy=None)
    assert "hands the case to a person" in why(proposal={"action": "escalate"})
    assert "limit 1000" in why(amount=1000.0)
    assert "limit 10 GBP" in why(amount=20.0, currency="GBP")
    assert "amount unknown" in why(amount=None)
    for_v2 = policy | {"source": {"calibrator": "cal-v2"}}
    assert "for calibrator cal-v2" in why(policy=for_v2, proposal={"versions": {"calibrator": "cal-v1"}})
    assert why(policy=for_v2, proposal={"versions": {"calibrator": "cal-v2"}}) == "eligible"


def test_the_qa_sample_is_reproducible_and_near_its_share() -> None:
    ids = [f"EXC-{n:05d}" for n in range(4000)]
    sampled = [qa_sampled(i, 0.1) for i in ids]
    assert sampled == [qa_sampled(i, 0.1) for i in ids]
    assert 0.08 < sum(sampled) / len(ids) < 0.12
    assert not any(qa_sampled(i, 0.0) for i in ids) and all(qa_sampled(i, 1.0) for i in ids)


def test_a_policy_is_fitted_from_decided_cases_and_shown(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Approved unchanged: right; edited then approved, or rejected: wrong. `repairdesk stp fit`
    stores the policy as the next version; `show` prints it; `kill-switch` is audited."""
    approved, rejected, edited = (api.submit(case_id=f"EXC-FIT-{n}") for n in range(3))
    for case_id in (approved, rejected, edited):
        api.wait_status(case_id)
    assert api.decide(approved, "approver", "approve").status_code == 200
    body = {"reason_code": "wrong_value", "correct_action": "return", "comment": "no"}
    assert api.decide(rejected, "approver", "reject", **body).status_code == 200
    new = [
        {
            "field": "payment.creditor.account.iban",
            "new": "GB82WEST12345698765432",
            "evidence": ["analyst-asserted"],
        }
    ]
    assert api.decide(edited, "analyst", "edit", changes=new, comment="phone").status_code == 200
    assert api.decide(edited, "approver", "approve").status_code == 200
    assert api.decide(edited, "approver2", "approve").status_code == 200  # analyst-asserted: two approvers
    db: Database = api.app.state.services.db
    with db.session() as session:
        points = decision_points(labelled_records(session))
    assert {p["id"]: p["wrong"] for p in points} == {approved: False, rejected: True, edited: True}
    assert {(p["exception_code"], p["action"], p["confidence"]) for p in points} == {("AC01", "repair", 0.93)}
    assert decision_points(labelled_records_of(db), calibrator="cal-v2") == []  # other versions left out

    settings: Settings = api.app.state.services.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        fitted = runner.invoke(cli, ["stp", "fit", "--min-count", "2"])
        assert fitted.exit_code == 0, fitted.output
        assert "AC01/repair" in fitted.output and "policy v1 in force" in fitted.output
        # 1 right in 3: far over a 1% bound, so nothing is eligible
        state = api.client.get("/v1/stp", headers=api.h["analyst"]).json()
        (rule,) = state["policy"]["rules"]
        assert (rule["n"], rule["eligible"], rule["threshold"]) == (3, False, None)
        assert state["policy"]["source"]["kind"] == "decisions"
        shown = runner.invoke(cli, ["stp", "show"])
        assert shown.exit_code == 0 and "policy v1 by cli" in shown.output
        switched = runner.invoke(cli, ["stp", "kill-switch", "--on", "--reason", "drill"])
        assert switched.exit_code == 0 and "ON" in switched.output
        assert [e.actor for e in _events(db, event="stp_kill_switch")] == ["cli"]
        assert [e.data["version"] for e in _events(db, event="stp_policy")] == [1]
        missing = runner.invoke(cli, ["stp", "show", "--version", "7"])
        assert missing.exit_code == 1 and "no such STP policy version" in missing.output
    finally:
        get_settings.cache_clear()


def labelled_records_of(db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        return labelled_records(session)


def test_an_auto_applied_intent_survives_a_failed_continuation(
    make_settings: Callable[..., Settings],
    proposals: ProposalStub,
    worker_env: Callable[[Settings], None],
    monkeypatch: pytest.MonkeyPatch,
    stub_triage: StubTriage,
) -> None:
    """The outbox: the intent commits first; when running it fails, recovery applies it, exactly once."""
    from app.errors import UnavailableError
    from app.services import stp_apply
    from app.services.decisions import recover

    def broken(*_: Any, **__: Any) -> str:
        raise UnavailableError("continuation failed", source="test")

    settings = make_settings(workers=0, **STP_ON)
    app = create_app(settings, configure_logs=False, runners=TriageRunners.fixed(stub_triage))
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        db: Database = app.state.services.db
        install_policy(db)
        case_id = api.submit(case_id="EXC-STP-OUTBOX")
        with db.session() as session:
            job_id = session.scalar(select(Job.id).where(Job.case_id == case_id, Job.kind == "triage"))
        worker_env(settings)
        monkeypatch.setattr(stp_apply, "run_decision_job", broken)
        delivery: Any = SimpleNamespace(request=SimpleNamespace(retries=0))
        assert (
            celery_app.handle_triage(delivery, case_id, int(job_id or 0), celery_context(stub_triage))
            == "done"
        )
        with db.session() as session:
            (decision,) = session.scalars(select(Decision).where(Decision.case_id == case_id))
            assert (decision.user, decision.state) == (SYSTEM_MAKER, "pending")
            jobs = session.scalars(select(Job.status).where(Job.case_id == case_id, Job.kind == "decision"))
            assert list(jobs) == ["queued"]
        assert api.view(case_id)["status"] == "pending_review"
        refused = api.decide(case_id, "approver", "approve")
        assert refused.status_code == 409  # the recorded intent stands: nobody decides over it

        recovery = recover(db, app.state.services.store, app.state.services.runners)
        assert recovery.applied == 1
        view = api.view(case_id)
        assert view["status"] == "applied" and view["straight_through"] is True
        assert len(_events(db, case_id, "decision_applied")) == 1
        assert recover(db, app.state.services.store, app.state.services.runners).applied == 0
