"""The soft word match: its pure scoring, how both backends keep word vectors
and their counts (add, import, delete, erase, reindex), and that search reads it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from hippodex import ConfigError, Memory, RecallConfig
from hippodex.encode.base import Encoder
from hippodex.recall.learned import FEATURES
from hippodex.recall.text import READ_CHARS, content_words
from hippodex.recall.word_match import MAX_WORDS, rarity, soft_match
from hippodex.store.sqlite_schema import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION

TURTLES = "My turtles were eating lettuce all morning"
MEETING = "The budget meeting ran late again"
PETS_QUERY = "Which animals does Ana keep at home?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I play Valorant, and I play it a lot.", ["play", "valorant"]),
        ("What did you do?", []),  # stopwords only
        ("a b c x y z 42", ["42"]),  # one-character words say nothing
        ("Café, CAFÉ and café", ["café"]),  # lower-cased, each word once
        ("turtle_tank", ["turtle", "tank"]),  # split as the lexical index splits
    ],
)
def test_content_words(text: str, expected: list[str]) -> None:
    assert content_words(text) == expected


def test_content_words_reads_the_first_characters_only() -> None:
    words = content_words("filler " * READ_CHARS + "zebra")
    assert "filler" in words and "zebra" not in words


def test_rarity_weighs_a_word_every_candidate_has_least() -> None:
    weights = rarity(["nate", "game", "absent"], [["nate", "game"], ["nate"], ["nate"]])
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] < weights[1] < weights[2]  # a word no candidate has is the rarest
    assert rarity(["x"], []).tolist() == [1.0]


def test_soft_match_takes_each_query_words_best_cosine() -> None:
    v = {
        "game": np.array([1.0, 0.0]),
        "pet": np.array([0.0, 1.0]),
        "valorant": np.array([0.8, 0.6]),
        "turtle": np.array([0.1, 0.995]),
    }
    # "game" and "pet" are equally rare here, so each counts half.
    got = soft_match(["game", "pet"], [["valorant"], ["turtle", "valorant"], ["unknown"], []], v)
    assert got.tolist() == pytest.approx([0.5 * 0.8 + 0.5 * 0.6, 0.5 * 0.8 + 0.5 * 0.995, 0.0, 0.0])


def test_soft_match_without_vectors_scores_zero() -> None:
    v = {"game": np.array([1.0, 0.0])}
    assert soft_match(["nothing"], [["game"]], v).tolist() == [0.0]
    assert soft_match(["game"], [["nothing"], []], v).tolist() == [0.0, 0.0]
    assert soft_match(["game"], [], v).tolist() == []


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_add_keeps_a_vector_for_each_new_word(memory: Memory, encoder: Encoder) -> None:
    memory.add([TURTLES, MEETING], user_id="ana", session_id="s1")
    words = content_words(TURTLES) + content_words(MEETING)
    stored = memory.store.word_vectors("ana", encoder.name, [*words, "absent"])
    assert set(stored) == set(words)
    expected = encoder.encode(["turtles", "budget"])
    assert _cosine(stored["turtles"], expected[0]) > 0.99  # int8 codes: close to the float vectors
    assert _cosine(stored["budget"], expected[1]) > 0.99
    assert memory.store.word_vectors("ana", "another-encoder", words) == {}
    assert memory.store.word_vectors("bo", encoder.name, words) == {}  # words are per user


def test_a_word_goes_when_no_episode_uses_it(memory: Memory, encoder: Encoder) -> None:
    first = memory.add("My turtles were eating lettuce", user_id="ana", session_id="s1")[0]
    second = memory.add("The turtles sleep a lot", user_id="ana", session_id="s2")[0]
    memory.add("The turtles sleep a lot", user_id="bo")
    memory.delete(first.id, user_id="ana")
    left = memory.store.word_vectors("ana", encoder.name, ["turtles", "lettuce", "sleep"])
    assert set(left) == {"turtles", "sleep"}  # "turtles" is still used by the second turn
    memory.delete(second.id, user_id="ana")
    assert memory.store.word_vectors("ana", encoder.name, ["turtles", "sleep"]) == {}
    assert set(memory.store.word_vectors("bo", encoder.name, ["turtles", "sleep"])) == {"turtles", "sleep"}
    memory.erase(user_id="bo")
    assert memory.store.word_vectors("bo", encoder.name, ["turtles", "sleep"]) == {}


def test_a_word_added_again_after_its_last_use_went_is_embedded_again(memory: Memory, encoder: Encoder) -> None:
    gone = memory.add("Valorant finals tonight", user_id="ana")[0]
    memory.delete(gone.id, user_id="ana")
    memory.add("Valorant again", user_id="ana")
    assert set(memory.store.word_vectors("ana", encoder.name, ["valorant", "finals"])) == {"valorant"}


def test_import_keeps_them_too(memory: Memory, encoder: Encoder) -> None:
    records = [
        (i, {"user_id": u, "session_id": "s", "role": "user", "content": TURTLES, "occurred_at": "2023-05-08"})
        for i, u in enumerate(["ana", "bo"], 1)
    ]
    memory.import_episodes(records)
    for user in ("ana", "bo"):
        assert set(memory.store.word_vectors(user, encoder.name, content_words(TURTLES))) == set(content_words(TURTLES))


def test_reindex_rebuilds_counts_and_vectors(memory: Memory, encoder: Encoder) -> None:
    memory.add([TURTLES, MEETING], user_id="ana", session_id="s1")
    words = content_words(TURTLES) + content_words(MEETING)
    memory.store.put_words("ana", encoder.name, {}, {})  # as a file from before word vectors
    assert memory.store.word_vectors("ana", encoder.name, words) == {}
    assert memory.reindex() == 2
    assert set(memory.store.word_vectors("ana", encoder.name, words)) == set(words)
    # The counts were rebuilt too: deleting the only turn with "budget" drops it.
    meeting = next(e for e in memory.store.iter_episodes("ana") if e.content == MEETING)
    memory.delete(meeting.id, user_id="ana")
    assert set(memory.store.word_vectors("ana", encoder.name, words)) == set(content_words(TURTLES))


def test_search_reads_the_soft_match(memory: Memory) -> None:
    """No word of the query is in either turn; the turtles' words still come nearer to it."""
    memory.add([TURTLES, MEETING], user_id="ana", session_id="s1")
    memory.record_features = True
    memory.search(PETS_QUERY, user_id="ana")
    features = memory.last_timings.features
    assert features is not None
    rowids, X = features
    by_content = {e.content: e for e in memory.store.iter_episodes("ana")}
    layout = memory.store.layout("ana")
    texts = memory.store.texts("ana", layout.rowids.tolist())
    row = {texts[r].content: i for i, r in enumerate(rowids.tolist())}
    col = FEATURES.index("word_match")
    assert set(row) == set(by_content)
    assert X[row[TURTLES], col] > X[row[MEETING], col] + 0.05
    assert 0 < X[row[MEETING], col] < 1


def test_word_vectors_can_be_switched_off(tmp_path: Path, encoder: Encoder) -> None:
    config = RecallConfig(word_vectors=False)
    with Memory(tmp_path / "m.db", encoder=encoder, config=config) as m:
        m.add([TURTLES, MEETING], user_id="ana", session_id="s1")
        assert m.store.word_vectors("ana", encoder.name, content_words(TURTLES)) == {}
        m.record_features = True
        assert m.search(PETS_QUERY, user_id="ana")
        features = m.last_timings.features
        assert features is not None
        assert not features[1][:, FEATURES.index("word_match")].any()
    # Counts were kept while switched off: switched on, a reindex embeds every word.
    with Memory(tmp_path / "m.db", encoder=encoder) as m:
        m.reindex()
        assert set(m.store.word_vectors("ana", encoder.name, content_words(TURTLES))) == set(content_words(TURTLES))


def test_a_file_from_before_word_vectors_searches_and_reindex_fills_them(tmp_path: Path, encoder: Encoder) -> None:
    """A version-6 file (no words table) is migrated, still searches, and reindex adds the words."""
    path = tmp_path / "old.db"
    with Memory(path, encoder=encoder) as m:
        m.add([TURTLES, MEETING], user_id="ana", session_id="s1")
    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TABLE words")
        db.execute("ALTER TABLE episodes DROP COLUMN cues")  # a later version's column
        db.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    db.close()
    with Memory(path, encoder=encoder) as m:
        assert m.stats().schema_version == SQLITE_SCHEMA_VERSION
        assert m.store.word_vectors("ana", encoder.name, content_words(TURTLES)) == {}
        assert m.search(PETS_QUERY, user_id="ana")
        m.reindex()
        assert set(m.store.word_vectors("ana", encoder.name, content_words(TURTLES))) == set(content_words(TURTLES))


def test_words_read_back_as_written(db_target: str, encoder: Encoder) -> None:
    """The words an ``add`` writes through to the store's cache score as a fresh process reads them."""

    def word_match(m: Memory) -> np.ndarray:
        m.record_features = True
        m.search(PETS_QUERY, user_id="ana")
        features = m.last_timings.features
        assert features is not None
        return features[1][np.argsort(features[0]), FEATURES.index("word_match")]

    with Memory(db_target, encoder=encoder) as m:
        m.add([TURTLES, MEETING], user_id="ana", session_id="s1")
        warm = word_match(m)
    with Memory(db_target, encoder=encoder) as m:
        assert word_match(m).tolist() == warm.tolist()


def test_large_scopes_skip_the_word_signal(tmp_path: Path, encoder: Encoder) -> None:
    """Above ``word_match_limit`` memories the search does without it (its cost is per search)."""
    with Memory(tmp_path / "m.db", encoder=encoder, config=RecallConfig(word_match_limit=1)) as m:
        m.add([TURTLES, MEETING], user_id="ana", session_id="s1")
        assert set(m.store.word_vectors("ana", encoder.name, ["turtles"])) == {"turtles"}  # still written
        m.record_features = True
        assert m.search(PETS_QUERY, user_id="ana")
        features = m.last_timings.features
        assert features is not None
        assert not features[1][:, FEATURES.index("word_match")].any()


def test_word_match_limit_is_checked() -> None:
    with pytest.raises(ConfigError, match="word_match_limit"):
        RecallConfig(word_match_limit=-1)


def test_only_the_first_words_of_a_candidate_count() -> None:
    v = {"pet": np.array([1.0, 0.0])}
    late = [f"w{i}" for i in range(MAX_WORDS)] + ["pet"]  # "pet" comes too late to be read
    assert soft_match(["pet"], [late, ["pet"]], v).tolist() == [0.0, 1.0]
