"""`make run` installs infra/setup/run.lock with --no-deps: the lock must match pyproject.toml's runtime
closure as installed, and hold none of the dev extras (`make run` must not compile llama.cpp)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "setup" / "lock_run.py"


def _module() -> ModuleType:
    return load_script(SCRIPT, "lock_run")


def _lock() -> dict[str, str]:
    lines = (ROOT / "infra" / "setup" / "run.lock").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_is_the_installed_runtime_closure() -> None:
    module = _module()
    assert (
        module.render(module.closure(ROOT / "pyproject.toml")) == (ROOT / "infra/setup/run.lock").read_text()
    ), "infra/setup/run.lock is stale: run .venv/bin/python infra/setup/lock_run.py"


def test_the_lock_keeps_every_runtime_pin_and_no_dev_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = _lock()
    for text in project["dependencies"]:
        req = Requirement(text)
        (spec,) = req.specifier
        assert lock[canonicalize_name(req.name)] == spec.version, req.name
    dev_only = {canonicalize_name(Requirement(t).name) for t in project["optional-dependencies"]["dev"]}
    assert not dev_only & set(lock), dev_only & set(lock)
