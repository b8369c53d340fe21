"""A persistent embedding cache keyed by encoder and content hash.

Benchmarks embed the same turns again and again (LongMemEval reuses filler
sessions across questions); this cache makes every text cost one embedding,
ever. Memory files already reuse their own stored vectors; this is for work
that spans many files.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hippodex.encode.base import Encoder


def default_cache_path() -> Path:
    """``HIPPODEX_CACHE`` or ``~/.cache/hippodex/embeddings.sqlite``."""
    env = os.environ.get("HIPPODEX_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hippodex" / "embeddings.sqlite"


class EmbeddingCache:
    """``(encoder name, sha256 of text) -> vector`` in a small SQLite file."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (encoder TEXT, hash TEXT, vec BLOB, PRIMARY KEY (encoder, hash))"
        )

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get_many(self, encoder: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        by_hash = {self._hash(t): t for t in texts}
        out: dict[str, np.ndarray] = {}
        keys = list(by_hash)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT hash, vec FROM embeddings WHERE encoder = ? AND hash IN ({','.join('?' * len(chunk))})"
            for h, blob in self._db.execute(q, [encoder, *chunk]):
                out[by_hash[h]] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, encoder: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [
            (encoder, self._hash(t), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO embeddings VALUES (?, ?, ?)", rows)

    def forget(self, texts: Sequence[str]) -> int:
        """Drop the vectors of these texts (under every encoder); returns how many rows went.

        :meth:`hippodex.Memory.erase` and ``delete`` call this for texts no
        episode holds any more, so an erased text leaves no embedding behind.
        """
        hashes = list({self._hash(t) for t in texts})
        gone = 0
        with self._db:
            self._db.execute("BEGIN")
            for i in range(0, len(hashes), 500):
                chunk = hashes[i : i + 500]
                cur = self._db.execute(f"DELETE FROM embeddings WHERE hash IN ({','.join('?' * len(chunk))})", chunk)
                gone += cur.rowcount
        return gone

    def size(self) -> int:
        """How many vectors the cache holds."""
        return int(self._db.execute("SELECT count(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class CachedEncoder:
    """An encoder that looks in an :class:`EmbeddingCache` before embedding."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.inner = encoder
        self.cache = cache
        self.name = encoder.name
        self.dim = encoder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        found = self.cache.get_many(self.name, texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self.inner.encode(missing)
            self.cache.put_many(self.name, missing, vectors)
            found.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)
