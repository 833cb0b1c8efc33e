"""Proof that the learning loop closes: decisions in, a better calibrated confidence and STP out.

Streams cases (the team's agent set plus the perturbed set, :mod:`evals.generators.perturbed`,
shuffled with ``--seed``) through the real service path: the app with its in-process worker pool and
the playbook agent (``create_app(..., runners=...)``), a fresh data directory and SQLite database,
the demo reference data and day. A simulated analyst decides every case that reaches review
through the API from the gold answers (approve what equals the gold; edit a wrong repair to the gold
changes, then two approvers approve the edit; reject anything else naming the gold action), and
with probability ``--error-rate`` decides the other way (approves a wrong proposal or rejects a
right one). Straight-through cases sampled for QA get a QA verdict the same way.

After every ``--every`` cases the loop retrains and re-gates (:func:`retrain`):

- labels come from the service's decision record (:func:`app.services.corrections.labelled_records`,
  label = approved unchanged, :func:`app.services.stp.wrong_decision`), features from the graph
  state each proposal was made in (``calibration.features``, :mod:`agents.confidence`);
- samples split by source case (:func:`evals.generators.perturbed.split_of`): a challenger is fitted
  (:func:`evals.calibration.fit`) on the ``train`` side and gated against the serving champion on
  the ``held-out`` side (:func:`gate`: paired bootstrap of per-case Brier loss, and the issue's
  floors, held-out ECE ≤ 0.05 and AUROC ≥ 0.95, as ``repairdesk model promote calibrator``
  demands; ``--report-floors`` only reports them); a challenger that passes first runs in shadow
  beside the champion for the next block (``models/calibrator/shadow.json``: live proposals record
  its confidence next to the champion's), and at the next retrain its agreement with the champion
  (:func:`app.services.shadow.agreement`) is recorded and it is served
  (``models/calibrator/active.json``, as ``repairdesk model promote calibrator`` does); with
  ``--registry`` every challenger is logged in the MLflow registry (promoted there when it passed);
- a straight-through policy is fitted (:func:`app.services.stp.build_policy`, Clopper-Pearson bound,
  ``--stp-target``, ``--stp-min-count``) on the held-out decisions scored by the serving calibrator
  (none of them trained it) and stored as the policy in force, so the next cases may go straight
  through (``REPAIRDESK_STP_ENABLED`` on, QA share ``--qa-share``).

Printed per block of the stream, prequentially (each case's confidence as served when it was
triaged, against the label its decision later gave): ECE, AUROC, the edit rate (edits among human
decisions), the STP share and wrong straight-through repairs; per retrain: the challenger's and the
champion's held-out ECE/AUROC, the gate verdict, the floors met or missed and the eligible STP keys;
per promotion: the shadow's agreement (live proposals, mean absolute difference, same side of each
threshold).

``--start hand-typed`` (default) serves no calibrator at first (the playbook constants, the issue's
"before"); ``--start committed`` starts from the committed artefact.

    python benchmarks/learning_loop.py [--cases N] [--every 100] [--error-rate 0.02] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evals.calibration import AUROC_FLOOR, ECE_FLOOR, Sample, evaluate, fit, scores  # noqa: E402
from evals.generators import perturbed  # noqa: E402
from evals.stats import paired_bootstrap  # noqa: E402

DEMO_TODAY = date(2026, 11, 20)  # the demo reference data's day (evals.suites.agent.DEMO_TODAY)
USERS = {"service": ("loop-bot", "service"), "analyst": ("ana", "analyst"), "approver": ("alice", "approver")}
USERS |= {"approver2": ("bruno", "approver"), "admin": ("root", "admin")}
ACTIONS = ("repair", "escalate", "request_info", "investigate", "return", "no_action")
# The challenger's paired Brier loss: lower on average, and no more than this worse at the 95% CI's
# upper end (the same tolerance as `repairdesk model promote calibrator`).
BRIER_TOLERANCE = 0.005
WAIT_S = 300.0


@dataclass
class LoopOptions:
    cases: int | None = None  # stream length (default: every case once)
    every: int = 100  # retrain and re-gate after this many streamed cases
    error_rate: float = 0.02  # the simulated analyst's chance of deciding the other way
    seed: int = 13
    start: str = "hand-typed"  # or "committed"
    stp_target: float = 0.01
    stp_min_count: int = 300
    qa_share: float = 0.1
    stp_max_amount: float = 1e12  # the loop measures the bound, not the limit: every amount may qualify
    registry: bool = False
    min_samples: int = 20  # no retrain before this many labelled train-side decisions
    data_dir: Path | None = None
    # refuse a challenger that misses the held-out floors (ECE, AUROC) as `model promote` does; off,
    # the floors are still measured and reported on every retrain
    enforce_floors: bool = True


@dataclass
class Block:
    end: int  # cases streamed so far
    cases: int
    labelled: int
    ece: float | None
    auroc: float | None
    brier: float | None
    edit_rate: float | None
    reject_rate: float | None
    stp_share: float
    stp_wrong: int
    calibrator: str


@dataclass
class Retrain:
    end: int
    train: int
    held_out: int
    challenger: dict[str, float | None] | None
    champion: dict[str, float | None] | None
    promoted: bool  # passed the gate, ran in shadow beside the champion for a block, then served
    reasons: list[str]
    serving: str
    stp_policy_version: int
    stp_eligible: list[str]
    stp_closest: str  # the rule with the lowest bound: how near STP is
    stp_bound: float | None
    stp_held_out_share: float | None
    floors: dict[str, bool] = field(default_factory=dict)  # ece, auroc: the held-out floor met
    shadowed: bool = False  # passed the gate and ran in shadow
    shadow: dict[str, Any] | None = None  # its agreement with the champion on live cases, in shadow


@dataclass
class LoopResult:
    options: dict[str, Any]
    blocks: list[Block] = field(default_factory=list)
    retrains: list[Retrain] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "options": self.options,
            "blocks": [asdict(b) for b in self.blocks],
            "retrains": [asdict(r) for r in self.retrains],
            "seconds": self.seconds,
        }


# --- the stream and the simulated analyst ---------------------------------------------------------


def stream(seed: int, limit: int | None = None) -> list[dict[str, Any]]:
    """The agent cases and their perturbed rows, shuffled; each with ``source_id`` and ``split``."""
    from evals import datasets

    sources, _ = datasets.load("agent_cases")
    rows = [
        {**s, "source_id": s["id"], "split": perturbed.split_of(s["id"]), "perturbation": "none"}
        for s in sources
    ]
    rows += perturbed.generate(sources)
    random.Random(seed).shuffle(rows)
    return rows[:limit] if limit else rows


def change_set(changes: list[dict[str, Any]] | None) -> set[tuple[str, str]]:
    return {(str(c.get("field")), str(c.get("new"))) for c in changes or []}


def matches_gold(proposal: dict[str, Any], gold: dict[str, Any]) -> bool:
    same_action = proposal.get("action") == gold.get("action")
    return same_action and change_set(proposal.get("changes")) == change_set(gold.get("changes"))


@dataclass(frozen=True)
class Verdict:
    kind: str  # approve | edit | reject
    changes: list[dict[str, Any]] = field(default_factory=list)
    correct_action: str | None = None
    mistaken: bool = False


def analyst_verdict(proposal: dict[str, Any], gold: dict[str, Any], mistaken: bool) -> Verdict:
    """What the simulated analyst decides on ``proposal`` (``mistaken``: the other way)."""
    right = matches_gold(proposal, gold)
    guard_ok = (proposal.get("guard") or {}).get("passed", True) is not False
    if right != mistaken and guard_ok:
        return Verdict("approve", mistaken=mistaken)
    if right:  # a mistaken rejection of a right proposal: names another action
        other = next(a for a in ACTIONS if a != gold.get("action") and a != "repair")
        return Verdict("reject", correct_action=other, mistaken=True)
    if gold.get("action") == "repair" and gold.get("changes"):
        changes = [{"field": c["field"], "new": c["new"]} for c in gold["changes"]]
        return Verdict("edit", changes=changes)
    return Verdict("reject", correct_action=str(gold.get("action")))


# --- the service ----------------------------------------------------------------------------------


class FeatureTap:
    """The agent backend, keeping each thread's calibrator features (what the proposal was made from)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.features: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        proposal: dict[str, Any] = self.inner.start(case, thread_id)
        values = self.inner.graph.get_state({"configurable": {"thread_id": thread_id}}).values
        with self._lock:
            self.features[thread_id] = dict((values.get("calibration") or {}).get("features") or {})
        return proposal

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.inner.resume(thread_id, decision)
        return result

    def take_usage(self, thread_id: str) -> dict[str, Any] | None:
        take = getattr(self.inner, "take_usage", None)
        return take(thread_id) if callable(take) else None


class Service:
    """A started app (real agent, worker pool, SQLite) with role tokens and a few API helpers."""

    def __init__(self, app: Any, client: Any, tap: FeatureTap) -> None:
        from app.services.auth import create_token

        self.app, self.client, self.tap = app, client, tap
        self.db = app.state.services.db
        self.h: dict[str, dict[str, str]] = {}
        with self.db.session() as session:
            for key, (user, role) in USERS.items():
                token = create_token(session, user, role, f"loop-{key}")
                self.h[key] = {"Authorization": f"Bearer {token}"}
            session.commit()

    def submit(self, case: dict[str, Any], n: int) -> str:
        body = {k: v for k, v in case.items() if k != "case_id"} | {"case_id": f"LOOP-{n:05d}"}
        response = self.client.post("/v1/exceptions", json=body, headers=self.h["service"])
        if response.status_code != 202:
            raise RuntimeError(f"submit refused: {response.status_code} {response.text[:300]}")
        case_id: str = response.json()["case_id"]
        return case_id

    def wait_triaged(self, case_ids: list[str]) -> None:
        """Until every case's triage job is finished (STP has spoken by then)."""
        from sqlalchemy import func, select

        from app.db.models import Job

        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            with self.db.session() as session:
                open_jobs = session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.case_id.in_(case_ids), Job.status.in_(("queued", "running")))
                )
            if not open_jobs:
                return
            time.sleep(0.05)
        raise TimeoutError(f"triage of {len(case_ids)} cases did not finish in {WAIT_S:.0f} s")

    def view(self, case_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.client.get(
            f"/v1/exceptions/{case_id}", headers=self.h["service"]
        ).json()
        return result

    def post(self, path: str, role: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers=self.h[role])

    def decide(self, case_id: str, verdict: Verdict) -> str:
        """Carry out ``verdict`` through the API; returns the decision as finally made."""
        path = f"/v1/exceptions/{case_id}/decision"
        if verdict.kind == "edit":
            edited = self.post(path, "analyst", {"decision": "edit", "changes": verdict.changes})
            if edited.status_code != 200 or not self._approve(case_id):
                self._reject(case_id, "repair")
                return "reject"
            return "edit"
        if verdict.kind == "approve" and self._approve(case_id):
            return "approve"
        self._reject(case_id, verdict.correct_action or "escalate")
        return "reject"

    def _approve(self, case_id: str) -> bool:
        path = f"/v1/exceptions/{case_id}/decision"
        for role in ("approver", "approver2"):  # four-eyes or analyst-asserted content: a second one
            response = self.post(path, role, {"decision": "approve", "comment": "loop"})
            if response.status_code != 200:
                return False
            if response.json().get("status") != "pending_review":
                return True
        return False

    def _reject(self, case_id: str, action: str) -> None:
        body = {"decision": "reject", "reason_code": "loop", "correct_action": action, "comment": "loop"}
        response = self.post(f"/v1/exceptions/{case_id}/decision", "approver", body)
        if response.status_code != 200:
            raise RuntimeError(f"reject refused on {case_id}: {response.status_code} {response.text[:300]}")

    def qa(self, case_id: str, agree: bool, action: str) -> None:
        body: dict[str, Any] = {"verdict": "agree" if agree else "disagree"}
        if not agree:
            body |= {"correct_action": action, "reason_code": "loop"}
        response = self.post(f"/v1/exceptions/{case_id}/qa", "analyst", body)
        if response.status_code != 200:
            raise RuntimeError(f"QA refused on {case_id}: {response.status_code} {response.text[:300]}")


@contextmanager
def service(options: LoopOptions, data_dir: Path) -> Iterator[Service]:
    """The app on ``data_dir`` with STP switched on; the process's tool configuration is restored after."""
    from fastapi.testclient import TestClient

    from app.jobs.triage import TriageRunners, build_agent
    from app.main import create_app
    from app.settings import Settings, configure_process
    from tools import config
    from tools.db import get_engine
    from tools.refdata.loader import load_file
    from tools.refdata.store import RefDataStore

    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'repairdesk.db'}",
        workers=1,
        job_poll_seconds=0.02,
        log_level="WARNING",
        today=DEMO_TODAY,
        stp_enabled=True,
        stp_qa_share=options.qa_share,
        stp_max_amount=options.stp_max_amount,
        token_cache_seconds=0,
        freeze_heap=False,
    )
    previous = config.current()
    configure_process(settings)
    try:
        from app.db.session import Database

        Database(settings.database_url).migrate()
        load_file(ROOT / "corpora" / "demo" / "refdata.json", RefDataStore(get_engine(settings.database_url)))
        tap = FeatureTap(build_agent(None, settings.database_url, settings.data_dir))
        app = create_app(settings, configure_logs=False, runners=TriageRunners.fixed(tap))
        with TestClient(app) as client:
            yield Service(app, client, tap)
    finally:
        config.configure(previous)


# --- retrain, gate, serve, fit the STP policy -----------------------------------------------------


def gate(
    challenger: Any, champion: Any | None, samples: list[Sample], *, enforce_floors: bool = True
) -> dict[str, Any]:
    """Challenger against the serving champion on the same held-out samples: paired per-case Brier
    loss lower on average and the upper end of its 95% bootstrap interval at most
    :data:`BRIER_TOLERANCE` (a challenger no better than the champion is not served: each promotion
    starts a new calibrator version), and, with ``enforce_floors``, the issue's floors (held-out ECE
    at most :data:`ECE_FLOOR`, AUROC at least :data:`AUROC_FLOOR`, as ``repairdesk model promote
    calibrator`` demands). The floors are measured either way (``floors``). With no champion (the
    hand-typed confidence), the champion's figures are its served confidences."""
    ours = evaluate(challenger, samples)
    labels = [s.label for s in samples]
    if champion is not None:
        theirs_p = evaluate(champion, samples)["probabilities"]
    else:
        theirs_p = [s.features.get("_served", 0.0) for s in samples]
    theirs = scores(theirs_p, labels)
    loss = lambda probs: [(p - y) ** 2 for p, y in zip(probs, labels, strict=True)]  # noqa: E731
    diff = paired_bootstrap(loss(theirs_p), loss(ours["probabilities"]))
    reasons = []
    if diff.value >= 0 or diff.ci95[1] > BRIER_TOLERANCE:
        reasons.append(f"paired Brier difference {diff.value:+.4f}, 95% CI high {diff.ci95[1]:+.4f}")
    ece, auroc = ours["overall"]["ece"], ours["overall"]["auroc"]
    floors = {"ece": ece <= ECE_FLOOR, "auroc": auroc == auroc and auroc >= AUROC_FLOOR}  # nan: unmet
    if enforce_floors and not floors["ece"]:
        reasons.append(f"held-out ECE {ece:.3f} above the floor {ECE_FLOOR}")
    if enforce_floors and not floors["auroc"]:
        reasons.append(f"held-out AUROC {auroc:.3f} below the floor {AUROC_FLOOR}")
    return {
        "passed": not reasons,
        "reasons": reasons,
        "floors": floors,
        "challenger": ours["overall"],
        "champion": theirs,
    }


def samples_from_records(
    service: Service, records: list[dict[str, Any]], rows: dict[str, dict[str, Any]]
) -> list[Sample]:
    """One labelled sample per decided case: its features, approved unchanged or not, its source."""
    from app.services.stp import wrong_decision

    out = []
    for record in records:
        wrong = wrong_decision(record)
        features = service.tap.features.get(record["case_id"])
        row = rows.get(record["case_id"])
        if wrong is None or not features or row is None:
            continue
        payload = (record.get("proposal") or {}).get("payload") or {}
        served = payload.get("confidence")
        features = {**features, "_served": float(served) if isinstance(served, int | float) else 0.0}
        code = str(payload.get("exception_code") or "UNKNOWN")
        out.append(Sample(features, int(not wrong), code, row["source_id"], row["split"]))
    return out


def serve(model: Any, data_dir: Path) -> str:
    """Deploy ``model`` as the champion the agent uses from its next proposal (as promote does)."""
    from tools.calibration.model import ACTIVE, set_pointer

    path = model.save(data_dir / "models" / "calibrator" / "loop" / f"{model.version}.json")
    set_pointer(ACTIVE, model.version, path)
    return str(model.version)


def serve_none(data_dir: Path) -> str:
    """Serve no calibrator (the hand-typed confidence): the pointer names no file."""
    from tools.calibration.model import ACTIVE, set_pointer

    set_pointer(ACTIVE, "none", data_dir / "models" / "calibrator" / "none.json")
    return "none"


def shadow_on(model: Any, data_dir: Path) -> None:
    """Run ``model`` in shadow beside the champion from the next proposal (as ``repairdesk model
    shadow calibrator`` does): proposals record its confidence next to the champion's."""
    from tools.calibration.model import SHADOW, set_pointer

    path = model.save(data_dir / "models" / "calibrator" / "loop" / f"{model.version}.json")
    set_pointer(SHADOW, model.version, path)


def shadow_off() -> None:
    from tools.calibration.model import SHADOW, set_pointer

    set_pointer(SHADOW, None, None)


@dataclass
class Pending:
    """A challenger that passed the gate and runs in shadow until the next retrain promotes it."""

    model: Any
    retrain: Retrain
    since: datetime


def promote_pending(svc: Service, pending: Pending, data_dir: Path, *, promote: bool = True) -> str | None:
    """Record the shadow's agreement with the champion over the cases made since ``pending.since``
    (:func:`app.services.shadow.agreement`), then serve the challenger (``promote``); returns the
    version now serving, or None when it was not promoted (the stream ended in shadow)."""
    from app.services.shadow import agreement

    pending.retrain.shadow = agreement(svc.db, since=pending.since)
    shadow_off()
    if not promote:
        pending.retrain.reasons.append("the stream ended while it ran in shadow")
        return None
    serving = serve(pending.model, data_dir)
    pending.retrain.promoted, pending.retrain.serving = True, serving
    return serving


def register(model: Any, verdict: dict[str, Any], folder: Path) -> None:
    """Log the challenger in the MLflow registry; promote it there when the gate passed."""
    from tools.registry import ModelRegistry

    registry = ModelRegistry()
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "calibrator.json")
    metrics = {f"heldout.{k}": float(v) for k, v in verdict["challenger"].items()}
    info = registry.log_version(
        "calibrator",
        folder,
        params={**model.meta.get("params", {}), "features": len(model.features)},
        metrics=metrics,
        dataset_hash=str(model.version),
        tags={"kind": "calibrator", "calibrator_version": str(model.version), "source": "learning_loop"},
    )
    if verdict["passed"]:
        registry.promote("calibrator", info.version)


def fit_stp(
    service: Service, held: list[Sample], champion: Any | None, version: str, options: LoopOptions
) -> tuple[int, dict[str, Any]]:
    """The STP policy from held-out decisions scored by the serving calibrator; stored, in force."""
    from app.services import stp

    if champion is not None:
        probabilities = evaluate(champion, held)["probabilities"] if held else []
    else:
        probabilities = [s.features["_served"] for s in held]
    points = [
        {
            "exception_code": s.code,
            "action": next((a for a in ACTIONS if s.features.get(f"action_{a}")), "unknown"),
            "confidence": p,
            "wrong": not s.label,
        }
        for s, p in zip(held, probabilities, strict=True)
    ]
    source = {"kind": "learning_loop", "points": len(points), "calibrator": version}
    policy = stp.build_policy(
        points, target=options.stp_target, min_count=options.stp_min_count, source=source
    )
    with service.db.session() as session:
        stored = stp.store_policy(session, policy, actor="learning-loop").version
        session.commit()
    return stored, policy


# --- the loop -------------------------------------------------------------------------------------


def block_figures(
    service: Service,
    ids: list[str],
    records: dict[str, dict[str, Any]],
    window: tuple[datetime, datetime],
    end: int,
    calibrator: str,
) -> Block:
    """Figures of one block. ECE/AUROC prequentially (confidences as served, labels as later
    decided); edit, reject rates and STP share as the monitoring service counts them over the
    block's time window (:func:`app.services.monitoring.window_figures`, what ``repairdesk monitor
    report`` prints)."""
    from app.services.monitoring import window_figures
    from app.services.stp import wrong_decision

    probabilities, labels = [], []
    for case_id in ids:
        record = records.get(case_id)
        wrong = wrong_decision(record) if record else None
        confidence = ((record or {}).get("proposal") or {}).get("payload", {}).get("confidence")
        if wrong is not None and isinstance(confidence, int | float):
            probabilities.append(float(confidence))
            labels.append(int(not wrong))
    figures = scores(probabilities, labels) if labels else {}
    with service.db.session() as session:
        monitored = window_figures(session, *window)
    rates = monitored.rates()
    return Block(
        end=end,
        cases=len(ids),
        labelled=len(labels),
        ece=figures.get("ece"),
        auroc=_finite(figures.get("auroc")),
        brier=figures.get("brier"),
        edit_rate=rates.get("edited"),
        reject_rate=rates.get("rejected"),
        stp_share=monitored.stp_share or 0.0,
        stp_wrong=0,
        calibrator=calibrator,
    )


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else value


def run_loop(options: LoopOptions, log: Any = None) -> LoopResult:
    """Stream, decide, retrain and re-gate (see the module docstring)."""
    from app.services.corrections import labelled_records
    from tools.calibration import Calibrator
    from tools.calibration.model import committed_artefact

    say = log or (lambda _m: None)
    began = time.perf_counter()
    rows = stream(options.seed, options.cases)
    result = LoopResult(options={k: str(v) for k, v in asdict(options).items()})
    rng = random.Random(options.seed + 1)
    # the database and checkpoints on a memory file system where there is one: the loop measures
    # learning, not the disk's fsync
    shm = Path("/dev/shm")
    scratch = str(shm) if shm.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="repairdesk-loop-", dir=scratch) as tmp:
        data_dir = Path(options.data_dir or tmp)
        with service(options, data_dir) as svc:
            champion: Calibrator | None = None
            serving = serve_none(data_dir)
            if options.start == "committed":
                champion = Calibrator.load(committed_artefact())
                serving = serve(champion, data_dir)
            by_case: dict[str, dict[str, Any]] = {}
            pending: Pending | None = None
            opened = datetime.now(UTC)
            for start in range(0, len(rows), options.every):
                block = rows[start : start + options.every]
                ids = []
                for n, row in enumerate(block, start):
                    ids.append(svc.submit(row["case"], n))
                    by_case[ids[-1]] = row
                svc.wait_triaged(ids)
                stp_wrong = 0
                for case_id in ids:
                    view = svc.view(case_id)
                    gold = by_case[case_id]["expected"]
                    mistaken = rng.random() < options.error_rate
                    if view.get("status") == "pending_review":
                        svc.decide(case_id, analyst_verdict(view, gold, mistaken))
                    elif view.get("straight_through"):
                        right = matches_gold(view, gold)
                        stp_wrong += not right
                        if (view.get("stp") or {}).get("qa_status") == "pending":
                            svc.qa(case_id, right != mistaken, str(gold.get("action")))
                with svc.db.session() as session:
                    records = {r["case_id"]: r for r in labelled_records(session)}
                window = (opened, datetime.now(UTC) + timedelta(microseconds=1))
                opened = window[1]
                figures = block_figures(svc, ids, records, window, start + len(block), serving)
                figures.stp_wrong = stp_wrong
                result.blocks.append(figures)
                say(block_line(figures))
                if pending is not None:  # it ran in shadow over this block: agreement, then it serves
                    serving = promote_pending(svc, pending, data_dir) or serving
                    champion = pending.model
                    say(shadow_line(pending.retrain))
                    pending = None
                retrain = retrain_step(
                    svc, records, by_case, champion, serving, options, data_dir, start + len(block)
                )
                if retrain is not None:
                    result.retrains.append(retrain[0])
                    say(retrain_line(retrain[0]))
                    if retrain[1] is not None:  # passed the gate: shadow it beside the champion first
                        shadow_on(retrain[1], data_dir)
                        retrain[0].shadowed = True
                        pending = Pending(retrain[1], retrain[0], datetime.now(UTC))
            if pending is not None:
                promote_pending(svc, pending, data_dir, promote=False)
                say(shadow_line(pending.retrain))
    result.seconds = time.perf_counter() - began
    return result


def retrain_step(
    svc: Service,
    records: dict[str, dict[str, Any]],
    by_case: dict[str, dict[str, Any]],
    champion: Any | None,
    serving: str,
    options: LoopOptions,
    data_dir: Path,
    end: int,
) -> tuple[Retrain, Any | None] | None:
    """Fit a challenger on the train side, gate it on the held-out side, and fit the STP policy for
    whatever serves; returns the record and the challenger when it passed the gate (it then runs in
    shadow before it serves), ``None`` while too few decisions are in."""
    samples = samples_from_records(svc, list(records.values()), by_case)
    train = [s for s in samples if s.split == "train"]
    held = [s for s in samples if s.split == "held-out"]
    if (
        len(train) < options.min_samples
        or len({s.label for s in train}) < 2
        or len({s.label for s in held}) < 2
    ):
        return None
    fitted = [
        Sample({k: v for k, v in s.features.items() if k != "_served"}, s.label, s.code, s.group, s.split)
        for s in train
    ]
    challenger = fit(fitted, version=f"loop-{end:05d}")
    verdict = gate(challenger, champion, held, enforce_floors=options.enforce_floors)
    if options.registry:
        register(challenger, verdict, data_dir / "registry-staging" / challenger.version)
    # the policy is for what serves now; a challenger that passed serves only after its shadow block
    policy_version, policy = fit_stp(svc, held, champion, serving, options)
    eligible = [f"{r['exception_code']}/{r['action']}" for r in policy["rules"] if r.get("eligible")]
    closest = min(policy["rules"], key=lambda r: (r["upper_bound"], -r["n"]), default=None)
    nearest = f"{closest['exception_code']}/{closest['action']}: {closest['reason']}" if closest else "-"
    return (
        Retrain(
            end=end,
            train=len(train),
            held_out=len(held),
            challenger={k: _finite(v) for k, v in verdict["challenger"].items()},
            champion={k: _finite(v) for k, v in verdict["champion"].items()},
            promoted=False,
            reasons=verdict["reasons"],
            floors=verdict["floors"],
            serving=serving,
            stp_policy_version=policy_version,
            stp_eligible=eligible,
            stp_closest=nearest,
            stp_bound=policy["overall"]["upper_bound"] if policy["overall"]["applied"] else None,
            stp_held_out_share=policy["overall"]["share"],
        ),
        challenger if verdict["passed"] else None,
    )


# --- printing -------------------------------------------------------------------------------------


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def block_line(b: Block) -> str:
    return (
        f"cases {b.end:5d}  labelled {b.labelled:4d}  ECE {_f(b.ece)}  AUROC {_f(b.auroc)}  "
        f"edit rate {_f(b.edit_rate)}  reject rate {_f(b.reject_rate)}  STP share {_f(b.stp_share)}  "
        f"STP wrong {b.stp_wrong}  calibrator {b.calibrator}"
    )


def shadow_line(r: Retrain) -> str:
    agreement = r.shadow or {}
    same = agreement.get("same_side") or {}
    verdict = (
        f"promoted, serving {r.serving}" if r.promoted else "not promoted (" + "; ".join(r.reasons) + ")"
    )
    return (
        f"  shadow of the challenger from {r.end}: {agreement.get('n', 0)} live proposals, mean |diff| "
        f"{_f(agreement.get('mean_abs_difference'))}, same side of 0.5/0.8/0.9 "
        f"{'/'.join(_f(same.get(k), 2) for k in ('0.5', '0.8', '0.9'))}: {verdict}"
    )


def retrain_line(r: Retrain) -> str:
    ours, theirs = r.challenger or {}, r.champion or {}
    floors = ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in r.floors.items())
    verdict = (
        "passed the gate, now in shadow" if not r.reasons else "kept champion (" + "; ".join(r.reasons) + ")"
    )
    verdict += f"; floors: {floors}"
    return (
        f"  retrain @ {r.end}: train {r.train}, held-out {r.held_out}; held-out ECE "
        f"{_f(theirs.get('ece'))} -> {_f(ours.get('ece'))}, AUROC {_f(theirs.get('auroc'))} -> "
        f"{_f(ours.get('auroc'))}: {verdict}; STP eligible {', '.join(r.stp_eligible) or 'none'} "
        f"(held-out share {_f(r.stp_held_out_share)}, bound {_f(r.stp_bound, 4)}; closest {r.stp_closest})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="stream length (default: every case once)")
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--error-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--start", choices=("hand-typed", "committed"), default="hand-typed")
    parser.add_argument("--stp-target", type=float, default=0.01)
    parser.add_argument("--stp-min-count", type=int, default=300)
    parser.add_argument("--qa-share", type=float, default=0.1)
    parser.add_argument("--registry", action="store_true", help="log every challenger in MLflow")
    parser.add_argument(
        "--report-floors",
        action="store_true",
        help="promote on the paired Brier gate alone; the ECE/AUROC floors are then only reported",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args()
    options = LoopOptions(
        cases=args.cases,
        every=args.every,
        error_rate=args.error_rate,
        seed=args.seed,
        start=args.start,
        stp_target=args.stp_target,
        stp_min_count=args.stp_min_count,
        qa_share=args.qa_share,
        registry=args.registry,
        enforce_floors=not args.report_floors,
    )
    result = run_loop(options, log=print)
    print(f"{sum(b.cases for b in result.blocks)} cases in {result.seconds:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
