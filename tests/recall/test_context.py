"""Contiguity, session and speaker stages, and the layout they read."""

from __future__ import annotations

import numpy as np
import pytest

from hippodex import Memory, RecallConfig
from hippodex.recall.context import named_speakers, speaker_boost, spread
from hippodex.store.base import build_layout


def _layout():  # type: ignore[no-untyped-def]
    # rowids 1..5: session a = turns 1, 2, 4 (seq 0, 1, 2); session b = turns 3, 5
    rows = [
        (1, "a", 0, 1.0, "user", "Ana"),
        (2, "a", 1, 2.0, "assistant", None),
        (3, "b", 0, 3.0, "user", "Bo"),
        (4, "a", 2, 4.0, "user", "Ana"),
        (5, "b", 1, 5.0, "user", "Bo"),
    ]
    return build_layout(rows)


def test_layout_links_turns_of_a_session_in_order() -> None:
    layout = _layout()
    assert layout.sessions == ("a", "b") and layout.speakers == ("Ana", "Bo")
    assert layout.prev.tolist() == [-1, 0, -1, 1, 2]
    assert layout.next.tolist() == [1, 3, 4, -1, -1]
    assert layout.rows([4, 1]).tolist() == [3, 0]
    # rows of chosen sessions, each in order, without a pass over the whole layout
    assert layout.session_rows(np.array([1, 0])).tolist() == [2, 4, 0, 1, 3]
    assert layout.session_rows(np.array([], dtype=np.int64)).tolist() == []
    assert build_layout([]).session_start.tolist() == [0]


def test_spread_passes_score_to_neighbours_and_adds_session_best() -> None:
    layout = _layout()
    rows, scores, boost = spread(np.array([1]), np.array([1.0]), layout, neighbour=0.5, session=0.0)
    # turn 2 (row 1) scored 1: rows 0 and 3 (turns 1 and 4) get 0.5 each
    assert dict(zip(rows.tolist(), scores.tolist(), strict=True)) == {0: 0.5, 1: 1.0, 3: 0.5}
    assert dict(zip(rows.tolist(), boost.tolist(), strict=True)) == {0: 0.5, 1: 0.0, 3: 0.5}
    rows, scores, _ = spread(np.array([0, 2]), np.array([1.0, 0.4]), layout, neighbour=0.0, session=0.5)
    # each gains half the best score of its own session
    assert dict(zip(rows.tolist(), scores.tolist(), strict=True)) == pytest.approx({0: 1.5, 2: 0.6})


def test_spread_adds_up_what_two_candidates_pass_to_one_turn() -> None:
    # turns 1 and 4 (rows 0 and 3, given out of order) both border turn 2 (row 1)
    rows, scores, boost = spread(np.array([3, 0]), np.array([0.4, 1.0]), _layout(), neighbour=0.5, session=0.0)
    assert rows.tolist() == [0, 1, 3]  # in layout order, whatever order the candidates came in
    assert scores.tolist() == pytest.approx([1.0, 0.7, 0.4])
    assert boost.tolist() == pytest.approx([0.0, 0.7, 0.0])


def test_speaker_boost_only_when_one_speaker_is_named() -> None:
    layout = _layout()
    rows, scores = np.array([0, 2]), np.array([1.0, 1.0])
    assert named_speakers("What did Ana say?", layout.speakers) == [0]
    assert speaker_boost(rows, scores, layout, [0], 0.5).tolist() == [1.5, 1.0]
    assert speaker_boost(rows, scores, layout, [0, 1], 0.5).tolist() == [1.0, 1.0]
    assert named_speakers("what did anyone say", layout.speakers) == []


def test_neighbour_stage_brings_in_the_answer_after_a_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = RecallConfig(neighbour=0.5)
    with Memory(tmp_path / "m.db", encoder=None, config=config) as m:
        m.add(
            [
                {"role": "user", "content": "which hiking boots should I buy?"},
                {"role": "assistant", "content": "Get the Salomon X Ultra, size 43."},
            ],
            user_id="u",
            session_id="s",
        )
        m.add("unrelated chatter about the weather", user_id="u", session_id="t")
        hits = m.search("hiking boots", user_id="u", k=5)
        assert [h.episode.content for h in hits][:2] == [
            "which hiking boots should I buy?",
            "Get the Salomon X Ultra, size 43.",
        ]
        assert set(hits[1].channels) == {"context"}
        # filters still hold for turns pulled in as neighbours
        assert all(h.episode.role == "user" for h in m.search("hiking boots", user_id="u", role="user"))


def test_temporal_stage_prefers_the_asked_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Memory(tmp_path / "m.db", encoder=None, config=RecallConfig(temporal=1.0)) as m:
        m.add("went to the cinema", user_id="u", timestamp="2023-05-27T20:00")
        m.add("went to the cinema", user_id="u", timestamp="2023-03-11T20:00")
        hits = m.search("cinema last Saturday", user_id="u", now="2023-05-30T12:00")
        assert hits[0].episode.occurred_at.day == 27 and hits[0].score > hits[1].score
