"""The write transactions of learning and consolidation, for either SQL backend.

Written once, with ``?`` marks, against a connection and a
:class:`~hippodex.store.sql.Dialect` (through :class:`Tx`). Learning writes go
through :class:`SQLLearning`, one transaction per batch of episodes, so a
crash leaves either the whole batch learned or none of it; :class:`SQLSleep`
holds one step of a consolidation pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from hippodex.model import Fact
from hippodex.store.sql import Dialect, SqlConnection, SqlCursor

_FACT_COLUMNS = (
    "user_id, id, subject, predicate, object, text, confidence, negated, single_valued, asserted_by, "
    "valid_from, valid_to, recorded_at, superseded_by, seen, last_seen, extractor, recalled, last_recalled"
)
_CHUNK = 500  # values per IN (...) list: under SQLite's bound-parameter limit


@dataclass(frozen=True)
class Tx:
    """One connection of either engine, taking statements written with ``?`` marks."""

    conn: SqlConnection
    dialect: Dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> SqlCursor:
        return self.conn.execute(self.dialect.sql(sql), params)


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


def _ts(dt: datetime | None) -> float | None:
    return None if dt is None else dt.timestamp()


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield list(values[i : i + _CHUNK])


def _fact(row: Sequence[Any], sources: tuple[str, ...]) -> Fact:
    return Fact(
        user_id=row[0],
        id=row[1],
        subject=row[2],
        predicate=row[3],
        object=row[4],
        text=row[5],
        confidence=float(row[6]),
        negated=bool(row[7]),
        single_valued=bool(row[8]),
        asserted_by=row[9],
        valid_from=_dt(row[10]),
        valid_to=_dt(row[11]),
        recorded_at=_dt(row[12]) or datetime.fromtimestamp(0, UTC),
        superseded_by=row[13],
        seen=int(row[14]),
        last_seen=_dt(row[15]) or datetime.fromtimestamp(0, UTC),
        extractor=row[16],
        recalled=int(row[17]),
        last_recalled=_dt(row[18]),
        sources=sources,
    )


def _load_facts(tx: Tx, where: str, args: Sequence[Any]) -> list[Fact]:
    rows = tx.execute(f"SELECT {_FACT_COLUMNS} FROM facts WHERE {where}", args).fetchall()
    if not rows:
        return []
    sources: dict[tuple[str, str], list[str]] = {}
    for user in {r[0] for r in rows}:
        for chunk in _chunks([r[1] for r in rows if r[0] == user]):
            cond, values = tx.dialect.one_of("fact_id", chunk)
            for fid, eid in tx.execute(
                f"SELECT fact_id, episode_id FROM fact_sources WHERE user_id = ? AND {cond} "
                f"ORDER BY episode_id{tx.dialect.collate}",
                [user, *values],
            ):
                sources.setdefault((user, fid), []).append(eid)
    return [_fact(r, tuple(sources.get((r[0], r[1]), ()))) for r in rows]


def _as_stored(fact: Fact) -> Fact:
    """The fact as reading its row back gives it: times pass through the stored float seconds."""
    return replace(
        fact,
        valid_from=_dt(_ts(fact.valid_from)),
        valid_to=_dt(_ts(fact.valid_to)),
        recorded_at=_dt(_ts(fact.recorded_at)) or fact.recorded_at,
        last_seen=_dt(_ts(fact.last_seen)) or fact.last_seen,
        last_recalled=_dt(_ts(fact.last_recalled)),
    )


class SQLLearning:
    """Knowledge writes of one user inside one open transaction."""

    def __init__(self, tx: Tx, user_id: str) -> None:
        self.tx = tx
        self.user_id = user_id
        # Slots read in this transaction, kept as facts are added: a batch that states many
        # values of one slot ("I like ...") would otherwise reload the whole slot per claim.
        self._slots: dict[tuple[str, str], list[Fact]] = {}

    def slot_facts(self, subject_key: str, predicate: str) -> list[Fact]:
        """Every fact (current or not) of one subject and predicate."""
        key = (subject_key, predicate)
        if key not in self._slots:
            self._slots[key] = _load_facts(
                self.tx, "user_id = ? AND subject_key = ? AND predicate = ?", (self.user_id, *key)
            )
        return list(self._slots[key])

    def _changed(self, fact_id: str) -> None:
        """Forget the slots holding a fact whose row changed (read afresh when next asked)."""
        for key in [k for k, facts in self._slots.items() if any(f.id == fact_id for f in facts)]:
            del self._slots[key]

    def insert_fact(self, fact: Fact) -> None:
        cached = self._slots.get((fact.subject.strip().casefold(), fact.predicate))
        if cached is not None:
            cached.append(_as_stored(fact))
        self.tx.execute(
            f"INSERT INTO facts ({_FACT_COLUMNS}, subject_key) VALUES ({', '.join('?' * 20)})",
            (
                self.user_id,
                fact.id,
                fact.subject,
                fact.predicate,
                fact.object,
                fact.text,
                fact.confidence,
                fact.negated,  # a bool: BOOLEAN on PostgreSQL, 0/1 in SQLite
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
        for chunk in _chunks(fact.sources):
            self.tx.execute(
                "INSERT INTO fact_sources (user_id, fact_id, episode_id) VALUES "
                f"{', '.join(['(?, ?, ?)'] * len(chunk))} ON CONFLICT DO NOTHING",
                [v for s in chunk for v in (self.user_id, fact.id, s)],
            )

    def reinforce(self, fact_id: str, episode_id: str, confidence: float, at: datetime) -> bool:
        """Another episode states the fact: add the source, count it, raise confidence
        (noisy-or). Returns False when that episode was already a source."""
        cur = self.tx.execute(
            "INSERT INTO fact_sources (user_id, fact_id, episode_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (self.user_id, fact_id, episode_id),
        )
        if cur.rowcount == 0:
            return False
        self._changed(fact_id)
        self.tx.execute(
            f"UPDATE facts SET seen = seen + 1, last_seen = {self.tx.dialect.greatest}(last_seen, ?), "
            "confidence = 1 - (1 - confidence) * (1 - ?) WHERE user_id = ? AND id = ?",
            (_ts(at), confidence, self.user_id, fact_id),
        )
        return True

    def close_fact(self, fact_id: str, valid_to: datetime | None, superseded_by: str) -> None:
        self._changed(fact_id)
        self.tx.execute(
            "UPDATE facts SET valid_to = ?, superseded_by = ? WHERE user_id = ? AND id = ?",
            (_ts(valid_to), superseded_by, self.user_id, fact_id),
        )

    def log(
        self, fact_id: str, action: str, at: datetime, episode_id: str | None = None, other_id: str | None = None
    ) -> None:
        """Append to the fact's audit trail (what happened to it, when, because of what)."""
        self.tx.execute(
            "INSERT INTO fact_events (user_id, fact_id, seq, action, at, episode_id, other_id) "
            "VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM fact_events WHERE user_id = ? AND fact_id = ?), "
            "?, ?, ?, ?)",
            (self.user_id, fact_id, self.user_id, fact_id, action, _ts(at), episode_id, other_id),
        )

    def entity(self, canonical: str, name: str, kind: str, at: datetime) -> int:
        """The id of the entity known by ``canonical`` (or one of its aliases), created if new."""
        d = self.tx.dialect
        row = self.tx.execute(
            "SELECT entity_id FROM entity_aliases WHERE user_id = ? AND alias = ?", (self.user_id, canonical)
        ).fetchone()
        if row is not None:
            self.tx.execute(
                f"UPDATE entities SET last_seen = {d.greatest}(last_seen, ?), first_seen = {d.least}(first_seen, ?) "
                "WHERE user_id = ? AND id = ?",
                (_ts(at), _ts(at), self.user_id, row[0]),
            )
            return int(row[0])
        # max + 1 is safe: the transaction holds the user's write lock, so no one
        # else numbers this user's entities now.
        new_id = int(
            self.tx.execute(
                "SELECT coalesce(max(id), 0) + 1 FROM entities WHERE user_id = ?", (self.user_id,)
            ).fetchone()[0]
        )
        self.tx.execute(
            "INSERT INTO entities (user_id, id, canonical, name, kind, mentions, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (self.user_id, new_id, canonical, name, kind, _ts(at), _ts(at)),
        )
        self.alias(new_id, canonical)
        return new_id

    def alias(self, entity_id: int, alias: str) -> None:
        self.tx.execute(
            "INSERT INTO entity_aliases (user_id, alias, entity_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (self.user_id, alias, entity_id),
        )

    def mention(self, entity_id: int, episode_rowid: int) -> None:
        cur = self.tx.execute(
            "INSERT INTO mentions (user_id, entity_id, episode_rowid, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (user_id, entity_id, episode_rowid) DO UPDATE SET count = mentions.count + 1",
            (self.user_id, entity_id, episode_rowid),
        )
        if cur.rowcount:
            self.tx.execute(
                "UPDATE entities SET mentions = mentions + 1 WHERE user_id = ? AND id = ?", (self.user_id, entity_id)
            )

    def link(self, fact_id: str, entity_id: int) -> None:
        self.tx.execute(
            "INSERT INTO fact_entities (user_id, fact_id, entity_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (self.user_id, fact_id, entity_id),
        )

    def cursor(self) -> int:
        """The learning cursor as this transaction sees it (after taking the user's
        write lock, so a learner that just committed is seen)."""
        row = self.tx.execute("SELECT last_rowid FROM learn_state WHERE user_id = ?", (self.user_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def present(self, episode_ids: Sequence[str]) -> set[str]:
        """Which of these episodes still exist (one may be deleted while it is being read)."""
        found: set[str] = set()
        for i in range(0, len(episode_ids), 500):
            chunk = list(episode_ids[i : i + 500])
            marks = ", ".join("?" * len(chunk))
            rows = self.tx.execute(
                f"SELECT id FROM episodes WHERE user_id = ? AND id IN ({marks})", [self.user_id, *chunk]
            )
            found.update(str(r[0]) for r in rows.fetchall())
        return found

    def advance(self, last_rowid: int) -> None:
        """Mark the user's episodes up to ``last_rowid`` as learned (and caches stale)."""
        self.tx.execute(
            "INSERT INTO learn_state (user_id, last_rowid, version) VALUES (?, ?, 1) ON CONFLICT (user_id) "
            f"DO UPDATE SET last_rowid = {self.tx.dialect.greatest}(learn_state.last_rowid, excluded.last_rowid), "
            "version = learn_state.version + 1",
            (self.user_id, last_rowid),
        )


class SQLSleep:
    """The writes of a consolidation pass of one user inside one open transaction."""

    def __init__(self, tx: Tx, user_id: str) -> None:
        self.tx = tx
        self.user_id = user_id

    def current_facts(self) -> list[Fact]:
        return _load_facts(self.tx, "user_id = ? AND valid_to IS NULL AND superseded_by IS NULL", (self.user_id,))

    def merge(self, keep: str, duplicate: str, at: datetime) -> None:
        """Fold a duplicate into the fact kept: its sources and count move over and
        it points at the kept fact (it stays readable, with a "merged" event)."""
        self.tx.execute(
            "INSERT INTO fact_sources (user_id, fact_id, episode_id) "
            "SELECT user_id, ?, episode_id FROM fact_sources WHERE user_id = ? AND fact_id = ? ON CONFLICT DO NOTHING",
            (keep, self.user_id, duplicate),
        )
        self.tx.execute(
            "UPDATE facts SET seen = seen + (SELECT seen FROM facts WHERE user_id = ? AND id = ?), "
            f"last_seen = {self.tx.dialect.greatest}(last_seen, "
            "(SELECT last_seen FROM facts WHERE user_id = ? AND id = ?)) WHERE user_id = ? AND id = ?",
            (self.user_id, duplicate, self.user_id, duplicate, self.user_id, keep),
        )
        self.tx.execute(
            "UPDATE facts SET superseded_by = ? WHERE user_id = ? AND id = ?", (keep, self.user_id, duplicate)
        )
        learning = SQLLearning(self.tx, self.user_id)
        learning.log(duplicate, "merged", at, other_id=keep)
        learning.log(keep, "absorbed", at, other_id=duplicate)

    def set_summary(self, session_id: str, summary: str, episode_ids: Sequence[str], at: datetime) -> bool:
        """Store a session's summary; False when it is unchanged."""
        ids = ",".join(episode_ids)
        row = self.tx.execute(
            "SELECT summary, episode_ids FROM session_summaries WHERE user_id = ? AND session_id = ?",
            (self.user_id, session_id),
        ).fetchone()
        if row is not None and row[0] == summary and row[1] == ids:
            return False
        self.tx.execute(
            "INSERT INTO session_summaries (user_id, session_id, summary, episode_ids, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, session_id) DO UPDATE SET summary = excluded.summary, "
            "episode_ids = excluded.episode_ids, updated_at = excluded.updated_at",
            (self.user_id, session_id, summary, ids, _ts(at)),
        )
        return True

    def refresh_entities(self) -> int:
        """Recount every entity's mentions from the mention rows; returns how many changed."""
        cur = self.tx.execute(
            "UPDATE entities SET mentions = (SELECT count(*) FROM mentions m WHERE m.user_id = entities.user_id "
            "AND m.entity_id = entities.id) WHERE user_id = ? AND mentions <> (SELECT count(*) FROM mentions m "
            "WHERE m.user_id = entities.user_id AND m.entity_id = entities.id)",
            (self.user_id,),
        )
        changed = int(cur.rowcount)
        if changed:  # the graph channel weighs entities by these counts: its cache must reload
            self.tx.execute("UPDATE learn_state SET version = version + 1 WHERE user_id = ?", (self.user_id,))
        return changed
