"""A real uvicorn server on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from hippodex import Memory  # noqa: E402
from hippodex.server import KeyStore, create_app  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _running(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Served:
    url: str
    memory: Memory
    keys: KeyStore
    ana: str  # key bound to user "ana"
    bob: str  # key bound to user "bob"
    admin: str
    revoked: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    """One authenticated server per test module and backend, lexical-only memory."""
    if request.param == "postgres":
        databases = request.getfixturevalue("pg_databases")
        path: str | Path = databases.create()
    else:
        path = tmp_path_factory.mktemp("server") / "memory.db"
    memory = Memory(path, encoder=None)
    keys = KeyStore(path)
    ana = keys.create(["ana"], name="ana")[1]
    bob = keys.create(["bob"], name="bob")[1]
    admin = keys.create([], admin=True, name="ops")[1]
    revoked_id, revoked = keys.create(["ana"], name="old")
    keys.revoke(revoked_id)
    with _running(create_app(memory, auth=keys, max_body_bytes=200_000)) as url:
        yield Served(url, memory, keys, ana, bob, admin, revoked)
    keys.close()
    memory.close()
    if request.param == "postgres":
        databases.drop(str(path))


@pytest.fixture(name="running")
def running_fixture() -> Any:
    """``with running(app) as url:`` serves any app for the length of the block."""
    return _running
