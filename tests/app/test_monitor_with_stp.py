"""After the STP merge: the drift figures count auto-applied cases and QA verdicts made by the STP code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app import drift_metrics
from app.jobs.triage import TriageRunners
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import Api, StubTriage, add_tokens
from tests.app.test_stp import STP_ON, ProposalStub, _triaged, install_policy


@pytest.fixture
def proposals(stub_triage: StubTriage) -> ProposalStub:
    return ProposalStub(stub_triage)


def test_monitoring_counts_straight_through_cases_and_qa(
    make_settings: Callable[..., Settings], proposals: ProposalStub, stub_triage: StubTriage
) -> None:
    app = create_app(
        make_settings(**STP_ON | {"stp_qa_share": 1.0}),
        configure_logs=False,
        runners=TriageRunners.fixed(stub_triage),
    )
    with TestClient(app) as client:
        api = Api(app, client, add_tokens(app))
        db = app.state.services.db
        install_policy(db)
        proposals.overrides["EXC-HUMAN"] = {"confidence": 0.85}  # under the threshold: a person decides
        agreed, disputed = api.submit(case_id="EXC-QA-1"), api.submit(case_id="EXC-QA-2")
        human = api.submit(case_id="EXC-HUMAN")
        for case_id in (agreed, disputed):
            api.wait_status(case_id, "applied")
        _triaged(db, human)
        api.wait_status(human, "pending_review")
        assert api.decide(human, "approver", "approve").status_code == 200
        api.wait_status(human, "applied")
        url = "/v1/exceptions/{}/qa"
        assert (
            client.post(url.format(agreed), json={"verdict": "agree"}, headers=api.h["analyst"]).status_code
            == 200
        )
        body = {"verdict": "disagree", "correct_action": "return", "reason_code": "duplicate"}
        assert client.post(url.format(disputed), json=body, headers=api.h["approver"]).status_code == 200
        drift_metrics.refresh(db, app.state.services.settings, force=True)
        current = drift_metrics.COLLECTOR.snapshot.current
        assert current.proposals == 3 and current.straight_through == 2
        assert current.outcomes == {"AC01": {"approved": 1}}  # the system's approvals are not in the rates
        assert (current.qa_reviews, current.qa_disagreements) == (2, 1)
        text = client.get("/metrics").text
        assert 'repairdesk_qa_disagreement_rate{window="current"} 0.5' in text
