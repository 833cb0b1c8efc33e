"""``repairdesk triage`` asking a running server (``REPAIRDESK_API_URL``) instead of loading the agent.

The command spends most of its time importing the agent (LangGraph) and opening the procedure index
and the bank registry; a server has them loaded. When ``REPAIRDESK_API_URL`` is set, each case goes
to ``POST /v1/triage`` (nothing is stored there) with ``REPAIRDESK_API_TOKEN``, and the answer is
printed as the command prints its own. A server that does not answer (not running, a 5xx) is not an
error: the command says so on stderr and works locally. A 4xx is the server's verdict on the input
(a case that does not validate, a bad token) and is reported like a local failure. Only ``httpx`` is
imported here, so this path stays light. ``repairdesk search`` stays local: it loads no agent, and
its own index read costs less than the round trip would save.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

CONNECT_SECONDS = 1.0
READ_SECONDS = 300.0  # an LLM-backed triage on the server may take minutes


class Unreachable(Exception):
    """The server did not answer usefully; the caller works locally."""


class Refused(Exception):
    """The server refused the request (4xx); ``reason`` is its message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Remote:
    url: str
    token: str | None

    @classmethod
    def from_settings(cls, settings: Any) -> Remote | None:
        url = (getattr(settings, "api_url", None) or "").strip().rstrip("/")
        return cls(url, getattr(settings, "api_token", None)) if url else None

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        timeout = httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS)
        try:
            response = httpx.request(method, self.url + path, headers=headers, timeout=timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise Unreachable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise Unreachable(f"HTTP {response.status_code} without JSON") from exc
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            reason = str(message or f"HTTP {response.status_code}")
            if response.status_code in (401, 403):
                reason += " (REPAIRDESK_API_TOKEN: a service or analyst token of that server)"
            raise Refused(reason)
        return body

    def triage(self, case: dict[str, Any]) -> dict[str, Any]:
        """The server's proposal for ``case``; raises :class:`Refused` or :class:`Unreachable`."""
        body = self._request("POST", "/v1/triage", json=case)
        if not isinstance(body, dict):
            raise Unreachable("the answer is not a proposal")
        return body

    def note_local(self, reason: str) -> None:
        sys.stderr.write(f"note: {self.url} did not answer ({reason}); working locally\n")
