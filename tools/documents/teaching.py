"""Teach a layout rule from one analyst correction (see :mod:`tools.documents.learned`).

Its own module because teaching reads the document the way the extractor does (to name the issuer),
while the extractor applies the learned rules: keeping both in ``learned`` would make them import
each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.documents.document import Document
from tools.documents.extractor import extract_pages
from tools.documents.layout import Page
from tools.documents.learned import FIELDS, LayoutRule, _anchor, fingerprint
from tools.errors import ValidationError


def teach(
    pages: list[Page],
    source: str,
    *,
    field: str,
    page: int,
    bbox: Sequence[float],
    value: str,
    taught_by: str,
) -> LayoutRule:
    if field not in FIELDS:
        raise ValidationError(f"cannot learn {field!r}; one of {', '.join(FIELDS)}", source="field")
    if not 1 <= page <= len(pages):
        raise ValidationError(f"page {page} is not in the document (1..{len(pages)})", source="page")
    if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]) or min(bbox) < 0:
        raise ValidationError(
            "bbox must be [x0, top, x1, bottom] with x0 < x1 and top < bottom", source="bbox"
        )
    doc = Document(pages, source)
    extraction = extract_pages(pages, source, use_rules=False)
    payee = (
        extraction.remittance.payee.name if extraction.remittance and extraction.remittance.payee else None
    )
    box = [float(v) for v in bbox]
    return LayoutRule(
        field=field,
        page=page,
        bbox=box,
        value=value,
        taught_by=taught_by,
        issuer=fingerprint(doc, payee),
        anchor=_anchor(doc, page, box),
    )
