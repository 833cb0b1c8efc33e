"""Remittance advices in layouts the project's generator does not make, written from the contract
alone (``remittance.payment_date``, ``remittance.lines[].invoice_number`` / ``amount``) for tests.

Each layout is one way senders print an advice: the payment date as a label above its value, in a
sentence, in a header strip of several label/value pairs, or in a bordered box; the invoices as a
ruled table, an unruled one with other column names, or a list. Nothing here is used to tune the
extractor: the tests hold it out.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Advice:
    name: str
    pdf: bytes
    payment_date: str  # ISO
    lines: list[tuple[str, str]]  # (invoice number, amount paid as a plain decimal)


def _pdf() -> Any:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    return pdf


def _bytes(pdf: Any) -> bytes:
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


def _text(pdf: Any, x: float, y: float, text: str, *, size: float = 10, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", size)
    pdf.text(x, y, text)


def italian_stacked_labels() -> Advice:
    """Italian: header labels with their values printed under them; a ruled table."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Ferrovia Nord Logistica S.p.A.", size=13, bold=True)
    _text(pdf, 20, 26, "Via Marconi 14, 20121 Milano")
    _text(pdf, 20, 40, "AVVISO DI PAGAMENTO", size=14, bold=True)
    for x, label, value in [
        (20, "Data pagamento", "18/03/2025"),
        (75, "Riferimento", "BON-2025-0318"),
        (130, "Beneficiario", "Officine Rossi S.r.l."),
    ]:
        _text(pdf, x, 52, label, size=8)
        _text(pdf, x, 58, value)
    pdf.set_xy(20, 70)
    pdf.set_font("Helvetica", "B", 9)
    for width, head in [(45, "Numero fattura"), (40, "Data fattura"), (45, "Importo")]:
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    rows = [("FT-2025/0112", "02/02/2025", "1.250,00"), ("FT-2025/0157", "14/02/2025", "980,40")]
    for number, issued, amount in rows:
        pdf.set_x(20)
        pdf.cell(45, 7, number, border=1)
        pdf.cell(40, 7, issued, border=1)
        pdf.cell(45, 7, amount, border=1, align="R")
        pdf.ln()
    pdf.set_x(20)
    pdf.cell(85, 7, "Totale pagato EUR", border=1)
    pdf.cell(45, 7, "2.230,40", border=1, align="R")
    return Advice(
        "it_stacked", _bytes(pdf), "2025-03-18", [("FT-2025/0112", "1250.00"), ("FT-2025/0157", "980.40")]
    )


def dutch_header_strip() -> Advice:
    """Dutch: several label/value pairs on one line, the invoices unruled with other column names."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Betalingsspecificatie", size=15, bold=True)
    _text(pdf, 20, 30, "Van: Groothandel De Vries B.V.")
    _text(pdf, 20, 36, "Aan: Bakkerij Jansen")
    _text(pdf, 20, 48, "Betaaldatum: 07-04-2025")
    _text(pdf, 80, 48, "Kenmerk: BET 88213")
    _text(pdf, 140, 48, "Valuta: EUR")
    _text(pdf, 20, 62, "Factuurnr.", bold=True)
    _text(pdf, 60, 62, "Omschrijving", bold=True)
    _text(pdf, 150, 62, "Betaald bedrag", bold=True)
    y = 70
    for number, text, amount in [
        ("2025-0431", "Levering week 10", "412,50"),
        ("2025-0460", "Levering week 11", "388,00"),
        ("2025-0502", "Levering week 12", "1.045,25"),
    ]:
        _text(pdf, 20, y, number)
        _text(pdf, 60, y, text)
        _text(pdf, 150, y, amount)
        y += 7
    _text(pdf, 20, y + 6, "Totaal", bold=True)
    _text(pdf, 150, y + 6, "1.845,75", bold=True)
    return Advice(
        "nl_strip",
        _bytes(pdf),
        "2025-04-07",
        [("2025-0431", "412.50"), ("2025-0460", "388.00"), ("2025-0502", "1045.25")],
    )


def english_sentence() -> Advice:
    """English letter: the payment date inside a sentence, the invoices as a list."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Northwind Traders Ltd", size=13, bold=True)
    _text(pdf, 20, 34, "Remittance advice")
    _text(pdf, 20, 46, "Dear Sir or Madam,")
    _text(pdf, 20, 54, "On 22 May 2025 we paid GBP 3,400.00 to your account for the invoices below.")
    _text(pdf, 25, 66, "Invoice INV-55812 - amount 1,900.00")
    _text(pdf, 25, 73, "Invoice INV-55840 - amount 1,500.00")
    _text(pdf, 20, 88, "Kind regards,")
    _text(pdf, 20, 94, "Accounts Payable")
    return Advice(
        "en_sentence", _bytes(pdf), "2025-05-22", [("INV-55812", "1900.00"), ("INV-55840", "1500.00")]
    )


def spanish_boxed() -> Advice:
    """Spanish: the payment data in a bordered box of label/value rows; a ruled table."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Distribuciones Levante S.L.", size=13, bold=True)
    _text(pdf, 20, 32, "Aviso de pago", size=14, bold=True)
    pdf.set_xy(110, 40)
    pdf.set_font("Helvetica", "", 9)
    for label, value in [("Fecha de pago", "03/06/2025"), ("Referencia", "TRF-060325-7"), ("Moneda", "EUR")]:
        pdf.set_x(110)
        pdf.cell(35, 7, label, border=1)
        pdf.cell(45, 7, value, border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(20, 75)
    pdf.set_font("Helvetica", "B", 9)
    for width, head in [(50, "Nº factura"), (50, "Importe pagado")]:
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for number, amount in [("A-2025-118", "2.310,00"), ("A-2025-131", "689,90")]:
        pdf.set_x(20)
        pdf.cell(50, 7, number, border=1)
        pdf.cell(50, 7, amount, border=1, align="R")
        pdf.ln()
    return Advice(
        "es_boxed", _bytes(pdf), "2025-06-03", [("A-2025-118", "2310.00"), ("A-2025-131", "689.90")]
    )


def german_right_block() -> Advice:
    """German: a right-hand block of label/value pairs (dates with month names), the invoices
    in an unruled table whose amount column is headed "Zahlbetrag"."""
    pdf = _pdf()
    _text(pdf, 20, 22, "Möbelwerk Sauer GmbH", size=13, bold=True)
    _text(pdf, 20, 40, "Zahlungsavis", size=14, bold=True)
    _text(pdf, 120, 22, "Datum der Zahlung")
    _text(pdf, 165, 22, "4. Juli 2025")
    _text(pdf, 120, 28, "Unser Zeichen")
    _text(pdf, 165, 28, "ZA-77120")
    _text(pdf, 20, 56, "Beleg", bold=True)
    _text(pdf, 55, 56, "Belegdatum", bold=True)
    _text(pdf, 95, 56, "Text", bold=True)
    _text(pdf, 160, 56, "Zahlbetrag", bold=True)
    y = 63
    for number, issued, amount in [
        ("RE-40117", "03.06.2025", "5.120,00"),
        ("RE-40188", "12.06.2025", "77,35"),
    ]:
        _text(pdf, 20, y, number)
        _text(pdf, 55, y, issued)
        _text(pdf, 95, y, "Warenlieferung")
        _text(pdf, 160, y, amount)
        y += 7
    _text(pdf, 20, y + 5, "Summe", bold=True)
    _text(pdf, 160, y + 5, "5.197,35", bold=True)
    return Advice(
        "de_right_block", _bytes(pdf), "2025-07-04", [("RE-40117", "5120.00"), ("RE-40188", "77.35")]
    )


def french_value_date() -> Advice:
    """French: "Date de règlement" beside its value at a distance; a ruled table."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Transports Mercier SAS", size=13, bold=True)
    _text(pdf, 20, 34, "Avis de règlement", size=14, bold=True)
    _text(pdf, 20, 46, "Date de règlement")
    _text(pdf, 90, 46, "15/09/2025")
    _text(pdf, 20, 52, "Mode de paiement")
    _text(pdf, 90, 52, "Virement SEPA")
    pdf.set_xy(20, 62)
    pdf.set_font("Helvetica", "B", 9)
    for width, head in [(40, "Facture"), (40, "Date"), (40, "Montant réglé")]:
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for number, issued, amount in [
        ("F25-0921", "01/08/2025", "840,00"),
        ("F25-0977", "19/08/2025", "1 260,00"),
    ]:
        pdf.set_x(20)
        pdf.cell(40, 7, number, border=1)
        pdf.cell(40, 7, issued, border=1)
        pdf.cell(40, 7, amount, border=1, align="R")
        pdf.ln()
    return Advice(
        "fr_value_date", _bytes(pdf), "2025-09-15", [("F25-0921", "840.00"), ("F25-0977", "1260.00")]
    )


LAYOUTS: list[Callable[[], Advice]] = [
    italian_stacked_labels,
    dutch_header_strip,
    english_sentence,
    spanish_boxed,
    german_right_block,
    french_value_date,
]


# Written after the extractor was changed for the six layouts above, and not tuned on: the
# measure of whether those changes were general.
def english_payment_run() -> Advice:
    """English: a payment run summary; the date right of its label, amounts with a currency code."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Harbour Freight Services Ltd", size=13, bold=True)
    _text(pdf, 20, 34, "PAYMENT ADVICE", size=14, bold=True)
    _text(pdf, 20, 46, "Value date:")
    _text(pdf, 48, 46, "30/10/2025")
    _text(pdf, 110, 46, "Payment ref:")
    _text(pdf, 138, 46, "PR-20251030-14")
    _text(pdf, 20, 60, "Your invoice", bold=True)
    _text(pdf, 70, 60, "Invoice date", bold=True)
    _text(pdf, 150, 60, "Amount paid", bold=True)
    y = 67
    for number, issued, amount in [
        ("HF/9921", "02/10/2025", "GBP 720.00"),
        ("HF/9950", "09/10/2025", "GBP 95.50"),
    ]:
        _text(pdf, 20, y, number)
        _text(pdf, 70, y, issued)
        _text(pdf, 150, y, amount)
        y += 7
    _text(pdf, 20, y + 5, "Total paid", bold=True)
    _text(pdf, 150, y + 5, "GBP 815.50", bold=True)
    return Advice("en_payment_run", _bytes(pdf), "2025-10-30", [("HF/9921", "720.00"), ("HF/9950", "95.50")])


def italian_letter() -> Advice:
    """Italian letter: the payment date in a sentence, the invoices in a ruled table."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Cartiera Lombarda S.r.l.", size=13, bold=True)
    _text(pdf, 20, 34, "Spett.le Tipografia Bianchi")
    _text(pdf, 20, 46, "Oggetto: avviso di bonifico")
    _text(pdf, 20, 56, "Vi informiamo che in data 12/11/2025 abbiamo pagato le seguenti fatture.")
    pdf.set_xy(20, 64)
    pdf.set_font("Helvetica", "B", 9)
    for width, head in [(50, "N. fattura"), (50, "Importo pagato")]:
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for number, amount in [("2025/778", "3.300,00"), ("2025/801", "415,80")]:
        pdf.set_x(20)
        pdf.cell(50, 7, number, border=1)
        pdf.cell(50, 7, amount, border=1, align="R")
        pdf.ln()
    return Advice("it_letter", _bytes(pdf), "2025-11-12", [("2025/778", "3300.00"), ("2025/801", "415.80")])


def german_stacked_table() -> Advice:
    """German: label/value pairs stacked in a header box, a ruled table with gross, discount, net."""
    pdf = _pdf()
    _text(pdf, 20, 20, "Elektro Brandt KG", size=13, bold=True)
    _text(pdf, 20, 32, "Zahlungsavis", size=14, bold=True)
    for x, label, value in [(20, "Ausführungsdatum", "21.11.2025"), (80, "Referenz", "ZV-5520")]:
        _text(pdf, x, 44, label, size=8)
        _text(pdf, x, 50, value)
    pdf.set_xy(20, 60)
    pdf.set_font("Helvetica", "B", 9)
    for width, head in [(40, "Rechnungsnr."), (35, "Bruttobetrag"), (30, "Skonto"), (35, "Zahlbetrag")]:
        pdf.cell(width, 7, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for number, gross, discount, net in [
        ("R-1201", "1.000,00", "20,00", "980,00"),
        ("R-1233", "500,00", "0,00", "500,00"),
    ]:
        pdf.set_x(20)
        pdf.cell(40, 7, number, border=1)
        pdf.cell(35, 7, gross, border=1, align="R")
        pdf.cell(30, 7, discount, border=1, align="R")
        pdf.cell(35, 7, net, border=1, align="R")
        pdf.ln()
    return Advice("de_stacked_table", _bytes(pdf), "2025-11-21", [("R-1201", "980.00"), ("R-1233", "500.00")])


HELD_OUT: list[Callable[[], Advice]] = [english_payment_run, italian_letter, german_stacked_table]
