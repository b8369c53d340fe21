"""The on-disk embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hippodex.encode.base import normalise
from hippodex.encode.cache import CachedEncoder, EmbeddingCache


class Recording:
    name, dim = "rec", 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts):  # type: ignore[no-untyped-def]
        self.seen.extend(texts)
        return normalise(np.array([[len(t), 1, 0, 0] for t in texts], dtype=np.float32))


def test_each_text_is_embedded_once_across_instances(tmp_path: Path) -> None:
    inner = Recording()
    first = CachedEncoder(inner, EmbeddingCache(tmp_path / "c.sqlite"))
    a = first.encode(["x", "yy", "x"])
    second = CachedEncoder(inner, EmbeddingCache(tmp_path / "c.sqlite"))
    b = second.encode(["yy", "x", "zzz"])
    assert inner.seen == ["x", "yy", "zzz"]
    assert np.allclose(a[1], b[0]) and np.allclose(a[0], b[1])
    assert second.encode([]).shape == (0, 4)


def test_cache_is_keyed_by_encoder_name(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    cache.put_many("a", ["t"], np.ones((1, 2), dtype=np.float32))
    assert cache.get_many("b", ["t"]) == {}
    assert np.allclose(cache.get_many("a", ["t"])["t"], [1, 1])
