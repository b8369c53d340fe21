"""Choose the store for a ``--db`` value: a SQLite file, or a PostgreSQL URL."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from hippodex.store.base import Store


def is_postgres_url(target: str) -> bool:
    """Whether a ``--db`` value names a PostgreSQL database rather than a file.

    >>> is_postgres_url("postgresql://localhost/mem"), is_postgres_url("memory.db")
    (True, False)
    """
    return target.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for messages and reprs.

    >>> redact("postgresql://ana:s3cret@db.example/mem")
    'postgresql://ana:***@db.example/mem'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def open_store(target: str | os.PathLike[str]) -> Store:
    """A :class:`~hippodex.store.base.Store` for a file path or a ``postgresql://`` URL.

    >>> open_store(":memory:").stats(None)["episodes"]
    0
    """
    text = os.fspath(target)
    if is_postgres_url(text):
        from hippodex.store.postgres import PostgresStore

        return PostgresStore(text)
    from hippodex.store.sqlite import SQLiteStore

    return SQLiteStore(text)
