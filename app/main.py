"""The FastAPI application: ``create_app(settings)`` wires the database, document store, workers,
routes, UI and error handling. ``app`` at module level is for ``uvicorn app.main:app``.

Start-up (lifespan): run the migrations, then start the triage worker pool (``settings.workers``
threads; 0 for an API-only process when ``repairdesk worker`` runs the queue elsewhere), then move
everything loaded so far out of the garbage collector's view (``gc.freeze``). The app's modules are
some 100,000 long-lived objects; a full collection walks them all (65 ms on this machine), stopping
every thread of the process, and on SQLite a stop while the writer lock is held stalls the other
server processes' POSTs too. Frozen objects are never collected, which is right for what lives as
long as the process (``REPAIRDESK_FREEZE_HEAP=false`` turns it off, as the tests do).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI

from app.api import errors, openapi
from app.api.middleware import RequestContextMiddleware
from app.api.ratelimit import RateLimiter
from app.api.routes import desk, documents, exceptions, health, layout, preview, search, stp
from app.api.state import Services
from app.db.session import Database
from app.jobs.pool import WorkerPool
from app.jobs.triage import TriageRunners
from app.logs import configure_logging
from app.services.document_store import open_store
from app.services.layout_rules import install_provider as install_layout_rules
from app.services.stp import StpOptions
from app.settings import Settings, configure_process, get_settings

DESCRIPTION = """Payment-exception repair: submit exception cases, read the agent's proposals,
approve / edit / reject them (maker-checker), follow the hash-chained audit trail.
Authenticate with `Authorization: Bearer <token>` (`repairdesk token create`)."""


def build_services(settings: Settings, runners: TriageRunners | None = None) -> Services:
    """The app's (or a ``repairdesk worker``'s) parts; ``runners`` defaults to the agent of ``settings``."""
    from app.services.audit_keys import resolve_key

    return Services(
        settings=settings,
        db=Database(settings.database_url, audit_key=resolve_key(settings)),
        store=open_store(settings.document_store_location, kms_key_id=settings.document_kms_key_id),
        limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        runners=runners or TriageRunners.agent(settings),
    )


def start_pool(services: Services) -> WorkerPool:
    settings = services.settings
    pool = WorkerPool(
        services.db,
        services.store,
        services.runners,
        size=settings.workers,
        lease_seconds=settings.job_lease_seconds,
        poll_seconds=settings.job_poll_seconds,
        max_attempts=settings.job_max_attempts,
        stp=StpOptions.from_settings(settings),
    )
    pool.start()
    return pool


def recover_on_startup(services: Services) -> None:
    """Finish decisions a crash left half-applied, before any request or worker runs
    (:func:`app.services.decisions.recover`). A failure is logged: the jobs stay queued for workers."""
    from app.services.decisions import recover

    try:
        recovery = recover(services.db, services.store, services.runners)
    except Exception:
        logging.getLogger("repairdesk").exception("start-up recovery of decisions failed")
        return
    if recovery.requeued or recovery.applied or recovery.failed:
        logging.getLogger("repairdesk").warning("recovered decisions", extra=asdict(recovery))


def start_anchoring(services: Services) -> Any:
    """Anchor the audit head outside the database periodically (app.services.audit_anchor)."""
    from app.services.audit_anchor import Anchorer, open_anchor_store
    from app.services.audit_keys import AuditKey

    settings = services.settings
    key = services.db.audit_key
    if not isinstance(key, AuditKey):
        return None
    try:
        store = open_anchor_store(settings.audit_anchor_location)
    except Exception:
        logging.getLogger("repairdesk").exception("audit anchor store unavailable")
        return None
    anchorer = Anchorer(services.db.session, store, key, settings.audit_anchor_seconds)
    anchorer.start()
    return anchorer


def warm_intake() -> None:
    """Load what POST /v1/exceptions parses with (the intake node and the message parsers) before
    the first request: loaded lazily, the first POSTs of each process waited ~0.8 s for the imports
    (benchmarks/api.py: POST p99 881 ms against 51 ms before payments were parsed at acceptance)."""
    from agents.nodes.intake import read_payment
    from tools.errors import RepairDeskError

    for message in (WARM_MT103, WARM_PACS008):
        with contextlib.suppress(RepairDeskError):  # the samples parse; a warm-up never fails start-up
            read_payment({"message": message}, "warm-up", [])


WARM_MT103 = (
    "{1:F01BANKDEFFAXXX0000000000}{2:I103COBADEFFXXXXN}{4:\n:20:WARM\n:23B:CRED\n"
    ":32A:261120EUR1,00\n:50K:/DE89370400440532013000\nA\n:59:/DE89370400440532013000\nB\n:71A:SHA\n-}"
)
WARM_PACS008 = (
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>'
    "<MsgId>WARM</MsgId><CreDtTm>2026-11-20T00:00:00</CreDtTm><NbOfTxs>1</NbOfTxs></GrpHdr>"
    "<CdtTrfTxInf><PmtId><EndToEndId>WARM</EndToEndId></PmtId>"
    '<IntrBkSttlmAmt Ccy="EUR">1.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-20</IntrBkSttlmDt>'
    "<ChrgBr>SHAR</ChrgBr><Dbtr><Nm>A</Nm></Dbtr><Cdtr><Nm>B</Nm></Cdtr></CdtTrfTxInf>"
    "</FIToFICstmrCdtTrf></Document>"
)


def create_app(
    settings: Settings | None = None, *, configure_logs: bool = True, runners: TriageRunners | None = None
) -> FastAPI:
    """The app for ``settings``; its triage backends are ``runners`` (tests and benchmarks bring their
    own) or, by default, the agent of ``settings.model``, built here and kept on ``app.state.services``."""
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    services = build_services(settings, runners)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_startup:
            services.db.migrate()
        recover_on_startup(services)
        anchorer = start_anchoring(services)
        if settings.workers > 0 and not settings.broker:  # with a broker, Celery workers run the jobs
            services.pool = start_pool(services)
        warm_intake()
        if settings.freeze_heap:
            gc.collect()  # what start-up left as garbage is freed, not frozen
            gc.freeze()
        try:
            yield
        finally:
            if services.pool is not None:
                services.pool.stop()
                services.pool = None
            if anchorer is not None:
                anchorer.stop()
            if services.db.group_commit is not None:
                services.db.group_commit.close()

    app = FastAPI(
        title="RepairDesk",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from local assets by app.api.openapi (no CDN)
        redoc_url=None,
        openapi_tags=[
            {"name": "exceptions", "description": "Exception cases, proposals, decisions, audit."},
            {"name": "documents", "description": "Canonical extraction."},
            {"name": "search", "description": "Procedure retrieval."},
            {"name": "operations", "description": "Health, readiness, metrics."},
        ],
    )
    app.state.services = services
    errors.install(app)
    openapi.install(app)
    for module in (exceptions, desk, stp, documents, layout, search, preview, health):
        app.include_router(module.router)
    install_layout_rules(services.db)  # learned document layouts come from this app's database
    from app.ui.mount import mount as mount_ui

    mount_ui(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_request_bytes)
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn app.main:app` builds the app from the environment on first access only; this is the
    # process's start-up, so it also hands the settings to tools/ and agents/.
    if name == "app":
        settings = get_settings()
        configure_process(settings)
        return create_app(settings)
    raise AttributeError(name)
