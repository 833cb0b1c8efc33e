"""Layouts learned from one correction: accuracy on a stream of documents from repeat issuers.

Each issuer has its own layout (column positions, label wording in one of six languages, a label
for the grand total and one for the document number that the extractor does not know, a varying
number of item lines that moves the totals down the page). Per issuer, the first document is
corrected once per field (the box of the right value, as an analyst's selection gives it); the
next documents are extracted with the learned rules. Printed: accuracy on the corrected fields
before and after, and on the fields nobody corrected (which must not drop).

Called by ``benchmarks/documents.py --learning``.
"""

from __future__ import annotations

import io
import random
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

# (language, invoice title, date label, unknown total label, unknown number label)
STYLES = [
    ("de", "Rechnung", "Rechnungsdatum", "Zu begleichen", "Vorgangskennung"),
    ("en", "Invoice", "Invoice date", "Settle now", "Our doc ref"),
    ("fr", "Facture", "Date de facture", "A regler ce jour", "Piece comptable"),
    ("nl", "Factuur", "Factuurdatum", "Nu te voldoen", "Documentkenmerk"),
    ("es", "Factura", "Fecha de factura", "Saldo a abonar", "Clave documento"),
    ("it", "Fattura", "Data fattura", "Da saldare", "Protocollo doc"),
]
IBANS = [
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "DE02120300000000202051",
    "BE68539007547034",
]
CORRECTED = {"remittance.total_amount": "total", "remittance.invoice_number": "number"}


@dataclass
class Doc:
    pdf: bytes
    truth: dict[str, str]
    boxes: dict[str, tuple[str, str]]  # field -> (printed text to select, value typed)


def _issuer_doc(issuer: int, index: int, rng: random.Random) -> Doc:
    from fpdf import FPDF

    lang, title, date_label, total_label, number_label = STYLES[issuer % len(STYLES)]
    comma = lang != "en"
    name = f"Issuer{issuer} Handels GmbH"
    left, value_x = 15 + 8 * (issuer % 3), 110 + 10 * (issuer % 4)
    number = f"{chr(65 + issuer)}{rng.randint(10000, 99999)}-{index:02d}"
    lines = [Decimal(rng.randint(500, 90000)) / 100 for _ in range(rng.randint(1, 6))]
    net = sum(lines, Decimal(0))
    total = (net * Decimal("1.2")).quantize(Decimal("0.01"))

    def money(value: Decimal) -> str:
        text = f"{value:,.2f}"
        return text.replace(",", "X").replace(".", ",").replace("X", ".") if comma else text

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_x(left)
    pdf.cell(0, 7, name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(left)
    pdf.cell(0, 7, f"IBAN {IBANS[issuer % len(IBANS)]}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_x(left)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    for label, value in ((number_label, number), (date_label, f"0{1 + index % 9}.03.2026")):
        pdf.set_x(left)
        pdf.cell(value_x - left, 7, label)
        pdf.cell(50, 7, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for position, amount in enumerate(lines, start=1):
        pdf.set_x(left)
        pdf.cell(value_x - left, 7, f"{position}  Item {rng.randint(100, 999)}")
        pdf.cell(50, 7, money(amount), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_x(left)
    pdf.cell(value_x - left, 7, "Summe netto" if lang == "de" else "Subtotal")
    pdf.cell(50, 7, money(net), new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(left)
    pdf.cell(value_x - left, 7, total_label)
    pdf.cell(50, 7, f"{money(total)} EUR", new_x="LMARGIN", new_y="NEXT")
    out = io.BytesIO()
    pdf.output(out)
    truth = {
        "remittance.total_amount": str(total),
        "remittance.invoice_number": number,
        "remittance.iban": IBANS[issuer % len(IBANS)],
        "remittance.currency": "EUR",
    }
    boxes = {
        "remittance.total_amount": (money(total), str(total)),
        "remittance.invoice_number": (number, number),
    }
    return Doc(out.getvalue(), truth, boxes)


def _fields(pdf: bytes) -> dict[str, str]:
    from tools.extract import extract_bytes

    [extraction] = extract_bytes(pdf, "stream.pdf")
    rem = extraction.remittance
    if rem is None:
        return {}
    return {
        "remittance.total_amount": str(rem.total_amount) if rem.total_amount is not None else "",
        "remittance.invoice_number": rem.invoice_number or "",
        "remittance.iban": rem.iban or "",
        "remittance.currency": rem.currency or "",
    }


def _box(pdf: bytes, text: str) -> tuple[int, list[float]]:
    from tools.documents.service import read_pages

    pages = read_pages(pdf, "taught.pdf")
    for page in pages:
        for line in page.lines:
            words = line.words
            for start in range(len(words)):
                for end in range(start + 1, min(start + 4, len(words)) + 1):
                    if " ".join(w.text for w in words[start:end]) == text:
                        chosen = words[start:end]
                        return page.number, [chosen[0].x0, chosen[0].top, chosen[-1].x1, chosen[-1].bottom]
    raise LookupError(text)


def run(issuers: int = 8, per_issuer: int = 13, seed: int = 7) -> None:
    from tools.documents import learned, teaching
    from tools.documents.service import read_pages

    rng = random.Random(seed)
    streams = [[_issuer_doc(i, n, rng) for n in range(per_issuer)] for i in range(issuers)]
    rules: list[learned.LayoutRule] = []
    learned.set_provider(lambda: rules)
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    try:
        for stream in streams:  # accuracy before anything is taught
            for doc in stream[1:]:
                got = _fields(doc.pdf)
                for field, want in doc.truth.items():
                    before[f"{field}:total"] += 1
                    before[field] += got.get(field) == want
        for stream in streams:  # one correction per issuer and field
            first = stream[0]
            pages = read_pages(first.pdf, "taught.pdf")
            for field, (printed, typed) in first.boxes.items():
                page, bbox = _box(first.pdf, printed)
                rule = teaching.teach(
                    pages, "taught.pdf", field=field, page=page, bbox=bbox, value=typed, taught_by="benchmark"
                )
                rule.id = len(rules) + 1
                rules.append(rule)
        for stream in streams:
            for doc in stream[1:]:
                got = _fields(doc.pdf)
                for field, want in doc.truth.items():
                    after[f"{field}:total"] += 1
                    after[field] += got.get(field) == want
    finally:
        learned.set_provider(None)
    print(
        f"learning: {issuers} issuers x {per_issuer - 1} documents after one correction per issuer and field"
    )
    print(f"    {'field':<28}{'before':>9}{'after':>9}")
    for field in streams[0][0].truth:
        total = after[f"{field}:total"]
        tag = " (corrected)" if field in CORRECTED else ""
        print(f"    {field:<28}{before[field] / total:>9.1%}{after[field] / total:>9.1%}{tag}")
    corrected_total = sum(after[f"{f}:total"] for f in CORRECTED)
    corrected_right = sum(after[f] for f in CORRECTED)
    print(f"  corrected fields after one correction: {corrected_right / corrected_total:.1%} (floor 99%)")
