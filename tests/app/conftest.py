"""Fixtures for the service tests: an app per test on SQLite and on PostgreSQL, tokens, a triage backend.

``db_url`` is parametrized: ``sqlite`` (a file per test) and ``postgres`` (one throwaway database per
test session on 127.0.0.1:5432, emptied between tests, dropped at the end; ``require`` fails in CI
when PostgreSQL is not there). ``StubTriage`` stands in for the agent so API tests exercise the
service (queue, roles, audit) quickly; the real agent runs in ``test_agent_integration.py``.
Nothing is swapped globally: ``make_app(backend)`` builds an app with the triage backend injected
(``create_app(..., runners=TriageRunners.fixed(backend))``), the stub by default.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.session import Database
from app.jobs.triage import TriageBackend, TriageRunners
from app.main import create_app
from app.services.auth import create_token
from app.settings import Settings
from tests.agents.fixtures import mt103
from tests.conftest import throwaway_postgres
from tools.db import get_engine

# A list of table names: alike in shape to other string lists.
APP_TABLES = (
    "stp_applications",
    "stp_policies",
    "labelled_cases",
    "decisions",
    "proposals",
    "jobs",
    "case_documents",
    "documents",
    "audit_events",
    "web_sessions",
    "api_tokens",
    "users",
    "cases",
)
TOKENS = {
    "service": ("svc-bot", "service"),
    "analyst": ("ana", "analyst"),
    "approver": ("alice", "approver"),
    "approver2": ("bruno", "approver"),
    "admin": ("root", "admin"),
    "alice-analyst": ("alice", "analyst"),  # the same person as "approver", with an analyst token
}


class StubTriage:
    """A deterministic triage backend with the agent's contract (start/resume, idempotent)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.started: list[str] = []
        self.resumed: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        if self.gate is not None:
            self.gate.wait(10)
        with self.lock:
            self.started.append(thread_id)
        # Intended copy of app.api.schemas' example proposal: the tests keep their own literal, so an edit
        # there cannot change what they assert.
        return {
            "case_id": thread_id,
            "status": "pending_review",
            "exception_code": case["exception_code"],
            "classification_confidence": 0.97,
            "action": "repair",
            "changes": [
                {
                    "field": "payment.creditor.account.iban",
                    "old": "DE89370400440532013001",
                    "new": "DE89370400440532013000",
                    "evidence": ["ssi:C-1042:1"],
                }
            ],
            "rationale": "IBAN checksum fails; SSI on file.",
            "citations": [
                {"doc_id": "SOP-AC01", "section": "3.3", "row": 2},
                {"doc_id": "SOP-AC01", "section": "3"},
            ],
            "tool_calls": [
                {"tool": "get_ssi", "args": {"customer_id": "C-1042"}, "result_ref": "ssi:C-1042:1"}
            ],
            "confidence": 0.93,
            "guard": {"passed": True, "violations": []},
            "model": "stub",
        }

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if thread_id in self.resumed:
                return self.resumed[thread_id]
            status = {"approve": "applied", "edit": "applied", "reject": "rejected"}[decision["decision"]]
            result = {
                "status": status,
                "final_changes": decision["changes"] if status == "applied" else [],
                "repaired_message": ":20:REPAIRED" if status == "applied" else None,
                "proposal": {},
            }
            self.resumed[thread_id] = result
            return result


@pytest.fixture
def stub_triage() -> StubTriage:
    """The triage backend of the test's apps (``make_app``, ``api``)."""
    return StubTriage()


def celery_context(backend: TriageBackend) -> Any:
    """What a Celery worker process builds at its start-up (from the environment), with ``backend``
    as its triage backend (a ``WorkerContext``); pass it to ``handle_triage``."""
    from app.jobs.celery_app import WorkerProcess

    return WorkerProcess(lambda _settings: TriageRunners.fixed(backend)).context()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    with throwaway_postgres() as url:
        Database(url).migrate()
        yield url


def _empty_postgres(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.cases')")).scalar()
        if exists:
            conn.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
            conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h WHERE id = 1"), {"h": "0" * 64})
            conn.execute(text("UPDATE stp_control SET kill_switch = false, changed_by = NULL, reason = NULL"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating every test's file costs ~0.5 s)."""
    path = tmp_path_factory.mktemp("template") / "repairdesk.db"
    url = f"sqlite:///{path}"
    Database(url).migrate()
    engine = get_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def sqlite_db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite database for one test (modules that run on SQLite only make it their
    ``db_url``)."""
    target = tmp_path / "repairdesk.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database for one test."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_db_url")
        return url
    url = request.getfixturevalue("pg_database")
    _empty_postgres(url)
    return url


@pytest.fixture
def make_settings(tmp_path: Path, db_url: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": db_url,
            "workers": 1,
            "job_poll_seconds": 0.05,
            "log_json": True,
            "log_level": "WARNING",
            "token_cache_seconds": 0,
            "migrate_on_startup": False,  # db_url is migrated already (test_migrations covers start-up)
            "freeze_heap": False,  # many apps per test process: frozen objects would never be freed
        }
        values.update(overrides)
        return Settings(**values)

    return make


def add_tokens(app: FastAPI) -> dict[str, dict[str, str]]:
    """Create the TOKENS users; returns ``{key: Authorization header}``."""
    headers = {}
    with app.state.services.db.session() as session:
        for key, (user, role) in TOKENS.items():
            token = create_token(session, user, role, f"test-{key}-token")
            headers[key] = {"Authorization": f"Bearer {token}"}
        session.commit()
    return headers


class Api:
    """A started app with its client and the role headers."""

    def __init__(self, app: FastAPI, client: TestClient, headers: dict[str, dict[str, str]]) -> None:
        self.app, self.client, self.h = app, client, headers

    def submit(self, role: str = "service", **body: Any) -> str:
        # A whole MT103 unless the test gives its own payment (one payment per case: not both).
        default = {} if "payment" in body else {"message": mt103(ref="REF1", amount="100,00")}
        payload = {"exception_code": "AC01", **default} | body
        response = self.client.post("/v1/exceptions", json=payload, headers=self.h[role])
        assert response.status_code == 202, response.text
        case_id: str = response.json()["case_id"]
        return case_id

    def view(self, case_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/exceptions/{case_id}", headers=self.h["service"])
        result: dict[str, Any] = response.json()
        return result

    def decide(self, case_id: str, role: str, decision: str, **body: Any) -> Any:
        payload = {"decision": decision} | body
        return self.client.post(f"/v1/exceptions/{case_id}/decision", json=payload, headers=self.h[role])

    def queue(self, role: str = "analyst", **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.client.get("/v1/exceptions", params=params, headers=self.h[role]).json()
        return result

    def wait_status(
        self, case_id: str, status: str = "pending_review", timeout: float = 15
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            view = self.view(case_id)
            if view.get("status") == status or time.monotonic() > deadline:
                assert view.get("status") == status, view
                return view
            time.sleep(0.05)


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], stub_triage: StubTriage) -> Callable[..., FastAPI]:
    """``make_app(backend=None, **settings)``: an app on the test's database whose triage backend is
    ``backend`` (``stub_triage`` by default), injected at its start-up."""

    def make(backend: TriageBackend | None = None, **overrides: Any) -> FastAPI:
        runners = TriageRunners.fixed(stub_triage if backend is None else backend)
        return create_app(make_settings(**overrides), configure_logs=False, runners=runners)

    return make


@pytest.fixture
def api(make_app: Callable[..., FastAPI]) -> Iterator[Api]:
    app = make_app()
    with TestClient(app) as client:
        yield Api(app, client, add_tokens(app))


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto in server mode: a real HTTP AWS endpoint on loopback (S3, SQS, KMS), not patched clients."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
