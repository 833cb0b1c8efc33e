"""`repairdesk monitor report`: a fresh data directory, seeded decisions with a shifted mix, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli
from app.db.session import Database
from tests.app.monitoring_seed import CURRENT, SHIFTED, START, STEADY, add_all, spread

runner = CliRunner()


def _run(data_dir: Path, *args: str, **env: str) -> Result:
    environment = {"REPAIRDESK_DATA_DIR": str(data_dir), "DATABASE_URL": "", "REPAIRDESK_TODAY": "2026-11-20"}
    return runner.invoke(cli, ["monitor", "report", *args], env=environment | env)


def _images(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=['\"]?https?:", text)  # self-contained: no CDN, no network
    return re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text)


def test_a_fresh_data_directory_gets_an_empty_report(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    result = _run(data)
    assert result.exit_code == 0, result.output
    output = result.output
    assert "0 cases, 0 decided" in output and "reference window none yet" in output
    assert "PSI exception_code n/a (fewer than 50 cases in a window)" in output
    page = data / "monitor" / "report.html"
    assert len(_images(page)) == 4  # code mix, confidence, decisions by code, the window day by day
    figures = json.loads((data / "monitor" / "figures.json").read_text())
    assert figures["reference"] is None and figures["psi"] == {"exception_code": None, "confidence": None}


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    database = Database(f"sqlite:///{data / 'repairdesk.db'}")
    database.migrate()
    with database.session() as session:
        add_all(session, spread(STEADY, START, 14, outcome="approved"))
        add_all(session, spread(SHIFTED, CURRENT, 6.5, outcome="rejected", confidence=0.55))
    database.engine.dispose()
    return data


def test_seeded_decisions_print_rates_and_a_shifted_psi(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = _run(seeded, "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("current window   2026-11-13T12:00:00+00:00 .. 2026-11-20T12:00:00+00:00")
    assert "100 cases, 100 decided" in lines[0]
    assert lines[1].startswith("reference window 2026-09-01T00:00:00+00:00 .. 2026-09-15T00:00:00+00:00")
    assert "(first 14 days of data): 100 cases, 100 decided" in lines[1]
    rows = {line.split()[0]: line.split() for line in lines if re.match(r"^(AC01|AM05|RR03|ALL) ", line)}
    # code, cases, share, ref share, decided, approved, edited, rejected, ref approved
    assert rows["RR03"] == ["RR03", "50", "50.0%", "15.0%", "50", "0.0%", "0.0%", "100.0%", "100.0%"]
    assert rows["AM05"][:4] == ["AM05", "30", "30.0%", "n/a"]
    assert rows["ALL"][1] == "100" and rows["ALL"][7] == "100.0%"
    psi = dict(re.findall(r"^PSI (\w+)\s+([0-9.]+) \w+$", result.output, re.M))
    assert float(psi["exception_code"]) > 0.25 and float(psi["confidence"]) > 0.25
    assert re.search(r"^PSI exception_code +[0-9.]+ shifted$", result.output, re.M)
    assert len(_images(out / "report.html")) == 4
    figures = json.loads((out / "figures.json").read_text())
    assert figures["current"]["codes"] == SHIFTED and figures["psi"]["exception_code"] > 0.25
    days = figures["timeline"]
    assert len(days) == 7 and sum(sum(day["codes"].values()) for day in days) == 100
    assert all(day["psi"]["exception_code"] is None for day in days)  # ~15 cases a day: under 50


def test_since_narrows_the_window_and_a_stored_reference_is_used(seeded: Path, tmp_path: Path) -> None:
    first = _run(seeded, "--out", str(tmp_path / "week"), "--json")
    assert first.exit_code == 0, first.output
    # the shifted week stored as the reference: against itself, no drift
    reference = str(tmp_path / "week" / "figures.json")
    again = _run(seeded, "--json", "--out", str(tmp_path / "again"), REPAIRDESK_MONITOR_REFERENCE=reference)
    assert again.exit_code == 0, again.output
    figures = json.loads(again.output)
    assert figures["psi"]["exception_code"] == pytest.approx(0.0)
    assert figures["reference"]["source"] == reference
    narrow = _run(seeded, "--since", "2026-11-19T12:00:00Z", "--json", "--out", str(tmp_path / "day"))
    assert narrow.exit_code == 0, narrow.output
    day = json.loads(narrow.output)
    assert (
        day["current"]["start"] == "2026-11-19T12:00:00+00:00"
        and 0 < sum(day["current"]["codes"].values()) < 30
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--since", "last tuesday"], {}, "error: --since: not an ISO date or date-time: 'last tuesday'"),
        (["--since", "2026-13-01"], {}, "error: --since: not an ISO date"),
        (["--since", "2026-12-01"], {}, "error: --since: 2026-12-01T00:00:00+00:00 is not before now"),
        (
            [],
            {"REPAIRDESK_MONITOR_REFERENCE": "missing.json"},
            "error: missing.json: cannot read the reference",
        ),
    ],
)
def test_bad_input_exits_1_with_a_clear_message(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = _run(tmp_path / "data", *args, **env)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_unwritable_out_folder_exits_1(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = _run(tmp_path / "data", "--out", str(blocker / "report"))
    assert result.exit_code == 1 and f"error: {blocker / 'report'}: cannot write the report" in result.output
