"""Shared fixtures: real SQLite files in tmp_path, one encoder per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hippodex import Memory
from hippodex.encode.base import Encoder

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The packaged default encoder, loaded once for the whole run."""
    from hippodex.encode.onnx_minilm import MiniLMEncoder

    return MiniLMEncoder()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memory.db"


@pytest.fixture
def memory(db_path: Path, encoder: Encoder) -> Iterator[Memory]:
    """A memory on a real SQLite file with the default encoder."""
    with Memory(db_path, encoder=encoder) as m:
        yield m


@pytest.fixture
def lexical_memory(db_path: Path) -> Iterator[Memory]:
    """A memory with no encoder: lexical recall only."""
    with Memory(db_path, encoder=None) as m:
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
