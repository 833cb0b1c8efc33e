"""`make run` in small: `repairdesk bootstrap`, then `repairdesk serve` on a free port shows the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.app.live import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
REPAIRDESK = ROOT / ".venv" / "bin" / "repairdesk"


def start_serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_healthy(server: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise AssertionError(server.stderr.read() if server.stderr else "server exited")
        assert time.monotonic() < deadline, "serve did not come up"
        time.sleep(0.2)


def test_bootstrap_then_serve_shows_the_demo_queue(tmp_path: Path) -> None:
    env = os.environ | {
        "REPAIRDESK_DATA_DIR": str(tmp_path / "var"),
        "REPAIRDESK_WORKERS": "0",
    }  # agent: test_agent_integration
    env.pop("DATABASE_URL", None)
    command = [str(REPAIRDESK)] if REPAIRDESK.exists() else [sys.executable, "-m", "app.cli.main"]
    boot = subprocess.run(
        [*command, "bootstrap", "--no-index"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert boot.returncode == 0, boot.stderr
    assert "demo-approver-token" in boot.stdout

    port = free_port()
    server = start_serve(command, env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(server, base)
        login = httpx.get(f"{base}/ui", follow_redirects=True, timeout=10)
        assert login.status_code == 200 and "Sign in" in login.text
        browser = httpx.Client(base_url=base, timeout=30)
        form = browser.get("/ui/login").text
        csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post("/ui/login", data={"token": "demo-analyst-token", "csrf_token": csrf})
        queue = browser.get("/ui")
        assert queue.status_code == 200
        assert queue.text.count("<tr data-case=") >= 10  # the demo exception queue is there
        assert "AC01-1001" in queue.text
        api = httpx.get(
            f"{base}/v1/exceptions?limit=5", headers={"Authorization": "Bearer demo-service-token"}
        )
        assert api.status_code == 200 and len(api.json()["items"]) == 5
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def test_an_idle_serve_stops_within_two_seconds_of_sigterm(tmp_path: Path) -> None:
    """Issue 16: its worker threads, still loading the agent, used to hold an idle server for 12 s."""
    env = os.environ | {"REPAIRDESK_DATA_DIR": str(tmp_path / "var"), "REPAIRDESK_WORKERS": "2"}
    env.pop("DATABASE_URL", None)
    command = [str(REPAIRDESK)] if REPAIRDESK.exists() else [sys.executable, "-m", "app.cli.main"]
    port = free_port()
    server = start_serve(command, env, port)
    try:
        wait_healthy(server, f"http://127.0.0.1:{port}")
        server.send_signal(signal.SIGTERM)
        started = time.monotonic()
        server.wait(10)
        assert time.monotonic() - started < 2.0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(5)
