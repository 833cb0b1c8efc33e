"""The container files are consistent: non-root image with tesseract, compose with api/worker/db,
every variable compose needs present in .env.example. (Building the image is not part of make test.)"""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT

INFRA = ROOT / "infra"


def test_dockerfile_runs_as_non_root_with_tesseract() -> None:
    text = (INFRA / "Dockerfile").read_text()
    assert "tesseract-ocr" in text
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert users and not users[-1].startswith(("root", "0"))
    assert re.search(r'^CMD \["repairdesk", "serve"', text, flags=re.M)
    for copied in re.findall(r"^COPY (\S+) ", text, flags=re.M):
        assert (ROOT / copied).exists(), copied


def test_compose_has_api_worker_and_postgres_and_env_example_covers_it() -> None:
    compose = yaml.safe_load((INFRA / "compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"api", "worker", "db"}
    assert services["db"]["image"].startswith("postgres:")
    assert "--workers" in services["api"]["command"] and "worker" in services["worker"]["command"]
    needed = set(re.findall(r"\$\{(\w+)", (INFRA / "compose.yml").read_text()))
    example = (INFRA / ".env.example").read_text()
    defined = set(re.findall(r"^#?\s*(\w+)=", example, flags=re.M))
    assert needed <= defined, needed - defined
