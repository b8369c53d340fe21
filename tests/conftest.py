"""Shared fixtures: real SQLite files in tmp_path, a real PostgreSQL server, one encoder per run.

API-level fixtures (``memory``, ``lexical_memory``, ``db_target``) are
parametrized by ``backend``, so every test using them runs on SQLite and on
PostgreSQL. PostgreSQL is the ``pgserver`` wheel's server (PostgreSQL 16 with
pgvector), started once per run in a temporary folder; each test gets a fresh
database. If it cannot start, the PostgreSQL cases skip and say why.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hippodex import Memory
from hippodex.encode.base import Encoder

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BACKENDS = ("sqlite", "postgres")
_db_numbers = itertools.count()


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The packaged default encoder, loaded once for the whole run."""
    from hippodex.encode.onnx_minilm import MiniLMEncoder

    return MiniLMEncoder()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL 16 + pgvector server for the whole run (pgserver), or a skip saying why not."""
    try:
        import pgserver
        import psycopg
    except ImportError as exc:
        pytest.skip(f"PostgreSQL tests need pip install '.[test]' (pgserver, psycopg): {exc}")
    folder = tempfile.mkdtemp(prefix="hdx-pg-")  # short: the server's unix socket lives here
    import psycopg

    try:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        # New databases copy template1: with pgvector there, each test's CREATE DATABASE is all it needs.
        with psycopg.connect(server.get_uri("template1"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:
        pytest.skip(f"PostgreSQL (pgserver) could not start in {folder}: {exc}")
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)  # "stop" leaves the data folder (about 90 MB) behind


def new_pg_database(server: Any) -> str:
    """A fresh, empty database on the test server; returns its URL."""
    import psycopg

    name = f"hdx_{next(_db_numbers)}"
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return str(server.get_uri(name))


def drop_pg_database(server: Any, url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class PgDatabases:
    """Makes and drops fresh databases on the test server (for fixtures wider than one test)."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def create(self) -> str:
        return new_pg_database(self.server)

    def drop(self, url: str) -> None:
        drop_pg_database(self.server, url)


@pytest.fixture(scope="session")
def pg_databases(pg_server: Any) -> PgDatabases:
    return PgDatabases(pg_server)


@pytest.fixture
def pg_url(pg_server: Any) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped after the test."""
    url = new_pg_database(pg_server)
    yield url
    drop_pg_database(pg_server, url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A SQLite file path (for tests about the file itself)."""
    return tmp_path / "memory.db"


@pytest.fixture
def db_target(backend: str, db_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a memory lives on this test's backend: a SQLite file path or a PostgreSQL URL."""
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(db_path)


@pytest.fixture
def memory(db_target: str, encoder: Encoder) -> Iterator[Memory]:
    """A memory with the default encoder, on each backend."""
    with Memory(db_target, encoder=encoder) as m:
        yield m


@pytest.fixture
def lexical_memory(db_target: str) -> Iterator[Memory]:
    """A memory with no encoder (lexical recall only), on each backend."""
    with Memory(db_target, encoder=None) as m:
        yield m


@pytest.fixture
def memory_factory(tmp_path: Path, encoder: Encoder) -> Iterator[object]:
    """Memories on real files with a given RecallConfig (closed after the test)."""
    from hippodex.config import RecallConfig

    opened: list[Memory] = []

    def make(config: RecallConfig) -> Memory:
        m = Memory(tmp_path / f"m{len(opened)}.db", encoder=encoder, config=config)
        opened.append(m)
        return m

    yield make
    for m in opened:
        m.close()
