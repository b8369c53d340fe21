"""Facts and entities in PostgreSQL: the knowledge half of :class:`PostgresStore`.

The logic is :class:`~hippodex.store.knowledge_sql.SQLKnowledge`, shared with
SQLite; this mixin only hands it pooled connections. Every knowledge write
transaction first takes the user's ``scopes`` row (the lock every episode
write takes), so two processes learning one user at once run one after the
other, and the second one re-reads the cursor after the first committed and
skips what it learned. Episode keys come from a sequence and are never handed
out twice, so unlike SQLite no learning cursor needs rewinding after a delete.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, cast

from hippodex.store.knowledge_sql import SQLKnowledge
from hippodex.store.knowledge_tx import Tx
from hippodex.store.sql import POSTGRES

if TYPE_CHECKING:
    import psycopg

    Conn = psycopg.Connection[Any]


class PostgresKnowledge(SQLKnowledge):
    """Reads and transactions over facts and entities (mixed into PostgresStore)."""

    _dialect = POSTGRES

    if TYPE_CHECKING:  # provided by PostgresStore

        def _conn(self, what: str) -> AbstractContextManager[Conn]: ...
        def _version(self, conn: Conn, user_id: str) -> tuple[int, int]: ...

    @contextmanager
    def _read(self) -> Iterator[Tx]:
        with self._conn("read") as conn:
            yield Tx(conn, POSTGRES)

    @contextmanager
    def _knowledge_write(self, what: str, user_id: str) -> Iterator[Tx]:
        with self._conn(what) as conn:
            # The user's row lock (as every episode write takes) for the rest of the transaction.
            conn.execute("SELECT 1 FROM scopes WHERE user_id = %s FOR UPDATE", (user_id,))
            yield Tx(conn, POSTGRES)

    def _scope_version(self, tx: Tx, user_id: str) -> int:
        return self._version(cast("Conn", tx.conn), user_id)[0]  # a connection from this store's pool
