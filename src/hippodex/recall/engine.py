"""Run the channels for a query and fuse what they found."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hippodex.config import RecallConfig
from hippodex.encode.late_interaction import LateInteraction, maxsim, maxsim_matrix
from hippodex.model import ChannelScore
from hippodex.recall.channels.base import Channel, Rescoring
from hippodex.recall.channels.dense import DenseChannel
from hippodex.recall.channels.lexical import session_bm25
from hippodex.recall.context import named_speakers, recency_prior, session_scores, speaker_boost, spread
from hippodex.recall.cross_encoder import blend, load_cross_encoder
from hippodex.recall.cues import parse_reading
from hippodex.recall.fuse import reciprocal_rank_fusion, score_fusion
from hippodex.recall.learned import Signals, asks_assistant, features, load_ranker
from hippodex.recall.parts import best_part_cosine
from hippodex.recall.query import ChannelHit, Query
from hippodex.recall.temporal import order_position, order_preference, parse_window, time_boost, window_weights
from hippodex.recall.text import content_words
from hippodex.recall.vector_index import top_k
from hippodex.recall.word_match import MAX_WORDS, soft_match
from hippodex.store.base import Layout, Store

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
    """Milliseconds spent per stage of the last search (for the bench harness).

    With ``record_features`` set, the learned stage also keeps the rowids
    and feature matrix of the candidates it ranked (``hippodex bench fit``
    learns from them).
    """

    stages: dict[str, float] = field(default_factory=dict)
    record_features: bool = False
    features: tuple[np.ndarray, np.ndarray] | None = None


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
            or config.ranker
            or config.cross_encoder
            or (timings is not None and timings.record_features)
        )
    ):
        start = time.perf_counter()
        found = _contextualise(query, ranked, store, config)
        if timings is not None:
            timings.stages["context"] = (time.perf_counter() - start) * 1000
        if config.ranker or (timings is not None and timings.record_features):
            start = time.perf_counter()
            _rerank(query, found, channels, store, config, timings)
            if timings is not None:
                # Late interaction runs inside this stage but is timed as its own.
                spent = (time.perf_counter() - start) * 1000
                timings.stages["learned"] = spent - timings.stages.get("late", 0.0)
        if config.cross_encoder:
            start = time.perf_counter()
            _cross_rerank(query, found, store, config)
            if timings is not None:
                timings.stages["cross"] = (time.perf_counter() - start) * 1000
        ranked = found.best(k)
    return ranked[:k]


@dataclass
class _Candidates:
    """Candidates after the context stages: layout rows, scores, what the stages added."""

    layout: Layout
    rows: np.ndarray
    scores: np.ndarray
    boost: np.ndarray
    by_rowid: dict[int, Ranked]
    session_lexical: np.ndarray
    speakers: list[int]
    order: np.ndarray | None = None  # the final order (indexes into rows), best first
    logits: np.ndarray | None = None  # the learned model's logits, NaN past its depth
    late_hits: dict[int, ChannelScore] = field(default_factory=dict)  # turns late interaction added, by rowid

    def include(self, rows: np.ndarray) -> np.ndarray:
        """Indexes of these layout rows among the candidates, appending (scored below all) those not there yet."""
        known = {r: i for i, r in enumerate(self.rows.tolist())}
        new = np.array([r for r in rows.tolist() if r not in known], dtype=np.int64)
        if len(new):
            low = float(self.scores.min()) - 1e-6 if len(self.scores) else 0.0
            known.update((r, len(self.rows) + i) for i, r in enumerate(new.tolist()))
            self.rows = np.concatenate([self.rows, new])
            self.scores = np.concatenate([self.scores, np.full(len(new), low)])
            self.boost = np.concatenate([self.boost, np.zeros(len(new))])
        return np.array([known[r] for r in rows.tolist()], dtype=np.int64)

    def ranking(self) -> np.ndarray:
        return self.order if self.order is not None else np.argsort(-self.scores, kind="stable")

    def best(self, k: int) -> list[Ranked]:
        boost_rank = np.empty(len(self.boost), dtype=np.int64)
        boost_rank[np.argsort(-self.boost, kind="stable")] = np.arange(1, len(self.boost) + 1)
        out = []
        for i in self.ranking()[:k]:  # only these are returned: build no more
            rowid = int(self.layout.rowids[self.rows[i]])
            channels = dict(self.by_rowid[rowid].channels) if rowid in self.by_rowid else {}
            if rowid in self.late_hits:
                channels["late"] = self.late_hits[rowid]
            if self.boost[i] > 0:
                channels["context"] = ChannelScore(int(boost_rank[i]), float(self.boost[i]))
            out.append(Ranked(rowid, float(self.scores[i]), channels))
        return out


def _contextualise(query: Query, ranked: list[Ranked], store: Store, config: RecallConfig) -> _Candidates:
    """Apply the speaker, time, contiguity and session stages to fused candidates."""
    layout = store.layout(query.user_id)
    rows = layout.rows([r.rowid for r in ranked])
    scores = np.array([r.score for r in ranked], dtype=np.float64)
    speakers = named_speakers(query.text, layout.speakers)
    scores = speaker_boost(rows, scores, layout, speakers, config.speaker)
    scores = time_boost(layout.occurred[rows], scores, query.text, query.now, config.temporal)
    scores = recency_prior(layout.occurred[rows], scores, query.now.timestamp(), config.decay, config.decay_days)
    rows, scores, boost = spread(
        rows, scores, layout, neighbour=config.neighbour, session=config.session, session_top=config.session_top
    )
    bm25 = np.zeros(len(layout.sessions))
    if config.session_lexical or config.ranker:
        bm25 = session_bm25(store, query, layout, config)
    top = float(bm25.max()) if len(bm25) else 0.0
    if config.session_lexical and top > 0:
        extra = config.session_lexical * (bm25 / top)[layout.session[rows]]
        scores, boost = scores + extra, boost + extra
    if not query.filters.empty:  # turns pulled in as neighbours must pass the filters too
        keep = np.isin(layout.rowids[rows], store.allowed(query.user_id, query.filters))
        rows, scores, boost = rows[keep], scores[keep], boost[keep]
    return _Candidates(layout, rows, scores, boost, {r.rowid: r for r in ranked}, bm25, speakers)


def soft_word_scores(query: Query, store: Store, encoder: str, words: Sequence[Sequence[str]]) -> np.ndarray:
    """Per candidate, its soft match of the query's words (:mod:`hippodex.recall.word_match`).

    ``words`` are each candidate's content words (the store keeps them in
    memory), as are the words' vectors; query words the memory never used
    are embedded here.
    """
    asked = content_words(query.text)
    # Only a candidate's first words are matched: a long turn's hundreds of others need no vector.
    words = [ws[:MAX_WORDS] for ws in words]
    every = list(dict.fromkeys([*asked, *(w for ws in words for w in ws)]))
    vectors = store.word_vectors(query.user_id, encoder, every)
    missing = [w for w in asked if w not in vectors]
    if missing and query.embed_words is not None:
        vectors.update(zip(missing, query.embed_words(missing), strict=True))
    return soft_match(asked, words, vectors)


def _late_signal(
    query: Query,
    store: Store,
    layout: Layout,
    candidates: np.ndarray,
    config: RecallConfig,
    timings: Timings | None,
) -> tuple[np.ndarray | None, dict[int, ChannelScore]]:
    """Late interaction's score of each candidate, and the turns it adds to them (by rowid).

    In a scope of at most ``late_scan_limit`` turns every turn is scored, and
    those of the ``late_candidates`` best that are not candidates yet join
    them, after them: evidence that no channel found. The scores cover the
    candidates, then the added turns. Elsewhere only the candidates are
    scored. ``None`` when no turn has token vectors (late interaction off,
    or a file from before it): the query is not even read.
    """
    if query.embed_tokens is None:
        return None, {}
    start = time.perf_counter()
    try:
        if not config.late_candidates or len(layout.rowids) > config.late_scan_limit:
            held = store.part_vectors(query.user_id, LateInteraction.name, candidates.tolist())
            if not held or (asked := query.token_vectors) is None:
                return None, {}
            return maxsim(asked, held, candidates.tolist()), {}
        tokens = store.token_set(query.user_id, LateInteraction.name)
        if not len(tokens.rowids) or (asked := query.token_vectors) is None:
            return None, {}
        every = maxsim_matrix(asked, tokens.matrix, tokens.starts)
        allowed = every
        if not query.filters.empty:
            allowed = np.where(np.isin(tokens.rowids, store.allowed(query.user_id, query.filters)), every, -np.inf)
        best = top_k(allowed, config.late_candidates)
        # Not yet a candidate, passing the filters, and in the layout (a turn added since it was read is not).
        new = np.isfinite(allowed[best]) & ~np.isin(tokens.rowids[best], candidates)
        new &= np.isin(tokens.rowids[best], layout.rowids)
        added = {
            int(tokens.rowids[i]): ChannelScore(rank, float(every[i]))
            for rank, (i, keep) in enumerate(zip(best.tolist(), new.tolist(), strict=True), start=1)
            if keep
        }
        scored = np.concatenate([candidates, np.fromiter(added, dtype=np.int64, count=len(added))])
        at = np.minimum(np.searchsorted(tokens.rowids, scored), len(tokens.rowids) - 1)
        return np.where(tokens.rowids[at] == scored, every[at], np.nan), added
    finally:
        if timings is not None:
            timings.stages["late"] = (time.perf_counter() - start) * 1000


def _rerank(
    query: Query,
    found: _Candidates,
    channels: Sequence[Channel],
    store: Store,
    config: RecallConfig,
    timings: Timings | None,
) -> None:
    """Order the first ``rerank_depth`` candidates by the learned model; the rest keep their order."""
    layout = found.layout
    names = [c.name for c in channels]
    ranker = load_ranker(config.ranker) if config.ranker else None
    model = ranker.model_for(layout.speakers, names) if ranker is not None else None
    if model is None and not (timings is not None and timings.record_features):
        return
    order = np.argsort(-found.scores, kind="stable")
    head = order[: config.rerank_depth]
    if len(head) == 0:
        return
    late, added = _late_signal(query, store, layout, layout.rowids[found.rows[head]], config, timings)
    if added:
        head = np.concatenate([head, found.include(layout.rows(list(added)))])
        order = np.argsort(-found.scores, kind="stable")
        found.late_hits = added
    rest = order[~np.isin(order, head)]
    rows = found.rows[head]
    candidates = layout.rowids[rows].tolist()
    # The candidates, their neighbours and every turn of their sessions get
    # each channel's score (the session's best cosine is a feature). The
    # signals are arrays over these rows only, never over the whole scope:
    # at 1M turns a pass over every row costs milliseconds each.
    linked = np.concatenate([layout.prev[rows], layout.next[rows]])
    in_sessions = layout.session_rows(np.unique(layout.session[rows]))
    near = np.unique(np.concatenate([rows, linked[linked >= 0], in_sessions]))
    near_ids = layout.rowids[near]  # ascending, as near is: a rowid's position is one small binary search
    lexical = np.zeros(len(near))
    dense = np.full(len(near), np.nan)
    graph = np.zeros(len(rows))
    for channel in channels:
        if not isinstance(channel, Rescoring):
            continue
        if channel.name == "graph":
            got = channel.rescore(query, candidates)
            graph = np.array([got.get(r, 0.0) for r in candidates])
        elif channel.name in ("lexical", "dense"):
            got = channel.rescore(query, near_ids.tolist())
            if got:
                target = lexical if channel.name == "lexical" else dense
                target[np.searchsorted(near_ids, list(got))] = list(got.values())
    session_dense = np.full(len(layout.sessions), np.nan)
    seen = np.searchsorted(near, in_sessions)
    seen = seen[~np.isnan(dense[seen])]
    if len(seen):
        session_dense[:] = -1.0
        np.maximum.at(session_dense, layout.session[near[seen]], dense[seen])
    at = np.searchsorted(near, rows)  # the candidates' places among the rows the signals cover
    parts = None
    encoder = next((c.encoder_name for c in channels if isinstance(c, DenseChannel)), None)
    if encoder is not None and query.vector is not None:
        whole = np.nan_to_num(dense[at], nan=-1.0)
        stored = store.part_vectors(query.user_id, encoder, candidates)
        parts = best_part_cosine(query.vector, whole, candidates, stored)
    held = store.texts(query.user_id, candidates)
    contents = {r: t.content for r, t in held.items()}
    texts = [contents.get(r, "") for r in candidates]
    readings = [parse_reading(t.cues) if t is not None else None for t in map(held.get, candidates)]
    words = tokens = None
    limit = config.word_match_limit
    if encoder is not None and config.word_vectors and (not limit or len(layout.rowids) <= limit):
        known = store.episode_words(query.user_id, contents)
        tokens = [known.get(r, []) for r in candidates]
        words = soft_word_scores(query, store, encoder, tokens)
    fused = np.array([found.by_rowid[r].score if r in found.by_rowid else 0.0 for r in candidates])
    occurred = layout.occurred[rows]
    window = parse_window(query.text, query.now)
    signals = Signals(
        rows=at,
        context=found.scores[head],
        fused=fused,
        graph=graph,
        lexical=lexical,
        dense=dense,
        session_score=session_scores(
            layout.session[rows], found.scores[head], len(layout.sessions), config.session_top
        ),
        session_lexical=found.session_lexical,
        session_dense=session_dense,
        speaker=layout.speaker[near],
        role=layout.role[near],
        session=layout.session[near],
        prev=_within(layout.prev[near], near),
        next=_within(layout.next[near], near),
        named_speakers=found.speakers,
        window=window_weights(occurred, window) if window is not None else None,
        order=order_position(occurred, order_preference(query.text) if window is None else 0),
        asks_assistant=asks_assistant(query.text),
        parts=parts,
        words=words,
        late=late,
        texts=texts,
        readings=readings,
        tokens=tokens,
        query=query.text,
        speaker_names=layout.speakers,
    )
    X = features(signals)
    if late is None and ranker is not None:  # no token vectors: the model fitted without them
        model = ranker.model_for(layout.speakers, names, late=False)
    if timings is not None and timings.record_features:
        timings.features = (layout.rowids[rows].copy(), X)
    if model is not None:
        logits = model.score(X)
        found.order = np.concatenate([head[np.argsort(-logits, kind="stable")], rest])
        found.scores = reranked_scores(found.scores, head, rest, logits)
        found.logits = np.full(len(found.scores), np.nan)
        found.logits[head] = logits


def _cross_rerank(query: Query, found: _Candidates, store: Store, config: RecallConfig) -> None:
    """Re-order the first ``cross_depth`` candidates by their blend with a cross-encoder's scores."""
    assert config.cross_encoder is not None
    order = found.ranking()
    head = order[: config.cross_depth]
    if len(head) < 2:
        return
    layout = found.layout
    candidates = layout.rowids[found.rows[head]].tolist()
    held = store.texts(query.user_id, candidates)

    def passage(rowid: int, speaker: int) -> str:
        # The turn as a reader would see it: who said it, then what (two named speakers, a user or an assistant).
        if rowid not in held:
            return ""
        text = held[rowid].content
        return f"{layout.speakers[speaker]}: {text}" if 0 <= speaker < len(layout.speakers) else text

    passages = [passage(r, s) for r, s in zip(candidates, layout.speaker[found.rows[head]].tolist(), strict=True)]
    logits = load_cross_encoder(config.cross_encoder).score(query.text, passages)
    # Blend with the learned model's logits where it ran (its probabilities squash the top), else the scores.
    base = found.logits[head] if found.logits is not None else found.scores[head]
    if np.isnan(base).any():
        base = found.scores[head]
    mixed = blend(base, logits, config.cross_weight)
    found.order = np.concatenate([head[np.argsort(-mixed, kind="stable")], order[len(head) :]])
    found.scores = reranked_scores(found.scores, head, order[len(head) :], mixed)


def reranked_scores(scores: np.ndarray, head: np.ndarray, tail: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Scores that follow the learned order, so a hit's ``score`` never contradicts its place.

    The re-ranked ``head`` gets the model's probability that it is evidence;
    the ``tail`` past the re-ranking depth keeps its order, scaled below the
    lowest probability.

    >>> s = reranked_scores(np.array([3.0, 2.0, 1.0, 0.5]), np.array([0, 1]), np.array([2, 3]), np.array([-1.0, 1.0]))
    >>> s.round(3).tolist()
    [0.269, 0.731, 0.269, 0.134]
    """
    out = scores.astype(np.float64, copy=True)
    probability = 1.0 / (1.0 + np.exp(-np.clip(logits, -30.0, 30.0)))
    out[head] = probability
    if len(tail):
        top = float(out[tail].max())
        out[tail] = probability.min() * (np.clip(out[tail], 0.0, None) / top if top > 0 else 0.0)
    return out


def _within(links: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Layout rows (or -1) as positions in the sorted ``near``; -1 where the row is not in it."""
    at = np.minimum(np.searchsorted(near, links), len(near) - 1)
    return np.where((links >= 0) & (near[at] == links), at, -1)
