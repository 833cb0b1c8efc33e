"""`repairdesk index build` and `repairdesk search` per the contract (in-process, with the real model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import cli
from tests.tools.retrieval.conftest import write_reference
from tests.tools.retrieval.corpus import write_corpus


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    write_corpus(root / "corpora" / "procedures")
    write_reference(root / "corpora" / "reference")
    return root


@pytest.fixture
def env(corpora: Path, monkeypatch: pytest.MonkeyPatch, embedder: object) -> Iterator[Path]:
    """A data dir and a default corpus of our own (shared by the module, so the index is built once);
    every command opens its own search, so nothing is reset between tests."""
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(corpora / "var"))
    monkeypatch.setenv("REPAIRDESK_CORPORA_DIR", str(corpora / "corpora"))
    yield corpora


def test_search_json_builds_the_index_when_absent(env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "AC04", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert isinstance(hits, list) and len(hits) == 3
    assert all(set(hit) == {"doc_id", "section", "title", "text", "score"} for hit in hits)
    assert hits[0]["doc_id"] == "SOP-AC04"
    assert isinstance(hits[0]["score"], float) and isinstance(hits[0]["section"], str)
    assert (env / "var" / "index" / "manifest.json").is_file()

    filtered = json.loads(
        runner.invoke(cli, ["search", "fees", "--code", "INVESTIGATION_QUERY", "--json"]).stdout
    )
    assert {h["doc_id"] for h in filtered} <= {"SOP-CHARGES", "SOP-INDEX"} and filtered

    text = runner.invoke(cli, ["search", "recall fraud 13 months", "-k", "1"])
    assert text.exit_code == 0 and text.stdout.startswith("1. SOP-RECALL §1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", " "], "query is empty"),
        (["search", "x", "-k", "0"], "k must be"),
        (["search", "x", "--mode", "fuzzy"], "--mode must be"),
        (["search", "x", "--code", "A C"], "not an exception code"),
    ],
)
def test_search_bad_input_exits_1_with_one_line(env: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_index_build_incremental_and_errors(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "var"))
    corpus = write_corpus(tmp_path / "procedures")
    first = runner.invoke(cli, ["index", "build", "--corpus", str(corpus), "--json", "--quiet"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["embedded"] == report["chunks"] > 0 and report["index_type"] == "flat"

    second = runner.invoke(cli, ["index", "build", "--corpus", str(corpus)])
    assert second.exit_code == 0 and "up to date" in second.stdout

    (corpus / "bad.md").write_text("no front matter", encoding="utf-8")
    broken = runner.invoke(cli, ["index", "build", "--corpus", str(corpus)])
    assert broken.exit_code == 1
    assert "bad.md" in broken.stderr and "front matter" in broken.stderr

    missing = runner.invoke(cli, ["index", "build", "--corpus", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
