"""A small read-only web page, served at ``/``, to look inside a memory.

The page is one HTML file with a stylesheet and a vanilla-JS script under
``static/``; it talks only to this server's own JSON routes (``/v1/search``,
``/v1/users/{id}/sessions``, ``/v1/memories``) with the API key the visitor
types in, kept in ``sessionStorage``. Nothing is fetched from elsewhere, and a
``Content-Security-Policy`` header says so to the browser.

``GET /web/key`` tells the page which user ids the presented key is bound to,
so it can offer them in a picker.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from hippodex.server.keys import KeyStore

__all__ = ["install"]

_STATIC = resources.files("hippodex.server") / "static"
_TYPES = {
    "web.css": "text/css; charset=utf-8",
    "web.js": "text/javascript; charset=utf-8",
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _asset(name: str) -> bytes:
    return (_STATIC / name).read_bytes()


def install(app: FastAPI, auth: KeyStore | None) -> None:
    """Add the page's routes to ``app``: ``/``, its two assets, and ``/web/key`` (who the key may read)."""

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(_asset("index.html"), media_type="text/html; charset=utf-8", headers=_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in _TYPES:
            return JSONResponse({"error": {"code": "not_found", "message": "no such file"}}, status_code=404)
        return Response(_asset(name), media_type=_TYPES[name], headers=_HEADERS)

    @app.get("/web/key", include_in_schema=False)
    def key(request: Request) -> Any:
        if auth is None:
            return {"auth": False, "admin": True, "user_ids": []}
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        found = auth.check(token) if token else None
        if found is None:
            return JSONResponse(
                {"error": {"code": "unauthorized", "message": "missing, invalid or revoked API key"}},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return {"auth": True, "admin": found.admin, "user_ids": list(found.user_ids)}
