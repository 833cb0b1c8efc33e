"""The queue page's query: filters, sort and server-side pagination over indexed case columns.

``QueueQuery.from_params(params, user)`` reads and checks the page's query string (an unknown value
is an error shown in the page, never a 500); ``page(connection, settings)`` runs one COUNT and one
LIMIT/OFFSET select of the queue columns, then reads the latest proposals of just the rows shown
(for the straight-through check). 10,000 cases cost one page of rows, not 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from app.db.models import Case, Proposal
from app.services.cases import QA_FILTERS, STATUSES
from app.services.desk import cutoff_at, cutoff_order, stp_check, time_to
from app.services.stp import in_force
from app.settings import Settings

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Intended near-copy of app.services.cases.QUEUE_COLUMNS: the UI's table reads its own columns by name.
COLUMNS = (
    Case.seq,
    Case.id,
    Case.status,
    Case.exception_code,
    Case.action,
    Case.confidence,
    Case.amount,
    Case.currency,
    Case.beneficiary,
    Case.value_date,
    Case.assignee,
    Case.created_at,
    Case.straight_through,
    Case.qa_status,
)
SORT_KEYS = ("age", "case", "code", "status", "action", "confidence", "amount", "currency", "beneficiary",
             "value_date", "cutoff", "assignee")  # fmt: skip
SORT_LABELS = {"age": "age (oldest first)", "value_date": "value date", "cutoff": "time to cut-off"}


def _sort_columns(key: str, settings: Settings) -> list[ColumnElement[Any]]:
    by: dict[str, list[Any]] = {
        "age": [Case.seq],
        "case": [Case.id],
        "code": [Case.exception_code],
        "status": [Case.status],
        "action": [Case.action],
        "confidence": [Case.confidence],
        "amount": [Case.amount],
        "currency": [Case.currency],
        "beneficiary": [Case.beneficiary],
        "value_date": [Case.value_date],
        "cutoff": [Case.value_date, cutoff_order(settings)],
        "assignee": [Case.assignee],
    }
    return by[key]


@dataclass
class QueueQuery:
    status: str = ""
    code: str = ""
    action: str = ""
    confidence_min: float | None = None
    currency: str = ""
    assignee: str = ""  # a user name, "me", "none"
    beneficiary: str = ""
    amount_min: float | None = None
    amount_max: float | None = None
    value_from: date | None = None
    value_to: date | None = None
    qa: str = ""  # one of QA_FILTERS: straight-through cases, or those in a QA state
    sort: str = "age"
    descending: bool = False
    page: int = 1
    size: int = PAGE_SIZE
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict[str, str], user: str) -> QueueQuery:
        q = cls()
        get = lambda name: (params.get(name) or "").strip()  # noqa: E731
        q.status = get("status")
        if q.status and q.status not in STATUSES:
            q.errors.append(f"Unknown status {q.status!r}.")
            q.status = ""
        q.code = get("code").upper()[:40]
        q.action = get("action").lower()[:20]
        q.confidence_min = q._number(get("confidence_min"), "minimum confidence")
        q.currency = get("currency").upper()[:3]
        assignee = get("assignee")
        q.assignee = user if assignee == "me" else assignee[:80]
        q.beneficiary = get("beneficiary")[:140]
        q.amount_min = q._number(get("amount_min"), "minimum amount")
        q.amount_max = q._number(get("amount_max"), "maximum amount")
        q.value_from = q._date(get("value_from"), "value date from")
        q.value_to = q._date(get("value_to"), "value date to")
        q.qa = get("qa").lower()
        if q.qa and q.qa not in QA_FILTERS:
            q.errors.append(f"Unknown straight-through filter {q.qa!r}.")
            q.qa = ""
        sort = get("sort") or "age"
        q.descending = sort.startswith("-")
        q.sort = sort.lstrip("-")
        if q.sort not in SORT_KEYS:
            q.errors.append(f"Unknown sort {sort!r}.")
            q.sort, q.descending = "age", False
        q.page = max(1, int(get("page"))) if get("page").isdigit() else 1
        size = get("size")
        q.size = min(MAX_PAGE_SIZE, max(1, int(size))) if size.isdigit() else PAGE_SIZE
        return q

    def _number(self, text: str, what: str) -> float | None:
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            self.errors.append(f"The {what} {text!r} is not a number.")
            return None

    def _date(self, text: str, what: str) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.errors.append(f"The {what} {text!r} is not a date (YYYY-MM-DD).")
            return None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.status:
            where.append(Case.status == self.status)
        if self.code:
            where.append(Case.exception_code == self.code)
        if self.action:
            where.append(Case.action == self.action)
        if self.confidence_min is not None:
            where.append(Case.confidence >= self.confidence_min)
        if self.currency:
            where.append(Case.currency == self.currency)
        if self.assignee == "none":
            where.append(Case.assignee.is_(None))
        elif self.assignee:
            where.append(Case.assignee == self.assignee)
        if self.beneficiary:
            where.append(func.lower(Case.beneficiary).contains(self.beneficiary.lower(), autoescape=True))
        if self.amount_min is not None:
            where.append(Case.amount >= self.amount_min)
        if self.amount_max is not None:
            where.append(Case.amount <= self.amount_max)
        if self.value_from is not None:
            where.append(Case.value_date >= self.value_from)
        if self.value_to is not None:
            where.append(Case.value_date <= self.value_to)
        if self.qa == "stp":
            where.append(Case.straight_through.is_(True))
        elif self.qa:
            where.append(Case.qa_status == self.qa)
        return where

    def params(self, **override: Any) -> dict[str, Any]:
        """The query string of this view (for links: sort headers, pages), with ``override``."""
        values = {
            "status": self.status,
            "code": self.code,
            "action": self.action,
            "confidence_min": "" if self.confidence_min is None else f"{self.confidence_min:g}",
            "currency": self.currency,
            "assignee": self.assignee,
            "beneficiary": self.beneficiary,
            "amount_min": "" if self.amount_min is None else f"{self.amount_min:g}",
            "amount_max": "" if self.amount_max is None else f"{self.amount_max:g}",
            "value_from": self.value_from.isoformat() if self.value_from else "",
            "value_to": self.value_to.isoformat() if self.value_to else "",
            "qa": self.qa,
            "sort": ("-" if self.descending else "") + self.sort,
            "page": self.page,
        } | override
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}

    def page_rows(self, connection: Connection, settings: Settings) -> tuple[list[dict[str, Any]], int]:
        where = self.conditions()
        total = int(connection.execute(select(func.count()).select_from(Case).where(*where)).scalar_one())
        order: list[Any] = [c.desc() if self.descending else c for c in _sort_columns(self.sort, settings)]
        if self.sort != "age":
            order.append(Case.seq)  # a stable order within equal values
        query = (
            select(*COLUMNS)
            .where(*where)
            .order_by(*order)
            .limit(self.size)
            .offset((self.page - 1) * self.size)
        )
        rows = list(connection.execute(query).all())
        return items(connection, rows, settings), total


def _latest_proposals(connection: Connection, case_ids: list[str]) -> dict[str, tuple[dict[str, Any], str]]:
    """Each case's latest proposal: (payload, source)."""
    if not case_ids:
        return {}
    latest = (
        select(Proposal.case_id, func.max(Proposal.version).label("version"))
        .where(Proposal.case_id.in_(case_ids))
        .group_by(Proposal.case_id)
        .subquery()
    )
    query = select(Proposal.case_id, Proposal.payload, Proposal.source).join(
        latest, (Proposal.case_id == latest.c.case_id) & (Proposal.version == latest.c.version)
    )
    return {case_id: (payload, source) for case_id, payload, source in connection.execute(query)}


def items(connection: Connection, rows: list[Any], settings: Settings) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    proposals = _latest_proposals(connection, [row.id for row in rows])
    policy, kill_switch = in_force(connection)
    out = []
    for row in rows:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        cutoff = cutoff_at(settings, row.currency, row.value_date)
        seconds_left, left = time_to(cutoff, now)
        stp = stp_check(
            status=row.status,
            amount=row.amount,
            currency=row.currency,
            proposal=(proposals.get(row.id) or (None, None))[0],
            source=(proposals.get(row.id) or (None, None))[1],
            policy=policy,
            kill_switch=kill_switch,
            settings=settings,
        )
        out.append(
            {
                "case_id": row.id,
                "status": row.status,
                "exception_code": row.exception_code,
                "action": row.action,
                "confidence": row.confidence,
                "amount": row.amount,
                "currency": row.currency,
                "beneficiary": row.beneficiary,
                "value_date": row.value_date.isoformat() if row.value_date else "",
                "assignee": row.assignee,
                "age_seconds": (now - created).total_seconds(),
                "created_at": created.isoformat(),
                "cutoff": cutoff.isoformat() if cutoff else "",
                "cutoff_seconds": seconds_left,
                "cutoff_left": left,
                "stp": stp,
                "straight_through": bool(row.straight_through),
                "qa_status": row.qa_status,
            }
        )
    return out


def next_case(connection: Connection, current: str, user: str) -> str | None:
    """The case to open after deciding ``current``: the next pending one (FIFO) that is the user's or
    unassigned, after ``current`` in the queue, else from the start."""
    seq = connection.execute(select(Case.seq).where(Case.id == current)).scalar()
    base = select(Case.id).where(
        Case.status == "pending_review",
        Case.id != current,
        (Case.assignee.is_(None)) | (Case.assignee == user),
    )
    after = base.where(Case.seq > seq) if seq is not None else base
    found = connection.execute(after.order_by(Case.seq).limit(1)).scalar()
    if found is None and seq is not None:
        found = connection.execute(base.order_by(Case.seq).limit(1)).scalar()
    return found
