"""Property-based tests of the HTTP API from its own OpenAPI document (Schemathesis), on a live server.

For every operation, a fixed seed and a fixed number of generated requests (valid and invalid, as a
service client with a bearer token): no 500, every status code and response body as documented, the
documented content type, and no answer slower than ``RESPONSE_BOUND_S``.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.jobs.triage import TriageRunners
from app.main import create_app
from app.settings import Settings
from tests.app.conftest import StubTriage, add_tokens
from tests.app.live import serve

pytestmark = pytest.mark.slow

SEED = 18
EXAMPLES = 30  # per operation
RESPONSE_BOUND_S = 10.0  # a shared two-core machine; the floor for any answer is 30 s
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("schemathesis")
    shutil.copyfile(sqlite_template, folder / "repairdesk.db")
    settings_ = Settings(
        data_dir=folder / "data",
        database_url=f"sqlite:///{folder / 'repairdesk.db'}",
        workers=1,
        job_poll_seconds=0.05,
        migrate_on_startup=False,
        freeze_heap=False,
        log_level="WARNING",
        rate_limit_per_second=10_000,
        rate_limit_burst=10_000,
    )
    app = create_app(settings_, configure_logs=False, runners=TriageRunners.fixed(StubTriage()))
    with serve(app) as base:
        headers = add_tokens(app)["service"]
        # Warm-up, not measured: the procedure index and embedding model load on the first search,
        # the document sandbox's fork server starts on the first upload.
        with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
            assert client.get("/v1/search", params={"q": "warm up"}).status_code == 200
            warm = client.post("/v1/documents", files={"file": ("warm.txt", b":20:WARM\n")})
            assert warm.status_code == 200, warm.text
        yield base, headers


def _run_operation(operation: Any, mode: GenerationMode, base: str, headers: dict[str, str]) -> list[str]:
    """Send ``EXAMPLES`` generated requests (seeded) to one operation; returns what went wrong."""
    problems: list[str] = []

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            response = case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)
        except (
            Exception
        ) as exc:  # schemathesis's failure group (the checks that failed), or a transport error
            lines = [line for line in str(exc).splitlines() if line.strip()][:6]
            problems.append(f"{operation.label} [{mode}] {type(exc).__name__}: {' | '.join(lines)}")
            return
        if float(response.elapsed) >= RESPONSE_BOUND_S:
            problems.append(f"{operation.label} [{mode}]: answered in {float(response.elapsed):.1f} s")

    with contextlib.suppress(Unsatisfiable):  # nothing to generate in this mode (no parameters to break)
        run()
    return problems


def test_api_answers_as_documented(served: tuple[str, dict[str, str]]) -> None:
    base, headers = served
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, [op.label for op in operations]
    problems: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            problems += _run_operation(operation, mode, base, headers)
    assert not problems, "\n".join(sorted(set(problems))[:40])
