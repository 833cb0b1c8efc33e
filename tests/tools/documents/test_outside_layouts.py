"""Layouts met on invoices from outside the project (invoice2data's other sample PDFs, read as
development data on 2026-12-04): each mechanism on a page written here, never on their files.

Dates with a spaced comma or an ordinal, a total printed beside a date, rupees written "Rs", a
number sign glued to its number, "amount to pay" labels, the account holder named in running text,
a seller label, a receipt's booking number."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from tools.documents.normalize import mentioned_currencies, parse_currency, parse_date
from tools.extract import extract_bytes
from tools.messages.model import Remittance


def _pdf(rows: list[tuple[str, str]], *, x_value: float = 120) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for left, right in rows:
        pdf.cell(x_value - 10, 7, left)
        pdf.cell(60, 7, right, new_x="LMARGIN", new_y="NEXT")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


def _currency(text: str) -> object:
    parsed = parse_currency(text)
    return parsed.value if parsed is not None else None


def _read(rows: list[tuple[str, str]]) -> Remittance:
    [extraction] = extract_bytes(_pdf(rows), "outside.pdf")
    assert extraction.remittance is not None
    return extraction.remittance


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("August 3 , 2014", date(2014, 8, 3)),  # the comma drawn as its own glyph run
        ("August 3rd, 2014", date(2014, 8, 3)),
        ("3rd of August 2014", date(2014, 8, 3)),
        ("1er juillet 2015", date(2015, 7, 1)),
        ("le 02 Juillet 2015", date(2015, 7, 2)),
    ],
)
def test_dates_with_a_spaced_comma_or_an_ordinal(text: str, want: date) -> None:
    parsed = parse_date(text)
    assert parsed is not None and parsed.value == want


def test_a_total_printed_beside_a_date_is_the_amount_not_the_year() -> None:
    remittance = _read(
        [
            ("Amazon Web Services Invoice", ""),
            ("Invoice Number:", "42183017"),
            ("Invoice Date:", "August 3 , 2014"),
            ("TOTAL AMOUNT DUE ON August 3 , 2014", "$4.11"),
        ]
    )
    assert remittance.total_amount == Decimal("4.11")
    assert remittance.invoice_date == date(2014, 8, 3)
    assert remittance.currency == "USD"


def test_rupees_written_rs_before_a_figure_are_inr_and_the_word_fragment_is_not() -> None:
    assert _currency("Rs 1939") == "INR"
    assert _currency("Rs.-40.00") == "INR"
    assert _currency("₹ 500") == "INR"
    assert parse_currency("Hours 12") is None and "INR" not in mentioned_currencies("MRs Smith 12")
    remittance = _read([("Payment Receipt", ""), ("Invoice No:", "R-1001"), ("Grand Total", "Rs 1939")])
    assert remittance.currency == "INR"
    assert remittance.total_amount == Decimal("1939")


@pytest.mark.parametrize("printed", ["Facture n°562044387", "Invoice No.562044387", "Rechnung Nr.562044387"])
def test_a_number_sign_glued_to_the_number_is_split_from_it(printed: str) -> None:
    remittance = _read([(printed, ""), ("Total", "29.99 EUR")])
    assert remittance.invoice_number == "562044387"


def test_the_amount_to_pay_wins_over_a_row_of_net_tax_and_gross() -> None:
    remittance = _read(
        [
            ("Facture n° 562044387", ""),
            ("Total facture", "24.99"),
            ("TVA 20%", "5.00"),
            ("Somme à payer", "29.99 EUR TTC"),
        ]
    )
    assert remittance.total_amount == Decimal("29.99")


def test_the_account_holder_named_in_running_text_is_the_issuer() -> None:
    remittance = _read(
        [
            ("", "ALEXINUX"),
            ("", "de Lattre Alexis"),
            ("", "27 rue Henri Rolland"),
            ("", "69100 Villeurbanne"),
            ("Facture n° 2022089083", ""),
            ("Date : 28/11/2022", ""),
            ("Total TTC :", "56,02 EUR"),
            ("Virement : BRED - Titulaire du compte : NETPRESSE", ""),
            ("IBAN : FR76 3000 6000 0112 3456 7890 189 - BIC : BREDFRPP", ""),
        ]
    )
    assert remittance.payee is not None
    assert remittance.payee.name == "NETPRESSE"


def test_a_seller_label_names_the_issuer_without_the_label_or_trailing_comma() -> None:
    remittance = _read(
        [
            ("Invoice No :", "BLR_WFLD2015100098"),
            ("Sold By : WS Retail Services Pvt. Ltd.,", ""),  # label and name in one run of text
            ("Total", "319.00"),
        ]
    )
    assert remittance.payee is not None
    assert remittance.payee.name == "WS Retail Services Pvt. Ltd."


def test_a_receipt_without_an_invoice_number_is_known_by_its_booking_id() -> None:
    remittance = _read([("PAYMENT RECEIPT", ""), ("Booking ID", "IBZY2087"), ("Grand Total", "Rs 1939")])
    assert remittance.invoice_number == "IBZY2087"
