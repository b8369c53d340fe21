"""Facts and entities in the SQLite file: the knowledge half of :class:`SQLiteStore`.

The logic is :class:`~hippodex.store.knowledge_sql.SQLKnowledge`, shared with
PostgreSQL; this mixin only hands it the store's connection (reads under the
store's lock, writes in its write transactions) and keeps what only SQLite
needs: rewinding learning cursors after a delete.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from hippodex.store.knowledge_sql import SQLKnowledge
from hippodex.store.knowledge_tx import Tx
from hippodex.store.sql import SQLITE


class SQLiteKnowledge(SQLKnowledge):
    """Reads and transactions over facts and entities (mixed into SQLiteStore)."""

    _dialect = SQLITE
    _db: sqlite3.Connection

    if TYPE_CHECKING:  # provided by SQLiteStore

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _version(self, user_id: str) -> tuple[int, int]: ...

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        with self._lock:  # never inside another thread's open write transaction
            yield Tx(self._db, SQLITE)

    @contextmanager
    def _knowledge_write(self, what: str, user_id: str) -> Iterator[Tx]:
        with self._write() as db:  # BEGIN IMMEDIATE: the whole file's write lock
            yield Tx(db, SQLITE)

    def _scope_version(self, tx: Tx, user_id: str) -> int:
        return self._version(user_id)[0]

    def _rewind_cursors(self, db: sqlite3.Connection) -> None:
        """After a delete, no learning cursor may point past the last episode:
        SQLite hands the highest deleted rowid out again, and the new episode
        that gets it must still be learned."""
        db.execute(
            "UPDATE learn_state SET last_rowid = (SELECT coalesce(max(rowid), 0) FROM episodes) "
            "WHERE last_rowid > (SELECT coalesce(max(rowid), 0) FROM episodes)"
        )
