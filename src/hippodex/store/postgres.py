"""The server store: PostgreSQL with pgvector, through a psycopg 3 connection pool.

Same behaviour as :class:`~hippodex.store.sqlite.SQLiteStore`: episodes kept
verbatim, BM25 over the same FTS5 tokens (see :mod:`.postgres_text`), and
vectors loaded per user into numpy for exact search, cached until a write to
that user (from any process) moves its version. Every write is one
transaction that first takes the user's ``scopes`` row, so writes to one user
are serialised (rowids and seqs grow in commit order) while different users
write in parallel.

Needs ``pip install 'hippodex[postgres]'`` and a server with pgvector.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from hippodex._exceptions import ConfigError, MemoryNotFound, StoreError
from hippodex.encode.quantize import pack_int8, unpack_int8
from hippodex.model import Episode, Page, Scope, Session
from hippodex.recall.cues import stored_reading
from hippodex.recall.text import content_words
from hippodex.store import word_sql
from hippodex.store.base import (
    EntityGraph,
    Filters,
    Layout,
    MetadataCheck,
    NewEpisode,
    StoredText,
    VectorSet,
    build_layout,
    closed_error,
    new_metadata,
)
from hippodex.store.lexical_index import LexicalIndex, from_tokens
from hippodex.store.open import redact
from hippodex.store.postgres_knowledge import PostgresKnowledge
from hippodex.store.postgres_schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from hippodex.store.postgres_text import (
    analyze,
    query_lexemes,
    score_matches,
    tsquery_literal,
    tsvector_literal,
)
from hippodex.store.sql import POSTGRES, filter_sql, stamp_schema, stored_schema_version
from hippodex.store.sqlite import _dt, _row_to_episode, key_hash, new_episode_id, tenant_token
from hippodex.store.token_sets import TokenCache, TokenSet

try:
    import psycopg
    from psycopg import sql
    from psycopg.adapt import Dumper, Loader
    from psycopg.pq import Format
    from psycopg.types import TypeInfo
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

__all__ = ["PostgresStore"]

_EPISODE_COLUMNS = (
    "rowid, id, user_id, agent_id, run_id, session_id, seq, role, speaker, content, occurred_at, recorded_at, metadata"
)
_MIGRATION_LOCK = 0x68697070  # "hipp": one migrator at a time per database
#: Seconds a call waits for a pooled connection before asking whether the server answers at all.
_FIRST_WAIT = 1.0


def _filter_sql(filters: Filters, alias: str = "e") -> tuple[str, list[Any]]:
    return filter_sql(filters, POSTGRES, alias)


def _one(conn: psycopg.Connection[Any], sql: str, args: Sequence[Any]) -> Any:
    """The single value a query returns."""
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return row[0]


def _vector_schema(conn: psycopg.Connection[Any]) -> str | None:
    """The schema pgvector is installed in (one per database, wherever the search_path points)."""
    row = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
    ).fetchone()
    return None if row is None else str(row[0])


def _install_vector(conn: psycopg.Connection[Any]) -> str:
    """Install pgvector if absent; returns its schema.

    It goes into ``public`` (when there is one), not the first schema of the
    search_path: the extension exists once per database, so inside one
    hippodex schema it would be out of sight of the next.
    """
    found = _vector_schema(conn)
    if found is not None:
        return found
    public = _one(conn, "SELECT to_regnamespace('public')", ()) is not None
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector" + (" WITH SCHEMA public" if public else ""))
    return _vector_schema(conn) or "public"


def _vector_adapters(oid: int) -> tuple[type[Any], type[Any]]:
    """psycopg dumper and loader for pgvector's binary format (int16 dim, int16 0, float4 big-endian)."""

    class VectorDumper(Dumper):
        format = Format.BINARY

        def dump(self, obj: Any) -> bytes:
            arr = np.asarray(obj, dtype=">f4").ravel()
            return np.array([arr.size, 0], dtype=">u2").tobytes() + arr.tobytes()

    VectorDumper.oid = oid

    class VectorLoader(Loader):
        format = Format.BINARY

        def load(self, data: Any) -> np.ndarray:
            return np.frombuffer(bytes(data), dtype=">f4", offset=4).astype(np.float32)

    return VectorDumper, VectorLoader


class PostgresStore(PostgresKnowledge):
    """Episodes, index keys, vectors, facts and entities in a PostgreSQL database (``postgresql://...``).

    ``pool_size`` bounds the connections this process opens; ``timeout`` is
    how many seconds a call may wait for one of them before it fails. When the
    server does not answer, calls fail at once with a StoreError until it
    does; the first call after that opens fresh connections.
    """

    def __init__(self, url: str, *, pool_size: int = 8, timeout: float = 5.0) -> None:
        if psycopg is None:
            raise ConfigError("PostgreSQL support needs its extra: pip install 'hippodex[postgres]'")
        if not timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.url = url
        self.path = redact(url)
        self._lock = threading.RLock()
        self._cache: dict[tuple[str, str], tuple[int, int, int, VectorSet]] = {}
        self._words = word_sql.WordCaches()
        self._tokens = TokenCache()
        self._layouts: dict[str, tuple[int, Layout]] = {}
        self._lexicons: dict[str, tuple[int, int, LexicalIndex]] = {}
        self._hnsw: set[tuple[str, int]] = set()
        self._graphs: dict[str, tuple[tuple[int, int], EntityGraph]] = {}
        self._pool_size = pool_size
        self._timeout = float(timeout)
        # The URL's own connect_timeout wins; psycopg would let a keyword override it.
        given = psycopg.conninfo.conninfo_to_dict(url).get("connect_timeout")
        self._connect_timeout = int(given) if given else 10
        try:
            with psycopg.connect(url, connect_timeout=self._connect_timeout) as conn:
                vector = self._migrate(conn)
                info = TypeInfo.fetch(conn, vector)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open PostgreSQL database {self.path}: {exc}") from exc
        if info is None:
            raise StoreError(f"{self.path}: the pgvector extension is missing")
        self._dumper, self._loader = _vector_adapters(info.oid)
        self._pool_lock = threading.Lock()
        self._closed = False
        self._down = False  # the server did not answer: the next call probes it and renews the pool
        self._pool = self._new_pool()
        try:
            self._pool.open(wait=True, timeout=30)
        except Exception as exc:
            raise StoreError(f"cannot open a connection pool to {self.path}: {exc}") from exc

    def _new_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        # check: a connection the server dropped (restart, failover) is replaced, never handed out.
        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._pool_size,
            configure=self._configure,
            check=ConnectionPool.check_connection,
            timeout=self._timeout,
            open=False,
            kwargs={"connect_timeout": self._connect_timeout},
        )

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        conn.adapters.register_dumper(np.ndarray, self._dumper)
        conn.adapters.register_loader(self._dumper.oid, self._loader)

    # -- schema -------------------------------------------------------------
    def _migrate(self, conn: psycopg.Connection[Any]) -> str:
        """Create or upgrade the schema; returns pgvector's type, schema-qualified."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            if _one(conn, "SELECT current_schema()", ()) is None:
                raise StoreError(
                    f"{self.path}: no schema on the search_path exists; create it first (CREATE SCHEMA ...)"
                )
            present = {t for t in TABLES if _one(conn, "SELECT to_regclass(%s)", (t,)) is not None}
            version = stored_schema_version(
                conn, self.path, present, current=SCHEMA_VERSION, hint="choose another database or schema"
            )
            schema = _vector_schema(conn) if version == SCHEMA_VERSION else _install_vector(conn)
            if schema is None:
                raise StoreError(f"{self.path}: the pgvector extension is missing")
            # The extension's schema need not be on the search_path: add it last, for this
            # transaction only, so VECTOR resolves while tables still go to the first schema.
            path = _one(conn, "SELECT current_setting('search_path')", ())
            conn.execute(
                "SELECT set_config('search_path', %s, true)", (f"{path}, {sql.Identifier(schema).as_string(conn)}",)
            )
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for step in MIGRATIONS[v]:
                    conn.execute(step)
            if version != SCHEMA_VERSION:
                stamp_schema(conn, POSTGRES, SCHEMA_VERSION)
        return sql.Identifier(schema, "vector").as_string(conn)

    @contextmanager
    def _conn(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in one transaction (committed on success); errors become StoreError."""
        try:
            pool = self._live_pool()
            conn = self._checkout(pool)
            try:
                with conn:  # commits on success, rolls back on an error
                    yield conn
            finally:
                pool.putconn(conn)
        except (MemoryNotFound, StoreError):
            raise
        except psycopg.Error as exc:
            raise StoreError(f"{what} on {self.path} failed: {exc}") from exc
        except Exception as exc:
            if type(exc).__module__.startswith("psycopg_pool"):
                raise StoreError(f"{what} on {self.path} failed: {exc}") from exc
            raise

    def _live_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        """The pool; after an outage, a fresh one once the server answers again.

        The old pool would still be backing off between reconnection attempts
        (up to half a minute apart), so the first call after an outage would wait.
        """
        if self._closed:
            raise closed_error(self.path)
        if not self._down:
            return self._pool
        with self._pool_lock:
            if self._down:
                self._probe()
                old, self._pool = self._pool, self._new_pool()
                self._pool.open(wait=False)
                self._down = False
                old.close(timeout=1.0)
            return self._pool

    def _checkout(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> psycopg.Connection[Any]:
        """A connection from ``pool``; a StoreError at once if the server does not answer."""
        first = min(self._timeout, _FIRST_WAIT)
        try:
            return pool.getconn(timeout=first)
        except PoolTimeout:
            pass
        self._probe()  # no connection yet: a busy pool is worth waiting for, a dead server is not
        try:
            return pool.getconn(timeout=max(self._timeout - first, 0.001))
        except PoolTimeout:
            raise StoreError(
                f"no free connection to {self.path} within {self._timeout:g} s: all {self._pool_size} are busy "
                "(open the store with a larger pool_size or timeout)"
            ) from None

    def _probe(self) -> None:
        """Connect once outside the pool; a StoreError saying why if the server does not answer."""
        try:
            psycopg.connect(self.url, connect_timeout=max(2, round(self._timeout))).close()
        except psycopg.Error as exc:
            self._down = True
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"cannot reach the PostgreSQL server of {self.path}: {reason}") from exc

    def meta(self, key: str) -> str | None:
        with self._conn("read") as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._conn("write") as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @staticmethod
    def _bump(
        conn: psycopg.Connection[Any], user_id: str, *, rebuild: bool = False, docs: int = 0, tokens: int = 0
    ) -> None:
        """Move the user's version, taking its row lock for the rest of the transaction."""
        conn.execute(
            "INSERT INTO scopes (user_id, version, rebuilt, docs, tokens) "
            "VALUES (%(u)s, nextval('scope_version_seq'), currval('scope_version_seq'), %(d)s, %(t)s) "
            "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version, "
            "rebuilt = CASE WHEN %(r)s THEN excluded.version ELSE scopes.rebuilt END, "
            "docs = scopes.docs + excluded.docs, tokens = scopes.tokens + excluded.tokens",
            {"u": user_id, "d": docs, "t": tokens, "r": rebuild},
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
        user = scope.user_id
        token = tenant_token(user)
        tokens = analyze([it.key for it in items])
        lens = [len(t) for t in tokens]
        times = [it.occurred_at.timestamp() for it in items]
        out: list[Episode] = []
        with self._conn("write") as conn:
            # Lock first: everything below (seq, rowids) then follows commit order.
            self._bump(conn, user, docs=len(items), tokens=sum(lens) + len(items))
            row = conn.execute(
                "SELECT next_seq FROM sessions WHERE user_id = %s AND session_id = %s", (user, session_id)
            ).fetchone()
            next_seq = 0 if row is None else int(row[0])
            rowids = [
                int(r[0])
                for r in conn.execute(
                    "SELECT nextval(pg_get_serial_sequence('episodes', 'rowid')) FROM generate_series(1, %s)",
                    (len(items),),
                )
            ]
            episode_rows = []
            vector_rows = []
            part_rows: list[tuple[str, int, str, int, bytes]] = []
            for i, it in enumerate(items):
                seq = it.seq if it.seq is not None else next_seq
                next_seq = max(next_seq, seq + 1)
                eid = it.id or new_episode_id()
                recorded = it.recorded_at.timestamp() if it.recorded_at else now
                meta = json.dumps(it.metadata, ensure_ascii=False)
                who = (user, rowids[i], eid, scope.agent_id, scope.run_id, session_id, seq, it.role, it.speaker)
                tsv = tsvector_literal(tokens[i], token)
                what = (it.content, times[i], recorded, meta, it.key, lens[i], tsv, stored_reading(it.content))
                episode_rows.append((*who, *what))
                if vectors is not None and encoder is not None:
                    vec = np.ascontiguousarray(vectors[i], dtype=np.float32)
                    vector_rows.append((user, rowids[i], encoder, key_hash(it.key), vec))
                    if it.parts is not None and len(it.parts):
                        part_rows.append((user, rowids[i], encoder, len(it.parts), pack_int8(it.parts)))
                if it.token_vectors is not None and len(it.token_vectors[1]):
                    late_model, late_rows = it.token_vectors  # ``tokens`` here are the lexical ones
                    part_rows.append((user, rowids[i], late_model, len(late_rows), pack_int8(late_rows)))
                out.append(it.stored(scope, session_id, eid, seq, _dt(times[i]), _dt(recorded)))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO episodes (user_id, rowid, id, agent_id, run_id, session_id, seq, role, speaker, "
                    "content, occurred_at, recorded_at, metadata, key, key_len, tsv, cues) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector, %s)",
                    episode_rows,
                )
                if vector_rows:
                    cur.executemany(
                        "INSERT INTO vectors (user_id, rowid, encoder, key_hash, vec) VALUES (%s, %s, %s, %s, %s)",
                        vector_rows,
                    )
                if part_rows:
                    cur.executemany(
                        "INSERT INTO part_vectors (user_id, rowid, encoder, count, vecs) VALUES (%s, %s, %s, %s, %s)",
                        part_rows,
                    )
                words = {w: v for it in items for w, v in (it.word_vectors or {}).items()}
                item_words = [content_words(it.content) for it in items]
                word_rows = word_sql.add_rows(user, word_sql.counted(item_words), words, encoder)
                cur.executemany(word_sql.add_sql(POSTGRES), word_rows)
            rebuilt = self._version(conn, user)[1]
            # Only the session's length: its lexical counts are its turns' (see session_lexical).
            conn.execute(
                "INSERT INTO sessions (user_id, session_id, agent_id, run_id, started_at, ended_at, next_seq, "
                "doc_len) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (user_id, session_id) DO UPDATE SET "
                "started_at = least(sessions.started_at, excluded.started_at), "
                "ended_at = greatest(sessions.ended_at, excluded.ended_at), next_seq = excluded.next_seq, "
                "doc_len = sessions.doc_len + excluded.doc_len, "
                # One agent (run) for the session while all its writers agree; none once they differ.
                "agent_id = CASE WHEN sessions.agent_id IS NOT DISTINCT FROM excluded.agent_id "
                "THEN sessions.agent_id END, "
                "run_id = CASE WHEN sessions.run_id IS NOT DISTINCT FROM excluded.run_id THEN sessions.run_id END",
                (user, session_id, scope.agent_id, scope.run_id, min(times), max(times), next_seq, sum(lens)),
            )
        with self._lock:  # write-through: the search after an add finds these words in memory
            self._words.episodes.put(user, "", rebuilt, dict(zip(rowids, item_words, strict=True)))
            if encoder is not None:
                self._words.vectors.put(user, encoder, rebuilt, word_sql.written_vectors(word_rows))
        return out

    def _recount_session(self, conn: psycopg.Connection[Any], user_id: str, session_id: str) -> None:
        """Recount a session's length from the turns it still has (and drop a document older versions wrote)."""
        conn.execute(
            "UPDATE sessions SET doc = '', doc_len = (SELECT coalesce(sum(key_len), 0) FROM episodes "
            "WHERE user_id = %(u)s AND session_id = %(s)s) WHERE user_id = %(u)s AND session_id = %(s)s",
            {"u": user_id, "s": session_id},
        )

    def _refit_session(self, conn: psycopg.Connection[Any], user_id: str, session_id: str) -> None:
        """Fit a session's row to the turns it still has: their times and document, or no row at all."""
        first, last = conn.execute(
            "SELECT min(occurred_at), max(occurred_at) FROM episodes WHERE user_id = %s AND session_id = %s",
            (user_id, session_id),
        ).fetchone() or (None, None)
        if first is None:
            conn.execute("DELETE FROM sessions WHERE user_id = %s AND session_id = %s", (user_id, session_id))
            return
        conn.execute(
            "UPDATE sessions SET started_at = %s, ended_at = %s WHERE user_id = %s AND session_id = %s",
            (first, last, user_id, session_id),
        )
        self._recount_session(conn, user_id, session_id)

    def has_ids(self, ids: Sequence[str], user_id: str | None = None, *, others: bool = False) -> set[str]:
        """Which of these public ids exist already: anywhere, or ``user_id``'s; with
        ``others``, those ``user_id`` cannot take because another user's episode has them:
        none, as ids here are unique per user (``UNIQUE (user_id, id)``)."""
        if user_id is not None and others:
            return set()
        owner, args = ("", [list(ids)]) if user_id is None else (" AND user_id = %s", [list(ids), user_id])
        with self._conn("read") as conn:
            return {r[0] for r in conn.execute(f"SELECT id FROM episodes WHERE id = ANY(%s){owner}", args)}

    def update_metadata(
        self,
        user_id: str,
        episode_id: str,
        metadata: dict[str, Any],
        *,
        merge: bool = False,
        check: MetadataCheck | None = None,
    ) -> Episode:
        with self._conn("write") as conn:
            self._bump(conn, user_id)
            # Read and write under the row lock: a concurrent merge waits and then merges into this one.
            row = conn.execute(
                "SELECT metadata FROM episodes WHERE user_id = %s AND id = %s FOR UPDATE", (user_id, episode_id)
            ).fetchone()
            if row is None:
                conn.rollback()
                raise MemoryNotFound(f"no episode {episode_id!r} for user {user_id!r}")
            conn.execute(
                "UPDATE episodes SET metadata = %s WHERE user_id = %s AND id = %s",
                (new_metadata(row[0], metadata, merge=merge, check=check), user_id, episode_id),
            )
        return self.get(user_id, episode_id)

    def delete(self, user_id: str, episode_id: str) -> None:
        with self._conn("write") as conn:
            self._bump(conn, user_id, rebuild=True)
            row = conn.execute(
                "DELETE FROM episodes WHERE user_id = %s AND id = %s RETURNING rowid, session_id, key_len, content",
                (user_id, episode_id),
            ).fetchone()
            if row is None:
                conn.rollback()
                raise MemoryNotFound(f"no episode {episode_id!r} for user {user_id!r}")
            gone = word_sql.forget_rows(user_id, [row[3]])
            with conn.cursor() as cur:
                cur.executemany(word_sql.forget_sql(POSTGRES), gone)
            word_sql.drop_unused(conn, POSTGRES, user_id, [w for _, _, w in gone])
            conn.execute(
                "UPDATE scopes SET docs = docs - 1, tokens = tokens - %s WHERE user_id = %s", (row[2] + 1, user_id)
            )
            self._refit_session(conn, user_id, row[1])
            # Rowids come from a sequence and are never reused, so unlike SQLite
            # the learning cursor needs no rewinding here.
            self._forget_episodes(conn, user_id, [row[0]], [episode_id])

    def erase(self, user_id: str) -> int:
        with self._conn("write") as conn:
            self._bump(conn, user_id, rebuild=True)
            conn.execute("DELETE FROM vectors WHERE user_id = %s", (user_id,))
            conn.execute("DELETE FROM part_vectors WHERE user_id = %s", (user_id,))
            conn.execute("DELETE FROM words WHERE user_id = %s", (user_id,))
            n = conn.execute("DELETE FROM episodes WHERE user_id = %s", (user_id,)).rowcount
            conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))
            conn.execute("DELETE FROM scopes WHERE user_id = %s", (user_id,))
            self._erase_knowledge(conn, user_id)
        with self._lock:
            for key in [k for k in self._cache if k[0] == user_id]:
                del self._cache[key]
            self._words.drop(user_id)
            self._tokens.drop(user_id)
            self._layouts.pop(user_id, None)
            self._lexicons.pop(user_id, None)
        return n

    # -- reads --------------------------------------------------------------
    def get(self, user_id: str, episode_id: str) -> Episode:
        with self._conn("read") as conn:
            row = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = %s AND id = %s", (user_id, episode_id)
            ).fetchone()
        if row is None:
            raise MemoryNotFound(f"no episode {episode_id!r} for user {user_id!r}")
        return _row_to_episode(row)

    def by_rowids(self, user_id: str, rowids: Sequence[int]) -> dict[int, Episode]:
        with self._conn("read") as conn:
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = %s AND rowid = ANY(%s::bigint[])",
                (user_id, [int(r) for r in rowids]),
            ).fetchall()
        return {int(r[0]): _row_to_episode(r) for r in rows}

    def texts(self, user_id: str, rowids: Sequence[int]) -> dict[int, StoredText]:
        with self._conn("read") as conn:
            # bigint[] as the column is: psycopg sends small ints as smallint[], and with
            # statistics not yet gathered (after a bulk load) that plan was 5x slower.
            rows = conn.execute(
                "SELECT rowid, content, cues FROM episodes WHERE user_id = %s AND rowid = ANY(%s::bigint[])",
                (user_id, [int(r) for r in rowids]),
            ).fetchall()
        return {int(r[0]): StoredText(r[1], r[2]) for r in rows}

    def put_readings(self, user_id: str, readings: Mapping[int, str]) -> None:
        with self._conn("write") as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE episodes SET cues = %s WHERE user_id = %s AND rowid = %s",
                [(cues, user_id, r) for r, cues in readings.items()],
            )

    def page(self, user_id: str, filters: Filters, limit: int, offset: int) -> Page:
        where, args = _filter_sql(filters)
        with self._conn("read") as conn:
            total = _one(conn, f"SELECT count(*) FROM episodes e WHERE e.user_id = %s{where}", [user_id, *args])
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes e WHERE e.user_id = %s{where} "
                'ORDER BY occurred_at, session_id COLLATE "C", seq LIMIT %s OFFSET %s',
                [user_id, *args, limit, offset],
            ).fetchall()
        nxt = offset + len(rows) if offset + len(rows) < total else None
        return Page(tuple(_row_to_episode(r) for r in rows), int(total), nxt)

    def iter_episodes(self, user_id: str | None) -> Iterator[Episode]:
        cond = "user_id = %s AND " if user_id is not None else ""
        args: list[Any] = [user_id] if user_id is not None else []
        last = 0
        while True:
            with self._conn("read") as conn:
                rows = conn.execute(
                    f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE {cond}rowid > %s ORDER BY rowid LIMIT 1000",
                    [*args, last],
                ).fetchall()
            if not rows:
                return
            yield from (_row_to_episode(r) for r in rows)
            last = rows[-1][0]

    def episode_keys(self, user_id: str, episode_id: str | None = None) -> list[str]:
        """Index keys of one episode, or of all the user's episodes."""
        cond, args = ("AND id = %s", [user_id, episode_id]) if episode_id is not None else ("", [user_id])
        with self._conn("read") as conn:
            return [r[0] for r in conn.execute(f"SELECT key FROM episodes WHERE user_id = %s {cond}", args)]

    def episodes_after(self, user_id: str, rowid: int, limit: int) -> list[tuple[int, Episode]]:
        """``(rowid, episode)`` of the user's episodes after ``rowid``, in rowid order (for learning)."""
        with self._conn("read") as conn:
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = %s AND rowid > %s ORDER BY rowid LIMIT %s",
                (user_id, rowid, limit),
            ).fetchall()
        return [(int(r[0]), _row_to_episode(r)) for r in rows]

    def sessions(self, user_id: str, limit: int, offset: int) -> list[Session]:
        with self._conn("read") as conn:
            rows = conn.execute(
                "SELECT s.session_id, s.user_id, s.started_at, s.ended_at, "
                "(SELECT count(*) FROM episodes e WHERE e.user_id = s.user_id AND e.session_id = s.session_id), "
                "s.agent_id, s.run_id FROM sessions s WHERE s.user_id = %s "
                "ORDER BY s.started_at DESC LIMIT %s OFFSET %s",
                (user_id, limit, offset),
            ).fetchall()
        return [Session(r[0], r[1], _dt(r[2]), _dt(r[3]), int(r[4]), r[5], r[6]) for r in rows]

    def neighbours(self, user_id: str, episode: Episode, before: int, after: int) -> list[Episode]:
        with self._conn("read") as conn:
            rows = conn.execute(
                f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE user_id = %s AND session_id = %s "
                "AND seq BETWEEN %s AND %s AND id != %s ORDER BY seq",
                (user_id, episode.session_id, episode.seq - before, episode.seq + after, episode.id),
            ).fetchall()
        return [_row_to_episode(r) for r in rows]

    def lexical(
        self, user_id: str, terms: Sequence[str], filters: Filters, k: int, rowids: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        if not terms or (rowids is not None and not len(rowids)):
            return []
        lexemes = query_lexemes(terms)
        if not lexemes:
            return []
        where, args = _filter_sql(filters)
        with self._conn("lexical search") as conn:
            stats = conn.execute("SELECT docs, tokens FROM scopes WHERE user_id = %s", (user_id,)).fetchone()
            if stats is None or not stats[0]:
                return []
            # Every match of the user counts for document frequency; the
            # filters only decide which matches may be returned.
            rows = conn.execute(
                f"SELECT e.rowid, e.key_len + 1, u.lexeme, cardinality(u.positions), TRUE{where} "
                "FROM episodes e CROSS JOIN LATERAL unnest(e.tsv) u "
                "WHERE e.user_id = %s AND e.tsv @@ %s::tsquery AND u.lexeme = ANY(%s)",
                [*args, user_id, tsquery_literal(lexemes, tenant_token(user_id)), list(set(lexemes))],
            ).fetchall()
        scores = score_matches(lexemes, [r[:4] for r in rows], int(stats[0]), int(stats[1]) / int(stats[0]))
        passing = {int(r[0]) for r in rows if r[4]}
        if rowids is not None:
            passing &= {int(r) for r in rowids}
        found = sorted(((r, s) for r, s in scores.items() if r in passing), key=lambda x: (-x[1], x[0]))
        return found if rowids is not None else found[:k]

    def session_lexical(self, user_id: str, terms: Sequence[str], filters: Filters) -> dict[str, float]:
        if not terms:
            return {}
        lexemes = query_lexemes(terms)
        if not lexemes:
            return {}
        with self._conn("session search") as conn:
            stats = conn.execute(
                "SELECT count(*), coalesce(sum(doc_len + 1), 0) FROM sessions WHERE user_id = %s AND doc_len > 0",
                (user_id,),
            ).fetchone() or (0, 0)
            if not stats[0]:
                return {}
            # A session's counts are its turns' sums (as the in-memory index's group_scores):
            # no per-session document to outgrow tsvector's 1 MB, and the GIN index finds the turns.
            keep = "e.session_id = ANY(%s)" if filters.session_ids else "TRUE"
            rows = conn.execute(
                f"SELECT e.session_id, s.doc_len + 1, u.lexeme, sum(cardinality(u.positions)), {keep} "
                "FROM episodes e CROSS JOIN LATERAL unnest(e.tsv) u "
                "JOIN sessions s ON s.user_id = e.user_id AND s.session_id = e.session_id "
                "WHERE e.user_id = %s AND e.tsv @@ %s::tsquery AND u.lexeme = ANY(%s) "
                "GROUP BY e.session_id, s.doc_len, u.lexeme",
                [
                    *([list(filters.session_ids)] if filters.session_ids else []),
                    user_id,
                    tsquery_literal(lexemes, tenant_token(user_id)),
                    list(set(lexemes)),
                ],
            ).fetchall()
        codes = {sid: i for i, sid in enumerate(dict.fromkeys(r[0] for r in rows))}
        scored = score_matches(
            lexemes, [(codes[r[0]], r[1], r[2], int(r[3])) for r in rows], int(stats[0]), int(stats[1]) / int(stats[0])
        )
        allowed = {r[0] for r in rows if r[4]}
        names = list(codes)
        return {names[c]: s for c, s in scored.items() if names[c] in allowed}

    def known_vectors(self, keys: Sequence[str], encoder: str, user_id: str | None = None) -> dict[str, np.ndarray]:
        by_hash = {key_hash(k): k for k in keys}
        cond = "user_id = %s AND " if user_id is not None else ""
        with self._conn("read") as conn:
            rows = conn.execute(
                f"SELECT DISTINCT ON (key_hash) key_hash, vec FROM vectors WHERE {cond}key_hash = ANY(%s) "
                "AND encoder = %s",
                [*([user_id] if user_id is not None else []), list(by_hash), encoder],
                binary=True,
            ).fetchall()
        return {by_hash[h]: v for h, v in rows}

    def _version(self, conn: psycopg.Connection[Any], user_id: str) -> tuple[int, int]:
        row = conn.execute("SELECT version, rebuilt FROM scopes WHERE user_id = %s", (user_id,)).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def vectors(self, user_id: str, encoder: str) -> VectorSet:
        with self._lock, self._conn("read") as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # version and rows from one snapshot
            try:
                version, rebuilt = self._version(conn, user_id)
                cached = self._cache.get((user_id, encoder))
                if cached and cached[0] == version:
                    return cached[3]
                # Appends only since the cached copy: read just the new rows.
                start = cached[2] if cached and cached[1] == rebuilt else 0
                rows = conn.execute(
                    "SELECT rowid, vec FROM vectors WHERE user_id = %s AND encoder = %s AND rowid > %s ORDER BY rowid",
                    (user_id, encoder, start),
                    binary=True,
                ).fetchall()
            finally:
                conn.rollback()
                conn.isolation_level = None
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            new = np.stack([r[1] for r in rows]).astype(np.float32) if rows else None
            if start and cached:
                old = cached[3]
                vs = VectorSet(
                    np.concatenate([old.rowids, ids]), old.matrix if new is None else np.vstack([old.matrix, new])
                )
            else:
                vs = VectorSet(ids, new if new is not None else np.zeros((0, 0), dtype=np.float32))
            last = int(vs.rowids[-1]) if len(vs.rowids) else 0
            self._cache[(user_id, encoder)] = (version, rebuilt, last, vs)
            return vs

    #: The in-memory index scores exactly as :meth:`lexical` does (both count the
    #: user's own rows), so recall uses it at any size: it answers in milliseconds
    #: where the SQL path fetches and scores every match in Python.
    lexical_index_exact = True

    def lexical_index(self, user_id: str) -> LexicalIndex:
        """The user's index keys as in-memory BM25 postings, cached like vectors.

        Appends since the cached copy are read and tokenised; a deletion (which
        moves ``rebuilt``) reads every key again.
        """
        with self._lock, self._conn("read") as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # version and rows from one snapshot
            try:
                version, rebuilt = self._version(conn, user_id)
                cached = self._lexicons.get(user_id)
                if cached and cached[0] == version:
                    return cached[2]
                base = cached[2] if cached and cached[1] == rebuilt else None
                last = int(base.rowids[-1]) if base is not None and len(base.rowids) else 0
                rows = conn.execute(
                    "SELECT rowid, key FROM episodes WHERE user_id = %s AND rowid > %s ORDER BY rowid",
                    (user_id, last),
                ).fetchall()
            finally:
                conn.rollback()
                conn.isolation_level = None
            rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            tokens = analyze([r[1] for r in rows])
            # One more token per row: the tenant token, which the SQL path counts in every length too.
            index = base.extend(rowids, tokens) if base is not None else from_tokens(rowids, tokens, other_len=1.0)
            self._lexicons[user_id] = (version, rebuilt, index)
            return index

    def layout(self, user_id: str) -> Layout:
        with self._lock, self._conn("read") as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                version, _ = self._version(conn, user_id)
                cached = self._layouts.get(user_id)
                if cached and cached[0] == version:
                    return cached[1]
                rows = conn.execute(
                    "SELECT rowid, session_id, seq, occurred_at, role, speaker FROM episodes "
                    "WHERE user_id = %s ORDER BY rowid",
                    (user_id,),
                ).fetchall()
            finally:
                conn.rollback()
                conn.isolation_level = None
            layout = build_layout(rows)
            self._layouts[user_id] = (version, layout)
            return layout

    def allowed(self, user_id: str, filters: Filters) -> np.ndarray:
        where, args = _filter_sql(filters)
        with self._conn("read") as conn:
            rows = conn.execute(
                f"SELECT rowid FROM episodes e WHERE e.user_id = %s{where}", [user_id, *args]
            ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def stats(self, user_id: str | None) -> dict[str, Any]:
        cond, args = ("WHERE user_id = %s", [user_id]) if user_id is not None else ("", [])
        with self._conn("read") as conn:

            def one(sql: str) -> int:
                return int(_one(conn, sql, args))

            return {
                "users": one(f"SELECT count(DISTINCT user_id) FROM episodes {cond}"),
                "sessions": one(f"SELECT count(*) FROM sessions {cond}"),
                "episodes": one(f"SELECT count(*) FROM episodes {cond}"),
                "vectors": one(f"SELECT count(*) FROM vectors {cond}"),
                "db_bytes": int(_one(conn, "SELECT pg_database_size(current_database())", ())),
                "schema_version": SCHEMA_VERSION,
            }

    def part_vectors(self, user_id: str, encoder: str, rowids: Sequence[int]) -> dict[int, np.ndarray]:
        with self._conn("read") as conn:
            rows = conn.execute(
                "SELECT rowid, count, vecs FROM part_vectors "
                "WHERE user_id = %s AND rowid = ANY(%s::bigint[]) AND encoder = %s",
                (user_id, [int(r) for r in rowids], encoder),
            ).fetchall()
        return unpack_int8(rows)

    def token_set(self, user_id: str, encoder: str) -> TokenSet:
        with self._conn("read") as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # version and rows from one snapshot
            try:

                def read(after: int) -> list[tuple[int, int, bytes]]:
                    return conn.execute(
                        "SELECT rowid, count, vecs FROM part_vectors WHERE user_id = %s AND encoder = %s "
                        "AND rowid > %s ORDER BY rowid",
                        (user_id, encoder, after),
                    ).fetchall()

                return self._tokens.get(user_id, encoder, self._version(conn, user_id), read)
            finally:
                conn.rollback()
                conn.isolation_level = None

    def put_parts(self, user_id: str, encoder: str, parts: Mapping[int, np.ndarray]) -> None:
        with self._conn("write") as conn:
            self._bump(conn, user_id, rebuild=True)  # replaced rows: cached token sets must be read again
            conn.execute(
                "DELETE FROM part_vectors WHERE user_id = %s AND rowid = ANY(%s::bigint[]) AND encoder = %s",
                (user_id, [int(r) for r in parts], encoder),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO part_vectors (user_id, rowid, encoder, count, vecs) VALUES (%s, %s, %s, %s, %s)",
                    [(user_id, int(r), encoder, len(v), pack_int8(v)) for r, v in parts.items() if len(v)],
                )

    def word_vectors(self, user_id: str, encoder: str, words: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock, self._conn("read") as conn:
            version = self._version(conn, user_id)
            return self._words.vectors.get(
                user_id, encoder, version, words, lambda ws: word_sql.read_vectors(conn, POSTGRES, user_id, encoder, ws)
            )

    def episode_words(self, user_id: str, contents: Mapping[int, str]) -> dict[int, list[str]]:
        with self._lock, self._conn("read") as conn:
            version = self._version(conn, user_id)
            return self._words.episodes.get(
                user_id, "", version, list(contents), lambda rs: {r: content_words(contents[r]) for r in rs}
            )

    def put_words(self, user_id: str, encoder: str, uses: Mapping[str, int], vectors: Mapping[str, np.ndarray]) -> None:
        with self._conn("write") as conn:
            conn.execute("DELETE FROM words WHERE user_id = %s", (user_id,))
            with conn.cursor() as cur:
                cur.executemany(word_sql.add_sql(POSTGRES), word_sql.add_rows(user_id, uses, vectors, encoder))
        with self._lock:
            self._words.drop(user_id)

    def keys_after(self, rowid: int, limit: int) -> list[tuple[int, str, str]]:
        """``(rowid, user_id, index key)`` of episodes after ``rowid``, in order (for re-embedding)."""
        with self._conn("read") as conn:
            rows = conn.execute(
                "SELECT rowid, user_id, key FROM episodes WHERE rowid > %s ORDER BY rowid LIMIT %s", (rowid, limit)
            ).fetchall()
        return [(int(r), str(u), str(k)) for r, u, k in rows]

    def replace_vectors(self, rows: Sequence[tuple[int, str, str]], vectors: np.ndarray, encoder: str) -> None:
        """Store new vectors for these episodes, replacing whatever encoder made the old ones."""
        with self._conn("write") as conn:
            for user in sorted({u for _, u, _ in rows}):
                self._bump(conn, user, rebuild=True)  # cached matrices must be rebuilt, not appended to
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO vectors (user_id, rowid, encoder, key_hash, vec) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (user_id, rowid) DO UPDATE SET encoder = excluded.encoder, "
                    "key_hash = excluded.key_hash, vec = excluded.vec",
                    [
                        (u, r, encoder, key_hash(k), np.ascontiguousarray(v, dtype=np.float32))
                        for (r, u, k), v in zip(rows, vectors, strict=True)
                    ],
                )

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._tokens.clear()
            self._layouts.clear()
            self._lexicons.clear()
            self._graphs.clear()
        self._closed = True
        self._pool.close()
