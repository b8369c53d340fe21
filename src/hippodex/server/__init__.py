"""Serve a memory over HTTP: the REST app, its API keys and CLI commands.

Needs the ``server`` extra (``pip install 'hippodex[server]'``). FastAPI is
imported only when :func:`create_app` is first used, so ``hippodex keys``
and this package's import work without it.

>>> from hippodex.server import KeyStore  # no FastAPI needed for keys
"""

from __future__ import annotations

from typing import Any

from hippodex.server.keys import Key, KeyStore

__all__ = ["Key", "KeyStore", "create_app"]

INSTALL_HINT = "the server needs FastAPI and uvicorn: pip install 'hippodex[server]'"


def __getattr__(name: str) -> Any:
    if name == "create_app":
        try:
            from hippodex.server.rest import create_app
        except ImportError as exc:
            raise ImportError(INSTALL_HINT) from exc
        return create_app
    raise AttributeError(f"module 'hippodex.server' has no attribute {name!r}")
