"""API benchmark: throughput and p99 latency of GET and POST /v1/exceptions, and time from POST to proposal.

Runs `repairdesk serve` in a subprocess on a free loopback port over a fresh SQLite data directory
(API-only for the load phases, so the numbers are the service's, not the agent's; one server
process per CPU, ``--processes``), drives it with 16 concurrent keep-alive HTTP/1.1 connections,
then starts a server with triage workers and the demo reference data and times POST -> proposal
with the real agent (playbook model).

The load generator shares the machine with the server, so it is deliberately lean: raw asyncio
streams (uvloop when installed), requests pre-encoded, responses read by Content-Length. Each
load phase reports the CPU it used (``client_cpu_ms_per_request``) next to the server processes'
(``server_cpu_ms_per_request``, from /proc), so a slow figure can be told apart from a busy machine.
``--client httpx`` drives the load with httpx instead (heavier; earlier figures were taken with it).
Two figures say where a latency tail comes from: ``max_quiet_ms`` (the longest time in which no
response came back: a pause of the whole service, such as a garbage collection or a held lock) and
the spread of the connections' mean latencies (``slot_mean_ms_min``/``_max``: connections shared
unevenly between the server processes).

    .venv/bin/python benchmarks/api.py [--requests 3000] [--posts 800] [--clients 16] [--json OUT]
    .venv/bin/python benchmarks/api.py --repo /tmp/old-checkout   # serve another checkout's code

Floors (exit 1 when missed, unless --no-check): 300 GET/s, POST p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
REPAIRDESK = [str(ROOT / ".venv" / "bin" / "repairdesk")]
GET_FLOOR_RPS = 300.0
POST_P99_CEILING_MS = 100.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU of ``root_pid`` and its live descendants (Linux /proc; 0.0 elsewhere)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


class Server:
    """`repairdesk bootstrap` + `repairdesk serve` in a fresh data directory.

    ``repo``: serve the code of another checkout (same virtual environment), for before/after runs."""

    def __init__(
        self, data_dir: Path, *, workers: int, demo: bool, processes: int = 1, repo: Path | None = None
    ) -> None:
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
        self.command, self.cwd = REPAIRDESK, None
        if repo is not None:  # its packages first on the path, ahead of the editable install
            self.command, self.cwd = [str(PYTHON), "-m", "app.cli.main"], repo
            self.env["PYTHONPATH"] = str(repo)
        self.demo = demo
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.headers: dict[str, str] = {}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args], env=self.env, cwd=self.cwd, check=True, capture_output=True, text=True
        )

    def __enter__(self) -> Server:
        self.cli("bootstrap", "--no-index", *([] if self.demo else ["--no-demo"]))
        self.token = self.cli("token", "create", "--user", "bench", "--role", "service").stdout.strip()
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.process = subprocess.Popen(
            [*self.command, "serve", "--port", str(self.port), "--processes", str(self.processes)],
            env=self.env,
            cwd=self.cwd,
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

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid) if self.process is not None else 0.0

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


class Connection:
    """One keep-alive HTTP/1.1 connection: send pre-encoded requests, read (status, body)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            headers[b"connection"] = b"close"
        if headers.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append((await self.reader.readexactly(size + 2))[:-2])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


def encode(server: Server, method: str, target: str, body: dict[str, Any] | None = None) -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        f"Authorization: Bearer {server.token}",
    ]
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


class Run(NamedTuple):
    """One load phase: per request its latency, connection slot and completion time (s from start)."""

    latencies: list[float]
    slots: list[int]
    finished: list[float]
    errors: int
    elapsed: float


async def _drive(requests: int, clients: int, send: Callable[[int, int], Awaitable[int]]) -> Run:
    latencies: list[float] = []
    slots: list[int] = []
    finished: list[float] = []
    errors = 0
    counter = iter(range(requests))

    async def worker(slot: int) -> None:
        nonlocal errors
        for n in counter:
            started = time.perf_counter()
            status = await send(slot, n)
            done = time.perf_counter()
            latencies.append(done - started)
            slots.append(slot)
            finished.append(done - begun)
            errors += status >= 400

    begun = time.perf_counter()
    await asyncio.gather(*(worker(slot) for slot in range(clients)))
    return Run(latencies, slots, finished, errors, time.perf_counter() - begun)


def stall_figures(run: Run) -> dict[str, float]:
    """Where a tail comes from: ``max_quiet_ms``, the longest time in which no response came back
    (every connection waiting at once: a pause of the whole server, such as a garbage collection or
    a held lock), and the spread of the connections' mean latencies (``slot_mean_ms_min``/``max``:
    connections shared unevenly between the server processes)."""
    ends = sorted(run.finished)
    quiet = max((b - a for a, b in itertools.pairwise(ends)), default=0.0)
    by_slot: dict[int, list[float]] = {}
    for slot, latency in zip(run.slots, run.latencies, strict=True):
        by_slot.setdefault(slot, []).append(latency)
    means = [statistics.mean(values) for values in by_slot.values()] or [0.0]
    return {
        "max_quiet_ms": round(quiet * 1000, 2),
        "slot_mean_ms_min": round(min(means) * 1000, 2),
        "slot_mean_ms_max": round(max(means) * 1000, 2),
    }


async def load_raw(server: Server, requests: int, clients: int, make: Callable[[int], bytes]) -> Run:
    connections = [Connection(server.port) for _ in range(clients)]
    payloads = [make(n) for n in range(requests)]  # encoded before the clock starts

    async def send(slot: int, n: int) -> int:
        status, _ = await connections[slot].request(payloads[n])
        return status

    try:
        return await _drive(requests, clients, send)
    finally:
        for connection in connections:
            await connection.close()


async def load_httpx(server: Server, requests: int, clients: int, make: Callable[[int], bytes]) -> Run:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=server.base, headers=server.headers, limits=limits, timeout=30
    ) as client:

        async def send(slot: int, n: int) -> int:
            head, _, data = make(n).partition(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n")[0].decode().split(" ")
            headers = {"Content-Type": "application/json"} if data else {}
            response = await client.request(method, target, content=data or None, headers=headers)
            return response.status_code

        return await _drive(requests, clients, send)


def run_loop(coroutine: Awaitable[Any]) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
    return uvloop.run(coroutine)  # type: ignore[arg-type]


def load(
    server: Server, requests: int, clients: int, make: Callable[[int], bytes], client: str
) -> dict[str, float]:
    """``requests`` calls (``make(n)`` encodes the n-th) over ``clients`` concurrent connections."""
    driver = load_raw if client == "raw" else load_httpx
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    run: Run = run_loop(driver(server, requests, clients, make))
    latencies, errors, elapsed = run.latencies, run.errors, run.elapsed
    server_cpu, client_cpu = server.cpu_seconds() - server_cpu, time.process_time() - client_cpu
    return {
        "requests": requests,
        "errors": errors,
        "rps": round(requests / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "server_cpu_ms_per_request": round(server_cpu / requests * 1000, 2),
        "client_cpu_ms_per_request": round(client_cpu / requests * 1000, 2),
        "cpu_busy_share": round((server_cpu + client_cpu) / (elapsed * (os.cpu_count() or 1)), 2),
        **stall_figures(run),
    }


def case_body(n: int, run: str) -> dict[str, Any]:
    return {
        "case_id": f"BENCH-{run}-{n}",
        "exception_code": "AC01",
        # A whole MT103: the service parses the message when it accepts the case (422 otherwise).
        "message": (
            "{1:F01BANKDEFFAXXX0000000000}{2:I103COBADEFFXXXXN}{4:\n"
            f":20:BENCH{n}\n:23B:CRED\n:32A:261122EUR{100 + n},00\n"
            ":50K:/DE44500105175407324931\nORDERING CO\n"
            ":59:/DE89370400440532013000\nACME GMBH\n:71A:SHA\n-}"
        ),
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


def check_responses(server: Server, posts: int) -> None:
    """The load phases only count statuses: check once that the service answered what it should."""
    page = httpx.get(f"{server.base}/v1/exceptions", params={"limit": 50}, headers=server.headers).json()
    if len(page["items"]) != min(50, posts) or not page["items"][0]["case_id"].startswith("BENCH-"):
        raise RuntimeError(f"unexpected queue page after the POST phase: {str(page)[:300]}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="GET requests")
    parser.add_argument("--posts", type=int, default=800, help="POST requests")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--triage-cases", type=int, default=8, help="0 skips the POST -> proposal phase")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="server processes")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw", help="load generator")
    parser.add_argument("--repo", type=Path, help="serve this checkout's code (before/after comparisons)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-check", action="store_true", help="report only; do not fail on the floors")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "clients": args.clients,
        "cpus": os.cpu_count(),
        "processes": args.processes,
        "load_generator": args.client,
    }
    with tempfile.TemporaryDirectory(prefix="rd-bench-") as tmp:
        api_dir = Path(tmp) / "api"
        with Server(api_dir, workers=0, demo=False, processes=args.processes, repo=args.repo) as server:
            run = str(int(time.time()))

            def post(n: int) -> bytes:
                return encode(server, "POST", "/v1/exceptions", case_body(n, run))

            def get(n: int) -> bytes:
                return encode(server, "GET", "/v1/exceptions?limit=50")

            load(server, 50, args.clients, get, args.client)  # warm-up
            results["post"] = load(server, args.posts, args.clients, post, args.client)
            results["get"] = load(server, args.requests, args.clients, get, args.client)
            check_responses(server, args.posts)
        if args.triage_cases > 0:
            with Server(Path(tmp) / "agent", workers=2, demo=False, repo=args.repo) as server:
                subprocess.run(
                    [*server.command, "refdata", "load", str(ROOT / "corpora" / "demo" / "refdata.json")],
                    env=server.env,
                    cwd=server.cwd,
                    check=False,
                    capture_output=True,
                )
                results["post_to_proposal"] = time_to_proposal(server, demo_cases(args.triage_cases))

    ok = results["get"]["rps"] >= GET_FLOOR_RPS and results["post"]["p99_ms"] < POST_P99_CEILING_MS
    ok = ok and results["get"]["errors"] == 0 and results["post"]["errors"] == 0
    results["floors"] = {"get_rps_min": GET_FLOOR_RPS, "post_p99_ms_max": POST_P99_CEILING_MS, "met": ok}
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if ok or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
