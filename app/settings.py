"""Settings (pydantic-settings): the one place that reads RepairDesk's environment variables.

Every variable is listed in docs/configuration.md (a test fails when code reads one that is not).
``tools/`` and ``agents/`` never import ``app/``: they get :meth:`Settings.tool_config`, a plain
frozen dataclass that :func:`configure_process` installs when a process starts (the CLI, the service,
a worker). ``get_settings()`` is the process-wide singleton; tests build their own ``Settings`` and
pass it to :func:`app.main.create_app`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tools import config

_DEFAULTS = config.ToolConfig()


def _default_data_dir() -> Path:
    path = _DEFAULTS.data_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


class Settings(BaseSettings):
    """Everything the service reads from the environment. Unknown variables are ignored."""

    model_config = SettingsConfigDict(env_prefix="REPAIRDESK_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=lambda: _default_data_dir())
    corpora_dir: Path = _DEFAULTS.corpora_dir
    shared_data: Path = _DEFAULTS.shared_data_dir  # read-only outside fixtures
    # The RDS secret's JSON (AWS Secrets Manager); used when DATABASE_URL is not set
    database_secret: str | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("DATABASE_SECRET", "database_secret")
    )
    # A fixed "today" (ISO date) for evaluations and demos; unset: the system clock
    today: date | None = None
    # Proposals above this amount (payment's currency) need four-eyes approval; unset: the
    # four-eyes policy's default_above in corpora/policies.yaml
    four_eyes_above: Decimal | None = Field(default=None, ge=0)
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url")
    )
    # The model registry's tracking store; unset: SQLite under the data directory
    mlflow_tracking_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "mlflow_tracking_uri")
    )
    openai_api_key: str | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key")
    )
    llama_threads: int | None = Field(default=None, ge=1)  # None: half the cores
    doc_max_pages: int = Field(default=50, ge=1)
    doc_max_page_points: int = Field(default=4000, ge=1)
    doc_max_pixels: int = Field(default=40_000_000, ge=1)
    doc_max_render_pixels: int = Field(default=40_000_000, ge=1)
    doc_max_page_content_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    doc_max_content_bytes: int = Field(default=32 * 1024 * 1024, ge=1)
    doc_max_page_chars: int = Field(default=60_000, ge=1)
    doc_max_chars: int = Field(default=500_000, ge=1)
    doc_max_words: int = Field(default=100_000, ge=1)
    doc_timeout_s: int = Field(default=25, ge=1)
    doc_memory_mb: int = Field(default=1024, ge=64)
    doc_workers: int = Field(default=2, ge=1)
    ocr_timeout_s: int = Field(default=20, ge=1)
    ocr_languages: str = "eng+deu+fra+nld+spa"
    document_kms_key_id: str | None = None  # SSE-KMS key for the S3 document store
    eval_datasets: Path | None = None  # None: evals/datasets in the source tree
    # None: the SQLite file in data_dir (filled in by the validator below)
    database_url: str = Field(default="", validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    model: str = "playbook"
    broker: str | None = None
    # A running server `repairdesk triage` asks (POST /v1/triage) instead of loading the agent itself,
    # with a token of the service or analyst role.
    api_url: str | None = None
    api_token: str | None = Field(default=None, repr=False)
    # Distributed workers (app.jobs.celery_config.WorkerOptions is built from these).
    # Longer than the slowest task (OCR of a long scan plus an LLM triage stays under 10 minutes).
    visibility_timeout: float = Field(default=900.0, gt=0)
    # How often a worker looks for messages whose holder vanished (Redis); a fraction of the timeout.
    restore_interval: float = Field(default=10.0, gt=0)
    # A job still queued this long while the triage queue is empty lost its message (a worker killed
    # between taking it off the queue and recording it as unacknowledged): publish it again (0: never).
    republish_after: float = Field(default=120.0, ge=0)
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    retry_backoff_max_seconds: float = Field(default=300.0, ge=0)
    dead_letter_queue_url: str | None = None  # SQS only: where exhausted tasks go
    sqs_region: str | None = None
    warm_start: bool = True  # load the agent when a worker process starts, not on its first task
    # How long a new prefork process may take to come up (warm start takes seconds to a minute on a
    # small or busy machine; Celery's default of 4 s kills such a process and forks another, forever).
    process_start_timeout: float = Field(default=300.0, gt=0)
    # Field declarations, one per environment variable: alike in shape by design.
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
    # Straight-through eligibility (auto-apply and bulk approve) is the fitted STP policy's
    # (app.services.stp.eligibility); there is no global confidence threshold.
    stp_max_amount: float = Field(default=10_000.0, ge=0)
    # Auto-apply (app.services.stp): opt-in. When on, a proposal is applied without a human decision
    # only if the active STP policy makes its code/action eligible at its confidence, the guard passed,
    # the amount is under stp_max_amount (or its currency's entry in stp_max_amounts, JSON such as
    # {"EUR": 5000}) and the admin kill switch is off; stp_qa_share of those go to human QA.
    stp_enabled: bool = False
    stp_max_amounts: dict[str, float] = Field(default_factory=dict)
    stp_qa_share: float = Field(default=0.1, ge=0, le=1)
    # Fitting a policy (`repairdesk stp fit`): the wrong-repair rate whose 95% upper bound a threshold
    # must keep, and the fewest held-out decisions a code/action needs to be eligible at all.
    stp_max_wrong_rate: float = Field(default=0.01, gt=0, lt=1)
    stp_min_count: int = Field(default=300, ge=1)
    migrate_on_startup: bool = True
    # Drift monitoring (app.services.monitoring): the current window, the reference it is compared
    # with (the first N days of data, or a stored snapshot: a `monitor report`'s figures.json), the
    # fewest cases a PSI is computed on, and how often /metrics recomputes the figures.
    monitor_window_days: float = Field(default=7.0, gt=0)
    monitor_reference_days: float = Field(default=14.0, gt=0)
    monitor_reference: Path | None = None
    monitor_min_cases: int = Field(default=50, ge=1)
    monitor_refresh_seconds: float = Field(default=60.0, ge=0)
    # Audit trail (app.services.audit_keys): the HMAC key, from the environment or a file kept apart
    # from the data; without either, a generated development key in <data_dir>/audit.key
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None
    # where signed chain heads are appended: a file (default <data_dir>/audit-anchors.jsonl) or
    # s3://bucket/prefix (an Object Lock bucket, infra/aws); how often the service anchors
    audit_anchor: str | None = None
    audit_anchor_seconds: float = Field(default=60.0, gt=0)
    # Test-only fault injection (app.jobs.crashpoints): REPAIRDESK_CRASH_AT is honoured only when set
    faults_enabled: bool = False

    @field_validator("stp_max_amounts")
    @classmethod
    def _currencies(cls, value: dict[str, float]) -> dict[str, float]:
        for code, limit in value.items():
            if len(code) != 3 or not code.isalpha() or limit < 0:
                raise ValueError(
                    f"stp_max_amounts: {code!r}: {limit!r} is not an ISO currency and a limit >= 0"
                )
        return {k.upper(): float(v) for k, v in value.items()}

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
            secret_url = config.url_from_secret(self.database_secret)
            self.database_url = secret_url or f"sqlite:///{self.data_dir / 'repairdesk.db'}"
        return self

    @property
    def document_store_location(self) -> str:
        return self.document_store or str(self.data_dir / "documents")

    def tool_config(self) -> config.ToolConfig:
        """What ``tools/`` and ``agents/`` run with (see :mod:`tools.config`)."""
        from tools.clock import clock_for

        explicit = self.database_url
        if explicit == f"sqlite:///{self.data_dir / 'repairdesk.db'}":
            explicit = ""  # the default: tools resolve it from the data directory the same way
        return config.ToolConfig(
            data_dir=self.data_dir,
            corpora_dir=self.corpora_dir,
            shared_data_dir=self.shared_data,
            explicit_database_url=explicit,
            model=self.model,
            four_eyes_above=self.four_eyes_above,
            openai_base_url=self.openai_base_url or None,
            mlflow_tracking_uri=self.mlflow_tracking_uri or None,
            openai_api_key=self.openai_api_key or None,
            llama_threads=self.llama_threads,
            documents=config.DocumentLimits(
                max_pages=self.doc_max_pages,
                max_page_side_pt=self.doc_max_page_points,
                max_image_pixels=self.doc_max_pixels,
                max_render_pixels=self.doc_max_render_pixels,
                max_page_content_bytes=self.doc_max_page_content_bytes,
                max_content_bytes=self.doc_max_content_bytes,
                max_page_chars=self.doc_max_page_chars,
                max_document_chars=self.doc_max_chars,
                max_words=self.doc_max_words,
                doc_timeout_s=self.doc_timeout_s,
                doc_memory_mb=self.doc_memory_mb,
                workers=self.doc_workers,
                ocr_timeout_s=self.ocr_timeout_s,
                ocr_languages=self.ocr_languages,
            ),
            clock=clock_for(self.today),
        )

    @property
    def audit_anchor_location(self) -> str:
        return self.audit_anchor or str(self.data_dir / "audit-anchors.jsonl")


def configure_process(settings: Settings) -> config.ToolConfig:
    """Start-up: install ``settings`` for ``tools/`` and ``agents/`` and keep model hubs offline."""
    config.offline()
    tool_config = settings.tool_config()
    config.configure(tool_config)
    return tool_config


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The singleton for the running process (environment read once)."""
    return Settings()
