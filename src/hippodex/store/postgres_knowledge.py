"""Facts and entities in PostgreSQL: the knowledge half of :class:`PostgresStore`.

The same behaviour as :mod:`.sqlite_knowledge`, table for table. Every
knowledge write transaction first takes the user's ``scopes`` row (the lock
every episode write takes), so two processes learning one user at once run
one after the other, and the second one re-reads the cursor
(:meth:`PostgresLearning.cursor`) after the first committed and skips what it
learned. Episode keys come from a sequence and are never handed out twice, so
unlike SQLite no learning cursor needs rewinding after a delete.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hippodex._exceptions import MemoryNotFound
from hippodex.model import Entity, Fact
from hippodex.store.base import KNOWLEDGE_TABLES, EntityGraph, build_entity_graph
from hippodex.store.sqlite_knowledge import _FACT_COLUMNS, _dt, _fact, _ts

if TYPE_CHECKING:
    import psycopg

    Conn = psycopg.Connection[Any]


def _load_facts(conn: Conn, where: str, args: Sequence[Any]) -> list[Fact]:
    rows = conn.execute(f"SELECT {_FACT_COLUMNS} FROM facts WHERE {where}", args).fetchall()
    if not rows:
        return []
    sources: dict[tuple[str, str], list[str]] = {}
    for user in {r[0] for r in rows}:
        for fid, eid in conn.execute(
            "SELECT fact_id, episode_id FROM fact_sources WHERE user_id = %s AND fact_id = ANY(%s) "
            'ORDER BY episode_id COLLATE "C"',
            (user, [r[1] for r in rows if r[0] == user]),
        ):
            sources.setdefault((user, fid), []).append(eid)
    return [_fact(r, tuple(sources.get((r[0], r[1]), ()))) for r in rows]


def _lock_scope(conn: Conn, user_id: str) -> None:
    """Take the user's row lock (as every episode write does) for the rest of the transaction."""
    conn.execute("SELECT 1 FROM scopes WHERE user_id = %s FOR UPDATE", (user_id,))


class PostgresLearning:
    """Knowledge writes of one user inside one open transaction (holding the user's lock)."""

    def __init__(self, conn: Conn, user_id: str) -> None:
        self.conn = conn
        self.user_id = user_id

    def slot_facts(self, subject_key: str, predicate: str) -> list[Fact]:
        """Every fact (current or not) of one subject and predicate."""
        return _load_facts(
            self.conn,
            "user_id = %s AND subject_key = %s AND predicate = %s",
            (self.user_id, subject_key, predicate),
        )

    def insert_fact(self, fact: Fact) -> None:
        self.conn.execute(
            f"INSERT INTO facts ({_FACT_COLUMNS}, subject_key) VALUES ({', '.join(['%s'] * 20)})",
            (
                self.user_id,
                fact.id,
                fact.subject,
                fact.predicate,
                fact.object,
                fact.text,
                fact.confidence,
                fact.negated,
                fact.single_valued,
                fact.asserted_by,
                _ts(fact.valid_from),
                _ts(fact.valid_to),
                _ts(fact.recorded_at),
                fact.superseded_by,
                fact.seen,
                _ts(fact.last_seen),
                fact.extractor,
                fact.recalled,
                _ts(fact.last_recalled),
                fact.subject.strip().casefold(),
            ),
        )
        self.conn.execute(
            "INSERT INTO fact_sources (user_id, fact_id, episode_id) "
            "SELECT %s, %s, s FROM unnest(%s::text[]) AS s ON CONFLICT DO NOTHING",
            (self.user_id, fact.id, list(fact.sources)),
        )

    def reinforce(self, fact_id: str, episode_id: str, confidence: float, at: datetime) -> bool:
        """Another episode states the fact: add the source, count it, raise confidence
        (noisy-or). Returns False when that episode was already a source."""
        cur = self.conn.execute(
            "INSERT INTO fact_sources (user_id, fact_id, episode_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (self.user_id, fact_id, episode_id),
        )
        if cur.rowcount == 0:
            return False
        self.conn.execute(
            "UPDATE facts SET seen = seen + 1, last_seen = greatest(last_seen, %s), "
            "confidence = 1 - (1 - confidence) * (1 - %s) WHERE user_id = %s AND id = %s",
            (_ts(at), confidence, self.user_id, fact_id),
        )
        return True

    def close_fact(self, fact_id: str, valid_to: datetime | None, superseded_by: str) -> None:
        self.conn.execute(
            "UPDATE facts SET valid_to = %s, superseded_by = %s WHERE user_id = %s AND id = %s",
            (_ts(valid_to), superseded_by, self.user_id, fact_id),
        )

    def log(
        self, fact_id: str, action: str, at: datetime, episode_id: str | None = None, other_id: str | None = None
    ) -> None:
        """Append to the fact's audit trail (what happened to it, when, because of what)."""
        self.conn.execute(
            "INSERT INTO fact_events (user_id, fact_id, seq, action, at, episode_id, other_id) "
            "VALUES (%(u)s, %(f)s, (SELECT coalesce(max(seq), 0) + 1 FROM fact_events "
            "WHERE user_id = %(u)s AND fact_id = %(f)s), %(a)s, %(t)s, %(e)s, %(o)s)",
            {"u": self.user_id, "f": fact_id, "a": action, "t": _ts(at), "e": episode_id, "o": other_id},
        )

    def entity(self, canonical: str, name: str, kind: str, at: datetime) -> int:
        """The id of the entity known by ``canonical`` (or one of its aliases), created if new."""
        row = self.conn.execute(
            "SELECT entity_id FROM entity_aliases WHERE user_id = %s AND alias = %s", (self.user_id, canonical)
        ).fetchone()
        if row is not None:
            self.conn.execute(
                "UPDATE entities SET last_seen = greatest(last_seen, %s), first_seen = least(first_seen, %s) "
                "WHERE user_id = %s AND id = %s",
                (_ts(at), _ts(at), self.user_id, row[0]),
            )
            return int(row[0])
        # max + 1 is safe: the user's lock is held, so no one else numbers this user's entities now.
        created = self.conn.execute(
            "INSERT INTO entities (user_id, id, canonical, name, kind, mentions, first_seen, last_seen) "
            "SELECT %(u)s, coalesce(max(id), 0) + 1, %(c)s, %(n)s, %(k)s, 0, %(t)s, %(t)s "
            "FROM entities WHERE user_id = %(u)s RETURNING id",
            {"u": self.user_id, "c": canonical, "n": name, "k": kind, "t": _ts(at)},
        ).fetchone()
        assert created is not None
        new_id = int(created[0])
        self.alias(new_id, canonical)
        return new_id

    def alias(self, entity_id: int, alias: str) -> None:
        self.conn.execute(
            "INSERT INTO entity_aliases (user_id, alias, entity_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (self.user_id, alias, entity_id),
        )

    def mention(self, entity_id: int, episode_rowid: int) -> None:
        cur = self.conn.execute(
            "INSERT INTO mentions (user_id, entity_id, episode_rowid, count) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (user_id, entity_id, episode_rowid) DO UPDATE SET count = mentions.count + 1",
            (self.user_id, entity_id, episode_rowid),
        )
        if cur.rowcount:
            self.conn.execute(
                "UPDATE entities SET mentions = mentions + 1 WHERE user_id = %s AND id = %s",
                (self.user_id, entity_id),
            )

    def link(self, fact_id: str, entity_id: int) -> None:
        self.conn.execute(
            "INSERT INTO fact_entities (user_id, fact_id, entity_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (self.user_id, fact_id, entity_id),
        )

    def cursor(self) -> int:
        """The learning cursor as this transaction sees it (after taking the user's lock,
        so a learner that just committed is seen)."""
        row = self.conn.execute("SELECT last_rowid FROM learn_state WHERE user_id = %s", (self.user_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def advance(self, last_rowid: int) -> None:
        """Mark the user's episodes up to ``last_rowid`` as learned (and caches stale)."""
        self.conn.execute(
            "INSERT INTO learn_state (user_id, last_rowid, version) VALUES (%s, %s, 1) ON CONFLICT (user_id) "
            "DO UPDATE SET last_rowid = greatest(learn_state.last_rowid, excluded.last_rowid), "
            "version = learn_state.version + 1",
            (self.user_id, last_rowid),
        )


class PostgresSleep:
    """The writes of a consolidation pass of one user inside one open transaction."""

    def __init__(self, conn: Conn, user_id: str) -> None:
        self.conn = conn
        self.user_id = user_id

    def current_facts(self) -> list[Fact]:
        return _load_facts(self.conn, "user_id = %s AND valid_to IS NULL AND superseded_by IS NULL", (self.user_id,))

    def merge(self, keep: str, duplicate: str, at: datetime) -> None:
        """Fold a duplicate into the fact kept: its sources and count move over and
        it points at the kept fact (it stays readable, with a "merged" event)."""
        args = {"u": self.user_id, "k": keep, "d": duplicate}
        self.conn.execute(
            "INSERT INTO fact_sources (user_id, fact_id, episode_id) SELECT user_id, %(k)s, episode_id "
            "FROM fact_sources WHERE user_id = %(u)s AND fact_id = %(d)s ON CONFLICT DO NOTHING",
            args,
        )
        self.conn.execute(
            "UPDATE facts SET seen = facts.seen + d.seen, last_seen = greatest(facts.last_seen, d.last_seen) "
            "FROM facts d WHERE d.user_id = %(u)s AND d.id = %(d)s AND facts.user_id = %(u)s AND facts.id = %(k)s",
            args,
        )
        self.conn.execute("UPDATE facts SET superseded_by = %(k)s WHERE user_id = %(u)s AND id = %(d)s", args)
        learning = PostgresLearning(self.conn, self.user_id)
        learning.log(duplicate, "merged", at, other_id=keep)
        learning.log(keep, "absorbed", at, other_id=duplicate)

    def set_summary(self, session_id: str, summary: str, episode_ids: Sequence[str], at: datetime) -> bool:
        """Store a session's summary; False when it is unchanged."""
        ids = ",".join(episode_ids)
        row = self.conn.execute(
            "SELECT summary, episode_ids FROM session_summaries WHERE user_id = %s AND session_id = %s",
            (self.user_id, session_id),
        ).fetchone()
        if row is not None and row[0] == summary and row[1] == ids:
            return False
        self.conn.execute(
            "INSERT INTO session_summaries (user_id, session_id, summary, episode_ids, updated_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, session_id) DO UPDATE SET "
            "summary = excluded.summary, episode_ids = excluded.episode_ids, updated_at = excluded.updated_at",
            (self.user_id, session_id, summary, ids, _ts(at)),
        )
        return True

    def refresh_entities(self) -> int:
        """Recount every entity's mentions from the mention rows; returns how many changed."""
        cur = self.conn.execute(
            "UPDATE entities e SET mentions = c.n FROM (SELECT en.id, (SELECT count(*) FROM mentions m "
            "WHERE m.user_id = en.user_id AND m.entity_id = en.id) AS n FROM entities en WHERE en.user_id = %s) c "
            "WHERE e.user_id = %s AND e.id = c.id AND e.mentions <> c.n",
            (self.user_id, self.user_id),
        )
        return int(cur.rowcount)


class PostgresKnowledge:
    """Reads and transactions over facts and entities (mixed into PostgresStore)."""

    _lock: threading.RLock
    _graphs: dict[str, tuple[tuple[int, int], EntityGraph]]

    if TYPE_CHECKING:  # provided by PostgresStore

        def _conn(self, what: str) -> AbstractContextManager[Conn]: ...
        def _version(self, conn: Conn, user_id: str) -> tuple[int, int]: ...

    # -- learning -------------------------------------------------------------
    def learn_cursor(self, user_id: str) -> int:
        """Rowid of the last episode of the user already read for facts and entities."""
        with self._conn("read") as conn:
            row = conn.execute("SELECT last_rowid FROM learn_state WHERE user_id = %s", (user_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def unlearned_users(self) -> list[str]:
        """Users with episodes not yet read for facts and entities."""
        with self._conn("read") as conn:
            rows = conn.execute(
                "SELECT e.user_id FROM episodes e LEFT JOIN learn_state l ON l.user_id = e.user_id "
                "GROUP BY e.user_id HAVING max(e.rowid) > coalesce(max(l.last_rowid), 0)"
            ).fetchall()
        return sorted(r[0] for r in rows)  # code-point order, as SQLite sorts

    @contextmanager
    def learning(self, user_id: str) -> Iterator[PostgresLearning]:
        """One write transaction for a batch of knowledge writes of one user."""
        with self._conn("learning") as conn:
            _lock_scope(conn, user_id)
            yield PostgresLearning(conn, user_id)

    @contextmanager
    def sleeping(self, user_id: str) -> Iterator[PostgresSleep]:
        """One write transaction for a step of a consolidation pass of one user."""
        with self._conn("consolidate") as conn:
            _lock_scope(conn, user_id)
            yield PostgresSleep(conn, user_id)

    def users(self) -> list[str]:
        """Every user with episodes."""
        with self._conn("read") as conn:
            rows = conn.execute("SELECT DISTINCT user_id FROM sessions").fetchall()
        return sorted(r[0] for r in rows)

    def summary(self, user_id: str, session_id: str) -> str | None:
        """A session's summary from the last consolidation, if any."""
        with self._conn("read") as conn:
            row = conn.execute(
                "SELECT summary FROM session_summaries WHERE user_id = %s AND session_id = %s", (user_id, session_id)
            ).fetchone()
        return None if row is None else str(row[0])

    # -- facts ------------------------------------------------------------------
    def facts(
        self,
        user_id: str,
        *,
        current_only: bool = True,
        subject: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Fact]:
        """A user's facts, newest statement first."""
        where, args = "user_id = %s", [user_id]
        if current_only:
            where += " AND valid_to IS NULL AND superseded_by IS NULL"
        if subject is not None:
            where += " AND subject_key = %s"
            args.append(subject.strip().casefold())
        with self._conn("read") as conn:
            return _load_facts(
                conn, f'{where} ORDER BY last_seen DESC, id COLLATE "C" LIMIT %s OFFSET %s', [*args, limit, offset]
            )

    def mark_recalled(self, user_id: str, fact_ids: Sequence[str], at: datetime) -> None:
        """Count a retrieval of these facts (retrieval makes memories last longer)."""
        if not fact_ids:
            return
        with self._conn("write") as conn:
            _lock_scope(conn, user_id)  # one lock order with learning: no deadlock over fact rows
            with conn.cursor() as cur:
                cur.executemany(
                    "UPDATE facts SET recalled = recalled + 1, "
                    "last_recalled = greatest(coalesce(last_recalled, 0), %s) WHERE user_id = %s AND id = %s",
                    [(_ts(at), user_id, fid) for fid in fact_ids],
                )

    @staticmethod
    def _fact_in(conn: Conn, fact_id: str, user_id: str | None) -> Fact:
        if user_id is not None:
            found = _load_facts(conn, "user_id = %s AND id = %s", (user_id, fact_id))
        else:
            found = _load_facts(conn, "id = %s", (fact_id,))
        if not found:
            raise MemoryNotFound(f"no fact {fact_id!r}" + (f" for user {user_id!r}" if user_id else ""))
        return found[0]

    def fact(self, fact_id: str, user_id: str | None = None) -> Fact:
        """One fact by id (within ``user_id`` when given)."""
        with self._conn("read") as conn:
            return self._fact_in(conn, fact_id, user_id)

    def fact_chain(self, fact_id: str, user_id: str | None = None) -> list[Fact]:
        """The fact with every fact it superseded and every fact that superseded it, oldest first."""
        with self._conn("read") as conn:
            fact = self._fact_in(conn, fact_id, user_id)
            chain = [fact]
            seen = {fact.id}
            back = fact
            while True:  # walk back: who did this one supersede?
                older = _load_facts(
                    conn,
                    "user_id = %s AND superseded_by = %s ORDER BY coalesce(valid_from, recorded_at) DESC LIMIT 1",
                    (back.user_id, back.id),
                )
                if not older or older[0].id in seen:
                    break
                back = older[0]
                seen.add(back.id)
                chain.insert(0, back)
            fwd = fact
            while fwd.superseded_by and fwd.superseded_by not in seen:
                fwd = self._fact_in(conn, fwd.superseded_by, fact.user_id)
                seen.add(fwd.id)
                chain.append(fwd)
            return chain

    def fact_events(self, fact_id: str) -> list[tuple[str, datetime, str | None, str | None]]:
        """A fact's audit trail: ``(action, at, episode_id, other_fact_id)`` in order."""
        with self._conn("read") as conn:
            rows = conn.execute(
                "SELECT action, at, episode_id, other_id FROM fact_events WHERE fact_id = %s ORDER BY seq",
                (fact_id,),
            ).fetchall()
        return [(r[0], _dt(r[1]) or datetime.fromtimestamp(0, UTC), r[2], r[3]) for r in rows]

    # -- entities ---------------------------------------------------------------
    def entities(self, user_id: str, limit: int = 100, offset: int = 0) -> list[Entity]:
        """A user's entities, most mentioned first."""
        with self._conn("read") as conn:
            rows = conn.execute(
                "SELECT id, name, kind, mentions, first_seen, last_seen FROM entities WHERE user_id = %s "
                "ORDER BY mentions DESC, id LIMIT %s OFFSET %s",
                (user_id, limit, offset),
            ).fetchall()
            aliases: dict[int, list[str]] = {}
            for alias, eid in conn.execute(
                'SELECT alias, entity_id FROM entity_aliases WHERE user_id = %s ORDER BY alias COLLATE "C"',
                (user_id,),
            ):
                aliases.setdefault(int(eid), []).append(alias)
        epoch = datetime.fromtimestamp(0, UTC)
        return [
            Entity(
                id=int(r[0]),
                user_id=user_id,
                name=r[1],
                kind=r[2],
                aliases=tuple(aliases.get(int(r[0]), ())),
                mentions=int(r[3]),
                first_seen=_dt(r[4]) or epoch,
                last_seen=_dt(r[5]) or epoch,
            )
            for r in rows
        ]

    def entity_graph(self, user_id: str) -> EntityGraph:
        """The user's entity <-> episode mention graph (cached until the next write)."""
        with self._lock, self._conn("read") as conn:
            # The key is read before the rows: a write landing in between leaves
            # rows newer than the key, so the next call reloads (never the reverse).
            row = conn.execute("SELECT version FROM learn_state WHERE user_id = %s", (user_id,)).fetchone()
            key = (self._version(conn, user_id)[0], 0 if row is None else int(row[0]))
            cached = self._graphs.get(user_id)
            if cached and cached[0] == key:
                return cached[1]
            aliases = conn.execute("SELECT alias, entity_id FROM entity_aliases WHERE user_id = %s", (user_id,))
            alias_rows = aliases.fetchall()
            entities = conn.execute("SELECT id, mentions FROM entities WHERE user_id = %s", (user_id,)).fetchall()
            mentions = conn.execute(
                "SELECT entity_id, episode_rowid, count FROM mentions WHERE user_id = %s", (user_id,)
            ).fetchall()
            graph = build_entity_graph(alias_rows, entities, mentions)
            self._graphs[user_id] = (key, graph)
            return graph

    # -- forgetting -------------------------------------------------------------
    def _forget_episodes(self, conn: Conn, user_id: str, rowids: Sequence[int], ids: Sequence[str]) -> None:
        """Remove what depends only on these episodes: their mentions, their share of
        facts (facts left with no source go, with their trail), and orphan entities.
        A fact an orphan had superseded becomes current again. Runs inside the
        caller's transaction, which holds the user's lock."""
        rowid_list, id_list = [int(r) for r in rowids], list(ids)
        conn.execute(
            "UPDATE entities e SET mentions = e.mentions - m.n FROM (SELECT entity_id, count(*) AS n FROM mentions "
            "WHERE user_id = %(u)s AND episode_rowid = ANY(%(r)s) GROUP BY entity_id) m "
            "WHERE e.user_id = %(u)s AND e.id = m.entity_id",
            {"u": user_id, "r": rowid_list},
        )
        conn.execute("DELETE FROM mentions WHERE user_id = %s AND episode_rowid = ANY(%s)", (user_id, rowid_list))
        touched = sorted(
            {
                r[0]
                for r in conn.execute(
                    "DELETE FROM fact_sources WHERE user_id = %s AND episode_id = ANY(%s) RETURNING fact_id",
                    (user_id, id_list),
                )
            }
        )
        # A summary quoting a forgotten turn goes too (the next consolidate rewrites it).
        conn.execute(
            "DELETE FROM session_summaries WHERE user_id = %s AND EXISTS "
            "(SELECT 1 FROM unnest(%s::text[]) AS x(id) WHERE strpos(episode_ids, x.id) > 0)",
            (user_id, id_list),
        )
        orphans = [
            r[0]
            for r in conn.execute(
                "SELECT f FROM unnest(%s::text[]) AS f WHERE NOT EXISTS "
                "(SELECT 1 FROM fact_sources s WHERE s.user_id = %s AND s.fact_id = f)",
                (touched, user_id),
            )
        ]
        if orphans:
            args = {"u": user_id, "f": orphans}
            conn.execute(
                "UPDATE facts SET valid_to = NULL, superseded_by = NULL "
                "WHERE user_id = %(u)s AND superseded_by = ANY(%(f)s)",
                args,
            )
            conn.execute("DELETE FROM facts WHERE user_id = %(u)s AND id = ANY(%(f)s)", args)
            conn.execute("DELETE FROM fact_events WHERE user_id = %(u)s AND fact_id = ANY(%(f)s)", args)
            conn.execute("DELETE FROM fact_entities WHERE user_id = %(u)s AND fact_id = ANY(%(f)s)", args)
            conn.execute("DELETE FROM fact_events WHERE user_id = %(u)s AND other_id = ANY(%(f)s)", args)
        gone = [
            r[0]
            for r in conn.execute(
                "DELETE FROM entities e WHERE user_id = %s AND mentions <= 0 AND NOT EXISTS "
                "(SELECT 1 FROM fact_entities f WHERE f.user_id = e.user_id AND f.entity_id = e.id) RETURNING id",
                (user_id,),
            )
        ]
        if gone:
            conn.execute("DELETE FROM entity_aliases WHERE user_id = %s AND entity_id = ANY(%s)", (user_id, gone))
        conn.execute("UPDATE learn_state SET version = version + 1 WHERE user_id = %s", (user_id,))

    def _erase_knowledge(self, conn: Conn, user_id: str) -> None:
        for table in KNOWLEDGE_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE user_id = %s", (user_id,))
        with self._lock:
            self._graphs.pop(user_id, None)
