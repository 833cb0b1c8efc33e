"""Set-up benchmark: the first `make run` on a fresh clone, from nothing to a healthy server.

Clones this checkout's HEAD into a temporary directory (its own `.venv`, data directory and port),
runs `make run` there with the machine's package cache as it is (warm when the packages were
installed before), and polls `/readyz` until the server answers 200. Prints the seconds to each
phase seen in the log (runtime install done, bootstrap done, healthy), the size of the new `.venv`,
whether a dev extra slipped in (llama-cpp-python, aws-cdk-lib, moto, mypy, playwright must not be
there after `make run`), and the machine's load average at the start and end, because on a shared
machine the figure moves with the other users' work.

    python3 benchmarks/setup_time.py [--timeout 1800] [--keep] [--json OUT]

Target (issue 16): under 5 minutes to healthy on a warm package cache. Exit 1 when the server does
not become healthy or a dev extra was installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ("llama_cpp", "aws_cdk", "moto", "mypy", "playwright")
TARGET_SECONDS = 300.0


# Intended copy of tests/app/live.py's free_port (benchmarks/api.py has one too): this script runs on
# the system python against a fresh clone and imports nothing of the tree.
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def dir_mb(path: Path) -> float:
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file() and not item.is_symlink():
                total += item.stat().st_size
        except OSError:
            continue
    return round(total / 2**20, 1)


def clone(target: Path) -> str:
    commit = subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", "HEAD"], text=True).strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "checkout", "--quiet", commit], check=True)
    shared = ROOT.parent / "shared"
    if shared.exists() and not (target.parent / "shared").exists():
        (target.parent / "shared").symlink_to(shared)  # the fixtures sit beside a checkout
    return commit


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="setup-bench-"))
    repo = tmp / "repo"
    commit = clone(repo)
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("REPAIRDESK_", "VIRTUAL_ENV", "PYTHONPATH"))
    }
    env |= {"REPAIRDESK_DATA_DIR": str(tmp / "data"), "DATABASE_URL": ""}
    log_path = tmp / "make-run.log"
    load_start = os.getloadavg()
    started = time.monotonic()
    phases: dict[str, float] = {}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "run", f"PORT={port}", f"PYTHON={args.python}"],
            cwd=repo,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while time.monotonic() - started < args.timeout:
                elapsed = round(time.monotonic() - started, 1)
                if "runtime_installed" not in phases and (repo / ".venv" / ".run-stamp").exists():
                    phases["runtime_installed"] = elapsed
                if "bootstrapped" not in phases and b"repairdesk serve" in log_path.read_bytes():
                    phases["bootstrapped"] = elapsed
                if healthy(port):
                    phases["healthy"] = elapsed
                    break
                if process.poll() is not None:
                    break
                time.sleep(1)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    site = next((repo / ".venv" / "lib").glob("python*/site-packages"), None)
    # import packages, as directories: "mypy*" would also match the runtime's mypy_extensions.py
    present = sorted(name for name in DEV_ONLY if site is not None and (site / name).is_dir())
    result = {
        "commit": commit,
        "seconds": phases,
        "healthy": "healthy" in phases,
        "venv_mb": dir_mb(repo / ".venv") if (repo / ".venv").exists() else None,
        "dev_extras_installed": present,
        "load_average_start": [round(v, 2) for v in load_start],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "log_tail": log_path.read_text(errors="replace")[-2000:],
    }
    if args.keep:
        result["kept"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--python", default="python3", help="The interpreter `make run` builds the venv with."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the temporary clone (and its .venv).")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args)
    seconds = result["seconds"]
    print(f"first `make run` on a fresh clone of {result['commit'][:10]} ({result['cpus']} CPUs):")
    for phase in ("runtime_installed", "bootstrapped", "healthy"):
        shown = f"{seconds[phase]:.0f} s" if phase in seconds else "not reached"
        print(f"  {phase:<18} {shown}")
    target = "met" if seconds.get("healthy", 1e9) < TARGET_SECONDS else "MISSED"
    print(f"  target: healthy under {TARGET_SECONDS:.0f} s: {target}")
    extras = ", ".join(result["dev_extras_installed"]) or "none"
    print(f"  .venv: {result['venv_mb']} MiB; dev extras installed: {extras}")
    start, end = result["load_average_start"], result["load_average_end"]
    print(f"  load average (1/5/15 min) at start {start}, at end {end}")
    if not result["healthy"]:
        print(result["log_tail"], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["healthy"] and not result["dev_extras_installed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
