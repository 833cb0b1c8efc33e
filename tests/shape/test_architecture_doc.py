"""docs/architecture.md stays true: every module it names exists (and it names the main steps)."""

from __future__ import annotations

import re

from tests.shape.imports import ROOT, modules

DOC = ROOT / "docs" / "architecture.md"
_MODULE = re.compile(r"\b((?:app|agents|tools|evals)(?:\.[a-z_0-9]+)+)\b")


def named_modules() -> set[str]:
    return set(_MODULE.findall(DOC.read_text(encoding="utf-8")))


def exists(name: str, known: dict[str, object]) -> bool:
    """A module, or a function/class/constant a module defines (``app.main.create_app``)."""
    if name in known:
        return True
    parent, _, attribute = name.rpartition(".")
    path = known.get(parent)
    if path is None:
        return False
    source = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    return re.search(rf"^(?:def|class|async def) {attribute}\b|^{attribute}\s*[:=]", source, re.M) is not None


def test_every_module_the_map_names_exists() -> None:
    known = modules()
    assert sorted(name for name in named_modules() if not exists(name, known)) == []
    assert not exists("app.main.no_such_function", known) and not exists("tools.no_such_module", known)


def test_the_map_covers_the_data_path() -> None:
    named = named_modules()
    for step in (
        "app.services.cases",
        "app.jobs.process",
        "tools.extract",
        "agents.graph",
        "app.services.decisions",
    ):
        assert step in named
    assert "app.services.corrections" in named and "evals.runner" in named
    assert len(named) >= 30
