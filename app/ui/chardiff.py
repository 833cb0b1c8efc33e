"""Character-level differences between two values (an IBAN, a BIC), for highlighting on the page.

``char_diff(old, new)`` returns the old and new values as runs ``[(text, changed), ...]``, from
difflib's opcodes: a transposed or mistyped digit in a 22-character IBAN shows as the one or two
characters that differ rather than as two whole strings.
"""

from __future__ import annotations

from difflib import SequenceMatcher

Runs = list[tuple[str, bool]]
MAX_LENGTH = 200  # longer values (addresses, remittance) are shown whole


def _append(runs: Runs, text: str, changed: bool) -> None:
    if not text:
        return
    if runs and runs[-1][1] == changed:
        runs[-1] = (runs[-1][0] + text, changed)
    else:
        runs.append((text, changed))


def char_diff(old: str | None, new: str | None) -> tuple[Runs, Runs]:
    old, new = old or "", new or ""
    if len(old) > MAX_LENGTH or len(new) > MAX_LENGTH or not old or not new:
        return ([(old, True)] if old else []), ([(new, True)] if new else [])
    before: Runs = []
    after: Runs = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        _append(before, old[i1:i2], tag != "equal")
        _append(after, new[j1:j2], tag != "equal")
    return before, after
