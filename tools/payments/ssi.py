"""Standing settlement instructions: the customer's SSI for a currency, chosen by beneficiary name.

The name in a failed payment is untrusted; it only selects among the customer's own SSIs and
yields a ``name_score``. A name that matches only through look-alike characters is flagged and
scores at most 0.5, so no playbook threshold accepts it.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz.distance import Levenshtein

from tools.payments.common import compact, currency_arg, text_arg
from tools.payments.names import name_similarity
from tools.refdata.schema import Ssi
from tools.refdata.store import RefDataStore

TIE_MARGIN = 0.02


def get_ssi(
    store: RefDataStore,
    customer_id: str,
    currency: str | None = None,
    beneficiary_name: str | None = None,
    iban: str | None = None,
) -> dict[str, Any]:
    """The customer's best-fitting SSI.

    Candidates are the customer's SSIs in ``currency`` (all currencies when omitted). With
    ``beneficiary_name`` each is scored by name; with ``iban`` (the failing account) the edit
    distance to each SSI's IBAN breaks ties between equally named SSIs.

    Result: ``found``, ``ssi_id``, ``customer_id``, ``beneficiary_name``, ``iban``, ``bic``,
    ``currency``, ``address_lines``, ``country``, ``name_score`` (0..1, None without a name),
    ``homoglyph``, ``count`` (candidates), ``ambiguous``, ``iban_distance`` (edit distance to ``iban``
    when given), ``candidates`` [{``ssi_id``, ``beneficiary_name``, ``iban``, ``bic``, ``name_score``,
    ``iban_distance``, ``ref``}] best first, ``ref`` = ``ssi:<ssi_id>`` when found.

    When another SSI fits as well as the best (same name score within 0.02 and, with ``iban``, no
    farther from it) the answer is ``found: false, ambiguous: true`` with the candidates only: a
    repair must not pick one of them. A name is a hint, not an identity: a low ``name_score`` still
    returns the best SSI (``found: true``); thresholds belong to the caller.
    """
    wanted = text_arg(customer_id, "customer_id", max_len=64)
    code = currency_arg(currency) if currency else None
    name = text_arg(beneficiary_name, "beneficiary_name", max_len=200) if beneficiary_name else None
    failing = compact(text_arg(iban, "iban", max_len=64)) if iban else None
    ssis = store.ssis_of(wanted, code) if wanted else []
    if not ssis:
        return {"found": False, "customer_id": wanted, "currency": code, "count": 0, "candidates": []}

    ranked = [_score(ssi, name, failing) for ssi in ssis]
    ranked.sort(key=lambda r: (-(r["name_score"] or 0.0), r["iban_distance"] or 0, r["ssi_id"]))
    best = ranked[0]
    candidates = [{k: v for k, v in r.items() if k != "ssi"} for r in ranked]
    if any(_ties(best, other) for other in ranked[1:]):
        # Two SSIs fit equally well: answering with one of them would be a guess.
        return {
            "found": False,
            "ambiguous": True,
            "customer_id": wanted,
            "currency": code,
            "count": len(ranked),
            "name_score": best["name_score"],
            "homoglyph": best["homoglyph"],
            "candidates": candidates,
        }
    ssi: Ssi = best["ssi"]
    return {
        "found": True,
        "ssi_id": ssi.ssi_id,
        "customer_id": ssi.customer_id,
        "beneficiary_name": ssi.beneficiary_name,
        "iban": ssi.iban,
        "bic": ssi.bic,
        "currency": ssi.currency,
        "address_lines": list(ssi.address_lines),
        "country": ssi.country,
        "name_score": best["name_score"],
        "homoglyph": best["homoglyph"],
        "iban_distance": best["iban_distance"],
        "count": len(ranked),
        "ambiguous": False,
        "candidates": candidates,
        "ref": f"ssi:{ssi.ssi_id}",
    }


def _score(ssi: Ssi, name: str | None, failing: str | None) -> dict[str, Any]:
    check = name_similarity(name, ssi.beneficiary_name) if name else None
    return {
        "ssi": ssi,
        "ssi_id": ssi.ssi_id,
        "beneficiary_name": ssi.beneficiary_name,
        "iban": ssi.iban,
        "bic": ssi.bic,
        "name_score": check.score if check else None,
        "homoglyph": bool(check and check.homoglyph),
        "iban_distance": Levenshtein.distance(failing, ssi.iban) if failing else None,
        "ref": f"ssi:{ssi.ssi_id}",
    }


def _ties(best: dict[str, Any], other: dict[str, Any]) -> bool:
    """``other`` fits as well as ``best``: same name score (within the margin) and, when an IBAN
    was given, not farther from it."""
    best_score, other_score = best["name_score"] or 0.0, other["name_score"] or 0.0
    if best_score - other_score > TIE_MARGIN:
        return False
    if best["iban_distance"] is None:
        return True
    return bool(other["iban_distance"] <= best["iban_distance"])
