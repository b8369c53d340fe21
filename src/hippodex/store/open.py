"""Choose the store for a ``--db`` value: a SQLite file, or a PostgreSQL URL."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

from hippodex._exceptions import StoreError
from hippodex.store.base import Store


def is_postgres_url(target: str) -> bool:
    """Whether a ``--db`` value names a PostgreSQL database rather than a file.

    >>> is_postgres_url("postgresql://localhost/mem"), is_postgres_url("memory.db")
    (True, False)
    """
    return target.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password (in the user part or the query string), for messages and reprs.

    >>> redact("postgresql://ana:s3cret@db.example/mem")
    'postgresql://ana:***@db.example/mem'
    >>> redact("postgresql://ana@/mem?host=/run/pg&password=s3cret")
    'postgresql://ana@/mem?host=/run/pg&password=***'
    >>> redact("postgresql://ana:s3cret@[::1/mem")  # not a URL urlsplit can read: cut at the @
    'postgresql://***@[::1/mem'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}" if "@" in rest else _redact_query(url)
    if password is None and not _PASSWORD.search(parts.query):
        return url  # as given: nothing to hide, and no re-spelling of the URL
    if password is not None:
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}:***@{netloc[1]}")
    return urlunsplit(parts._replace(query=_redact_query(parts.query)))


#: A ``password=`` parameter of a connection URL's query string (libpq reads one there too).
_PASSWORD = re.compile(r"(?i)(^|[?&])(password=)[^&#]*")


def _redact_query(text: str) -> str:
    return _PASSWORD.sub(r"\1\2***", text)


def open_store(target: str | os.PathLike[str]) -> Store:
    """A :class:`~hippodex.store.base.Store` for a file path or a ``postgresql://`` URL.

    >>> open_store(":memory:").stats(None)["episodes"]
    0
    """
    text = os.fspath(target)
    if is_postgres_url(text):
        from hippodex.store.postgres import PostgresStore

        try:
            urlsplit(text).port  # noqa: B018 -- reading it checks the host and port parse
        except ValueError as exc:
            raise StoreError(f"{redact(text)} is not a PostgreSQL URL hippodex can read: {exc}") from None

        return PostgresStore(text)
    from hippodex.store.sqlite import SQLiteStore

    return SQLiteStore(text)
