"""Sentence parts: how turns are split, how their vectors are kept on both
backends, and that search reads them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory, RecallConfig
from hippodex.encode.base import Encoder
from hippodex.recall.learned import FEATURES
from hippodex.recall.parts import READ_CHARS, best_part_cosine, embed_parts, split_parts
from hippodex.store.sqlite_schema import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION

SMOKER = (
    "I'm looking for some new BBQ sauce recipes to try out. I've been experimenting with making my own. "
    "By the way, I just got a smoker today and I'm excited to use it."
)


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        ("I moved to Lisbon. The trams are yellow!", ["I moved to Lisbon.", "The trams are yellow!"]),
        ("Is it far from here? I hope not.", ["Is it far from here?", "I hope not."]),
        ("One sentence, so the turn's own vector covers it.", []),
        ("Thanks! That was really helpful to me.", []),  # "Thanks!" is under three words: one part left
        ("first line of a list\nsecond line of a list", ["first line of a list", "second line of a list"]),
        # A naive boundary: "Dr." ends a sentence, and alone it is too short to keep.
        ("Dr. Smith said so. Then we left early.", ["Smith said so.", "Then we left early."]),
        ("", []),
    ],
)
def test_split_parts(content: str, parts: list[str]) -> None:
    assert split_parts(content) == parts


def test_only_the_first_characters_are_split() -> None:
    sentence = "This is one sentence of a long pasted document. "
    parts = split_parts(sentence * 200)
    assert 2 <= len(parts) <= READ_CHARS // len(sentence) + 1
    assert sum(len(p) + 1 for p in parts) <= READ_CHARS + 1


def test_best_part_cosine_keeps_the_whole_turn_without_parts() -> None:
    query = np.array([0.0, 1.0])
    parts = {1: np.array([[0.6, 0.8], [1.0, 0.0]]), 2: np.array([[1.0, 0.0]])}
    best = best_part_cosine(query, np.array([0.5, 0.7, 0.1]), [1, 2, 3], parts)
    assert best.tolist() == pytest.approx([0.8, 0.7, 0.1])


def test_embed_parts_embeds_each_distinct_sentence_once() -> None:
    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[float(len(t)), 1.0] for t in texts])

    got = embed_parts(["I moved to Lisbon. I love the river.", "Hi", "I love the river. I moved to Lisbon."], encode)
    assert calls == [["I moved to Lisbon.", "I love the river."]]
    assert got[1] is None
    assert got[0] is not None and got[2] is not None
    assert got[0].tolist() == got[2][::-1].tolist() == [[18.0, 1.0], [17.0, 1.0]]
    assert embed_parts(["Hi", "One sentence only here."], encode) == [None, None] and len(calls) == 1


def _rowids(m: Memory, user: str) -> dict[str, int]:
    layout = m.store.layout(user)
    return {t.content: r for r, t in m.store.texts(user, layout.rowids.tolist()).items()}


def test_add_keeps_a_vector_for_each_sentence(memory: Memory, encoder: Encoder) -> None:
    memory.add([SMOKER, "A single sentence turn about tea."], user_id="ana", session_id="s1")
    rowids = _rowids(memory, "ana")
    stored = memory.store.part_vectors("ana", encoder.name, list(rowids.values()))
    assert set(stored) == {rowids[SMOKER]}  # the one-sentence turn has no parts
    expected = encoder.encode(split_parts(SMOKER))
    got = stored[rowids[SMOKER]]
    assert got.shape == expected.shape == (3, encoder.dim)
    cosines = (got * expected).sum(axis=1) / np.linalg.norm(got, axis=1)
    assert cosines.min() > 0.99  # int8 codes: close to the float vectors
    assert memory.store.part_vectors("ana", "another-encoder", list(rowids.values())) == {}


def test_import_keeps_them_too(memory: Memory, encoder: Encoder) -> None:
    record = {"user_id": "bo", "session_id": "s", "role": "user", "content": SMOKER, "occurred_at": "2023-05-08"}
    memory.import_episodes([(1, record)])
    rowid = _rowids(memory, "bo")[SMOKER]
    assert len(memory.store.part_vectors("bo", encoder.name, [rowid])[rowid]) == 3


def test_delete_erase_and_reindex(memory: Memory, encoder: Encoder) -> None:
    memory.add([SMOKER, "I moved to Lisbon. The trams are yellow there."], user_id="ana", session_id="s1")
    rowids = _rowids(memory, "ana")
    smoker = rowids[SMOKER]
    # A file from before sentence vectors has none: reindex fills them in.
    memory.store.put_parts("ana", encoder.name, {r: np.zeros((0, encoder.dim)) for r in rowids.values()})
    assert memory.store.part_vectors("ana", encoder.name, list(rowids.values())) == {}
    assert memory.reindex() == 2
    assert {r: len(v) for r, v in memory.store.part_vectors("ana", encoder.name, list(rowids.values())).items()} == {
        smoker: 3,
        rowids["I moved to Lisbon. The trams are yellow there."]: 2,
    }
    episode = memory.store.by_rowids("ana", [smoker])[smoker]
    memory.delete(episode.id, user_id="ana")
    assert set(memory.store.part_vectors("ana", encoder.name, list(rowids.values()))) == {
        rowids["I moved to Lisbon. The trams are yellow there."]
    }
    memory.erase(user_id="ana")
    assert memory.store.part_vectors("ana", encoder.name, list(rowids.values())) == {}


def test_search_reads_the_best_sentence(memory: Memory) -> None:
    """The learned stage sees a sentence said in passing: part_dense beats the turn's own cosine."""
    memory.add(
        [SMOKER, "What sauces go with pulled pork?", "I prefer vinegar-based ones. Mustard is fine too."],
        user_id="ana",
        session_id="s1",
    )
    memory.record_features = True
    memory.search("What kitchen appliance did I buy?", user_id="ana")
    features = memory.last_timings.features
    assert features is not None
    rowids, X = features
    col = {n: i for i, n in enumerate(FEATURES)}
    at = rowids.tolist().index(_rowids(memory, "ana")[SMOKER])
    assert X[at, col["part_dense"]] > X[at, col["dense"]] + 0.05


def test_sentence_vectors_can_be_switched_off(tmp_path: Path, encoder: Encoder) -> None:
    with Memory(tmp_path / "m.db", encoder=encoder, config=RecallConfig(sentence_vectors=False)) as m:
        m.add(SMOKER, user_id="ana")
        rowids = _rowids(m, "ana")
        assert m.store.part_vectors("ana", encoder.name, list(rowids.values())) == {}
        assert m.search("What kitchen appliance did I buy?", user_id="ana")[0].episode.content == SMOKER


def test_a_file_from_before_sentence_vectors_searches_and_reindex_fills_them(tmp_path: Path, encoder: Encoder) -> None:
    """A version-5 file (no part_vectors table) is migrated, still searches, and reindex adds the vectors."""
    path = tmp_path / "old.db"
    with Memory(path, encoder=encoder) as m:
        m.add([SMOKER, "What sauces go with pulled pork?"], user_id="ana", session_id="s1")
    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TABLE part_vectors")
        db.execute("DROP TABLE words")  # a later version's table
        db.execute("ALTER TABLE episodes DROP COLUMN cues")  # a later version's column
        db.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    db.close()
    with Memory(path, encoder=encoder) as m:
        assert m.stats().schema_version == SQLITE_SCHEMA_VERSION
        rowids = _rowids(m, "ana")
        assert m.store.part_vectors("ana", encoder.name, list(rowids.values())) == {}
        assert m.search("What kitchen appliance did I buy?", user_id="ana")  # the turn's own cosine stands in
        m.reindex()
        assert len(m.store.part_vectors("ana", encoder.name, [rowids[SMOKER]])[rowids[SMOKER]]) == 3
