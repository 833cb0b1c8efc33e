"""UI page benchmark: the queue page over 10,000 cases and a case page with a 20-page document.

Builds a fresh SQLite data directory, inserts ``--cases`` cases with their queue columns and an
agent proposal each (Core bulk inserts: the set-up is not what is measured), starts the app in
process and times signed-in GETs through Starlette's test client (the app's own time: routing,
queries, templates; no network). Each figure is the median of ``--repeat`` requests, next to a
baseline measured in the same run: the same page over ``--baseline-cases`` cases, and the case page
with a 1-page document. A ratio near 1 says the page does not grow with the queue or the document.

    .venv/bin/python benchmarks/ui_pages.py [--cases 10000] [--repeat 15] [--json OUT]

The case-page document is a generated PDF (reportlab, a dev extra). Its first view reads the page
sizes only (``first_view_ms``); each page image is rendered on its first request
(``first_image_ms``: page 1, ``last_image_ms``: the last page, as a reader scrolls down) and read
from the page cache afterwards (``cached_image_ms``); later views of the page: ``median_ms``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The app is imported inside the functions: document work runs in forkserver children, and each child
# imports the main module (this script) again, so a heavy module level would cost every page render
# here a second that `repairdesk serve` does not pay.
if TYPE_CHECKING:
    from app.settings import Settings

CURRENCIES = ("EUR", "EUR", "EUR", "USD", "GBP", "CHF", "JPY")
# A whole MT103 (POST /v1/exceptions refuses a message that does not parse with 422).
MT103 = (
    "{1:F01BANKDEFFAXXX0000000000}{2:I103COBADEFFXXXXN}{4:\n:20:REF1\n:23B:CRED\n:32A:261122EUR1250,00\n"
    ":50K:/DE89370400440532013000\nOrdering Co KG\nBerlin\n:59:/DE89370400440532013001\nAcme Widgets GmbH\n"
    ":71A:SHA\n-}"
)
NAMES = ("Acme Widgets GmbH", "Globex Corp", "Initech KK", "Umbrella plc", "Stark Industries", "Wayne Ltd")
# Intended copy of a proposal (app.api.schemas' example): the benchmark keeps its own literal.
PROPOSAL = {
    "action": "repair",
    "changes": [
        {
            "field": "payment.creditor.account.iban",
            "old": "DE89370400440532013001",
            "new": "DE89370400440532013000",
            "evidence": ["ssi:C-1042:1"],
        }
    ],
    "rationale": "IBAN checksum fails; SSI on file.",
    "citations": [{"doc_id": "SOP-AC01", "section": "3"}],
    "tool_calls": [{"tool": "get_ssi", "args": {"customer_id": "C-1042"}, "result_ref": "ssi:C-1042:1"}],
    "guard": {"passed": True, "violations": []},
    "model": "bench",
}


class FixedTriage:
    """A deterministic triage backend (the agent is not what this benchmark measures)."""

    def start(self, case: dict[str, Any], thread_id: str) -> dict[str, Any]:
        return PROPOSAL | {"case_id": thread_id, "exception_code": case["exception_code"], "confidence": 0.95}

    def resume(self, thread_id: str, decision: dict[str, Any]) -> dict[str, Any]:
        return {"status": "applied", "final_changes": decision["changes"], "repaired_message": None}


def fill(app: Any, count: int, seed: int = 7) -> None:
    from sqlalchemy import insert

    from app.db.models import Case, Proposal

    rng = random.Random(seed)
    now = datetime.now(UTC)
    cases, proposals = [], []
    for index in range(count):
        case_id = f"EXC-B{index:06d}"
        status = rng.choice(("pending_review",) * 6 + ("applied", "rejected", "failed", "queued"))
        cases.append(
            {
                "id": case_id,
                "exception_code": rng.choice(("AC01", "AC04", "RC01", "AM05", "BE01")),
                "status": status,
                "customer_id": f"C-{1000 + index % 300}",
                "payload": {"case_id": case_id, "exception_code": "AC01", "documents": []},
                "request_hash": f"{index:064d}",
                "action": "repair" if status != "queued" else None,
                "confidence": round(rng.uniform(0.5, 0.99), 3) if status != "queued" else None,
                "created_by": "svc-bot",
                "created_at": now - timedelta(minutes=count - index),
                "updated_at": now,
                "amount": round(rng.uniform(10, 250_000), 2),
                "currency": rng.choice(CURRENCIES),
                "beneficiary": rng.choice(NAMES),
                "value_date": date.today() + timedelta(days=rng.randint(-2, 5)),
                "assignee": rng.choice((None, None, None, "ana", "bruno")),
            }
        )
        if status != "queued":
            payload = PROPOSAL | {"confidence": cases[-1]["confidence"]}
            proposals.append(
                {"case_id": case_id, "version": 1, "source": "agent", "author": "agent", "payload": payload}
            )
    with app.state.services.db.session() as session:
        session.execute(insert(Case), cases)
        session.execute(insert(Proposal), proposals)
        session.commit()


def signed_in(app: Any, client: Any) -> None:
    from app.services.auth import create_token

    with app.state.services.db.session() as session:
        token = create_token(session, "bruno", "approver", "bench-approver-token")
        session.commit()
    # The sign-in form carries a CSRF value (its hidden input, matched by a cookie).
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/login").text)
    assert found, "no CSRF token on the sign-in page"
    form = {"token": token, "csrf_token": found.group(1)}
    assert client.post("/ui/login", data=form, follow_redirects=False).status_code == 303


def timed(get: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = get()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:500]
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


QUEUE_VIEWS = {
    "default (oldest first)": {},
    "sorted by amount, desc": {"sort": "-amount"},
    "pending EUR by cut-off, page 20": {
        "status": "pending_review",
        "currency": "EUR",
        "sort": "cutoff",
        "page": "20",
    },
    "beneficiary contains 'acme'": {"beneficiary": "acme"},
    "assigned to me": {"assignee": "me"},
}


def queue_figures(cases: int, repeat: int, tmp: Path) -> dict[str, dict[str, float]]:
    from fastapi.testclient import TestClient

    app = bench_app(tmp / f"q{cases}", workers=0)
    with TestClient(app) as client:
        fill(app, cases)
        signed_in(app, client)
        client.get("/ui")  # warm-up: templates compiled, statements cached
        return {
            name: timed(partial(client.get, "/ui", params=params), repeat)
            for name, params in QUEUE_VIEWS.items()
        }


def pdf(pages: int) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    doc = canvas.Canvas(buffer, pagesize=A4)
    for number in range(1, pages + 1):
        doc.setFont("Helvetica", 11)
        doc.drawString(72, 780, f"REMITTANCE ADVICE  page {number} of {pages}")
        doc.drawString(72, 760, "Invoice number: INV-2026-0042   Invoice date: 2026-11-20")
        for line in range(40):
            doc.drawString(
                72,
                730 - line * 16,
                f"Line {line + 1:02d}  Widget type {line % 7}  qty {line + 1}  EUR {12.5 * (line + 1):.2f}",
            )
        doc.drawString(72, 60, "Total amount: EUR 1250.00   IBAN DE89 3704 0044 0532 0130 00")
        doc.showPage()
    doc.save()
    return buffer.getvalue()


def case_page_figures(pages: int, repeat: int, tmp: Path) -> dict[str, float]:
    from fastapi.testclient import TestClient

    app = bench_app(tmp / f"p{pages}", workers=1)
    with TestClient(app) as client:
        signed_in(app, client)
        body = {
            "case_id": "EXC-DOC",
            "exception_code": "AC01",
            "message": MT103,
            "documents": [
                {"name": f"advice-{pages}p.pdf", "content_base64": base64.b64encode(pdf(pages)).decode()}
            ],
        }
        headers = {"Authorization": "Bearer bench-approver-token"}
        service = create_service_token(app)
        assert client.post("/v1/exceptions", json=body, headers=service).status_code == 202
        deadline = time.monotonic() + 600
        while client.get("/v1/exceptions/EXC-DOC", headers=headers).json()["status"] != "pending_review":
            assert time.monotonic() < deadline, "triage did not finish"
            time.sleep(0.2)
        started = time.perf_counter()
        first = client.get("/ui/cases/EXC-DOC")
        first_ms = (time.perf_counter() - started) * 1000
        assert first.status_code == 200 and first.text.count('class="page"') == pages
        sha = client.get("/v1/exceptions/EXC-DOC", headers=headers).json()["documents"][0]["sha256"]
        images = {}
        for name, number in (("first_image_ms", 1), ("last_image_ms", pages), ("cached_image_ms", 1)):
            started = time.perf_counter()
            image = client.get(f"/ui/cases/EXC-DOC/documents/{sha}/pages/{number}.png")
            images[name] = round((time.perf_counter() - started) * 1000, 2)
            assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
        figures = timed(lambda: client.get("/ui/cases/EXC-DOC"), repeat)
        return {
            **images,
            "first_view_ms": round(first_ms, 2),
            **figures,
            "html_kb": round(len(first.content) / 1024, 1),
        }


def create_service_token(app: Any) -> dict[str, str]:
    from app.services.auth import create_token

    with app.state.services.db.session() as session:
        token = create_token(session, "svc-bot", "service", "bench-service-token")
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def bench_app(data_dir: Path, workers: int) -> Any:
    """The app under measurement, its triage backend the fixed one (injected at start-up)."""
    from app.jobs.triage import TriageRunners
    from app.main import create_app

    return create_app(
        settings(data_dir, workers), configure_logs=False, runners=TriageRunners.fixed(FixedTriage())
    )


def settings(data_dir: Path, workers: int) -> Settings:
    from app.settings import Settings

    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'repairdesk.db'}",
        workers=workers,
        job_poll_seconds=0.05,
        log_level="WARNING",
        token_cache_seconds=60,
        rate_limit_per_second=10_000,
        rate_limit_burst=10_000,
        freeze_heap=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--baseline-cases", type=int, default=100)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as name:
        tmp = Path(name)
        queue = queue_figures(args.cases, args.repeat, tmp)
        baseline = queue_figures(args.baseline_cases, args.repeat, tmp)
        page = case_page_figures(args.pages, args.repeat, tmp)
        one_page = case_page_figures(1, args.repeat, tmp)
    print(f"queue page, {args.cases} cases (baseline {args.baseline_cases} cases), median of {args.repeat}:")
    for view, figures in queue.items():
        ratio = figures["median_ms"] / max(baseline[view]["median_ms"], 1e-6)
        base = baseline[view]["median_ms"]
        print(f"  {view:<36} {figures['median_ms']:8.1f} ms  (baseline {base:6.1f} ms, x{ratio:.2f})")
    ratio = page["median_ms"] / max(one_page["median_ms"], 1e-6)
    first = page["first_view_ms"]
    print(f"case page, {args.pages}-page document: first view {first:.0f} ms (page sizes only),")
    print(
        f"  page images rendered on request: page 1 {page['first_image_ms']:.0f} ms, page {args.pages}"
        f" {page['last_image_ms']:.0f} ms, page 1 again (cached) {page['cached_image_ms']:.1f} ms"
    )
    print(
        f"  then {page['median_ms']:.1f} ms median (1-page document: {one_page['median_ms']:.1f} ms,"
        f" x{ratio:.2f}); HTML {page['html_kb']} KiB"
    )
    result = {
        "queue": queue,
        "queue_baseline": baseline,
        "case_page": page,
        "case_page_1_page": one_page,
        "args": vars(args) | {"json": str(args.json)},
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
