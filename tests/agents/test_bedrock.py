"""Bedrock through recorded responses at the HTTP layer: botocore's Stubber on a real
``bedrock-runtime`` client answers ``converse`` calls (responses validated against the service model),
including throttling, outages, the circuit breaker and the playbook fallback in the real agent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from langgraph.checkpoint.memory import InMemorySaver

from agents.bedrock import (
    BedrockUnavailableError,
    CallPolicy,
    CircuitBreaker,
    UsageLedger,
    bedrock_chat_model,
    case_scope,
    price_of,
)
from agents.runner import TriageRunner
from tests.agents.conftest import CountingToolbox
from tests.agents.fixtures import GOOD_IBAN, ac01_case

MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"
SPEC = f"bedrock:{MODEL_ID}"


def _text(text: str, tokens_in: int = 100, tokens_out: int = 20) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {
            "inputTokens": tokens_in,
            "outputTokens": tokens_out,
            "totalTokens": tokens_in + tokens_out,
        },
        "metrics": {"latencyMs": 120},
    }


def _tool_use(name: str, args: dict[str, Any], tokens_in: int = 300, tokens_out: int = 40) -> dict[str, Any]:
    return {
        "output": {
            "message": {
                "role": "assistant",
                "content": [{"toolUse": {"toolUseId": "tu-1", "name": name, "input": args}}],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": tokens_in,
            "outputTokens": tokens_out,
            "totalTokens": tokens_in + tokens_out,
        },
        "metrics": {"latencyMs": 300},
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _model(client: Any, **kwargs: Any) -> Any:
    sleeps = kwargs.pop("sleeps", Sleeps())
    return bedrock_chat_model(
        MODEL_ID,
        client=client,
        breaker=kwargs.pop("breaker", CircuitBreaker(failure_threshold=3, reset_seconds=60)),
        ledger=kwargs.pop("ledger", UsageLedger()),
        policy=CallPolicy(max_attempts=kwargs.pop("max_attempts", 4), sleep=sleeps),
    )


def test_throttling_is_retried_with_backoff_then_succeeds(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    for _ in range(2):
        stubber.add_client_error(
            "converse",
            service_error_code="ThrottlingException",
            service_message="Rate exceeded",
            http_status_code=429,
        )
    stubber.add_response("converse", _text("AC01 means an incorrect account number.", 120, 30))
    sleeps, ledger = Sleeps(), UsageLedger()
    model = _model(client, sleeps=sleeps, ledger=ledger)
    reply = model.invoke("What is AC01?", config={"metadata": {"thread_id": "CASE-7"}})
    assert "incorrect account" in reply.text
    stubber.assert_no_pending_responses()
    assert (
        len(sleeps.delays) == 2
        and sleeps.delays[1] > sleeps.delays[0] / 2
        and all(d > 0 for d in sleeps.delays)
    )
    usage = ledger.for_case("CASE-7")
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (1, 120, 30)
    price_in, price_out = price_of(MODEL_ID)
    assert usage.cost_usd == (price_in * 120 + price_out * 30) / 1000 > 0
    assert model.breaker.state == "closed"


def test_throttling_beyond_the_attempt_budget_raises(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    for _ in range(3):
        stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    model = _model(client, max_attempts=3)
    with pytest.raises(Exception, match="ThrottlingException"):
        model.invoke("hi")
    stubber.assert_no_pending_responses()


def test_validation_errors_are_not_retried_and_do_not_trip_the_circuit(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("converse", service_error_code="ValidationException", http_status_code=400)
    breaker = CircuitBreaker(failure_threshold=1)
    model = _model(client, breaker=breaker)
    with pytest.raises(Exception, match="ValidationException"):
        model.invoke("hi")
    assert breaker.state == "closed"


def test_a_validation_error_on_the_half_open_trial_does_not_wedge_the_circuit(
    stubbed: tuple[Any, Stubber],
) -> None:
    """Bedrock answered the trial (with a 400), so it is reachable: the next call must go out."""
    client, stubber = stubbed
    now = [1000.0]
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=30, clock=lambda: now[0])
    model = _model(client, breaker=breaker, max_attempts=1)
    stubber.add_client_error(
        "converse", service_error_code="ServiceUnavailableException", http_status_code=503
    )
    with pytest.raises(Exception, match="ServiceUnavailable"):
        model.invoke("hi")
    now[0] += 31
    assert breaker.state == "half_open"
    stubber.add_client_error("converse", service_error_code="ValidationException", http_status_code=400)
    with pytest.raises(Exception, match="ValidationException"):
        model.invoke("hi")
    stubber.add_response("converse", _text("still here"))
    assert model.invoke("hi").text == "still here"
    stubber.assert_no_pending_responses()
    assert breaker.state == "closed"


def test_circuit_opens_after_repeated_failures_and_recovers_after_reset(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    now = [1000.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=30, clock=lambda: now[0])
    model = _model(client, breaker=breaker, max_attempts=1)
    for _ in range(2):
        stubber.add_client_error(
            "converse", service_error_code="ServiceUnavailableException", http_status_code=503
        )
        with pytest.raises(Exception, match="ServiceUnavailable"):
            model.invoke("hi")
    assert breaker.state == "open"
    with pytest.raises(BedrockUnavailableError, match="circuit open"):
        model.invoke("hi")  # no HTTP call: nothing stubbed was consumed
    stubber.assert_no_pending_responses()
    now[0] += 31
    assert breaker.state == "half_open"
    stubber.add_response("converse", _text("back"))
    assert model.invoke("hi").text == "back"
    assert breaker.state == "closed"


def test_tokens_and_cost_accumulate_per_case(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    ledger = UsageLedger()
    model = _model(client, ledger=ledger)
    for tokens in (100, 200, 50):
        stubber.add_response("converse", _text("ok", tokens, 10))
    with case_scope("A"):
        model.invoke("one")
        model.invoke("two")
    with case_scope("B"):
        model.invoke("three")
    a, b = ledger.for_case("A"), ledger.for_case("B")
    assert (a.calls, a.input_tokens, a.output_tokens) == (2, 300, 20)
    assert (b.calls, b.input_tokens) == (1, 50)
    assert a.cost_usd > b.cost_usd > Decimal(0)
    assert price_of(f"eu.{MODEL_ID}") == price_of(MODEL_ID)  # cross-region inference profile


def test_the_ledger_hands_each_cases_usage_over_once_by_model() -> None:
    ledger = UsageLedger()
    ledger.record("A", MODEL_ID, 100, 10)
    ledger.record("A", "amazon.nova-micro-v1:0", 50, 5)
    ledger.record("A", MODEL_ID, 20, 2)
    ledger.record("B", MODEL_ID, 1, 1)
    record = ledger.take("A")
    assert record is not None
    assert (record["calls"], record["input_tokens"], record["output_tokens"]) == (3, 170, 17)
    assert record["models"][MODEL_ID]["calls"] == 2
    assert record["models"]["amazon.nova-micro-v1:0"]["input_tokens"] == 50
    assert Decimal(record["cost_usd"]) == sum(Decimal(m["cost_usd"]) for m in record["models"].values()) > 0
    assert ledger.take("A") is None  # forgotten: a redelivered job does not store it twice
    assert ledger.for_case("B").calls == 1


def test_agent_with_bedrock_proposes_and_accounts_the_case(
    stubbed: tuple[Any, Stubber], toolbox: CountingToolbox
) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", _text("The evidence is gathered.", 900, 15))  # tool phase: no calls
    decision = {
        "candidate": "rule1",
        "rationale": "The SSI on file matches the beneficiary.",
        "confidence": 0.8,
    }
    stubber.add_response("converse", _tool_use("RepairDecision", decision, 1500, 60))
    ledger = UsageLedger()
    toolbox.set_chat_model(SPEC, _model(client, ledger=ledger))
    runner = TriageRunner(model=SPEC, checkpointer=InMemorySaver(), toolbox=toolbox)
    proposal = runner.start(ac01_case(), "bedrock-1")
    stubber.assert_no_pending_responses()
    assert proposal["model"] == SPEC and "fallback" not in proposal
    assert proposal["action"] == "repair"
    assert [c["new"] for c in proposal["changes"]] == [GOOD_IBAN]
    usage = ledger.for_case("bedrock-1")
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (2, 2400, 75)
    # What a worker stores with the proposal: the totals by model, handed over once.
    record = runner.take_usage("bedrock-1")
    assert record is not None
    assert (record["calls"], record["input_tokens"], record["output_tokens"]) == (2, 2400, 75)
    assert record["models"] == {MODEL_ID: {k: v for k, v in record.items() if k != "models"}}
    assert runner.take_usage("bedrock-1") is None and ledger.for_case("bedrock-1").calls == 0


def test_bedrock_outage_opens_the_circuit_and_the_agent_falls_back_to_the_playbook(
    stubbed: tuple[Any, Stubber], toolbox: CountingToolbox
) -> None:
    client, stubber = stubbed
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=300)
    toolbox.set_chat_model(SPEC, _model(client, breaker=breaker, max_attempts=1))
    runner = TriageRunner(model=SPEC, checkpointer=InMemorySaver(), toolbox=toolbox)
    for _ in range(2):  # the tool phase and the first decision attempt reach Bedrock and fail
        stubber.add_client_error(
            "converse", service_error_code="ServiceUnavailableException", http_status_code=503
        )
    first = runner.start(ac01_case(), "outage-1")
    assert breaker.state == "open"
    assert first["fallback"]["to"] == "playbook"
    # The next case does not wait on Bedrock at all: the open circuit fails fast, the playbook decides.
    second = runner.start(ac01_case(case_id="T-AC01-2"), "outage-2")
    stubber.assert_no_pending_responses()
    assert second["fallback"]["to"] == "playbook" and "circuit open" in second["fallback"]["reason"]
    for proposal in (first, second):
        assert proposal["action"] == "repair" and [c["new"] for c in proposal["changes"]] == [GOOD_IBAN]


def test_the_agents_model_seam_builds_the_guarded_bedrock_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from agents.bedrock import GuardedChatBedrock, breaker_for
    from agents.models import load_chat_model

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    model = load_chat_model(SPEC)
    assert isinstance(model, GuardedChatBedrock)
    assert model.model_id == MODEL_ID and model.breaker is breaker_for(MODEL_ID)
    config = model.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (5.0, 60.0)
