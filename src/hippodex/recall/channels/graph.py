"""Graph channel: personalized PageRank from the query's entities (HippoRAG 2 style).

Entities and episodes are nodes; a mention links an entity and an episode both
ways. The walk restarts at the entities the question names, so it reaches
episodes that share no words with the question but sit one entity away from
ones that do ("what does the friend Ana met in Lisbon do?"). Edges into an
entity are weighted by its specificity (1 / log(2 + episodes mentioning it)),
so a name in every turn spreads little.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from hippodex.knowledge.graph import personalized_pagerank
from hippodex.recall.query import ChannelHit, Query
from hippodex.store.base import EntityGraph

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


def query_entities(text: str, graph: EntityGraph) -> dict[int, float]:
    """Entity indexes named in ``text`` (any alias, up to the longest alias's
    length in words), weighted by specificity.

    Possessives are stripped ("Ana's" names "ana"); a longer match wins over
    the words inside it.
    """
    words = [re.sub(r"['’]s$", "", w) for w in _WORD.findall(text.casefold())]
    found: dict[int, float] = {}
    covered: set[int] = set()
    for size in range(min(graph.longest_name, 6), 0, -1):
        for i in range(len(words) - size + 1):
            if covered.intersection(range(i, i + size)):
                continue
            entity = graph.names.get(" ".join(words[i : i + size]))
            if entity is not None:
                found[entity] = 1.0 / np.log(2.0 + graph.entity_mentions[entity])
                covered.update(range(i, i + size))
    return found


class GraphChannel:
    """Episodes ranked by a personalized PageRank walk from the query's entities."""

    name = "graph"

    def __init__(self, store: object, damping: float = 0.5) -> None:
        self.store = store
        self.damping = damping
        self._last: tuple[tuple[str, str], dict[int, float]] | None = None

    def _scores(self, query: Query) -> dict[int, float]:
        key = (query.user_id, query.text)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        graph: EntityGraph = self.store.entity_graph(query.user_id)  # type: ignore[attr-defined]
        seeds = query_entities(query.text, graph)
        scores: dict[int, float] = {}
        if seeds and len(graph.mention_rowid):
            n_ent = len(graph.entity_ids)
            rowids, episode = np.unique(graph.mention_rowid, return_inverse=True)
            episode = episode + n_ent
            specificity = 1.0 / np.log(2.0 + graph.entity_mentions[graph.mention_entity])
            src = np.concatenate([graph.mention_entity, episode])
            dst = np.concatenate([episode, graph.mention_entity])
            weight = np.concatenate([graph.mention_count, specificity])
            rank = personalized_pagerank(n_ent + len(rowids), src, dst, weight, seeds, damping=self.damping)
            visits = rank[n_ent:]
            if not query.filters.empty:
                allowed = self.store.allowed(query.user_id, query.filters)  # type: ignore[attr-defined]
                visits = np.where(np.isin(rowids, allowed), visits, 0.0)
            keep = np.flatnonzero(visits > 0)
            scores = {int(rowids[i]): float(visits[i]) for i in keep}
        self._last = (key, scores)
        return scores

    def search(self, query: Query, k: int) -> list[ChannelHit]:
        scores = self._scores(query)
        best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [ChannelHit(rowid, score) for rowid, score in best]

    def rescore(self, query: Query, rowids: Sequence[int]) -> dict[int, float]:
        scores = self._scores(query)
        return {r: scores[r] for r in rowids if r in scores}
