"""Dense channel: cosine similarity between the query and episode embeddings."""

from __future__ import annotations

import numpy as np

from hippodex.recall.query import ChannelHit, Query
from hippodex.recall.vector_index import exact_search
from hippodex.store.base import Store


class DenseChannel:
    """Exact nearest neighbours over the user's vectors for one encoder."""

    name = "dense"

    def __init__(self, store: Store, encoder_name: str) -> None:
        self.store = store
        self.encoder_name = encoder_name

    def search(self, query: Query, k: int) -> list[ChannelHit]:
        vector = query.vector
        if vector is None:
            return []
        vs = self.store.vectors(query.user_id, self.encoder_name)
        if len(vs.rowids) == 0:
            return []
        mask = None
        if not query.filters.empty:
            mask = np.isin(vs.rowids, self.store.allowed(query.user_id, query.filters))
        rows, scores = exact_search(vs.matrix, vector, k, mask)
        return [ChannelHit(int(vs.rowids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]
