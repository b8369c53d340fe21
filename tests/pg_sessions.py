"""What PostgreSQL tests share: ending the other sessions of a database, as a server restart would."""

from __future__ import annotations


def drop_connections(url: str) -> int:
    """Have PostgreSQL end every other session on the database; returns how many it ended."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0
