"""`repairdesk extract`: a file whose type cannot be told is an error naming it (exit 1), not `{}`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli.main import cli


def test_unknown_type_exits_1_naming_the_file(tmp_path: Path) -> None:
    notes = tmp_path / "meeting-notes.txt"
    notes.write_text("Lunch on Friday at noon.\nBring the slides.\n")
    for args in (["extract", str(notes)], ["extract", "--json", str(notes)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert str(notes) in result.stderr and "cannot tell the document type" in result.stderr
        assert result.stdout.strip() in {"", "[]"} and "{}" not in result.stdout


def test_a_known_file_still_extracts_and_a_mixed_run_fails(tmp_path: Path) -> None:
    fin = tmp_path / "pay.fin"
    fin.write_text(
        "{1:F01BANKDEFFAXXX0000000000}{2:I103BANKGB2LXXXXN}{4:\n:20:REF1\n:23B:CRED\n"
        ":32A:261122EUR100,00\n:59:/DE89370400440532013000\nACME GMBH\n:71A:SHA\n-}"
    )
    ok = CliRunner().invoke(cli, ["extract", "--json", str(fin)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["payment"]["currency"] == "EUR"
    notes = tmp_path / "notes.txt"
    notes.write_text("nothing to see\n")
    mixed = CliRunner().invoke(cli, ["extract", "--json", str(fin), str(notes)])
    assert mixed.exit_code == 1 and str(notes) in mixed.stderr
    assert json.loads(mixed.stdout)["payment"]["amount"] == "100.00"  # the readable file is still printed
