"""The ``words`` table both SQL stores keep for the soft word match (recall/word_match.py).

One row per content word of a user's episodes: how many of the user's
episodes use it (``uses``) and, once the memory has embedded it, its int8
vector and the encoder that made it. The count is what lets ``delete`` drop a
word no remaining episode uses (a word's vector gives the word away), and it
is kept for every episode, with or without vectors, so it stays exact
whatever was switched on when.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from hippodex.encode.quantize import pack_int8, unpack_int8
from hippodex.recall.text import content_words
from hippodex.store.sql import Dialect

K = TypeVar("K")
V = TypeVar("V")

#: SQLite binds at most this many parameters a statement in old builds; PostgreSQL takes an array.
CHUNK = 500


def uses(contents: Iterable[str]) -> Counter[str]:
    """How many of ``contents`` use each content word.

    >>> sorted(uses(["I play Valorant", "Valorant finals"]).items())
    [('finals', 1), ('play', 1), ('valorant', 2)]
    """
    return counted(content_words(text) for text in contents)


def counted(word_lists: Iterable[Sequence[str]]) -> Counter[str]:
    """How many of the lists (each of distinct words) hold each word."""
    return Counter(w for ws in word_lists for w in ws)


def add_rows(
    user_id: str, counts: Mapping[str, int], vectors: Mapping[str, np.ndarray], encoder: str | None
) -> list[tuple[str, str, int, str | None, bytes | None]]:
    """Rows for :func:`add_sql`: each word with its count (:func:`uses`), and its vector if given.

    Sorted by word, as :func:`forget_rows` are: concurrent PostgreSQL writers then
    lock shared rows in one order and cannot deadlock.
    """
    rows: list[tuple[str, str, int, str | None, bytes | None]] = []
    for word, n in sorted(counts.items()):
        vec = vectors.get(word) if encoder is not None else None
        if vec is None:
            rows.append((user_id, word, n, None, None))
        else:
            rows.append((user_id, word, n, encoder, pack_int8(vec[None])))
    return rows


def written_vectors(rows: Sequence[tuple[str, str, int, str | None, bytes | None]]) -> dict[str, np.ndarray]:
    """The vectors :func:`add_rows` rows carry, as a later read returns them (int8, decoded)."""
    return {word: m[0] for word, m in unpack_int8([(r[1], 1, r[4]) for r in rows if r[4] is not None]).items()}


def add_sql(d: Dialect) -> str:
    """Count one more use of each word; a vector given replaces the one stored (same encoder or not)."""
    return d.sql(
        "INSERT INTO words (user_id, word, uses, encoder, vec) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (user_id, word) DO UPDATE SET uses = words.uses + excluded.uses, "
        "encoder = CASE WHEN excluded.vec IS NULL THEN words.encoder ELSE excluded.encoder END, "
        "vec = coalesce(excluded.vec, words.vec)"
    )


def forget_sql(d: Dialect) -> str:
    """Count fewer uses of a word (parameters: how many fewer, user, word)."""
    return d.sql("UPDATE words SET uses = uses - ? WHERE user_id = ? AND word = ?")


def forget_rows(user_id: str, contents: Sequence[str]) -> list[tuple[int, str, str]]:
    """Rows for :func:`forget_sql`: the words of deleted ``contents``."""
    return [(n, user_id, word) for word, n in sorted(uses(contents).items())]


def drop_unused(conn: Any, d: Dialect, user_id: str, words: Sequence[str]) -> None:
    """Delete the rows of ``words`` no episode uses any more."""
    for start in range(0, len(words), CHUNK):
        cond, args = d.one_of("word", words[start : start + CHUNK])
        conn.execute(d.sql("DELETE FROM words WHERE user_id = ? AND uses <= 0 AND ") + cond, [user_id, *args])


def read_vectors(conn: Any, d: Dialect, user_id: str, encoder: str, words: Sequence[str]) -> dict[str, np.ndarray]:
    """The vectors ``encoder`` made of those of ``words`` that have one."""
    rows: list[tuple[str, int, bytes]] = []
    for start in range(0, len(words), CHUNK):
        cond, args = d.one_of("word", words[start : start + CHUNK])
        q = d.sql("SELECT word, 1, vec FROM words WHERE user_id = ? AND encoder = ? AND vec IS NOT NULL AND ")
        rows.extend(conn.execute(q + cond, [user_id, encoder, *args]).fetchall())
    return {word: m[0] for word, m in unpack_int8(rows).items()}


class UserCache(Generic[K, V]):
    """Values a store has read or written, per user and space, until the user's next deletion.

    Used for word vectors (space: the encoder; a word's vector never changes for
    one encoder) and for each episode's content words (an episode's content never
    changes). When the user's deletion count moves, their entries go: a removed
    word does not linger in memory, and SQLite may reuse a deleted episode's
    rowid. Keys ``fetch`` found nothing for are not asked again until the user's
    version moves (any write). Past ``limit`` entries in all it starts over.

    >>> cache: UserCache[str, int] = UserCache(limit=100)
    >>> cache.get("ana", "enc", (1, 0), ["tea", "new"], lambda keys: {k: 1 for k in keys if k != "new"})
    {'tea': 1}
    >>> cache.get("ana", "enc", (1, 0), ["tea", "new"], lambda keys: {"new": 2})  # known, or known absent
    {'tea': 1}
    >>> cache.get("ana", "enc", (2, 0), ["tea", "new"], lambda keys: {"new": 2})  # a write since: ask again
    {'tea': 1, 'new': 2}
    >>> cache.get("ana", "enc", (3, 1), ["tea"], lambda keys: {})  # a deletion since: read again
    {}
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # (user, space) -> (deletions, values, version, keys known to have no value at that version)
        self._users: dict[tuple[str, str], tuple[int, dict[K, V], list[Any]]] = {}
        self._size = 0

    def _entry(self, user_id: str, space: str, deletions: int) -> tuple[dict[K, V], list[Any]]:
        entry = self._users.get((user_id, space))
        if entry is None or entry[0] != deletions:
            self._size -= len(entry[1]) if entry else 0
            entry = self._users[(user_id, space)] = (deletions, {}, [None, set()])
        return entry[1], entry[2]

    def get(
        self,
        user_id: str,
        space: str,
        version: tuple[int, int],
        keys: Sequence[K],
        fetch: Callable[[list[K]], Mapping[K, V]],
    ) -> dict[K, V]:
        """The values of ``keys`` that have one; ``version`` is the user's (version, deletions)."""
        known, absent = self._entry(user_id, space, version[1])
        if absent[0] != version[0]:
            absent[:] = [version[0], set()]
        missing = [k for k in dict.fromkeys(keys) if k not in known and k not in absent[1]]
        if missing:
            got = fetch(missing)
            absent[1].update(k for k in missing if k not in got)
            self._add(user_id, space, known, got)
        return {k: known[k] for k in keys if k in known}

    def put(self, user_id: str, space: str, deletions: int, values: Mapping[K, V]) -> None:
        """Remember values just written, so the next read need not fetch them."""
        known, absent = self._entry(user_id, space, deletions)
        absent[1].difference_update(values)
        self._add(user_id, space, known, values)

    def _add(self, user_id: str, space: str, known: dict[K, V], values: Mapping[K, V]) -> None:
        if self._size + len(values) > self.limit:  # start over, keeping only this user's entries
            self._users = {(user_id, space): self._users[(user_id, space)]}
            self._size = len(known)
        known.update(values)
        self._size += len(values)

    def drop(self, user_id: str) -> None:
        """Forget a user's entries (erase, or their words replaced)."""
        for key in [k for k in self._users if k[0] == user_id]:
            self._size -= len(self._users.pop(key)[1])


class WordCaches:
    """What a store keeps in memory for the word signal: word vectors, and each episode's words."""

    def __init__(self) -> None:
        self.vectors: UserCache[str, np.ndarray] = UserCache(limit=50_000)  # about 80 MB at most
        self.episodes: UserCache[int, list[str]] = UserCache(limit=200_000)

    def drop(self, user_id: str) -> None:
        self.vectors.drop(user_id)
        self.episodes.drop(user_id)
