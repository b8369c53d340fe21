"""Vector encodings for the storage tiers: float32, int8, binary sign codes.

Pure functions from float rows to bytes and back. A hot memory keeps its
float32 vector; a cold one may move to ``int8`` (one byte a dimension plus a
per-row float32 scale: 388 bytes for 384 dimensions instead of 1536) or to
``binary`` (one bit a dimension: 48 bytes). Decoding gives float32 rows the
dense channel can score like any other:

- int8 rows come back as ``code × scale`` (symmetric per-row quantisation,
  error at most ``scale / 2`` a component);
- binary rows come back as ``sign(v) × sqrt(pi / 2) / sqrt(d)``. The dot
  product of a float query with ``sign(v) / sqrt(d)`` estimates
  ``sqrt(2 / pi) × cos(q, v)`` for roughly Gaussian components (the
  asymmetric estimator of 1-bit quantisation, cf. RaBitQ, Gao & Long 2024),
  so the ``sqrt(pi / 2)`` factor keeps binary rows' scores on the cosine
  scale of the float rows they are ranked with.

>>> v = np.array([[0.6, -0.8]], dtype=np.float32)
>>> decode(TIER_INT8, encode(TIER_INT8, v), 2).astype(float).round(2).tolist()
[[0.6, -0.8]]
>>> np.sign(decode(TIER_BINARY, encode(TIER_BINARY, v), 2)).tolist()
[[1.0, -1.0]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from hippodex._exceptions import ValidationError

K = TypeVar("K")

TIER_FLOAT32, TIER_INT8, TIER_BINARY = 0, 1, 2
#: Tier names as the API and CLI spell them, by code.
TIERS: dict[str, int] = {"float32": TIER_FLOAT32, "int8": TIER_INT8, "binary": TIER_BINARY}


def tier_code(name: str) -> int:
    """The code of a tier name; a clear error for anything else."""
    if name not in TIERS:
        raise ValidationError(f"tier: {name!r} is not one of {', '.join(TIERS)}")
    return TIERS[name]


def code_bytes(tier: int, dim: int) -> int:
    """Bytes one row takes in a tier."""
    return {TIER_FLOAT32: 4 * dim, TIER_INT8: dim + 4, TIER_BINARY: (dim + 7) // 8}[tier]


def int8_quantize(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 codes and scales: ``row ≈ code × scale``."""
    rows = np.asarray(rows, dtype=np.float32)
    peak = np.abs(rows).max(axis=1) if rows.size else np.zeros(len(rows), dtype=np.float32)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
    return codes, scale


def sign_bits(rows: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """Packed sign bits (1 for > 0) of each row, optionally after subtracting ``centre``.

    >>> sign_bits(np.array([[1.0, -1.0, 2.0, 0.0, 0, 0, 0, 0, 3.0]])).tolist()
    [[160, 128]]
    """
    rows = np.asarray(rows, dtype=np.float32)
    positive = rows > (centre if centre is not None else 0.0)
    return np.packbits(positive, axis=1)


def encode(tier: int, rows: np.ndarray) -> list[bytes]:
    """One blob per row in the given tier (int8: codes then the float32 scale)."""
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    if tier == TIER_FLOAT32:
        return [r.tobytes() for r in rows]
    if tier == TIER_INT8:
        codes, scale = int8_quantize(rows)
        return [c.tobytes() + s.tobytes() for c, s in zip(codes, scale, strict=True)]
    if tier == TIER_BINARY:
        return [c.tobytes() for c in sign_bits(rows)]
    raise ValidationError(f"tier: unknown code {tier}")


def decode(tier: int, blobs: list[bytes] | bytes, dim: int) -> np.ndarray:
    """Float32 rows back from blobs of one tier (``dim`` is needed for binary and int8)."""
    parts = [blobs] if isinstance(blobs, bytes) else blobs
    n = len(parts)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    raw = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(n, -1)
    if tier == TIER_FLOAT32:
        return raw.view(np.float32).reshape(n, -1)
    if tier == TIER_INT8:
        return _int8_rows(raw, dim)
    if tier == TIER_BINARY:
        bits = np.unpackbits(raw, axis=1, count=dim).astype(np.float32)
        return (bits * 2.0 - 1.0) * np.float32(math.sqrt(math.pi / 2) / math.sqrt(dim))
    raise ValidationError(f"tier: unknown code {tier}")


def pack_int8(vectors: np.ndarray) -> bytes:
    """Rows as one blob of int8 codes, each followed by its float32 scale (``dim + 4`` bytes a row)."""
    return b"".join(encode(TIER_INT8, vectors))


def unpack_int8(rows: Sequence[tuple[K, int, bytes]]) -> dict[K, np.ndarray]:
    """``{key: vectors}`` from ``(key, count, blob)`` rows, each blob ``count`` rows :func:`pack_int8` wrote.

    All blobs are decoded at once: a decode per blob costs milliseconds for a few hundred.

    >>> v = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]])
    >>> got = unpack_int8([(7, 2, pack_int8(v[:2])), (9, 1, pack_int8(v[2:]))])
    >>> {k: a.astype(float).round(2).tolist() for k, a in got.items()}
    {7: [[0.6, 0.8], [1.0, 0.0]], 9: [[0.0, -1.0]]}
    """
    counts = [count for _, count, _ in rows]
    if not sum(counts):
        return {}
    matrix = int8_matrix([blob for _, _, blob in rows], sum(counts))
    ends = np.cumsum(counts).tolist()
    return {key: matrix[end - count : end] for (key, count, _), end in zip(rows, ends, strict=True)}


def int8_matrix(blobs: Sequence[bytes], count: int) -> np.ndarray:
    """The ``count`` rows that :func:`pack_int8` wrote into ``blobs``, in order, as one float32 matrix.

    >>> blobs = [pack_int8(np.array([[0.6, 0.8]])), pack_int8(np.array([[1.0, 0.0]]))]
    >>> int8_matrix(blobs, 2).astype(float).round(2).tolist()
    [[0.6, 0.8], [1.0, 0.0]]
    """
    raw = np.frombuffer(b"".join(bytes(blob) for blob in blobs), dtype=np.uint8).reshape(count, -1)
    return _int8_rows(raw, raw.shape[1] - 4)


def _int8_rows(raw: np.ndarray, dim: int) -> np.ndarray:
    """Float32 rows from ``[n, dim + 4]`` bytes of int8 codes and float32 scales."""
    codes = raw[:, :dim].view(np.int8).astype(np.float32)
    scale = np.ascontiguousarray(raw[:, dim : dim + 4]).view(np.float32)
    return codes * scale
