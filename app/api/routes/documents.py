"""``POST /v1/documents``: canonical extraction of one uploaded file (multipart field ``file``).

The body is parsed here rather than by a ``File`` parameter so that a non-multipart request is a
415 and an oversized file a 413 (checked against ``max_upload_bytes``), both before extraction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.api.deps import CurrentUser, ServicesDep
from app.api.schemas import ERROR_RESPONSES
from app.errors import UnsupportedMediaError
from tools.errors import InputTooLargeError, ValidationError

router = APIRouter(prefix="/v1", tags=["documents"], responses=ERROR_RESPONSES)

EXTRACTION_EXAMPLE = {
    "source": "advice.pdf",
    "doc_type": "remittance_advice",
    "remittance": {"payment_reference": "PAY-778", "currency": "EUR", "total_amount": "6740.91"},
    "fields": [
        {
            "name": "remittance.total_amount",
            "value": "6740.91",
            "confidence": 0.97,
            "source": {"page": 1, "bbox": [412.0, 520.3, 470.1, 531.0]},
        }
    ],
    "findings": [],
}

UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _extract(data: bytes, name: str) -> list[dict[str, Any]]:
    # In the document sandbox: a hostile file meets a time and memory limit in a child process,
    # and the answer names the limit (413/422) while the service keeps answering.
    from tools.documents.sandbox import extract_sandboxed

    return extract_sandboxed(data, name)


@router.post(
    "/documents",
    summary="Canonical extraction of an uploaded document or message",
    openapi_extra=UPLOAD_SCHEMA,
    responses={200: {"content": {"application/json": {"example": EXTRACTION_EXAMPLE}}}},
)
async def extract_document(request: Request, services: ServicesDep, principal: CurrentUser) -> Any:
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaError("send multipart/form-data with a `file` field", source="body")
    limit = services.settings.max_upload_bytes
    form = await request.form(max_files=1, max_fields=5)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError("the multipart body needs a `file` field holding a file", source="file")
        data = await upload.read(limit + 1)
        name = (upload.filename or "upload")[:255]
    finally:
        await form.close()
    if len(data) > limit:
        raise InputTooLargeError(f"over the {limit}-byte upload limit", source=name)
    extractions = await run_in_threadpool(_extract, data, name)
    return extractions[0] if len(extractions) == 1 else extractions
