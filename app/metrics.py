"""Prometheus metrics of the service (one set per process, in the default registry).

Request latency by route template, queue depth (refreshed at scrape time from the database),
triage latency, proposals by action, guard violations, decisions by outcome, straight-through verdicts
(applied or declined), and the metered LLM
usage of triage (calls, tokens, list-price cost) by model, counted when a worker finishes a case.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "repairdesk_http_request_seconds",
    "HTTP request latency by method, route template and status class.",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
QUEUE_DEPTH = Gauge("repairdesk_queue_depth", "Triage jobs waiting to be claimed.")
TRIAGE_LATENCY = Histogram(
    "repairdesk_triage_seconds",
    "Time for the agent to produce a proposal, per job run.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
PROPOSALS = Counter("repairdesk_proposals_total", "Proposals stored, by action.", ["action"])
GUARD_VIOLATIONS = Counter("repairdesk_guard_violations_total", "Guard violations reported in proposals.")
DECISIONS = Counter("repairdesk_decisions_total", "Reviewer decisions, by outcome.", ["decision"])
STP = Counter(
    "repairdesk_stp_total",
    "Straight-through verdicts after triage (STP enabled): applied or declined.",
    ["outcome"],
)
JOB_FAILURES = Counter("repairdesk_job_failures_total", "Triage job runs that raised, by kind.", ["kind"])
MODEL_CALLS = Counter(
    "repairdesk_model_calls_total", "Successful LLM calls made by triage, by model.", ["model"]
)
MODEL_TOKENS = Counter(
    "repairdesk_model_tokens_total",
    "LLM tokens used by triage, by model and direction.",
    ["model", "direction"],
)
MODEL_COST = Counter(
    "repairdesk_model_cost_usd_total", "LLM cost of triage in USD at list prices, by model.", ["model"]
)
