"""Lexical channel: BM25 over index keys, served by the store's full-text index."""

from __future__ import annotations

from collections.abc import Sequence

from hippodex.recall.query import ChannelHit, Query
from hippodex.store.base import Store


class LexicalChannel:
    """BM25 (SQLite FTS5, Porter stemming) over each episode's index key."""

    name = "lexical"

    def __init__(self, store: Store) -> None:
        self.store = store

    def search(self, query: Query, k: int) -> list[ChannelHit]:
        hits = self.store.lexical(query.user_id, query.terms, query.filters, k)
        return [ChannelHit(rowid, score) for rowid, score in hits]

    def rescore(self, query: Query, rowids: Sequence[int]) -> dict[int, float]:
        return dict(self.store.lexical(query.user_id, query.terms, query.filters, len(rowids), rowids=rowids))
