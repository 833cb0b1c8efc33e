"""The real invoices in ../shared/data/invoices/real: field accuracy against the hand-checked JSON.

The floor is on the fields the README names (amount, currency, invoice number, issue and due date,
IBAN, issuer); bic and buyer are scored and printed but not floored. On failure the per-field
table is printed, so a regression shows which field and which file.
"""

from __future__ import annotations

from pathlib import Path

from evals.builders.extraction import REAL_FLOOR_KEYS, REAL_KEYS, real_invoices
from evals.suites.extraction import compare, resolve_path
from tools.extract import extract_bytes

# The floor of the issue: 0.95 of the floored fields (measured: 98/98 after tuning on all 15 files;
# the held-out measure is the invoice2data set and documents this project has not seen).
FLOOR = 0.95


def _score(shared_data: Path) -> tuple[dict[str, list[bool]], list[str]]:
    per_field: dict[str, list[bool]] = {}
    misses: list[str] = []
    for row in real_invoices(shared_data):
        path = shared_data / row["input"].split(":", 1)[1]
        [extraction] = extract_bytes(path.read_bytes(), path.name)
        document = extraction.to_json_dict()
        for name, want in row["expected"].items():
            got = resolve_path(document, name)
            ok = compare(name, want, got, row["contains"])
            per_field.setdefault(name, []).append(ok)
            if not ok:
                misses.append(f"{row['id']:<16} {name:<28} want {want!r:<28} got {got!r}")
    return per_field, misses


def test_real_invoices_meet_the_floor(shared_data: Path) -> None:
    per_field, misses = _score(shared_data)
    floored = {REAL_KEYS[key] for key in REAL_FLOOR_KEYS}
    right = sum(sum(oks) for name, oks in per_field.items() if name in floored)
    total = sum(len(oks) for name, oks in per_field.items() if name in floored)
    table = "\n".join(
        f"  {name:<28} {sum(oks):>3}/{len(oks):<3} {sum(oks) / len(oks):.0%}"
        + ("" if name in floored else "  (not floored)")
        for name, oks in sorted(per_field.items())
    )
    report = (
        f"real set: {right}/{total} = {right / total:.1%} (floor {FLOOR:.0%})\n{table}\nmisses:\n"
        + "\n".join(misses)
    )
    assert total >= 90, report  # the set holds 98 floored values; fewer means the fixtures changed
    assert right / total >= FLOOR, report
