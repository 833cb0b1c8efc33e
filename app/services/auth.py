"""API tokens: random bearer tokens, stored only as SHA-256 hex, each mapped to a user and a role.

``create_token`` returns the clear token once (the caller prints it); ``resolve_token`` maps a
presented token to a :class:`Principal` or ``None``. Demo tokens are deterministic strings so the
README can list them; production tokens come from ``secrets.token_urlsafe``.

Administration (``repairdesk token list|revoke|rotate``): ``list_tokens`` shows ids, users, roles and
dates (never a token or its hash); ``revoke_token`` and ``rotate_tokens`` change tokens and append
their audit events in the caller's transaction (the caller commits). A revoked token is refused by
the API once the look-up cache of each API process has expired (``REPAIRDESK_TOKEN_CACHE_SECONDS``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from app.db.models import ApiToken, User
from app.services.audit import append_event
from tools.errors import NotFoundError, ValidationError

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


@dataclass(frozen=True)
class TokenInfo:
    """What administration shows of a token: never the token nor its hash."""

    id: int
    user: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


_INFO_COLUMNS = (ApiToken.id, User.name, ApiToken.role, ApiToken.created_at, ApiToken.revoked_at)


def _info_query() -> Select[int, str, str, datetime, datetime | None]:
    return select(*_INFO_COLUMNS).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)


def _info(row: Row[int, str, str, datetime, datetime | None]) -> TokenInfo:
    token_id, user, role, created_at, revoked_at = row
    return TokenInfo(token_id, user, role, _utc(created_at) or datetime.now(UTC), _utc(revoked_at))


def list_tokens(session: Session, *, user: str | None = None, live_only: bool = False) -> list[TokenInfo]:
    """Every token (or ``user``'s), oldest first; ``live_only`` leaves out revoked ones."""
    query = _info_query()
    if user is not None:
        query = query.where(User.name == user)
    if live_only:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [_info(row) for row in session.execute(query)]


def revoke_token(session: Session, token_id: int, *, actor: str) -> tuple[TokenInfo, bool]:
    """Revoke token ``token_id``; returns it and whether this call revoked it (False: already was).

    Raises :class:`NotFoundError` for an unknown id. Appends ``token_revoked`` when it revokes."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError("no such token (see `repairdesk token list`)", source=f"token {token_id}")
    if token.revoked_at is not None:
        return _info(session.execute(_info_query().where(ApiToken.id == token_id)).one()), False
    token.revoked_at = datetime.now(UTC)
    session.flush()
    info = _info(session.execute(_info_query().where(ApiToken.id == token_id)).one())
    append_event(
        session,
        event="token_revoked",
        actor=actor,
        data={"token_id": info.id, "user": info.user, "role": info.role},
    )
    return info, True


@dataclass(frozen=True)
class Rotation:
    token: str  # the new token, in clear: shown once
    new: TokenInfo
    revoked: list[TokenInfo]


def rotate_tokens(session: Session, user: str, *, actor: str, role: str | None = None) -> Rotation:
    """Revoke ``user``'s live tokens (of ``role``, when given) and issue one new token with their role.

    Raises :class:`NotFoundError` when the user has no live token to rotate, and
    :class:`ValidationError` when the live tokens have several roles and ``role`` does not choose."""
    if role is not None and role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", source="--role")
    live = [t for t in list_tokens(session, user=user, live_only=True) if role is None or t.role == role]
    if not live:
        what = f" with role {role}" if role else ""
        raise NotFoundError(
            f"no live token{what} to rotate (see `repairdesk token list`)", source=f"user {user}"
        )
    roles = sorted({t.role for t in live})
    if len(roles) > 1:
        raise ValidationError(
            f"live tokens have roles {', '.join(roles)}; choose one with --role", source=f"user {user}"
        )
    revoked = [revoke_token(session, t.id, actor=actor)[0] for t in live]
    clear = create_token(session, user, roles[0])
    session.flush()
    new = _info(session.execute(_info_query().where(ApiToken.token_hash == hash_token(clear))).one())
    append_event(
        session,
        event="token_rotated",
        actor=actor,
        data={"user": user, "role": new.role, "token_id": new.id, "revoked": [t.id for t in revoked]},
    )
    return Rotation(token=clear, new=new, revoked=revoked)
