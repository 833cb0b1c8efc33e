"""API tokens: random bearer tokens, stored only as SHA-256 hex, each mapped to a user and a role.

``create_token`` returns the clear token once (the caller prints it); ``resolve_token`` maps a
presented token to a :class:`Principal` or ``None``. Demo tokens are deterministic strings so the
README can list them; production tokens come from ``secrets.token_urlsafe``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ApiToken, User
from tools.errors import ValidationError

ROLES: tuple[str, ...] = ("analyst", "approver", "admin", "service")
TOKEN_PREFIX = "rd_"

DEMO_TOKENS: dict[str, tuple[str, str]] = {
    # token: (user, role); printed by `repairdesk bootstrap` and listed in the README
    "demo-analyst-token": ("demo-analyst", "analyst"),
    "demo-approver-token": ("demo-approver", "approver"),
    "demo-approver2-token": ("demo-approver2", "approver"),
    "demo-admin-token": ("demo-admin", "admin"),
    "demo-service-token": ("demo-service", "service"),
}


@dataclass(frozen=True)
class Principal:
    user: str
    role: str
    token_id: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check(user: str, role: str) -> None:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", source="--role")
    if not user or len(user) > 80 or not user.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValidationError("user names are 1-80 letters, digits, '-', '_' or '.'", source="--user")


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name)
        session.add(user)
        session.flush()
    return user


def create_token(session: Session, user: str, role: str, token: str | None = None) -> str:
    """Store a new token for ``user`` with ``role`` (creating the user) and return it in clear."""
    _check(user, role)
    clear = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    digest = hash_token(clear)
    existing = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if existing is not None:
        return clear  # the same deterministic demo token again: nothing to do
    session.add(ApiToken(user_id=_user(session, user).id, role=role, token_hash=digest))
    return clear


def resolve_token(session: Session, token: str) -> Principal | None:
    row = session.execute(
        select(ApiToken.id, ApiToken.role, User.name)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    return Principal(user=row.name, role=row.role, token_id=row.id)
