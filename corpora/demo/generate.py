"""Generate corpora/demo/refdata.json: the deterministic demo reference data.

Run ``.venv/bin/python corpora/demo/generate.py`` (writes next to this file; ``--out FILE`` to
write elsewhere, ``--check`` to fail when the committed file differs from a fresh run). The same
seed always gives byte-identical output: no clock, no network, only ``random.Random(SEED)``.

IBANs are real and valid (schwifty's ``IBAN.generate`` with bank codes from its registry) and each
account's BIC is the one the registry derives from the IBAN. The first twenty customers (C-1001 to
C-1020) are hand-written "story" customers that the agent's test cases are built on; see README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from schwifty import IBAN, registry

SEED = 20261120
DEMO_TODAY = date(2026, 11, 20)  # the evaluation clock of the demo cases (REPAIRDESK_TODAY)
OUT = Path(__file__).with_name("refdata.json")
GENERIC_CUSTOMERS = 280

HOME_CURRENCY = {
    "DE": "EUR", "FR": "EUR", "NL": "EUR", "GB": "GBP", "CH": "CHF",
    "SE": "SEK", "ES": "EUR", "IT": "EUR", "BE": "EUR", "AT": "EUR",
}  # fmt: skip
# Well-known banks per country: (bank_code, branch_code). Codes that schwifty no longer knows are skipped.
BANKS = {
    "DE": [("37040044", ""), ("10010010", ""), ("20050550", ""), ("70020270", ""), ("50010517", "")],
    "FR": [("30004", "00001"), ("30003", "00010"), ("30002", "00550"), ("10107", "00100")],
    "NL": [("ABNA", ""), ("INGB", ""), ("RABO", ""), ("TRIO", "")],
    "GB": [("BARC", "200000"), ("NWBK", "601613"), ("HBUK", "400515"), ("LOYD", "309634")],
    "CH": [("00230", ""), ("00700", ""), ("09000", ""), ("00762", "")],
    "SE": [("500", ""), ("800", ""), ("600", "")],
    "ES": [("0049", "0001"), ("2100", "0001"), ("0182", "0001")],
    "IT": [("03069", "01600"), ("02008", "01600"), ("05034", "01600")],
    "BE": [("001", ""), ("310", ""), ("068", "")],
    "AT": [("12000", ""), ("20111", ""), ("32000", "")],
}
ACCOUNT_DIGITS = {
    "DE": 10,
    "FR": 11,
    "NL": 10,
    "GB": 8,
    "CH": 12,
    "SE": 16,
    "ES": 10,
    "IT": 12,
    "BE": 7,
    "AT": 11,
}
LEGAL_FORMS = {
    "DE": ["GmbH", "AG", "GmbH & Co. KG"], "FR": ["SA", "SARL", "SAS"], "NL": ["B.V.", "N.V."],
    "GB": ["Ltd", "PLC", "Limited"], "CH": ["AG", "SA", "GmbH"], "SE": ["AB"], "ES": ["S.L.", "S.A."],
    "IT": ["S.p.A.", "S.r.l."], "BE": ["NV", "SA", "BV"], "AT": ["GmbH", "AG"],
}  # fmt: skip
STEMS = [
    "Nord", "Süd", "Alpen", "Rhein", "Atlas", "Orion", "Vega", "Falken", "Kristall", "Lumière", "Solaris",
    "Iberia", "Tulip", "Fjord", "Baltic", "Danube", "Aurora", "Polaris", "Cedar", "Granit", "Horizon",
    "Meridian", "Zenith", "Phoenix", "Boreal", "Corvus", "Lyra", "Argent", "Cobalt", "Saffron",
    "Eiger", "Brenner", "Loire", "Tejo", "Arno", "Schelde", "Mälar", "Thames", "Severn", "Jura",
]  # fmt: skip
SECTORS = [
    "Maschinenbau", "Logistik", "Handel", "Consulting", "Textiles", "Foods", "Holdings", "Pharma",
    "Systems", "Energie", "Bau", "Transports", "Vins", "Software", "Metals", "Chemie", "Optics",
    "Packaging", "Robotics", "Agrar", "Marine", "Electronics", "Design", "Medical", "Papier",
]  # fmt: skip
# Data tables, one row per country: alike by design.
CITIES = {
    "DE": [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln")],
    "FR": [("75008", "Paris"), ("69002", "Lyon"), ("33000", "Bordeaux"), ("13001", "Marseille")],
    "NL": [("1012 AB", "Amsterdam"), ("3011 AD", "Rotterdam"), ("3511 AX", "Utrecht")],
    "GB": [("EC2V 7HH", "London"), ("M1 1AE", "Manchester"), ("B1 1BB", "Birmingham")],
    "CH": [("8001", "Zürich"), ("1204", "Genève"), ("4051", "Basel")],
    "SE": [("111 52", "Stockholm"), ("411 03", "Göteborg"), ("211 20", "Malmö")],
    "ES": [("28013", "Madrid"), ("08002", "Barcelona"), ("46002", "Valencia")],
    "IT": [("20121", "Milano"), ("00184", "Roma"), ("10121", "Torino")],
    "BE": [("1000", "Bruxelles"), ("2000", "Antwerpen"), ("9000", "Gent")],
    "AT": [("1010", "Wien"), ("5020", "Salzburg"), ("8010", "Graz")],
}
STREETS = {
    "DE": "Hauptstraße", "FR": "Rue de la République", "NL": "Keizersgracht", "GB": "High Street",
    "CH": "Bahnhofstrasse", "SE": "Drottninggatan", "ES": "Calle Mayor", "IT": "Via Roma",
    "BE": "Rue Royale", "AT": "Mariahilfer Straße",
}  # fmt: skip


class Builder:
    """Accumulates the records; every random choice goes through ``self.rng``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.customers: list[dict[str, Any]] = []
        self.accounts: list[dict[str, Any]] = []
        self.ssis: list[dict[str, Any]] = []
        self.invoices: list[dict[str, Any]] = []
        self.payments: list[dict[str, Any]] = []
        self._ibans: set[str] = set()
        self._names: set[str] = set()
        self._invoice_seq = 20000
        self._payment_seq = 0
        self._banks = {
            cc: [b for b in (self._bank(cc, *spec) for spec in specs) if b] for cc, specs in BANKS.items()
        }

    @staticmethod
    def _bank(country: str, bank_code: str, branch_code: str) -> tuple[str, str] | None:
        try:
            IBAN.generate(country, bank_code=bank_code, account_code="1", branch_code=branch_code)
        except Exception:  # a bank code the registry no longer knows: skip it
            return None
        return (bank_code, branch_code) if registry.get_banks_by_code(country, bank_code) else None

    # ---- building blocks ----------------------------------------------------------------------
    def iban(self, country: str, bank: int | None = None, account: str | None = None) -> tuple[str, str]:
        """A fresh valid IBAN at one of the country's banks and the BIC the registry derives."""
        banks = self._banks[country]
        bank_code, branch = banks[bank % len(banks)] if bank is not None else self.rng.choice(banks)
        while True:
            digits = account or "".join(self.rng.choice("0123456789") for _ in range(ACCOUNT_DIGITS[country]))
            iban = IBAN.generate(country, bank_code=bank_code, account_code=digits, branch_code=branch)
            text = str(iban.compact)
            if text not in self._ibans:
                break
            account = None
        IBAN(text)  # valid by construction; fail loudly if schwifty disagrees
        bic = iban.bic
        if bic is None:
            raise SystemExit(f"no BIC derivable for {text}")
        self._ibans.add(text)
        compact_bic = str(bic)
        return text, compact_bic[:8] if compact_bic.endswith("XXX") else compact_bic

    def address(self, country: str) -> list[str]:
        post, city = self.rng.choice(CITIES[country])
        return [f"{STREETS[country]} {self.rng.randint(1, 180)}", f"{post} {city}"]

    def customer(self, cid: str, name: str, country: str, address: list[str] | None = None) -> dict[str, Any]:
        self._names.add(name)
        record = {
            "customer_id": cid,
            "name": name,
            "country": country,
            "address_lines": address or self.address(country),
        }
        self.customers.append(record)
        return record

    def account(
        self, cid: str, country: str, currency: str, status: str = "open", bank: int | None = None
    ) -> dict[str, Any]:
        iban, bic = self.iban(country, bank)
        record = {"customer_id": cid, "iban": iban, "bic": bic, "currency": currency, "status": status}
        self.accounts.append(record)
        return record

    def ssi(
        self, customer: dict[str, Any], account: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]:
        cid = customer["customer_id"]
        number = sum(1 for s in self.ssis if s["customer_id"] == cid) + 1
        record = {
            "ssi_id": f"{cid}:{number}", "customer_id": cid, "beneficiary_name": name or customer["name"],
            "iban": account["iban"], "bic": account["bic"], "currency": account["currency"],
            "address_lines": customer["address_lines"], "country": customer["country"],
        }  # fmt: skip
        self.ssis.append(record)
        return record

    def invoice(
        self, cid: str, currency: str, amount: str, number: str | None = None, *, due: date | None = None,
        debtor: str | None = None, discount_rate: str | None = None, discount_until: date | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        if number is None:
            self._invoice_seq += 1
            number = f"INV-{self._invoice_seq}"
        due = due or DEMO_TODAY + timedelta(days=self.rng.randint(-45, 60))
        record: dict[str, Any] = {
            "invoice_number": number, "customer_id": cid, "currency": currency, "amount": amount,
            "due_date": due.isoformat(), "invoice_date": (due - timedelta(days=30)).isoformat(),
        }  # fmt: skip
        if debtor:
            record["debtor_name"] = debtor
        if discount_rate:
            record["discount_rate"] = discount_rate
            record["discount_until"] = (discount_until or due - timedelta(days=20)).isoformat()
        self.invoices.append(record)
        return record

    def payment(
        self, amount: str, currency: str, value_date: date, debtor: str, creditor: dict[str, Any],
        *, reference: str | None = None, uetr: str | None = None, customer_id: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        self._payment_seq += 1
        record = {
            "reference": reference or f"PAY{value_date:%y%m%d}{self._payment_seq:05d}",
            "uetr": uetr or self.uetr(), "amount": amount, "currency": currency,
            "value_date": value_date.isoformat(), "debtor_name": debtor,
            "creditor_name": creditor["beneficiary_name"], "creditor_iban": creditor["iban"],
        }  # fmt: skip
        if customer_id:
            record["customer_id"] = customer_id
        self.payments.append(record)
        return record

    def uetr(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def amount(self, currency: str, low: int, high: int) -> str:
        if currency == "JPY":
            return str(self.rng.randint(low, high) * 100)
        return f"{Decimal(self.rng.randint(low * 100, high * 100)) / 100:.2f}"

    def name(self, country: str) -> str:
        while True:
            name = (
                f"{self.rng.choice(STEMS)} {self.rng.choice(SECTORS)} {self.rng.choice(LEGAL_FORMS[country])}"
            )
            if name not in self._names:
                return name


def stories(b: Builder) -> dict[str, Any]:
    """The hand-written customers C-1001..C-1020 (README.md explains each). Returns facts for the README."""
    facts: dict[str, Any] = {}

    # C-1001 AC01: a typo'd IBAN (two digits swapped, checksum fails) and a valid look-alike IBAN.
    c = b.customer("C-1001", "Müller Maschinenbau GmbH", "DE", ["Hauptstraße 12", "50667 Köln"])
    a = b.account("C-1001", "DE", "EUR", bank=0)
    b.ssi(c, a)
    facts["C-1001"] = {
        "iban": a["iban"],
        "typo_iban": swap_digits(a["iban"]),
        "lookalike_iban": lookalike(b, a["iban"]),
    }

    # C-1002 AC04: closed account, one open replacement that the SSI points to.
    c = b.customer("C-1002", "Lumière Textiles SA", "FR", ["12 Rue de la République", "69002 Lyon"])
    old = b.account("C-1002", "FR", "EUR", status="closed", bank=0)
    new = b.account("C-1002", "FR", "EUR", bank=1)
    b.ssi(c, new)
    facts["C-1002"] = {"closed_iban": old["iban"], "replacement_iban": new["iban"], "bic": new["bic"]}

    # C-1003 homoglyph target.
    c = b.customer("C-1003", "Nordwind Logistik GmbH", "DE", ["Speicherstadt 4", "20095 Hamburg"])
    a = b.account("C-1003", "DE", "EUR", bank=2)
    b.ssi(c, a)
    facts["C-1003"] = {"iban": a["iban"], "homoglyph_name": "Nordw\u0456nd Logistik GmbH"}

    # C-1004 blocked account, no open EUR account and no SSI.
    b.customer("C-1004", "Tulip Trading B.V.", "NL", ["Keizersgracht 100", "1012 AB Amsterdam"])
    a = b.account("C-1004", "NL", "EUR", status="blocked", bank=0)
    facts["C-1004"] = {"blocked_iban": a["iban"]}

    # C-1005 GBP invoices: a unique pair sums to 2000.50; one invoice is exactly 2999.99.
    c = b.customer("C-1005", "Albion Components Ltd", "GB", ["1 High Street", "M1 1AE Manchester"])
    a = b.account("C-1005", "GB", "GBP", bank=0)
    b.ssi(c, a)
    for number, amount in [
        ("INV-5001", "1200.00"),
        ("INV-5002", "800.50"),
        ("INV-5003", "345.20"),
        ("INV-5004", "2999.99"),
    ]:
        b.invoice("C-1005", "GBP", amount, number, debtor="Orion Holdings AB")
    facts["C-1005"] = {"iban": a["iban"]}

    # C-1006 CHF discounts: own 2 % terms on INV-6001, default 3 % on INV-6002.
    c = b.customer("C-1006", "Helvetia Präzision AG", "CH", ["Bahnhofstrasse 21", "8001 Zürich"])
    a = b.account("C-1006", "CH", "CHF", bank=0)
    b.ssi(c, a)
    b.invoice("C-1006", "CHF", "10000.00", "INV-6001", due=date(2026, 12, 15), discount_rate="0.02",
              discount_until=date(2026, 11, 25))  # fmt: skip
    b.invoice("C-1006", "CHF", "4500.00", "INV-6002", due=date(2026, 12, 31))
    facts["C-1006"] = {"iban": a["iban"]}

    # C-1007 short payment: INV-7001 + INV-7002 = 7500.00, paid 7250.00.
    c = b.customer("C-1007", "Iberia Foods S.L.", "ES", ["Calle Mayor 5", "28013 Madrid"])
    a = b.account("C-1007", "ES", "EUR", bank=0)
    b.ssi(c, a)
    b.invoice("C-1007", "EUR", "5000.00", "INV-7001", due=date(2026, 11, 10))
    b.invoice("C-1007", "EUR", "2500.00", "INV-7002", due=date(2026, 11, 30))
    facts["C-1007"] = {"iban": a["iban"]}

    # C-1008 two SEK SSIs told apart by beneficiary name.
    c = b.customer("C-1008", "Orion Holdings AB", "SE", ["Drottninggatan 10", "111 52 Stockholm"])
    a1 = b.account("C-1008", "SE", "SEK", bank=0)
    a2 = b.account("C-1008", "SE", "SEK", bank=1)
    b.ssi(c, a1)
    b.ssi(c, a2, name="Orion Fastigheter AB")
    facts["C-1008"] = {"holdings_iban": a1["iban"], "fastigheter_iban": a2["iban"]}

    # C-1009 two EUR SSIs under the same name: ambiguous.
    c = b.customer("C-1009", "Vega Consulting GmbH", "AT", ["Mariahilfer Straße 50", "1010 Wien"])
    a1 = b.account("C-1009", "AT", "EUR", bank=0)
    a2 = b.account("C-1009", "AT", "EUR", bank=1)
    b.ssi(c, a1)
    b.ssi(c, a2)
    facts["C-1009"] = {"ibans": [a1["iban"], a2["iban"]]}

    # C-1010 JPY invoices (no decimals), paid together.
    c = b.customer("C-1010", "Sakura Trading Ltd", "GB", ["20 Fenchurch Street", "EC2V 7HH London"])
    a = b.account("C-1010", "GB", "JPY", bank=1)
    b.ssi(c, a)
    b.invoice("C-1010", "JPY", "1250000", "INV-10001")
    b.invoice("C-1010", "JPY", "480000", "INV-10002")
    b.invoice("C-1010", "JPY", "93000", "INV-10003")
    facts["C-1010"] = {"iban": a["iban"]}

    # C-1011 separate EUR and USD SSIs.
    c = b.customer("C-1011", "Atlas Shipping NV", "BE", ["Rue Royale 80", "1000 Bruxelles"])
    eur = b.account("C-1011", "BE", "EUR", bank=0)
    usd = b.account("C-1011", "BE", "USD", bank=1)
    b.ssi(c, eur)
    b.ssi(c, usd)
    facts["C-1011"] = {"eur_iban": eur["iban"], "usd_iban": usd["iban"]}

    # C-1012 duplicate payments (see payments below).
    c = b.customer("C-1012", "Rheinland Chemie AG", "DE", ["Rheinuferstraße 7", "50667 Köln"])
    a = b.account("C-1012", "DE", "EUR", bank=3)
    s = b.ssi(c, a)
    b.payment("48250.00", "EUR", date(2026, 11, 16), "Brabant Tools BV", s, reference="PAYDUP0001",
              uetr="3f2b8c1e-6a4d-4e1f-9b7a-2c5d8e9f0a11", customer_id="C-1014")  # fmt: skip
    b.payment("48250.00", "EUR", date(2026, 11, 3), "Brabant Tools BV", s, reference="PAYOLD0002",
              customer_id="C-1014")  # fmt: skip
    b.payment("12999.00", "EUR", date(2026, 11, 17), "Brabant Tools BV", s, reference="PAYNODUP03",
              customer_id="C-1014")  # fmt: skip
    facts["C-1012"] = {"iban": a["iban"]}

    # C-1013 RC01: the SSI carries the right BIC; cases use a non-existent one.
    c = b.customer("C-1013", "Milano Design S.r.l.", "IT", ["Via Roma 15", "20121 Milano"])
    a = b.account("C-1013", "IT", "EUR", bank=1)
    b.ssi(c, a)
    facts["C-1013"] = {"iban": a["iban"], "bic": a["bic"], "wrong_bic": a["bic"][:7] + "X"}

    # C-1014 BE04/RR03: complete address on the SSI.
    c = b.customer("C-1014", "Brabant Tools BV", "BE", ["Meir 22", "2000 Antwerpen"])
    a = b.account("C-1014", "BE", "EUR", bank=1)
    b.ssi(c, a)
    facts["C-1014"] = {"iban": a["iban"]}

    # C-1015 recall windows (value dates relative to DEMO_TODAY 2026-11-20).
    c = b.customer("C-1015", "Danube Pharma GmbH", "AT", ["Landstraßer Hauptstraße 9", "1010 Wien"])
    a = b.account("C-1015", "AT", "EUR", bank=2)
    s = b.ssi(c, a)
    b.payment("7300.00", "EUR", date(2026, 11, 12), "Cedar Software Ltd", s, reference="PAYRCL0001")
    b.payment("7300.00", "EUR", date(2026, 1, 12), "Cedar Software Ltd", s, reference="PAYRCL0002")
    b.payment("7300.00", "EUR", date(2025, 9, 15), "Cedar Software Ltd", s, reference="PAYRCL0003")
    facts["C-1015"] = {"iban": a["iban"]}

    # C-1016 large amounts for four-eyes thresholds.
    c = b.customer("C-1016", "Kronos Energie AG", "CH", ["Aeschenvorstadt 1", "4051 Basel"])
    a = b.account("C-1016", "CH", "CHF", bank=1)
    b.ssi(c, a)
    b.invoice("C-1016", "CHF", "250000.00", "INV-16001")
    facts["C-1016"] = {"iban": a["iban"], "typo_iban": swap_digits(a["iban"])}

    # C-1017 USD account and SSI of a GB customer.
    c = b.customer("C-1017", "Liberty Supplies Ltd", "GB", ["5 Colmore Row", "B1 1BB Birmingham"])
    gbp = b.account("C-1017", "GB", "GBP", bank=2)
    usd = b.account("C-1017", "GB", "USD", bank=2)
    b.ssi(c, gbp)
    b.ssi(c, usd)
    facts["C-1017"] = {"gbp_iban": gbp["iban"], "usd_iban": usd["iban"]}

    # C-1018 accents, case and legal form differ between message and SSI.
    c = b.customer(
        "C-1018", "Société Générale des Vins SARL", "FR", ["3 Quai des Chartrons", "33000 Bordeaux"]
    )
    a = b.account("C-1018", "FR", "EUR", bank=2)
    b.ssi(c, a)
    facts["C-1018"] = {"iban": a["iban"], "typo_iban": swap_digits(a["iban"])}

    # C-1019 closed account with two open replacements: no single replacement.
    c = b.customer("C-1019", "Fjord Seafood AB", "SE", ["Strandvägen 3", "211 20 Malmö"])
    old = b.account("C-1019", "SE", "SEK", status="closed", bank=2)
    n1 = b.account("C-1019", "SE", "SEK", bank=0)
    n2 = b.account("C-1019", "SE", "SEK", bank=1)
    b.ssi(c, n1)
    b.ssi(c, n2, name="Fjord Seafood AB Export")
    facts["C-1019"] = {"closed_iban": old["iban"], "open_ibans": [n1["iban"], n2["iban"]]}

    # C-1020 no SSI at all.
    b.customer("C-1020", "Alpen Bau GmbH", "AT", ["Getreidegasse 9", "5020 Salzburg"])
    a = b.account("C-1020", "AT", "EUR", bank=0)
    facts["C-1020"] = {"iban": a["iban"]}
    return facts


def swap_digits(iban: str) -> str:
    """Swap the first two different adjacent digits of the account part: checksum then fails."""
    chars = list(iban)
    for i in range(len(chars) - 1, 5, -1):
        if chars[i].isdigit() and chars[i - 1].isdigit() and chars[i] != chars[i - 1]:
            chars[i], chars[i - 1] = chars[i - 1], chars[i]
            swapped = "".join(chars)
            try:
                IBAN(swapped)
            except Exception:
                return swapped
            chars[i], chars[i - 1] = chars[i - 1], chars[i]
    raise SystemExit(f"cannot make a failing typo of {iban}")


def lookalike(b: Builder, iban: str) -> str:
    """A valid IBAN at the same bank differing in the account number: passes validation, not ours."""
    parsed = IBAN(iban)
    account = parsed.account_code
    changed = account[:-2] + f"{(int(account[-2:]) + 37) % 100:02d}"
    other = IBAN.generate(parsed.country_code, bank_code=parsed.bank_code, account_code=changed)
    return str(other.compact)


def generic(b: Builder, facts: dict[str, Any]) -> None:
    """Generic customers with accounts, SSIs, invoices, and payments between them."""
    countries = sorted(HOME_CURRENCY)
    for n in range(GENERIC_CUSTOMERS):
        cid = f"C-{1021 + n}"
        country = countries[n % len(countries)]
        currency = HOME_CURRENCY[country]
        customer = b.customer(cid, b.name(country), country)
        roll = b.rng.random()
        if roll < 0.08:  # closed account replaced by a new one
            b.account(cid, country, currency, status="closed")
        elif roll < 0.11:
            b.account(cid, country, currency, status="blocked")
        main = b.account(cid, country, currency)
        b.ssi(customer, main)
        if b.rng.random() < 0.3:
            other = b.rng.choice([c for c in ("EUR", "USD", "GBP", "CHF", "SEK", "JPY") if c != currency])
            extra = b.account(cid, country, other)
            b.ssi(customer, extra)
        if b.rng.random() < 0.06:  # a second SSI in the same currency (another account)
            b.ssi(customer, b.account(cid, country, currency), name=customer["name"])
        for _ in range(b.rng.randint(0, 5)):
            low, high = (50, 40000) if currency != "JPY" else (100, 50000)
            b.invoice(cid, currency, b.amount(currency, low, high))
    ssis = list(b.ssis)
    names = [c["name"] for c in b.customers]
    for _ in range(900):
        ssi = b.rng.choice(ssis)
        day = DEMO_TODAY - timedelta(days=b.rng.randint(1, 420))
        low, high = (100, 2500) if ssi["currency"] == "JPY" else (20, 90000)
        debtor = b.rng.choice([n for n in names if n != ssi["beneficiary_name"]][:200])
        b.payment(b.amount(ssi["currency"], low, high), ssi["currency"], day, debtor, ssi)
    facts["generic_customers"] = GENERIC_CUSTOMERS


def build(seed: int = SEED) -> tuple[dict[str, Any], dict[str, Any]]:
    b = Builder(seed)
    facts = stories(b)
    generic(b, facts)
    data = {
        "customers": b.customers,
        "accounts": b.accounts,
        "ssis": b.ssis,
        "open_invoices": b.invoices,
        "payments": b.payments,
    }
    return data, facts


def render(data: dict[str, Any]) -> str:
    """One record per line: diff-friendly and well under 2 MB."""
    parts = []
    for kind, records in data.items():
        lines = ",\n".join("  " + json.dumps(r, ensure_ascii=False, separators=(", ", ": ")) for r in records)
        parts.append(f'"{kind}": [\n{lines}\n]')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out differs from a fresh run")
    parser.add_argument("--facts", action="store_true", help="print the story customers' facts as JSON")
    args = parser.parse_args(argv)
    data, facts = build()
    text = render(data)
    if args.facts:
        sys.stdout.write(json.dumps(facts, indent=2, ensure_ascii=False) + "\n")
        return 0
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        sys.stderr.write("up to date\n" if same else f"{args.out} differs from a fresh run\n")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k}" for k, v in data.items())
    sys.stderr.write(f"wrote {args.out} ({len(text.encode())} bytes): {counts}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
