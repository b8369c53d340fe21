"""Run the channels for a query and fuse what they found."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hippodex.config import RecallConfig
from hippodex.model import ChannelScore
from hippodex.recall.channels.base import Channel, Rescoring
from hippodex.recall.channels.dense import DenseChannel
from hippodex.recall.channels.lexical import session_bm25
from hippodex.recall.context import named_speakers, recency_prior, speaker_boost, spread
from hippodex.recall.fuse import reciprocal_rank_fusion, score_fusion
from hippodex.recall.query import ChannelHit, Query
from hippodex.recall.temporal import time_boost
from hippodex.store.base import Store

log = logging.getLogger("hippodex.recall")
_TRACE = bool(os.environ.get("HIPPODEX_TRACE"))


@dataclass(frozen=True)
class Ranked:
    """One fused candidate: internal key, fused score, and each channel's say."""

    rowid: int
    score: float
    channels: dict[str, ChannelScore]


@dataclass
class Timings:
    """Milliseconds spent per stage of the last search (for the bench harness)."""

    stages: dict[str, float] = field(default_factory=dict)


def fuse(rankings: Mapping[str, Sequence[ChannelHit]], config: RecallConfig) -> list[Ranked]:
    """Fuse channel rankings by the configured method; best first, ties by key."""
    weights = {name: config.weights.get(name, 1.0) for name in rankings}
    if "associative" in rankings:
        weights["associative"] = config.associative
    if config.fusion == "rrf":
        fused = reciprocal_rank_fusion(rankings, weights, config.rrf_k)
    else:
        fused = score_fusion(rankings, weights)
    per: dict[int, dict[str, ChannelScore]] = {}
    for name, hits in rankings.items():
        for rank, hit in enumerate(hits, start=1):
            per.setdefault(hit.rowid, {})[name] = ChannelScore(rank, hit.score)
    order = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Ranked(rowid, score, per[rowid]) for rowid, score in order]


def _complete(query: Query, channels: Sequence[Channel], rankings: dict[str, list[ChannelHit]]) -> None:
    """Give every candidate its real score on every channel that can rescore it.

    Appended hits rank after the channel's own list, so RRF-style ranks stay
    meaningful; score fusion only reads the scores.
    """
    candidates = {h.rowid for hits in rankings.values() for h in hits}
    for channel in channels:
        if not isinstance(channel, Rescoring):
            continue
        hits = rankings[channel.name]
        missing = sorted(candidates - {h.rowid for h in hits})
        if missing:
            extra = channel.rescore(query, missing)
            hits.extend(ChannelHit(r, s) for r, s in sorted(extra.items(), key=lambda kv: -kv[1]))


def recall(
    query: Query,
    channels: Sequence[Channel],
    config: RecallConfig,
    k: int,
    timings: Timings | None = None,
    store: Store | None = None,
) -> list[Ranked]:
    """The top ``k`` fused candidates for a query.

    With a ``store``, the context stages (speaker, contiguity, session) run on
    the fused list when the config turns them on.
    """
    depth = max(config.depth, k)
    rankings: dict[str, list[ChannelHit]] = {}
    for channel in channels:
        start = time.perf_counter()
        rankings[channel.name] = channel.search(query, depth)
        if timings is not None:
            timings.stages[channel.name] = (time.perf_counter() - start) * 1000
        if _TRACE:
            log.info("channel %s: %d hits for %r", channel.name, len(rankings[channel.name]), query.text)
    start = time.perf_counter()
    if config.fusion == "score":
        _complete(query, channels, rankings)
    ranked = fuse(rankings, config)
    if timings is not None:
        timings.stages["fuse"] = (time.perf_counter() - start) * 1000
    dense = next((c for c in channels if isinstance(c, DenseChannel)), None)
    if config.associative and dense is not None and ranked:
        start = time.perf_counter()
        seeds = [r.rowid for r in ranked[: config.associative_seeds]]
        rankings["associative"] = dense.search_like(query, seeds, depth)
        if config.fusion == "score":
            _complete(query, channels, rankings)
        ranked = fuse(rankings, config)
        if timings is not None:
            timings.stages["associative"] = (time.perf_counter() - start) * 1000
    if (
        store is not None
        and ranked
        and (
            config.neighbour
            or config.session
            or config.speaker
            or config.temporal
            or config.session_lexical
            or config.decay
        )
    ):
        start = time.perf_counter()
        ranked = _contextualise(query, ranked, store, config, k)
        if timings is not None:
            timings.stages["context"] = (time.perf_counter() - start) * 1000
    return ranked[:k]


def _contextualise(query: Query, ranked: list[Ranked], store: Store, config: RecallConfig, k: int) -> list[Ranked]:
    """Apply the speaker, time, contiguity and session stages to fused candidates; the best ``k``."""
    layout = store.layout(query.user_id)
    rows = layout.rows([r.rowid for r in ranked])
    scores = np.array([r.score for r in ranked], dtype=np.float64)
    scores = speaker_boost(rows, scores, layout, named_speakers(query.text, layout.speakers), config.speaker)
    scores = time_boost(layout.occurred[rows], scores, query.text, query.now, config.temporal)
    scores = recency_prior(layout.occurred[rows], scores, query.now.timestamp(), config.decay, config.decay_days)
    rows, scores, boost = spread(
        rows, scores, layout, neighbour=config.neighbour, session=config.session, session_top=config.session_top
    )
    if config.session_lexical:
        bm25 = session_bm25(store, query, layout, config)
        top = float(bm25.max()) if len(bm25) else 0.0
        if top > 0:
            extra = config.session_lexical * (bm25 / top)[layout.session[rows]]
            scores, boost = scores + extra, boost + extra
    if not query.filters.empty:  # turns pulled in as neighbours must pass the filters too
        keep = np.isin(layout.rowids[rows], store.allowed(query.user_id, query.filters))
        rows, scores, boost = rows[keep], scores[keep], boost[keep]
    by_rowid = {r.rowid: r for r in ranked}
    boost_rank = np.empty(len(boost), dtype=np.int64)
    boost_rank[np.argsort(-boost, kind="stable")] = np.arange(1, len(boost) + 1)
    out = []
    for i in np.argsort(-scores, kind="stable")[:k]:  # only these are returned: build no more
        rowid = int(layout.rowids[rows[i]])
        channels = dict(by_rowid[rowid].channels) if rowid in by_rowid else {}
        if boost[i] > 0:
            channels["context"] = ChannelScore(int(boost_rank[i]), float(boost[i]))
        out.append(Ranked(rowid, float(scores[i]), channels))
    return out
