"""The learned fusion stage: features, the model file, the fit, and its place in search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hippodex import ConfigError, Memory, RecallConfig
from hippodex.bench.datasets import BenchQuestion
from hippodex.bench.fit import fit_logistic, fit_ranker, fit_regimes, reranked
from hippodex.bench.runner import Sample
from hippodex.recall.cues import stored_reading
from hippodex.recall.learned import (
    FEATURES,
    LinearRanker,
    Ranker,
    Signals,
    asks_assistant,
    features,
    load_ranker,
    regime,
)
from hippodex.store.base import build_layout

COL = {name: i for i, name in enumerate(FEATURES)}


def _layout():  # type: ignore[no-untyped-def]
    # session a: turns 1, 2, 3 (Ana, assistant, Ana); session b: turns 4, 5 (Bo, Bo)
    return build_layout(
        [
            (1, "a", 0, 10.0, "user", "Ana"),
            (2, "a", 1, 20.0, "assistant", None),
            (3, "a", 2, 30.0, "user", "Ana"),
            (4, "b", 0, 40.0, "user", "Bo"),
            (5, "b", 1, 50.0, "user", "Bo"),
        ]
    )


def _signals(**over):  # type: ignore[no-untyped-def]
    layout = _layout()
    base = dict(
        rows=np.array([2, 3]),
        context=np.array([2.0, 1.0]),
        fused=np.array([1.0, 0.0]),
        graph=np.array([0.0, 0.5]),
        lexical=np.array([4.0, 0.0, 2.0, 0.0, 0.0]),
        dense=np.array([0.9, 0.1, 0.5, 0.3, np.nan]),
        session_score=np.array([1.0, 0.5]),
        session_lexical=np.array([3.0, 0.0]),
        session_dense=np.array([0.9, 0.3]),
        speaker=layout.speaker,
        role=layout.role,
        session=layout.session,
        prev=layout.prev,
        next=layout.next,
    )
    base.update(over)
    return Signals(**base)  # type: ignore[arg-type]


def test_features_read_scores_neighbours_and_sessions() -> None:
    X = features(_signals())
    assert X.shape == (2, len(FEATURES))
    # candidate rows 2 (turn 3, session a) and 3 (turn 4, session b)
    assert X[:, COL["context"]].tolist() == [1.0, 0.5]
    assert X[:, COL["context_rank"]].tolist() == [0.0, pytest.approx(np.log(2))]
    assert X[:, COL["lexical"]].tolist() == [1.0, 0.0]  # over the best candidate's BM25 (2.0)
    assert X[:, COL["lexical_hit"]].tolist() == [1.0, 0.0]
    assert X[:, COL["dense"]].tolist() == [0.5, 0.3]
    assert X[:, COL["dense_gap"]].tolist() == [0.0, pytest.approx(-0.2)]
    assert X[:, COL["part_dense"]].tolist() == [0.5, 0.3]  # no sentence vectors: the turn's own cosine
    # turn 3's neighbour is turn 2 (BM25 0, cosine 0.1); turn 4's is turn 5 (no vector: cosine 0)
    assert X[:, COL["neighbour_lexical"]].tolist() == [0.0, 0.0]
    assert X[:, COL["neighbour_dense"]].tolist() == [pytest.approx(-0.4), pytest.approx(-0.5)]
    assert X[:, COL["session"]].tolist() == [1.0, 0.5]
    assert X[:, COL["session_lexical"]].tolist() == [1.0, 0.0]
    assert X[:, COL["session_dense"]].tolist() == [pytest.approx(0.4), pytest.approx(-0.2)]
    # nothing said about speakers, time or text: those columns stay 0
    for name in ("speaker_named", "speaker_other", "in_window", "order", "question", "length", "coverage", "discloses"):
        assert X[:, COL[name]].tolist() == [0.0, 0.0], name


def test_part_dense_is_the_best_of_the_turn_and_its_sentences() -> None:
    # turn 3 has a sentence closer to the query than the whole turn; turn 4's sentences are farther
    X = features(_signals(parts=np.array([0.8, 0.2])))
    assert X[:, COL["part_dense"]].tolist() == [0.8, 0.3]
    assert X[:, COL["dense"]].tolist() == [0.5, 0.3]


def test_features_for_speaker_time_role_and_text() -> None:
    X = features(
        _signals(
            rows=np.array([0, 1, 3]),
            context=np.array([3.0, 2.0, 1.0]),
            fused=np.array([1.0, 1.0, 1.0]),
            graph=np.zeros(3),
            named_speakers=[0],  # Ana
            window=np.array([1.0, 0.5, 0.0]),
            order=np.array([0.0, 0.25, 1.0]),
            asks_assistant=True,
            texts=["Where were we?", "It is? Yes.", "one two three"],
        )
    )
    assert X[:, COL["speaker_named"]].tolist() == [1.0, 0.0, 0.0]
    assert X[:, COL["speaker_other"]].tolist() == [0.0, 1.0, 1.0]
    assert X[:, COL["in_window"]].tolist() == [1.0, 0.5, 0.0]
    assert X[:, COL["outside_window"]].tolist() == [0.0, 0.0, 1.0]
    assert X[:, COL["order"]].tolist() == [0.0, 0.25, 1.0]
    assert X[:, COL["assistant"]].tolist() == [0.0, 1.0, 0.0]
    assert X[:, COL["assistant_asked"]].tolist() == [0.0, 1.0, 0.0]
    assert X[:, COL["question"]].tolist() == [1.0, 0.0, 0.0]
    assert X[:, COL["asks"]].tolist() == [1.0, 1.0, 0.0]
    assert X[:, COL["length"]].tolist() == pytest.approx(np.log1p([3, 3, 3]).tolist())


@pytest.mark.parametrize(
    ("query", "coverage", "number_asked", "name_asked"),
    [
        # asked: guitar, ana ("how", "many", "does", "own" are stopwords)
        ("How many guitars does Ana own?", [1 / 2, 0.0, 1 / 2], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]),
        # asked: guitar, ana, play
        ("Which guitar does Ana play?", [1 / 3, 0.0, 2 / 3], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
    ],
)
def test_features_from_the_words_of_query_and_turn(
    query: str, coverage: list[float], number_asked: list[float], name_asked: list[float]
) -> None:
    # rows 0 (Ana), 3 (Bo), 2 (Ana)
    X = features(
        _signals(
            rows=np.array([0, 3, 2]),
            context=np.array([3.0, 2.0, 1.0]),
            fused=np.ones(3),
            graph=np.zeros(3),
            texts=["I bought two guitars", "Bo here: my Fender is red", "Ana plays 3 chords"],
            query=query,
            speaker_names=("Ana", "Bo"),
        )
    )
    assert X[:, COL["coverage"]].tolist() == pytest.approx(coverage)
    assert X[:, COL["first_person"]].tolist() == pytest.approx([0.25, 1 / 6, 0.0])
    assert X[:, COL["discloses"]].tolist() == [1.0, 0.0, 0.0]
    assert X[:, COL["number_asked"]].tolist() == number_asked
    # "Fender" is new; "Ana" is named by the question and speaks the third turn
    assert X[:, COL["name_asked"]].tolist() == name_asked


def test_features_are_the_same_over_a_smaller_universe_of_rows() -> None:
    """The search passes arrays over the candidates' sessions only, with rows and links re-indexed."""
    from hippodex.recall.engine import _within

    whole = _signals()
    near = np.array([1, 2, 3, 4])  # session a's turn 2 onwards: turn 1 (row 0) is left out
    local = _signals(
        rows=np.searchsorted(near, whole.rows),
        lexical=whole.lexical[near],
        dense=whole.dense[near],
        speaker=whole.speaker[near],
        role=whole.role[near],
        session=whole.session[near],
        prev=_within(whole.prev[near], near),
        next=_within(whole.next[near], near),
    )
    assert local.prev.tolist() == [-1, 0, -1, 2]  # row 1's previous turn (row 0) is outside: -1
    np.testing.assert_array_equal(features(local), features(whole))


def test_no_candidates_give_an_empty_matrix() -> None:
    assert features(_signals(rows=np.array([], dtype=np.int64), context=np.array([]))).shape == (0, len(FEATURES))


@pytest.mark.parametrize(
    ("speakers", "expected"),
    [
        (("Caroline", "Melanie"), "dialogue"),
        (("user",), "chat"),
        (("user", "assistant"), "chat"),
        (("Ana", "assistant"), "chat"),
        (("Ana", "Bo", "user"), "dialogue"),
        ((), "chat"),
    ],
)
def test_regime_is_dialogue_only_between_named_people(speakers: tuple[str, ...], expected: str) -> None:
    assert regime(speakers) == expected


def test_asks_assistant() -> None:
    assert asks_assistant("Can you remind me which book you recommended?")
    assert asks_assistant("What was the third item on the list you gave me?")
    assert not asks_assistant("What did I buy for my sister?")


def _ranker_on(feature: str, sign: float = 1.0) -> LinearRanker:
    coef = np.zeros(len(FEATURES))
    coef[COL[feature]] = sign
    return LinearRanker(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), coef, 0.0)


def test_ranker_file_round_trips_and_refuses_bad_files(tmp_path: Path) -> None:
    ranker = Ranker({"dialogue": _ranker_on("length"), "chat": None}, {"note": "test"})
    data = ranker.to_json()
    back = Ranker.from_json(json.loads(json.dumps(data)))
    assert back.models["chat"] is None and back.meta == {"note": "test"}
    assert np.array_equal(back.models["dialogue"].coef, ranker.models["dialogue"].coef)  # type: ignore[union-attr]
    every = ("lexical", "dense", "graph")
    assert back.model_for(("Ana", "Bo"), every) is not None and back.model_for(("user",), every) is None
    assert back.model_for(("Ana", "Bo"), ("lexical",)) is None  # fitted on other channels
    with pytest.raises(ConfigError, match="not a ranker file"):
        Ranker.from_json({"models": {}})
    with pytest.raises(ConfigError, match="unknown regimes"):
        Ranker.from_json({**data, "models": {"monologue": None}})
    wrong = json.loads(json.dumps(data))
    wrong["models"]["dialogue"]["features"] = ["context"]
    with pytest.raises(ConfigError, match="fitted on features"):
        Ranker.from_json(wrong)
    short = json.loads(json.dumps(data))
    short["models"]["dialogue"]["coef"] = [1.0]
    with pytest.raises(ConfigError, match="must each hold"):
        Ranker.from_json(short)
    with pytest.raises(ConfigError, match="cannot read"):
        load_ranker(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_ranker(str(tmp_path / "bad.json"))


def test_a_memory_without_token_vectors_gets_the_model_fitted_without_them() -> None:
    sighted, blind = _ranker_on("late"), _ranker_on("length")
    every = ("lexical", "dense", "graph")
    ranker = Ranker.from_json(Ranker({"dialogue": sighted, "dialogue/no-late": blind, "chat": sighted}).to_json())

    def leans_on(model: LinearRanker | None) -> str:
        assert model is not None
        return FEATURES[int(np.argmax(model.coef))]

    assert leans_on(ranker.model_for(("Ana", "Bo"), every)) == "late"
    assert leans_on(ranker.model_for(("Ana", "Bo"), every, late=False)) == "length"
    assert leans_on(ranker.model_for(("user",), every, late=False)) == "late"  # none fitted without: its own


def test_the_shipped_ranker_loads() -> None:
    ranker = load_ranker("default")
    assert set(ranker.models) == {"dialogue", "chat", "dialogue/no-late", "chat/no-late"}
    assert any(m is not None for m in ranker.models.values())
    assert ranker.meta["folds"] >= 2 and "cross_validated" in ranker.meta


def test_config_refuses_a_bad_ranker_setting() -> None:
    with pytest.raises(ConfigError, match="ranker"):
        RecallConfig(ranker="  ")
    with pytest.raises(ConfigError, match="rerank_depth"):
        RecallConfig(rerank_depth=1)


def test_fit_logistic_finds_the_separating_direction() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 1] - 0.5 * X[:, 2] > 0).astype(float)
    coef, _ = fit_logistic(X, y, np.ones(len(y)), l2=0.1)
    assert coef[1] > 1.0 and coef[2] < -0.3 and abs(coef[0]) < 0.5


def _sample(group: str, X: np.ndarray, gold: list[str], regime_name: str = "dialogue") -> Sample:
    head = [f"t{i}" for i in range(len(X))]
    q = BenchQuestion(group, "q", "4", None, frozenset(gold), frozenset(), False, "")
    return Sample("locomo", group, q, head, X, head, frozenset(), regime_name)


def test_fit_ranker_learns_which_signal_marks_the_evidence() -> None:
    rng = np.random.default_rng(1)
    samples = []
    for g in range(30):
        X = rng.normal(size=(20, len(FEATURES)))
        best = int(rng.integers(20))
        X[best, COL["neighbour_dense"]] += 4.0  # the evidence stands out on one signal
        samples.append(_sample(f"c{g}", X, [f"t{best}"]))
    model = fit_ranker(samples)
    assert int(np.argmax(model.coef)) == COL["neighbour_dense"]
    hits = sum(reranked(s, model)[0] in s.question.gold_turns for s in samples)
    assert hits >= 28
    ranker = fit_regimes(samples)
    assert ranker.models["chat"] is None and ranker.models["dialogue"] is not None


def test_reranked_keeps_the_tail_and_hand_order_without_model() -> None:
    s = _sample("c", np.eye(3, len(FEATURES)), ["t2"])
    s = Sample(s.benchmark, s.group, s.question, s.head, s.X, ["t0", "t1", "t2", "t3", "t4"], frozenset(), "dialogue")
    assert reranked(s, None) == ["t0", "t1", "t2", "t3", "t4"]
    model = _ranker_on("context_rank")  # column 1: t1 first
    assert reranked(s, model) == ["t1", "t0", "t2", "t3", "t4"]


def _dialogue(memory: Memory) -> None:
    memory.add(
        [
            {"role": "user", "speaker": "Ana", "content": "Did you go hiking at the lake?"},
            {"role": "user", "speaker": "Bo", "content": "Yes, the lake hike was long and we saw two herons there."},
            {"role": "user", "speaker": "Ana", "content": "Lake?"},
        ],
        user_id="u",
        session_id="s1",
    )


def test_search_uses_the_ranker_file_it_is_given(tmp_path: Path) -> None:
    path = tmp_path / "ranker.json"
    # fitted (here: made) for the channels a memory without an encoder searches
    path.write_text(
        json.dumps(Ranker({"dialogue": _ranker_on("length"), "chat": None}, {}, ("lexical", "graph")).to_json())
    )
    with Memory(tmp_path / "a.db", encoder=None, config=RecallConfig(ranker=None)) as plain:
        _dialogue(plain)
        hand = [h.episode.content for h in plain.search("lake", user_id="u", k=3)]
    with Memory(tmp_path / "b.db", encoder=None, config=RecallConfig(ranker=str(path))) as learned:
        _dialogue(learned)
        hits = learned.search("lake", user_id="u", k=3)
        assert "learned" in learned.last_timings.stages
    # the model here only likes long turns: the longest comes first, whatever BM25 said
    assert hits[0].episode.content.startswith("Yes, the lake hike")
    assert sorted(h.episode.content for h in hits) == sorted(hand)
    assert hand[0] == "Lake?"  # BM25 alone put the shortest match first


def test_record_features_keeps_the_candidates_matrix(tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", encoder=None, config=RecallConfig(ranker=None)) as memory:
        _dialogue(memory)
        memory.record_features = True
        memory.search("lake", user_id="u", k=3)
        assert memory.last_timings.features is not None
        rowids, X = memory.last_timings.features
        assert X.shape == (len(rowids), len(FEATURES)) and len(rowids) == 3


def test_the_shipped_model_runs_on_every_backend(memory: Memory) -> None:
    _dialogue(memory)
    memory.add("Lake day with Bo", user_id="other")
    hits = memory.search("Who saw herons at the lake?", user_id="u", k=3)
    assert "learned" in memory.last_timings.stages  # dialogue between Ana and Bo, all channels: the model ran
    assert hits[0].episode.content.startswith("Yes, the lake hike")
    rowids = [r for r in memory.store.layout("u").rowids.tolist()]
    texts = memory.store.texts("u", rowids)
    assert sorted(t.content for t in texts.values()) == sorted(h.episode.content for h in hits)
    assert all(t.cues == stored_reading(t.content) for t in texts.values())  # read as they were written
    assert memory.store.texts("other", rowids) == {}  # another user's keys read nothing


def test_a_lone_candidate_gets_the_learned_probability_too(memory: Memory) -> None:
    # A hit's score is one kind of number whatever the number of candidates: the model's
    # probability, not the fused score (which runs past 1) when only one turn matched.
    memory.add("My cat is called Miso", user_id="lone")
    (hit,) = memory.search("what is my cat called?", user_id="lone", now="2030-01-01")
    assert "learned" in memory.last_timings.stages
    assert 0.0 < hit.score < 1.0
    memory.add("I walked the dog in the park", user_id="lone")
    first = memory.search("what is my cat called?", user_id="lone", now="2030-01-01")[0]
    assert first.episode.content == "My cat is called Miso" and 0.0 < first.score < 1.0
