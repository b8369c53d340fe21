"""A persistent embedding cache keyed by encoder and content hash.

Benchmarks embed the same turns again and again (LongMemEval reuses filler
sessions across questions); this cache makes every text cost one embedding,
ever. Memory files already reuse their own stored vectors; this is for work
that spans many files.

The cache is an optimisation and never stops the memory: a file that cannot be
opened (corrupt, not a database) is ignored, one that cannot be written is only
read, and a cached row of the wrong size or with NaNs counts as a miss. Each
such problem is logged once, as a warning on ``hippodex.encode.cache``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hippodex._exceptions import EncoderError
from hippodex.encode.base import Encoder

log = logging.getLogger("hippodex.encode.cache")


def default_cache_path() -> Path:
    """``HIPPODEX_CACHE`` or ``~/.cache/hippodex/embeddings.sqlite``."""
    env = os.environ.get("HIPPODEX_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hippodex" / "embeddings.sqlite"


def cache_key(encoder: Encoder) -> str:
    """What vectors of ``encoder`` are filed under: its ``cache_key`` if it has one
    (an endpoint's URL with the model name: two servers may serve different models
    under one name), else its name. The dimension is checked on every read, so a
    row of another size is a miss; it is not in the key, so caches written before
    stay warm."""
    return str(getattr(encoder, "cache_key", None) or encoder.name)


class EmbeddingCache:
    """``(encoder key, sha256 of text) -> vector`` in a small SQLite file.

    ``read_only`` opens an existing cache without ever writing to it (a cache
    shared read-only, say); a cache that cannot be written falls back to it.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.read_only = read_only
        self._db: sqlite3.Connection | None = None
        self._warned: set[str] = set()
        problem = None
        if not read_only:
            try:
                self._db = self._open_writable()
                return
            except (sqlite3.Error, OSError) as exc:
                problem = exc
        try:
            self._db = self._open_read_only()
        except (sqlite3.Error, OSError) as exc:
            self._warn("open", f"cannot use the embedding cache {self.path} ({problem or exc}); embedding without it")
            return
        if problem is not None:
            self._warn("open", f"cannot write the embedding cache {self.path} ({problem}); only reading it")
        self.read_only = True

    def _open_writable(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (encoder TEXT, hash TEXT, vec BLOB, PRIMARY KEY (encoder, hash))"
            )
            # A read-only file accepts all of the above when the table exists: prove it takes a write.
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(f"PRAGMA user_version = {int(db.execute('PRAGMA user_version').fetchone()[0])}")
            finally:
                db.execute("ROLLBACK")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise FileNotFoundError(f"no cache file at {self.path}")
        db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("SELECT encoder, hash, vec FROM embeddings LIMIT 1").fetchall()
        except sqlite3.Error:
            db.close()
            raise
        return db

    @property
    def usable(self) -> bool:
        """Whether the cache file could be opened at all."""
        return self._db is not None

    def _warn(self, what: str, message: str) -> None:
        """Log a problem the first time it happens; the cache goes on without that part."""
        if what not in self._warned:
            self._warned.add(what)
            log.warning("%s", message)

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get_many(self, encoder: str, texts: Sequence[str], dim: int | None = None) -> dict[str, np.ndarray]:
        """Cached vectors of ``texts``; a row that is not ``dim`` finite floats is left out (a miss)."""
        if self._db is None:
            return {}
        by_hash = {self._hash(t): t for t in texts}
        out: dict[str, np.ndarray] = {}
        keys = list(by_hash)
        try:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT hash, vec FROM embeddings WHERE encoder = ? AND hash IN ({','.join('?' * len(chunk))})"
                for h, blob in self._db.execute(q, [encoder, *chunk]):
                    vec = _vector(blob, dim)
                    if vec is None:
                        self._warn("row", f"the embedding cache {self.path} holds bad vectors; re-embedding those")
                    else:
                        out[by_hash[h]] = vec
        except sqlite3.Error as exc:
            self._warn("read", f"cannot read the embedding cache {self.path} ({exc}); embedding without it")
            return {}
        return out

    def put_many(self, encoder: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.put_many_ragged(encoder, texts, list(vectors))

    def put_many_ragged(self, encoder: str, texts: Sequence[str], vectors: Sequence[np.ndarray]) -> None:
        """Like :meth:`put_many`, for values of any shape (a text's token vectors); each is stored flat."""
        if self._db is None or self.read_only:
            return
        rows = [
            (encoder, self._hash(t), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        try:
            with self._db:
                self._db.execute("BEGIN")
                # REPLACE: a row found bad on reading is rewritten with the fresh vector.
                self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._warn("write", f"cannot write the embedding cache {self.path} ({exc}); not caching new vectors")

    def forget(self, texts: Sequence[str]) -> int:
        """Drop the vectors of these texts (under every encoder); returns how many rows went.

        :meth:`hippodex.Memory.erase` and ``delete`` call this for texts no
        episode holds any more, so an erased text leaves no embedding behind.
        A cache that cannot be written keeps them, and says so in a warning.
        """
        hashes = list({self._hash(t) for t in texts})
        if self._db is None or self.read_only or not hashes:
            if hashes and self._db is not None:
                log.warning("the embedding cache %s cannot be written: vectors of erased texts stay in it", self.path)
            return 0
        gone = 0
        try:
            with self._db:
                self._db.execute("BEGIN")
                for i in range(0, len(hashes), 500):
                    chunk = hashes[i : i + 500]
                    q = f"DELETE FROM embeddings WHERE hash IN ({','.join('?' * len(chunk))})"
                    gone += self._db.execute(q, chunk).rowcount
        except sqlite3.Error as exc:
            log.warning("cannot remove erased texts' vectors from the embedding cache %s: %s", self.path, exc)
            return 0
        return gone

    def size(self) -> int:
        """How many vectors the cache holds (0 when it cannot be read)."""
        if self._db is None:
            return 0
        try:
            return int(self._db.execute("SELECT count(*) FROM embeddings").fetchone()[0])
        except sqlite3.Error as exc:
            self._warn("read", f"cannot read the embedding cache {self.path} ({exc}); embedding without it")
            return 0

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def _vector(blob: object, dim: int | None) -> np.ndarray | None:
    """A cached row as float32, or ``None`` when it is not a vector of ``dim`` finite numbers."""
    if not isinstance(blob, bytes) or not blob or len(blob) % 4:
        return None
    vec = np.frombuffer(blob, dtype=np.float32)
    if (dim is not None and vec.shape[0] != dim) or not np.isfinite(vec).all():
        return None
    return vec


class CachedEncoder:
    """An encoder that looks in an :class:`EmbeddingCache` before embedding.

    Vectors are filed under :func:`cache_key`, and a row of another
    dimension is a miss, so encoders that share a name never hand each other
    vectors.
    """

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.inner = encoder
        self.cache = cache
        self.name = encoder.name
        self.dim = encoder.dim
        self.key = cache_key(encoder)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        found = self.cache.get_many(self.key, texts, self.dim)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = np.asarray(self.inner.encode(missing), dtype=np.float32)
            if vectors.shape != (len(missing), self.dim):  # never cache (or return) what search cannot use
                raise EncoderError(
                    f"{self.name} returned vectors of shape {vectors.shape} for {len(missing)} texts of dim {self.dim}"
                )
            self.cache.put_many(self.key, missing, vectors)
            found.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)
