"""Write FIN messages: an MT103 from a canonical Payment, an MT199 for free-format investigations.

Contract:

* :func:`write_mt103` returns FIN text (blocks 1, 2, 3 when ``payment.uetr`` is set, 4 and LF line
  ends) that :func:`~tools.messages.swift.parse_fin` reads back to the same payment fields. The
  option of each party field follows the data: 50A/59A for a party identified by a BIC alone, 50F/59F
  when a country or town is known, 50K/59 otherwise; agents use option A with a BIC, D with a name,
  C with a clearing code. It raises :class:`~tools.errors.ValidationError` when the payment lacks
  what an MT103 needs (sender and receiver BIC, reference, value date, currency, amount).
* :func:`write_mt199` returns an MT199 with 20, 21 (when given) and 79 (the narrative, folded to the
  SWIFT X character set and wrapped at 50 characters). Same error for missing BICs or reference.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from tools.errors import ValidationError
from tools.messages.model import Account, Agent, Party, Payment

_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_NOT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_CHARGE_CODES = {"DEBT": "OUR", "CRED": "BEN", "SHAR": "SHA"}
# A table: its rows are alike by design.
_AGENT_TAGS = (
    ("instructing_agent", "51", "A"),
    ("debtor_agent", "52", "AD"),
    ("senders_correspondent", "53", "ABD"),
    ("receivers_correspondent", "54", "ABD"),
    ("intermediary_agent", "56", "ACD"),
    ("creditor_agent", "57", "ABCD"),
)


# Letters that Unicode decomposition does not reduce to ASCII.
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Ø": "O",
        "ø": "o",
        "Œ": "OE",
        "œ": "oe",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
    }
)


def to_x_charset(text: str) -> str:
    """Fold ``text`` into the SWIFT X character set: accents dropped, other characters as '.'."""
    folded = (
        unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    return _NOT_X.sub(".", folded)


def fin_amount(amount: Decimal) -> str:
    """Decimal to FIN notation: ``1234.5`` -> ``1234,5``, ``100`` -> ``100,``."""
    text = format(abs(amount), "f")
    return text.replace(".", ",") if "." in text else text + ","


def _lt_address(bic: str, what: str) -> str:
    bic = bic.strip().upper()
    if not _BIC.fullmatch(bic):
        raise ValidationError(f"{what} {bic!r} is not a BIC", source="write")
    return bic[:8] + "A" + (bic[8:11] if len(bic) == 11 else "XXX")


def _headers(sender: str | None, receiver: str | None, mt: str, uetr: str | None = None) -> str:
    missing = [name for name, value in (("sender_bic", sender), ("receiver_bic", receiver)) if not value]
    if missing:
        raise ValidationError(f"cannot address an MT{mt}: missing {', '.join(missing)}", source="write")
    assert sender is not None and receiver is not None
    local, remote = _lt_address(sender, "sender_bic"), _lt_address(receiver, "receiver_bic")
    head = f"{{1:F01{local}0000000000}}{{2:I{mt}{remote}N}}"
    if uetr:
        head += f"{{3:{{121:{uetr}}}}}"
    return head


def _account_line(account: Account | None) -> str | None:
    if account is None:
        return None
    value = account.iban or account.other
    return f"/{value}" if value else None


def _party(number: str, party: Party) -> list[str]:
    account = _account_line(party.account)
    identifier = party.identifier or ""
    if identifier and _BIC.fullmatch(identifier) and not party.name and not party.address_lines:
        return [f":{number}A:{account}" if account else f":{number}A:{identifier}"] + (
            [identifier] if account else []
        )
    if (party.country or party.town) and (account or identifier):
        lines = [account or identifier]
        if party.name:
            lines.extend(f"1/{part}" for part in textwrap.wrap(party.name, 33) or [party.name])
        lines.extend(f"2/{line}" for line in party.address_lines)
        if party.country:
            lines.append(f"3/{party.country}" + (f"/{party.town}" if party.town else ""))
        return [f":{number}F:{lines[0]}", *lines[1:]]
    lines = [x for x in (account, party.name, *party.address_lines) if x]
    if not lines:
        return []
    tag = f":{number}K:" if number == "50" else f":{number}:"
    return [tag + lines[0], *lines[1:]]


def _agent(number: str, options: str, agent: Agent) -> list[str]:
    first = _account_line(agent.account)
    if agent.clearing_id:
        first = f"//{agent.clearing_id}"
    if agent.bic:
        body = [x for x in (first, agent.bic) if x]
        return [f":{number}A:{body[0]}", *body[1:]]
    if agent.name and "D" in options:
        body = [x for x in (first, agent.name, *agent.address_lines) if x]
        return [f":{number}D:{body[0]}", *body[1:]]
    if agent.address_lines and "B" in options:
        body = [x for x in (first, *agent.address_lines) if x]
        return [f":{number}B:{body[0]}", *body[1:]]
    if first and "C" in options:
        return [f":{number}C:{first}"]
    return []


def _multi(tag: str, lines: Iterable[str]) -> list[str]:
    items = [x for x in lines if x]
    return [f":{tag}:{items[0]}", *items[1:]] if items else []


def write_mt103(payment: Payment) -> str:
    """FIN MT103 text for ``payment`` (see the module docstring)."""
    missing = [
        name
        for name in ("reference", "value_date", "currency", "amount")
        if getattr(payment, name) in (None, "")
    ]
    if missing:
        raise ValidationError(f"cannot write an MT103: missing {', '.join(missing)}", source="write")
    assert payment.value_date is not None and payment.amount is not None
    body = [f":20:{payment.reference}", f":23B:{payment.bank_operation_code or 'CRED'}"]
    body += [f":23E:{code}" for code in payment.instruction_codes]
    if payment.purpose:
        body.append(f":26T:{payment.purpose}")
    body.append(f":32A:{payment.value_date:%y%m%d}{payment.currency}{fin_amount(payment.amount)}")
    if payment.instructed_amount is not None and payment.instructed_currency:
        body.append(f":33B:{payment.instructed_currency}{fin_amount(payment.instructed_amount)}")
    if payment.exchange_rate is not None:
        body.append(f":36:{fin_amount(payment.exchange_rate)}")
    if payment.debtor is not None:
        body += _party("50", payment.debtor)
    for role, number, options in _AGENT_TAGS:
        agent = getattr(payment, role)
        if agent is not None:
            body += _agent(number, options, agent)
    if payment.creditor is not None:
        body += _party("59", payment.creditor)
    if payment.remittance_information is not None:
        body += _multi("70", payment.remittance_information.unstructured)
    if payment.charge_bearer in _CHARGE_CODES:
        body.append(f":71A:{_CHARGE_CODES[payment.charge_bearer]}")
    for charge in payment.charges:
        tag = "71F" if charge.kind == "sender" else "71G"
        body.append(f":{tag}:{charge.currency}{fin_amount(charge.amount)}")
    body += _multi("72", payment.sender_to_receiver_information)
    body += _multi("77B", payment.regulatory_reporting)
    head = _headers(payment.sender_bic, payment.receiver_bic, "103", payment.uetr)
    return head + "{4:\n" + "\n".join(body) + "\n-}"


def write_mt199(
    sender_bic: str,
    receiver_bic: str,
    reference: str,
    related_reference: str | None,
    narrative_lines: Iterable[str],
) -> str:
    """FIN MT199 (free format) text; the narrative goes to field 79 (see the module docstring)."""
    if not reference or not reference.strip():
        raise ValidationError("cannot write an MT199: missing reference", source="write")
    wrapped: list[str] = []
    for line in narrative_lines:
        folded = to_x_charset(line).rstrip()
        wrapped.extend(textwrap.wrap(folded, 50) or ([""] if wrapped else []))
    if not any(x.strip() for x in wrapped):
        raise ValidationError("cannot write an MT199: empty narrative", source="write")
    if len(wrapped) > 35:
        raise ValidationError(f"MT199 narrative is {len(wrapped)} lines; field 79 allows 35", source="write")
    body = [f":20:{to_x_charset(reference.strip())[:16]}"]
    if related_reference:
        body.append(f":21:{to_x_charset(related_reference.strip())[:16]}")
    body += _multi("79", wrapped) if wrapped[0] else [":79:" + "\n".join(wrapped)]
    return _headers(sender_bic, receiver_bic, "199") + "{4:\n" + "\n".join(body) + "\n-}"
