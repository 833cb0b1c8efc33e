"""Bedrock usage per case, end to end: the real agent with a ``bedrock:`` model whose Converse calls are
answered by botocore's Stubber (recorded responses carrying token usage) runs as a triage job, through
the in-process worker pool behind the API and through the Celery task body; the stored proposal
carries the case's calls, tokens and cost (``proposals.model_usage``), the case JSON shows them, and
the Prometheus counters grow by them. Throttled attempts are retried and not counted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langgraph.checkpoint.memory import InMemorySaver
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, select

from agents.bedrock import CallPolicy, CircuitBreaker, UsageLedger, bedrock_chat_model, price_of
from agents.runner import TriageRunner
from agents.toolbox import Toolbox, load_procedure_refs
from app.db.models import AuditEvent, Job, Proposal
from app.db.session import Database
from app.jobs import celery_app
from tests.agents.fixtures import GOOD_IBAN, REFDATA, ac01_case
from tests.agents.test_bedrock import _text, _tool_use
from tests.app.conftest import add_tokens, celery_context
from tools.agent_tools import build_tools
from tools.refdata.loader import load
from tools.refdata.store import RefDataStore

MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"
SPEC = f"bedrock:{MODEL_ID}"
DECISION = {"candidate": "rule1", "rationale": "The SSI on file matches the beneficiary.", "confidence": 0.8}


@pytest.fixture(scope="module")
def refdata(tmp_path_factory: pytest.TempPathFactory) -> RefDataStore:
    store = RefDataStore(create_engine(f"sqlite:///{tmp_path_factory.mktemp('refdata') / 'ref.db'}"))
    load(REFDATA, store)
    return store


@pytest.fixture
def stubber() -> Iterator[Stubber]:
    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stub:
        yield stub


@pytest.fixture
def bedrock_agent(stubber: Stubber, refdata: RefDataStore) -> TriageRunner:
    """The real agent whose ``bedrock:`` model talks to the stubbed client (no sleeping between retries)."""
    model = bedrock_chat_model(
        MODEL_ID,
        client=stubber.client,
        breaker=CircuitBreaker(failure_threshold=5),
        ledger=UsageLedger(),
        policy=CallPolicy(sleep=lambda _: None),
    )
    toolbox = Toolbox(tools=build_tools(refdata), procedures=load_procedure_refs(), search=None)
    toolbox.set_chat_model(SPEC, model)
    return TriageRunner(model=SPEC, checkpointer=InMemorySaver(), toolbox=toolbox)


def _expected(tokens_in: int, tokens_out: int, calls: int) -> dict[str, Any]:
    price_in, price_out = price_of(MODEL_ID)
    figures = {
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cost_usd": str((price_in * tokens_in + price_out * tokens_out) / 1000),
    }
    return {**figures, "models": {MODEL_ID: figures}}


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"model": MODEL_ID, **labels}) or 0.0


def _submit_and_triage(app: FastAPI, case_id: str, timeout: float = 60) -> tuple[dict[str, Any], str]:
    """Start ``app``, POST the AC01 case as ``case_id`` and wait until the worker has stored its
    proposal (or failed it); the case view then, and the /metrics text."""
    with TestClient(app) as client:
        headers = add_tokens(app)
        response = client.post("/v1/exceptions", json=ac01_case(case_id=case_id), headers=headers["service"])
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + timeout
        while True:
            view: dict[str, Any] = client.get(f"/v1/exceptions/{case_id}", headers=headers["analyst"]).json()
            if view["status"] not in {"queued", "triaging"} or time.monotonic() > deadline:
                return view, client.get("/metrics").text
            time.sleep(0.05)


def _stored(db: Database, case_id: str) -> tuple[Proposal, dict[str, Any]]:
    with db.session() as session:
        proposal = session.scalars(select(Proposal).where(Proposal.case_id == case_id)).one()
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.event == "proposed")
        ).one()
        session.expunge_all()
    return proposal, event.data


def test_the_api_worker_stores_the_cases_bedrock_usage_with_its_proposal(
    make_app: Callable[..., FastAPI], bedrock_agent: TriageRunner, stubber: Stubber
) -> None:
    # The tool phase, then the decision: throttled twice (retried, not billed), then answered.
    stubber.add_response("converse", _text("The evidence is gathered.", 900, 15))
    for _ in range(2):
        stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    stubber.add_response("converse", _tool_use("RepairDecision", DECISION, 1500, 60))
    before = {
        "input": _counter("repairdesk_model_tokens_total", direction="input"),
        "output": _counter("repairdesk_model_tokens_total", direction="output"),
        "calls": _counter("repairdesk_model_calls_total"),
        "cost": _counter("repairdesk_model_cost_usd_total"),
    }
    app = make_app(bedrock_agent, model=SPEC)
    view, metrics_text = _submit_and_triage(app, "EXC-BEDROCK")
    stubber.assert_no_pending_responses()

    assert view["status"] == "pending_review" and view["model"] == SPEC and "fallback" not in view
    assert [c["new"] for c in view["changes"]] == [GOOD_IBAN]
    expected = _expected(2400, 75, calls=2)  # two successful calls; the throttled attempts cost nothing
    assert view["model_usage"] == expected
    proposal, event = _stored(app.state.services.db, "EXC-BEDROCK")
    assert proposal.model_usage == expected
    assert event["model_usage"] == {
        k: expected[k] for k in ("calls", "input_tokens", "output_tokens", "cost_usd")
    }
    # The ledger forgot the case once stored: a later triage of another case starts from zero.
    assert bedrock_agent.take_usage("EXC-BEDROCK") is None

    assert _counter("repairdesk_model_tokens_total", direction="input") - before["input"] == 2400
    assert _counter("repairdesk_model_tokens_total", direction="output") - before["output"] == 75
    assert _counter("repairdesk_model_calls_total") - before["calls"] == 2
    cost = _counter("repairdesk_model_cost_usd_total") - before["cost"]
    assert cost == pytest.approx(float(Decimal(expected["cost_usd"])))
    assert f'repairdesk_model_tokens_total{{direction="input",model="{MODEL_ID}"}}' in metrics_text


def test_the_celery_task_stores_the_cases_bedrock_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bedrock_agent: TriageRunner, stubber: Stubber
) -> None:
    from app.api.schemas import ExceptionIn
    from app.services.cases import create_case
    from app.services.document_store import LocalDocumentStore

    data = tmp_path / "var"
    db_url = f"sqlite:///{tmp_path / 'repairdesk.db'}"
    db = Database(db_url)
    db.migrate()
    for key, value in {
        "REPAIRDESK_DATA_DIR": str(data),
        "DATABASE_URL": db_url,
        "REPAIRDESK_MODEL": SPEC,
    }.items():
        monkeypatch.setenv(key, value)
    with db.session() as session:
        create_case(
            session,
            LocalDocumentStore(data / "documents"),
            ExceptionIn(**ac01_case(case_id="EXC-CELERY-BEDROCK")),
            user="svc",
            idempotency_key=None,
        )
        job_id = session.scalar(select(Job.id).where(Job.case_id == "EXC-CELERY-BEDROCK"))
    assert job_id is not None
    stubber.add_response("converse", _text("The evidence is gathered.", 700, 10))
    stubber.add_response("converse", _tool_use("RepairDecision", DECISION, 1200, 50))
    try:
        # The task body of one delivery (no retry is expected, so the bound task needs only its request).
        delivery: Any = SimpleNamespace(request=SimpleNamespace(retries=0))
        worker = celery_context(bedrock_agent)
        assert celery_app.handle_triage(delivery, "EXC-CELERY-BEDROCK", job_id, worker) == "done"
    finally:
        db.engine.dispose()
    stubber.assert_no_pending_responses()
    proposal, event = _stored(db, "EXC-CELERY-BEDROCK")
    assert proposal.model_usage == _expected(1900, 60, calls=2)
    assert event["model_usage"]["calls"] == 2


def test_a_playbook_proposal_has_no_model_usage(
    make_app: Callable[..., FastAPI], refdata: RefDataStore
) -> None:
    toolbox = Toolbox(tools=build_tools(refdata), procedures=load_procedure_refs(), search=None)
    app = make_app(TriageRunner(model="playbook", checkpointer=InMemorySaver(), toolbox=toolbox))
    view, _ = _submit_and_triage(app, "EXC-PLAYBOOK")
    assert view["status"] == "pending_review" and view["model"] == "playbook"
    assert "model_usage" not in view
    proposal, event = _stored(app.state.services.db, "EXC-PLAYBOOK")
    assert proposal.model_usage is None and "model_usage" not in event
