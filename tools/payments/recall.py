"""Recall windows: 10 business days (SEPA SCT recall for duplicates and technical errors) and
13 months (recall for fraud), counted on the TARGET2 calendar.

"Today" comes from the ``today`` argument, else the configured clock (:mod:`tools.clock`: fixed by
``REPAIRDESK_TODAY`` so evaluations replay on a known day, else the system date).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from tools import config
from tools.errors import ValidationError
from tools.payments.common import date_arg, text_arg

BUSINESS_DAYS = 10
MONTHS = 13


def today() -> date:
    """Today on the configured clock (see the module docstring)."""
    return config.current().clock.today()


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    j = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * j) // 451
    month = (h + j - 7 * m + 114) // 31
    day = (h + j - 7 * m + 114) % 31 + 1
    return date(year, month, day)


@lru_cache(maxsize=256)
def target_holidays(year: int) -> frozenset[date]:
    """TARGET2 closing days: 1 Jan, Good Friday, Easter Monday, 1 May, 25 and 26 Dec."""
    easter = _easter(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter - timedelta(days=2),
            easter + timedelta(days=1),
            date(year, 5, 1),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in target_holidays(day.year)


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    if end <= start:
        return 0
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_business_day(day)
    return count


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= is_business_day(day)
    return day


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def check_recall_window(value_date: Any, rail: str | None = None, today_: Any = None) -> dict[str, Any]:
    """Whether a payment with ``value_date`` can still be recalled.

    Result: ``value_date``, ``today``, ``days_since`` (calendar), ``business_days_since``,
    ``within_10_days`` (at most 10 TARGET2 business days since the value date),
    ``within_13_months``, ``deadline_10_days``, ``deadline_13_months``, ``rail``,
    ``ref`` = ``recall:<value_date>:<today>``. A future value date is within both windows.
    """
    start = date_arg(value_date, "value_date")
    now = date_arg(today_, "today") if today_ else today()
    if abs((now - start).days) > 36600:
        raise ValidationError("value date more than a century from today", source="value_date")
    rail_name = text_arg(rail, "rail", max_len=32).upper() if rail else None
    deadline_days = add_business_days(start, BUSINESS_DAYS)
    deadline_months = add_months(start, MONTHS)
    return {
        "value_date": start.isoformat(),
        "today": now.isoformat(),
        "rail": rail_name,
        "days_since": (now - start).days,
        "business_days_since": business_days_between(start, now),
        "within_10_days": now <= deadline_days,
        "within_13_months": now <= deadline_months,
        "deadline_10_days": deadline_days.isoformat(),
        "deadline_13_months": deadline_months.isoformat(),
        "ref": f"recall:{start.isoformat()}:{now.isoformat()}",
    }
