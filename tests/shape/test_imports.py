"""The layering rules hold over the whole import graph (lazy imports inside functions included).

- ``tools/`` imports neither ``agents/`` nor ``app/``; ``agents/`` does not import ``app/``;
- nothing outside ``app/cli`` (and ``evals/`` itself) imports ``evals/``;
- no two modules import each other, directly or round a longer loop.
"""

from __future__ import annotations

from tests.shape.imports import Import, cycles, imports, layer, modules


def forbidden(edge: Import) -> str | None:
    source, target = layer(edge.source), layer(edge.target)
    if source == "tools" and target in {"agents", "app"}:
        return "tools/ must not import agents/ or app/"
    if source == "agents" and target == "app":
        return "agents/ must not import app/"
    if target == "evals" and source != "evals" and not edge.source.startswith("app.cli"):
        return "only app/cli and evals/ may import evals/"
    return None


def test_the_layering_rules_hold() -> None:
    broken = [f"{e.source}:{e.line} imports {e.target}: {why}" for e in imports() if (why := forbidden(e))]
    assert broken == []


def test_there_are_no_import_cycles() -> None:
    assert cycles(list(imports())) == []


def test_the_rules_catch_what_they_are_for() -> None:
    """The checks above can fail: each kind of breach is reported."""
    assert forbidden(Import("tools.extract", "app.settings", 1, True))
    assert forbidden(Import("tools.extract", "agents.graph", 1, True))
    assert forbidden(Import("agents.graph", "app.settings", 1, True))
    assert forbidden(Import("app.services.cases", "evals.datasets", 1, False))
    assert forbidden(Import("app.cli.evaluation", "evals.datasets", 1, False)) is None
    assert forbidden(Import("agents.graph", "tools.extract", 1, True)) is None
    loop = [Import("a.x", "a.y", 1, True), Import("a.y", "a.z", 1, False), Import("a.z", "a.x", 1, True)]
    assert cycles(loop) == [["a.x", "a.y", "a.z"]]
    assert cycles(loop[:2]) == []


def test_the_graph_sees_the_project() -> None:
    """A reader that found nothing would pass every rule: make sure it reads real edges."""
    known = modules()
    assert {"app.main", "agents.graph", "tools.extract", "evals.runner"} <= known.keys()
    edges = {(e.source, e.target) for e in imports(known)}
    assert ("tools.extract", "tools.sniff") in edges
