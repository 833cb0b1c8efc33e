"""E-invoices read exactly: UN/CEFACT CII (ZUGFeRD 1/2, Factur-X, XRechnung CII) and OASIS UBL.

Contract:

- :func:`is_einvoice_xml` ``(data) -> bool``: the bytes are a CII or UBL invoice (root element test
  only; nothing else is parsed).
- :func:`read_einvoice` ``(data, source) -> Extraction``: ``doc_type`` ``invoice`` with the XML's
  values, each field's provenance an XPath (prefixes as in :data:`PREFIXES`) and confidence 1.0.
  Raises :class:`~tools.errors.ParseError` / ``UnsafeInputError`` through the shared safe loader
  (defusedxml: no DTDs, no entities) and ParseError for XML that is not an e-invoice.
- :func:`embedded_xml` ``(pdf) -> (name, bytes) | None``: the invoice XML a PDF/A-3 carries as an
  attachment (``factur-x.xml``, ``ZUGFeRD-invoice.xml``, ``xrechnung.xml`` or any attached XML whose
  root is CII/UBL), read through PDFium's attachment API; :func:`einvoice_of` picks it from the
  attachments the PDF reader already collected (:func:`xml_attachments`).

A credit note (CII type code 381/396, UBL ``CreditNote``) states its total as a positive amount;
the extraction signs it negative, as the printed page does, so it can never pass for a payment.
The payee's IBAN/BIC come only from the creditor account elements: a direct debit's debtor account
(``PayerPartyDebtorFinancialAccount``) is the buyer's and is never reported as the payee's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element

from tools.errors import ParseError
from tools.messages.model import ExtractedField, Extraction, FieldSource, Party, Remittance

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
_CII_ROOTS = {"CrossIndustryInvoice", "CrossIndustryDocument"}
_UBL_ROOTS = {"Invoice", "CreditNote"}
_CREDIT_CODES = {"381", "396", "532"}

# Namespace URI -> the prefix the XPaths use (the conventional ones of each standard).
PREFIXES: dict[str, str] = {
    "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100": "rsm",
    "urn:ferd:CrossIndustryDocument:invoice:1p0": "rsm",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100": "ram",
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12": "ram",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100": "udt",
    "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15": "udt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:100": "qdt",
    "urn:un:unece:uncefact:data:standard:QualifiedDataType:12": "qdt",
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "ubl",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "ubl",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _root_name(data: bytes) -> str | None:
    """The local name of the first element, read without building a tree."""
    import re

    head = data[:8192].decode("utf-8", errors="replace")
    head = re.sub(r"<!--.*?-->", "", head, flags=re.S)
    match = re.search(r"<(?![?!])(?:[\w.-]+:)?([\w.-]+)", head)
    return match.group(1) if match else None


def is_einvoice_xml(data: bytes) -> bool:
    name = _root_name(data)
    if name in _CII_ROOTS:
        return True
    # UBL's roots are plain words; require UBL's own namespace so other "Invoice" XML is not taken.
    return name in _UBL_ROOTS and b"urn:oasis:names:specification:ubl:schema:xsd" in data[:8192]


@dataclass
class _Found:
    value: str
    xpath: str


class _Tree:
    """Element look-up by local-name paths, answering the value with the XPath it was read at."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.parents: dict[int, Element] = {}
        # Every element by its local name, in document order: a path's first step is looked up
        # here instead of walking the whole tree for each field.
        self.named: dict[str, list[Element]] = {}
        for parent in root.iter():
            self.named.setdefault(_local(parent.tag), []).append(parent)
            for child in parent:
                self.parents[id(child)] = parent

    def xpath(self, element: Element) -> str:
        steps: list[str] = []
        current: Element | None = element
        while current is not None:
            parent = self.parents.get(id(current))
            namespace = current.tag[1:].split("}", 1)[0] if current.tag.startswith("{") else ""
            prefix = PREFIXES.get(namespace)
            step = f"{prefix}:{_local(current.tag)}" if prefix else _local(current.tag)
            if parent is not None:
                same = [c for c in parent if c.tag == current.tag]
                if len(same) > 1:
                    step += f"[{same.index(current) + 1}]"
            steps.append(step)
            current = parent
        return "/" + "/".join(reversed(steps))

    def find_all(self, *path: str, start: Element | None = None) -> Iterator[Element]:
        """Descendants matching the local-name ``path``; the first step may sit at any depth."""
        if start is None:
            for first in self.named.get(path[0], []):
                yield from self._walk(first, path[1:])
            return
        for first in start.iter():
            if _local(first.tag) == path[0]:
                yield from self._walk(first, path[1:])

    def _walk(self, element: Element, rest: tuple[str, ...]) -> Iterator[Element]:
        if not rest:
            yield element
            return
        for child in element:
            if _local(child.tag) == rest[0]:
                yield from self._walk(child, rest[1:])

    def first(self, *path: str, start: Element | None = None) -> _Found | None:
        for element in self.find_all(*path, start=start):
            text = (element.text or "").strip()
            if text:
                return _Found(text, self.xpath(element))
        return None


def _cii_date(found: _Found | None) -> _Found | None:
    """CII dates are ``DateTimeString format="102"`` (YYYYMMDD)."""
    if found is None:
        return None
    digits = found.value.strip()
    if len(digits) == 8 and digits.isdigit():
        return _Found(f"{digits[:4]}-{digits[4:6]}-{digits[6:]}", found.xpath)
    return _Found(digits[:10], found.xpath)


def _cii(tree: _Tree) -> dict[str, _Found]:
    out: dict[str, _Found | None] = {}
    header = next(tree.find_all("ExchangedDocument"), None) or next(
        tree.find_all("HeaderExchangedDocument"), None
    )
    if header is not None:
        out["invoice_number"] = tree.first("ID", start=header)
        out["type_code"] = tree.first("TypeCode", start=header)
        out["invoice_date"] = _cii_date(tree.first("IssueDateTime", "DateTimeString", start=header))
    out["payee"] = tree.first("SellerTradeParty", "Name")
    out["payer"] = tree.first("BuyerTradeParty", "Name")
    out["seller_vat"] = next(
        (
            _Found((e.text or "").strip(), tree.xpath(e))
            for e in tree.find_all("SellerTradeParty", "SpecifiedTaxRegistration", "ID")
            if e.get("schemeID") == "VA"
        ),
        None,
    )
    out["currency"] = tree.first("InvoiceCurrencyCode")
    out["total_amount"] = tree.first(
        "SpecifiedTradeSettlementHeaderMonetarySummation", "GrandTotalAmount"
    ) or tree.first("SpecifiedTradeSettlementMonetarySummation", "GrandTotalAmount")
    out["due_date"] = _cii_date(tree.first("SpecifiedTradePaymentTerms", "DueDateDateTime", "DateTimeString"))
    out["iban"] = tree.first("PayeePartyCreditorFinancialAccount", "IBANID")
    out["bic"] = tree.first("PayeeSpecifiedCreditorFinancialInstitution", "BICID")
    out["payment_reference"] = tree.first(
        "ApplicableHeaderTradeSettlement", "PaymentReference"
    ) or tree.first("ApplicableSupplyChainTradeSettlement", "PaymentReference")
    return {k: v for k, v in out.items() if v is not None and v.value}


def _ubl(tree: _Tree) -> dict[str, _Found]:
    root = tree.root
    out: dict[str, _Found | None] = {}

    def child(name: str) -> _Found | None:
        element = next((c for c in root if _local(c.tag) == name), None)
        text = (element.text or "").strip() if element is not None else ""
        return _Found(text, tree.xpath(element)) if element is not None and text else None

    out["invoice_number"] = child("ID")
    out["invoice_date"] = child("IssueDate")
    out["type_code"] = child("InvoiceTypeCode") or child("CreditNoteTypeCode")
    out["currency"] = child("DocumentCurrencyCode")
    out["due_date"] = child("DueDate") or tree.first("PaymentMeans", "PaymentDueDate")
    for role, party in (("payee", "AccountingSupplierParty"), ("payer", "AccountingCustomerParty")):
        out[role] = tree.first(party, "Party", "PartyLegalEntity", "RegistrationName") or tree.first(
            party, "Party", "PartyName", "Name"
        )
    out["seller_vat"] = tree.first("AccountingSupplierParty", "Party", "PartyTaxScheme", "CompanyID")
    out["total_amount"] = tree.first("LegalMonetaryTotal", "TaxInclusiveAmount")
    out["iban"] = tree.first("PaymentMeans", "PayeeFinancialAccount", "ID")
    out["bic"] = tree.first("PaymentMeans", "PayeeFinancialAccount", "FinancialInstitutionBranch", "ID")
    out["payment_reference"] = tree.first("PaymentMeans", "PaymentID")
    return {k: v for k, v in out.items() if v is not None and v.value}


def read_fields(data: bytes, source: str) -> tuple[str, dict[str, _Found]]:
    """``(standard, {field: found})`` of a CII or UBL invoice; ``standard`` is ``cii`` or ``ubl``."""
    from tools.messages.iso20022.safe import load_xml

    root = load_xml(data, source)
    name = _local(root.tag)
    tree = _Tree(root)
    if name in _CII_ROOTS:
        return "cii", _cii(tree)
    if name in _UBL_ROOTS:
        found = _ubl(tree)
        if name == "CreditNote" and "type_code" not in found:
            found["type_code"] = _Found("381", tree.xpath(root))
        return "ubl", found
    raise ParseError(f"not a CII or UBL invoice (root element {name})", source=source)


_FIELD_NAMES = {
    "invoice_number": "remittance.invoice_number",
    "invoice_date": "remittance.invoice_date",
    "due_date": "remittance.due_date",
    "currency": "remittance.currency",
    "total_amount": "remittance.total_amount",
    "iban": "remittance.iban",
    "bic": "remittance.bic",
    "payment_reference": "remittance.payment_reference",
    "payee": "remittance.payee.name",
    "payer": "remittance.payer.name",
}


def read_einvoice(data: bytes, source: str) -> Extraction:
    standard, found = read_fields(data, source)
    values: dict[str, Any] = {}
    fields: list[ExtractedField] = []
    for key, name in _FIELD_NAMES.items():
        item = found.get(key)
        if item is None:
            continue
        value: Any = item.value
        try:
            if key in {"invoice_date", "due_date"}:
                value = date.fromisoformat(item.value)
            elif key == "total_amount":
                value = Decimal(item.value)
                if found.get("type_code") is not None and found["type_code"].value in _CREDIT_CODES:
                    value = -abs(value)
            elif key == "iban":
                value = item.value.replace(" ", "").upper()
        except (ValueError, InvalidOperation):
            continue  # a malformed value is left out rather than guessed
        if key in {"payee", "payer"}:
            values[key] = Party(name=item.value)
        else:
            values[key] = value
        fields.append(
            ExtractedField(name=name, value=str(value), confidence=1.0, source=FieldSource(xpath=item.xpath))
        )
    raw = {
        "einvoice": standard,
        "namespaces": standard_namespaces(data),
        "type_code": found["type_code"].value if "type_code" in found else None,
        "seller_vat": found["seller_vat"].value if "seller_vat" in found else None,
    }
    return Extraction(
        source=source, doc_type="invoice", remittance=Remittance(**values), fields=fields, raw=raw
    )


def standard_namespaces(data: bytes) -> dict[str, str]:
    """The prefix bindings the XPaths of this document use (CII 1 and 2 share prefixes)."""
    text = data[:16384].decode("utf-8", errors="replace")
    return {prefix: uri for uri, prefix in PREFIXES.items() if f'"{uri}"' in text or f"'{uri}'" in text}


def embedded_xml(pdf: bytes) -> tuple[str, bytes] | None:
    """The e-invoice XML attached to a PDF, or None (no attachment, or none is an invoice)."""
    from tools.documents import pdfium

    with pdfium._LOCK:  # PDFium is not thread-safe; share the module's one lock
        try:
            document = pdfium.open_document(pdf)
        except Exception:
            return None
        try:
            candidates = xml_attachments(document)
        finally:
            document.close()
    return einvoice_of(candidates)


def xml_attachments(document: Any) -> list[tuple[str, bytes]]:
    """(name, bytes) of each ``.xml`` attachment of an open PDFium document, up to
    :data:`MAX_ATTACHMENT_BYTES` each: what :func:`einvoice_of` chooses from. The PDF reader
    collects them while it has the document open (``read_pdf(..., attachments=[])``), so a PDF
    is not opened a second time to look for its e-invoice."""
    import pypdfium2

    from tools.documents import pdfium

    candidates: list[tuple[str, bytes]] = []
    with pdfium._LOCK:
        for index in range(document.count_attachments()):
            try:
                attachment = document.get_attachment(index)
                name = str(attachment.get_name())
                if not name.lower().endswith(".xml"):
                    continue
                data = bytes(attachment.get_data())
            except pypdfium2.PdfiumError:
                continue  # an attachment PDFium cannot read is no e-invoice; the pages still are
            if len(data) <= MAX_ATTACHMENT_BYTES:
                candidates.append((name, data))
    return candidates


def einvoice_of(candidates: list[tuple[str, bytes]]) -> tuple[str, bytes] | None:
    """The first of ``candidates`` (name, bytes) that is a CII or UBL invoice, or None."""
    for name, data in candidates:
        if is_einvoice_xml(data):
            return name, data
    return None
