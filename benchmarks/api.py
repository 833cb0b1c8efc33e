"""API benchmark: throughput and p99 latency of GET and POST /v1/exceptions, and time from POST to proposal.

Runs `repairdesk serve` in a subprocess on a free loopback port over a fresh SQLite data directory
(API-only for the load phases, so the numbers are the service's, not the agent's; one server
process per CPU, ``--processes``), drives it with
16 concurrent clients (asyncio + httpx), then starts a server with triage workers and the demo
reference data and times POST -> proposal with the real agent (playbook model).

    .venv/bin/python benchmarks/api.py [--requests 3000] [--posts 800] [--clients 16] [--json OUT]

Floors (exit 1 when missed, unless --no-check): 300 GET/s, POST p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
REPAIRDESK = [str(ROOT / ".venv" / "bin" / "repairdesk")]
GET_FLOOR_RPS = 300.0
POST_P99_CEILING_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """`repairdesk bootstrap` + `repairdesk serve` in a fresh data directory."""

    def __init__(self, data_dir: Path, *, workers: int, demo: bool, processes: int = 1) -> None:
        self.processes = processes
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = os.environ | {
            "REPAIRDESK_DATA_DIR": str(data_dir),
            "REPAIRDESK_WORKERS": str(workers),
            "REPAIRDESK_RATE_LIMIT_PER_SECOND": "100000",
            "REPAIRDESK_RATE_LIMIT_BURST": "100000",
            "REPAIRDESK_LOG_LEVEL": "WARNING",
            "REPAIRDESK_JOB_POLL_SECONDS": "0.05",
            "HF_HUB_OFFLINE": "1",
        }
        self.env.pop("DATABASE_URL", None)
        self.demo = demo
        self.process: subprocess.Popen[bytes] | None = None
        self.headers: dict[str, str] = {}

    def __enter__(self) -> Server:
        args = ["bootstrap", "--no-index"] + ([] if self.demo else ["--no-demo"])
        subprocess.run(REPAIRDESK + args, env=self.env, check=True, capture_output=True)
        created = subprocess.run(
            [*REPAIRDESK, "token", "create", "--user", "bench", "--role", "service"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
        self.process = subprocess.Popen(
            [*REPAIRDESK, "serve", "--port", str(self.port), "--processes", str(self.processes)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("repairdesk serve did not start")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(server: Server, requests: int, clients: int, make: Any) -> dict[str, float]:
    """``requests`` calls of ``make(client, n)`` spread over ``clients`` concurrent workers."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=server.base, headers=server.headers, limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            nonlocal errors
            for n in counter:
                started = time.perf_counter()
                response = await make(client, n)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests": requests,
        "errors": errors,
        "rps": round(requests / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


def case_body(n: int, run: str) -> dict[str, Any]:
    return {
        "case_id": f"BENCH-{run}-{n}",
        "exception_code": "AC01",
        "message": f":20:BENCH{n}\n:32A:261122EUR{100 + n},00\n:59:/DE89370400440532013000\nACME GMBH\n",
        "customer_id": "C-1001",
    }


def time_to_proposal(server: Server, cases: list[dict[str, Any]]) -> dict[str, float]:
    seconds = []
    with httpx.Client(base_url=server.base, headers=server.headers, timeout=60) as client:
        for case in cases:
            started = time.perf_counter()
            case_id = client.post("/v1/exceptions", json=case).json()["case_id"]
            while client.get(f"/v1/exceptions/{case_id}").json()["status"] in {"queued", "triaging"}:
                time.sleep(0.02)
            seconds.append(time.perf_counter() - started)
    warm = seconds[1:] or seconds  # the first case loads the agent and the procedure index
    return {
        "cases": len(seconds),
        "first_s": round(seconds[0], 2),
        "median_s": round(statistics.median(warm), 3),
        "max_s": round(max(warm), 3),
    }


def demo_cases(limit: int) -> list[dict[str, Any]]:
    path = ROOT / "evals" / "datasets" / "agent_cases.jsonl"
    rows = [json.loads(line)["case"] for line in path.read_text().splitlines() if line.strip()]
    return [dict(row, case_id=f"{row['case_id']}-B{n}") for n, row in enumerate(rows[:limit])]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="GET requests")
    parser.add_argument("--posts", type=int, default=800, help="POST requests")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--triage-cases", type=int, default=8)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="server processes")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-check", action="store_true", help="report only; do not fail on the floors")
    args = parser.parse_args()

    results: dict[str, Any] = {"clients": args.clients, "cpus": os.cpu_count(), "processes": args.processes}
    with tempfile.TemporaryDirectory(prefix="rd-bench-") as tmp:
        with Server(Path(tmp) / "api", workers=0, demo=False, processes=args.processes) as server:
            run = str(int(time.time()))

            async def post(client: httpx.AsyncClient, n: int) -> httpx.Response:
                return await client.post("/v1/exceptions", json=case_body(n, run))

            async def get(client: httpx.AsyncClient, n: int) -> httpx.Response:
                return await client.get("/v1/exceptions", params={"limit": 50})

            asyncio.run(load(server, 50, args.clients, get))  # warm-up
            results["post"] = asyncio.run(load(server, args.posts, args.clients, post))
            results["get"] = asyncio.run(load(server, args.requests, args.clients, get))
        with Server(Path(tmp) / "agent", workers=2, demo=False) as server:
            subprocess.run(
                [*REPAIRDESK, "refdata", "load", str(ROOT / "corpora" / "demo" / "refdata.json")],
                env=server.env,
                check=False,
                capture_output=True,
            )
            results["post_to_proposal"] = time_to_proposal(server, demo_cases(args.triage_cases))

    ok = results["get"]["rps"] >= GET_FLOOR_RPS and results["post"]["p99_ms"] < POST_P99_CEILING_MS
    results["floors"] = {"get_rps_min": GET_FLOOR_RPS, "post_p99_ms_max": POST_P99_CEILING_MS, "met": ok}
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if ok or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
