"""The REST API end to end: a real uvicorn server, the Client, and raw httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.server.envelope import auth, envelope

from hippodex import Memory, MemoryNotFound, Stats, ValidationError
from hippodex.client import AuthError, Client
from hippodex.encode.base import Encoder
from hippodex.server import create_app

Runner = Callable[[Any], AbstractContextManager[str]]


def error_code(r: httpx.Response) -> str:
    return envelope(r)[0]


@pytest.fixture
def ana(served: Any) -> Iterator[Client]:
    with Client(served.url, served.ana) as c:
        yield c


# -- happy paths through the Client ---------------------------------------------------
def test_client_mirrors_memory(served: Any, ana: Client) -> None:
    added = ana.add(
        [
            {"role": "user", "content": "I moved to Lisbon in May", "speaker": "Ana"},
            {"role": "assistant", "content": "How do you like Lisbon?", "metadata": {"mood": "curious"}},
        ],
        user_id="ana",
        session_id="trip",
        timestamp=datetime(2023, 5, 8, 14, tzinfo=UTC),
        metadata={"topic": "travel"},
    )
    assert [e.seq for e in added] == [0, 1]
    assert added[0].occurred_at == datetime(2023, 5, 8, 14, tzinfo=UTC)
    assert added[1].metadata == {"topic": "travel", "mood": "curious"}
    assert added[0] == served.memory.get(added[0].id, user_id="ana")  # same dataclass, same values

    hits = ana.search("Lisbon", user_id="ana", k=5, expand=1, role="user", now="2023-06-01")
    assert hits[0].episode.id == added[0].id and hits[0].channels["lexical"].rank == 1
    assert [e.id for e in hits[0].context] == [added[1].id]

    assert ana.get(added[1].id, user_id="ana") == added[1]
    page = ana.list(user_id="ana", limit=1, session_id="trip")
    assert page.items == (added[0],) and page.total == 2 and page.next_offset == 1
    assert ana.list(user_id="ana", metadata={"mood": "curious"}).items == (added[1],)
    [session] = ana.sessions(user_id="ana")
    assert session.id == "trip" and session.episodes == 2

    updated = ana.update_metadata(added[0].id, {"pinned": True}, user_id="ana")
    assert updated.metadata == {"topic": "travel", "pinned": True}
    replaced = ana.update_metadata(added[0].id, {"x": 1}, user_id="ana", merge=False)
    assert replaced.metadata == {"x": 1}

    assert ana.stats(user_id="ana").episodes == 2
    ana.delete(added[1].id, user_id="ana")
    with pytest.raises(MemoryNotFound):
        ana.get(added[1].id, user_id="ana")
    assert ana.erase(user_id="ana") == 1
    assert ana.list(user_id="ana").total == 0


def test_health_ready_and_openapi(served: Any) -> None:
    assert httpx.get(f"{served.url}/health").json()["status"] == "ok"
    assert httpx.get(f"{served.url}/ready").json()["status"] == "ready"
    spec = httpx.get(f"{served.url}/openapi.json").json()
    paths = spec["paths"]
    assert {"/v1/memories", "/v1/search", "/v1/memories/{episode_id}", "/v1/users/{user_id}", "/v1/stats"} <= set(paths)
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("responses"), (method, path)
            ok = next(c for c in op["responses"] if c.startswith("2"))
            if ok != "204":
                assert "$ref" in str(op["responses"][ok]["content"]["application/json"]["schema"]), (method, path)
    for name in ("AddRequest", "SearchRequest", "EpisodeOut", "HitOut", "PageOut", "StatsOut", "ErrorOut"):
        assert name in spec["components"]["schemas"]


def test_admin_sees_global_stats_and_any_user(served: Any) -> None:
    with Client(served.url, served.admin) as admin:
        admin.add("hello from carol", user_id="carol")
        assert admin.stats().users >= 1
        assert admin.list(user_id="carol").total == 1
    with Client(served.url, served.ana) as ana, pytest.raises(AuthError) as info:
        ana.stats()
    assert info.value.status == 403


# -- authentication ------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer hdx_not-a-real-key-000000000000000"}, {"Authorization": "Basic abc"}],
)
def test_missing_or_bad_key_is_401(served: Any, headers: dict[str, str]) -> None:
    r = httpx.post(f"{served.url}/v1/search", json={"user_id": "ana", "query": "x"}, headers=headers)
    assert r.status_code == 401 and error_code(r) == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


def test_revoked_key_is_401(served: Any) -> None:
    with Client(served.url, served.revoked) as c, pytest.raises(AuthError) as info:
        c.add("hi", user_id="ana")
    assert info.value.status == 401
    assert served.memory.list(user_id="ana", metadata={"never": True}).total == 0


def test_x_api_key_header_works(served: Any) -> None:
    r = httpx.get(f"{served.url}/v1/stats", params={"user_id": "bob"}, headers={"X-API-Key": served.bob})
    assert r.status_code == 200


# -- tenant isolation ------------------------------------------------------------------
def _counts(memory: Memory, user_id: str) -> Stats:
    """A user's stats without db_bytes: PostgreSQL's database size moves with any
    writer (ana's own rows, autovacuum), so it says nothing about bob's rows."""
    return replace(memory.stats(user_id=user_id), db_bytes=0)


def test_cross_tenant_by_id_search_and_erase(served: Any) -> None:
    [secret] = served.memory.add("bob's secret: the safe code is 4711", user_id="bob", session_id="vault")
    before = _counts(served.memory, "bob")
    with Client(served.url, served.ana) as ana:
        # Naming bob is refused outright...
        for call in (
            lambda: ana.get(secret.id, user_id="bob"),
            lambda: ana.search("safe code", user_id="bob"),
            lambda: ana.list(user_id="bob"),
            lambda: ana.sessions(user_id="bob"),
            lambda: ana.update_metadata(secret.id, {"owned": 1}, user_id="bob"),
            lambda: ana.delete(secret.id, user_id="bob"),
            lambda: ana.erase(user_id="bob"),
            lambda: ana.stats(user_id="bob"),
        ):
            with pytest.raises(AuthError) as info:
                call()
            assert info.value.status == 403
        # ...and bob's id under ana's own user_id does not exist, exactly like a random id.
        for episode_id in (secret.id, "0" * 32):
            for call in (
                lambda i=episode_id: ana.get(i, user_id="ana"),
                lambda i=episode_id: ana.update_metadata(i, {"owned": 1}, user_id="ana"),
                lambda i=episode_id: ana.delete(i, user_id="ana"),
            ):
                with pytest.raises(MemoryNotFound):
                    call()
        r1 = httpx.get(f"{served.url}/v1/memories/{secret.id}", params={"user_id": "ana"}, headers=auth(served.ana))
        r2 = httpx.get(f"{served.url}/v1/memories/{'0' * 32}", params={"user_id": "ana"}, headers=auth(served.ana))
        assert r1.status_code == r2.status_code == 404 and r1.json() == r2.json()
        assert all("4711" not in h.episode.content for h in ana.search("safe code 4711", user_id="ana"))
        assert ana.erase(user_id="ana") == 0
    assert served.memory.get(secret.id, user_id="bob") == secret  # untouched
    assert _counts(served.memory, "bob") == before


# -- validation and limits --------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"user_id": "ana"}, "messages"),
        ({"user_id": "ana", "messages": []}, "messages"),
        ({"user_id": "ana", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
        ({"user_id": "ana", "messages": [{"content": "x", "extra": 1}]}, "extra"),
        ({"user_id": "ana", "messages": [{"content": "x"}], "timestamp": "yesterday"}, "ISO 8601"),
        ({"user_id": "ana", "messages": [{"content": "   "}]}, "empty"),
        ({"user_id": "ana", "messages": [{"content": "x" * 100_001}]}, "100000"),
        ({"user_id": "", "messages": [{"content": "x"}]}, "user_id"),
    ],
)
def test_bad_add_bodies_are_422(served: Any, body: dict[str, object], fragment: str) -> None:
    r = httpx.post(f"{served.url}/v1/memories", json=body, headers=auth(served.admin))
    assert r.status_code == 422 and error_code(r) == "validation_error"
    assert fragment in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"user_id": "ana", "query": "x", "k": 1001}, "1000"),
        ({"user_id": "ana", "query": "x", "k": 0}, "k"),
        ({"user_id": "ana", "query": ""}, "query"),
        ({"user_id": "ana", "query": "x", "expand": 99}, "expand"),
        ({"user_id": "ana", "query": "x", "since": "not a time"}, "since"),
        ({"user_id": "ana", "query": "x", "channels": ["dense"]}, "encoder"),
    ],
)
def test_bad_search_bodies_are_422(served: Any, body: dict[str, object], fragment: str) -> None:
    r = httpx.post(f"{served.url}/v1/search", json=body, headers=auth(served.ana))
    assert r.status_code == 422 and error_code(r) == "validation_error"
    assert fragment in r.json()["error"]["message"]


def test_malformed_json_is_422(served: Any) -> None:
    r = httpx.post(
        f"{served.url}/v1/search",
        content=b'{"user_id": "ana", "query": ',
        headers={**auth(served.ana), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and error_code(r) == "validation_error"


def test_client_maps_validation_errors(ana: Client) -> None:
    with pytest.raises(ValidationError, match="1000"):
        ana.search("x", user_id="ana", k=5000)


def test_oversized_body_is_413_by_header_and_by_stream(served: Any) -> None:
    big = {"user_id": "ana", "messages": [{"content": "x" * 90_000}] * 3}
    r = httpx.post(f"{served.url}/v1/memories", json=big, headers=auth(served.ana))
    assert r.status_code == 413 and error_code(r) == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        yield b'{"user_id": "ana", "messages": [{"content": "'
        for _ in range(30):
            yield b"y" * 10_000
        yield b'"}]}'

    r = httpx.post(f"{served.url}/v1/memories", content=chunks(), headers=auth(served.ana))
    assert r.status_code == 413 and error_code(r) == "payload_too_large"
    assert all("yyyy" not in e.content for e in served.memory.list(user_id="ana", limit=10_000).items)


def test_unknown_route_and_method_are_json(served: Any) -> None:
    r = httpx.get(f"{served.url}/v2/nothing")
    assert r.status_code == 404 and error_code(r) == "not_found"
    r = httpx.put(f"{served.url}/v1/search", headers=auth(served.ana))
    assert r.status_code == 405 and error_code(r) == "method_not_allowed"


def test_internal_errors_do_not_leak(running: Runner) -> None:
    class Broken(Memory):
        def search(self, *args: object, **kwargs: object) -> list[object]:
            raise RuntimeError("secret internals /etc/passwd")

    memory = Broken(":memory:", encoder=None)
    with running(create_app(memory, auth=None)) as url:
        r = httpx.post(f"{url}/v1/search", json={"user_id": "a", "query": "x"})
    assert r.status_code == 500 and error_code(r) == "internal_error"
    assert "passwd" not in r.text and "RuntimeError" not in r.text


# -- no auth, and the default encoder -------------------------------------------------
def test_no_auth_app_and_default_encoder(running: Runner, encoder: Encoder) -> None:
    with (
        Memory(":memory:", encoder=encoder) as memory,
        running(create_app(memory, auth=None)) as url,
        Client(url) as c,
    ):
        c.add(["My sister lives in Porto", "I bought a red bicycle"], user_id="u")
        hits = c.search("Where is my sibling living?", user_id="u", k=1, channels=["dense"])
        assert hits[0].episode.content == "My sister lives in Porto"
        assert "dense" in hits[0].channels
        assert c.stats().vectors == 2


def test_context_endpoint_and_client(served: Any, ana: Client) -> None:
    ana.add("My sister Ines is a nurse in Glasgow", user_id="ana", session_id="ctx", timestamp="2024-03-01T10:00")
    block = ana.context("sister nurse", user_id="ana", budget_tokens=200)
    assert block.startswith("Memories relevant to: sister nurse")
    assert "[2024-03-01] user: My sister Ines is a nurse in Glasgow" in block
    r = httpx.post(f"{served.url}/v1/context", json={"user_id": "bob", "query": "sister"}, headers=auth(served.ana))
    assert r.status_code == 403 and error_code(r) == "forbidden"
    r = httpx.post(
        f"{served.url}/v1/context", json={"user_id": "ana", "query": "x", "budget_tokens": 1}, headers=auth(served.ana)
    )
    assert r.status_code == 422


def test_facts_history_entities_and_consolidate_over_http(served: Any, ana: Client) -> None:
    ana.add("I live in Porto", user_id="ana", session_id="kn1", timestamp="2022-01-01T10:00")
    ana.add("I moved to Lisbon", user_id="ana", session_id="kn2", timestamp="2023-01-01T10:00")
    local = served.memory.facts("ana", current_only=False)
    remote = ana.facts("ana", current_only=False, limit=1000)
    assert remote == local  # the client rebuilds the same dataclasses
    lives = [f for f in ana.facts("ana") if f.predicate == "lives_in"]
    assert [f.object for f in lives] == ["Lisbon"]
    chain = ana.history(lives[0].id, user_id="ana")
    assert [f.object for f in chain] == ["Porto", "Lisbon"] and not chain[0].current
    assert {e.name for e in ana.entities("ana")} >= {"Porto", "Lisbon"}
    report = ana.consolidate("ana")
    assert report["users"] == 1 and report["episodes_learned"] == 0 and report["summaries"] >= 2
    for method, path in [
        ("GET", "/v1/users/bob/facts"),
        ("GET", "/v1/users/bob/entities"),
        ("GET", f"/v1/facts/{lives[0].id}/history?user_id=bob"),
    ]:
        r = httpx.request(method, served.url + path, headers=auth(served.ana))
        assert r.status_code == 403 and error_code(r) == "forbidden"
    r = httpx.post(f"{served.url}/v1/consolidate", json={"user_id": "bob"}, headers=auth(served.ana))
    assert r.status_code == 403
    r = httpx.get(f"{served.url}/v1/facts/{lives[0].id}/history?user_id=bob", headers=auth(served.bob))
    assert r.status_code == 404 and error_code(r) == "not_found"  # another tenant's fact does not exist for bob
