"""`repairdesk token list|revoke|rotate`: administration from the CLI, audited, and honoured by the API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from app.api import deps
from app.cli.main import cli
from app.db.models import ApiToken, AuditEvent
from app.services.audit import verify_chain
from app.settings import Settings
from tests.app.conftest import Api, add_tokens


def _env(api: Api) -> dict[str, str]:
    settings = api.app.state.services.settings
    return {"DATABASE_URL": settings.database_url, "REPAIRDESK_DATA_DIR": str(settings.data_dir)}


def _run(api: Api, *args: str) -> Result:
    return CliRunner().invoke(cli, ["token", *args], env=_env(api))


def _tokens(api: Api) -> list[dict[str, Any]]:
    listed = _run(api, "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    return rows


def _events(api: Api, kind: str) -> list[AuditEvent]:
    with api.app.state.services.db.session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == kind).order_by(AuditEvent.seq))
        )


def test_every_token_command_has_help() -> None:
    for command in ("list", "revoke", "rotate", "create"):
        result = CliRunner().invoke(cli, ["token", command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.stdout
    assert "TOKEN_ID" in CliRunner().invoke(cli, ["token", "revoke", "--help"]).stdout


def test_list_shows_ids_users_roles_and_dates_but_never_a_token_or_hash(api: Api) -> None:
    table = _run(api, "list")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "user", "role", "created", "revoked"]
    assert any(line.split()[1:3] == ["alice", "approver"] for line in lines[1:])
    rows = _tokens(api)
    assert {(r["user"], r["role"]) for r in rows} >= {("svc-bot", "service"), ("root", "admin")}
    assert all(r["revoked_at"] is None and r["created_at"].endswith("+00:00") for r in rows)
    with api.app.state.services.db.session() as session:
        hashes = list(session.scalars(select(ApiToken.token_hash)))
    for secret in [*hashes, "test-service-token"]:
        assert secret not in table.stdout and secret not in _run(api, "list", "--json").stdout
    only = _run(api, "list", "--user", "alice", "--json")
    assert {r["role"] for r in json.loads(only.stdout)} == {"approver", "analyst"}


def test_revoke_refuses_the_token_at_once_and_is_audited(api: Api) -> None:
    assert api.client.get("/v1/exceptions", headers=api.h["service"]).status_code == 200
    [svc] = [r for r in _tokens(api) if r["user"] == "svc-bot"]

    revoked = _run(api, "revoke", str(svc["id"]))
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked token {svc['id']} (svc-bot, service)" in revoked.stdout
    # the tests' settings turn the look-up cache off (token_cache_seconds=0): no window at all
    refused = api.client.get("/v1/exceptions", headers=api.h["service"])
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert api.client.get("/v1/exceptions", headers=api.h["analyst"]).status_code == 200  # others unaffected

    [row] = [r for r in _tokens(api) if r["id"] == svc["id"]]
    assert row["revoked_at"] is not None
    [event] = _events(api, "token_revoked")
    assert event.actor == "cli" and event.data == {
        "token_id": svc["id"],
        "user": "svc-bot",
        "role": "service",
    }

    again = _run(api, "revoke", str(svc["id"]))  # idempotent: says so, changes and audits nothing
    assert again.exit_code == 0 and "already revoked" in again.stdout
    assert len(_events(api, "token_revoked")) == 1
    with api.app.state.services.db.session() as session:
        assert verify_chain(session).ok


def test_revoke_of_an_unknown_id_is_exit_1_with_one_line(api: Api) -> None:
    result = _run(api, "revoke", "999999")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: token 999999: no such token (see `repairdesk token list`)"
    ]
    assert _events(api, "token_revoked") == []
    assert _run(api, "revoke", "not-a-number").exit_code == 2  # usage error


def test_rotate_revokes_the_users_live_tokens_and_prints_one_new_token_with_the_same_role(api: Api) -> None:
    before = {r["id"] for r in _tokens(api) if r["user"] == "root"}
    rotated = _run(api, "rotate", "--user", "root")
    assert rotated.exit_code == 0, rotated.output
    [new_token] = rotated.stdout.split()  # stdout carries the token alone: scripts capture it
    assert new_token.startswith("rd_")

    assert api.client.get("/v1/exceptions", headers=api.h["admin"]).status_code == 401
    fresh = {"Authorization": f"Bearer {new_token}"}
    assert api.client.get("/v1/exceptions", headers=fresh).status_code == 200
    roots = [r for r in _tokens(api) if r["user"] == "root"]
    live = [r for r in roots if r["revoked_at"] is None]
    assert len(live) == 1 and live[0]["role"] == "admin" and live[0]["id"] not in before
    assert all(r["revoked_at"] for r in roots if r["id"] in before)

    [event] = _events(api, "token_rotated")
    assert event.data == {
        "user": "root",
        "role": "admin",
        "token_id": live[0]["id"],
        "revoked": sorted(before),
    }
    assert [e.data["token_id"] for e in _events(api, "token_revoked")] == sorted(before)


def test_rotate_needs_a_role_when_the_users_tokens_differ_and_fails_for_unknown_users(api: Api) -> None:
    mixed = _run(api, "rotate", "--user", "alice")  # an approver and an analyst token
    assert mixed.exit_code == 1 and "choose one with --role" in mixed.stderr
    assert _events(api, "token_revoked") == []  # nothing half-done

    chosen = _run(api, "rotate", "--user", "alice", "--role", "analyst")
    assert chosen.exit_code == 0, chosen.output
    assert api.client.get("/v1/exceptions", headers=api.h["alice-analyst"]).status_code == 401
    assert api.client.get("/v1/exceptions", headers=api.h["approver"]).status_code == 200

    nobody = _run(api, "rotate", "--user", "nobody")
    assert nobody.exit_code == 1
    assert (
        nobody.stderr.strip() == "error: user nobody: no live token to rotate (see `repairdesk token list`)"
    )
    assert _run(api, "rotate", "--user", "alice", "--role", "wizard").exit_code == 2


def test_the_look_up_cache_honours_a_revocation_once_its_ttl_passes(make_app: Callable[..., FastAPI]) -> None:
    ttl = 0.5
    app = make_app(token_cache_seconds=ttl)
    with TestClient(app) as client:
        headers = add_tokens(app)
        api = Api(app, client, headers)
        assert client.get("/v1/exceptions", headers=headers["service"]).status_code == 200  # now cached
        [svc] = [r for r in _tokens(api) if r["user"] == "svc-bot"]
        revoked_at = time.monotonic()
        assert _run(api, "revoke", str(svc["id"])).exit_code == 0
        while (status := client.get("/v1/exceptions", headers=headers["service"]).status_code) == 200:
            assert time.monotonic() - revoked_at < ttl + 2, "a revoked token was still accepted after the TTL"
            time.sleep(0.05)
        assert status == 401


def test_the_look_up_cache_is_bounded(
    api: Api, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deps, "TOKEN_CACHE_MAX", 3)
    services = api.app.state.services
    monkeypatch.setattr(services, "settings", make_settings(token_cache_seconds=60))
    for n in range(10):
        bad = api.client.get("/v1/exceptions", headers={"Authorization": f"Bearer nope-{n}"})
        assert bad.status_code == 401
        assert len(services.token_cache) <= 3
    assert api.client.get("/v1/exceptions", headers=api.h["service"]).status_code == 200
