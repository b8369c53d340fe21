"""The embedding cache is an optimisation: keys that keep encoders apart, and a
broken, read-only or wrong cache that never stops the memory."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hippodex import EncoderError, Memory
from hippodex.encode.base import normalise
from hippodex.encode.cache import CachedEncoder, EmbeddingCache, cache_key


class Fixed:
    """An encoder giving every text the same vector, under a name it shares with others."""

    def __init__(self, name: str, dim: int, value: float = 1.0, key: str | None = None) -> None:
        self.name, self.dim, self.value, self.calls = name, dim, value, 0
        if key is not None:
            self.cache_key = key

    def encode(self, texts: Any) -> np.ndarray:
        self.calls += 1
        rows = np.full((len(texts), self.dim), self.value, dtype=np.float32)
        rows[:, 0] += np.arange(len(texts))
        return normalise(rows)


def test_encoders_sharing_a_name_but_not_a_dimension_or_identity_do_not_share_rows(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    small, big = Fixed("shared", 4), Fixed("shared", 8)
    assert CachedEncoder(small, cache).encode(["t"]).shape == (1, 4)
    assert CachedEncoder(big, cache).encode(["t"]).shape == (1, 8)  # not the 4-dim row
    assert big.calls == 1
    a, b = Fixed("shared", 4, 1.0, key="m@http://a"), Fixed("shared", 4, -1.0, key="m@http://b")
    va, vb = CachedEncoder(a, cache).encode(["t"]), CachedEncoder(b, cache).encode(["t"])
    assert a.calls == b.calls == 1 and not np.allclose(va, vb)
    assert cache_key(a) == "m@http://a" and cache_key(small) == "shared"


def test_bad_cached_rows_are_misses_and_get_replaced(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    enc = Fixed("e", 4)
    key = cache_key(enc)
    db = sqlite3.connect(tmp_path / "c.sqlite")
    with db:
        db.executemany(
            "INSERT INTO embeddings VALUES (?, ?, ?)",
            [
                (key, cache._hash("short"), np.ones(3, np.float32).tobytes()),  # wrong dimension
                (key, cache._hash("odd"), b"\x00\x01\x02\x03\x04"),  # not whole float32s
                (key, cache._hash("nan"), np.full(4, np.nan, np.float32).tobytes()),
            ],
        )
    db.close()
    with caplog.at_level(logging.WARNING, logger="hippodex.encode.cache"):
        out = CachedEncoder(enc, cache).encode(["short", "odd", "nan"])
    assert out.shape == (3, 4) and np.isfinite(out).all() and enc.calls == 1
    assert len([r for r in caplog.records if "bad vectors" in r.message]) == 1  # once, not per row
    CachedEncoder(enc, cache).encode(["short", "odd", "nan"])
    assert enc.calls == 1  # the fresh vectors replaced the bad rows


def test_an_encoder_returning_the_wrong_shape_is_refused_and_not_cached(tmp_path: Path) -> None:
    class Liar(Fixed):
        def encode(self, texts: Any) -> np.ndarray:
            return np.ones((len(texts), 3), dtype=np.float32)

    cache = EmbeddingCache(tmp_path / "c.sqlite")
    with pytest.raises(EncoderError, match="shape"):
        CachedEncoder(Liar("liar", 4), cache).encode(["t"])
    assert cache.size() == 0


def test_a_corrupt_cache_file_is_ignored_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="hippodex.encode.cache"):
        cache = EmbeddingCache(path)
        enc = CachedEncoder(Fixed("e", 4), cache)
        assert enc.encode(["a", "b"]).shape == (2, 4)
        assert enc.encode(["a"]).shape == (1, 4)
        assert cache.size() == 0 and cache.forget(["a"]) == 0
    assert not cache.usable
    assert len([r for r in caplog.records if "cannot use" in r.message]) == 1
    assert path.read_bytes().startswith(b"this is not a database")  # the user's file is left alone


def test_memory_opens_and_works_with_a_corrupt_cache(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"\x00garbage" * 512)
    with Memory(tmp_path / "m.db", encoder=Fixed("e", 4), cache=path) as m:
        ep = m.add("hello there", user_id="u")[0]
        assert m.search("hello there", user_id="u", k=1)[0].episode.id == ep.id
        m.delete(ep.id, user_id="u")


def _filled(path: Path, enc: Fixed) -> np.ndarray:
    cache = EmbeddingCache(path)
    vectors = CachedEncoder(enc, cache).encode(["a", "b"])
    cache.close()
    return vectors


def test_read_only_mode_reads_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    before = _filled(path, Fixed("e", 4))
    cache = EmbeddingCache(path, read_only=True)
    enc = Fixed("e", 4)
    out = CachedEncoder(enc, cache).encode(["a", "b", "c"])
    assert enc.calls == 1 and np.allclose(out[:2], before)  # a and b from the cache, c embedded
    assert cache.size() == 2 and cache.forget(["a"]) == 0


def test_a_cache_that_cannot_be_written_falls_back_to_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite"
    _filled(path, Fixed("e", 4))
    real = sqlite3.connect

    def read_only_file(database: Any, *args: Any, uri: bool = False, **kwargs: Any) -> sqlite3.Connection:
        # Tests run as root, so file modes do not stop writes: open as SQLite
        # does a file it may only read.
        if not uri:
            database, uri = f"{Path(database).resolve().as_uri()}?mode=ro", True
        return real(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr("hippodex.encode.cache.sqlite3.connect", read_only_file)
    with caplog.at_level(logging.WARNING, logger="hippodex.encode.cache"):
        cache = EmbeddingCache(path)
    assert cache.usable and cache.read_only
    assert any("only reading it" in r.message for r in caplog.records)
    enc = Fixed("e", 4)
    assert CachedEncoder(enc, cache).encode(["a", "new"]).shape == (2, 4) and cache.size() == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; simulated above with SQLite's mode=ro")
def test_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    _filled(path, Fixed("e", 4))
    path.chmod(0o444)
    cache = EmbeddingCache(path)
    assert cache.usable and cache.read_only
    assert CachedEncoder(Fixed("e", 4), cache).encode(["a", "new"]).shape == (2, 4)
