"""IBANs as OCR and careless layouts print them: irregular groups, look-alike glyphs, a glyph read
twice; read by the country's format and checksum, never guessed into another account."""

from __future__ import annotations

from tools.documents.extractor import extract_pages
from tools.documents.layout import Page, Word
from tools.documents.ocr_iban import repair_iban, spread_iban


def test_an_iban_in_irregular_groups_is_read_by_its_countrys_length() -> None:
    text = "HRA 182% | IBAN: DE 1276040061076236 1400"
    assert spread_iban(text, ocr=False) == ("DE12760400610762361400", 17, len(text))
    # a character short, or running on into a longer word: no IBAN there
    assert spread_iban("IBAN: DE 1276040061076236 140", ocr=False) is None
    assert spread_iban("IBAN: DE 1276040061076236 14000", ocr=False) is None
    # look-alike glyphs are read by the format only in OCR'd text
    assert spread_iban("DEO8 7009 0100 1234 5678 9O", ocr=False) is None
    assert spread_iban("DEO8 7009 0100 1234 5678 9O", ocr=True) == ("DE08700901001234567890", 0, 27)


def test_an_ocr_reading_is_repaired_only_where_format_and_checksum_agree() -> None:
    assert repair_iban("NL50INGBO683251309") == "NL50INGB0683251309"  # "O" where a figure goes
    assert repair_iban("NL5OIN6B0683251309") == "NL50INGB0683251309"  # and the reverse
    assert repair_iban("NL50OINGBO683251309") == "NL50INGB0683251309"  # a space read as "O"
    assert repair_iban("DE087009001001234567890") == "DE08700901001234567890"  # a figure read twice
    # two deletions give two valid accounts: neither is guessed
    assert repair_iban("DE089700901001234567890") is None
    assert repair_iban("NL50INGB0683251308") is None  # a wrong figure: the checksum says no
    assert repair_iban("XX50INGB0683251309") is None


def _ocr_page(lines: list[str]) -> Page:
    """OCR'd words (confidence 0.9) in lines; a "|" stands for a wide gap (a new segment)."""
    words = []
    for row, line in enumerate(lines):
        x = 40.0
        for text in line.split():
            if text == "|":
                x += 60
                continue
            words.append(Word(text, x, 100.0 + 14 * row, x + 6 * len(text), 110.0 + 14 * row, 1, 0.9))
            x += 6 * len(text) + 6
    return Page(1, 595.0, 842.0, "pt", "ocr", words)


def test_scanned_bank_details_with_a_dotted_label_and_a_doubled_glyph() -> None:
    """ "IBAN.Nr.:" is how OCR reads "IBAN-Nr.:"; "NL50OINGBO683251309" a space read as "O" and a
    figure as a letter: both invoices get their IBAN."""
    german = extract_pages(
        [
            _ocr_page(
                ["Rechnung Nr. 4711", "Gesamtbetrag 119,00 EUR", "IBAN.Nr.: DEO8 7009 0100 1234 5678 90"]
            )
        ],
        "scan.pdf",
    )
    assert german.remittance is not None and german.remittance.iban == "DE08700901001234567890"
    dutch = extract_pages(
        [_ocr_page(["Factuur 2024-17", "Totaal EUR 10,00", "IBAN NL50OINGBO683251309", "BIC INGBNL2A"])],
        "scan.pdf",
    )
    assert dutch.remittance is not None and dutch.remittance.iban == "NL50INGB0683251309"


def test_an_iban_the_group_pattern_stops_inside_is_read_whole() -> None:
    """ "DE882008000009 70375700": the four-group pattern ends at "...09" with a failing checksum;
    the country's length reads the whole number."""
    read = extract_pages(
        [_ocr_page(["Rechnung Nr. 507", "Summe 10,00 EUR", "IBAN DE882008000009 70375700"])], "s.pdf"
    )
    assert read.remittance is not None and read.remittance.iban == "DE88200800000970375700"


def test_a_label_ending_a_running_segment_takes_the_next_segment_and_a_speck_is_dropped() -> None:
    """ "Kontonr.: | 1234 5678 90 _ 1Ban-Nr.: | DEO8 7009 ...": the IBAN label sits at the end of
    another label's value, its own value in the next segment; "‚471102" carries OCR's speck."""
    read = extract_pages(
        [
            _ocr_page(
                [
                    "RECHNUNG",
                    "Rechnungsnummer | ‚471102",
                    "Rechnungssumme 235,62 EUR",
                    "Kontonr.: | 1234 5678 90 _ 1Ban-Nr.: | DEO8 7009 0100 1234 5678 90 | Handelsreg.: | HA",
                ]
            )
        ],
        "s.pdf",
    )
    assert read.remittance is not None
    assert read.remittance.invoice_number == "471102"
    assert read.remittance.iban == "DE08700901001234567890"


def test_a_lone_symbol_between_a_label_and_its_value_is_a_separator() -> None:
    """OCR reads a small colon standing alone as "©": "Beleg-Nr | © | KR87654321012"."""
    read = extract_pages(
        [
            _ocr_page(
                [
                    "RECHNUNG",
                    "Beleg-Nr | © | KR87654321012",
                    "Beleg-Datum | : | 06.10.2013",
                    "Summe 10,00 EUR",
                ]
            )
        ],
        "s.pdf",
    )
    assert read.remittance is not None and read.remittance.invoice_number == "KR87654321012"
