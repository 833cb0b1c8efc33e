"""The agent cases are data (agent_case_specs.yaml) plus a small engine; the output did not move."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.conftest import ROOT

DATASETS = ROOT / "evals" / "datasets"


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_agent_cases", DATASETS / "build_agent_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_file_is_byte_identical(builder: ModuleType) -> None:
    path: Path = builder.OUT
    assert builder._jsonl(builder.build()) == path.read_text(encoding="utf-8")


def test_specs_name_only_known_builders_and_families(builder: ModuleType) -> None:
    specs = yaml.safe_load(builder.SPECS.read_text(encoding="utf-8"))
    used_families = [item["generate"] for item in specs if "generate" in item]
    assert sorted(used_families) == sorted(builder.FAMILIES)  # each family once, none left over

    def calls(node: object) -> set[str]:
        if isinstance(node, dict):
            here = {k[1:] for k in node if isinstance(k, str) and k.startswith("$")}
            return here.union(*(calls(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(calls(v) for v in node))
        return set()

    assert calls(specs) <= set(builder.CALLS)
    assert len(specs) - len(used_families) >= 40  # the hand-written cases live in the data file


def test_realise_calls_the_named_builder(builder: ModuleType) -> None:
    node = {"$creditor": {"name": "X GmbH", "iban": "DE89370400440532013000", "country": "DE"}}
    assert builder.realise({"party": node}) == {
        "party": {"name": "X GmbH", "account": {"iban": "DE89370400440532013000"}, "country": "DE"}
    }


def test_no_builder_function_is_long() -> None:
    tree = ast.parse((DATASETS / "build_agent_cases.py").read_text(encoding="utf-8"))
    lengths = {
        node.name: node.end_lineno - node.lineno + 1  # type: ignore[operator]
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name != "build_adversarial"
    }
    assert max(lengths.values()) <= 80, lengths
