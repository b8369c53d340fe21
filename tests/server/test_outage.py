"""The server through database trouble: dropped PostgreSQL connections, an unreadable store or key table."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.pg_sessions import drop_connections
from tests.server.envelope import envelope

from hippodex import Memory
from hippodex._exceptions import StoreError
from hippodex.client import Client
from hippodex.server import KeyStore, create_app


def test_api_keys_reconnect_after_postgresql_drops_the_connection(pg_url: str, running: Any) -> None:
    with Memory(pg_url, encoder=None) as memory, KeyStore(pg_url) as keys:
        ana = keys.create(["ana"], name="ana")[1]
        with running(create_app(memory, auth=keys)) as url, Client(url, ana) as client:
            client.add("I moved to Lisbon", user_id="ana")
            assert drop_connections(pg_url) >= 1  # the key store's connection among them
            # The next request opens a new connection rather than failing until a restart.
            assert [h.episode.content for h in client.search("Lisbon", user_id="ana")] == ["I moved to Lisbon"]
            assert httpx.get(f"{url}/ready").status_code == 200
        assert keys.check(ana) is not None


def test_a_store_that_fails_answers_503_with_retry_after(running: Any) -> None:
    class Down(Memory):
        def search(self, *args: object, **kwargs: object) -> list[object]:
            raise StoreError("could not connect to server: Connection refused (secret host db.internal)")

    with running(create_app(Down(":memory:", encoder=None), auth=None)) as url:
        r = httpx.post(f"{url}/v1/search", json={"user_id": "a", "query": "x"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    code, message = envelope(r)
    assert code == "unavailable" and "internal" not in message


def test_ready_fails_when_the_api_keys_cannot_be_read(tmp_path: Path, running: Any) -> None:
    path = tmp_path / "memory.db"
    with Memory(path, encoder=None) as memory, KeyStore(path) as keys, running(create_app(memory, auth=keys)) as url:
        assert httpx.get(f"{url}/ready").status_code == 200
        with sqlite3.connect(path) as db:
            db.execute("ALTER TABLE api_keys RENAME TO api_keys_gone")
        r = httpx.get(f"{url}/ready")
        assert r.status_code == 503 and envelope(r)[0] == "not_ready"


def test_a_slow_answer_says_the_write_may_be_stored_not_that_the_server_is_unreachable(running: Any) -> None:
    class Slow(Memory):
        def add(self, *args: Any, **kwargs: Any) -> Any:
            time.sleep(1.0)
            return super().add(*args, **kwargs)

    with Slow(":memory:", encoder=None) as memory, running(create_app(memory, auth=None)) as url:
        with Client(url, timeout=0.3) as client, pytest.raises(StoreError) as info:
            client.add("I moved to Lisbon", user_id="ana")
        assert "got no answer" in str(info.value) and "may still have done it" in str(info.value)
        deadline = time.monotonic() + 10
        while memory.stats(user_id="ana").episodes == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert memory.stats(user_id="ana").episodes == 1  # the server finished the write
