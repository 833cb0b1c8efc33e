"""Customer and account look-ups over the reference-data store."""

from __future__ import annotations

from typing import Any

from tools.payments.common import compact, text_arg
from tools.payments.names import name_similarity
from tools.refdata.schema import Customer
from tools.refdata.store import RefDataStore

MATCH_THRESHOLD = 0.85  # find_customer's ``found``: the best name scores at least this
TIE_MARGIN = 0.02
_MAX_CANDIDATES = 5


def _customer_fields(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.customer_id,
        "name": customer.name,
        "country": customer.country,
        "address_lines": list(customer.address_lines),
        "ref": f"customer:{customer.customer_id}",
    }


def get_customer(store: RefDataStore, customer_id: str) -> dict[str, Any]:
    """Result: ``found``, ``customer_id``, ``name``, ``country``, ``address_lines``, ``ref`` =
    ``customer:<id>`` (only when found)."""
    wanted = text_arg(customer_id, "customer_id", max_len=64)
    customer = store.get_customer(wanted) if wanted else None
    if customer is None:
        return {"found": False, "customer_id": wanted}
    return {"found": True, **_customer_fields(customer)}


def find_customer(store: RefDataStore, name: str, country: str | None = None) -> dict[str, Any]:
    """Customers whose name resembles ``name`` (legal forms, case and accents ignored).

    Result: ``found`` (best score >= 0.85, no look-alike characters, no rival within 0.02),
    ``best`` {customer fields, ``score``} or None, ``candidates`` (best first), ``homoglyph`` (the
    query matches a customer only through look-alike characters).
    """
    query = text_arg(name, "name", max_len=200)
    wanted_country = text_arg(country, "country", max_len=2).upper() if country else None
    scored: list[dict[str, Any]] = []
    if query:
        for customer in store.customers(wanted_country):
            check = name_similarity(query, customer.name)
            if check.score >= 0.4:
                scored.append(
                    {**_customer_fields(customer), "score": check.score, "homoglyph": check.homoglyph}
                )
    scored.sort(key=lambda c: (-c["score"], c["customer_id"]))
    candidates = scored[:_MAX_CANDIDATES]
    best = candidates[0] if candidates else None
    ambiguous = len(candidates) > 1 and candidates[0]["score"] - candidates[1]["score"] <= TIE_MARGIN
    homoglyph = bool(best and best["homoglyph"])
    found = bool(best and best["score"] >= MATCH_THRESHOLD and not ambiguous and not homoglyph)
    result: dict[str, Any] = {
        "found": found,
        "best": best,
        "candidates": candidates,
        "ambiguous": ambiguous,
        "homoglyph": homoglyph,
    }
    if found and best:
        result["ref"] = best["ref"]
    return result


def lookup_account(store: RefDataStore, iban: str) -> dict[str, Any]:
    """The account held under ``iban`` (any spacing or case).

    Result: ``found``, ``iban``, ``status`` (``open``/``closed``/``blocked``), ``customer_id``,
    ``currency``, ``bic``, ``ref`` = ``account:<IBAN>``; plus ``open_accounts`` (the same customer's
    other open accounts in that currency, each with ``iban``, ``bic``, ``ref``) and
    ``replacement_iban``/``replacement_ref`` when the account is not open and exactly one such
    open account exists.
    """
    value = compact(text_arg(iban, "iban", max_len=64))
    account = store.get_account(value) if value else None
    if account is None:
        return {"found": False, "iban": value}
    others = [
        {"iban": other.iban, "bic": other.bic, "ref": f"account:{other.iban}"}
        for other in store.accounts_of(account.customer_id, account.currency)
        if other.status == "open" and other.iban != account.iban
    ]
    result: dict[str, Any] = {
        "found": True,
        "iban": account.iban,
        "status": account.status,
        "customer_id": account.customer_id,
        "currency": account.currency,
        "bic": account.bic,
        "open_accounts": others,
        "replacement_iban": None,
        "replacement_ref": None,
        "ref": f"account:{account.iban}",
    }
    if account.status != "open" and len(others) == 1:
        result.update(replacement_iban=others[0]["iban"], replacement_ref=others[0]["ref"])
    return result
