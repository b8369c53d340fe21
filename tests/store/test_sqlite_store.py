"""The SQLite store: schema checks, migrations, durability, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hippodex import Memory, SchemaError, StoreError
from hippodex.store.sqlite import SQLiteStore
from hippodex.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION


def test_new_file_records_schema_and_versions(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    assert store.meta("hippodex_version")
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database " * 100)
    with pytest.raises(SchemaError, match="not a SQLite database"):
        Memory(path, encoder=None)
    assert path.read_text().startswith("these are my notes")


def test_a_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    db.execute("INSERT INTO invoices VALUES (1, 9.5)")
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match="not a hippodex memory"):
        Memory(path, encoder=None)
    assert sqlite3.connect(path).execute("SELECT total FROM invoices").fetchone()[0] == 9.5


def test_a_newer_schema_is_refused_with_upgrade_hint(db_path: Path) -> None:
    Memory(db_path, encoder=None).close()
    db = sqlite3.connect(db_path)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match=r"newer than this hippodex.*pip install -U"):
        Memory(db_path, encoder=None)


def test_missing_folder_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Memory(tmp_path / "no" / "such" / "dir" / "m.db", encoder=None)


def test_migrations_are_forward_only_and_contiguous() -> None:
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))


def test_migration_from_an_older_version_keeps_data(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate the next schema version: an old file is brought forward and keeps its rows."""
    with Memory(db_path, encoder=None) as m:
        ep = m.add("kept across upgrades", user_id="u")[0]
    from hippodex.store import sqlite as sqlite_mod

    future = {**MIGRATIONS, SCHEMA_VERSION + 1: ["CREATE TABLE future_feature (x INTEGER)"]}
    monkeypatch.setattr(sqlite_mod, "MIGRATIONS", future)
    monkeypatch.setattr(sqlite_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = SQLiteStore(db_path)
    assert store.meta("schema_version") == str(SCHEMA_VERSION + 1)
    assert store.get("u", ep.id).content == "kept across upgrades"
    store.close()


def _opener(path: str, start: Any, out: mp.Queue) -> None:
    start.wait()
    try:
        SQLiteStore(path).close()
        out.put("opened")
    except Exception as exc:  # the parent reports what failed
        out.put(f"{type(exc).__name__}: {exc}")


def test_processes_that_open_a_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    """Several workers starting on one new file: each but the first finds it created (and migrated) meanwhile."""
    ctx = mp.get_context("spawn")
    for trial in range(2):
        path = str(tmp_path / f"new-{trial}.db")
        start, out = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_opener, args=(path, start, out)) for _ in range(4)]
        for p in procs:
            p.start()
        opened = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        assert opened == ["opened"] * 4
        store = SQLiteStore(path)
        assert store.meta("schema_version") == str(SCHEMA_VERSION)
        store.close()


def _writer(path: str, worker: int, n: int, out: mp.Queue) -> None:
    with Memory(path, encoder=None) as m:
        ids = [m.add(f"worker {worker} note {i}", user_id=f"w{worker % 2}")[0].id for i in range(n)]
    out.put(ids)


def test_several_processes_write_one_file_without_loss(db_path: Path) -> None:
    Memory(db_path, encoder=None).close()
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(db_path), w, 40, out)) for w in range(4)]
    for p in procs:
        p.start()
    acknowledged = [i for _ in procs for i in out.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    with Memory(db_path, encoder=None) as m:
        assert m.stats().episodes == 160 == len(set(acknowledged))
        stored = {e["id"] for e in m.export()}
        assert stored == set(acknowledged)


def test_vector_cache_sees_writes_from_another_connection(db_path: Path, encoder) -> None:  # type: ignore[no-untyped-def]
    with Memory(db_path, encoder=encoder) as reader, Memory(db_path, encoder=encoder) as writer:
        writer.add("the boat is moored in Cascais", user_id="u")
        assert reader.search("sailing harbour", user_id="u", channels=["dense"])
        ep = writer.add("my bicycle is red", user_id="u")[0]
        assert reader.search("bike colour", user_id="u", channels=["dense"], k=1)[0].episode.id == ep.id
        writer.delete(ep.id, user_id="u")
        assert all(h.episode.id != ep.id for h in reader.search("bike colour", user_id="u", channels=["dense"]))


def test_version_1_file_is_migrated_and_its_session_documents_backfilled(db_path: Path) -> None:
    from hippodex.store.base import Filters
    from hippodex.store.sqlite import tenant_token

    # A file exactly as schema 1 wrote it: its tables, two sessions of one user.
    db = sqlite3.connect(db_path)
    for statement in MIGRATIONS[1]:
        db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    turns = [
        (1, "bread", 0, "we talked about sourdough"),
        (2, "bread", 1, "and rye starters"),
        (3, "garden", 0, "gardening tips"),
    ]
    for rowid, session, seq, text in turns:
        db.execute(
            "INSERT INTO episodes (rowid, id, user_id, session_id, seq, role, content, occurred_at, "
            "recorded_at) VALUES (?, ?, 'u', ?, ?, 'user', ?, 0, 0)",
            (rowid, f"e{rowid}", session, seq, text),
        )
        db.execute("INSERT INTO episodes_fts (rowid, body, tenant) VALUES (?, ?, ?)", (rowid, text, tenant_token("u")))
    db.commit()
    db.close()
    store = SQLiteStore(db_path)
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    assert set(store.session_lexical("u", ["sourdough", "rye"], Filters())) == {"bread"}
    assert set(store.session_lexical("u", ["gardening"], Filters())) == {"garden"}
    assert store.get("u", "e2").content == "and rye starters"
    store.close()


def test_session_documents_follow_adds_and_deletes(db_path: Path) -> None:
    from hippodex.store.base import Filters

    with Memory(db_path, encoder=None) as m:
        first = m.add("kayak trip planning", user_id="u", session_id="s")[0]
        m.add("paddles and dry bags", user_id="u", session_id="s")
        assert set(m.store.session_lexical("u", ["kayak", "paddles"], Filters())) == {"s"}
        m.delete(first.id, user_id="u")
        assert m.store.session_lexical("u", ["kayak"], Filters()) == {}
        assert set(m.store.session_lexical("u", ["paddles"], Filters())) == {"s"}
        assert m.store.session_lexical("someone-else", ["paddles"], Filters()) == {}


def test_threads_share_one_memory_safely(db_path: Path) -> None:
    """Readers and writers on one Memory from several threads: every write lands, no error."""
    import threading

    errors: list[BaseException] = []
    with Memory(db_path, encoder=None) as m:

        def writer(n: int) -> None:
            try:
                for i in range(30):
                    m.add(f"thread {n} note {i} about gardening", user_id="u", session_id=f"t{n}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                for _ in range(60):
                    for hit in m.search("gardening note", user_id="u", k=5):
                        assert hit.episode.user_id == "u"
                    m.list(user_id="u", limit=5)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        assert m.stats().episodes == 90
        assert len(list(m.export(user_id="u"))) == 90
