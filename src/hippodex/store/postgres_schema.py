"""PostgreSQL schema and its forward-only migrations.

``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v`` inside one
transaction; old entries never change, a new version appends one. Before
them the store installs pgvector if it is absent (into ``public``, see
``postgres._install_vector``, so version 1's CREATE EXTENSION finds it) and
puts the extension's schema at the end of the search_path for the
transaction: ``VECTOR`` resolves wherever pgvector lives while the tables go
into the first schema, which may be one of their own
(``options=-csearch_path=...``). Every
table's primary key and every index starts with ``user_id`` (the tables
without one, ``meta`` and ``api_keys``, are small and global), so the schema
can be distributed by tenant, e.g. with Citus (see docs/postgres.md).
"""

from __future__ import annotations

MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE EXTENSION IF NOT EXISTS vector",
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        # One row per user: versions let caches in any process know when to
        # reload (version moved) or rebuild (rebuilt moved: something was
        # deleted or re-embedded). Both come from one global sequence, so a
        # user erased and re-created never repeats a version a cache holds.
        # docs and tokens are the user's BM25 statistics (N and total length).
        "CREATE SEQUENCE scope_version_seq",
        """CREATE TABLE scopes (
            user_id TEXT PRIMARY KEY,
            version BIGINT NOT NULL,
            rebuilt BIGINT NOT NULL,
            docs BIGINT NOT NULL DEFAULT 0,
            tokens BIGINT NOT NULL DEFAULT 0
        )""",
        # doc_len counts the tokens of the session's turns' keys (its length for
        # session-level BM25, whose counts are its turns' sums). doc is no longer
        # written: a tsvector holds at most 1 MB, which a long session outgrew.
        """CREATE TABLE sessions (
            user_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            agent_id TEXT,
            run_id TEXT,
            started_at DOUBLE PRECISION NOT NULL,
            ended_at DOUBLE PRECISION NOT NULL,
            next_seq BIGINT NOT NULL,
            doc TSVECTOR NOT NULL DEFAULT '',
            doc_len BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, session_id)
        )""",
        # rowid is the internal key recall works with; key is the indexed text
        # (date, speaker, content), tsv its FTS5 tokens plus a tenant lexeme so
        # a GIN probe narrows to one user inside the index itself.
        """CREATE TABLE episodes (
            user_id TEXT NOT NULL,
            rowid BIGSERIAL NOT NULL,
            id TEXT NOT NULL,
            agent_id TEXT,
            run_id TEXT,
            session_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            role TEXT NOT NULL,
            speaker TEXT,
            content TEXT NOT NULL,
            occurred_at DOUBLE PRECISION NOT NULL,
            recorded_at DOUBLE PRECISION NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            key TEXT NOT NULL,
            key_len INTEGER NOT NULL,
            tsv TSVECTOR NOT NULL,
            PRIMARY KEY (user_id, rowid),
            UNIQUE (user_id, id)
        )""",
        "CREATE INDEX episodes_session ON episodes (user_id, session_id, seq)",
        "CREATE INDEX episodes_time ON episodes (user_id, occurred_at)",
        "CREATE INDEX episodes_tsv ON episodes USING gin (tsv)",
        # vec has no fixed dimension (encoders differ); an HNSW index per
        # encoder casts it to that encoder's dimension (see PostgresStore.ensure_hnsw).
        """CREATE TABLE vectors (
            user_id TEXT NOT NULL,
            rowid BIGINT NOT NULL,
            encoder TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            vec VECTOR NOT NULL,
            PRIMARY KEY (user_id, rowid),
            FOREIGN KEY (user_id, rowid) REFERENCES episodes (user_id, rowid) ON DELETE CASCADE
        )""",
        "CREATE INDEX vectors_key ON vectors (user_id, key_hash, encoder)",
    ],
    2: [
        # API keys of the REST server: only the sha256 of a key is stored.
        # user_ids is a JSON list of the users a key may touch; admin keys touch any.
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            hash TEXT UNIQUE NOT NULL,
            name TEXT,
            user_ids TEXT NOT NULL DEFAULT '[]',
            admin INTEGER NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL,
            revoked_at DOUBLE PRECISION
        )""",
    ],
    3: [
        # Semantic memory, as in the SQLite store's version 4 (see
        # store/sqlite_schema.py for what each table holds). Facts are never
        # overwritten: a newer one closes an older one (valid_to,
        # superseded_by) and both stay; fact_events is the audit log. Times
        # are Unix seconds; valid_* is world time, recorded_at system time.
        """CREATE TABLE facts (
            user_id TEXT NOT NULL,
            id TEXT NOT NULL,
            subject TEXT NOT NULL,
            subject_key TEXT NOT NULL,
            predicate TEXT NOT NULL,
            object TEXT NOT NULL,
            text TEXT NOT NULL,
            confidence DOUBLE PRECISION NOT NULL,
            negated BOOLEAN NOT NULL DEFAULT FALSE,
            single_valued BOOLEAN NOT NULL DEFAULT FALSE,
            asserted_by TEXT,
            valid_from DOUBLE PRECISION,
            valid_to DOUBLE PRECISION,
            recorded_at DOUBLE PRECISION NOT NULL,
            superseded_by TEXT,
            seen BIGINT NOT NULL DEFAULT 1,
            last_seen DOUBLE PRECISION NOT NULL,
            recalled BIGINT NOT NULL DEFAULT 0,
            last_recalled DOUBLE PRECISION,
            extractor TEXT NOT NULL,
            PRIMARY KEY (user_id, id)
        )""",
        "CREATE INDEX facts_slot ON facts (user_id, subject_key, predicate)",
        "CREATE INDEX facts_superseded ON facts (user_id, superseded_by)",
        """CREATE TABLE fact_sources (
            user_id TEXT NOT NULL,
            fact_id TEXT NOT NULL,
            episode_id TEXT NOT NULL,
            PRIMARY KEY (user_id, fact_id, episode_id)
        )""",
        "CREATE INDEX fact_sources_episode ON fact_sources (user_id, episode_id)",
        """CREATE TABLE fact_events (
            user_id TEXT NOT NULL,
            fact_id TEXT NOT NULL,
            seq BIGINT NOT NULL,
            action TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            episode_id TEXT,
            other_id TEXT,
            PRIMARY KEY (user_id, fact_id, seq)
        )""",
        "CREATE INDEX fact_events_other ON fact_events (user_id, other_id)",
        # Entities and the episodes that mention them (episode_rowid is
        # episodes.rowid): the graph channel walks entity <-> episode edges.
        """CREATE TABLE entities (
            user_id TEXT NOT NULL,
            id BIGINT NOT NULL,
            canonical TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            mentions BIGINT NOT NULL DEFAULT 0,
            first_seen DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (user_id, id),
            UNIQUE (user_id, canonical)
        )""",
        """CREATE TABLE entity_aliases (
            user_id TEXT NOT NULL,
            alias TEXT NOT NULL,
            entity_id BIGINT NOT NULL,
            PRIMARY KEY (user_id, alias)
        )""",
        "CREATE INDEX entity_aliases_entity ON entity_aliases (user_id, entity_id)",
        """CREATE TABLE mentions (
            user_id TEXT NOT NULL,
            entity_id BIGINT NOT NULL,
            episode_rowid BIGINT NOT NULL,
            count BIGINT NOT NULL DEFAULT 1,
            PRIMARY KEY (user_id, entity_id, episode_rowid)
        )""",
        "CREATE INDEX mentions_episode ON mentions (user_id, episode_rowid)",
        """CREATE TABLE fact_entities (
            user_id TEXT NOT NULL,
            fact_id TEXT NOT NULL,
            entity_id BIGINT NOT NULL,
            PRIMARY KEY (user_id, fact_id, entity_id)
        )""",
        "CREATE INDEX fact_entities_entity ON fact_entities (user_id, entity_id)",
        # How far each user's episodes have been read for facts and entities
        # (last_rowid: episodes.rowid, which a sequence never hands out twice);
        # version moves with every knowledge write so graph caches reload.
        """CREATE TABLE learn_state (
            user_id TEXT PRIMARY KEY,
            last_rowid BIGINT NOT NULL DEFAULT 0,
            version BIGINT NOT NULL DEFAULT 0
        )""",
        # Extractive session summaries written by consolidate().
        """CREATE TABLE session_summaries (
            user_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            summary TEXT NOT NULL,
            episode_ids TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (user_id, session_id)
        )""",
    ],
    4: [
        # The sentence vectors of episodes of two or more sentences (recall/parts.py):
        # ``count`` int8 rows with their scales in one value. Derived data: a
        # database without them still searches, and ``reindex`` fills them in.
        """CREATE TABLE part_vectors (
            user_id TEXT NOT NULL,
            rowid BIGINT NOT NULL,
            encoder TEXT NOT NULL,
            count INTEGER NOT NULL,
            vecs BYTEA NOT NULL,
            PRIMARY KEY (user_id, rowid, encoder),
            FOREIGN KEY (user_id, rowid) REFERENCES episodes (user_id, rowid) ON DELETE CASCADE
        )""",
    ],
    5: [
        # The content words of each user's episodes (store/word_sql.py): how many
        # episodes use each, and once embedded its int8 vector. Derived data:
        # ``reindex`` rebuilds it for older databases.
        """CREATE TABLE words (
            user_id TEXT NOT NULL,
            word TEXT NOT NULL,
            uses INTEGER NOT NULL,
            encoder TEXT,
            vec BYTEA,
            PRIMARY KEY (user_id, word)
        )""",
    ],
    6: [
        # Each episode's reading for the learned stage's cues (recall/cues.py), written
        # with it so a search need not read its candidates' texts. Derived data: rows
        # of older databases have NULL, are read at search, and ``reindex`` fills them in.
        "ALTER TABLE episodes ADD COLUMN cues TEXT",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)

# Tables hippodex creates: a database holding one of them without ``meta`` is not ours.
TABLES = ("meta", "scopes", "sessions", "episodes", "vectors", "api_keys")
