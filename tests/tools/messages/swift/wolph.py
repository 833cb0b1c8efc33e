"""Read the wolph/mt940 expected-parse YAML files (pickled python objects dumped by PyYAML)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml


class _PermissiveLoader(yaml.SafeLoader):
    """SafeLoader that turns the python/object tags of mt940's dumps into plain data."""


def _object(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    # a generator, as PyYAML's own map constructor: the dumps refer back to their root (&id003)
    data: dict[Any, Any] = {}
    yield data
    if isinstance(node, yaml.MappingNode):
        data.update(loader.construct_mapping(node, deep=True))


def _apply(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    args = loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else []
    if suffix == "decimal.Decimal":
        return Decimal(args[0])
    if suffix.endswith("models.Date") and args and isinstance(args[0], bytes):
        raw = args[0]
        return date(raw[0] * 256 + raw[1], raw[2], raw[3])
    return None  # compiled regexes and other helpers: not needed


_PermissiveLoader.add_multi_constructor("tag:yaml.org,2002:python/object:", _object)
_PermissiveLoader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", _apply)
_PermissiveLoader.add_multi_constructor("tag:yaml.org,2002:python/object/new:", _apply)


def load_expected(path: Path) -> dict[str, Any]:
    """``{"data": {...balances...}, "transactions": [{"amount", "date", "entry_date", ...}]}``."""
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_PermissiveLoader)
    data = doc.get("data", {}) if isinstance(doc, dict) else {}
    transactions = (
        [t.get("data", {}) for t in (doc.get("transactions") or [])] if isinstance(doc, dict) else []
    )
    return {"data": data, "transactions": transactions}
