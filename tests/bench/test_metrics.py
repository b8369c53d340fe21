"""Hand-computed cases for hippodex.bench.metrics (definitions: shared/data/README.md)."""

from __future__ import annotations

import math
import random

import pytest

from hippodex.bench.metrics import (
    Summary,
    aggregate,
    all_at_k,
    evidence_recall,
    hit_at_k,
    mean,
    ndcg_any,
    recall_all,
    recall_any,
    session_metrics_from_turns,
    summarize,
    turns_to_sessions,
)


def strip_turn(turn_id: str) -> str:
    return turn_id.rsplit("_", 1)[0]


def locomo_session(dia_id: str) -> str:
    return "S" + dia_id[1:].split(":")[0]


# ------------------------------------------------------------------ LoCoMo recall

RANKED = ["a", "b", "c", "d"]


def test_evidence_recall_fraction_of_gold_in_top_k() -> None:
    # gold {b, d, x}; top-2 = {a, b} holds b -> 1/3
    assert evidence_recall(RANKED, {"b", "d", "x"}, 2) == pytest.approx(1 / 3)
    # top-4 = {a, b, c, d} holds b, d -> 2/3
    assert evidence_recall(RANKED, {"b", "d", "x"}, 4) == pytest.approx(2 / 3)
    # k = 10 > 4 retrieved: scored on the 4 that exist -> still 2/3
    assert evidence_recall(RANKED, {"b", "d", "x"}, 10) == pytest.approx(2 / 3)
    # top-1 = {a}: nothing -> 0
    assert evidence_recall(RANKED, {"b", "d", "x"}, 1) == 0.0


def test_evidence_recall_counts_gold_entries_like_the_official_list() -> None:
    # official: sum(ev in ctx for ev in evidence) / len(evidence) over the list as written
    # evidence [D1:1, D1:1, D2:2], retrieved [D1:1] -> 2 of 3 entries found
    assert evidence_recall(["D1:1"], ["D1:1", "D1:1", "D2:2"], 5) == pytest.approx(2 / 3)


def test_evidence_recall_empty_gold_is_official_one() -> None:
    # the official code appends 1 when evidence is empty
    assert evidence_recall(RANKED, set(), 5) == 1.0


def test_evidence_recall_session_level_via_unit_of() -> None:
    # sessions retrieved: top-1 = {S2}; D2:1 and D2:7 are in S2, D3:1 is not -> 2/3
    gold = ["D2:1", "D2:7", "D3:1"]
    assert evidence_recall(["S2", "S3"], gold, 1, unit_of=locomo_session) == pytest.approx(2 / 3)
    # top-2 = {S2, S3} -> 3/3
    assert evidence_recall(["S2", "S3"], gold, 2, unit_of=locomo_session) == 1.0


def test_hit_and_all_at_k() -> None:
    gold = {"b", "d"}
    # top-2 {a, b}: one of two -> hit 1, all 0
    assert hit_at_k(RANKED, gold, 2) == 1.0
    assert all_at_k(RANKED, gold, 2) == 0.0
    # top-4 holds both -> hit 1, all 1
    assert all_at_k(RANKED, gold, 4) == 1.0
    # top-1 {a}: none -> hit 0
    assert hit_at_k(RANKED, gold, 1) == 0.0
    # empty gold: any([]) = False, all([]) = True
    assert hit_at_k(RANKED, set(), 3) == 0.0
    assert all_at_k(RANKED, set(), 3) == 1.0
    # session-level: top-1 {S2} covers D2:1 but not D3:1
    assert hit_at_k(["S2"], ["D2:1", "D3:1"], 1, unit_of=locomo_session) == 1.0
    assert all_at_k(["S2"], ["D2:1", "D3:1"], 1, unit_of=locomo_session) == 0.0


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        evidence_recall(RANKED, {"a"}, 0)
    with pytest.raises(ValueError):
        ndcg_any(RANKED, {"a"}, 0)
    with pytest.raises(ValueError):
        turns_to_sessions(["x_1"], 0, strip_turn)


# ------------------------------------------------------------ LongMemEval recall


def test_recall_any_and_all() -> None:
    gold = {"b", "x"}
    # top-3 {a, b, c}: b found, x missing -> any 1, all 0
    assert recall_any(RANKED, gold, 3) == 1.0
    assert recall_all(RANKED, gold, 3) == 0.0
    # top-1 {a} -> any 0
    assert recall_any(RANKED, gold, 1) == 0.0
    # k larger than the list: all of a..d -> {b, c} both found
    assert recall_all(RANKED, {"b", "c"}, 50) == 1.0


def test_recall_empty_gold() -> None:
    # README: G empty -> recall_any 0, recall_all 1 (Python all([]))
    assert recall_any(RANKED, set(), 5) == 0.0
    assert recall_all(RANKED, set(), 5) == 1.0


# ---------------------------------------------------------------------- NDCG


def test_ndcg_ranks_one_and_two_weigh_the_same() -> None:
    # DCG = rel_1 + rel_2/log2(2) = 0 + 1/1 = 1; IDCG (one gold) = 1 -> 1.0
    assert ndcg_any(["x", "g"], {"g"}, 2) == pytest.approx(1.0)
    # gold at rank 1: DCG = 1 -> 1.0 as well
    assert ndcg_any(["g", "x"], {"g"}, 2) == pytest.approx(1.0)


def test_ndcg_rank_three() -> None:
    # DCG = 1/log2(3) = 0.63093; IDCG = 1 -> 0.63093
    assert ndcg_any(["x", "y", "g"], {"g"}, 3) == pytest.approx(1 / math.log2(3))
    # cut at k = 2: gold outside -> 0
    assert ndcg_any(["x", "y", "g"], {"g"}, 2) == 0.0


def test_ndcg_two_gold() -> None:
    # rels [1, 0, 1]: DCG = 1 + 0 + 1/log2(3) = 1.63093
    # IDCG = [1, 1]: 1 + 1/log2(2) = 2 -> 0.81546
    expected = (1 + 1 / math.log2(3)) / 2
    assert ndcg_any(["g1", "x", "g2"], {"g1", "g2"}, 3) == pytest.approx(expected)
    assert expected == pytest.approx(0.815465, abs=1e-6)


def test_ndcg_ideal_is_capped_at_k() -> None:
    # 3 gold, k = 2: IDCG = 1 + 1 = 2 (only 2 slots); DCG = 1 (g1 at rank 1) -> 0.5
    assert ndcg_any(["g1", "x"], {"g1", "g2", "g3"}, 2) == pytest.approx(0.5)


def test_ndcg_k_larger_than_list() -> None:
    # ranking of 2, k = 10; gold {g1, g2}, g2 not retrieved
    # DCG = 0 + 1/log2(2) = 1; IDCG = 1 + 1 = 2 -> 0.5
    assert ndcg_any(["x", "g1"], {"g1", "g2"}, 10) == pytest.approx(0.5)


def test_ndcg_empty_gold_is_zero() -> None:
    assert ndcg_any(RANKED, set(), 5) == 0.0


def test_ndcg_with_repeated_ids_and_n_relevant() -> None:
    # session list with duplicates [s1, s1, x], 2 relevant corpus entries (two gold turns)
    # DCG = 1 + 1/log2(2) = 2; IDCG = 1 + 1 = 2 -> 1.0
    assert ndcg_any(["s1", "s1", "x"], {"s1"}, 3, n_relevant=2) == pytest.approx(1.0)
    # [x, s1, s1] k = 3: DCG = 0 + 1 + 1/log2(3) = 1.63093; IDCG = 2 -> 0.81546
    assert ndcg_any(["x", "s1", "s1"], {"s1"}, 3, n_relevant=2) == pytest.approx((1 + 1 / math.log2(3)) / 2)


# ------------------------------------------------------------- turn2session

TURNS = ["A_1", "A_3", "B_1", "A_5", "C_2", "B_3"]  # sessions A A B A C B


def test_turns_to_sessions_cutoff_grows_and_keeps_duplicates() -> None:
    # k = 2: top-2 = A A (1 session) -> grow to 3: A A B (2 sessions)
    assert turns_to_sessions(TURNS, 2, strip_turn) == ["A", "A", "B"]
    # k = 3: A A B A C reaches 3 sessions at k' = 5
    assert turns_to_sessions(TURNS, 3, strip_turn) == ["A", "A", "B", "A", "C"]
    # k = 1: top-1 already covers 1 session
    assert turns_to_sessions(TURNS, 1, strip_turn) == ["A"]


def test_turns_to_sessions_list_ends() -> None:
    # only 3 sessions exist: k = 4 never reached -> the whole list
    assert turns_to_sessions(TURNS, 4, strip_turn) == ["A", "A", "B", "A", "C", "B"]
    # k larger than the list -> the whole list
    assert turns_to_sessions(TURNS, 50, strip_turn) == ["A", "A", "B", "A", "C", "B"]
    assert turns_to_sessions([], 5, strip_turn) == []


def test_turns_to_sessions_matches_definition_on_random_lists() -> None:
    # definition: smallest k' >= k whose top-k' covers k distinct sessions, else all
    rng = random.Random(7)
    for _ in range(500):
        n = rng.randint(0, 12)
        turns = [f"s{rng.randint(0, 4)}_{i}" for i in range(n)]
        k = rng.randint(1, 8)
        sessions = [strip_turn(t) for t in turns]
        expected = sessions
        for cut in range(k, n + 1):
            if len(set(sessions[:cut])) >= k:
                expected = sessions[:cut]
                break
        assert turns_to_sessions(turns, k, strip_turn) == expected


def test_session_metrics_from_turns() -> None:
    ranked = ["noans_x_3", "s1_1", "answer_x_1", "s1_3", "s2_1", "answer_y_5"]
    # sessions: noans_x s1 answer_x s1 s2 answer_y; noans_x is NOT gold
    gold_turns = {"answer_x_1", "answer_y_5", "answer_y_7"}  # G = {answer_x, answer_y}
    # k = 3: top-3 has 3 sessions -> k' = 3; rels [0, 0, 1]
    # DCG = 1/log2(3) = 0.63093; 3 gold turns -> IDCG = 1 + 1 + 1/log2(3) = 2.63093
    m3 = session_metrics_from_turns(ranked, gold_turns, 3, strip_turn)
    idcg3 = 2 + 1 / math.log2(3)
    assert m3["recall_any"] == 1.0
    assert m3["recall_all"] == 0.0  # answer_y not in the top 3
    assert m3["ndcg_any"] == pytest.approx((1 / math.log2(3)) / idcg3)
    # k = 5: 5 distinct sessions only at k' = 6 (s1 repeats) -> all six
    # rels [0, 0, 1, 0, 0, 1]: DCG = 1/log2(3) + 1/log2(6) = 0.63093 + 0.38685
    m5 = session_metrics_from_turns(ranked, gold_turns, 5, strip_turn)
    assert m5["recall_any"] == 1.0
    assert m5["recall_all"] == 1.0
    assert m5["ndcg_any"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(6)) / idcg3)


def test_session_metrics_from_turns_empty_gold() -> None:
    m = session_metrics_from_turns(["a_1", "b_1"], set(), 1, strip_turn)
    assert m == {"recall_any": 0.0, "recall_all": 1.0, "ndcg_any": 0.0}


def test_session_metrics_perfect_ranking() -> None:
    # gold turns first. k = 1: top-1 = [answer_x] covers 1 session -> k' = 1
    # DCG = 1; IDCG = DCG of min(2 gold turns, 1) ones = 1 -> 1.0
    ranked = ["answer_x_1", "answer_x_3", "f_1"]
    m = session_metrics_from_turns(ranked, {"answer_x_1", "answer_x_3"}, 1, strip_turn)
    assert m == {"recall_any": 1.0, "recall_all": 1.0, "ndcg_any": 1.0}
    # k = 2: 2 sessions at k' = 3; rels [1, 1, 0]: DCG = 2, IDCG = 2 -> 1.0
    m2 = session_metrics_from_turns(ranked, {"answer_x_1", "answer_x_3"}, 2, strip_turn)
    assert m2["ndcg_any"] == pytest.approx(1.0)


# ---------------------------------------------------------------- aggregation


def test_mean() -> None:
    assert mean([1.0, 0.0, 0.5]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        mean([])


def test_aggregate_per_category_and_all() -> None:
    rows = [
        ("1", {"r": 1.0, "n": 0.5}),
        ("1", {"r": 0.0, "n": 0.5}),
        ("2", {"r": 1.0}),
    ]
    out = aggregate(rows)
    assert list(out) == ["all", "1", "2"]
    # all: r = (1 + 0 + 1)/3 = 0.6667; n only on two rows = (0.5 + 0.5)/2 = 0.5
    assert out["all"]["r"] == pytest.approx(2 / 3)
    assert out["all"]["n"] == pytest.approx(0.5)
    assert out["1"] == {"r": 0.5, "n": 0.5}
    assert out["2"] == {"r": 1.0}
    summary = summarize(rows)
    assert summary["all"] == Summary(count=3, means=out["all"], counts={"r": 3, "n": 2})
    assert summary["1"].count == 2


def test_aggregate_rejects_reserved_category() -> None:
    with pytest.raises(ValueError):
        aggregate([("all", {"r": 1.0})])


def test_aggregate_empty() -> None:
    assert aggregate([]) == {"all": {}}
