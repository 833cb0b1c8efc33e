"""``GET /v1/search``: procedure retrieval (``tools.retrieval.search``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, ServicesDep
from app.api.schemas import ERROR_RESPONSES, SearchHit
from app.api.state import Services
from app.errors import UnavailableError
from tools.errors import ValidationError

router = APIRouter(prefix="/v1", tags=["search"], responses=ERROR_RESPONSES)


def hit_json(hit: Any) -> dict[str, Any]:
    """A hit as the contract's five fields, whatever object the retrieval layer returns."""
    if hasattr(hit, "model_dump"):
        data = hit.model_dump()
    elif isinstance(hit, dict):
        data = hit
    else:
        data = vars(hit)
    return {k: data.get(k) for k in ("doc_id", "section", "title", "text", "score")}


def run_search(services: Services, q: str, code: str | None, k: int) -> list[dict[str, Any]]:
    try:
        hits = services.search().search(q, code=code, k=k)
    except ImportError as exc:
        raise UnavailableError(f"procedure retrieval is not installed: {exc}", source="search") from exc
    except FileNotFoundError as exc:
        raise UnavailableError(
            "the procedure index is not built; run `repairdesk index build`", source="search"
        ) from exc
    return [hit_json(h) for h in hits]


@router.get("/search", response_model=list[SearchHit], summary="Search the procedures")
def search(
    principal: CurrentUser,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=1000, examples=["creditor account number incorrect"])],
    code: Annotated[str | None, Query(max_length=40, examples=["AC01"])] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[dict[str, Any]]:
    if not q.strip():
        raise ValidationError("must not be blank", source="q")
    return run_search(services, q, code.upper() if code else None, k)
