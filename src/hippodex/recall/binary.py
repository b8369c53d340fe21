"""Approximate dense search: a binary-code prefilter, then exact float rescoring.

Above a size threshold (``RecallConfig.approx_threshold``) the dense channel
does not score every row. Each row gets a 48-byte code for 384 dimensions:
the sign bits of the row minus the mean row (centring matters: sentence
embeddings share a large common component, and raw signs waste most bits on
it). A query is coded the same way; the ``C`` rows with the smallest Hamming
distance (``RecallConfig.approx_candidates``) are rescored exactly with their
float rows, and the best ``k`` of those are returned.

Why this and not an HNSW graph (usearch): measured on this 2-core machine at
1M × 384, the Hamming pass over all codes takes ~8 ms with simsimd on one thread (~45 ms
with the numpy fallback), rescoring 2,000 float rows under 1 ms, and the
codes are built in about a second and appended to incrementally, with no
graph to build (minutes at 1M), persist or repair on deletes; filters are a
mask over the distances. The recall of the approximate path against exact
search is reported by ``hippodex bench scale``.

simsimd is used when installed (a small wheel with no dependencies);
otherwise numpy's ``bitwise_count`` (numpy >= 2) or a byte lookup table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from hippodex.encode.quantize import sign_bits
from hippodex.recall.vector_index import top_k

_simsimd: Any
try:  # optional speed-up: the numpy paths below give the same distances
    # Imported by name so type checks pass with or without the package.
    _simsimd = importlib.import_module("simsimd")
except ImportError:  # pragma: no cover - depends on the environment
    _simsimd = None

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hamming_numpy(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each packed code row to the packed ``query`` (numpy only).

    >>> hamming_numpy(np.array([[0b1010], [0b0000]], dtype=np.uint8), np.array([0b0011], dtype=np.uint8)).tolist()
    [2, 2]
    """
    x = np.bitwise_xor(codes, query)
    if hasattr(np, "bitwise_count") and codes.shape[1] % 8 == 0:
        words = x.view(np.uint64)
        return np.asarray(np.bitwise_count(words).sum(axis=1, dtype=np.uint16))
    return np.asarray(_POPCOUNT[x].sum(axis=1, dtype=np.uint16))


def hamming(codes: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distances (integers) of packed codes to one packed query (simsimd if present).

    One thread: simsimd can split a scan across cores (4 ms instead of 8 ms
    for 1M codes in a tight loop), but inside a search on this 2-core machine
    its threads made the scan slower (10 ms) and the rest of the search
    slower still, fused p50 45 ms against 35 ms at 1M memories.
    """
    if _simsimd is not None and len(codes):
        out = _simsimd.cdist(query[None, :], codes, metric="hamming", dtype="bin8", out_dtype="float32")
        return np.asarray(out).ravel()
    return hamming_numpy(codes, query)


def smallest(dist: np.ndarray, c: int) -> np.ndarray:
    """Indices of the ``c`` smallest of small non-negative integer distances, and
    of every other row tied with the ``c``-th (so a few more than ``c``), any order.

    A counting pass finds the cut-off distance (Hamming distances take at most
    dim + 1 values), about twice as fast as argpartition at 1M rows; keeping
    the whole tie instead of an arbitrary part of it can only add recall.

    >>> sorted(smallest(np.array([5, 1, 3, 1, 9, 3]), 3).tolist())
    [1, 2, 3, 5]
    """
    d = np.asarray(dist).astype(np.int64, copy=False)
    if c >= len(d):
        return np.arange(len(d))
    cut = int(np.searchsorted(np.cumsum(np.bincount(d)), c))
    return np.flatnonzero(d <= cut)


@dataclass(frozen=True)
class BinaryIndex:
    """Packed centred sign codes of a matrix's rows, and the centre used.

    ``basis`` is how many rows the centre was computed from; the index is
    rebuilt rather than extended once the matrix has doubled since.
    """

    centre: np.ndarray  # float32 (dim,)
    codes: np.ndarray  # uint8 (n, ceil(dim / 8))
    basis: int

    @classmethod
    def build(cls, matrix: np.ndarray) -> BinaryIndex:
        centre = matrix.mean(axis=0).astype(np.float32) if len(matrix) else np.zeros(matrix.shape[1], np.float32)
        return cls(centre, sign_bits(matrix, centre), len(matrix))

    def extend(self, rows: np.ndarray) -> BinaryIndex:
        """The index with ``rows`` appended, coded against the same centre."""
        return BinaryIndex(self.centre, np.vstack([self.codes, sign_bits(rows, self.centre)]), self.basis)

    def candidates(self, vector: np.ndarray, c: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Row indices of the ``c`` codes nearest the query's (any order), within ``mask``."""
        dist = hamming(self.codes, sign_bits(vector[None, :], self.centre)[0]).astype(np.int64)
        if mask is not None:
            c = min(c, int(mask.sum()))
            dist = np.where(mask, dist, 8 * self.codes.shape[1] + 1)  # past any real distance
        if c >= len(dist):
            return np.arange(len(dist)) if mask is None else np.flatnonzero(mask)
        return smallest(dist, c)


def binary_index(derived: dict[str, Any], matrix: np.ndarray, parent: dict[str, Any] | None) -> BinaryIndex:
    """The cached index of a matrix, extended from its parent's when rows were only appended."""
    index = derived.get("binary")
    if isinstance(index, BinaryIndex):
        return index
    old = parent.get("binary") if parent else None
    if isinstance(old, BinaryIndex) and len(old.codes) <= len(matrix) and len(matrix) <= 2 * old.basis:
        index = old.extend(matrix[len(old.codes) :])
    else:
        index = BinaryIndex.build(matrix)
    derived["binary"] = index
    return index


def approx_search(
    index: BinaryIndex,
    matrix: np.ndarray,
    vector: np.ndarray,
    k: int,
    candidates: int,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and exact scores of the best ``k`` among the ``candidates`` nearest codes.

    With ``candidates`` covering every row this is exact search.
    """
    vector = vector.astype(np.float32, copy=False)
    rows = index.candidates(vector, max(candidates, k), mask)
    rows.sort()  # reading the float rows in storage order is kinder to the cache
    scores = matrix[rows] @ vector
    order = top_k(scores, k)
    return rows[order], scores[order]
