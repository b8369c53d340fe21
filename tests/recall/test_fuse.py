"""Fusion: hand-computed RRF and score fusion."""

from __future__ import annotations

import pytest

from hippodex.config import RecallConfig
from hippodex.recall.engine import fuse
from hippodex.recall.fuse import reciprocal_rank_fusion, score_fusion
from hippodex.recall.query import ChannelHit as H


def test_rrf_matches_hand_computation() -> None:
    rankings = {"lexical": [H(1, 9.0), H(2, 5.0)], "dense": [H(2, 0.9), H(3, 0.8)]}
    fused = reciprocal_rank_fusion(rankings, {"lexical": 1.0, "dense": 0.5}, k=60)
    # doc 1: 1/61; doc 2: 1/62 + 0.5/61; doc 3: 0.5/62
    assert fused[1] == pytest.approx(1 / 61)
    assert fused[2] == pytest.approx(1 / 62 + 0.5 / 61)
    assert fused[3] == pytest.approx(0.5 / 62)


def test_score_fusion_max_normalises_each_channel() -> None:
    rankings = {"lexical": [H(1, 10.0), H(2, 5.0)], "dense": [H(2, 0.8), H(3, 0.4)]}
    fused = score_fusion(rankings, {"lexical": 0.5, "dense": 0.5})
    # doc 1: .5*1; doc 2: .5*.5 + .5*1; doc 3: .5*.5
    assert fused == pytest.approx({1: 0.5, 2: 0.75, 3: 0.25})


def test_score_fusion_keeps_candidates_with_no_positive_score_in_channel_order() -> None:
    fused = score_fusion({"dense": [H(1, -0.1), H(2, -0.3)], "lexical": []}, {})
    assert sorted(fused, key=lambda r: -fused[r]) == [1, 2]
    assert max(fused.values()) < 1e-6


def test_fuse_orders_and_keeps_per_channel_ranks() -> None:
    rankings = {"lexical": [H(7, 3.0), H(8, 2.0)], "dense": [H(8, 0.5)]}
    ranked = fuse(rankings, RecallConfig(fusion="rrf"))
    assert [r.rowid for r in ranked] == [8, 7]
    assert ranked[0].channels["lexical"].rank == 2 and ranked[0].channels["dense"].rank == 1
    assert "dense" not in ranked[1].channels


def test_ties_break_by_key_for_stable_results() -> None:
    ranked = fuse({"lexical": [H(5, 1.0)], "dense": [H(4, 1.0)]}, RecallConfig(fusion="rrf"))
    assert [r.rowid for r in ranked] == [4, 5]


def test_score_fusion_completes_scores_across_channels(memory) -> None:  # type: ignore[no-untyped-def]
    """A candidate one channel found is judged on the other channel's real score too."""
    from hippodex.recall.channels.dense import DenseChannel
    from hippodex.recall.channels.lexical import LexicalChannel
    from hippodex.recall.engine import recall
    from hippodex.recall.query import Query

    memory.add(["my dog Pepper loves the beach", "dog food prices went up", "a cat sleeps"], user_id="u")
    enc = memory.encoder
    q = Query("dog beach", "u", now=__import__("datetime").datetime.now(), embed=lambda s: enc.encode([s])[0])
    lex, dense = LexicalChannel(memory.store), DenseChannel(memory.store, enc.name)
    ranked = recall(q, [lex, dense], RecallConfig(depth=1), k=3)
    # depth 1: each channel returns one hit, yet each fused hit has both channels' scores
    assert all(set(r.channels) == {"lexical", "dense"} for r in ranked if "lexical" in r.channels)
    rescored = dense.rescore(q, [r.rowid for r in ranked])
    assert all(r.channels["dense"].score == pytest.approx(rescored[r.rowid]) for r in ranked)
    assert lex.rescore(q, []) == {}
