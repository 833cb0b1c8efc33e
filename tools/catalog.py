"""Names of the agent's tools (see docs/playbook.md). Procedures may only name these."""

from __future__ import annotations

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

# Every tool: the trusted reference-data look-ups and the ones whose results are evidence only.
TOOL_NAMES: frozenset[str] = TRUSTED_SOURCES | frozenset(
    {
        "resolve_party",  # names the customer a case is about; its result is never a repair value
        "find_duplicates",
        "match_invoices",
        "lookup_reason_code",
        "search_procedures",
        "check_recall_window",
        "draft_investigation",
    }
)

ACTIONS: tuple[str, ...] = ("repair", "return", "escalate", "request_info", "investigate", "no_action")
