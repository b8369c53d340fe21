"""The embedded default store: one SQLite file (WAL, FTS5) per memory.

Every ``add`` is one ``BEGIN IMMEDIATE`` transaction with ``synchronous=FULL``,
so what it returns survives a crash. Vectors are loaded per user into numpy
arrays and kept until another write to that user (in any process) bumps its
version.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from hippodex._exceptions import MemoryNotFound, SchemaError, StoreError, ValidationError
from hippodex.encode.quantize import TIER_FLOAT32, TIERS, decode, encode, pack_int8, unpack_int8
from hippodex.model import Episode, Page, Scope, Session
from hippodex.recall.cues import stored_reading
from hippodex.recall.text import content_words
from hippodex.store import word_sql
from hippodex.store.base import (
    ClosedConnection,
    EntityGraph,
    Filters,
    Layout,
    MetadataCheck,
    NewEpisode,
    StoredText,
    VectorSet,
    build_layout,
    new_metadata,
)
from hippodex.store.lexical_index import LexicalIndex, from_instances
from hippodex.store.postgres_text import analyze
from hippodex.store.sql import (
    JSON_MEMBER_EQUALS,
    SQLITE,
    filter_sql,
    json_member_equals,
    stamp_schema,
    stored_schema_version,
)
from hippodex.store.sqlite_knowledge import SQLiteKnowledge
from hippodex.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION, _tenant
from hippodex.store.token_sets import TokenCache, TokenSet

_EPISODE_COLUMNS = (
    "rowid, id, user_id, agent_id, run_id, session_id, seq, role, speaker, content, occurred_at, recorded_at, metadata"
)


def new_episode_id() -> str:
    """A 32-hex id that sorts by creation time (48-bit ms clock, 80 random bits)."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def key_hash(key: str) -> str:
    """Content hash of an index key; vectors are reused across identical keys."""
    return hashlib.sha256(key.encode()).hexdigest()


def tenant_token(user_id: str) -> str:
    """An opaque FTS token standing for one user."""
    return _tenant(user_id)


def encoder_tag(encoder: str) -> str:
    """A short stand-in for an encoder name in ``vector_codes`` (8 bytes a row, not the name's 20-30)."""
    return hashlib.sha256(encoder.encode()).hexdigest()[:8]


def fts_match(user_id: str, terms: Sequence[str], only_user: bool = False) -> str:
    """An FTS5 query: any of the terms, within one user's rows.

    Each term is a quoted FTS5 string, so nothing the user typed is ever read
    as query syntax (quotes inside are doubled, as FTS5 expects). With
    ``only_user`` (the file holds no other user) the tenant token is left
    out: it would match every row, and intersecting with it costs ~15%.
    """
    body = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
    if only_user:
        return f"body : ({body})"
    return f'tenant : "{tenant_token(user_id)}" AND body : ({body})'


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _row_to_episode(row: sqlite3.Row | tuple[Any, ...]) -> Episode:
    (_, eid, user_id, agent_id, run_id, session_id, seq, role, speaker, content, occurred_at, recorded_at, metadata) = (
        row
    )
    return Episode(
        id=eid,
        user_id=user_id,
        agent_id=agent_id,
        run_id=run_id,
        session_id=session_id,
        seq=seq,
        role=role,
        speaker=speaker,
        content=content,
        occurred_at=_dt(occurred_at),
        recorded_at=_dt(recorded_at),
        metadata=json.loads(metadata),
    )


def _file_path(path: str | os.PathLike[str]) -> str:
    """The database file ``path`` names, ``~`` expanded; a StoreError when it can name none."""
    text = os.fspath(path)
    if text == ":memory:":
        return text
    if not text:  # sqlite3 would open a private temporary database: every add would be lost on close
        raise StoreError("no database path given (it is empty): name a file such as memory.db")
    text = os.path.expanduser(text)
    if os.path.isdir(text):
        raise StoreError(
            f"{text} is a folder, not a database file: name a file in it, such as {Path(text) / 'memory.db'}"
        )
    parent = Path(text).resolve().parent
    if not parent.is_dir():
        raise StoreError(f"cannot create {text}: folder {parent} does not exist")
    return text


def _open_error(path: str, exc: sqlite3.Error) -> StoreError:
    """What to raise when SQLite cannot open ``path``, saying what is wrong with it."""
    code = _primary_code(exc)
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return SchemaError(f"{path} is not a SQLite database hippodex can open: {exc}")
    reason = _read_only(path, exc)
    if reason is None and code == sqlite3.SQLITE_CANTOPEN:
        if not os.path.exists(path) and not os.access(Path(path).resolve().parent, os.W_OK):
            reason = f"folder {Path(path).resolve().parent} is not writable"
        elif os.path.exists(path) and not os.access(path, os.R_OK):
            reason = "the file is not readable (permission denied)"
    return StoreError(f"cannot open {path}: {reason or exc}")


def _primary_code(exc: sqlite3.Error) -> int:
    """SQLite's result code without its extended bits (0 for errors of the sqlite3 module's own)."""
    return int(getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _read_only(path: str, exc: sqlite3.Error) -> str | None:
    """Why SQLite found ``path`` read-only (None when that is not what ``exc`` says)."""
    if _primary_code(exc) != sqlite3.SQLITE_READONLY:
        return None
    folder = Path(path).resolve().parent
    if os.path.exists(path) and not os.access(path, os.W_OK):
        where = "the file is read-only"
    elif not os.access(folder, os.W_OK):
        where = f"its folder {folder} is read-only"
    else:
        where = "it was opened read-only"
    # WAL mode: every connection, readers too, needs the -wal and -shm files beside the database.
    return f"{where}; hippodex needs to write the file and create {Path(path).name}-wal and -shm beside it ({exc})"


def _enter_wal(db: sqlite3.Connection, seconds: float = 10.0) -> None:
    """Switch the file to WAL, waiting out other processes doing the same.

    SQLite can answer "database is locked" to the switch without calling the
    busy handler when several processes open a new file at once (here, in about
    one start of four processes in twenty), so the wait is here rather than in
    ``busy_timeout``.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if _primary_code(exc) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Serialise a read on the shared connection: a read from another thread
    must never run inside a write transaction that is still open."""

    @functools.wraps(method)
    def wrapper(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _filter_sql(filters: Filters, alias: str = "e") -> tuple[str, list[Any]]:
    return filter_sql(filters, SQLITE, alias)


class SQLiteStore(SQLiteKnowledge):
    """Episodes, index keys and vectors (and, through :class:`SQLiteKnowledge`,
    facts and entities) in one SQLite file.

    >>> store = SQLiteStore(":memory:")
    >>> store.stats(None)["episodes"]
    0
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = _file_path(path)
        self._lock = threading.RLock()
        self._cache: dict[tuple[str, str], tuple[int, int, int, VectorSet]] = {}
        self._words = word_sql.WordCaches()
        self._tokens = TokenCache()
        self._layouts: dict[str, tuple[int, Layout]] = {}
        self._graphs: dict[str, tuple[tuple[int, int], EntityGraph]] = {}
        self._lexicons: dict[str, tuple[int, int, LexicalIndex]] = {}
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise _open_error(self.path, exc) from exc
        try:
            self._db.create_function(JSON_MEMBER_EQUALS, 3, json_member_equals, deterministic=True)
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.execute("PRAGMA foreign_keys = ON")
            # Erased text must not linger in freed pages of the file.
            self._db.execute("PRAGMA secure_delete = ON")
            self._migrate()
            if self.path != ":memory:":
                _enter_wal(self._db)
            self._db.execute("PRAGMA synchronous = FULL")
        except (sqlite3.Error, StoreError) as exc:
            self._db.close()
            cause = exc.__cause__ if isinstance(exc, StoreError) else exc
            if not isinstance(cause, sqlite3.Error):  # SchemaError: the file's tables were read and refused
                raise
            raise _open_error(self.path, cause) from cause

    # -- schema -----------------------------------------------------------
    def _migrate(self) -> None:
        if self._schema_version() == SCHEMA_VERSION:
            return
        with self._write():
            # Read again under the write lock: processes that open one file at once all saw
            # the old version, and each but the first finds it migrated by then.
            version = self._schema_version()
            if version == SCHEMA_VERSION:
                return
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for step in MIGRATIONS[v]:
                    if callable(step):
                        step(self._db)
                    else:
                        self._db.execute(step)
            stamp_schema(self._db, SQLITE, SCHEMA_VERSION)

    def _schema_version(self) -> int:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return stored_schema_version(self._db, self.path, tables, current=SCHEMA_VERSION, hint="choose another path")

    @_locked
    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._write():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; sqlite errors become StoreError."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"cannot write to {self.path}: {_read_only(self.path, exc) or exc}") from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"write to {self.path} failed: {_read_only(self.path, exc) or exc}") from exc
                raise

    def _bump(self, user_id: str, deletions: int = 0) -> None:
        self._db.execute(
            "INSERT INTO scope_versions (user_id, version, deletions) VALUES (?, 1, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET version = version + 1, "
            "deletions = deletions + excluded.deletions",
            (user_id, deletions),
        )

    # -- writes -------------------------------------------------------------
    def add(
        self,
        scope: Scope,
        session_id: str,
        items: Sequence[NewEpisode],
        vectors: np.ndarray | None,
        encoder: str | None,
    ) -> list[Episode]:
        now = time.time()
        out: list[Episode] = []
        token = tenant_token(scope.user_id)
        with self._write() as db:
            row = db.execute(
                "SELECT next_seq, agent_id, run_id FROM sessions WHERE user_id = ? AND session_id = ?",
                (scope.user_id, session_id),
            ).fetchone()
            next_seq = 0 if row is None else int(row[0])
            times = [_ts(it.occurred_at) for it in items]
            rowids: list[int] = []
            token_rows: dict[str, list[tuple[int, int, bytes]]] = {}
            for i, it in enumerate(items):
                seq = it.seq if it.seq is not None else next_seq
                next_seq = max(next_seq, seq + 1)
                eid = it.id or new_episode_id()
                recorded = _ts(it.recorded_at) if it.recorded_at else now
                meta = json.dumps(it.metadata, ensure_ascii=False)
                cur = db.execute(
                    "INSERT INTO episodes (id, user_id, agent_id, run_id, session_id, seq, role, "
                    "speaker, content, occurred_at, recorded_at, metadata, cues) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        eid,
                        scope.user_id,
                        scope.agent_id,
                        scope.run_id,
                        session_id,
                        seq,
                        it.role,
                        it.speaker,
                        it.content,
                        times[i],
                        recorded,
                        meta,
                        stored_reading(it.content),
                    ),
                )
                rowid = cur.lastrowid
                assert rowid is not None  # an INSERT into a rowid table always sets it
                rowids.append(rowid)
                db.execute("INSERT INTO episodes_fts (rowid, body, tenant) VALUES (?, ?, ?)", (rowid, it.key, token))
                if vectors is not None and encoder is not None:
                    db.execute(
                        "INSERT INTO vectors (rowid, user_id, key_hash, encoder, vec) VALUES (?, ?, ?, ?, ?)",
                        (
                            rowid,
                            scope.user_id,
                            key_hash(it.key),
                            encoder,
                            np.ascontiguousarray(vectors[i], dtype=np.float32).tobytes(),
                        ),
                    )
                    if it.parts is not None and len(it.parts):
                        db.execute(
                            "INSERT INTO part_vectors (user_id, encoder, episode, count, vecs) VALUES (?, ?, ?, ?, ?)",
                            (scope.user_id, encoder_tag(encoder), rowid, len(it.parts), pack_int8(it.parts)),
                        )
                if it.token_vectors is not None and len(it.token_vectors[1]):
                    late_model, late_rows = it.token_vectors
                    blob = pack_int8(late_rows)
                    db.execute(
                        "INSERT INTO part_vectors (user_id, encoder, episode, count, vecs) VALUES (?, ?, ?, ?, ?)",
                        (scope.user_id, encoder_tag(late_model), rowid, len(late_rows), blob),
                    )
                    token_rows.setdefault(encoder_tag(late_model), []).append((rowid, len(late_rows), blob))
                out.append(it.stored(scope, session_id, eid, seq, _dt(times[i]), _dt(recorded)))
            words = {w: v for it in items for w, v in (it.word_vectors or {}).items()}
            tag = encoder_tag(encoder) if encoder is not None else None
            item_words = [content_words(it.content) for it in items]
            word_rows = word_sql.add_rows(scope.user_id, word_sql.counted(item_words), words, tag)
            db.executemany(word_sql.add_sql(SQLITE), word_rows)
            db.execute(
                "INSERT INTO sessions (user_id, session_id, agent_id, run_id, started_at, ended_at, next_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, session_id) DO UPDATE SET "
                "started_at = min(started_at, excluded.started_at), "
                "ended_at = max(ended_at, excluded.ended_at), next_seq = excluded.next_seq, "
                # One agent (run) for the session while all its writers agree; none once they differ.
                "agent_id = CASE WHEN agent_id IS excluded.agent_id THEN agent_id END, "
                "run_id = CASE WHEN run_id IS excluded.run_id THEN run_id END",
                (scope.user_id, session_id, scope.agent_id, scope.run_id, min(times), max(times), next_seq),
            )
            self._append_session_doc(db, scope.user_id, session_id, [it.key for it in items])
            before = self._version(scope.user_id)
            self._bump(scope.user_id)
            after = self._version(scope.user_id)
        deletions = after[1]
        with self._lock:  # write-through: the search after an add finds these words and tokens in memory
            self._words.episodes.put(scope.user_id, "", deletions, dict(zip(rowids, item_words, strict=True)))
            if tag is not None:
                self._words.vectors.put(scope.user_id, tag, deletions, word_sql.written_vectors(word_rows))
            for late_tag, written in token_rows.items():
                self._tokens.append(scope.user_id, late_tag, before, after, written)
        return out

    def _append_session_doc(self, db: sqlite3.Connection, user_id: str, session_id: str, keys: list[str]) -> None:
        """Add keys to a session's document (FTS5 rows are replaced whole)."""
        row = db.execute(
            "SELECT k.rowid, f.body FROM session_keys k LEFT JOIN sessions_fts f ON f.rowid = k.rowid "
            "WHERE k.user_id = ? AND k.session_id = ?",
            (user_id, session_id),
        ).fetchone()
        if row is None:
            rowid = db.execute(
                "INSERT INTO session_keys (user_id, session_id) VALUES (?, ?)", (user_id, session_id)
            ).lastrowid
            body = " ".join(keys)
        else:
            rowid, old = row
            db.execute("DELETE FROM sessions_fts WHERE rowid = ?", (rowid,))
            body = " ".join([old or "", *keys]).strip()
        db.execute(
            "INSERT INTO sessions_fts (rowid, body, tenant) VALUES (?, ?, ?)", (rowid, body, tenant_token(user_id))
        )

    def _rebuild_session_doc(self, db: sqlite3.Connection, user_id: str, session_id: str) -> None:
        """Recompute a session's document from the keys of the turns it still has."""
        row = db.execute(
            "SELECT rowid FROM session_keys WHERE user_id = ? AND session_id = ?", (user_id, session_id)
        ).fetchone()
        if row is None:
            return
        db.execute("DELETE FROM sessions_fts WHERE rowid = ?", (row[0],))
        keys = [
            r[0]
            for r in db.execute(
                "SELECT f.body FROM episodes e JOIN episodes_fts f ON f.rowid = e.rowid "
                "WHERE e.user_id = ? AND e.session_id = ? ORDER BY e.seq",
                (user_id, session_id),
            )
        ]
        if keys:
            db.execute(
                "INSERT INTO sessions_fts (rowid, body, tenant) VALUES (?, ?, ?)",
                (row[0], " ".join(keys), tenant_token(user_id)),
            )
        else:
            db.execute("DELETE FROM session_keys WHERE rowid = ?", (row[0],))

    @staticmethod
    def _refit_session(db: sqlite3.Connection, user_id: str, session_id: str) -> None:
        """Fit a session's row to the turns it still has: their first and last times, or no row at all."""
        first, last = db.execute(
            "SELECT min(occurred_at), max(occurred_at) FROM episodes WHERE user_id = ? AND session_id = ?",
            (user_id, session_id),
        ).fetchone()
        if first is None:
            db.execute("DELETE FROM sessions WHERE user_id = ? AND session_id = ?", (user_id, session_id))
        else:
            db.execute(
                "UPDATE sessions SET started_at = ?, ended_at = ? WHERE user_id = ? AND session_id = ?",
                (first, last, user_id, session_id),
            )

    @_locked
    def has_ids(self, ids: Sequence[str], user_id: str | None = None, *, others: bool = False) -> set[str]:
        """Which of these public ids exist already: anywhere, or ``user_id``'s; with
        ``others``, those ``user_id`` cannot take because another user's episode has them
        (ids are unique in the whole file here)."""
        owner = "" if user_id is None else (" AND user_id != ?" if others else " AND user_id = ?")
        found: set[str] = set()
        for chunk in _chunks(list(ids), 500):
            q = f"SELECT id FROM episodes WHERE id IN ({','.join('?' * len(chunk))}){owner}"
            found.update(r[0] for r in self._db.execute(q, [*chunk, *([user_id] if user_id is not None else [])]))
        return found

    def update_metadata(
        self,
        user_id: str,
        episode_id: str,
        metadata: dict[str, Any],
        *,
        merge: bool = False,
        check: MetadataCheck | None = None,
    ) -> Episode:
        with self._write() as db:  # BEGIN IMMEDIATE: no other writer between the read and the write
            row = db.execute(
                "SELECT metadata FROM episodes WHERE user_id = ? AND id = ?", (user_id, episode_id)
            ).fetchone()
            if row is None:
                raise MemoryNotFound(f"no episode {episode_id!r} for user {user_id!r}")
            db.execute(
                "UPDATE episodes SET metadata = ? WHERE user_id = ? AND id = ?",
                (new_metadata(row[0], metadata, merge=merge, check=check), user_id, episode_id),
            )
            self._bump(user_id)
        return self.get(user_id, episode_id)

    def _delete_rowids(self, db: sqlite3.Connection, user_id: str, rowids: list[int], words: bool = True) -> None:
        for chunk in _chunks(rowids, 500):
            marks = ",".join("?" * len(chunk))
            if words:  # one use fewer of each word of these episodes (erase drops them all at once)
                contents = [r[0] for r in db.execute(f"SELECT content FROM episodes WHERE rowid IN ({marks})", chunk)]
                gone = word_sql.forget_rows(user_id, contents)
                db.executemany(word_sql.forget_sql(SQLITE), gone)
                word_sql.drop_unused(db, SQLITE, user_id, [w for _, _, w in gone])
            db.execute(f"DELETE FROM episodes_fts WHERE rowid IN ({marks})", chunk)
            db.execute(f"DELETE FROM vectors WHERE rowid IN ({marks})", chunk)
            db.execute(f"DELETE FROM vector_codes WHERE user_id = ? AND episode IN ({marks})", [user_id, *chunk])
            db.execute(f"DELETE FROM part_vectors WHERE user_id = ? AND episode IN ({marks})", [user_id, *chunk])
            db.execute(f"DELETE FROM episodes WHERE rowid IN ({marks})", chunk)

    def delete(self, user_id: str, episode_id: str) -> None:
        with self._write() as db:
            row = db.execute(
                "SELECT rowid, session_id FROM episodes WHERE user_id = ? AND id = ?", (user_id, episode_id)
            ).fetchone()
            if row is None:
                raise MemoryNotFound(f"no episode {episode_id!r} for user {user_id!r}")
            self._forget_episodes(db, user_id, [row[0]], [episode_id])
            self._delete_rowids(db, user_id, [row[0]])
            self._rewind_cursors(db)
            self._rebuild_session_doc(db, user_id, row[1])
            self._refit_session(db, user_id, row[1])
            self._bump(user_id, deletions=1)

    def erase(self, user_id: str) -> int:
        with self._write() as db:
            rowids = [r[0] for r in db.execute("SELECT rowid FROM episodes WHERE user_id = ?", (user_id,))]
            self._delete_rowids(db, user_id, rowids, words=False)
            db.execute("DELETE FROM words WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
            keys = [r[0] for r in db.execute("SELECT rowid FROM session_keys WHERE user_id = ?", (user_id,))]
            for chunk in _chunks(keys, 500):
                db.execute(f"DELETE FROM sessions_fts WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
            db.execute("DELETE FROM session_keys WHERE user_id = ?", (user_id,))
            db.execute("DELETE FROM scope_versions WHERE user_id = ?", (user_id,))
            self._erase_knowledge(db, user_id)
            self._rewind_cursors(db)
            if rowids or keys:
                # FTS5 keeps a deleted row's terms in its segments until they are merged: merge
                # them all, so the erased words leave the file (secure_delete zeroes the freed pages).
                db.execute("INSERT INTO episodes_fts (episodes_fts) VALUES ('optimize')")
                db.execute("INSERT INTO sessions_fts (sessions_fts) VALUES ('optimize')")
        if rowids or keys:  # old page images wait in the write-ahead log until a checkpoint
            with self._lock:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with self._lock:
            for key in [k for k in self._cache if k[0] == user_id]:
                del self._cache[key]
            self._words.drop(user_id)
            self._tokens.drop(user_id)
            self._layouts.pop(user_id, None)
            self._lexicons.pop(user_id, None)
        return len(rowids)

    # -- reads --------------------------------------------------------------
    @_locked
    def get(self, user_id: str, episode_id: str) -> Episode:
        row = self._db.execute(
            f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = ? AND id = ?", (user_id, episode_id)
        ).fetchone()
        if row is None:
            raise MemoryNotFound(f"no episode {episode_id!r} for user {user_id!r}")
        return _row_to_episode(row)

    @_locked
    def by_rowids(self, user_id: str, rowids: Sequence[int]) -> dict[int, Episode]:
        out: dict[int, Episode] = {}
        for chunk in _chunks([int(r) for r in rowids], 500):
            # The unary + keeps the planner on the rowid lookups: left to itself
            # it may walk the user's index instead (12 ms at 100k episodes).
            marks = ",".join("?" * len(chunk))
            q = f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE +user_id = ? AND rowid IN ({marks})"
            for row in self._db.execute(q, [user_id, *chunk]):
                out[row[0]] = _row_to_episode(row)
        return out

    @_locked
    def texts(self, user_id: str, rowids: Sequence[int]) -> dict[int, StoredText]:
        out: dict[int, StoredText] = {}
        for chunk in _chunks([int(r) for r in rowids], 500):
            marks = ",".join("?" * len(chunk))  # unary +: as in by_rowids
            q = f"SELECT rowid, content, cues FROM episodes WHERE +user_id = ? AND rowid IN ({marks})"
            out.update((r, StoredText(c, cues)) for r, c, cues in self._db.execute(q, [user_id, *chunk]))
        return out

    def put_readings(self, user_id: str, readings: Mapping[int, str]) -> None:
        with self._write() as db:
            db.executemany(
                "UPDATE episodes SET cues = ? WHERE user_id = ? AND rowid = ?",
                [(cues, user_id, r) for r, cues in readings.items()],
            )

    @_locked
    def page(self, user_id: str, filters: Filters, limit: int, offset: int) -> Page:
        where, args = _filter_sql(filters)
        total = self._db.execute(
            f"SELECT count(*) FROM episodes e WHERE e.user_id = ?{where}", [user_id, *args]
        ).fetchone()[0]
        rows = self._db.execute(
            f"SELECT {_EPISODE_COLUMNS} FROM episodes e WHERE e.user_id = ?{where} "
            "ORDER BY occurred_at, session_id, seq LIMIT ? OFFSET ?",
            [user_id, *args, limit, offset],
        ).fetchall()
        nxt = offset + len(rows) if offset + len(rows) < total else None
        return Page(tuple(_row_to_episode(r) for r in rows), total, nxt)

    def iter_episodes(self, user_id: str | None) -> Iterator[Episode]:
        q = f"SELECT {_EPISODE_COLUMNS} FROM episodes"
        args: list[Any] = []
        if user_id is not None:
            q += " WHERE user_id = ?"
            args.append(user_id)
        # Pages by rowid, each read under the lock, so a long export streams
        # without holding the connection between pages.
        last = 0
        while True:
            with self._lock:
                where = " AND " if user_id is not None else " WHERE "
                rows = self._db.execute(q + f"{where}rowid > ? ORDER BY rowid LIMIT 1000", [*args, last]).fetchall()
            if not rows:
                return
            yield from (_row_to_episode(r) for r in rows)
            last = rows[-1][0]

    @_locked
    def episode_keys(self, user_id: str, episode_id: str | None = None) -> list[str]:
        """Index keys of one episode, or of all the user's episodes."""
        cond, args = ("AND e.id = ?", [user_id, episode_id]) if episode_id is not None else ("", [user_id])
        return [
            r[0]
            for r in self._db.execute(
                f"SELECT f.body FROM episodes e JOIN episodes_fts f ON f.rowid = e.rowid WHERE e.user_id = ? {cond}",
                args,
            )
        ]

    @_locked
    def episodes_after(self, user_id: str, rowid: int, limit: int) -> list[tuple[int, Episode]]:
        """``(rowid, episode)`` of the user's episodes after ``rowid``, in rowid order (for learning)."""
        rows = self._db.execute(
            f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = ? AND rowid > ? ORDER BY rowid LIMIT ?",
            (user_id, rowid, limit),
        ).fetchall()
        return [(int(r[0]), _row_to_episode(r)) for r in rows]

    @_locked
    def sessions(self, user_id: str, limit: int, offset: int) -> list[Session]:
        rows = self._db.execute(
            "SELECT s.session_id, s.user_id, s.started_at, s.ended_at, "
            "(SELECT count(*) FROM episodes e WHERE e.user_id = s.user_id AND e.session_id = s.session_id), "
            "s.agent_id, s.run_id FROM sessions s WHERE s.user_id = ? "
            "ORDER BY s.started_at DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        ).fetchall()
        return [Session(r[0], r[1], _dt(r[2]), _dt(r[3]), r[4], r[5], r[6]) for r in rows]

    @_locked
    def neighbours(self, user_id: str, episode: Episode, before: int, after: int) -> list[Episode]:
        rows = self._db.execute(
            f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = ? AND session_id = ? "
            "AND seq BETWEEN ? AND ? AND id != ? ORDER BY seq",
            (user_id, episode.session_id, episode.seq - before, episode.seq + after, episode.id),
        ).fetchall()
        return [_row_to_episode(r) for r in rows]

    @_locked
    def lexical(
        self, user_id: str, terms: Sequence[str], filters: Filters, k: int, rowids: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        if not terms or (rowids is not None and not len(rowids)):
            return []
        match = fts_match(user_id, terms, self._only_user(user_id))
        where, args = _filter_sql(filters)
        q = (
            # CROSS JOIN keeps the full-text index as the outer loop; left to
            # itself the planner may probe FTS once per episode of the user.
            "SELECT f.rowid, -bm25(episodes_fts, 1.0, 0.0) FROM episodes_fts f "
            "CROSS JOIN episodes e ON e.rowid = f.rowid "
            f"WHERE episodes_fts MATCH ? AND e.user_id = ?{where}"
        )
        try:
            if rowids is not None:
                # Scoring given candidates: FTS5 evaluates `rowid IN (...)` one
                # MATCH per id; scanning the matches once is far cheaper.
                wanted = set(rowids)
                rows = self._db.execute(q, [match, user_id, *args])
                return [(int(r), float(s)) for r, s in rows if r in wanted]
            if k >= len(self.layout(user_id).rowids):
                # Every match wanted: scoring without ORDER BY and sorting here
                # avoids SQLite evaluating bm25() a second time for the sort.
                found = self._db.execute(q, [match, user_id, *args]).fetchall()
                scores = np.fromiter((s for _, s in found), dtype=np.float64, count=len(found))
                order = np.argsort(-scores, kind="stable")
                return [(int(found[i][0]), float(scores[i])) for i in order]
            rows = self._db.execute(q + " ORDER BY bm25(episodes_fts, 1.0, 0.0) LIMIT ?", [match, user_id, *args, k])
            return [(int(r), float(s)) for r, s in rows]
        except sqlite3.Error as exc:
            raise StoreError(f"lexical search failed: {exc}") from exc

    def _only_user(self, user_id: str) -> bool:
        """Whether this user is the only one with rows (the SQL still checks the user)."""
        users = self._db.execute("SELECT user_id FROM scope_versions LIMIT 2").fetchall()
        return len(users) == 1 and users[0][0] == user_id

    @_locked
    def session_lexical(self, user_id: str, terms: Sequence[str], filters: Filters) -> dict[str, float]:
        if not terms:
            return {}
        match = fts_match(user_id, terms, self._only_user(user_id))
        where, args = "", []
        if filters.session_ids:
            where = f" AND k.session_id IN ({','.join('?' * len(filters.session_ids))})"
            args = list(filters.session_ids)
        q = (
            "SELECT k.session_id, -bm25(sessions_fts, 1.0, 0.0) FROM sessions_fts f "
            "CROSS JOIN session_keys k ON k.rowid = f.rowid "
            f"WHERE sessions_fts MATCH ? AND k.user_id = ?{where}"
        )
        try:
            return {sid: float(score) for sid, score in self._db.execute(q, [match, user_id, *args])}
        except sqlite3.Error as exc:
            raise StoreError(f"session search failed: {exc}") from exc

    #: FTS5's statistics count every user of the file; the index counts the user's own rows.
    lexical_index_exact = False

    def lexical_index(self, user_id: str) -> LexicalIndex:
        """The user's index keys as in-memory BM25 postings (cached like vectors).

        Appends since the cached copy are tokenised and added; a deletion (or
        anything else that bumps ``deletions``) rebuilds it from FTS5's index.
        """
        with self._lock:
            version, deletions = self._version(user_id)
            cached = self._lexicons.get(user_id)
            if cached and cached[0] == version:
                return cached[2]
            own = not self._db.in_transaction
            try:
                if own:
                    self._db.execute("BEGIN")  # rowids and postings from one snapshot
                try:
                    if cached and cached[1] == deletions:
                        index = self._extend_lexicon(user_id, cached[2])
                    else:
                        index = self._build_lexicon(user_id)
                    version, deletions = self._version(user_id)
                finally:
                    if own:
                        self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"building the lexical index failed: {exc}") from exc
            self._lexicons[user_id] = (version, deletions, index)
            return index

    def _build_lexicon(self, user_id: str) -> LexicalIndex:
        rows = self._db.execute("SELECT rowid FROM episodes WHERE user_id = ? ORDER BY rowid", (user_id,)).fetchall()
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        top = self._db.execute("SELECT max(rowid) FROM episodes").fetchone()[0] or 0
        dtype = np.int64 if top >= 2**31 else np.int32  # every user's rowids pass through the parser
        # FTS5's own postings: one group per term, every occurrence's rowid in
        # rowid order (fts5vocab walks the index that way); parsing a comma
        # list in numpy beats a Python row per occurrence by far.
        self._db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.episodes_vocab_instance "
            "USING fts5vocab(main, episodes_fts, instance)"
        )
        # The tenant column holds only the users' tenant tokens: every other
        # term is read without checking each occurrence's column (-15%).
        users = [r[0] for r in self._db.execute("SELECT user_id FROM scope_versions")]
        tenants = {t for toks in analyze([tenant_token(u) for u in users]) for t in toks}
        terms: list[str] = []
        instances: list[np.ndarray] = []

        def read(where: str, args: list[str]) -> None:
            q = f"SELECT term, group_concat(doc) FROM temp.episodes_vocab_instance{where} GROUP BY term"
            for term, docs in self._db.execute(q, args):
                terms.append(term)
                instances.append(np.fromstring(docs, dtype=dtype, sep=","))

        bounds: list[str | None] = [None, *sorted(tenants), None]
        for lo, hi in itertools.pairwise(bounds):
            cond = [c for c, b in (("term > ?", lo), ("term < ?", hi)) if b is not None]
            read(" WHERE " + " AND ".join(cond) if cond else "", [b for b in (lo, hi) if b is not None])
            if hi is not None:
                read(" WHERE term = ? AND col = 'body'", [hi])
        return from_instances(rowids, terms, instances, self._tenant_tokens(user_id))

    def _extend_lexicon(self, user_id: str, index: LexicalIndex) -> LexicalIndex:
        last = int(index.rowids[-1]) if len(index.rowids) else 0
        rows = self._db.execute(
            "SELECT e.rowid, f.body FROM episodes e JOIN episodes_fts f ON f.rowid = e.rowid "
            "WHERE e.user_id = ? AND e.rowid > ? ORDER BY e.rowid",
            (user_id, last),
        ).fetchall()
        if len(rows) > max(10_000, len(index.rowids) // 4):
            return self._build_lexicon(user_id)  # reading FTS5's postings is faster than tokenising this many
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        return index.extend(rowids, analyze([r[1] for r in rows]))

    @staticmethod
    def _tenant_tokens(user_id: str) -> float:
        return float(len(analyze([tenant_token(user_id)])[0]))

    @_locked
    def known_vectors(self, keys: Sequence[str], encoder: str, user_id: str | None = None) -> dict[str, np.ndarray]:
        # One file holds few tenants: reusing a vector across them is safe (same text, same vector).
        by_hash = {key_hash(k): k for k in keys}
        out: dict[str, np.ndarray] = {}
        for chunk in _chunks(list(by_hash), 500):
            q = f"SELECT key_hash, vec FROM vectors WHERE encoder = ? AND key_hash IN ({','.join('?' * len(chunk))})"
            for h, blob in self._db.execute(q, [encoder, *chunk]):
                out[by_hash[h]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def _version(self, user_id: str) -> tuple[int, int]:
        row = self._db.execute("SELECT version, deletions FROM scope_versions WHERE user_id = ?", (user_id,)).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def vectors(self, user_id: str, encoder: str) -> VectorSet:
        with self._lock:
            version, deletions = self._version(user_id)
            cached = self._cache.get((user_id, encoder))
            if cached and cached[0] == version:
                return cached[3]
            # Appends only since the cached copy: read just the new rows. New
            # rows are always float32; a tier move counts as a deletion.
            start = cached[2] if cached and cached[1] == deletions else 0
            rows = self._db.execute(
                "SELECT rowid, vec FROM vectors WHERE user_id = ? AND encoder = ? AND rowid > ? ORDER BY rowid",
                (user_id, encoder, start),
            ).fetchall()
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            new = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1) if rows else None
            if start and cached:
                old = cached[3]
                vs = VectorSet(
                    np.concatenate([old.rowids, ids]),
                    old.matrix if new is None else np.vstack([old.matrix, new]),
                    parent=old.derived,
                )
            else:
                vs = self._with_codes(user_id, encoder, ids, new)
            last = int(vs.rowids[-1]) if len(vs.rowids) else 0
            self._cache[(user_id, encoder)] = (version, deletions, last, vs)
            return vs

    def _with_codes(self, user_id: str, encoder: str, ids: np.ndarray, floats: np.ndarray | None) -> VectorSet:
        """All of a user's vectors: float32 rows and decoded lower-tier rows, in rowid order."""
        coded = self._db.execute(
            "SELECT episode, tier, code FROM vector_codes WHERE user_id = ? AND encoder = ? ORDER BY episode",
            (user_id, encoder_tag(encoder)),
        ).fetchall()
        if not coded:
            return VectorSet(ids, floats if floats is not None else np.zeros((0, 0), dtype=np.float32))
        dim = floats.shape[1] if floats is not None else self._dim(encoder, coded[0])
        parts_ids, parts = [ids], [floats if floats is not None else np.zeros((0, dim), dtype=np.float32)]
        for tier in sorted({r[1] for r in coded}):
            of_tier = [r for r in coded if r[1] == tier]
            parts_ids.append(np.fromiter((r[0] for r in of_tier), dtype=np.int64, count=len(of_tier)))
            parts.append(decode(tier, [r[2] for r in of_tier], dim))
        all_ids = np.concatenate(parts_ids)
        order = np.argsort(all_ids, kind="stable")
        return VectorSet(all_ids[order], np.vstack(parts)[order])

    def _dim(self, encoder: str, coded: tuple[int, int, bytes]) -> int:
        """Dimensions of an encoder's vectors when a user has no float row left to tell."""
        stored = self.meta(f"dim:{encoder}")
        if stored is not None:
            return int(stored)
        row = self._db.execute("SELECT length(vec) FROM vectors WHERE encoder = ? LIMIT 1", (encoder,)).fetchone()
        if row is not None:
            return int(row[0]) // 4
        _, tier, code = coded
        return len(code) - 4 if tier == TIERS["int8"] else 8 * len(code)

    def set_tier(self, user_id: str, encoder: str, rowids: Sequence[int] | None, tier: int) -> int:
        """Move vectors down to ``tier`` (float32 -> int8 -> binary) in one transaction.

        ``rowids`` limits the move (``None``: all of the user's vectors). Rows
        already at or below the tier stay as they are; moving up is refused,
        since a lower tier has lost what the float had (re-embed instead).
        Returns how many rows moved.
        """
        if tier not in TIERS.values() or tier == TIER_FLOAT32:
            raise ValidationError("tier: vectors can only move down, to int8 or binary; reindex() re-embeds")
        moved = 0
        with self._write() as db:
            where, args = "", []
            if rowids is not None:
                wanted = sorted({int(r) for r in rowids})
                chunks = list(_chunks(wanted, 500)) or [[]]
            else:
                chunks = [[]]
            for chunk in chunks:
                if rowids is not None:
                    if not chunk:
                        continue
                    where = f" AND rowid IN ({','.join('?' * len(chunk))})"
                    args = chunk
                floats = db.execute(
                    f"SELECT rowid, vec FROM vectors WHERE user_id = ? AND encoder = ?{where}",
                    [user_id, encoder, *args],
                ).fetchall()
                coded = db.execute(
                    f"SELECT episode, tier, code FROM vector_codes WHERE user_id = ? AND encoder = ? "
                    f"AND tier < ?{where.replace('rowid', 'episode')}",
                    [user_id, encoder_tag(encoder), tier, *args],
                ).fetchall()
                if floats:
                    dim = len(floats[0][1]) // 4
                    self.set_meta_in(db, f"dim:{encoder}", str(dim))
                    matrix = decode(TIER_FLOAT32, [r[1] for r in floats], dim)
                    self._put_codes(db, user_id, encoder, [r[0] for r in floats], tier, matrix)
                    for part in _chunks([r[0] for r in floats], 500):
                        db.execute(f"DELETE FROM vectors WHERE rowid IN ({','.join('?' * len(part))})", part)
                    moved += len(floats)
                for old_tier in {r[1] for r in coded}:
                    rows = [r for r in coded if r[1] == old_tier]
                    dim = self._dim(encoder, rows[0])
                    matrix = decode(old_tier, [r[2] for r in rows], dim)
                    self._put_codes(db, user_id, encoder, [r[0] for r in rows], tier, matrix)
                    moved += len(rows)
            if moved:
                self._bump(user_id, deletions=1)  # cached matrices must be rebuilt, not appended to
        return moved

    @staticmethod
    def set_meta_in(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @staticmethod
    def _put_codes(
        db: sqlite3.Connection, user_id: str, encoder: str, rowids: list[int], tier: int, matrix: np.ndarray
    ) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO vector_codes (user_id, encoder, episode, tier, code) VALUES (?, ?, ?, ?, ?)",
            [(user_id, encoder_tag(encoder), r, tier, b) for r, b in zip(rowids, encode(tier, matrix), strict=True)],
        )

    @_locked
    def tier_counts(self, user_id: str | None) -> dict[str, int]:
        """How many vectors sit in each tier (of one user, or of the whole file)."""
        cond, args = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
        out = {name: 0 for name in TIERS}
        out["float32"] = self._db.execute(f"SELECT count(*) FROM vectors {cond}", args).fetchone()[0]
        names = {code: name for name, code in TIERS.items()}
        for tier, count in self._db.execute(f"SELECT tier, count(*) FROM vector_codes {cond} GROUP BY tier", args):
            out[names[tier]] = count
        return out

    def layout(self, user_id: str) -> Layout:
        with self._lock:
            version, _ = self._version(user_id)
            cached = self._layouts.get(user_id)
            if cached and cached[0] == version:
                return cached[1]
            rows = self._db.execute(
                "SELECT rowid, session_id, seq, occurred_at, role, speaker FROM episodes "
                "WHERE user_id = ? ORDER BY rowid",
                (user_id,),
            ).fetchall()
            layout = build_layout(rows)
            self._layouts[user_id] = (version, layout)
            return layout

    @_locked
    def allowed(self, user_id: str, filters: Filters) -> np.ndarray:
        where, args = _filter_sql(filters)
        rows = self._db.execute(f"SELECT rowid FROM episodes e WHERE e.user_id = ?{where}", [user_id, *args])
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    @_locked
    def stats(self, user_id: str | None) -> dict[str, Any]:
        cond, args = ("WHERE user_id = ?", [user_id]) if user_id is not None else ("", [])
        one = self._db.execute
        size = (
            0
            if self.path == ":memory:"
            else sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))
        )
        return {
            "users": one(f"SELECT count(DISTINCT user_id) FROM episodes {cond}", args).fetchone()[0],
            "sessions": one(f"SELECT count(*) FROM sessions {cond}", args).fetchone()[0],
            "episodes": one(f"SELECT count(*) FROM episodes {cond}", args).fetchone()[0],
            "vectors": one(f"SELECT count(*) FROM vectors {cond}", args).fetchone()[0]
            + one(f"SELECT count(*) FROM vector_codes {cond}", args).fetchone()[0],
            "db_bytes": size,
            "schema_version": SCHEMA_VERSION,
        }

    @_locked
    def part_vectors(self, user_id: str, encoder: str, rowids: Sequence[int]) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        tag = encoder_tag(encoder)
        for chunk in _chunks([int(r) for r in rowids], 500):
            marks = ",".join("?" * len(chunk))
            q = (
                "SELECT episode, count, vecs FROM part_vectors "
                f"WHERE user_id = ? AND episode IN ({marks}) AND encoder = ?"
            )
            out.update(unpack_int8(self._db.execute(q, [user_id, *chunk, tag]).fetchall()))
        return out

    @_locked
    def token_set(self, user_id: str, encoder: str) -> TokenSet:
        tag = encoder_tag(encoder)

        def read(after: int) -> list[tuple[int, int, bytes]]:
            return self._db.execute(
                "SELECT episode, count, vecs FROM part_vectors WHERE user_id = ? AND encoder = ? AND episode > ? "
                "ORDER BY episode",
                (user_id, tag, after),
            ).fetchall()

        return self._tokens.get(user_id, tag, self._version(user_id), read)

    def put_parts(self, user_id: str, encoder: str, parts: Mapping[int, np.ndarray]) -> None:
        tag = encoder_tag(encoder)
        with self._write() as db:
            self._bump(user_id, deletions=1)  # replaced rows: cached token sets must be read again
            for chunk in _chunks(list(parts), 500):
                marks = ",".join("?" * len(chunk))
                db.execute(
                    f"DELETE FROM part_vectors WHERE user_id = ? AND episode IN ({marks}) AND encoder = ?",
                    [user_id, *chunk, tag],
                )
            db.executemany(
                "INSERT INTO part_vectors (user_id, encoder, episode, count, vecs) VALUES (?, ?, ?, ?, ?)",
                [(user_id, tag, r, len(v), pack_int8(v)) for r, v in parts.items() if len(v)],
            )

    @_locked
    def word_vectors(self, user_id: str, encoder: str, words: Sequence[str]) -> dict[str, np.ndarray]:
        tag = encoder_tag(encoder)
        version = self._version(user_id)
        return self._words.vectors.get(
            user_id, tag, version, words, lambda ws: word_sql.read_vectors(self._db, SQLITE, user_id, tag, ws)
        )

    @_locked
    def episode_words(self, user_id: str, contents: Mapping[int, str]) -> dict[int, list[str]]:
        return self._words.episodes.get(
            user_id, "", self._version(user_id), list(contents), lambda rs: {r: content_words(contents[r]) for r in rs}
        )

    def put_words(self, user_id: str, encoder: str, uses: Mapping[str, int], vectors: Mapping[str, np.ndarray]) -> None:
        with self._write() as db:
            db.execute("DELETE FROM words WHERE user_id = ?", (user_id,))
            db.executemany(word_sql.add_sql(SQLITE), word_sql.add_rows(user_id, uses, vectors, encoder_tag(encoder)))
        with self._lock:
            self._words.drop(user_id)

    @_locked
    def keys_after(self, rowid: int, limit: int) -> list[tuple[int, str, str]]:
        """``(rowid, user_id, index key)`` of episodes after ``rowid``, in order (for re-embedding)."""
        return self._db.execute(
            "SELECT e.rowid, e.user_id, f.body FROM episodes e JOIN episodes_fts f ON f.rowid = e.rowid "
            "WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?",
            (rowid, limit),
        ).fetchall()

    def replace_vectors(self, rows: Sequence[tuple[int, str, str]], vectors: np.ndarray, encoder: str) -> None:
        """Store new vectors for these episodes, replacing whatever encoder (or tier) made the old ones."""
        with self._write() as db:
            db.executemany("DELETE FROM vector_codes WHERE user_id = ? AND episode = ?", [(u, r) for r, u, _ in rows])
            db.executemany(
                "INSERT OR REPLACE INTO vectors (rowid, user_id, key_hash, encoder, vec) VALUES (?, ?, ?, ?, ?)",
                [
                    (r, u, key_hash(k), encoder, np.ascontiguousarray(v, dtype=np.float32).tobytes())
                    for (r, u, k), v in zip(rows, vectors, strict=True)
                ],
            )
            for user in {u for _, u, _ in rows}:
                self._bump(user, deletions=1)  # cached matrices must be rebuilt, not appended to

    @_locked
    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if isinstance(self._db, ClosedConnection):
                return
            self._cache.clear()
            self._tokens.clear()
            self._layouts.clear()
            self._lexicons.clear()
            self._db.close()
            # Any later use says the memory was closed, not sqlite3's ProgrammingError.
            self._db = cast(sqlite3.Connection, ClosedConnection(self.path))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
