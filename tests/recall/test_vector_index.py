"""Exact top-k search."""

from __future__ import annotations

import numpy as np

from hippodex.recall.vector_index import exact_search, top_k


def test_top_k_is_sorted_and_complete() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.7], dtype=np.float32)
    assert top_k(scores, 2).tolist() == [1, 3]
    assert top_k(scores, 10).tolist() == [1, 3, 2, 0]


def test_exact_search_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(500, 16)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    q = m[42]
    rows, scores = exact_search(m, q, 5)
    assert rows[0] == 42
    assert rows.tolist() == np.argsort(-(m @ q))[:5].tolist()
    assert np.allclose(scores, (m @ q)[rows])


def test_mask_restricts_candidates() -> None:
    m = np.eye(4, dtype=np.float32)
    mask = np.array([True, False, True, False])
    rows, _ = exact_search(m, np.array([0, 1, 0, 0], dtype=np.float32), 4, mask)
    assert set(rows.tolist()) == {0, 2}
