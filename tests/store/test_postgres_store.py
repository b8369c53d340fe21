"""The PostgreSQL store on a real server: migrations, FTS5-equal tokens and BM25, many writers."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hippodex import Memory, SchemaError, StoreError
from hippodex.extract import FactCandidate
from hippodex.recall.cues import stored_reading
from hippodex.store.base import Filters
from hippodex.store.postgres_schema import MIGRATIONS, SCHEMA_VERSION
from hippodex.store.postgres_text import FTS5_TOKENIZE, analyze, tsvector_literal
from hippodex.store.sqlite_schema import MIGRATIONS as SQLITE_MIGRATIONS

psycopg = pytest.importorskip("psycopg")

TEXTS = [
    "[Monday, 8 May 2023] Ana: I moved to Lisbon, running generously — café naïve Zürich",
    "e-mail me at ana@example.com about the 3.5 GHz CPU's price (€1,200)",
    "Œuvre straße İstanbul 東京 emoji 🙂 under_score CamelCase x2y3",
    "",
]


def test_tokens_equal_the_sqlite_stores_fts5_tokens() -> None:
    assert any(FTS5_TOKENIZE in str(step) for step in SQLITE_MIGRATIONS[1])  # the same tokenizer as the SQLite store
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE f USING fts5 (body, tokenize = '{FTS5_TOKENIZE}')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab (f, instance)")
    db.executemany("INSERT INTO f (rowid, body) VALUES (?, ?)", enumerate(TEXTS))
    expected: list[list[str]] = [[] for _ in TEXTS]
    for term, doc in db.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
        expected[doc].append(term)
    assert analyze(TEXTS) == expected
    assert expected[0][:4] == ["mondai", "8", "mai", "2023"] and "cafe" in expected[0]


def test_bm25_scores_match_sqlite_fts5_for_one_user(pg_url: str, tmp_path: Path) -> None:
    """With one user, per-tenant statistics are the whole table's: scores equal FTS5's bm25()."""
    turns = [
        "I moved to Lisbon in May and love the river",
        "Lisbon trams are yellow; Lisbon hills are steep",
        "My sister runs a bakery in Porto",
        "We ran a half marathon along the river",
        "Tea with lemon every morning",
    ] * 3
    scores = []
    for target in (str(tmp_path / "m.db"), pg_url):
        with Memory(target, encoder=None) as m:
            for i in range(0, len(turns), 4):
                m.add(turns[i : i + 4], user_id="ana", session_id=f"s{i // 8}", timestamp="2023-05-08")
            terms = ["lisbon", "river", "running"]
            scores.append(
                (
                    m.store.lexical("ana", terms, Filters(), 20),
                    m.store.session_lexical("ana", terms, Filters()),
                    m.store.lexical("ana", terms, Filters(session_ids=("s1",)), 20),
                )
            )
    (sq_turns, sq_sessions, sq_filtered), (pg_turns, pg_sessions, pg_filtered) = scores
    assert len(sq_turns) == len(pg_turns) > 5
    assert dict(sq_turns).keys() != set() and [s for _, s in sq_turns] == pytest.approx([s for _, s in pg_turns])
    assert sq_sessions.keys() == pg_sessions.keys() and list(sq_sessions.values()) == pytest.approx(
        list(pg_sessions.values())
    )
    assert [s for _, s in sq_filtered] == pytest.approx([s for _, s in pg_filtered])


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return {r[0] for r in rows}


def test_migrates_an_empty_database(pg_url: str) -> None:
    with Memory(pg_url, encoder=None) as m:
        assert m.stats().schema_version == SCHEMA_VERSION
        assert m.store.meta("schema_version") == str(SCHEMA_VERSION)
    assert {"meta", "scopes", "sessions", "episodes", "vectors", "api_keys"} <= _tables(pg_url)
    with Memory(pg_url, encoder=None) as m:  # opening again changes nothing
        assert m.stats().episodes == 0


def test_migrates_from_version_2_keeping_data(pg_url: str) -> None:
    """Version 2 is the last without the knowledge tables; every later step runs on the way up."""
    previous = 2
    with psycopg.connect(pg_url) as conn:
        for v in range(1, previous + 1):
            for step in MIGRATIONS[v]:
                conn.execute(step)
        conn.execute("INSERT INTO meta VALUES ('schema_version', %s)", (str(previous),))
        key = "[Monday, 8 May 2023] user: I keep bees on the roof"
        tokens = analyze([key])[0]
        from hippodex.store.sqlite import tenant_token

        conn.execute(
            "INSERT INTO scopes VALUES ('u', nextval('scope_version_seq'), currval('scope_version_seq'), 1, %s)",
            (len(tokens) + 1,),
        )
        conn.execute(
            "INSERT INTO episodes (user_id, id, session_id, seq, role, content, occurred_at, recorded_at, key, "
            "key_len, tsv) VALUES ('u', 'e1', 's', 0, 'user', 'I keep bees on the roof', 1683504000, 1683504000, "
            "%s, %s, %s::tsvector)",
            (key, len(tokens), tsvector_literal(tokens, tenant_token("u"))),
        )
        conn.execute(
            "INSERT INTO sessions VALUES ('u', 's', NULL, NULL, 1683504000, 1683504000, 1, %s::tsvector, %s)",
            (tsvector_literal(tokens), len(tokens)),
        )
    assert "facts" not in _tables(pg_url)
    with Memory(pg_url, encoder=None) as m:
        assert m.stats().schema_version == SCHEMA_VERSION
        assert m.search("bees", user_id="u")[0].episode.id == "e1"
        assert m.add("and honey", user_id="u", session_id="s")[0].seq == 1
        # the row from before has no cue reading (read at search, stored by reindex); the new one has
        texts = m.store.texts("u", m.store.layout("u").rowids.tolist())
        assert sorted((t.content, t.cues) for t in texts.values()) == [
            ("I keep bees on the roof", None),
            ("and honey", stored_reading("and honey")),
        ]
        # learning after the add read the episode from before the upgrade too
        assert m.store.learn_cursor("u") == max(r for r, _ in m.store.episodes_after("u", 0, 10))
        assert m.consolidate(user_id="u").learned.episodes == 0 and m.store.summary("u", "s") is not None
    assert {"api_keys", "facts", "learn_state", "part_vectors", "words"} <= _tables(pg_url)


def test_refuses_a_newer_schema_and_foreign_tables(pg_url: str, pg_databases: Any) -> None:
    Memory(pg_url, encoder=None).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(SchemaError, match="newer"):
        Memory(pg_url, encoder=None)
    other = pg_databases.create()
    try:
        with psycopg.connect(other) as conn:
            conn.execute("CREATE TABLE episodes (x int)")
        with pytest.raises(SchemaError, match="not a hippodex memory"):
            Memory(other, encoder=None)
    finally:
        pg_databases.drop(other)


def test_unreachable_server_is_a_store_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://ana:s3cret@/nowhere?host={tmp_path}"
    with pytest.raises(StoreError) as err:
        Memory(url, encoder=None)
    assert "s3cret" not in str(err.value) and "ana:***@" in str(err.value)


def test_repr_hides_the_password(pg_url: str) -> None:
    with Memory(pg_url.replace("postgres:@", "postgres:pw@"), encoder=None) as m:
        assert "pw" not in repr(m) and "***" in repr(m)


def test_vectors_round_trip_exactly(pg_url: str, encoder: Any) -> None:
    with Memory(pg_url, encoder=encoder) as m:
        m.add(["I keep bees", "the roof leaks"], user_id="u", session_id="s")
        vs = m.store.vectors("u", encoder.name)
        assert vs.matrix.dtype == np.float32 and vs.matrix.shape == (2, encoder.dim)
        keys = [k for _, _, k in m.store.keys_after(0, 10)]
        assert np.array_equal(vs.matrix, np.asarray(encoder.encode(keys), dtype=np.float32))


# -- many processes on one database -------------------------------------------------------
def _worker(url: str, worker: int, seconds: float, out: Any) -> None:
    """Write batches to its own user and to a shared one, and search, until time is up."""
    written = {"own": 0, "shared": 0, "searches": 0, "errors": 0}
    try:
        with Memory(url, encoder=None) as m:
            deadline = time.monotonic() + seconds
            i = 0
            while time.monotonic() < deadline:
                m.add([f"worker {worker} note {i} about kayaks", f"tea number {i}"], user_id=f"w{worker}")
                written["own"] += 2
                m.add(f"shared kayak log {worker}-{i}", user_id="shared", session_id="log")
                written["shared"] += 1
                assert m.search("kayak", user_id="shared", k=5)
                assert len(m.search("kayaks tea", user_id=f"w{worker}", k=3)) >= 1
                written["searches"] += 2
                i += 1
    except Exception as exc:  # counted and reported, never swallowed
        written["errors"] += 1
        written["error"] = repr(exc)  # type: ignore[assignment]
    out.put((worker, written))


def test_several_processes_write_and_search_without_losing_writes(pg_url: str) -> None:
    Memory(pg_url, encoder=None).close()  # schema ready before the race
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(pg_url, w, 4.0, out)) for w in range(4)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    assert all(r["errors"] == 0 for r in results.values()), results
    with Memory(pg_url, encoder=None) as m:
        for w, r in results.items():
            assert r["own"] > 0 and m.stats(user_id=f"w{w}").episodes == r["own"]
        shared = sum(r["shared"] for r in results.values())
        assert m.stats(user_id="shared").episodes == shared
        seqs = [e.seq for e in m.list(user_id="shared", limit=10_000).items]
        assert sorted(seqs) == list(range(shared))  # one session, no seq given twice
        assert len(m.search("kayak", user_id="shared", k=shared)) == shared


# -- many processes learning one user at once ------------------------------------------
LEARN_TURNS = [f"Yesterday I gave Rex toy number {i}" for i in range(12)]


class _SlowScript:
    """Each turn claims one fact; extraction is slow, so learners in different processes overlap."""

    name = "slow-script"

    def extract(self, content: str, *, speaker: str | None, role: str, occurred_at: Any) -> list[FactCandidate]:
        time.sleep(0.05)
        toy = content.rsplit(" ", 1)[-1]
        return [FactCandidate("Rex", "chewed", f"toy {toy}", f"Rex chewed toy {toy}.", 0.8, False, None, False)]


def _learner(url: str, barrier: Any, out: Any) -> None:
    try:
        with Memory(url, encoder=None, facts=_SlowScript(), learn_on_add=False) as m:
            barrier.wait(60)
            out.put(m.consolidate(user_id="u").to_dict())
    except Exception as exc:  # reported to the test, never swallowed
        out.put({"error": repr(exc)})


def test_processes_learning_one_user_at_once_learn_each_episode_once(pg_url: str) -> None:
    with Memory(pg_url, encoder=None, learn_on_add=False) as m:
        for i, text in enumerate(LEARN_TURNS):
            m.add(text, user_id="u", session_id=f"s{i % 3}")
    ctx = multiprocessing.get_context("spawn")
    out, barrier = ctx.Queue(), ctx.Barrier(3)
    procs = [ctx.Process(target=_learner, args=(pg_url, barrier, out)) for _ in range(3)]
    for p in procs:
        p.start()
    reports = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert all("error" not in r for r in reports), reports
    assert sum(int(r["episodes_learned"]) for r in reports) == len(LEARN_TURNS)  # nobody learned a turn twice
    assert sum(int(r["facts_added"]) for r in reports) == len(LEARN_TURNS)
    with Memory(pg_url, encoder=None) as m:
        facts = m.facts("u", limit=100)
        assert len(facts) == len(LEARN_TURNS) and all(f.seen == 1 and len(f.sources) == 1 for f in facts)
        assert {e.name: e.mentions for e in m.entities("u")}["Rex"] == len(LEARN_TURNS)
        assert m.store.learn_cursor("u") == max(r for r, _ in m.store.episodes_after("u", 0, 100))
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT count(*), max(count) FROM mentions WHERE user_id = 'u'").fetchone()
        assert row == (len(LEARN_TURNS), 1)
