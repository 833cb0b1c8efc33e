"""No module-global triage runner: runners, models and indexes are built at start-up and passed in.

The service once had ``app.jobs.triage.set_runner``, a module global that tests swapped the agent
through. Its replacement, ``TriageRunners``, is built by each composition root (``create_app``, the
Celery worker's start-up, the CLI context) and handed down. Read with ``ast`` (nothing imported), these
tests fail when such a global comes back:

- no ``global`` statement in ``app/``; in ``agents/`` and ``tools/`` only the process-wide state listed
  in ``KNOWN_GLOBALS``, each with the reason it stays;
- no module-level name in ``app/`` that holds a runner or backend, and no ``set_runner``-like setter;
- in ``app/jobs/`` no module-level object built by a call but the few listed in ``JOBS_MODULE_OBJECTS``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.shape.imports import ROOT

# (file, name) -> why it is still process-wide state. A new entry needs a reason as good as these.
KNOWN_GLOBALS = {
    ("agents/toolbox.py", "_server_toolbox"): "LangGraph's server imports the graph by name and passes no "
    "context: there is no start-up of ours to build its toolbox in",
    ("tools/config.py", "_current"): "the ToolConfig that configure_process installs at start-up: the "
    "configuration root of tools/ and agents/",
    ("tools/documents/learned.py", "_provider"): "learned layout rules, installed by the app or worker "
    "start-up (app.services.layout_rules.install_provider) for extractors deep in tools/documents",
    ("tools/documents/sandbox.py", "_SLOTS"): "the process's sandbox concurrency limit (an OS resource)",
    ("tools/documents/sandbox.py", "_CONTEXT"): "the process's forkserver (an OS resource)",
    ("tools/payments/narrative.py", "_default"): "the narrative classifier's head and embedder, loaded "
    "on first use by a graph node (it has no start-up of its own)",
    ("tools/payments/narrative.py", "_default_failed"): "remembers that the classifier could not load",
    ("tools/procedures/corpus.py", "_current"): "the parsed procedure corpus, re-read when its files change",
    (
        "tools/procedures/policies.py",
        "_cached",
    ): "the parsed global policies, re-read when their file changes",
}
# Module-level objects that app/jobs builds by a call (besides loggers): none of them is a runner.
JOBS_MODULE_OBJECTS = {
    ("app/jobs/celery_wire.py", "worker_app"): "the Celery app: `celery -A` imports it by name",
    ("app/jobs/celery_app.py", "worker_process"): "a Celery process's start-up: tasks and signal handlers "
    "reach nothing but module names; repairdesk worker sets how it builds runners, tests build their own",
    ("app/jobs/queue.py", "_INSERT_JOB"): "a compiled SQL statement",
}
HOLDS_A_RUNNER = re.compile(r"runner|backend|override", re.IGNORECASE)
SETTER = re.compile(r"^(set|install|use)_\w*(runner|backend|agent)\w*$", re.IGNORECASE)


def _python_files(folder: str) -> list[Path]:
    return [p for p in sorted((ROOT / folder).rglob("*.py")) if "migrations" not in p.parts]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def global_statements(source: str) -> list[str]:
    """The names a module rebinds with ``global``."""
    return [
        name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Global) for name in node.names
    ]


def _module_assignments(tree: ast.Module) -> list[tuple[str, ast.expr | None]]:
    found: list[tuple[str, ast.expr | None]] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            found += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if ast.unparse(node.annotation).endswith("TypeAlias"):
                continue  # a type's name, not a value
            found.append((node.target.id, node.value))
    return found


def runner_holders(source: str) -> list[str]:
    """Module-level names that hold a runner or backend, and module-level setters of one."""
    tree = ast.parse(source)
    names = [name for name, _ in _module_assignments(tree) if HOLDS_A_RUNNER.search(name)]
    setters = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and SETTER.match(node.name)
    ]
    return names + setters


def built_objects(source: str) -> list[str]:
    """Module-level names bound to the result of a call, loggers left out."""
    found = []
    for name, value in _module_assignments(ast.parse(source)):
        if isinstance(value, ast.Call) and not ast.unparse(value.func).endswith("getLogger"):
            found.append(name)
    return found


def test_the_scanners_see_a_module_global_runner() -> None:
    swapped = (
        "_override = None\n"
        "worker_runner = build()\n"
        "def set_runner(runner):\n"
        "    global _override\n"
        "    _override = runner\n"
    )
    assert global_statements(swapped) == ["_override"]
    assert runner_holders(swapped) == ["_override", "worker_runner", "set_runner"]
    assert built_objects(swapped) == ["worker_runner"]
    assert built_objects("log = logging.getLogger('x')\n") == []
    assert runner_holders("Backend: TypeAlias = Callable[[], Runner]\n") == []


def test_app_has_no_global_statement_and_agents_tools_only_the_known_ones() -> None:
    found = {
        (_rel(path), name)
        for folder in ("app", "agents", "tools")
        for path in _python_files(folder)
        for name in global_statements(path.read_text(encoding="utf-8"))
    }
    assert {entry for entry in found if entry[0].startswith("app/")} == set()
    assert found - set(KNOWN_GLOBALS) == set()


def test_no_module_in_app_holds_or_sets_a_runner() -> None:
    found = {
        _rel(path): names
        for path in _python_files("app")
        if (names := runner_holders(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_app_jobs_builds_no_module_level_object_but_the_known_ones() -> None:
    found = {
        (_rel(path), name) for path in _python_files("app/jobs") for name in built_objects(path.read_text())
    }
    assert found == set(JOBS_MODULE_OBJECTS)
