"""Exact top-k search over a matrix of normalised vectors.

Kept as a pure function of arrays so an approximate index can stand in for it
behind the same call later.
"""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first (argpartition, then sort k)."""
    n = scores.shape[0]
    if k >= n:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def exact_search(
    matrix: np.ndarray, vector: np.ndarray, k: int, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``matrix`` most similar (dot product) to ``vector``, and their scores.

    ``mask`` (bool per row) keeps only the rows a filter allows.

    >>> m = np.eye(3, dtype=np.float32)
    >>> exact_search(m, np.array([0, 1, 0], dtype=np.float32), 1)[0].tolist()
    [1]
    """
    scores = matrix @ vector.astype(np.float32, copy=False)
    if mask is not None:
        idx = np.flatnonzero(mask)
        order = top_k(scores[idx], k)
        return idx[order], scores[idx][order]
    order = top_k(scores, k)
    return order, scores[order]
