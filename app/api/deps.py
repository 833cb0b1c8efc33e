"""Typed dependencies of the routes: the services, a database session, the caller and role checks.

``CurrentUser`` resolves ``Authorization: Bearer <token>`` (sha256 looked up, cached briefly) to a
:class:`Principal` and applies the per-token rate limit; ``require_role("analyst", ...)`` is a
dependency that answers 403 for any other role. Routes declare their roles with it.

The look-up cache is per process and keyed by the token's hash: an entry, found or not, lives
``REPAIRDESK_TOKEN_CACHE_SECONDS`` (5 s by default; 0 turns the cache off), so a token revoked with
``repairdesk token revoke`` is refused by every API process within that window. The cache holds at
most ``TOKEN_CACHE_MAX`` entries, so presenting random tokens cannot grow it without bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.api.state import Services
from app.errors import ForbiddenError, RateLimitedError, UnauthorizedError
from app.services.auth import Principal, hash_token, resolve_token


# Light dependencies are ``async``: a sync one costs a thread-pool hop per request on the hot path.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    # Creating a session does no I/O; the route (sync, in the thread pool) runs the queries.
    session = services.db.new_session()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


TOKEN_CACHE_MAX = 10_000


def _cached(services: Services, digest: str) -> tuple[bool, Principal | None]:
    cached = services.token_cache.get(digest)
    if cached is not None and cached[1] > time.monotonic():
        return True, cached[0]
    return False, None


def _lookup(services: Services, token: str, digest: str) -> Principal | None:
    with services.db.session() as session:
        principal = resolve_token(session, token)
    ttl = services.settings.token_cache_seconds
    if ttl > 0:
        cache = services.token_cache
        if len(cache) >= TOKEN_CACHE_MAX:
            cache.clear()  # rare (a flood of unknown tokens); the live ones come back on their next use
        cache[digest] = (principal, time.monotonic() + ttl)
    return principal


def admit(services: Services, principal: Principal | None) -> Principal:
    if principal is None:
        raise UnauthorizedError("unknown or revoked token", source="Authorization")
    wait = services.limiter.allow(principal.token_id)
    if wait > 0:
        error = RateLimitedError(f"too many requests; retry in {wait:.2f} s", source=principal.user)
        error.retry_after = max(1, math.ceil(wait))  # type: ignore[attr-defined]
        raise error
    return principal


def authenticate(services: Services, token: str) -> Principal:
    """Map a clear token to its principal (401 if unknown), then apply the rate limit (429)."""
    digest = hash_token(token)
    hit, principal = _cached(services, digest)
    return admit(services, principal if hit else _lookup(services, token, digest))


async def current_user(request: Request) -> Principal:
    services: Services = request.app.state.services  # not a sub-dependency: this runs on every call
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("send Authorization: Bearer <token>", source="Authorization")
    digest = hash_token(token)
    hit, principal = _cached(services, digest)
    if not hit:  # a database look-up: off the event loop
        principal = await run_in_threadpool(_lookup, services, token, digest)
    admitted = admit(services, principal)
    request.state.principal = admitted
    return admitted


CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(*roles: str) -> Any:
    """A dependency that lets only ``roles`` through (403 names the caller's role)."""

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(
                f"needs role {' or '.join(roles)}; token has role {principal.role}", source=principal.user
            )
        return principal

    return Depends(check)


# The desk's people: analysts and approvers (case actions, document corrections, layout rules).
DeskUser = Annotated[Principal, require_role("analyst", "approver")]
