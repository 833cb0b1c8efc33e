"""Service-level errors (HTTP statuses the tools layer never needs). All derive from RepairDeskError,
so the API's one error handler turns each into ``{"error": {"code", "message"}}`` with its status."""

from __future__ import annotations

from tools.errors import RepairDeskError


class UnauthorizedError(RepairDeskError):
    code = "unauthorized"
    status = 401


class ForbiddenError(RepairDeskError):
    code = "forbidden"
    status = 403


class ConflictError(RepairDeskError):
    code = "conflict"
    status = 409


class UnsupportedMediaError(RepairDeskError):
    code = "unsupported_media_type"
    status = 415


class RateLimitedError(RepairDeskError):
    code = "rate_limited"
    status = 429


class UnavailableError(RepairDeskError):
    """A capability whose component is not installed or not ready (index, agent)."""

    code = "unavailable"
    status = 503
