"""Kill the decision path at named crash points and at random moments, restart, check the invariants.

Used by ``tests/app/test_faults.py`` (100 runs in ``make test``, more under ``slow``) and
``benchmarks/faults.py``. One :class:`Rig` is a data directory with a migrated SQLite database and
the real LangGraph checkpointer (``checkpoints.sqlite``): cases are seeded up to the human-review
interrupt of the real graph (the graph's state is written as the guard node would leave it, so no
tool or model runs), then each run forks a child process that decides one case with the production
code (:func:`app.services.decisions.decide`) and dies: at ``REPAIRDESK_CRASH_AT`` (``os._exit(137)``)
or by ``SIGKILL`` after a random delay. Forking keeps a run cheap (imports are shared); the child
drops the engine's inherited connections and opens its own, as a new process would. The parent is
then the restarted service: it runs the start-up recovery pass with a fresh runner and checks
(:meth:`Rig.check_case`): every case is undecided-and-decidable (proved by deciding it) or decided
exactly once; the decision row, the case status, the checkpoint and the audit events agree; the
audit chain and the state verification pass; a reject never ends applied.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from app.api.schemas import DecisionIn, ExceptionIn
from app.db.models import AuditEvent, Case, Decision, Job
from app.db.session import Database
from app.jobs.process import _store_proposal, contract_proposal
from app.jobs.triage import TriageRunners
from app.services.audit import verify_chain
from app.services.audit_anchor import FileAnchorStore, anchor_head, anchored_heads
from app.services.audit_keys import resolve_key
from app.services.audit_state import verify_state
from app.services.cases import create_case
from app.services.decisions import FINAL_FOR, decide, recover
from app.services.document_store import LocalDocumentStore
from app.settings import Settings
from tests.agents.fixtures import BAD_IBAN, GOOD_IBAN, mt103
from tools.db import get_engine
from tools.faults import CRASH_POINTS

APPROVERS = ("alice", "bruno")


def _runner(data_dir: Path) -> Any:
    from agents.checkpoints import sqlite_checkpointer
    from agents.runner import TriageRunner

    return TriageRunner(model="playbook", checkpointer=sqlite_checkpointer(data_dir / "checkpoints.sqlite"))


# Intended copy of a proposal (app.api.schemas' example): the harness keeps its own literal.
def _proposal(case_id: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "status": "pending_review",
        "exception_code": "AC01",
        "classification_confidence": 0.97,
        "action": "repair",
        "changes": [
            {
                "field": "payment.creditor.account.iban",
                "old": BAD_IBAN,
                "new": GOOD_IBAN,
                "evidence": ["ssi:C-9001:1"],
            }
        ],
        "rationale": "The IBAN fails its checksum; the SSI gives the account.",
        "citations": [{"doc_id": "SOP-AC01", "section": "3"}],
        "tool_calls": [{"tool": "get_ssi", "args": {"customer_id": "C-9001"}, "result_ref": "ssi:C-9001:1"}],
        "confidence": 0.93,
        "guard": {"passed": True, "violations": []},
        "model": "playbook",
    }


@dataclass
class Outcome:
    runs: int = 0
    violations: list[str] = field(default_factory=list)
    recovery_seconds: list[float] = field(default_factory=list)
    exits: dict[str, int] = field(default_factory=dict)
    max_kill_ms: float = 0.0


class Rig:
    def __init__(self, root: Path, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir or root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(
            data_dir=self.data_dir,
            database_url=f"sqlite:///{self.data_dir / 'repairdesk.db'}",
            audit_key_file=None,
        )
        self.key = resolve_key(self.settings)
        self.db = Database(self.settings.database_url, audit_key=self.key)
        self.db.migrate()
        self.store = LocalDocumentStore(self.data_dir / "documents")
        self.runner = _runner(self.data_dir)
        self._rng = random.Random(19)

    # -- seeding ---------------------------------------------------------------------------------
    def seed(self, count: int, prefix: str = "F") -> list[str]:
        """``count`` cases waiting at the real graph's human-review interrupt, proposals stored."""
        from agents.context import Context
        from tools.extract import extract_bytes
        from tools.messages.model import to_json_dict

        ids = []
        for index in range(count):
            case_id = f"{prefix}-{index:04d}"
            message = mt103(ref=f"{prefix}{index}"[:16])
            with self.db.session() as session:
                body = ExceptionIn(
                    case_id=case_id, exception_code="AC01", message=message, customer_id="C-9001"
                )
                create_case(session, self.store, body, user="svc-bot", idempotency_key=None)
                session.execute(update(Job).where(Job.case_id == case_id).values(status="done"))
                session.commit()
            extraction = extract_bytes(message.encode(), "message")[0]
            assert extraction.payment is not None
            payment = to_json_dict(extraction.payment)
            config: Any = {"configurable": {"thread_id": case_id}}
            graph = self.runner.graph
            case = {"case_id": case_id, "exception_code": "AC01", "message": message, "customer_id": "C-9001"}
            values = {
                "case": case,
                "model": "playbook",
                "payment": payment,
                "message_format": "fin",
                "exception_code": "AC01",
                "findings": [],
                "proposal": _proposal(case_id),
            }
            graph.update_state(config, values, as_node="guard")
            graph.invoke(None, config, context=Context(model="playbook", toolbox=None), durability="sync")
            _store_proposal(self.db, case_id, contract_proposal(_proposal(case_id)), 0.0)
            ids.append(case_id)
        return ids

    # -- one run ---------------------------------------------------------------------------------
    def _child(self, case_id: str, decision: str, user: str, crash_at: str | None) -> None:
        os.environ["REPAIRDESK_FAULTS_ENABLED"] = "1"
        os.environ.pop("REPAIRDESK_CRASH_AT", None)
        if crash_at:
            os.environ["REPAIRDESK_CRASH_AT"] = crash_at
        get_engine(self.settings.database_url).dispose(close=False)  # the parent's connections stay its own
        db = Database(self.settings.database_url, audit_key=self.key)
        runner = _runner(self.data_dir)
        body = DecisionIn(decision=decision, comment="fault run")
        with db.session() as session:
            decide(
                session,
                self.store,
                TriageRunners.fixed(runner),
                case_id,
                body,
                user=user,
                role="approver",
                db=db,
            )

    def kill_run(self, case_id: str, decision: str, *, crash_at: str | None, kill_after: float | None) -> int:
        """Fork a child that decides ``case_id``; returns its exit status (137: killed)."""
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                self._child(case_id, decision, APPROVERS[0], crash_at)
            except BaseException:
                code = 3
            os._exit(code)
        if kill_after is not None:
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.WEXITSTATUS(status)

    def restart(self) -> float:
        """What a restarted service does before serving: a fresh runner, the recovery pass."""
        started = time.perf_counter()
        self.runner = _runner(self.data_dir)
        runner = self.runner
        recover(self.db, self.store, TriageRunners.fixed(runner))
        return time.perf_counter() - started

    # -- invariants ------------------------------------------------------------------------------
    def check_case(self, case_id: str, decision: str) -> list[str]:
        problems: list[str] = []
        with self.db.session() as session:
            case = session.scalar(select(Case).where(Case.id == case_id))
            assert case is not None
            rows = list(
                session.scalars(
                    select(Decision).where(
                        Decision.case_id == case_id, Decision.decision.in_(("approve", "reject"))
                    )
                )
            )
            applied_events = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.case_id == case_id, AuditEvent.event == "decision_applied")
            )
        state = self.runner.get_state(case_id)
        where = f"{case_id} ({decision})"
        if any(r.state == "pending" for r in rows):
            problems.append(f"{where}: a decision is still pending after recovery")
        if not rows:
            if case.status != "pending_review":
                problems.append(f"{where}: undecided but {case.status}")
            if state is None or state["status"] != "pending_review":
                problems.append(f"{where}: undecided but the checkpoint says {state and state['status']}")
            else:  # decidable: prove it with the other approver
                other = "reject" if decision == "approve" else "approve"
                with self.db.session() as session:
                    runner = self.runner
                    body = DecisionIn(decision=other)
                    decided = decide(
                        session,
                        self.store,
                        TriageRunners.fixed(runner),
                        case_id,
                        body,
                        user=APPROVERS[1],
                        role="approver",
                        db=self.db,
                    )
                if decided.status not in FINAL_FOR[other]:
                    problems.append(f"{where}: deciding it after the restart gave {decided.status}")
                return problems or self.check_case(case_id, other)
            return problems
        if len(rows) != 1:
            problems.append(f"{where}: decided {len(rows)} times")
        row = rows[0]
        if row.decision != decision:
            problems.append(f"{where}: the stored decision is {row.decision}")
        if case.status not in FINAL_FOR[row.decision] or case.status == "failed":
            problems.append(f"{where}: a {row.decision} ended {case.status} ({case.error})")
        if row.decision == "reject" and case.status == "applied":
            problems.append(f"{where}: a reject ended applied")
        if applied_events != 1:
            problems.append(f"{where}: {applied_events} decision_applied events")
        if state is None or state["status"] != case.status:
            problems.append(f"{where}: checkpoint {state and state['status']} vs case {case.status}")
        elif (state["result"] or {}).get("decision", {}).get("decision") != row.decision:
            problems.append(f"{where}: the checkpoint took {(state['result'] or {}).get('decision')}")
        return problems

    def check_audit(self) -> list[str]:
        """What ``repairdesk audit verify`` checks, with the head anchored after each restart."""
        anchors = FileAnchorStore(self.data_dir / "audit-anchors.jsonl")
        with self.db.session() as session:
            anchor_head(session, anchors, self.key)
        with self.db.session() as session:
            chain = verify_chain(session, anchored=anchored_heads(anchors, [self.key]), keys=[self.key])
            state = verify_state(session)
        problems = []
        if not chain.ok:
            problems.append(f"audit chain: seq {chain.first_bad_seq}: {chain.reason}")
        if not state.ok:
            problems.append(f"audit state: {state.disagreement}")
        return problems

    def calibrate(self, prefix: str) -> float:
        """Seconds a whole decision takes in a child here (median of three uncrashed runs)."""
        took = []
        for index in range(3):
            case_id = self.seed(1, prefix=f"{prefix}-cal{index}")[0]
            started = time.perf_counter()
            self.kill_run(case_id, "approve", crash_at=None, kill_after=None)
            took.append(time.perf_counter() - started)
        return sorted(took)[1]

    def campaign(self, runs: int, *, random_share: float = 0.4, max_kill_ms: float | None = None) -> Outcome:
        """``runs`` runs: the named crash points in turn, then random kill timings; see the module
        docstring. Decisions alternate approve / reject. Random kills fall in ``[0, max_kill_ms)``;
        by default 1.2 times a whole decision measured here, so they cover the entire path."""
        named = round(runs * (1 - random_share))
        prefix = f"F{self._rng.randrange(10**6)}"
        outcome = Outcome()
        if max_kill_ms is None:
            max_kill_ms = 1200 * self.calibrate(prefix)
        outcome.max_kill_ms = max_kill_ms
        for index in range(runs):
            # one case at a time: the recovery pass looks at every case still in review
            case_id = self.seed(1, prefix=f"{prefix}-{index}")[0]
            decision = "approve" if index % 2 == 0 else "reject"
            if index < named:
                point = CRASH_POINTS[index % len(CRASH_POINTS)]
                code = self.kill_run(case_id, decision, crash_at=point, kill_after=None)
                label = point
            else:
                delay = self._rng.uniform(0, max_kill_ms) / 1000
                code = self.kill_run(case_id, decision, crash_at=None, kill_after=delay)
                label = "random"
            outcome.exits[f"{label}:{code}"] = outcome.exits.get(f"{label}:{code}", 0) + 1
            outcome.recovery_seconds.append(self.restart())
            outcome.violations += self.check_case(case_id, decision)
            outcome.violations += self.check_audit()
            outcome.runs += 1
        return outcome
