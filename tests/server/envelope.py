"""What the REST tests share: the auth header and the error envelope every error response has."""

from __future__ import annotations

import httpx


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def envelope(r: httpx.Response) -> tuple[str, str]:
    """The ``(code, message)`` of an error response, checking it is ``{"error": {"code", "message"}}``."""
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return str(body["error"]["code"]), str(body["error"]["message"])
