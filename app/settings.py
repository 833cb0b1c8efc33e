"""Service settings (pydantic-settings), read from the contract's environment variables.

Defaults come from :mod:`tools.config` so the CLI, the agent and the service agree on where data
lives. ``get_settings()`` is the process-wide singleton; tests build their own ``Settings`` and pass
it to :func:`app.main.create_app`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools import config


class Settings(BaseSettings):
    """Everything the service reads from the environment. Unknown variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="REPAIRDESK_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=config.data_dir)
    # None: the SQLite file in data_dir (filled in by the validator below)
    database_url: str = Field(default="", validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    model: str = "playbook"
    broker: str | None = None
    document_store: str | None = None  # None: <data_dir>/documents; "s3://..." later
    workers: int = Field(default=2, ge=0, le=64)  # in-process triage threads; 0 = API only
    job_lease_seconds: float = Field(default=600.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1)
    job_poll_seconds: float = Field(default=0.5, gt=0)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    rate_limit_per_second: float = Field(default=200.0, gt=0)
    rate_limit_burst: int = Field(default=400, ge=1)
    # API processes cache token look-ups this long: a revoked token is refused within it (0: no cache)
    token_cache_seconds: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    log_json: bool = True
    # gc.freeze() after start-up (app.main): right for a server process, which builds one app; off in
    # tests that build many apps in one process, where frozen objects would never be collected
    freeze_heap: bool = True
    cookie_secure: bool = False
    # The desk (app.services.desk): the day's cut-off time (UTC, HH:MM) per currency, for the queue's
    # "time to cut-off"; JSON in REPAIRDESK_CUTOFFS, e.g. {"EUR": "16:00", "USD": "21:00"}.
    cutoffs: dict[str, str] = Field(
        default_factory=lambda: {"EUR": "16:00", "GBP": "15:30", "USD": "21:00", "CHF": "14:00"}
    )
    cutoff_default: str = "16:00"
    # Straight-through eligibility for bulk approve: the one rule is app.services.desk.stp_check.
    stp_min_confidence: float = Field(default=0.9, ge=0, le=1)
    stp_max_amount: float = Field(default=10_000.0, ge=0)
    migrate_on_startup: bool = True

    @field_validator("cutoffs", "cutoff_default")
    @classmethod
    def _hhmm(cls, value: dict[str, str] | str) -> dict[str, str] | str:
        from datetime import time

        for text in value.values() if isinstance(value, dict) else [value]:
            time.fromisoformat(text)  # ValueError names the text: "Invalid isoformat string: '25:00'"
        return {k.upper(): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            from tools.config import url_from_secret

            secret_url = url_from_secret(os.environ.get("DATABASE_SECRET"))
            self.database_url = secret_url or f"sqlite:///{self.data_dir / 'repairdesk.db'}"
        return self

    @property
    def document_store_location(self) -> str:
        return self.document_store or str(self.data_dir / "documents")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The singleton for the running process (environment read once)."""
    return Settings()
