"""Server-side sessions of the analyst UI: an opaque id in the cookie, never the API token.

Signing in with an API token opens a session: the browser gets a random id (``secrets``, 256 bits)
whose sha256 is stored with the token's id, an expiry and a CSRF token that every form of the
session must echo. A page resolves the id to the token's principal, so a revoked token ends its
sessions at once, and signing out ends the session on the server (a copied cookie is then useless).

Login CSRF (a forged cross-site sign-in into the attacker's account) is stopped by a pre-session
double-submit value: the sign-in page sets it in a SameSite=Strict cookie and in the form, and the
sign-in POST must carry both, equal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db.models import ApiToken, User, WebSession
from app.services.auth import Principal

SESSION_HOURS = 12


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same_secret(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; an absent value never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


@dataclass(frozen=True)
class WebUser:
    principal: Principal
    csrf_token: str


def open_session(session: Session, principal: Principal, hours: float = SESSION_HOURS) -> tuple[str, str]:
    """Store a new session for ``principal``; returns ``(session id, csrf token)`` (the caller commits)."""
    session_id, csrf = new_secret(), new_secret()
    now = datetime.now(UTC)
    session.add(
        WebSession(
            session_hash=_digest(session_id),
            token_id=principal.token_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return session_id, csrf


def resolve_session(session: Session, session_id: str) -> WebUser | None:
    """The live session's user and CSRF token, or None (unknown, ended, expired, or token revoked)."""
    if not session_id or len(session_id) > 100:
        return None
    row = session.execute(
        select(WebSession.csrf_token, WebSession.expires_at, ApiToken.id, ApiToken.role, User.name)
        .join(ApiToken, ApiToken.id == WebSession.token_id)
        .join(User, User.id == ApiToken.user_id)
        .where(
            WebSession.session_hash == _digest(session_id),
            WebSession.ended_at.is_(None),
            ApiToken.revoked_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= datetime.now(UTC):
        return None
    return WebUser(Principal(user=row.name, role=row.role, token_id=row.id), row.csrf_token)


def end_session(session: Session, session_id: str) -> None:
    """End the session (sign-out); the caller commits."""
    session.execute(
        update(WebSession)
        .where(WebSession.session_hash == _digest(session_id), WebSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC))
    )
