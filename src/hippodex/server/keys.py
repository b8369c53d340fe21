"""API keys for the REST server, kept in the memory's own database (SQLite file or PostgreSQL).

A key looks like ``hdx_<32 urlsafe characters>``. Only its sha256 is stored,
so a stolen database does not hand out working keys; the plaintext is shown
once, by :meth:`KeyStore.create`. A key is bound to a list of ``user_id``\\ s
(the tenants it may read and write) or is an admin key that may touch any.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hippodex._exceptions import ConfigError, StoreError, ValidationError
from hippodex.ingest.normalize import check_id
from hippodex.store.open import is_postgres_url, open_store, redact

__all__ = ["KEY_PREFIX", "Key", "KeyStore"]

KEY_PREFIX = "hdx_"
_KEY_BODY_CHARS = 32


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True)
class Key:
    """An API key as stored: never its plaintext.

    >>> Key("k1", None, ("ana",), False, datetime.now(UTC), None).allows("ana")
    True
    """

    id: str
    name: str | None
    user_ids: tuple[str, ...]
    admin: bool
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        """Whether the key was revoked (it then authenticates nothing)."""
        return self.revoked_at is not None

    def allows(self, user_id: str) -> bool:
        """Whether this key may read and write ``user_id``'s memory."""
        return not self.revoked and (self.admin or user_id in self.user_ids)


_COLUMNS = "id, hash, name, user_ids, admin, created_at, revoked_at"


def _row_to_key(row: tuple[object, ...]) -> Key:
    kid, _, name, user_ids, admin, created_at, revoked_at = row
    return Key(
        id=str(kid),
        name=None if name is None else str(name),
        user_ids=tuple(json.loads(str(user_ids))),
        admin=bool(admin),
        created_at=datetime.fromtimestamp(float(created_at), UTC),  # type: ignore[arg-type]
        revoked_at=_dt(None if revoked_at is None else float(revoked_at)),  # type: ignore[arg-type]
    )


class KeyStore:
    """Create, list, revoke and check API keys in a memory file or PostgreSQL database.

    >>> import tempfile, os
    >>> keys = KeyStore(os.path.join(tempfile.mkdtemp(), "memory.db"))
    >>> key_id, plaintext = keys.create(["ana"], name="ana's agent")
    >>> keys.check(plaintext).user_ids
    ('ana',)
    >>> keys.check("hdx_wrong") is None
    True
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        target = os.fspath(path)
        self.path = redact(target)
        if target == ":memory:":
            raise ConfigError("KeyStore needs a database file, not ':memory:' (keys must outlive the process)")
        open_store(target).close()  # brings the schema (and the api_keys table) up to date
        self._target = target
        self._lock = threading.Lock()
        self._pg: Any = None
        self._db: sqlite3.Connection | None = None
        try:
            if is_postgres_url(target):
                self._pg = self._connect_pg()
            else:
                self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
                self._db.execute("PRAGMA busy_timeout = 10000")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
        except Exception as exc:
            raise StoreError(f"cannot open API keys in {self.path}: {exc}") from exc

    def _connect_pg(self) -> Any:
        import psycopg

        return psycopg.connect(self._target, autocommit=True, connect_timeout=10)

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Run one statement (written with ``?`` marks) on either backend.

        A PostgreSQL connection the server dropped (a restart, an idle timeout) is
        opened again, and the statement tried once more: without that, every request
        would fail until the process restarted.
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._pg is not None:
                        if self._pg.closed or self._pg.broken:
                            self._pg = self._connect_pg()
                        cur = self._pg.execute(sql.replace("?", "%s"), args)
                        return list(cur.fetchall()) if cur.description else []
                    assert self._db is not None
                    return self._db.execute(sql, args).fetchall()
                except Exception as exc:
                    if not (isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg")):
                        raise
                    if attempt == 1 and self._pg is not None and (self._pg.closed or self._pg.broken):
                        continue
                    raise StoreError(f"API key table in {self.path}: {exc}") from exc
            raise AssertionError("unreachable")  # pragma: no cover

    def ping(self) -> None:
        """Read the key table once; raises :class:`StoreError` when it cannot be read."""
        self._run("SELECT 1 FROM api_keys LIMIT 1")

    def create(self, user_ids: list[str], *, admin: bool = False, name: str | None = None) -> tuple[str, str]:
        """A new key for ``user_ids`` (or every user if ``admin``): returns ``(key_id, plaintext)``.

        The plaintext is not stored anywhere; hand it to the client now.
        """
        users = [str(check_id(u, "user_id")) for u in user_ids]
        if not users and not admin:
            raise ValidationError("a key needs at least one user_id, or admin=True")
        if name is not None:
            check_id(name, "name")
        key_id = "key_" + secrets.token_hex(6)
        plaintext = KEY_PREFIX + secrets.token_urlsafe(24)  # 24 bytes -> 32 urlsafe characters
        assert len(plaintext) == len(KEY_PREFIX) + _KEY_BODY_CHARS
        self._run(
            f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (key_id, _hash(plaintext), name, json.dumps(sorted(set(users))), int(admin), time.time()),
        )
        return key_id, plaintext

    def list(self) -> list[Key]:
        """Every key, revoked ones included, oldest first."""
        return [_row_to_key(r) for r in self._run(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, id")]

    def revoke(self, key_id: str) -> Key:
        """Revoke a key at once; raises :class:`ValidationError` if there is no such key."""
        self._run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), key_id))
        rows = self._run(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,))
        if not rows:
            raise ValidationError(f"no API key with id {key_id!r}; see `hippodex keys list`")
        return _row_to_key(rows[0])

    def check(self, plaintext: str | None) -> Key | None:
        """The live key matching ``plaintext``, or ``None`` (unknown, malformed or revoked)."""
        if not plaintext or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 128:
            return None
        digest = _hash(plaintext)
        rows = self._run(f"SELECT {_COLUMNS} FROM api_keys WHERE hash = ?", (digest,))
        if not rows or not hmac.compare_digest(str(rows[0][1]), digest):
            return None
        key = _row_to_key(rows[0])
        return None if key.revoked else key

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._pg is not None:
                self._pg.close()
            if self._db is not None:
                self._db.close()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
