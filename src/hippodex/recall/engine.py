"""Run the channels for a query and fuse what they found."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hippodex.config import RecallConfig
from hippodex.model import ChannelScore
from hippodex.recall.channels.base import Channel, Rescoring
from hippodex.recall.fuse import reciprocal_rank_fusion, score_fusion
from hippodex.recall.query import ChannelHit, Query

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
    query: Query, channels: Sequence[Channel], config: RecallConfig, k: int, timings: Timings | None = None
) -> list[Ranked]:
    """The top ``k`` fused candidates for a query."""
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
    ranked = fuse(rankings, config)[:k]
    if timings is not None:
        timings.stages["fuse"] = (time.perf_counter() - start) * 1000
    return ranked
