"""Lexical channel: BM25 over index keys, from FTS5 or, for large scopes, an in-memory index."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from hippodex.config import RecallConfig
from hippodex.recall.query import ChannelHit, Query
from hippodex.recall.vector_index import top_k
from hippodex.store.base import Layout, Store
from hippodex.store.lexical_index import HasLexicalIndex, LexicalIndex, group_scores, scores
from hippodex.store.postgres_text import query_lexemes


@functools.lru_cache(maxsize=1024)
def _lexemes(terms: tuple[str, ...]) -> tuple[str, ...]:
    """FTS5's token of each query term (the channel and the session stage both ask)."""
    return tuple(query_lexemes(terms))


def indexed(store: Store, user_id: str, config: RecallConfig) -> LexicalIndex | None:
    """The user's in-memory BM25 index when the store offers one and either it is
    exact or the scope has reached the threshold; else ``None``: the store's own
    BM25 (FTS5) serves it."""
    if not isinstance(store, HasLexicalIndex):
        return None
    if not store.lexical_index_exact and len(store.layout(user_id).rowids) < config.lexical_index_threshold:
        return None
    return store.lexical_index(user_id)


class LexicalChannel:
    """BM25 (FTS5's tokenizer and formula) over each episode's index key.

    Scores every match once per search, so rescoring the other channels'
    candidates is a lookup, not a second scan of the matches (measured at
    100k memories: 150 ms for the second scan). Below
    ``RecallConfig.lexical_index_threshold`` memories FTS5 ranks; at or
    above it, the store's in-memory index does (same scores on a one-user
    file), since FTS5 computes ``bm25()`` row by row for every match.
    """

    name = "lexical"

    def __init__(self, store: Store, config: RecallConfig | None = None) -> None:
        self.store = store
        self.config = config or RecallConfig()
        self._last: tuple[Query, list[tuple[int, float]]] | None = None
        self._dense: tuple[Query, tuple[LexicalIndex, np.ndarray] | None] | None = None

    def _index_scores(self, query: Query) -> tuple[LexicalIndex, np.ndarray] | None:
        """Every doc's score from the in-memory index (0: no match or filtered out), or
        ``None`` when FTS5 serves this query; decided and computed once per query."""
        if self._dense is not None and self._dense[0] is query:
            return self._dense[1]
        index = indexed(self.store, query.user_id, self.config)
        found = None
        if index is not None:
            s = scores(index, _lexemes(tuple(query.terms))) if query.terms else np.zeros(len(index.rowids))
            if not query.filters.empty:
                s[~np.isin(index.rowids, self.store.allowed(query.user_id, query.filters))] = 0.0
            found = (index, s)
        self._dense = (query, found)
        return found

    def _matches(self, query: Query) -> list[tuple[int, float]]:
        """All matches of the query, best first, scored once per query."""
        if self._last is None or self._last[0] is not query:
            self._last = (query, self.store.lexical(query.user_id, query.terms, query.filters, _ALL))
        return self._last[1]

    def search(self, query: Query, k: int) -> list[ChannelHit]:
        found = self._index_scores(query)
        if found is None:
            return [ChannelHit(rowid, score) for rowid, score in self._matches(query)[:k]]
        index, s = found
        hit = np.flatnonzero(s > 0)  # ascending rowid, so ties keep FTS5's order
        best = hit[top_k(s[hit], k)]
        return [ChannelHit(int(r), float(v)) for r, v in zip(index.rowids[best], s[best], strict=True)]

    def rescore(self, query: Query, rowids: Sequence[int]) -> dict[int, float]:
        found = self._index_scores(query)
        if found is None:
            wanted = set(rowids)
            return {r: s for r, s in self._matches(query) if r in wanted}
        index, s = found
        ask = np.asarray(rowids, dtype=np.int64)
        at = np.minimum(np.searchsorted(index.rowids, ask), max(0, len(index.rowids) - 1))
        ok = (index.rowids[at] == ask) & (s[at] > 0) if len(index.rowids) else np.zeros(len(ask), dtype=bool)
        return dict(zip(ask[ok].tolist(), s[at[ok]].tolist(), strict=True))


def session_bm25(store: Store, query: Query, layout: Layout, config: RecallConfig) -> np.ndarray:
    """BM25 of each session of ``layout`` (by session code) over its turns' keys; 0 for no match.

    Only sessions the filters' ``session_ids`` name count. Large scopes use the
    in-memory index (a session's text is its keys joined, so its counts are
    sums of its turns'); smaller ones ask the store's session index.
    """
    out = np.zeros(len(layout.sessions), dtype=np.float64)
    if not query.terms:
        return out
    index = indexed(store, query.user_id, config)
    if index is not None and _same_rows(index, layout):
        out = group_scores(index, _lexemes(tuple(query.terms)), layout.session, len(layout.sessions))
        if query.filters.session_ids:
            named = set(query.filters.session_ids)
            out *= np.fromiter((s in named for s in layout.sessions), dtype=bool, count=len(layout.sessions))
        return out
    found = store.session_lexical(query.user_id, query.terms, query.filters)
    if found:
        out = np.array([found.get(name, 0.0) for name in layout.sessions], dtype=np.float64)
    return out


def _same_rows(index: LexicalIndex, layout: Layout) -> bool:
    """Whether the index's docs are the layout's rows (checked once per pair: 1 ms at 1M)."""
    if index.derived.get("layout") is not layout:
        if not np.array_equal(index.rowids, layout.rowids):
            return False
        index.derived["layout"] = layout
    return True


#: "No limit" for the store's ranked query (SQLite takes a 64-bit LIMIT).
_ALL = 2**62
