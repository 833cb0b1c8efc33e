"""Parties, agents, accounts and addresses: ISO 20022 building blocks -> canonical model.

Contract: each function takes the node of the block (``Dbtr``, ``DbtrAgt``, ``DbtrAcct``...) or None,
records what it reads under the given dotted ``name`` and returns the canonical object, or None when the
block is absent or carries nothing we map. Works across message versions (``BIC``/``BICFI``,
``BICOrBEI``/``AnyBIC``, ``Pty`` wrappers of v8+ related parties).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from tools.messages.iso20022.record import DERIVED, Recorder
from tools.messages.iso20022.tree import Node
from tools.messages.model import Account, Agent, Party


@cache
def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    return {name: info.get_default(call_default_factory=True) for name, info in model.model_fields.items()}


def _is_blank(model: BaseModel) -> bool:
    """True when every field holds its default: what ``model_dump(exclude_defaults=True)`` would
    leave empty, without serialising the model to find out."""
    defaults = _defaults(type(model))
    return all(value == defaults[name] for name, value in model.__dict__.items())


def address(
    rec: Recorder, name: str, adr: Node | None, *, with_town: bool = True
) -> tuple[list[str], str | None, str | None, str | None]:
    """``PstlAdr`` -> (address_lines, country, town, post_code).

    ``AdrLine`` elements are the lines when present; otherwise the lines are composed from the
    structured elements (street and number, post code and town), the way a person would write them.
    """
    if adr is None:
        return [], None, None, None
    country = rec.text(f"{name}.country", adr, "Ctry")
    if with_town:
        town = rec.text(f"{name}.town", adr, "TwnNm")
        post_code = rec.text(f"{name}.post_code", adr, "PstCd")
    else:  # agents carry no town/post code fields: read them for the address lines only
        town = adr.child_text("TwnNm")
        post_code = adr.child_text("PstCd")
    lines = rec.texts(f"{name}.address_lines", adr, "AdrLine")
    if lines:
        return lines, country, town, post_code

    def part(tag: str) -> str | None:
        return adr.child_text(tag)

    composed: list[str] = []
    for tag in ("Dept", "SubDept"):
        if value := part(tag):
            composed.append(value)
    street = " ".join(v for v in (part("StrtNm"), part("BldgNb")) if v)
    extras = [v for v in (part("BldgNm"), part("Flr"), part("Room")) if v]
    if street or extras:
        composed.append(", ".join([street, *extras]) if street else ", ".join(extras))
    if value := part("PstBx"):
        composed.append(value)
    town_line = " ".join(v for v in (post_code, town) if v)
    subdivision = part("CtrySubDvsn")
    if subdivision:
        town_line = f"{town_line}, {subdivision}" if town_line else subdivision
    if town_line:
        composed.append(town_line)
    for index, line in enumerate(composed):
        rec.field(f"{name}.address_lines[{index}]", line, adr.path, DERIVED)
    return composed, country, town, post_code


def account(rec: Recorder, name: str, node: Node | None) -> Account | None:
    """``CashAccount`` (``DbtrAcct``...) -> Account with ``iban`` or ``other``."""
    if node is None:
        return None
    iban = rec.text(f"{name}.iban", node, "Id/IBAN")
    other = None if iban else rec.text(f"{name}.other", node, "Id/Othr/Id")
    if iban is not None:
        # Kept as the message wrote it: a print-format IBAN ("si56 0125 ...") is what the receiving
        # bank rejected, so the repair must see it; checks validate its electronic form and flag it.
        iban = iban.strip()
    result = Account(
        iban=iban,
        other=other,
        currency=rec.text(f"{name}.currency", node, "Ccy"),
        name=rec.text(f"{name}.name", node, "Nm"),
    )
    return result if result.iban or result.other or result.name else None


def identifier(rec: Recorder, name: str, node: Node) -> str | None:
    for path in (
        "Id/OrgId/AnyBIC",
        "Id/OrgId/BICOrBEI",
        "Id/OrgId/LEI",
        "Id/OrgId/Othr/Id",
        "Id/PrvtId/Othr/Id",
    ):
        value = rec.text(name, node, path)
        if value:
            return value
    return None


def party(rec: Recorder, name: str, node: Node | None, acct: Node | None = None) -> Party | None:
    """``PartyIdentification`` (Dbtr, Cdtr, UltmtDbtr...) plus its account -> Party."""
    if node is None and acct is None:
        return None
    lines: list[str] = []
    country = town = post_code = ident = party_name = None
    if node is not None:
        # v8+ related parties wrap the party in Pty, or an FI in Agt; older versions do not wrap
        wrapped_fi = node.child("Agt")
        if wrapped_fi is not None:
            return fi_party(rec, name, wrapped_fi, acct)
        node = node.child("Pty") or node
        if node.child("FinInstnId") is not None:  # an FI acting as party (pacs.009)
            return fi_party(rec, name, node, acct)
        party_name = rec.text(f"{name}.name", node, "Nm")
        lines, country, town, post_code = address(rec, name, node.child("PstlAdr"))
        ident = identifier(rec, f"{name}.identifier", node)
        if country is None:
            country = rec.text(f"{name}.country", node, "CtryOfRes")
    result = Party(
        name=party_name,
        address_lines=lines,
        country=country,
        town=town,
        post_code=post_code,
        identifier=ident,
        account=account(rec, f"{name}.account", acct),
    )
    return None if _is_blank(result) else result


def fi_party(rec: Recorder, name: str, node: Node, acct: Node | None = None) -> Party:
    """A financial institution as a party (pacs.009 debtor/creditor): BIC in ``identifier``."""
    fin = node.child("FinInstnId") or node
    bic = _bic(rec, f"{name}.identifier", fin)
    if bic is None:
        bic = rec.text(f"{name}.identifier", fin, "ClrSysMmbId/MmbId")
    lines, country, town, post_code = address(rec, name, fin.child("PstlAdr"))
    return Party(
        name=rec.text(f"{name}.name", fin, "Nm"),
        identifier=bic.upper() if bic else None,
        address_lines=lines,
        country=country,
        town=town,
        post_code=post_code,
        account=account(rec, f"{name}.account", acct),
    )


def _bic(rec: Recorder, name: str, fin: Node) -> str | None:
    return rec.text(name, fin, "BICFI") or rec.text(name, fin, "BIC") or rec.text(name, fin, "AnyBIC")


def agent(rec: Recorder, name: str, node: Node | None, acct: Node | None = None) -> Agent | None:
    """``BranchAndFinancialInstitutionIdentification`` (DbtrAgt, InstgAgt...) -> Agent."""
    if node is None:
        return None
    fin = node.child("FinInstnId") or node
    bic = _bic(rec, f"{name}.bic", fin)
    lines, country, _town, _post_code = address(rec, name, fin.child("PstlAdr"), with_town=False)
    result = Agent(
        bic=bic.upper() if bic else None,
        name=rec.text(f"{name}.name", fin, "Nm"),
        clearing_id=rec.text(f"{name}.clearing_id", fin, "ClrSysMmbId/MmbId"),
        address_lines=lines,
        country=country,
        account=account(rec, f"{name}.account", acct),
    )
    return None if _is_blank(result) else result
