"""SQLite schema and its forward-only migrations.

``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v``. A new
version appends one entry; old entries never change, so any older file can be
brought forward step by step.
"""

from __future__ import annotations

MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # The tenant key leads every primary key and index so one user's rows
        # sit together and a scope never scans another's.
        """CREATE TABLE sessions (
            user_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            agent_id TEXT,
            run_id TEXT,
            started_at REAL NOT NULL,
            ended_at REAL NOT NULL,
            next_seq INTEGER NOT NULL,
            PRIMARY KEY (user_id, session_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE episodes (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL,
            agent_id TEXT,
            run_id TEXT,
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            speaker TEXT,
            content TEXT NOT NULL,
            occurred_at REAL NOT NULL,
            recorded_at REAL NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX episodes_session ON episodes (user_id, session_id, seq)",
        "CREATE INDEX episodes_time ON episodes (user_id, occurred_at)",
        # key: the text the channels index (date, speaker, content); its hash
        # lets identical text reuse a vector instead of being embedded again.
        """CREATE TABLE vectors (
            rowid INTEGER PRIMARY KEY REFERENCES episodes (rowid) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            encoder TEXT NOT NULL,
            vec BLOB NOT NULL
        )""",
        "CREATE INDEX vectors_user ON vectors (user_id, encoder, rowid)",
        "CREATE INDEX vectors_key ON vectors (key_hash, encoder)",
        # tenant holds one opaque token per user so MATCH narrows to a user
        # inside the full-text index itself; bm25() gives that column weight 0.
        """CREATE VIRTUAL TABLE episodes_fts USING fts5 (
            body, tenant, tokenize = 'porter unicode61 remove_diacritics 2'
        )""",
        # Bumped by every write, so in-memory vector caches in any process
        # know when to reload (appends) or rebuild (deletions).
        """CREATE TABLE scope_versions (
            user_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            deletions INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ],
}

SCHEMA_VERSION = max(MIGRATIONS)
