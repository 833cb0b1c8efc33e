"""Operations: `/healthz` (up), `/readyz` (database reachable, schema current), `/metrics` (with the
drift gauges of :mod:`app.drift_metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app import drift_metrics, metrics
from app.api.deps import ServicesDep
from app.jobs.queue import queue_depth

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers and the schema is migrated")
def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with services.db.session() as session:
            session.execute(text("SELECT 1 FROM cases LIMIT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: readiness is a yes/no answer
        checks["database"] = f"error: {type(exc).__name__}"
    workers = services.pool is not None
    checks["workers"] = "celery" if services.settings.broker else ("running" if workers else "disabled")
    ready = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
def prometheus_metrics(services: ServicesDep) -> Response:
    try:
        with services.db.session() as session:
            metrics.QUEUE_DEPTH.set(queue_depth(session))
    except Exception:  # keep serving the other metrics when the database is down
        metrics.QUEUE_DEPTH.set(float("nan"))
    drift_metrics.refresh(services.db, services.settings)  # throttled; never raises
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
