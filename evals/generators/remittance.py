"""Deterministic generator of remittance advices: six layouts, five languages, text PDFs and scans.

- ``generate(count, seed)`` returns :class:`GeneratedDoc` s cycling through every (layout, language)
  pair; ``make_doc(layout, lang, seed)`` builds one.
- ``to_scan(pdf, seed)`` renders a PDF as a 300 dpi scan with noise, 0.5-1.5 degree skew and JPEG
  artefacts.
- ``render_spec("text:ruled:de:7")`` gives one document's bytes and source name from a spec
  ``kind:layout:lang:seed`` (kind ``text`` or ``scan``; layouts ``ruled``, ``unruled``, ``kv``,
  ``twocol``, ``multipage``, ``letter``); ``dataset_rows()`` the evaluation rows that reference them.

The expected values are the truth the accuracy tests, the benchmark and the evaluation score against.
"""

from __future__ import annotations

import io
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

LAYOUTS = ["ruled_table", "unruled_table", "key_value", "two_column", "multi_page", "letter"]
LANGUAGES = ["en", "de", "fr", "nl", "es"]

L: dict[str, dict[str, str]] = {
    "en": dict(
        title="Remittance Advice",
        payer="Payer",
        payee="Payee",
        date="Payment date",
        ref="Payment reference",
        cur="Currency",
        inv="Invoice No",
        idate="Invoice date",
        gross="Gross amount",
        disc="Discount",
        net="Net amount",
        desc="Description",
        total="Total paid",
        cf="Carried forward",
        bf="Brought forward",
        dear="Dear Sir or Madam,",
        body="we have today transferred {cur} {total} to your account {iban} (BIC {bic}) with "
        "reference {ref}. This payment settles the following invoices:",
        item="invoice {inv} of {idate} for {amount}",
        regards="Kind regards,",
    ),
    # Intended same shape per language: the templates are data, one dict per language.
    "de": dict(
        title="Zahlungsavis",
        payer="Zahler",
        payee="Zahlungsempfänger",
        date="Zahlungsdatum",
        ref="Zahlungsreferenz",
        cur="Währung",
        inv="Rechnungsnr.",
        idate="Rechnungsdatum",
        gross="Bruttobetrag",
        disc="Skonto",
        net="Zahlbetrag",
        desc="Beschreibung",
        total="Gesamtbetrag",
        cf="Übertrag",
        bf="Übertrag",
        dear="Sehr geehrte Damen und Herren,",
        body="wir haben heute {cur} {total} auf Ihr Konto {iban} (BIC {bic}) mit der Referenz {ref} "
        "überwiesen. Die Zahlung begleicht folgende Rechnungen:",
        item="Rechnung {inv} vom {idate} über {amount}",
        regards="Mit freundlichen Grüßen",
    ),
    "fr": dict(
        title="Avis de paiement",
        payer="Payeur",
        payee="Bénéficiaire",
        date="Date de paiement",
        ref="Référence de paiement",
        cur="Devise",
        inv="Facture n°",
        idate="Date facture",
        gross="Montant brut",
        disc="Escompte",
        net="Montant net",
        desc="Libellé",
        total="Montant total",
        cf="À reporter",
        bf="Report",
        dear="Madame, Monsieur,",
        body="nous avons viré ce jour {cur} {total} sur votre compte {iban} (BIC {bic}) avec la "
        "référence {ref}. Ce paiement règle les factures suivantes :",
        item="facture {inv} du {idate} pour {amount}",
        regards="Veuillez agréer nos salutations.",
    ),
    "nl": dict(
        title="Betalingsadvies",
        payer="Betaler",
        payee="Begunstigde",
        date="Betaaldatum",
        ref="Betalingskenmerk",
        cur="Valuta",
        inv="Factuurnummer",
        idate="Factuurdatum",
        gross="Brutobedrag",
        disc="Korting",
        net="Nettobedrag",
        desc="Omschrijving",
        total="Totaal betaald",
        cf="Transport",
        bf="Transport",
        dear="Geachte heer, mevrouw,",
        body="vandaag hebben wij {cur} {total} overgemaakt naar uw rekening {iban} (BIC {bic}) "
        "onder kenmerk {ref}. Deze betaling voldoet de volgende facturen:",
        item="factuur {inv} van {idate} voor {amount}",
        regards="Met vriendelijke groet,",
    ),
    "es": dict(
        title="Aviso de pago",
        payer="Pagador",
        payee="Beneficiario",
        date="Fecha de pago",
        ref="Referencia de pago",
        cur="Moneda",
        inv="Nº factura",
        idate="Fecha factura",
        gross="Importe bruto",
        disc="Descuento",
        net="Importe neto",
        desc="Concepto",
        total="Importe total",
        cf="Suma y sigue",
        bf="Suma anterior",
        dear="Estimados señores:",
        body="hoy hemos transferido {cur} {total} a su cuenta {iban} (BIC {bic}) con la "
        "referencia {ref}. Este pago liquida las siguientes facturas:",
        item="factura {inv} del {idate} por {amount}",
        regards="Atentamente,",
    ),
}
COMPANIES = {
    "en": [
        "Northwind Traders Ltd",
        "Blue Harbour Logistics Ltd",
        "Kestrel Components plc",
        "Oakridge Foods Ltd",
    ],
    "de": [
        "Müller Maschinenbau GmbH",
        "Berger Elektrotechnik AG",
        "Schäfer Logistik GmbH",
        "Hoffmann Papier KG",
    ],
    "fr": [
        "Durand Équipements SARL",
        "Société Lefèvre SA",
        "Bernard Transports SAS",
        "Moreau Électricité SA",
    ],
    "nl": [
        "Van Dijk Installatie B.V.",
        "De Vries Handel B.V.",
        "Jansen Bouwmaterialen B.V.",
        "Bakker Logistiek N.V.",
    ],
    "es": [
        "Suministros García S.L.",
        "Transportes López S.A.",
        "Industrias Martínez S.L.",
        "Fernández Papel S.A.",
    ],
}
STREETS = {
    "en": ("12 High Street", "London EC1A 1BB"),
    "de": ("Hauptstraße 12", "10115 Berlin"),
    "fr": ("12 rue de la Paix", "75002 Paris"),
    "nl": ("Keizersgracht 12", "1015 CJ Amsterdam"),
    "es": ("Calle Mayor 12", "28013 Madrid"),
}
# (country, bank code, BIC) so the IBAN and the BIC belong together.
BANKS = {
    "en": ("GB", "NWBK", "601613", "NWBKGB2L"),
    "de": ("DE", "37040044", "", "COBADEFFXXX"),
    "fr": ("FR", "30004", "00003", "BNPAFRPP"),
    "nl": ("NL", "INGB", "", "INGBNL2A"),
    "es": ("ES", "2100", "0418", "CAIXESBB"),
}
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DESCRIPTIONS = [
    "Spare parts",
    "Consulting services",
    "Freight charges",
    "Office supplies",
    "Maintenance",
    "Licence fee",
    "Packaging material",
    "Installation work",
]


def fmt_amount(value: Decimal, lang: str) -> str:
    text = f"{value:,.2f}"  # 1,234.56
    if lang == "en":
        return text
    if lang == "fr":
        return text.replace(",", "\u202f").replace(".", ",").replace("\u202f", " ")
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def fmt_date(value: date, lang: str) -> str:
    if lang == "en":
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    if lang == "de":
        return value.strftime("%d.%m.%Y")
    if lang == "nl":
        return value.strftime("%d-%m-%Y")
    return value.strftime("%d/%m/%Y")


@dataclass
class GeneratedDoc:
    name: str
    layout: str
    language: str
    pdf: bytes
    expected: dict[str, Any]
    pages: int = 1
    scan: bytes | None = field(default=None, repr=False)


def _truth(rng: random.Random, lang: str, n_lines: int) -> dict[str, Any]:
    from schwifty import IBAN

    payer, payee = rng.sample(COMPANIES[lang], 2)
    country, bank, branch, bic = BANKS[lang]
    iban = IBAN.generate(
        country, bank_code=bank, branch_code=branch, account_code=str(rng.randrange(10**7, 10**8))
    )
    pay_date = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))
    prefix = rng.choice(["INV-", "RE-", "F", "FV", "2024-", "A"])
    lines: list[dict[str, Any]] = []
    for _ in range(n_lines):
        gross = Decimal(rng.randrange(5_000, 2_500_000)) / 100
        discount = (
            (gross * Decimal("0.02")).quantize(Decimal("0.01")) if rng.random() < 0.4 else Decimal("0.00")
        )
        lines.append(
            {
                "invoice_number": f"{prefix}{rng.randrange(1000, 99999):05d}",
                "invoice_date": pay_date - timedelta(days=rng.randrange(10, 90)),
                "amount": gross,
                "discount": discount,
                "net_amount": gross - discount,
                "description": rng.choice(DESCRIPTIONS),
            }
        )
    total = sum((ln["net_amount"] for ln in lines), Decimal(0))
    currency = {"en": rng.choice(["GBP", "EUR"])}.get(lang, "EUR")
    return {
        "payer": payer,
        "payee": payee,
        "payment_date": pay_date,
        "currency": currency,
        "payment_reference": f"PAY{rng.randrange(10**6, 10**7)}",
        "total_amount": total,
        "iban": str(iban.compact),
        "bic": bic,
        "lines": lines,
    }


class _Pdf:
    """A thin reportlab canvas wrapper with a top-left origin, like the extracted boxes."""

    def __init__(self) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        self.buffer = io.BytesIO()
        self.canvas = canvas.Canvas(self.buffer, pagesize=A4, invariant=1)
        self.width, self.height = A4
        self.pages = 1

    def text(
        self, x: float, y: float, text: str, size: float = 10, bold: bool = False, right: bool = False
    ) -> None:
        self.canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        if right:
            self.canvas.drawRightString(x, self.height - y, text)
        else:
            self.canvas.drawString(x, self.height - y, text)

    def line(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.canvas.line(x0, self.height - y0, x1, self.height - y1)

    def new_page(self) -> None:
        self.canvas.showPage()
        self.pages += 1

    def bytes(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def _kv_header(pdf: _Pdf, t: dict[str, Any], lang: str, y: float, x: float = 50) -> float:
    lab = L[lang]
    rows = [
        (lab["payer"], t["payer"]),
        (lab["payee"], t["payee"]),
        (lab["date"], fmt_date(t["payment_date"], lang)),
        (lab["ref"], t["payment_reference"]),
        (lab["cur"], t["currency"]),
        ("IBAN", t["iban"]),
        ("BIC", t["bic"]),
    ]
    for label, value in rows:
        pdf.text(x, y, f"{label}: {value}")
        y += 16
    return y


_COLS = [
    ("inv", 50, False),
    ("idate", 150, False),
    ("gross", 340, True),
    ("disc", 420, True),
    ("net", 520, True),
]


def _table(
    pdf: _Pdf,
    t: dict[str, Any],
    lang: str,
    y: float,
    ruled: bool,
    rows: list[dict[str, Any]],
    description: bool = False,
) -> float:
    lab = L[lang]
    cols = list(_COLS)
    if description:
        cols = [
            ("inv", 45, False),
            ("idate", 132, False),
            ("desc", 225, False),
            ("gross", 385, True),
            ("disc", 455, True),
            ("net", 540, True),
        ]
    for key, x, right in cols:
        pdf.text(x, y, lab[key], bold=True, right=right)
    if ruled:
        pdf.line(45, y - 13, 550, y - 13)
        pdf.line(45, y + 5, 550, y + 5)
    y += 20
    for row in rows:
        values = {
            "inv": row["invoice_number"],
            "idate": fmt_date(row["invoice_date"], lang),
            "desc": row["description"],
            "gross": fmt_amount(row["amount"], lang),
            "disc": fmt_amount(row["discount"], lang),
            "net": fmt_amount(row["net_amount"], lang),
        }
        for key, x, right in cols:
            pdf.text(x, y, values[key], right=right)
        if ruled:
            pdf.line(45, y + 5, 550, y + 5)
        y += 18
    if ruled:
        for x in [45, 145, 250, 350, 430, 550]:
            pdf.line(x, y - 18 * len(rows) - 33, x, y - 13)
    return y


def _total(pdf: _Pdf, t: dict[str, Any], lang: str, y: float) -> float:
    pdf.text(
        340, y + 6, f"{L[lang]['total']}: {t['currency']} {fmt_amount(t['total_amount'], lang)}", bold=True
    )
    return y + 30


def render(layout: str, lang: str, t: dict[str, Any]) -> tuple[bytes, int]:
    pdf = _Pdf()
    lab = L[lang]
    street, town = STREETS[lang]
    if layout == "letter":
        pdf.text(50, 60, t["payer"], size=14, bold=True)
        pdf.text(50, 76, f"{street}, {town}", size=9)
        pdf.text(50, 130, t["payee"])
        pdf.text(50, 144, street)
        pdf.text(50, 158, town)
        pdf.text(400, 200, fmt_date(t["payment_date"], lang))
        pdf.text(50, 240, lab["title"], size=13, bold=True)
        pdf.text(50, 270, lab["dear"])
        body = lab["body"].format(
            cur=t["currency"],
            total=fmt_amount(t["total_amount"], lang),
            iban=t["iban"],
            bic=t["bic"],
            ref=t["payment_reference"],
        )
        items = "; ".join(
            lab["item"].format(
                inv=ln["invoice_number"],
                idate=fmt_date(ln["invoice_date"], lang),
                amount=fmt_amount(ln["net_amount"], lang),
            )
            for ln in t["lines"]
        )
        words = (body + " " + items + ".").split()
        y, line = 290.0, ""
        for word in words:
            if len(line) + len(word) > 90:
                pdf.text(50, y, line)
                y, line = y + 15, ""
            line = f"{line} {word}".strip()
        pdf.text(50, y, line)
        pdf.text(50, y + 40, lab["regards"])
        pdf.text(50, y + 58, t["payer"])
        return pdf.bytes(), 1
    pdf.text(50, 50, lab["title"], size=16, bold=True)
    if layout == "ruled_table":
        y = _kv_header(pdf, t, lang, 90)
        y = _table(pdf, t, lang, y + 20, True, t["lines"])
        _total(pdf, t, lang, y)
    elif layout == "unruled_table":
        y = _kv_header(pdf, t, lang, 90)
        y = _table(pdf, t, lang, y + 20, False, t["lines"], description=True)
        _total(pdf, t, lang, y)
    elif layout == "key_value":
        y = _kv_header(pdf, t, lang, 90) + 14
        for ln in t["lines"]:
            for key, value in [
                ("inv", ln["invoice_number"]),
                ("idate", fmt_date(ln["invoice_date"], lang)),
                ("gross", fmt_amount(ln["amount"], lang)),
                ("disc", fmt_amount(ln["discount"], lang)),
                ("net", fmt_amount(ln["net_amount"], lang)),
            ]:
                pdf.text(70, y, f"{lab[key]}: {value}")
                y += 14
            y += 10
        _total(pdf, t, lang, y - 10)
    elif layout == "two_column":
        pdf.text(50, 90, f"{lab['payer']}:", bold=True)
        pdf.text(50, 106, t["payer"])
        pdf.text(50, 120, street)
        pdf.text(50, 134, town)
        pdf.text(320, 90, f"{lab['payee']}:", bold=True)
        pdf.text(320, 106, t["payee"])
        pdf.text(320, 120, f"IBAN: {t['iban']}")
        pdf.text(320, 134, f"BIC: {t['bic']}")
        pdf.text(50, 170, f"{lab['date']}: {fmt_date(t['payment_date'], lang)}")
        pdf.text(320, 170, f"{lab['ref']}: {t['payment_reference']}")
        pdf.text(50, 186, f"{lab['cur']}: {t['currency']}")
        y = _table(pdf, t, lang, 230, False, t["lines"])
        _total(pdf, t, lang, y)
    elif layout == "multi_page":
        y = _kv_header(pdf, t, lang, 90)
        first, rest = t["lines"][:26], t["lines"][26:]
        y = _table(pdf, t, lang, y + 20, True, first)
        carried = sum((ln["net_amount"] for ln in first), Decimal(0))
        pdf.text(340, y + 6, f"{lab['cf']}: {fmt_amount(carried, lang)}")
        pdf.new_page()
        pdf.text(50, 50, f"{lab['title']} - {t['payment_reference']}", size=11)
        pdf.text(340, 80, f"{lab['bf']}: {fmt_amount(carried, lang)}")
        y = _table(pdf, t, lang, 110, True, rest)
        _total(pdf, t, lang, y)
    else:
        raise ValueError(layout)
    return pdf.bytes(), pdf.pages


def make_doc(layout: str, lang: str, seed: int, name: str | None = None) -> GeneratedDoc:
    """One document, fully determined by (layout, language, seed)."""
    if layout not in LAYOUTS or lang not in LANGUAGES:
        raise ValueError(f"unknown layout or language: {layout!r}, {lang!r}")
    # A string seed is hashed deterministically (sha512), unlike hash() of a tuple.
    rng = random.Random(f"{layout}:{lang}:{seed}")
    n_lines = rng.randrange(30, 40) if layout == "multi_page" else rng.randrange(1, 6)
    truth = _truth(rng, lang, n_lines)
    pdf, pages = render(layout, lang, truth)
    return GeneratedDoc(name or f"{layout}_{lang}_{seed}", layout, lang, pdf, truth, pages)


def plan(count: int, seed: int) -> list[tuple[str, str, int]]:
    """(layout, language, seed) of the ``count`` documents: every (layout, language) pair in turn,
    the seed moving on once all 30 pairs have been used."""
    return [_slot(i, seed) for i in range(count)]


def _slot(index: int, seed: int) -> tuple[str, str, int]:
    pairs = len(LAYOUTS) * len(LANGUAGES)
    return (
        LAYOUTS[index % len(LAYOUTS)],
        LANGUAGES[(index // len(LAYOUTS)) % len(LANGUAGES)],
        seed + index // pairs,
    )


def generate(count: int = 60, seed: int = 7, layouts: list[str] | None = None) -> list[GeneratedDoc]:
    """``count`` documents cycling through every (layout, language) pair (only ``layouts`` if given)."""
    wanted = layouts or LAYOUTS
    docs: list[GeneratedDoc] = []
    index = 0
    while len(docs) < count:
        # Walk the full plan so a document's content does not depend on the layout filter.
        layout, lang, doc_seed = _slot(index, seed)
        if layout in wanted:
            docs.append(make_doc(layout, lang, doc_seed, f"{index:03d}_{layout}_{lang}"))
        index += 1
    return docs


def to_scan(pdf: bytes, seed: int) -> bytes:
    """A 300 dpi greyscale scan: skewed 0.5-1.5 degrees, speckled, JPEG-compressed (a PDF if multi-page)."""
    import numpy as np
    from PIL import Image

    from tools.documents.pdfium import close_document, open_document, page_count, render_page

    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    document = open_document(pdf)
    pages = [render_page(document, i, scale=300 / 72, grayscale=True) for i in range(page_count(document))]
    close_document(document)
    frames = []
    for page_image in pages:
        image = page_image.convert("L")
        angle = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
        image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
        pixels = np.asarray(image, dtype=np.int16)
        pixels = pixels + np_rng.normal(0, 12, pixels.shape).astype(np.int16)
        specks = np_rng.random(pixels.shape) < 0.0008
        pixels[specks] = 0
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=rng.randint(55, 75))
        frames.append(Image.open(io.BytesIO(buffer.getvalue())))
    if len(frames) == 1:
        buffer = io.BytesIO()
        frames[0].save(buffer, format="JPEG", quality=90, dpi=(300, 300))
        return buffer.getvalue()
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PDF", resolution=300, save_all=True, append_images=frames[1:])
    return buffer.getvalue()


# Short layout names for specs ("text:ruled:de:7"); the full names are accepted too.
SPEC_LAYOUTS = {
    "ruled": "ruled_table",
    "unruled": "unruled_table",
    "kv": "key_value",
    "twocol": "two_column",
    "multipage": "multi_page",
    "letter": "letter",
}
_SPEC_NAMES = {full: short for short, full in SPEC_LAYOUTS.items()}


def spec_of(kind: str, layout: str, lang: str, seed: int) -> str:
    return f"{kind}:{_SPEC_NAMES[layout]}:{lang}:{seed}"


def parse_spec(spec: str) -> tuple[str, GeneratedDoc]:
    """``kind:layout:lang:seed`` -> (kind, document); raises ValueError naming the bad part."""
    parts = spec.split(":")
    if len(parts) != 4:
        raise ValueError(f"generated spec {spec!r} is not kind:layout:lang:seed")
    kind, layout, lang, seed = parts
    if kind not in {"text", "scan"}:
        raise ValueError(f"generated spec {spec!r}: kind must be 'text' or 'scan'")
    layout = SPEC_LAYOUTS.get(layout, layout)
    if not seed.isdigit():
        raise ValueError(f"generated spec {spec!r}: seed must be a non-negative integer")
    return kind, make_doc(layout, lang, int(seed))


def render_spec(spec: str) -> tuple[bytes, str]:
    """The file bytes and a source name for ``spec`` ("text:ruled:de:7", "scan:letter:fr:7").

    ``text`` gives the text-layer PDF; ``scan`` its 300 dpi scan (a JPEG, or a PDF of JPEG pages
    for multi-page documents). The same spec always gives the same bytes.
    """
    kind, doc = parse_spec(spec)
    stem = spec.replace(":", "_")
    if kind == "text":
        return doc.pdf, f"{stem}.pdf"
    scan = to_scan(doc.pdf, seed=zlib.crc32(spec.encode()))
    return scan, f"{stem}.{'pdf' if doc.pages > 1 else 'jpg'}"


def expected_fields(doc: GeneratedDoc) -> dict[str, str]:
    """The truth as dotted paths into ``Extraction.to_json_dict()``, values as strings."""
    t = doc.expected
    expected = {
        "remittance.total_amount": str(t["total_amount"]),
        "remittance.currency": t["currency"],
        "remittance.payment_date": t["payment_date"].isoformat(),
        "remittance.payment_reference": t["payment_reference"],
        "remittance.payer.name": t["payer"],
        "remittance.payee.name": t["payee"],
        "remittance.iban": t["iban"],
        "remittance.bic": t["bic"],
    }
    for index, line in enumerate(t["lines"]):
        prefix = f"remittance.lines[{index}]"
        expected[f"{prefix}.invoice_number"] = line["invoice_number"]
        expected[f"{prefix}.invoice_date"] = line["invoice_date"].isoformat()
        if doc.layout == "letter":
            # A letter lists what is paid per invoice: one amount, the net.
            expected[f"{prefix}.amount"] = str(line["net_amount"])
            continue
        expected[f"{prefix}.amount"] = str(line["amount"])
        expected[f"{prefix}.discount"] = str(line["discount"])
        expected[f"{prefix}.net_amount"] = str(line["net_amount"])
    return expected


def dataset_rows(count: int = 60, seed: int = 7, scans: int = 12) -> list[dict[str, Any]]:
    """Evaluation rows for ``count`` text PDFs and the scans of the first ``scans`` of them.

    Row: ``{"id": "generated/<spec>", "input": "generated:<spec>", "doc_type": "remittance_advice",
    "expected": {dotted path: value}}``, the format of ``evals/datasets/extraction.jsonl``.
    """
    rows = []
    slots = plan(count, seed)
    for kind, chosen in (("text", slots), ("scan", slots[:scans])):
        for layout, lang, doc_seed in chosen:
            spec = spec_of(kind, layout, lang, doc_seed)
            rows.append(
                {
                    "id": f"generated/{spec}",
                    "input": f"generated:{spec}",
                    "doc_type": "remittance_advice",
                    "expected": expected_fields(make_doc(layout, lang, doc_seed)),
                }
            )
    return rows
