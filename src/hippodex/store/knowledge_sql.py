"""Facts and entities in either SQL backend: the knowledge half of both SQL stores.

Written once, with ``?`` marks, against a connection and a
:class:`~hippodex.store.sql.Dialect`; :mod:`.sqlite_knowledge` and
:mod:`.postgres_knowledge` only say how to get a connection for a read or for
one user's write transaction. The writes of learning and consolidation are
in :mod:`.knowledge_tx`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import ClassVar

from hippodex._exceptions import MemoryNotFound
from hippodex.model import Entity, Fact
from hippodex.store.base import KNOWLEDGE_TABLES, EntityGraph, build_entity_graph
from hippodex.store.knowledge_tx import SQLLearning, SQLSleep, Tx, _chunks, _dt, _load_facts, _ts
from hippodex.store.sql import Dialect, SqlConnection

# Ties of last_seen (facts of one statement) by what they say, then by id.
_FACT_ORDER = ("subject_key", "predicate", "object", "id")


class SQLKnowledge:
    """Reads and transactions over facts and entities (mixed into both SQL stores).

    A backend mixin supplies :meth:`_read`, :meth:`_knowledge_write` and
    :meth:`_scope_version`; everything else is here once.
    """

    _dialect: ClassVar[Dialect]
    _lock: threading.RLock
    _graphs: dict[str, tuple[tuple[int, int], EntityGraph]]

    def _read(self) -> AbstractContextManager[Tx]:
        """A connection for reads."""
        raise NotImplementedError

    def _knowledge_write(self, what: str, user_id: str) -> AbstractContextManager[Tx]:
        """One write transaction that holds ``user_id``'s write lock (``what`` names it in errors)."""
        raise NotImplementedError

    def _scope_version(self, tx: Tx, user_id: str) -> int:
        """The version of the user's episodes (moves with every episode write)."""
        raise NotImplementedError

    # -- learning -------------------------------------------------------------
    def learn_cursor(self, user_id: str) -> int:
        """Rowid of the last episode of the user already read for facts and entities."""
        with self._read() as tx:
            row = tx.execute("SELECT last_rowid FROM learn_state WHERE user_id = ?", (user_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def unlearned_users(self) -> list[str]:
        """Users with episodes not yet read for facts and entities."""
        with self._read() as tx:
            rows = tx.execute(
                "SELECT e.user_id FROM episodes e LEFT JOIN learn_state l ON l.user_id = e.user_id "
                "GROUP BY e.user_id HAVING max(e.rowid) > coalesce(max(l.last_rowid), 0)"
            ).fetchall()
        return sorted(r[0] for r in rows)  # code-point order on both engines

    @contextmanager
    def learning(self, user_id: str) -> Iterator[SQLLearning]:
        """One write transaction for a batch of knowledge writes of one user."""
        with self._knowledge_write("learning", user_id) as tx:
            yield SQLLearning(tx, user_id)

    @contextmanager
    def sleeping(self, user_id: str) -> Iterator[SQLSleep]:
        """One write transaction for a step of a consolidation pass of one user."""
        with self._knowledge_write("consolidate", user_id) as tx:
            yield SQLSleep(tx, user_id)

    def users(self) -> list[str]:
        """Every user with episodes."""
        with self._read() as tx:
            rows = tx.execute("SELECT DISTINCT user_id FROM sessions").fetchall()
        return sorted(r[0] for r in rows)

    def summary(self, user_id: str, session_id: str) -> str | None:
        """A session's summary from the last consolidation, if any."""
        with self._read() as tx:
            row = tx.execute(
                "SELECT summary FROM session_summaries WHERE user_id = ? AND session_id = ?", (user_id, session_id)
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
        """A user's facts, newest statement first; those of one statement by what they say, so
        every store pages them alike (their ids are partly random)."""
        where, args = "user_id = ?", [user_id]
        if current_only:
            where += " AND valid_to IS NULL AND superseded_by IS NULL"
        if subject is not None:
            where += " AND subject_key = ?"
            args.append(subject.strip().casefold())
        with self._read() as tx:
            return _load_facts(
                tx,
                f"{where} ORDER BY last_seen DESC, {', '.join(f'{c}{tx.dialect.collate}' for c in _FACT_ORDER)} "
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            )

    def mark_recalled(self, user_id: str, fact_ids: Sequence[str], at: datetime) -> None:
        """Count a retrieval of these facts (retrieval makes memories last longer)."""
        if not fact_ids:
            return
        # Under the user's lock, as learning is: one lock order, so no deadlock over fact rows.
        with self._knowledge_write("write", user_id) as tx:
            for fid in fact_ids:
                tx.execute(
                    f"UPDATE facts SET recalled = recalled + 1, "
                    f"last_recalled = {tx.dialect.greatest}(coalesce(last_recalled, 0), ?) "
                    "WHERE user_id = ? AND id = ?",
                    (_ts(at), user_id, fid),
                )

    @staticmethod
    def _fact_in(tx: Tx, fact_id: str, user_id: str | None) -> Fact:
        if user_id is not None:
            found = _load_facts(tx, "user_id = ? AND id = ?", (user_id, fact_id))
        else:
            found = _load_facts(tx, "id = ?", (fact_id,))
        if not found:
            raise MemoryNotFound(f"no fact {fact_id!r}" + (f" for user {user_id!r}" if user_id else ""))
        return found[0]

    def fact(self, fact_id: str, user_id: str | None = None) -> Fact:
        """One fact by id (within ``user_id`` when given)."""
        with self._read() as tx:
            return self._fact_in(tx, fact_id, user_id)

    def fact_chain(self, fact_id: str, user_id: str | None = None) -> list[Fact]:
        """The fact with every fact it superseded and every fact that superseded it, oldest first."""
        with self._read() as tx:
            fact = self._fact_in(tx, fact_id, user_id)
            chain = [fact]
            seen = {fact.id}
            back = fact
            while True:  # walk back: who did this one supersede?
                older = _load_facts(
                    tx,
                    "user_id = ? AND superseded_by = ? ORDER BY coalesce(valid_from, recorded_at) DESC LIMIT 1",
                    (back.user_id, back.id),
                )
                if not older or older[0].id in seen:
                    break
                back = older[0]
                seen.add(back.id)
                chain.insert(0, back)
            fwd = fact
            while fwd.superseded_by and fwd.superseded_by not in seen:
                fwd = self._fact_in(tx, fwd.superseded_by, fact.user_id)
                seen.add(fwd.id)
                chain.append(fwd)
            return chain

    def fact_events(self, fact_id: str) -> list[tuple[str, datetime, str | None, str | None]]:
        """A fact's audit trail: ``(action, at, episode_id, other_fact_id)`` in order."""
        with self._read() as tx:
            rows = tx.execute(
                "SELECT action, at, episode_id, other_id FROM fact_events WHERE fact_id = ? ORDER BY seq",
                (fact_id,),
            ).fetchall()
        return [(r[0], _dt(r[1]) or datetime.fromtimestamp(0, UTC), r[2], r[3]) for r in rows]

    # -- entities ---------------------------------------------------------------
    def entities(self, user_id: str, limit: int = 100, offset: int = 0) -> list[Entity]:
        """A user's entities, most mentioned first."""
        with self._read() as tx:
            rows = tx.execute(
                "SELECT id, name, kind, mentions, first_seen, last_seen FROM entities WHERE user_id = ? "
                "ORDER BY mentions DESC, id LIMIT ? OFFSET ?",
                (user_id, limit, offset),
            ).fetchall()
            aliases: dict[int, list[str]] = {}
            for alias, eid in tx.execute(
                f"SELECT alias, entity_id FROM entity_aliases WHERE user_id = ? ORDER BY alias{tx.dialect.collate}",
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
        with self._lock, self._read() as tx:
            # The key is read before the rows: a write landing in between leaves
            # rows newer than the key, so the next call reloads (never the reverse).
            row = tx.execute("SELECT version FROM learn_state WHERE user_id = ?", (user_id,)).fetchone()
            key = (self._scope_version(tx, user_id), 0 if row is None else int(row[0]))
            cached = self._graphs.get(user_id)
            if cached and cached[0] == key:
                return cached[1]
            aliases = tx.execute("SELECT alias, entity_id FROM entity_aliases WHERE user_id = ?", (user_id,)).fetchall()
            entities = tx.execute("SELECT id, mentions FROM entities WHERE user_id = ?", (user_id,)).fetchall()
            mentions = tx.execute(
                "SELECT entity_id, episode_rowid, count FROM mentions WHERE user_id = ?", (user_id,)
            ).fetchall()
            # The user's own kin, named: "my sister" in a question then names Joana.
            relations = tx.execute(
                "SELECT object FROM facts WHERE user_id = ? AND subject = 'user' AND predicate = 'relation'"
                " AND negated = ? AND valid_to IS NULL AND superseded_by IS NULL",
                (user_id, False),
            ).fetchall()
            graph = build_entity_graph(aliases, entities, mentions, [str(r[0]) for r in relations])
            self._graphs[user_id] = (key, graph)
            return graph

    # -- forgetting -------------------------------------------------------------
    def _forget_episodes(self, conn: SqlConnection, user_id: str, rowids: Sequence[int], ids: Sequence[str]) -> None:
        """Remove what depends only on these episodes: their mentions, their share of
        facts (facts left with no source go, with their trail), and orphan entities.
        A fact an orphan had superseded becomes current again. Runs inside the
        caller's write transaction, which holds the user's lock."""
        tx = Tx(conn, self._dialect)
        d = self._dialect
        for chunk in _chunks([int(r) for r in rowids]):
            cond, values = d.one_of("episode_rowid", chunk)
            for eid, count in tx.execute(
                f"SELECT entity_id, count(*) FROM mentions WHERE user_id = ? AND {cond} GROUP BY entity_id",
                [user_id, *values],
            ).fetchall():
                tx.execute(
                    "UPDATE entities SET mentions = mentions - ? WHERE user_id = ? AND id = ?", (count, user_id, eid)
                )
            tx.execute(f"DELETE FROM mentions WHERE user_id = ? AND {cond}", [user_id, *values])
        touched: set[str] = set()
        for chunk in _chunks(ids):
            cond, values = d.one_of("episode_id", chunk)
            touched.update(
                r[0]
                for r in tx.execute(
                    f"SELECT fact_id FROM fact_sources WHERE user_id = ? AND {cond}", [user_id, *values]
                )
            )
            tx.execute(f"DELETE FROM fact_sources WHERE user_id = ? AND {cond}", [user_id, *values])
        for eid in ids:  # a summary quoting a forgotten turn goes too (the next consolidate rewrites it)
            tx.execute(
                f"DELETE FROM session_summaries WHERE user_id = ? AND {d.instr}(episode_ids, ?) > 0", (user_id, eid)
            )
        for fid in sorted(touched):
            (left,) = tx.execute(
                "SELECT count(*) FROM fact_sources WHERE user_id = ? AND fact_id = ?", (user_id, fid)
            ).fetchone()
            if left:  # stated fewer times now: each statement is one source
                tx.execute("UPDATE facts SET seen = ? WHERE user_id = ? AND id = ?", (left, user_id, fid))
                continue
            self._hand_over(tx, user_id, fid)
            for table in ("facts", "fact_events", "fact_entities"):
                column = "id" if table == "facts" else "fact_id"
                tx.execute(f"DELETE FROM {table} WHERE user_id = ? AND {column} = ?", (user_id, fid))
            tx.execute("DELETE FROM fact_events WHERE user_id = ? AND other_id = ?", (user_id, fid))
        orphans = [
            r[0]
            for r in tx.execute(
                "SELECT id FROM entities e WHERE user_id = ? AND mentions <= 0 AND NOT EXISTS "
                "(SELECT 1 FROM fact_entities f WHERE f.user_id = e.user_id AND f.entity_id = e.id)",
                (user_id,),
            ).fetchall()
        ]
        for eid in orphans:
            tx.execute("DELETE FROM entities WHERE user_id = ? AND id = ?", (user_id, eid))
            tx.execute("DELETE FROM entity_aliases WHERE user_id = ? AND entity_id = ?", (user_id, eid))
        tx.execute("UPDATE learn_state SET version = version + 1 WHERE user_id = ?", (user_id,))

    @staticmethod
    def _hand_over(tx: Tx, user_id: str, fid: str) -> None:
        """Before fact ``fid`` goes: what it had superseded becomes current again, or,
        if a later fact had superseded it in turn, is superseded by that one from then
        (forgetting Lisbon between Porto and Amsterdam leaves Porto closed by Amsterdam)."""
        row = tx.execute("SELECT superseded_by, valid_to FROM facts WHERE user_id = ? AND id = ?", (user_id, fid))
        successor, ended = row.fetchone() or (None, None)
        replaced = [
            r[0] for r in tx.execute("SELECT id FROM facts WHERE user_id = ? AND superseded_by = ?", (user_id, fid))
        ]
        tx.execute(
            "UPDATE facts SET valid_to = ?, superseded_by = ? WHERE user_id = ? AND superseded_by = ?",
            (ended if successor else None, successor, user_id, fid),
        )
        if successor is None or not replaced:
            return
        # The trail follows: the replaced facts were superseded by the successor, when and
        # because of what the forgotten fact was; the successor superseded the first of them.
        when = tx.execute(
            "SELECT at, episode_id FROM fact_events WHERE user_id = ? AND fact_id = ? AND other_id = ? "
            "ORDER BY seq DESC LIMIT 1",
            (user_id, fid, successor),
        ).fetchone()
        at, episode = when or (None, None)
        for old in replaced:
            tx.execute(
                "UPDATE fact_events SET other_id = ?, at = coalesce(?, at), episode_id = ? "
                "WHERE user_id = ? AND fact_id = ? AND other_id = ?",
                (successor, at, episode, user_id, old, fid),
            )
        tx.execute(
            "UPDATE fact_events SET other_id = ? WHERE user_id = ? AND fact_id = ? AND other_id = ?",
            (replaced[0], user_id, successor, fid),
        )

    def _erase_knowledge(self, conn: SqlConnection, user_id: str) -> None:
        tx = Tx(conn, self._dialect)
        for table in KNOWLEDGE_TABLES:
            tx.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
        with self._lock:
            self._graphs.pop(user_id, None)
