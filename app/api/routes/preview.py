"""``POST /v1/triage``: triage a case and answer its proposal at once; nothing is stored.

What ``repairdesk triage CASE.json`` prints, computed by a server that has the agent, the procedure
index and the reference data loaded already: the CLI sends its cases here when ``REPAIRDESK_API_URL``
names a server, and answers in a fraction of a second instead of importing and loading them each
time. The run uses an in-memory checkpointer of its own (its thread is dropped after the answer), so
the queue, the audit trail and the review threads of ``POST /v1/exceptions`` are never touched. A case
that does not validate is 422 naming the reason, like the local command's exit 1.
"""

from __future__ import annotations

import threading
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from app.api.deps import require_role
from app.api.routes.exceptions import require_json
from app.api.schemas import ERROR_RESPONSES, CaseOut
from app.api.state import Services
from app.services.auth import Principal

router = APIRouter(prefix="/v1", tags=["exceptions"], responses=ERROR_RESPONSES)
_LOCK = threading.Lock()


class _Search:
    """The app's procedure search for the agent's citations; none (no citations) when it cannot open."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def search(self, query: str, **options: Any) -> list[Any]:
        from tools.errors import RepairDeskError

        try:
            search = self._services.search()
        except (ImportError, OSError, RepairDeskError):
            return []
        return list(search.search(query, **options))


def _runner(request: Request) -> Any:
    """The app's preview runner (the CLI's set-up: in-memory threads), built on first use and kept."""
    with _LOCK:
        runner = getattr(request.app.state, "preview_runner", None)
        if runner is None:
            from langgraph.checkpoint.memory import InMemorySaver

            from agents.runner import TriageRunner

            services: Services = request.app.state.services
            runner = TriageRunner(
                model=services.settings.model, checkpointer=InMemorySaver(), search=_Search(services)
            )
            request.app.state.preview_runner = runner
        return runner


def _preview(runner: Any, case: dict[str, Any]) -> dict[str, Any]:
    from tools.errors import RepairDeskError

    thread_id = f"preview-{uuid.uuid4().hex}"
    try:
        return dict(runner.start(case, thread_id))
    except RepairDeskError as exc:
        if exc.source != thread_id:
            raise
        # The case is named by its own id, or as "case": the thread id means nothing to the caller.
        raise type(exc)(exc.reason, source=str(case.get("case_id") or "case")) from exc
    finally:
        runner.checkpointer.delete_thread(thread_id)


@router.post(
    "/triage",
    # The proposal as the agent made it, key for key (the CLI prints it as its own output).
    response_model=None,
    responses={200: {"model": CaseOut, "description": "The repair proposal (CONTRACT: Repair proposal)"}},
    summary="Triage a case and answer its proposal now; nothing is stored (what `repairdesk triage` prints)",
    dependencies=[Depends(require_json)],
)
async def preview(
    request: Request,
    case: Annotated[dict[str, Any], Body(description="An exception case (CONTRACT: Exception case).")],
    principal: Annotated[Principal, require_role("service", "analyst")],
) -> JSONResponse:
    runner = await run_in_threadpool(_runner, request)
    return JSONResponse(jsonable_encoder(await run_in_threadpool(_preview, runner, case)))
