"""Every environment variable the code reads is in docs/configuration.md, and only Settings reads them.

Names are found in the source: ``os.environ.get("X")``, ``os.environ["X"]``, ``os.getenv("X")``,
``environ.setdefault("X", ...)`` and the fields of the one pydantic-settings class, Settings (its prefix and
aliases). ``tools/`` and ``agents/`` may only *set* the documented third-party switches.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.shape.imports import ROOT

DOC = ROOT / "docs" / "configuration.md"
SCANNED = ("app", "agents", "tools", "evals", "benchmarks")
_ENV = re.compile(
    r"""(?:environ\.get|environ\.setdefault|environ\.pop|getenv|environ)\s*[\(\[]\s*["']([A-Z][A-Z0-9_]+)["']"""
)
_READ = re.compile(r"""(?:environ\.get|getenv|environ\.pop)\s*\(|environ\s*\[\s*["'][A-Z]""")


def documented() -> set[str]:
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", DOC.read_text(encoding="utf-8"), re.MULTILINE))


def source_files() -> list[Path]:
    files = [p for folder in SCANNED for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]
    return [*files, ROOT / "tests" / "conftest.py"]


def names_in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in source_files():
        for name in _ENV.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def settings_variables() -> set[str]:
    from pydantic import AliasChoices

    from app.settings import Settings

    names: set[str] = set()
    for model in (Settings,):
        prefix = model.model_config.get("env_prefix", "")
        for field_name, info in model.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                names |= {c for c in alias.choices if isinstance(c, str) and c.isupper()}
            else:
                names.add(f"{prefix}{field_name}".upper())
    return names


def test_every_variable_the_code_reads_is_documented() -> None:
    missing = {name: where for name, where in names_in_code().items() if name not in documented()}
    assert missing == {}
    assert settings_variables() - documented() == set()


def test_the_table_lists_nothing_that_is_not_read() -> None:
    assert documented() - set(names_in_code()) - settings_variables() == set()


def test_tools_and_agents_read_no_environment() -> None:
    """They get a ToolConfig from Settings; setting a third-party switch (setdefault) is allowed."""
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("tools", "agents")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _READ.search(line)
    ]
    # The one exception: the test-only fault hook must be armable in any child process a test starts
    # (workers, the graph in a subprocess), so it reads its two documented switches at the crash point.
    readers = [r for r in readers if not r.startswith("tools/faults.py:")]
    assert readers == []


def test_the_scanner_finds_reads() -> None:
    """The checks above would pass on a scanner that finds nothing: make sure it finds real reads."""
    assert _ENV.findall('x = os.environ.get("REPAIRDESK_X", "1") + os.getenv("Y_Z")') == [
        "REPAIRDESK_X",
        "Y_Z",
    ]
    assert _ENV.findall('os.environ["A_B"] = "1"; os.environ.setdefault("CC", "2")') == ["A_B", "CC"]
    assert _READ.search('v = os.environ.get("X")') and not _READ.search('os.environ.setdefault("X", "1")')
    assert {"REPAIRDESK_DATA_DIR", "DATABASE_URL", "REPAIRDESK_WORKERS"} <= settings_variables()
    assert "HF_HUB_OFFLINE" in names_in_code() or "HF_HUB_OFFLINE" in documented()


def test_the_readme_points_at_the_table() -> None:
    assert "docs/configuration.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_settings_is_the_only_settings_class() -> None:
    """Other option models (the Celery workers' WorkerOptions) are copied from Settings."""
    classes = [
        str(path.relative_to(ROOT))
        for path in source_files()
        if re.search(r"class \w+\(BaseSettings\)", path.read_text(encoding="utf-8"))
    ]
    assert classes == ["app/settings.py"]


def test_worker_options_come_from_settings() -> None:
    from app.jobs.celery_config import WorkerOptions
    from app.settings import Settings

    settings = Settings(broker="redis://127.0.0.1:6379/9", visibility_timeout=120, warm_start=False)
    options = WorkerOptions.from_settings(settings)
    assert (options.broker, options.visibility_timeout, options.warm_start) == (settings.broker, 120, False)
    for name, info in WorkerOptions.model_fields.items():  # the copy stays in step: same name, same default
        assert info.default == Settings.model_fields[name].default, name
