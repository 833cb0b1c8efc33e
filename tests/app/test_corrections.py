"""Gold labels from decisions (issue 13): one record per case from the database, the applied outcome
as gold, a rejection's correct action, versioned exports outside the source tree."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.evaluation import export_and_record
from app.cli.main import cli
from app.db.models import Decision
from app.services.cases import get_case
from app.services.corrections import decision_record, labelled_records
from app.settings import get_settings
from evals.segments import breakdown, segments_of
from tests.app.conftest import Api

AGENT_IBAN = "DE89370400440532013000"  # what StubTriage proposes
EDITED_IBAN = "GB82WEST12345698765432"  # what the analyst puts instead (valid checksum)
ROOT = Path(__file__).resolve().parents[2]


def _decided(api: Api, case_id: str, decision: str, **body: object) -> None:
    response = api.decide(case_id, "approver", decision, **body)
    assert response.status_code == 200, response.text


def test_edit_then_approve_labels_the_applied_changes_once(api: Api) -> None:
    case_id = api.submit(case_id="EXC-E1")
    api.wait_status(case_id)
    edit = api.decide(
        case_id,
        "analyst",
        "edit",
        changes=[
            {"field": "payment.creditor.account.iban", "new": EDITED_IBAN, "evidence": ["analyst-asserted"]}
        ],
        comment="customer confirmed by phone",
    )
    assert edit.status_code == 200, edit.text
    db = api.app.state.services.db
    with db.session() as session:
        assert labelled_records(session) == []  # an edit nobody approved is never a label
        pending = decision_record(session, get_case(session, case_id))
    assert pending["label"] is None and len(pending["edits"]) == 1
    assert pending["edits"][0]["user"] == "ana" and pending["edits"][0]["guard"] is not None
    # analyst-asserted content needs two approvers: the first approval alone is not a label either
    assert api.decide(case_id, "approver", "approve").json()["status"] == "pending_review"
    with db.session() as session:
        assert labelled_records(session) == []
    assert api.decide(case_id, "approver2", "approve").json()["status"] == "applied"
    with db.session() as session:
        records = labelled_records(session)
    assert [r["case_id"] for r in records] == ["EXC-E1"]
    record = records[0]
    label = record["label"]
    assert label["decision"] == "approve" and label["action"] == "repair" and label["edited"] is True
    assert label["changes"] == [{"field": "payment.creditor.account.iban", "new": EDITED_IBAN}]
    assert [c["new"] for c in record["applied_changes"]] == [EDITED_IBAN]
    # the agent's proposal as made stays in the record, but is not the gold answer
    assert record["proposal"]["payload"]["changes"][0]["new"] == AGENT_IBAN
    assert record["proposal"]["versions"]["model"] == "stub"
    assert [(d["decision"], d["state"]) for d in record["decisions"]] == [
        ("edit", "applied"),
        ("approve", "first_approval"),
        ("approve", "applied"),
    ]
    assert record["final"]["decision"] == "approve" and record["outcome"]["status"] == "applied"


def test_reject_with_a_reason_code_labels_the_correct_action(api: Api) -> None:
    case_id = api.submit(case_id="EXC-R1")
    api.wait_status(case_id)
    _decided(
        api, case_id, "reject", reason_code="DUPL", correct_action="return", comment="duplicate of EXC-R0"
    )
    api.wait_status(case_id, "rejected")
    with api.app.state.services.db.session() as session:
        (record,) = labelled_records(session)
    label = record["label"]
    assert label["action"] == "return" and label["reason_code"] == "DUPL" and label["changes"] == []
    assert label["rejected_action"] == "repair"
    assert label["rejected_changes"] == [{"field": "payment.creditor.account.iban", "new": AGENT_IBAN}]
    assert record["final"]["comment"] == "duplicate of EXC-R0"


def test_exports_are_versioned_datasets_with_a_manifest(api: Api, tmp_path: Path) -> None:
    root = tmp_path / "exports"
    first, second = api.submit(case_id="EXC-C1"), api.submit(case_id="EXC-C2")
    api.wait_status(first)
    api.wait_status(second)
    _decided(api, first, "approve", comment="good")
    _decided(api, second, "reject", reason_code="AC04", correct_action="return")
    db = api.app.state.services.db
    with db.session() as session:
        one = export_and_record(session, root)
        again = export_and_record(session, root)
    assert (one.version, one.count, one.created, one.path) == (1, 2, True, root / "v1")
    assert (again.version, again.created) == (1, False)  # nothing new: no new version
    rows = [json.loads(line) for line in (one.path / "corrections.jsonl").read_text().splitlines()]
    assert [(r["case_id"], r["label"]["action"]) for r in rows] == [
        ("EXC-C1", "repair"),
        ("EXC-C2", "return"),
    ]
    manifest = json.loads((one.path / "manifest.json").read_text())
    assert manifest["count"] == 2 and manifest["version"] == 1
    assert manifest["counts"]["decision"] == {"approve": 1, "reject": 1}
    assert manifest["date_range"]["first"] <= manifest["date_range"]["last"]
    assert manifest["versions"]["model"] == ["stub"]
    assert manifest["sha256"] == hashlib.sha256((one.path / "corrections.jsonl").read_bytes()).hexdigest()
    third = api.submit(case_id="EXC-C3")
    api.wait_status(third)
    _decided(api, third, "approve")
    with db.session() as session:
        two = export_and_record(session, root)
    assert (two.version, two.count, two.created) == (2, 3, True)
    assert (root / "v1" / "manifest.json").read_text() == json.dumps(
        manifest, indent=2, sort_keys=True
    ) + "\n"


def _tree_state(root: Path) -> dict[str, float]:
    """mtimes of the source tree's files and folders (caches and VCS data aside)."""
    skip = {".git", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules"}
    state: dict[str, float] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith(".export-")]
        for name in [*dirs, *files]:
            path = Path(folder) / name
            state[str(path.relative_to(root))] = path.lstat().st_mtime_ns
    return state


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """The CLI reads the environment once per process (``get_settings`` is cached): forget it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _invoke(args: list[str], env: dict[str, str]) -> str:
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("fresh_settings")
def test_cli_export_writes_under_the_data_dir_never_the_source_tree(api: Api, tmp_path: Path) -> None:
    case_id = api.submit(case_id="EXC-S1")
    api.wait_status(case_id)
    _decided(api, case_id, "approve")
    settings = api.app.state.services.settings
    data_dir = tmp_path / "cli-data"
    env = {"REPAIRDESK_DATA_DIR": str(data_dir), "DATABASE_URL": settings.database_url}
    before = _tree_state(ROOT)
    output = _invoke(["eval", "export-corrections"], env)
    assert "exported 1 labelled case(s): new version v1" in output
    assert _tree_state(ROOT) == before
    rows = (data_dir / "datasets" / "corrections" / "v1" / "corrections.jsonl").read_text().splitlines()
    assert [json.loads(r)["case_id"] for r in rows] == ["EXC-S1"]
    out = tmp_path / "elsewhere"
    _invoke(["eval", "export-corrections", "--out", str(out)], env)
    assert (out / "v1" / "manifest.json").exists()
    assert _tree_state(ROOT) == before


def test_the_last_applied_decision_wins_and_a_failed_one_is_no_label(api: Api) -> None:
    case_id = api.submit(case_id="EXC-L1")
    api.wait_status(case_id)
    _decided(api, case_id, "approve")
    api.wait_status(case_id, "applied")
    db = api.app.state.services.db
    with db.session() as session:  # the case was reopened and rejected later (e.g. a recall)
        session.add(
            Decision(
                case_id=case_id,
                decision="reject",
                user="bruno",
                comment="recalled",
                changes=[],
                state="applied",
                reason_code="FRAD",
                correct_action="escalate",
            )
        )
        get_case(session, case_id).status = "rejected"
        session.commit()
        (record,) = labelled_records(session)
        assert (record["label"]["decision"], record["label"]["action"]) == ("reject", "escalate")
        assert [d["decision"] for d in record["decisions"]] == ["approve", "reject"]
        get_case(session, case_id).status = "failed"  # the last decision did not apply: no label
        session.commit()
        assert labelled_records(session) == []


def test_segments_read_from_the_case() -> None:
    mt = {"exception_code": "AC01", "message": ":20:X\n:32A:261119EUR12450,00\n"}
    mx = {"exception_code": "RR03", "message": '<Document><IntrBkSttlmAmt Ccy="USD">250.5</IntrBkSttlmAmt>'}
    js = {"exception_code": "AM04", "payment": {"amount": "2000000", "currency": "GBP"}, "documents": [{}]}
    assert segments_of(mt) == {
        "exception_code": "AC01",
        "format": "MT",
        "documents": "no",
        "currency": "EUR",
        "amount_band": "10k-100k",
    }
    assert (segments_of(mx)["format"], segments_of(mx)["currency"], segments_of(mx)["amount_band"]) == (
        "MX",
        "USD",
        "<1k",
    )
    assert segments_of(js)["format"] == "JSON" and segments_of(js)["amount_band"] == ">=1M"
    assert segments_of(js)["documents"] == "yes"
    rows = [
        {"segments": segments_of(mt), "metrics": {"exact": 1.0}},
        {"segments": segments_of(mx), "metrics": {"exact": 0.0}},
    ]
    assert breakdown(rows)["format"] == {"MT": {"n": 1, "exact": 1.0}, "MX": {"n": 1, "exact": 0.0}}
