"""Bank look-ups: by BIC, and by name and country, over schwifty's bank registry plus the BICs
named in reference data (accounts and SSIs).

BICs are returned in compact form: 8 characters for a head office (``XXX`` branch dropped), 11 for a
branch. Refs are ``bank:<BIC>`` in that form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process
from schwifty import registry
from schwifty.exceptions import SchwiftyException

from tools.payments.common import normalise_bic, text_arg
from tools.payments.names import normalise_name
from tools.refdata.store import RefDataStore

SEARCH_THRESHOLD = 0.85  # a name search result counts as ``found`` from this score
TIE_MARGIN = 0.02  # candidates this close to the best make the answer ambiguous
_MAX_CANDIDATES = 5


@dataclass(frozen=True)
class RegistryBank:
    bic: str  # compact form
    bank_name: str
    country: str
    bank_code: str | None


@lru_cache(maxsize=1)
def _registry_by_bic() -> dict[str, RegistryBank]:
    """Every registry bank with a BIC, keyed by the compact BIC; the primary entry wins."""
    banks: dict[str, RegistryBank] = {}
    for bank in sorted(registry.get_all_banks(), key=lambda b: (not b.primary, b.bank_code or "")):
        bic = normalise_bic(bank.bic) if bank.bic else None
        if bic and bic not in banks and bank.name:
            banks[bic] = RegistryBank(bic, bank.name, bank.country_code, bank.bank_code or None)
    return banks


@lru_cache(maxsize=1)
def _registry_by_head() -> dict[str, RegistryBank]:
    """The first registry bank per 8-character institution+location prefix (branch fallback)."""
    heads: dict[str, RegistryBank] = {}
    for bank in _registry_by_bic().values():
        heads.setdefault(bank.bic[:8], bank)
    return heads


@lru_cache(maxsize=1)
def _registry_by_country() -> dict[str, tuple[list[RegistryBank], list[str]]]:
    """Per country: the banks and their normalised names, for fuzzy search."""
    grouped: dict[str, tuple[list[RegistryBank], list[str]]] = {}
    for bank in _registry_by_bic().values():
        entry = grouped.setdefault(bank.country, ([], []))
        entry[0].append(bank)
        entry[1].append(normalise_name(bank.bank_name))
    return grouped


def registry_bank(bic: str) -> tuple[RegistryBank | None, bool]:
    """The registry entry for a compact BIC and whether it is the exact one (False: same institution
    and location, other branch)."""
    banks = _registry_by_bic()
    if bic in banks:
        return banks[bic], True
    head = _registry_by_head().get(bic[:8])
    return head, False


def lookup_bic(bic: str, store: RefDataStore | None = None) -> dict[str, Any]:
    """Look a BIC up in the registry, then in reference data.

    Result: ``found``, ``bic`` (compact), ``bank_name``, ``country``, ``source`` (``registry`` or
    ``refdata``), ``exact`` (False when only another branch of the institution is known),
    ``valid_format``, ``ref`` = ``bank:<BIC>`` when found.
    """
    compact_bic = normalise_bic(bic, "bic")
    result: dict[str, Any] = {
        "found": False,
        "bic": compact_bic,
        "bank_name": None,
        "country": None,
        "source": None,
        "exact": False,
        "valid_format": compact_bic is not None,
    }
    if compact_bic is None:
        result["error"] = "not a BIC (expected 8 or 11 letters and digits)"
        return result
    bank, exact = _safe_registry_bank(compact_bic)
    if bank is not None:
        result.update(
            found=True, bank_name=bank.bank_name, country=bank.country, source="registry", exact=exact
        )
    elif store is not None and compact_bic in _refdata_bics(store):
        result.update(found=True, country=compact_bic[4:6], source="refdata", exact=True)
    if result["found"]:
        result["ref"] = f"bank:{compact_bic}"
    return result


def _safe_registry_bank(bic: str) -> tuple[RegistryBank | None, bool]:
    try:
        return registry_bank(bic)
    except SchwiftyException:
        return None, False


def _refdata_bics(store: RefDataStore) -> set[str]:
    return {b for b in (normalise_bic(bic) for bic in store.reference_bics()) if b}


def search_banks(
    name: str, country: str | None = None, store: RefDataStore | None = None, limit: int = _MAX_CANDIDATES
) -> dict[str, Any]:
    """Banks whose name resembles ``name``, optionally in one country (ISO 3166 alpha-2).

    Result: ``candidates`` [{``bic``, ``bank_name``, ``country``, ``score`` 0..1, ``ref``}] best first,
    ``best`` (top candidate or None), ``ambiguous`` (another BIC scores within 0.02 of the best),
    ``found`` (best score >= 0.85 and not ambiguous: only then is ``best`` a usable answer).
    Among equally good names a BIC that reference data uses ranks first; when exactly one of the
    tied BICs is used by reference data the answer is not ambiguous. Reference-data BICs have no
    names of their own, so they join only through the registry entry of the same BIC.
    """
    query = normalise_name(text_arg(name, "name", max_len=200))
    wanted = text_arg(country, "country", max_len=2).upper() if country else None
    candidates: list[dict[str, Any]] = []
    if query:
        by_country = _registry_by_country()
        countries = [wanted] if wanted else sorted(by_country)
        scored: list[tuple[float, RegistryBank]] = []
        for code in countries:
            banks, names = by_country.get(code, ([], []))
            for _match, score, index in process.extract(
                query, names, scorer=fuzz.token_sort_ratio, limit=limit, score_cutoff=50
            ):
                scored.append((score / 100.0, banks[index]))
        refdata = _refdata_bics(store) if store is not None else set()
        scored.sort(key=lambda item: (-item[0], item[1].bic not in refdata, item[1].bic))
        for score, bank in scored[:limit]:
            candidates.append(
                {
                    "bic": bank.bic,
                    "bank_name": bank.bank_name,
                    "country": bank.country,
                    "score": round(score, 3),
                    "in_refdata": bank.bic in refdata,
                    "ref": f"bank:{bank.bic}",
                }
            )
    best = candidates[0] if candidates else None
    ambiguous = _ambiguous(candidates)
    return {
        "found": bool(best and best["score"] >= SEARCH_THRESHOLD and not ambiguous),
        "best": best,
        "ambiguous": ambiguous,
        "candidates": candidates,
    }


def _ambiguous(candidates: list[dict[str, Any]]) -> bool:
    if len(candidates) < 2:
        return False
    best = candidates[0]
    rivals = [c for c in candidates[1:] if best["score"] - c["score"] <= TIE_MARGIN]
    if best["in_refdata"] and not any(c["in_refdata"] for c in rivals):
        return False
    return bool(rivals)
