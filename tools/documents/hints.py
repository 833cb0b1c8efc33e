"""Optional per-counterparty hints: YAML files in ``corpora/templates/``.

A hint file pins a field to a label or an area when the generic extractor is wrong for one sender::

    name: acme-remittances
    match: ["ACME Industrie GmbH", "Zahlungsavis"]   # every string must occur in the document
    fields:
      payment_reference: {label: "Unser Zeichen"}        # read the value next to/under this label
      payer: {value: "ACME Industrie GmbH"}              # a fixed value
      total_amount: {area: [400, 700, 560, 730], page: 1}   # the text inside this box

Contract: :func:`load_hints` returns the hint files whose ``match`` strings all occur in the text;
a malformed file is skipped (a hint must never stop an extraction).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tools.config import corpora_dir

log = logging.getLogger(__name__)


def templates_dir() -> Path:
    return corpora_dir() / "templates"


def load_hints(text: str, directory: Path | None = None) -> list[dict[str, Any]]:
    import yaml

    folder = directory or templates_dir()
    if not folder.is_dir():
        return []
    matched = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            hint = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            log.warning("skipping hint file %s: %s", path, exc)
            continue
        if not isinstance(hint, dict) or not isinstance(hint.get("fields"), dict):
            continue
        keys = hint.get("match") or []
        if keys and all(str(key) in text for key in keys):
            matched.append(hint)
    return matched
