"""E-invoices: the embedded CII/UBL XML's values with XPath provenance, and page-versus-XML checks.

Samples: the ten ZUGFeRD / Factur-X PDFs among the real invoices (CII, PDF/A-3) and invoice2data's
AzureInterior.pdf (Odoo output with a UBL 2.1 attachment). Expected values are read from the XML
here with plain ElementTree paths, not through the extractor's reader.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pypdfium2 as pdfium
import pytest

from tools.documents.einvoice import PREFIXES, einvoice_of, embedded_xml
from tools.documents.pdf import read_pdf
from tools.extract import extract_bytes
from tools.messages.model import Extraction

EINVOICES = [f"real_d{n:02d}" for n in range(1, 11)]
NS = {prefix: uri for uri, prefix in PREFIXES.items()}
CII_NS = {
    "ram1": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12",
    "ram2": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def _attachment(pdf: bytes) -> bytes:
    document = pdfium.PdfDocument(pdf)
    try:
        return bytes(document.get_attachment(0).get_data())
    finally:
        document.close()


def _evaluate(xml: bytes, xpath: str) -> str:
    """The text at an absolute XPath the extractor reported (ElementTree evaluates it relatively)."""
    root = ElementTree.fromstring(xml)
    steps = xpath.strip("/").split("/")
    root_step = steps[0]
    local = root_step.partition(":")[2]
    text = xml.decode("utf-8", "replace")
    namespaces = {p: u for u, p in PREFIXES.items() if f'"{u}"' in text}
    # The root step must name the document's root element.
    assert root.tag.endswith("}" + local), (root.tag, root_step)
    element = root.find("./" + "/".join(steps[1:]), namespaces) if len(steps) > 1 else root
    assert element is not None, xpath
    return (element.text or "").strip()


def _cii_expected(xml: bytes) -> dict[str, str]:
    """Key values of a CII invoice (ZUGFeRD 1 or 2 / Factur-X) by explicit paths."""
    root = ElementTree.fromstring(xml)
    ram = next(uri for uri in CII_NS.values() if uri in xml.decode("utf-8", "replace"))
    ns = {"ram": ram}
    header = root.find("{*}HeaderExchangedDocument")
    if header is None:
        header = root.find("{*}ExchangedDocument")
    assert header is not None
    expected = {"remittance.invoice_number": header.findtext("ram:ID", namespaces=ns) or ""}
    issued = header.find("ram:IssueDateTime/{*}DateTimeString", ns)
    assert issued is not None and issued.text
    expected["remittance.invoice_date"] = f"{issued.text[:4]}-{issued.text[4:6]}-{issued.text[6:8]}"
    total = root.find(".//ram:GrandTotalAmount", ns)
    assert total is not None and total.text
    amount = Decimal(total.text)
    if header.findtext("ram:TypeCode", namespaces=ns) == "381":
        amount = -amount  # a credit note: the extraction signs it as the page does
    expected["remittance.total_amount"] = str(amount)
    expected["remittance.currency"] = root.findtext(".//ram:InvoiceCurrencyCode", namespaces=ns) or ""
    seller = root.find(".//ram:SellerTradeParty/ram:Name", ns)
    assert seller is not None and seller.text
    expected["remittance.payee.name"] = seller.text.strip()
    iban = root.find(".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID", ns)
    if iban is not None and iban.text:
        expected["remittance.iban"] = iban.text.strip()
    return expected


def _by_name(extraction: Extraction) -> dict[str, str]:
    return {f.name: f.value for f in extraction.fields}


@pytest.mark.parametrize("name", EINVOICES)
def test_embedded_cii_fields_equal_the_xml(shared_data: Path, name: str) -> None:
    pdf = (shared_data / "invoices" / "real" / f"{name}.pdf").read_bytes()
    xml = _attachment(pdf)
    [extraction] = extract_bytes(pdf, f"{name}.pdf")
    assert extraction.doc_type == "invoice"
    values = _by_name(extraction)
    for field, want in _cii_expected(xml).items():
        assert field in values, field
        assert Decimal(values[field]) == Decimal(want) if field.endswith("amount") else values[field] == want
    xml_fields = [f for f in extraction.fields if f.source.xpath]
    assert len(xml_fields) >= 5
    for extracted in xml_fields:
        # Provenance: the XPath leads to the value, and the value is taken as certain.
        assert extracted.confidence == 1.0
        at_path = _evaluate(xml, extracted.source.xpath or "")
        if extracted.name == "remittance.invoice_date" or extracted.name == "remittance.due_date":
            assert at_path.replace("-", "")[:8] == extracted.value.replace("-", "")
        elif extracted.name == "remittance.total_amount":
            assert abs(Decimal(at_path)) == abs(Decimal(extracted.value))
        else:
            assert at_path.replace(" ", "") == extracted.value.replace(" ", "")
    assert not [f for f in extraction.findings if f.code == "EINVOICE_MISMATCH"], extraction.findings


def test_bare_cii_xml_is_read_as_an_invoice(shared_data: Path) -> None:
    xml = _attachment((shared_data / "invoices" / "real" / "real_d09.pdf").read_bytes())
    [extraction] = extract_bytes(xml, "factur-x.xml")
    assert extraction.doc_type == "invoice"
    values = _by_name(extraction)
    for field, want in _cii_expected(xml).items():
        assert Decimal(values[field]) == Decimal(want) if field.endswith("amount") else values[field] == want
    assert all(f.source.xpath and f.confidence == 1.0 for f in extraction.fields)


def test_ubl_attachment_and_bare_ubl(shared_data: Path) -> None:
    pdf = (shared_data / "invoices" / "invoice2data" / "AzureInterior.pdf").read_bytes()
    attached = embedded_xml(pdf)
    assert attached is not None and attached[0] == "UBL-Invoice-2.1.xml"
    root = ElementTree.fromstring(attached[1])
    want = {
        "remittance.invoice_number": root.findtext("cbc:ID", namespaces=NS),  # UBL prefixes are unique
        "remittance.invoice_date": root.findtext("cbc:IssueDate", namespaces=NS),
        "remittance.currency": root.findtext("cbc:DocumentCurrencyCode", namespaces=NS),
        "remittance.total_amount": root.findtext(
            "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", namespaces=NS
        ),
        "remittance.due_date": root.findtext("cac:PaymentMeans/cbc:PaymentDueDate", namespaces=NS),
    }
    for data, source in ((pdf, "AzureInterior.pdf"), (attached[1], "invoice.xml")):
        [extraction] = extract_bytes(data, source)
        values = _by_name(extraction)
        for field, value in want.items():
            assert value is not None
            assert (
                Decimal(values[field]) == Decimal(value)
                if field.endswith("amount")
                else values[field] == value
            )
            source_of = next(f for f in extraction.fields if f.name == field)
            assert source_of.source.xpath and source_of.source.xpath.startswith("/ubl:Invoice/")


def _printed_invoice(fields: dict[str, str], xml: bytes) -> bytes:
    """A one-page invoice printing ``fields``, with ``xml`` attached as factur-x.xml."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for text in [
        f"{fields['seller']}",
        "1242 chemin de l'olive, 84340 Malaucene, France",
        "",
        "Invoice",
        f"Invoice number: {fields['number']}",
        f"Invoice date: {fields['date']}",
        f"Due date: {fields['due']}",
        "",
        f"Total TTC: {fields['total']} EUR",
        "",
        f"IBAN: {fields['iban']}",
        f"BIC: {fields['bic']}",
    ]:
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.embed_file(bytes=xml, basename="factur-x.xml", mime_type="text/xml")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


def test_altered_printed_iban_is_an_error_finding(shared_data: Path) -> None:
    xml = _attachment((shared_data / "invoices" / "real" / "real_d09.pdf").read_bytes())
    [genuine_xml] = extract_bytes(xml, "factur-x.xml")
    rem = genuine_xml.remittance
    assert rem is not None and rem.iban and rem.due_date and rem.invoice_date and rem.total_amount
    printed = {
        "seller": "Au bon moulin SARL",
        "number": str(rem.invoice_number),
        "date": rem.invoice_date.strftime("%d/%m/%Y"),
        "due": rem.due_date.strftime("%d/%m/%Y"),
        "total": f"{rem.total_amount:.2f}".replace(".", ","),
        "iban": rem.iban,
        "bic": str(rem.bic or "AGRIFRPP"),
    }
    # The control: the same page with the XML's own IBAN raises nothing.
    [control] = extract_bytes(_printed_invoice(printed, xml), "control.pdf")
    assert control.remittance is not None and control.remittance.iban == rem.iban
    assert not [f for f in control.findings if f.code == "EINVOICE_MISMATCH"], control.findings

    altered = dict(printed, iban="DE89370400440532013000")  # a valid IBAN, not the seller's
    [forged] = extract_bytes(_printed_invoice(altered, xml), "forged.pdf")
    mismatches = [f for f in forged.findings if f.code == "EINVOICE_MISMATCH"]
    assert [f.field for f in mismatches] == ["remittance.iban"]
    assert mismatches[0].severity == "error"
    assert "DE89370400440532013000" in mismatches[0].message and rem.iban in mismatches[0].message
    # The booked value is the XML's; the finding carries the printed one.
    assert forged.remittance is not None and forged.remittance.iban == rem.iban

    altered_total = dict(printed, total="9999,00")
    [inflated] = extract_bytes(_printed_invoice(altered_total, xml), "inflated.pdf")
    assert [f.field for f in inflated.findings if f.code == "EINVOICE_MISMATCH"] == [
        "remittance.total_amount"
    ]


def test_not_an_einvoice_xml_still_goes_to_iso20022(shared_data: Path) -> None:
    sample = next((shared_data / "iso20022" / "fedwire_moov").glob("*pacs.008*.xml"))
    [extraction] = extract_bytes(sample.read_bytes(), sample.name)
    assert extraction.doc_type.startswith("iso20022.")


def test_the_pdf_reader_collects_the_attachment_it_would_be_opened_again_for(shared_data: Path) -> None:
    """``read_pdf(..., attachments=[])`` hands over the XML attachments while it has the document
    open: the e-invoice chosen from them is the one a second opening finds, and a PDF without
    one gives none."""
    for folder, name in (
        ("invoice2data", "AzureInterior.pdf"),
        ("real", "real_d09.pdf"),
        ("invoice2data", "coolblue1.pdf"),
    ):
        pdf = (shared_data / "invoices" / folder / name).read_bytes()
        attachments: list[tuple[str, bytes]] = []
        pages = read_pdf(pdf, name, attachments)
        assert pages
        assert einvoice_of(attachments) == embedded_xml(pdf)
    assert einvoice_of(attachments) is None  # coolblue1 carries no e-invoice
