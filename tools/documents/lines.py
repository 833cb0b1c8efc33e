"""Line items: invoices settled by a remittance (or the lines of an invoice).

Contract: :func:`find_lines` returns :class:`ItemHit` s in document order. Tables are read three
ways and reconciled (see :func:`find_lines`): pdfplumber's ruled grid and text-aligned grid
(:mod:`~.grids`, text PDFs only) and the word positions under a header row (rows assigned to
columns by position, so text and OCR tables read alike, and headers repeated on later pages
re-anchor the columns). Without a table: key-value blocks ("Invoice No: ..." starting each item),
then running text ("invoice 123 of 12.03.2024 for 1.234,56"). Carried-forward and subtotal rows
are skipped.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tools.documents.document import Document, Hit, LabelSet, column_labels, match_tokens
from tools.documents.fields import valid_date
from tools.documents.grids import grid_items
from tools.documents.items import ID_RE as _ID_RE
from tools.documents.items import ItemHit, cell_value, is_item
from tools.documents.labels import (
    CARRIED_TOKENS,
    COLUMN_TOKENS,
    HEADER_TOKENS,
    INVOICE_MENTIONS,
    NET_TOTAL_TOKENS,
    tokens,
)
from tools.documents.layout import Line, Word
from tools.documents.normalize import DATE_RE, find_amounts

__all__ = ["ItemHit", "cell_value", "find_lines", "is_item", "narrow"]

_TOTALS = LabelSet(HEADER_TOKENS["total_amount"])
_CARRIED = LabelSet(CARRIED_TOKENS)


def _starts_with(line: Line, labels: LabelSet, any_segment: bool = False) -> bool:
    segments = line.segments if any_segment else line.segments[:1]
    return any(labels.starts(segment.keys) for segment in segments)


def _assign(words: list[Word], columns: list[tuple[str, float, float]]) -> dict[str, list[Word]]:
    """Each word to the column header it overlaps most, or failing that the nearest one."""
    cells: dict[str, list[Word]] = {}
    for word in words:

        def distance(column: tuple[str, float, float], word: Word = word) -> float:
            _, x0, x1 = column
            overlap = min(word.x1, x1) - max(word.x0, x0)
            return -overlap if overlap > 0 else max(x0 - word.x1, word.x0 - x1)

        name = min(columns, key=distance)[0]
        cells.setdefault(name, []).append(word)
    return cells


def running_lines(doc: Document, tolerance: float = 2.0) -> set[int]:
    """``id`` of each line that another page repeats at the same height: page furniture (a running
    footer with the company's details, a running header), never a row of the table it follows."""
    seen: dict[str, list[Line]] = {}
    for line in doc.lines:
        seen.setdefault(line.text, []).append(line)
    running: set[int] = set()
    for lines in seen.values():
        if len(lines) < 2:
            continue
        for line in lines:
            if any(o.page != line.page and abs(o.top - line.top) <= tolerance for o in lines):
                running.add(id(line))
    return running


def _table_items(doc: Document) -> list[ItemHit]:
    items: list[ItemHit] = []
    columns: list[tuple[str, float, float]] | None = None
    last: Line | None = None
    running = running_lines(doc) if len(doc.pages) > 1 else set()
    for line in doc.lines:
        if doc.is_table_header(line):
            columns = column_labels(line)
            last = line
            continue
        if columns is None or last is None:
            continue
        height = max(w.height for w in line.words)
        if line.page != last.page or line.top - last.bottom > 4 * height:
            columns = None  # a wide gap or a new page without a repeated header ends the table
            continue
        if id(line) in running:
            columns = None  # the page's running footer: the table goes on after the next header
            continue
        last = line
        if _starts_with(line, _CARRIED, any_segment=True):
            continue
        if _starts_with(line, _TOTALS, any_segment=True):
            columns = None  # the table ends at its total row
            continue
        cells = _assign(line.words, columns)
        item = ItemHit()
        for name, words in cells.items():
            value = cell_value(doc, name, Hit(" ".join(w.text for w in words), words))
            if value is not None:
                item.values[name] = value
        if is_item(item):
            items.append(item)
        elif items and set(item.values) <= {"description"} and "description" in item.values:
            # A wrapped description continues the previous row.
            previous = items[-1].values.get("description")
            if previous is not None and line.top - previous.words[-1].bottom < 2 * previous.words[-1].height:
                previous.text += " " + item.values["description"].text
    return items


_KV_LABELS = {name: labels for name, labels in COLUMN_TOKENS.items() if name != "description"}
_KV_LABELS["invoice_number"] = HEADER_TOKENS["invoice_number"]


def _kv_items(doc: Document) -> list[ItemHit]:
    items: list[ItemHit] = []
    current: ItemHit | None = None
    for line in doc.lines:
        for segment in line.segments:
            keys = [w.key for w in segment.words]
            best: tuple[str, int] | None = None
            for name, labels in _KV_LABELS.items():
                for label in labels:
                    if match_tokens(keys, 0, label) and (best is None or len(label) > best[1]):
                        best = (name, len(label))
            if best is None:
                if _starts_with(line, _TOTALS):
                    current = None
                continue
            name, length = best
            rest = [w for w in segment.words[length:] if w.key]
            if not rest:
                continue
            value = cell_value(doc, name, Hit(" ".join(w.text for w in rest), rest))
            if value is None:
                continue
            if name == "invoice_number":
                current = ItemHit()
                items.append(current)
            if current is not None and name not in current.values:
                current.values[name] = value
    return [item for item in items if len(item.values) >= 2]


_MENTION_TOKENS = sorted((tokens(m) for m in INVOICE_MENTIONS), key=len, reverse=True)


def _text_items(doc: Document) -> list[ItemHit]:
    """Invoices named in running text; each mention owns the date and amount up to the next one."""
    words = [w for line in doc.lines for w in line.words]
    keys = [w.key for w in words]
    starts: list[tuple[int, int]] = []  # (index of the id word, index of the mention)
    i = 0
    while i < len(words):
        for label in _MENTION_TOKENS:
            if match_tokens(keys, i, label):
                j = i + len(label)
                while j < len(words) and words[j].key in {"", "no", "nr", "number", "n", "numero"}:
                    j += 1
                if (
                    j < len(words)
                    and _ID_RE.match(words[j].text.strip(",;.:"))
                    and not DATE_RE.fullmatch(words[j].text.strip(",;.:"))
                ):
                    starts.append((j, i))
                    i = j
                break
        i += 1
    items = []
    for n, (id_index, _) in enumerate(starts):
        end = starts[n + 1][1] if n + 1 < len(starts) else min(len(words), id_index + 20)
        id_word = words[id_index]
        item = ItemHit({"invoice_number": Hit(id_word.text.strip(",;.:"), [id_word], 0.9)})
        span = words[id_index + 1 : end]
        date_hit = valid_date(doc, Hit(" ".join(w.text for w in span), span))
        if date_hit is not None:
            item.values["invoice_date"] = date_hit
        taken = {id(w) for w in date_hit.words} if date_hit else set()
        rest = [w for w in span if id(w) not in taken]
        text = " ".join(w.text for w in rest)
        for parsed in find_amounts(text, doc.decimal_hint):
            # Only figures with decimals: bare integers in prose are counts, days or years.
            if re.search(r"[.,]\d{2}$", text[parsed.span[0] : parsed.span[1]]):
                hit = narrow(rest, parsed.span)
                item.values["amount"] = Hit(str(parsed.value), hit, parsed.confidence)
                break
        items.append(item)
    return items


def narrow(words: list[Word], span: tuple[int, int]) -> list[Word]:
    """The words of ``words`` (joined by single spaces) that cover characters ``span``."""
    chosen, position = [], 0
    for word in words:
        if position + len(word.text) > span[0] and position < span[1]:
            chosen.append(word)
        position += len(word.text) + 1
    return chosen or words[:1]


def _paid(item: ItemHit) -> Decimal | None:
    hit = item.values.get("net_amount") or item.values.get("amount")
    return Decimal(hit.text) if hit is not None else None


def net_total(doc: Document, total: Decimal | None) -> Decimal | None:
    """The document's total before tax: the largest amount labelled as a subtotal or net total
    (sections of a table may have subtotals of their own; the net total is their sum), and not above
    ``total`` when there is one."""
    found: list[Decimal] = []
    for match in doc.find_label(NET_TOTAL_TOKENS):
        for candidate in doc.value_candidates(match):
            amounts = find_amounts(candidate.text, doc.decimal_hint)
            if amounts:
                found.append(Decimal(str(amounts[-1].value)))
                break
    found = [value for value in found if value > 0 and (total is None or value <= total)]
    return max(found, default=None)


def _rank(items: list[ItemHit], targets: list[Decimal]) -> tuple[bool, bool, float]:
    """(found anything, lines sum to one of ``targets``, share of rows where gross - discount = net)."""
    paid = [_paid(item) for item in items]
    sums = (
        bool(targets)
        and bool(items)
        and all(p is not None for p in paid)
        and sum((p for p in paid if p is not None), Decimal(0)) in targets
    )
    checked = agreeing = 0
    for item in items:
        values = item.values
        if {"amount", "discount", "net_amount"} <= values.keys():
            checked += 1
            gross, discount, net = (Decimal(values[k].text) for k in ("amount", "discount", "net_amount"))
            agreeing += gross - abs(discount) == net
    return bool(items), sums, agreeing / checked if checked else 1.0


def find_lines(doc: Document, doc_type: str, total: Decimal | None = None) -> list[ItemHit]:
    """Line items; an invoice's come from its table only (its header fields are not items).

    Tables are read three ways: pdfplumber's ruled grid, the word positions under the header, and
    pdfplumber's text-aligned grid. The reading whose lines sum to ``total`` (the document's own
    total) or to its net total (:func:`net_total`: lines before tax) wins, then the one whose rows
    agree (gross - discount = net), then the first in that order: a ruled grid's cells are the most
    direct evidence of the table's structure.
    """
    # A remittance pays invoices: its total has no tax, its subtotals are per payer or page.
    net = net_total(doc, total) if doc_type == "invoice" else None
    targets = [value for value in (total, net) if value is not None]
    readings = [grid_items(doc, "lines"), _table_items(doc)]
    # The text-aligned grid is read only when it could win: it loses every tie, so not against
    # a reading that already found lines summing to a target with every row agreeing.
    if max(_rank(items, targets) for items in readings) < (True, bool(targets), 1.0):
        readings.append(grid_items(doc, "text"))
    ranked = [(_rank(items, targets), -index) for index, items in enumerate(readings)]
    best = readings[-max(ranked)[1]]
    if best or doc_type == "invoice":
        return best
    for reader in (_kv_items, _text_items):
        items = reader(doc)
        if items:
            return items
    return []
