"""Whether the holder of a job is alive: a zombie (exited, never reaped) is dead.

Where PID 1 does not reap orphans (this VM, some containers), the pool processes of a killed worker
node stay zombies for good; counting them alive kept their jobs from being taken over until the
lease expired."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from app.jobs.job_claims import holder_is_dead
from app.jobs.queue import HOST, pid_alive


def _wait_for_state(pid: int, state: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rpartition(")")[2].split()[0] == state:
                return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never reached state {state}")


def test_a_running_process_is_alive_and_holds_its_job() -> None:
    assert pid_alive(os.getpid())
    assert not holder_is_dead(f"{HOST}:{os.getpid()}:celery")


def test_a_zombie_is_dead_and_its_job_can_be_taken_over() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(child.pid, signal.SIGKILL)
        _wait_for_state(child.pid, "Z")  # not waited for: it stays in the process table
        assert os.path.exists(f"/proc/{child.pid}")
        assert not pid_alive(child.pid)
        assert holder_is_dead(f"{HOST}:{child.pid}:celery")
    finally:
        child.wait(10)
    assert not pid_alive(child.pid)  # reaped: gone altogether


def test_holders_on_other_hosts_or_without_a_pid_are_not_judged_dead() -> None:
    assert not holder_is_dead(f"elsewhere-{HOST}:999999:celery")
    assert not holder_is_dead(None)
    assert not holder_is_dead(f"{HOST}:not-a-pid:celery")
