"""Party resolution without a customer id: which customer is the party a payment names?

A case may arrive without ``customer_id``. The payment still names the party (creditor or debtor):
its name, address lines, country and account. :func:`resolve_party` scores every plausible customer
on each kind of evidence and resolves only when the answer is clear:

- name: the best :func:`~tools.payments.names.name_similarity` against the customer's name and its
  SSIs' beneficiary names (look-alike characters never pass);
- account: 1.0 when the account (normalised: spaces, case) is one of the customer's accounts or
  SSI accounts; 0.7 when it is one keying error away from one (one character changed, or two
  adjacent characters swapped, same country and length): the typical AC01 case;
- address: the share of the given address tokens found in the customer's or SSI's address;
- country: equal or not.

The score is a weighted mean (name 0.5, account 0.3, address 0.15, country 0.05). Resolved means:
name score >= 0.85, corroborated by the account (>= 0.7) or the address (>= 0.5), no look-alike
characters, and a lead of at least :data:`MARGIN` over the best *other* customer. Anything less is
``resolved: false`` with the candidates, so the procedure treats the party as unknown.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from tools.payments.common import compact, text_arg
from tools.payments.names import name_similarity
from tools.refdata.schema import Customer, Ssi
from tools.refdata.store import RefDataStore

WEIGHTS = {"name": 0.5, "account": 0.3, "address": 0.15, "country": 0.05}
NAME_MIN = 0.85
CANDIDATE_NAME_MIN = 0.6
ACCOUNT_NEAR = 0.7
ADDRESS_MIN = 0.5
MARGIN = 0.15
_MAX_CANDIDATES = 5
_TOKEN = re.compile(r"[a-z0-9]+")


def resolve_party(
    store: RefDataStore,
    name: str,
    iban: str | None = None,
    address_lines: list[str] | None = None,
    country: str | None = None,
) -> dict[str, Any]:
    """The customer the party ``name`` (with its account, address and country) identifies.

    Result: ``resolved``, ``customer_id`` and ``score`` (when resolved), ``ambiguous`` (a rival
    within :data:`MARGIN`), ``candidates`` (best first: ``customer_id``, ``name``, ``score`` and the
    per-evidence scores), ``ref`` = ``party:<customer_id>`` when resolved.
    """
    query = text_arg(name, "name", max_len=200)
    account = compact(text_arg(iban, "iban", max_len=64)) if iban else None
    lines = [text_arg(line, "address_lines", max_len=200) for line in address_lines or []]
    wanted_country = text_arg(country, "country", max_len=2).upper() if country else None

    pool: dict[str, Customer] = {}
    if query:
        for customer in store.customers():
            if name_similarity(query, customer.name).score >= CANDIDATE_NAME_MIN:
                pool[customer.customer_id] = customer
    if account:
        owner = store.get_account(account)
        owners = [owner.customer_id] if owner else []
        owners += [s.customer_id for s in store.ssis_with_iban(account)]
        for customer_id in owners:
            owned = store.get_customer(customer_id)
            if owned is not None:
                pool[customer_id] = owned

    scored = [_score(store, customer, query, account, lines, wanted_country) for customer in pool.values()]
    scored.sort(key=lambda c: (-c["score"], c["customer_id"]))
    candidates = scored[:_MAX_CANDIDATES]
    best = candidates[0] if candidates else None
    rival = candidates[1]["score"] if len(candidates) > 1 else 0.0
    ambiguous = best is not None and best["score"] - rival < MARGIN
    corroborated = best is not None and (
        (best["account"] or 0.0) >= ACCOUNT_NEAR or (best["address"] or 0.0) >= ADDRESS_MIN
    )
    resolved = bool(
        best and best["name"] >= NAME_MIN and not best["homoglyph"] and corroborated and not ambiguous
    )
    result: dict[str, Any] = {"resolved": resolved, "ambiguous": ambiguous, "candidates": candidates}
    if resolved and best:
        result.update(
            customer_id=best["customer_id"], score=best["score"], ref=f"party:{best['customer_id']}"
        )
    return result


def _score(
    store: RefDataStore,
    customer: Customer,
    query: str,
    account: str | None,
    lines: list[str],
    country: str | None,
) -> dict[str, Any]:
    ssis: list[Ssi] = store.ssis_of(customer.customer_id)
    names = [customer.name, *(s.beneficiary_name for s in ssis)]
    checks = [name_similarity(query, n) for n in names] if query else []
    name_check = max(checks, key=lambda c: c.score) if checks else None
    name = name_check.score if name_check else 0.0
    accounts = {a.iban for a in store.accounts_of(customer.customer_id)} | {s.iban for s in ssis}
    account_score = None if not account else max((_account_match(account, a) for a in accounts), default=0.0)
    addresses = [list(customer.address_lines), *(list(s.address_lines) for s in ssis)]
    address_score = None if not lines else max((_address_match(lines, a) for a in addresses), default=0.0)
    countries = {customer.country, *(s.country for s in ssis)} - {None}
    country_score = None if not country else float(country in countries)
    parts = {"name": name, "account": account_score, "address": address_score, "country": country_score}
    score = sum(WEIGHTS[k] * (v or 0.0) for k, v in parts.items())
    return {
        "customer_id": customer.customer_id,
        "name_on_file": customer.name,
        "score": round(score, 3),
        "name": round(name, 3),
        "account": account_score,
        "address": None if address_score is None else round(address_score, 3),
        "country": country_score,
        "homoglyph": bool(name_check and name_check.homoglyph),
        "ref": f"customer:{customer.customer_id}",
    }


def _account_match(given: str, known: str) -> float:
    """1.0 equal; :data:`ACCOUNT_NEAR` one keying error apart (same country and length); else 0."""
    if given == known:
        return 1.0
    if len(given) != len(known) or given[:2] != known[:2]:
        return 0.0
    diffs = [i for i, (a, b) in enumerate(zip(given, known, strict=True)) if a != b]
    if len(diffs) == 1:
        return ACCOUNT_NEAR
    if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
        i = diffs[0]
        if given[i] == known[i + 1] and given[i + 1] == known[i]:
            return ACCOUNT_NEAR
    return 0.0


def _tokens(lines: list[str]) -> set[str]:
    folded = unicodedata.normalize("NFKD", " ".join(lines)).encode("ascii", "ignore").decode().lower()
    return set(_TOKEN.findall(folded))


def _address_match(given: list[str], known: list[str]) -> float:
    """The share of the given address's tokens that the known address has."""
    want, have = _tokens(given), _tokens(known)
    return len(want & have) / len(want) if want and have else 0.0
