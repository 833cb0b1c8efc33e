"""Names of the agent's tools (see docs/playbook.md). Procedures may only name these."""

from __future__ import annotations

TOOL_NAMES: frozenset[str] = frozenset(
    {
        "validate_iban",
        "lookup_bic",
        "search_banks",
        "get_customer",
        "find_customer",
        "resolve_party",
        "lookup_account",
        "get_ssi",
        "find_duplicates",
        "match_invoices",
        "lookup_reason_code",
        "search_procedures",
        "check_recall_window",
        "draft_investigation",
    }
)

# Tools whose results may supply a repair's `new` value. Document and note text never may.
TRUSTED_SOURCES: frozenset[str] = frozenset(
    {
        "validate_iban",
        "lookup_bic",
        "search_banks",
        "get_customer",
        "find_customer",
        "lookup_account",
        "get_ssi",
    }
)

ACTIONS: tuple[str, ...] = ("repair", "return", "escalate", "request_info", "investigate", "no_action")
