"""PostgreSQL edges: a schema of its own, long sessions, outages, concurrent metadata merges."""

from __future__ import annotations

import multiprocessing
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from tests.pg_sessions import drop_connections

from hippodex import Memory, StoreError
from hippodex.encode.base import Encoder
from hippodex.store.base import Filters
from hippodex.store.lexical_index import HasLexicalIndex, group_scores
from hippodex.store.postgres_text import query_lexemes

psycopg = pytest.importorskip("psycopg")


def _in_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"


def _admin(url: str, statement: str) -> Any:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else None


def _vector_schema(url: str) -> str:
    rows = _admin(
        url,
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'vector'",
    )
    return str(rows[0][0])


# -- 1. a schema of its own --------------------------------------------------------------
def test_own_schema_works_with_pgvector_in_public(pg_url: str, encoder: Encoder) -> None:
    _admin(pg_url, "CREATE SCHEMA hippodex")
    url = _in_schema(pg_url, "hippodex")
    with Memory(url, encoder=encoder) as m:
        m.add("I moved to Lisbon in May", user_id="ana")
        assert m.search("where does Ana live?", user_id="ana", k=1)[0].episode.content == "I moved to Lisbon in May"
    with Memory(url, encoder=encoder) as m:  # opened again: the type is found outside the search_path too
        assert m.stats(user_id="ana").episodes == 1
    tables = _admin(pg_url, "SELECT schemaname FROM pg_tables WHERE tablename = 'vectors'")
    assert tables == [("hippodex",)] and _vector_schema(pg_url) == "public"


@pytest.fixture
def bare_db(pg_server: Any) -> Iterator[str]:
    """A database without pgvector (made from template0)."""
    name = f"hdx_bare_{secrets.token_hex(4)}"
    _admin(pg_server.get_uri("postgres"), f"CREATE DATABASE {name} TEMPLATE template0")
    yield str(pg_server.get_uri(name))
    _admin(pg_server.get_uri("postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_two_schemas_in_one_database_without_pgvector(bare_db: str, encoder: Encoder) -> None:
    for schema in ("one", "two"):
        _admin(bare_db, f"CREATE SCHEMA {schema}")
        with Memory(_in_schema(bare_db, schema), encoder=encoder) as m:
            m.add(f"a note kept in schema {schema}", user_id="u")
    assert _vector_schema(bare_db) == "public"  # installed once, where both schemas find it
    for schema in ("one", "two"):
        with Memory(_in_schema(bare_db, schema), encoder=encoder) as m:
            assert [h.episode.content for h in m.search("note", user_id="u")] == [f"a note kept in schema {schema}"]


def test_search_path_naming_no_schema_is_a_clear_error(pg_url: str) -> None:
    with pytest.raises(StoreError, match="CREATE SCHEMA"):
        Memory(_in_schema(pg_url, "missing"), encoder=None)


# -- 2. a session longer than a tsvector holds ---------------------------------------------
def test_long_session_stays_writable_and_ranked(db_target: str) -> None:
    rng = np.random.default_rng(7)
    with Memory(db_target, encoder=None) as m:
        for i in range(40):  # ~1.4 MB of distinct words: past tsvector's 1 MB from about the 21st
            words = " ".join(f"{w:08x}" for w in rng.integers(0, 2**32, 4000))
            m.add(f"turn {i} mentions kayak {words}", user_id="u", session_id="long")
        m.add("a short chat about kayak trips", user_id="u", session_id="short")
        assert m.stats(user_id="u").episodes == 41
        found = m.store.session_lexical("u", ["kayak"], Filters())
        assert set(found) == {"long", "short"} and all(s > 0 for s in found.values())
        store = m.store
        if isinstance(store, HasLexicalIndex) and store.lexical_index_exact:  # PostgreSQL: same as the index
            layout = store.layout("u")
            got = group_scores(store.lexical_index("u"), query_lexemes(["kayak"]), layout.session, 2)
            assert dict(zip(layout.sessions, got.tolist(), strict=True)) == pytest.approx(found)
        m.delete(m.list(user_id="u", limit=1).items[0].id, user_id="u")
        m.add("one more turn about kayak", user_id="u", session_id="long")
        assert m.search("kayak", user_id="u", k=3)


# -- 3. the server going away --------------------------------------------------------------
def test_connections_the_server_dropped_are_replaced(pg_url: str) -> None:
    with Memory(pg_url, encoder=None) as m:
        m.add("before the restart", user_id="u")
        drop_connections(pg_url)
        assert m.stats(user_id="u").episodes == 1  # no "terminating connection" first
        m.add("after the restart", user_id="u")


@pytest.fixture
def own_server() -> Iterator[Any]:
    """A PostgreSQL server of this test's own, free to stop and start."""
    pgserver = pytest.importorskip("pgserver")
    folder = tempfile.mkdtemp(prefix="hdx-own-")
    try:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        _admin(server.get_uri("template1"), "CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:
        pytest.skip(f"a second PostgreSQL (pgserver) could not start in {folder}: {exc}")
    holder = {"server": server, "folder": folder}
    yield holder
    holder["server"].cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def test_outage_fails_promptly_and_recovers_at_once(own_server: dict[str, Any]) -> None:
    import pgserver

    server = own_server["server"]
    url = server.get_uri("postgres")
    with Memory(url, encoder=None) as m:
        m.add("before the outage", user_id="u")
        server.cleanup()  # stop it
        for call in (lambda: m.add("during", user_id="u"), lambda: m.search("outage", user_id="u")):
            t0 = time.monotonic()
            with pytest.raises(StoreError) as err:
                call()
            assert time.monotonic() - t0 < 4.0
            assert "cannot reach" in str(err.value) and "read" not in str(err.value)
        own_server["server"] = pgserver.get_server(own_server["folder"], cleanup_mode="stop")
        assert own_server["server"].get_uri("postgres") == url
        t0 = time.monotonic()
        m.add("after the outage", user_id="u")
        assert time.monotonic() - t0 < 3.0
        assert m.stats(user_id="u").episodes == 2


def test_quick_restart_is_invisible(own_server: dict[str, Any]) -> None:
    import pgserver

    url = own_server["server"].get_uri("postgres")
    with Memory(url, encoder=None) as m:
        m.add("before", user_id="u")
        own_server["server"].cleanup()
        own_server["server"] = pgserver.get_server(own_server["folder"], cleanup_mode="stop")
        t0 = time.monotonic()
        m.add("after", user_id="u")
        assert time.monotonic() - t0 < 3.0 and m.stats(user_id="u").episodes == 2


# -- 4. concurrent metadata merges -------------------------------------------------------------
def _merger(target: str, episode_id: str, worker: int, barrier: Any, out: Any) -> None:
    try:
        with Memory(target, encoder=None) as m:
            barrier.wait(60)
            for i in range(50):
                m.update_metadata(episode_id, {f"w{worker}-{i}": i}, user_id="u")
        out.put("ok")
    except Exception as exc:  # reported to the test, never swallowed
        out.put(repr(exc))


def test_concurrent_merges_lose_nothing(db_target: str) -> None:
    with Memory(db_target, encoder=None) as m:
        ep = m.add("one episode everyone tags", user_id="u", metadata={"kept": True})[0]
    ctx = multiprocessing.get_context("spawn")
    out, barrier = ctx.Queue(), ctx.Barrier(2)
    procs = [ctx.Process(target=_merger, args=(db_target, ep.id, w, barrier, out)) for w in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(30)
    assert results == ["ok", "ok"]
    with Memory(db_target, encoder=None) as m:
        assert len(m.get(ep.id, user_id="u").metadata) == 101  # 2 x 50 merged keys and the first one


def test_merge_past_the_size_limit_leaves_metadata_as_it_was(db_target: str) -> None:
    from hippodex import ValidationError

    with Memory(db_target, encoder=None) as m:
        ep = m.add("tagged", user_id="u", metadata={"a": "x" * 40_000})[0]
        with pytest.raises(ValidationError, match="larger than"):
            m.update_metadata(ep.id, {"b": "y" * 40_000}, user_id="u")
        assert m.get(ep.id, user_id="u").metadata == {"a": "x" * 40_000}
