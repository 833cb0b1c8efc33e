"""Structured JSON logs with the request id, and with account numbers and tokens masked.

``configure_logging`` installs one JSON handler on the root logger. Every record passes through
``mask`` so an IBAN (kept: country and last four characters) or a bearer token never reaches a log
line, whatever code logged it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_IBAN = re.compile(r"\b([A-Z]{2})(\d{2})((?:\s?[A-Z0-9]){8,30})\b")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_TOKEN_LIKE = re.compile(r"\b(rd_|demo-)[A-Za-z0-9_-]{6,}\b")
_ACCOUNT = re.compile(r"(?<![\w.-])(\d{8,34})(?![\w.-])")  # long digit runs: BBAN / account numbers


def _mask_iban(match: re.Match[str]) -> str:
    compact = re.sub(r"\s", "", match.group(0))
    return f"{compact[:2]}**…{compact[-4:]}"


def mask(text: str) -> str:
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _TOKEN_LIKE.sub(r"\1[redacted]", text)
    text = _IBAN.sub(_mask_iban, text)
    return _ACCOUNT.sub(lambda m: "*" * (len(m.group(1)) - 4) + m.group(1)[-4:], text)


class JsonFormatter(logging.Formatter):
    _SKIP = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in self._SKIP and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask(json.dumps(entry, default=str, ensure_ascii=False))


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_repairdesk", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._repairdesk = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
