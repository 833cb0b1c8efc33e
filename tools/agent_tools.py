"""The agent's evidence tools as LangChain tools (names and results: docs/playbook.md).

``build_tools(store, search=None)`` returns one :class:`~langchain_core.tools.BaseTool` per name in
:data:`tools.catalog.TOOL_NAMES`, bound to a reference-data store. Each tool has a pydantic argument
schema (what an LLM sees) and returns the plain dict of the evidence function it wraps, JSON-ready,
with a stable ``ref`` when it found something. Bad arguments, whether the schema or the evidence
function refuses them, raise :class:`tools.errors.ValidationError` (or another typed error from
:mod:`tools.errors`).

``search`` is the procedure search (``search.search(query, code=..., k=...) -> list[Hit]``) or None:
then the default search of :mod:`tools.retrieval` is built on first use, so building the tools
never loads an embedding model.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal, cast

import pydantic
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from tools.catalog import TOOL_NAMES
from tools.errors import NotFoundError, ValidationError
from tools.payments import (
    banks,
    codes,
    customers,
    duplicates,
    iban,
    investigation,
    invoices,
    parties,
    recall,
    ssi,
)
from tools.refdata.store import RefDataStore

Amount = Decimal | int | str
DateLike = date | str


# One argument model per tool (LangChain shows the model's field names and descriptions to the LLM), so
# fields such as `country` repeat across models by design.
# Intended same-shape classes: one pydantic args schema per LangChain tool (the model reads each one).
class IbanArgs(BaseModel):
    iban: str = Field(description="The IBAN to validate, any spacing or case.")


class BicArgs(BaseModel):
    bic: str = Field(description="An 8- or 11-character BIC.")


class BankSearchArgs(BaseModel):
    name: str = Field(description="Bank name as written in the message.")
    country: str | None = Field(None, description="ISO 3166 two-letter country code, if known.")


class CustomerArgs(BaseModel):
    customer_id: str = Field(description="Customer id, e.g. C-1042.")


class FindCustomerArgs(BaseModel):
    name: str = Field(description="Customer (party) name to search for.")
    country: str | None = Field(None, description="ISO 3166 two-letter country code, if known.")


class PartyArgs(BaseModel):
    name: str = Field(description="The party's name as the payment gives it.")
    iban: str | None = Field(None, description="The party's account (IBAN), any spacing or case.")
    address_lines: list[str] | None = Field(None, description="The party's address lines.")
    country: str | None = Field(None, description="ISO 3166 two-letter country code, if known.")


class AccountArgs(BaseModel):
    iban: str = Field(description="IBAN of the account to look up.")


class SsiArgs(BaseModel):
    customer_id: str = Field(description="Customer whose standing settlement instructions to read.")
    currency: str | None = Field(None, description="ISO 4217 currency of the payment.")
    beneficiary_name: str | None = Field(None, description="Beneficiary name from the payment (untrusted).")
    iban: str | None = Field(None, description="The failing creditor IBAN, to rank close SSIs first.")


class DuplicateArgs(BaseModel):
    uetr: str | None = Field(None, description="UETR of the payment.")
    reference: str | None = Field(None, description="The payment's own reference (MT :20: or MsgId).")
    amount: Amount | None = Field(None, description="Amount as a decimal string.")
    currency: str | None = Field(None, description="ISO 4217 currency.")
    creditor_name: str | None = None
    creditor_iban: str | None = None
    value_date: DateLike | None = Field(None, description="Value date, YYYY-MM-DD.")
    window_days: int = Field(5, ge=0, le=400, description="Days either side of the value date.")


class InvoiceArgs(BaseModel):
    customer_id: str = Field(description="The customer (invoice issuer) receiving the payment.")
    amount: Amount = Field(description="Amount received, decimal string.")
    currency: str = Field(description="ISO 4217 currency.")
    references: list[Any] | str | None = Field(
        None, description="Invoice numbers or remittance texts seen (strings; nested lists are flattened)."
    )
    tolerance: Amount = Field("0.01", description="Absolute tolerance in the currency.")
    payment_date: DateLike | None = Field(None, description="Payment date, for discount deadlines.")


class ReasonCodeArgs(BaseModel):
    code: str = Field(description="ISO 20022 reason code (AC01, AM05, ...) or an internal code.")


class ProcedureSearchArgs(BaseModel):
    query: str = Field(description="What to look for in the procedures.")
    code: str | None = Field(None, description="Restrict to procedures for this exception code.")
    k: int = Field(5, ge=1, le=20, description="Number of hits.")


class RecallArgs(BaseModel):
    value_date: DateLike = Field(description="Value date of the payment, YYYY-MM-DD.")
    rail: str | None = Field(None, description="Payment rail (SEPA, SWIFT, ...), informative.")
    today: DateLike | None = Field(None, description="Evaluation date; default: today.")


class InvestigationArgs(BaseModel):
    kind: Literal["mt199", "camt.029", "camt.056"] = Field(description="Which message to draft.")
    reason: str = Field(description="Reason text or a four-letter ISO reason code.")
    payment: Any = Field(None, description="The case's canonical payment (object or dict).")
    reason_code: str | None = Field(None, description="ISO reason code for camt drafts.")


class EvidenceTool(StructuredTool):
    """A structured tool whose argument errors are :class:`tools.errors.ValidationError` too, naming
    the tool and the argument, so callers handle one error family for schema and value problems."""

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        try:
            return super()._to_args_and_kwargs(tool_input, tool_call_id)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": str(exc)}
            where = ".".join(str(part) for part in first["loc"]) or "arguments"
            raise ValidationError(str(first["msg"]), source=f"{self.name}.{where}") from None


class _LazySearch:
    """The procedure search, built on first use (loading it may load an embedding model)."""

    def __init__(self, search: Any) -> None:
        self._search = search
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._search is None:
                # Imported at call time: loading the search module pulls in numpy and the index code.
                try:
                    module = importlib.import_module("tools.retrieval.search")
                except ImportError as exc:
                    raise NotFoundError(
                        "procedure search is not available", source="tools.retrieval.search"
                    ) from exc
                self._search = module.open_search()
            return self._search


def _hit_dict(hit: Any) -> dict[str, Any]:
    get: Callable[[str], Any] = hit.get if isinstance(hit, dict) else lambda name: getattr(hit, name, None)
    text = get("text")
    return {
        "doc_id": get("doc_id"),
        "section": get("section"),
        "title": get("title"),
        "score": None if get("score") is None else round(float(get("score")), 4),
        "text": text[:600] if isinstance(text, str) else None,
        "ref": f"procedure:{get('doc_id')}:{get('section')}",
    }


def build_tools(store: RefDataStore, search: Any = None) -> dict[str, BaseTool]:
    """One LangChain tool per catalogue name, bound to ``store`` (and ``search`` for procedures)."""
    lazy = _LazySearch(search)

    def search_procedures(query: str, code: str | None = None, k: int = 5) -> dict[str, Any]:
        hits = lazy.get().search(query, code=code, k=k)
        return {"hits": [_hit_dict(hit) for hit in hits], "found": bool(hits)}

    def check_recall_window(
        value_date: DateLike, rail: str | None = None, today: DateLike | None = None
    ) -> dict[str, Any]:
        return recall.check_recall_window(value_date, rail, today)

    specs: list[tuple[str, Callable[..., dict[str, Any]], type[BaseModel], str]] = [
        ("validate_iban", iban.validate_iban, IbanArgs,
         "Validate an IBAN (checksum, length, structure) and derive its bank's BIC from the registry."),
        ("lookup_bic", lambda bic: banks.lookup_bic(bic, store), BicArgs,
         "Look a BIC up in the bank registry and reference data."),
        ("search_banks", lambda name, country=None: banks.search_banks(name, country, store), BankSearchArgs,
         "Find banks by name (and country) in the bank registry; fuzzy."),
        ("get_customer", lambda customer_id: customers.get_customer(store, customer_id), CustomerArgs,
         "Read a customer's master data by id."),
        ("find_customer", lambda name, country=None: customers.find_customer(store, name, country),
         FindCustomerArgs, "Find a customer by name (fuzzy, legal forms ignored, look-alikes flagged)."),
        ("resolve_party", lambda **kw: parties.resolve_party(store, **kw), PartyArgs,
         "Which customer a payment party is, from its name, account, address and country (no id needed)."),
        ("lookup_account", lambda iban: customers.lookup_account(store, iban), AccountArgs,
         "Look an account up by IBAN: status (open/closed/blocked), owner, replacement account."),
        ("get_ssi", lambda **kw: ssi.get_ssi(store, **kw), SsiArgs,
         "The customer's standing settlement instruction for a currency, matched on beneficiary name."),
        ("find_duplicates", lambda **kw: duplicates.find_duplicates(store, **kw), DuplicateArgs,
         "Earlier payments with the same UETR, or same amount/currency/beneficiary within a window."),
        ("match_invoices", lambda **kw: invoices.match_invoices(store, **kw), InvoiceArgs,
         "Match a received amount to the customer's open invoices (exact, subset, discount, partial)."),
        ("lookup_reason_code", codes.lookup_reason_code, ReasonCodeArgs,
         "Name and definition of an ISO 20022 reason code."),
        ("search_procedures", search_procedures, ProcedureSearchArgs,
         "Search the operating procedures; returns sections with doc_id and section number."),
        ("check_recall_window", check_recall_window, RecallArgs,
         "Whether a payment is still within the 10-business-day and 13-month recall windows."),
        ("draft_investigation", investigation.draft_investigation, InvestigationArgs,
         "Draft an MT199 query or camt.056/camt.029 fields about the case's payment (never sent)."),
    ]  # fmt: skip
    tools: dict[str, BaseTool] = {
        name: EvidenceTool.from_function(func=func, name=name, description=description, args_schema=schema)
        for name, func, schema, description in specs
    }
    missing = TOOL_NAMES ^ tools.keys()
    if missing:  # a catalogue change must come with its tool; fail loudly at start-up
        raise RuntimeError(f"tool catalogue and tools differ: {sorted(missing)}")
    return tools


@lru_cache(maxsize=1)
def tool_schemas() -> tuple[BaseTool, ...]:
    """The catalogue's tools with no store behind them: names, descriptions and argument schemas, what a
    model is shown and the agent's tool node validates calls against (a run's own tools execute)."""
    return tuple(build_tools(cast(RefDataStore, None)).values())
