"""Configuration from the environment, including the RDS secret the AWS stack injects."""

from __future__ import annotations

import json

import pytest

from app.settings import Settings
from tools.config import database_url, url_from_secret


def test_url_from_rds_secret_quotes_credentials() -> None:
    secret = json.dumps(
        {"username": "rd", "password": "p@ss/word", "host": "db.internal", "port": 5432, "dbname": "rd"}
    )
    assert url_from_secret(secret) == "postgresql://rd:p%40ss%2Fword@db.internal:5432/rd"
    assert url_from_secret("not json") is None
    assert url_from_secret(json.dumps({"username": "x"})) is None


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("REPAIRDESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_SECRET", raising=False)
    assert database_url() == f"sqlite:///{tmp_path / 'repairdesk.db'}"
    monkeypatch.setenv("DATABASE_SECRET", json.dumps({"username": "u", "password": "p", "host": "h"}))
    assert database_url() == "postgresql://u:p@h:5432/postgres"
    assert Settings().database_url == "postgresql://u:p@h:5432/postgres"
    monkeypatch.setenv("DATABASE_URL", "postgresql://explicit@h/db")
    assert database_url() == "postgresql://explicit@h/db"
