"""Every token vector of a user, as one matrix a store keeps in memory between searches.

Late interaction (:mod:`hippodex.encode.late_interaction`) scores the learned
stage's candidates from their token vectors, and in a small enough scope it
also reads every turn's, to hand the learned stage the turns no channel found.
Reading hundreds of blobs a search costs milliseconds; a :class:`TokenSet`
is read once, extended by appends, and read again only after a deletion or a
``reindex`` (both bump the user's deletion count).

>>> from hippodex.encode.quantize import pack_int8
>>> ts = TokenSet.from_rows([(3, 2, pack_int8(np.eye(2))), (8, 1, pack_int8(np.ones((1, 2))))])
>>> ts.rowids.tolist(), ts.starts.tolist(), len(ts.matrix)
([3, 8], [0, 2], 3)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hippodex.encode.quantize import int8_matrix

#: ``(episode rowid, token count, blob)`` as stores keep token vectors, in rowid order.
Row = tuple[int, int, bytes]


@dataclass(frozen=True)
class TokenSet:
    """One user's token vectors for one model: episode ``rowids[i]`` owns ``matrix[starts[i]:starts[i + 1]]``."""

    rowids: np.ndarray  # int64, ascending
    starts: np.ndarray  # int64, each episode's first row in matrix
    matrix: np.ndarray  # float32, (tokens, dim)

    @classmethod
    def from_rows(cls, rows: Sequence[Row]) -> TokenSet:
        """Decode ``(rowid, count, blob)`` rows (ascending rowids, count > 0) into one set."""
        counts = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        if not counts.sum():
            return EMPTY
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return cls(rowids, starts, int8_matrix([r[2] for r in rows], int(counts.sum())))

    def extend(self, other: TokenSet) -> TokenSet:
        """This set with ``other``'s episodes (all later rowids) appended."""
        if not len(other.rowids):
            return self
        if not len(self.rowids):
            return other
        return TokenSet(
            np.concatenate([self.rowids, other.rowids]),
            np.concatenate([self.starts, other.starts + len(self.matrix)]),
            np.vstack([self.matrix, other.matrix]),
        )

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes + self.rowids.nbytes + self.starts.nbytes)


EMPTY = TokenSet(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0), np.float32))


class TokenCache:
    """Token sets per (user, model), least recently used first out past ``limit_bytes``.

    ``get`` reads only the episodes appended since the cached copy while the
    user's deletion count stands still, and everything again once it moves.
    """

    def __init__(self, limit_bytes: int = 256 << 20) -> None:
        self.limit_bytes = limit_bytes
        # (user, model) -> (version, deletions, set)
        self._sets: OrderedDict[tuple[str, str], tuple[int, int, TokenSet]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: str, model: str, version: tuple[int, int], read: Callable[[int], Sequence[Row]]) -> TokenSet:
        """The user's set at ``version`` (their (version, deletions)); ``read(after)`` gives rows past a rowid."""
        key = (user_id, model)
        with self._lock:
            cached = self._sets.get(key)
            if cached is not None and cached[0] == version[0]:
                self._sets.move_to_end(key)
                return cached[2]
        kept = cached[2] if cached is not None and cached[1] == version[1] else EMPTY
        after = int(kept.rowids[-1]) if len(kept.rowids) else 0
        tokens = kept.extend(TokenSet.from_rows(read(after)))
        self._keep(key, version, tokens)
        return tokens

    def append(
        self, user_id: str, model: str, before: tuple[int, int], after: tuple[int, int], rows: Sequence[Row]
    ) -> None:
        """Rows just written, moving the user from version ``before`` to ``after`` (write-through).

        The cached set grows if it was current before the write; a user who had
        no version (new, or erased) starts one. Any other set is left to ``get``.
        """
        key = (user_id, model)
        with self._lock:
            cached = self._sets.get(key)
        if cached is not None and cached[:2] == before:
            kept = cached[2]
        elif cached is None and before == (0, 0):
            kept = EMPTY
        else:
            return
        self._keep(key, after, kept.extend(TokenSet.from_rows(rows)))

    def _keep(self, key: tuple[str, str], version: tuple[int, int], tokens: TokenSet) -> None:
        with self._lock:
            self._sets[key] = (version[0], version[1], tokens)
            self._sets.move_to_end(key)
            total = sum(s.nbytes for _, _, s in self._sets.values())
            while total > self.limit_bytes and len(self._sets) > 1:
                _, (_, _, gone) = self._sets.popitem(last=False)
                total -= gone.nbytes

    def clear(self) -> None:
        """Forget every set (the store closes): their memory goes now, not when the store is collected."""
        with self._lock:
            self._sets.clear()

    def drop(self, user_id: str) -> None:
        """Forget a user's sets (erase)."""
        with self._lock:
            for key in [k for k in self._sets if k[0] == user_id]:
                del self._sets[key]
