"""SQLite schema and its forward-only migrations.

``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v``: SQL
statements, or a function of the connection for steps SQL cannot express
(it runs inside the same transaction). A new version appends one entry; old
entries never change, so any older file can be brought forward step by step.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

Step = str | Callable[[sqlite3.Connection], None]


def _tenant(user_id: str) -> str:
    return "t" + hashlib.sha256(user_id.encode()).hexdigest()[:24]


def _backfill_session_docs(db: sqlite3.Connection) -> None:
    """Build the session documents of a version-1 file from its episode keys."""
    rows = db.execute(
        "SELECT e.user_id, e.session_id, group_concat(f.body, ' ') FROM "
        "(SELECT rowid, user_id, session_id FROM episodes ORDER BY user_id, session_id, seq) e "
        "JOIN episodes_fts f ON f.rowid = e.rowid GROUP BY e.user_id, e.session_id"
    ).fetchall()
    for user_id, session_id, body in rows:
        cur = db.execute("INSERT INTO session_keys (user_id, session_id) VALUES (?, ?)", (user_id, session_id))
        db.execute(
            "INSERT INTO sessions_fts (rowid, body, tenant) VALUES (?, ?, ?)", (cur.lastrowid, body, _tenant(user_id))
        )


MIGRATIONS: dict[int, list[Step]] = {
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

MIGRATIONS[2] = [
    # Session documents: the keys of a session's turns, indexed as one text, so
    # lexical recall can also rank whole sessions (granularity fusion).
    """CREATE TABLE session_keys (
        rowid INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        UNIQUE (user_id, session_id)
    )""",
    """CREATE VIRTUAL TABLE sessions_fts USING fts5 (
        body, tenant, tokenize = 'porter unicode61 remove_diacritics 2'
    )""",
    _backfill_session_docs,
]

MIGRATIONS[3] = [
    # API keys of the REST server: only the sha256 of a key is stored, never the key.
    # user_ids is a JSON list of the users a key may touch; admin keys touch any.
    """CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        hash TEXT UNIQUE NOT NULL,
        name TEXT,
        user_ids TEXT NOT NULL DEFAULT '[]',
        admin INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        revoked_at REAL
    )""",
]

MIGRATIONS[4] = [
    # Semantic memory. Facts are never overwritten: a newer fact closes an older
    # one (valid_to, superseded_by) and both stay; fact_events is the audit log.
    # Times are Unix seconds; valid_* is world time, recorded_at system time.
    """CREATE TABLE facts (
        user_id TEXT NOT NULL,
        id TEXT NOT NULL,
        subject TEXT NOT NULL,
        subject_key TEXT NOT NULL,
        predicate TEXT NOT NULL,
        object TEXT NOT NULL,
        text TEXT NOT NULL,
        confidence REAL NOT NULL,
        negated INTEGER NOT NULL DEFAULT 0,
        single_valued INTEGER NOT NULL DEFAULT 0,
        asserted_by TEXT,
        valid_from REAL,
        valid_to REAL,
        recorded_at REAL NOT NULL,
        superseded_by TEXT,
        seen INTEGER NOT NULL DEFAULT 1,
        last_seen REAL NOT NULL,
        recalled INTEGER NOT NULL DEFAULT 0,
        last_recalled REAL,
        extractor TEXT NOT NULL,
        PRIMARY KEY (user_id, id)
    ) WITHOUT ROWID""",
    "CREATE INDEX facts_slot ON facts (user_id, subject_key, predicate)",
    "CREATE INDEX facts_id ON facts (id)",
    "CREATE INDEX facts_superseded ON facts (user_id, superseded_by)",
    """CREATE TABLE fact_sources (
        user_id TEXT NOT NULL,
        fact_id TEXT NOT NULL,
        episode_id TEXT NOT NULL,
        PRIMARY KEY (user_id, fact_id, episode_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX fact_sources_episode ON fact_sources (user_id, episode_id)",
    """CREATE TABLE fact_events (
        user_id TEXT NOT NULL,
        fact_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        action TEXT NOT NULL,
        at REAL NOT NULL,
        episode_id TEXT,
        other_id TEXT,
        PRIMARY KEY (user_id, fact_id, seq)
    ) WITHOUT ROWID""",
    # Entities and where they are mentioned: the graph channel walks
    # entity <-> episode edges (and entity <-> entity co-occurrence).
    """CREATE TABLE entities (
        user_id TEXT NOT NULL,
        id INTEGER NOT NULL,
        canonical TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        mentions INTEGER NOT NULL DEFAULT 0,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        PRIMARY KEY (user_id, id),
        UNIQUE (user_id, canonical)
    ) WITHOUT ROWID""",
    """CREATE TABLE entity_aliases (
        user_id TEXT NOT NULL,
        alias TEXT NOT NULL,
        entity_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, alias)
    ) WITHOUT ROWID""",
    """CREATE TABLE mentions (
        user_id TEXT NOT NULL,
        entity_id INTEGER NOT NULL,
        episode_rowid INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (user_id, entity_id, episode_rowid)
    ) WITHOUT ROWID""",
    "CREATE INDEX mentions_episode ON mentions (user_id, episode_rowid)",
    """CREATE TABLE fact_entities (
        user_id TEXT NOT NULL,
        fact_id TEXT NOT NULL,
        entity_id INTEGER NOT NULL,
        PRIMARY KEY (user_id, fact_id, entity_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX fact_entities_entity ON fact_entities (user_id, entity_id)",
    # How far each user's episodes have been read for facts and entities, so
    # learning resumes after a crash and never reads an episode twice; version
    # is bumped by every knowledge write so graph caches know to reload.
    """CREATE TABLE learn_state (
        user_id TEXT PRIMARY KEY,
        last_rowid INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    # Extractive session summaries written by consolidate().
    """CREATE TABLE session_summaries (
        user_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        summary TEXT NOT NULL,
        episode_ids TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (user_id, session_id)
    ) WITHOUT ROWID""",
]

MIGRATIONS[5] = [
    # Vectors moved to a cheaper tier (1 int8, 2 binary; see encode/quantize.py).
    # A row lives either here or in ``vectors`` (float32), never both; a move
    # is one transaction. Keyed by scope first, without a rowid or key hash,
    # so a 384-dim binary code costs under 100 bytes with its key. ``encoder``
    # holds an 8-hex tag of the encoder name (store.sqlite.encoder_tag).
    """CREATE TABLE vector_codes (
        user_id TEXT NOT NULL,
        encoder TEXT NOT NULL,
        episode INTEGER NOT NULL,
        tier INTEGER NOT NULL,
        code BLOB NOT NULL,
        PRIMARY KEY (user_id, encoder, episode)
    ) WITHOUT ROWID""",
]

MIGRATIONS[6] = [
    # The sentence vectors of episodes of two or more sentences (recall/parts.py):
    # ``count`` int8 rows with their scales in one blob. Derived data: a file
    # without them still searches, and ``reindex`` fills them in.
    """CREATE TABLE part_vectors (
        user_id TEXT NOT NULL,
        encoder TEXT NOT NULL,
        episode INTEGER NOT NULL,
        count INTEGER NOT NULL,
        vecs BLOB NOT NULL,
        PRIMARY KEY (user_id, episode, encoder)
    ) WITHOUT ROWID""",
]

MIGRATIONS[7] = [
    # The content words of each user's episodes (store/word_sql.py): how many
    # episodes use each, and once embedded its int8 vector (``encoder``: the
    # 8-hex tag). Derived data: ``reindex`` rebuilds it for older files.
    """CREATE TABLE words (
        user_id TEXT NOT NULL,
        word TEXT NOT NULL,
        uses INTEGER NOT NULL,
        encoder TEXT,
        vec BLOB,
        PRIMARY KEY (user_id, word)
    ) WITHOUT ROWID""",
]

MIGRATIONS[8] = [
    # Each episode's reading for the learned stage's cues (recall/cues.py), written
    # with it so a search need not read its candidates' texts. Derived data: rows
    # of older files have NULL, are read at search, and ``reindex`` fills them in.
    "ALTER TABLE episodes ADD COLUMN cues TEXT",
]
SCHEMA_VERSION = max(MIGRATIONS)
