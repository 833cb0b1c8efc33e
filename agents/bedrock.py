"""Amazon Bedrock for the ``bedrock:<model-id>`` spec: timeouts, throttling retries, a circuit breaker,
and token and cost accounting per case.

Contract: ``bedrock_chat_model(model_id)`` returns a LangChain chat model
(:class:`GuardedChatBedrock`, a ``ChatBedrockConverse``) whose every call

- uses a boto3 ``bedrock-runtime`` client with connect/read timeouts and no hidden botocore retries;
- retries ``ThrottlingException`` and transient provider errors (5xx, model not ready, timeouts)
  with exponential backoff and jitter, up to ``max_attempts`` calls;
- goes through a per-model :class:`CircuitBreaker`: after ``failure_threshold`` failed calls in a row
  the circuit opens and calls fail at once with :class:`BedrockUnavailableError` (no network) for
  ``reset_seconds``, then one trial call decides whether it closes again. The agent's LLM planner
  treats that error like any provider failure: it falls back to the playbook and records the
  fallback on the proposal (``proposal["fallback"]``);
- records input/output tokens and their cost (:data:`PRICES`, USD per 1,000 tokens) of each
  *successful* call (throttled and failed attempts are not billed) in the model's own :class:`UsageLedger`
  under the case being triaged: the graph's ``thread_id`` (the case id), or the id set with
  :func:`case_scope`. Each call also logs one ``bedrock_usage`` line. The worker that stores the case's
  proposal takes the case's totals (:meth:`UsageLedger.take`, through
  :meth:`agents.runner.TriageRunner.take_usage`) and persists them with it (``proposals.model_usage``).

``load_chat_model("bedrock:<id>")`` in :mod:`agents.models` should return
``bedrock_chat_model(<id>)``. Errors that are the request's fault (``ValidationException``) are
raised unchanged and do not count against the circuit.
"""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from langchain_aws import ChatBedrockConverse
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import ConfigDict, Field

from tools.errors import RepairDeskError

log = logging.getLogger("repairdesk.agents.bedrock")

# USD per 1,000 tokens (input, output), on-demand, us-east-1 list prices. Unknown models cost 0 and
# are logged once; keep this table in step with the models the infrastructure allows.
PRICES: dict[str, tuple[Decimal, Decimal]] = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": (Decimal("0.0008"), Decimal("0.004")),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": (Decimal("0.003"), Decimal("0.015")),
    "anthropic.claude-3-haiku-20240307-v1:0": (Decimal("0.00025"), Decimal("0.00125")),
    "amazon.nova-micro-v1:0": (Decimal("0.000035"), Decimal("0.00014")),
    "amazon.nova-lite-v1:0": (Decimal("0.00006"), Decimal("0.00024")),
    "amazon.nova-pro-v1:0": (Decimal("0.0008"), Decimal("0.0032")),
    "meta.llama3-1-8b-instruct-v1:0": (Decimal("0.00022"), Decimal("0.00022")),
}
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelNotReadyException",
        "ModelTimeoutException",
    }
)
CALLER_FAULT_CODES = frozenset({"ValidationException"})
UNATTRIBUTED = "(no case)"

_current_case: contextvars.ContextVar[str | None] = contextvars.ContextVar("bedrock_case", default=None)


class BedrockUnavailableError(RepairDeskError):
    """Bedrock is not answering (the circuit is open); the planner falls back to the playbook."""

    code = "model_unavailable"
    status = 503


def price_of(model_id: str) -> tuple[Decimal, Decimal]:
    """USD per 1,000 input and output tokens; cross-region profile ids (``eu.``/``us.``) included."""
    base = (
        model_id.split(".", 1)[1] if model_id.split(".", 1)[0] in {"us", "eu", "apac", "global"} else model_id
    )
    return PRICES.get(base, (Decimal(0), Decimal(0)))


@dataclass
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = field(default_factory=Decimal)

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": str(self.cost_usd),  # a decimal string: sums of prices stay exact
        }


def _total(usages: Iterable[Usage]) -> Usage:
    total = Usage()
    for usage in usages:
        total.add(usage)
    return total


def usage_record(by_model: dict[str, Usage]) -> dict[str, Any]:
    """The JSON stored with a proposal: the case's totals plus ``models`` (the same figures per model id)."""
    models = {model: usage.as_dict() for model, usage in sorted(by_model.items())}
    return {**_total(by_model.values()).as_dict(), "models": models}


class UsageLedger:
    """Token and cost totals per case and model (thread-safe, in this process). Only successful calls
    are recorded: a throttled or failed attempt is not billed by Bedrock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cases: dict[str, dict[str, Usage]] = {}

    def record(self, case_id: str, model_id: str, input_tokens: int, output_tokens: int) -> Decimal:
        price_in, price_out = price_of(model_id)
        cost = (price_in * input_tokens + price_out * output_tokens) / 1000
        with self._lock:
            usage = self._cases.setdefault(case_id, {}).setdefault(model_id, Usage())
            usage.add(Usage(1, input_tokens, output_tokens, cost))
        return cost

    def by_model(self, case_id: str) -> dict[str, Usage]:
        with self._lock:
            found = self._cases.get(case_id, {})
            return {
                model: Usage(u.calls, u.input_tokens, u.output_tokens, u.cost_usd)
                for model, u in found.items()
            }

    def for_case(self, case_id: str) -> Usage:
        return _total(self.by_model(case_id).values())

    def take(self, case_id: str) -> dict[str, Any] | None:
        """The case's :func:`usage_record`, forgotten afterwards (the worker calls it when it stores the
        case's proposal); ``None`` when no call was recorded for the case in this process."""
        with self._lock:
            found = self._cases.pop(case_id, None)
        return usage_record(found) if found else None


@contextmanager
def case_scope(case_id: str) -> Iterator[None]:
    """Attribute Bedrock calls made inside the block to ``case_id`` (when no graph thread id is known)."""
    token = _current_case.set(case_id)
    try:
        yield
    finally:
        _current_case.reset(token)


class CircuitBreaker:
    """closed -> (``failure_threshold`` failures in a row) -> open -> (``reset_seconds``) -> half-open:
    one trial call; success closes it, failure opens it again."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self._opened_at >= self.reset_seconds else "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial:
                self._trial = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.failure_threshold:
                if self._opened_at is None or self._trial:
                    log.warning("bedrock circuit opened", extra={"failures": self._failures})
                self._opened_at = self.clock()
            self._trial = False


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(model_id: str) -> CircuitBreaker:
    """The process-wide circuit of ``model_id`` (shared by every case this process triages)."""
    with _breakers_lock:
        return _breakers.setdefault(model_id, CircuitBreaker())


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _is_retryable(exc: BaseException) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    return _error_code(exc) in RETRYABLE_CODES or isinstance(exc, BotoConnectionError | ReadTimeoutError)


@dataclass
class CallPolicy:
    """How calls are made: attempts, backoff (seconds), and the sleep used between attempts."""

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        capped = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return capped / 2 + random.uniform(0, capped / 2)  # "equal jitter": spread, never zero


def _case_of(run_manager: CallbackManagerForLLMRun | None) -> str:
    # LangGraph puts the thread id (the case id) into the metadata of every run inside the graph.
    metadata = getattr(run_manager, "metadata", None) or {}
    thread = metadata.get("thread_id")
    return str(thread) if thread else (_current_case.get() or UNATTRIBUTED)


class GuardedChatBedrock(ChatBedrockConverse):
    """``ChatBedrockConverse`` with retries, a circuit breaker and usage accounting (module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    breaker: CircuitBreaker = Field(default_factory=CircuitBreaker, exclude=True)
    # The model's own ledger: the model is built once per toolbox (so once per runner, which is built
    # at start-up and kept), and TriageRunner.take_usage reads this model's ledger; no process global.
    ledger: UsageLedger = Field(default_factory=UsageLedger, exclude=True)
    policy: CallPolicy = Field(default_factory=CallPolicy, exclude=True)

    # Intended near-copy: LangChain's BaseChatModel._generate signature, which every chat model
    # (bedrock.py, llamacpp.py, evals/judge.py) overrides in the same words.
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        case_id = _case_of(run_manager)
        if not self.breaker.allow():
            raise BedrockUnavailableError(
                f"circuit open after repeated failures; retrying after {self.breaker.reset_seconds:.0f}s",
                source=f"bedrock:{self.model_id}",
            )
        attempt = 0
        while True:
            attempt += 1
            try:
                result = super()._generate(messages, stop, run_manager, **kwargs)
            except Exception as exc:
                if _error_code(exc) in CALLER_FAULT_CODES:
                    # Our request is wrong, but Bedrock answered: it is healthy. Recording that ends a
                    # half-open trial (else the trial flag stays set and the circuit never closes).
                    self.breaker.record_success()
                    raise
                if _is_retryable(exc) and attempt < self.policy.max_attempts:
                    delay = self.policy.delay(attempt)
                    log.info(
                        "bedrock call retried",
                        extra={
                            "case_id": case_id,
                            "error": _error_code(exc) or type(exc).__name__,
                            "delay": delay,
                        },
                    )
                    self.policy.sleep(delay)
                    continue
                self.breaker.record_failure()
                raise
            self.breaker.record_success()
            self._account(case_id, result, attempt)
            return result

    def _account(self, case_id: str, result: ChatResult, attempts: int) -> None:
        usage = getattr(result.generations[0].message, "usage_metadata", None) or {}
        tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        cost = self.ledger.record(case_id, self.model_id, tokens_in, tokens_out)
        log.info(
            "bedrock_usage",
            extra={
                "event": "bedrock_usage",
                "case_id": case_id,
                "model": self.model_id,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cost_usd": str(cost),
                "attempts": attempts,
            },
        )


def bedrock_client(
    region: str | None = None,
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
    endpoint_url: str | None = None,
) -> Any:
    """A ``bedrock-runtime`` client with timeouts; botocore's own retries are off (we retry above)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return boto3.client("bedrock-runtime", region_name=region, endpoint_url=endpoint_url, config=config)


def bedrock_chat_model(
    model_id: str,
    *,
    client: Any = None,
    breaker: CircuitBreaker | None = None,
    ledger: UsageLedger | None = None,
    policy: CallPolicy | None = None,
    temperature: float = 0.0,
    max_tokens: int = 1024,
) -> GuardedChatBedrock:
    """The guarded chat model for ``bedrock:<model_id>`` (see the module docstring)."""
    client = client if client is not None else bedrock_client()
    # Keyword arguments: alike in shape to other constructors' calls, not shared logic.
    return GuardedChatBedrock(
        model_id=model_id,
        client=client,
        # The control-plane client is only needed for application inference profiles.
        bedrock_client=client,
        temperature=temperature,
        max_tokens=max_tokens,
        disable_streaming=True,
        breaker=breaker or breaker_for(model_id),
        ledger=ledger if ledger is not None else UsageLedger(),
        policy=policy or CallPolicy(),
    )
