"""Configuration: the environment is read by ``Settings`` only and reaches tools/agents as ToolConfig."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.settings import Settings, configure_process
from tools import config
from tools.clock import FixedClock, SystemClock
from tools.config import database_url, url_from_secret


@pytest.fixture(autouse=True)
def _restore() -> object:
    previous = config.current()
    yield
    config.configure(previous)


def test_url_from_rds_secret_quotes_credentials() -> None:
    secret = json.dumps(
        {"username": "rd", "password": "p@ss/word", "host": "db.internal", "port": 5432, "dbname": "rd"}
    )
    assert url_from_secret(secret) == "postgresql://rd:p%40ss%2Fword@db.internal:5432/rd"
    assert url_from_secret("not json") is None
    assert url_from_secret(json.dumps({"username": "x"})) is None


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_SECRET", raising=False)
    configure_process(Settings())
    assert database_url() == f"sqlite:///{tmp_path / 'repairdesk.db'}"
    monkeypatch.setenv("DATABASE_SECRET", json.dumps({"username": "u", "password": "p", "host": "h"}))
    assert Settings().database_url == "postgresql://u:p@h:5432/postgres"
    configure_process(Settings())
    assert database_url() == "postgresql://u:p@h:5432/postgres"
    monkeypatch.setenv("DATABASE_URL", "postgresql://explicit@h/db")
    configure_process(Settings())
    assert database_url() == "postgresql://explicit@h/db"


def test_settings_hand_every_tool_setting_over(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REPAIRDESK_CORPORA_DIR", str(tmp_path / "corpora"))
    monkeypatch.setenv("REPAIRDESK_TODAY", "2026-11-20")
    monkeypatch.setenv("REPAIRDESK_FOUR_EYES_ABOVE", "250000")
    monkeypatch.setenv("REPAIRDESK_DOC_MAX_PAGES", "7")
    monkeypatch.setenv("REPAIRDESK_MODEL", "openai:gpt-x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    installed = configure_process(Settings())
    assert config.current() is installed
    assert installed.data_dir == tmp_path / "data" and config.corpora_dir() == tmp_path / "corpora"
    assert installed.clock == FixedClock(date(2026, 11, 20))
    assert installed.four_eyes_above == Decimal("250000")
    assert installed.documents.max_pages == 7
    assert (installed.model, installed.openai_base_url) == ("openai:gpt-x", "http://127.0.0.1:9/v1")


def test_tools_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable set after start-up changes nothing: the configuration was handed over once."""
    config.configure(config.ToolConfig())
    monkeypatch.setenv("REPAIRDESK_TODAY", "2001-01-01")
    monkeypatch.setenv("REPAIRDESK_FOUR_EYES_ABOVE", "1")
    from agents.guard import default_four_eyes_threshold
    from tools.payments.recall import today

    assert isinstance(config.current().clock, SystemClock) and today() == date.today()
    assert default_four_eyes_threshold() == Decimal("100000")


def test_override_is_scoped() -> None:
    before = config.current()
    with config.override(clock=FixedClock(date(2026, 1, 2))) as inside:
        assert config.current() is inside and inside.clock.today() == date(2026, 1, 2)
    assert config.current() is before
