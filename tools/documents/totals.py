"""The grand total when its label heads a column of totals rather than sitting beside one value.

Forms such as the FeRD EXTENDED layout print "Endbetrag" over one row per VAT rate and a final row
with their sum. The labelled read takes the first row; :func:`column_total` walks down the column
under the label and returns the last value when it equals the sum of the ones above it (the
reconciliation is the evidence), else the hit unchanged.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tools.documents.document import Document, Hit
from tools.documents.lines import narrow
from tools.documents.normalize import find_amounts


def column_total(doc: Document, hit: Hit) -> Hit:
    if not hit.words:
        return hit
    anchor = hit.words[0]
    x0, x1 = min(w.x0 for w in hit.words), max(w.x1 for w in hit.words)
    start = doc.line_with(anchor)
    if start is None:
        return hit
    values: list[tuple[Decimal, Hit]] = [(Decimal(hit.text), hit)]
    previous = doc.lines[start]
    if not _figures_only(previous.text):
        return hit  # a labelled total on its own line: nothing to reconcile
    for line in doc.lines[start + 1 :]:
        if line.page != previous.page or line.top - previous.bottom > 3 * max(anchor.height, 1.0):
            break
        cell = [s for s in line.segments if min(s.x1, x1) - max(s.x0, x0) > 0]
        if not cell:
            break
        if not _figures_only(line.text):
            break
        amounts = find_amounts(cell[0].text, doc.decimal_hint)
        if not amounts:
            break
        value = amounts[-1].value
        assert isinstance(value, Decimal)
        words = narrow(list(cell[0].words), amounts[-1].span)
        values.append((value, Hit(str(value), words, hit.confidence)))
        previous = line
    if len(values) >= 2 and values[-1][0] == sum((v for v, _ in values[:-1]), Decimal(0)):
        return values[-1][1]
    return hit


def _figures_only(text: str) -> bool:
    """A row of figures (and currency codes or symbols), no words: a totals table's body."""
    return not any(len(w) > 1 and not re.fullmatch(r"[A-Z]{3}", w) for w in re.findall(r"[^\W\d_]+", text))
