"""Cues in the words of a question and a turn, read by the learned stage."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory
from hippodex.encode.base import Encoder
from hippodex.recall import cues
from hippodex.recall.cues import CUES, READ_CHARS, Asked, Read, cue_matrix, parse_reading, read_text, stored_reading
from hippodex.recall.text import content_words
from hippodex.store.sqlite_schema import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION

COL = {name: i for i, name in enumerate(CUES)}


def _cue(name: str, texts: list[str], question: str = "What is it?", speakers: list[str] | None = None) -> list:
    return cue_matrix(texts, Asked.of(question), speakers or [])[:, COL[name]].tolist()


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("What games did Nate play?", "I played two games of chess", 2 / 3),  # game, play of game, nate, play
        ("What games did Nate play?", "Nate plays games", 1.0),
        ("What games did Nate play?", "GAMES, games and a game", 1 / 3),  # one stem, however often
        ("What did Melanie paint?", "painting with the kids", 1 / 2),  # paint; melanie missing
        ("What did you do?", "anything at all", 0.0),  # only stopwords asked: nothing to cover
        ("Where is the boat?", "", 0.0),
    ],
)
def test_coverage_counts_the_question_words_a_turn_holds(question: str, text: str, expected: float) -> None:
    assert _cue("coverage", [text], question) == pytest.approx([expected])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I just got a smoker today", 1),
        ("I've used my new Korg and we finally moved", 2),
        ("I got it, I bought it, I used it, I fixed it", 3),  # capped at 3
        ("Can you recommend some recipes?", 0),
        ("They went to Paris", 0),  # someone else, not the speaker
        ("I think that in the end we all know it was bought", 0),  # more than two words between
    ],
)
def test_discloses_counts_what_the_speaker_says_they_did(text: str, expected: int) -> None:
    assert _cue("discloses", [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love my dog", 0.5),
        ("I'm sure I've told you", 2 / 5),  # "I'm" and "I've" count once each
        ("Tell me about Rome", 0.25),
        ("What is the capital of France?", 0.0),
        ("", 0.0),
    ],
)
def test_first_person_is_a_share_of_the_words(text: str, expected: float) -> None:
    assert _cue("first_person", [text]) == pytest.approx([expected])


@pytest.mark.parametrize(
    ("question", "number", "name"),
    [
        ("How many instruments do I own?", True, False),
        ("How long have I worked here?", True, False),
        ("What video games does Nate play?", False, True),
        ("Which book did I read last?", False, True),
        ("Where did Ana move?", False, True),
        ("Did I enjoy the concert?", False, False),
    ],
)
def test_what_a_question_asks_for(question: str, number: bool, name: bool) -> None:
    asked = Asked.of(question)
    assert (asked.number, asked.name) == (number, name)


def test_a_number_counts_only_when_one_is_asked_for() -> None:
    texts = ["I have 3 guitars", "a couple of guitars", "some guitars"]
    assert _cue("number_asked", texts, "How many guitars do I have?") == [1.0, 1.0, 0.0]
    assert _cue("number_asked", texts, "Which guitars do I have?") == [0.0, 0.0, 0.0]


def test_a_new_name_counts_inside_a_sentence_and_not_from_the_question_or_speaker() -> None:
    texts = [
        "Nate won a Valorant tournament",  # Valorant: new
        "Nate won. Great game",  # "Great" opens a sentence
        "I think Nate won",  # "I", and a name the question gives
        "Valorant was fun",  # the text opens with it
        "you know, Joanna, it was fun",  # the turn's own speaker
    ]
    speakers = ["Nate", "Nate", "Nate", "Nate", "Joanna"]
    assert _cue("name_asked", texts, "What games does Nate play?", speakers) == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert _cue("name_asked", texts, "Did Nate play?", speakers) == [0.0] * 5  # no name asked for


def test_cues_stay_with_their_own_text() -> None:
    """The texts are read joined: no match may run across two of them, or land on the wrong one."""
    texts = ["we", "bought it", "İİİ I got 2", "", "my"]  # "İ" lengthens when lower-cased
    m = cue_matrix(texts, Asked.of("How many did I buy?"))
    assert m[:, COL["discloses"]].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert m[:, COL["number_asked"]].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    first_person = m[:, COL["first_person"]].tolist()
    assert first_person[:2] + first_person[3:] == [0.0, 0.0, 0.0, 1.0]


def test_no_texts_give_no_rows() -> None:
    assert cue_matrix([], Asked.of("What?")).shape == (0, len(CUES))
    np.testing.assert_array_equal(cue_matrix([""], Asked.of("")), np.zeros((1, len(CUES))))


def test_a_long_text_is_read_up_to_its_first_characters() -> None:
    early = "I bought a guitar. " + "la " * 40_000
    late = "la " * 40_000 + "I bought a guitar."
    m = cue_matrix([early, late], Asked.of("Which guitar did I buy?"))
    assert m[:, COL["coverage"]].tolist() == [1 / 2, 0.0]  # guitar, buy: "bought" is not "buy"
    assert m[:, COL["discloses"]].tolist() == [1.0, 0.0]
    assert m[1, COL["first_person"]] == 0.0 and len(late) > READ_CHARS


def test_a_text_is_read_once_and_its_cues_do_not_change() -> None:
    text = "We finally moved to Porto. I got a job at Farfetch"
    asked = Asked.of("Which job did Ana get in Porto?")
    first = cue_matrix([text], asked, ["Ana"])
    assert read_text(text) is read_text(text)  # remembered, not read again
    np.testing.assert_array_equal(cue_matrix([text], asked, ["Ana"]), first)
    # job and porto of job, ana, porto ("get" is a stopword); "I" of 11 words; "we finally moved", "I got";
    # Farfetch is a name the question does not give
    assert first[0].tolist() == [2 / 3, 1 / 11, 2.0, 0.0, 1.0]
    stored = parse_reading(stored_reading(text))  # read whole, as the store does: the names collected
    assert stored.names == ("Farfetch", "Porto")
    np.testing.assert_array_equal(cue_matrix([text], asked, ["Ana"], [stored]), first)  # the same cues


def test_texts_of_one_length_are_remembered_apart() -> None:
    a, b = "I got a new dog", "We saw Porto!!!"
    assert len(a) == len(b)
    assert read_text(a) != read_text(b)
    assert read_text(a + " " * READ_CHARS) == read_text(a + " " * (READ_CHARS + 5))  # read up to READ_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I just got 2 guitars. Then Valorant!",
        "no names, no numbers, nothing of mine",
        "We saw Porto and Porto again. I'm back",  # a name twice, kept once
        "I bought a guitar. " + "la " * 1_000 + "Then Lisbon",  # a name past READ_CHARS is not read
    ],
)
def test_a_stored_reading_reads_back_as_read(text: str) -> None:
    read = parse_reading(stored_reading(text))
    assert read == Read(
        read_text(text, number=True).first_person,
        read_text(text, number=True).discloses,
        read_text(text, number=True).number,
        tuple(sorted(set(cues._inner_names(text[:READ_CHARS])))),
    )
    questions = ["How many guitars did I buy?", "Where did Ana go?", "What is it?"]
    for asked in map(Asked.of, questions):  # stored or read at search, the cues are the same
        np.testing.assert_array_equal(cue_matrix([text], asked, ["Ana"], [read]), cue_matrix([text], asked, ["Ana"]))


def _stored(memory: Memory, user: str) -> dict[str, str | None]:
    layout = memory.store.layout(user)
    return {t.content: t.cues for t in memory.store.texts(user, layout.rowids.tolist()).values()}


def test_memory_add_stores_each_texts_reading(tmp_path: Path) -> None:
    text = "I just adopted a puppy named Coco"
    with Memory(tmp_path / "m.db", encoder=None) as memory:
        memory.add([text, "Nice!"], user_id="ana")
        assert _stored(memory, "ana") == {text: stored_reading(text), "Nice!": stored_reading("Nice!")}
        assert parse_reading(stored_reading(text)).names == ("Coco",)
        assert memory.store.texts("bo", memory.store.layout("ana").rowids.tolist()) == {}  # scoped to its user


def test_memory_import_stores_each_texts_reading(tmp_path: Path) -> None:
    text = "I just adopted a kitten named Miso"
    with Memory(tmp_path / "a.db", encoder=None) as memory:
        memory.add(text, user_id="ana")
        records = list(memory.export(user_id="ana"))
    with Memory(tmp_path / "b.db", encoder=None) as memory:
        assert memory.import_episodes(enumerate(records, start=1)).added == 1
        assert _stored(memory, "ana") == {text: stored_reading(text)}


_TURNS = [
    {"role": "user", "speaker": "Ana", "content": "I went to Porto with Bo last May, we saw 3 bridges"},
    {"role": "user", "speaker": "Bo", "content": "Yes! My favourite was the Dom Luis bridge"},
    {"role": "user", "speaker": "Ana", "content": "I bought a print of it at a market"},
]


def _features(memory: Memory) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' order and the learned stage's features for one question about ``_TURNS``."""
    memory.record_features = True
    memory.search("How many bridges did Ana see in Porto?", user_id="u")
    assert memory.last_timings.features is not None
    return memory.last_timings.features


def _written_then_altered(
    path: Path, encoder: Encoder, alter: Callable[[sqlite3.Connection], object]
) -> tuple[np.ndarray, np.ndarray]:
    """Write ``_TURNS`` to a new file and note their features, then ``alter`` the file as another program would."""
    with Memory(path, encoder=encoder) as memory:
        memory.add(_TURNS, user_id="u", session_id="s1", timestamp="2023-06-01")
        stored = _features(memory)
    db = sqlite3.connect(path)
    with db:
        alter(db)
    db.close()
    cues._read.clear()  # as a new process would start
    return stored


def test_a_file_from_before_readings_ranks_the_same_and_reindex_stores_them(tmp_path: Path, encoder: Encoder) -> None:
    """A version-7 file (no ``cues`` column) is migrated; its texts are read at search, and ``reindex`` stores them."""
    path = tmp_path / "old.db"
    stored_order, stored_X = _written_then_altered(
        path,
        encoder,
        lambda db: db.executescript(
            "ALTER TABLE episodes DROP COLUMN cues; UPDATE meta SET value = '7' WHERE key = 'schema_version';"
        ),
    )
    with Memory(path, encoder=encoder) as memory:
        assert memory.stats().schema_version == SQLITE_SCHEMA_VERSION
        assert set(_stored(memory, "u").values()) == {None}
        read_order, read_X = _features(memory)
        np.testing.assert_array_equal(read_order, stored_order)
        np.testing.assert_array_equal(read_X, stored_X)
        assert memory.reindex() == 3
        assert _stored(memory, "u") == {t["content"]: stored_reading(t["content"]) for t in _TURNS}


@pytest.mark.parametrize("damaged", ["", "0.3", "0.3 x 1 Porto", "nan? 1 1", "nan 1 1 Porto", "0.2 7 1 ", "\x00"])
def test_a_damaged_reading_is_read_afresh_and_reindex_mends_it(tmp_path: Path, encoder: Encoder, damaged: str) -> None:
    path = tmp_path / "m.db"
    stored_order, stored_X = _written_then_altered(
        path, encoder, lambda db: db.execute("UPDATE episodes SET cues = ?", (damaged,))
    )
    with Memory(path, encoder=encoder) as memory:
        order, X = _features(memory)  # the search neither fails nor ranks otherwise
        np.testing.assert_array_equal(order, stored_order)
        np.testing.assert_array_equal(X, stored_X)
        memory.reindex()
        assert _stored(memory, "u") == {t["content"]: stored_reading(t["content"]) for t in _TURNS}


def test_readings_are_written_only_within_their_user_on_every_backend(memory: Memory) -> None:
    memory.add(["I got 2 cats", "Nice"], user_id="u", session_id="s1")
    first, second = memory.store.layout("u").rowids.tolist()
    memory.store.put_readings("u", {first: "0.5 1 0 Tom"})  # as reindex writes them
    memory.store.put_readings("other", {second: "0.5 1 0 Tom"})  # not that user's episode: nothing changes
    texts = memory.store.texts("u", [first, second])
    assert texts[first].cues == "0.5 1 0 Tom"
    assert texts[second].cues == stored_reading("Nice")


COVERAGE_CASES = [
    ("What games did Nate play?", "I played two games of chess"),
    ("What games did Nate play?", "GAMES, games and a game. Nate's plays!"),
    ("Which guitar did I buy?", "I bought a guitar. " + "la " * 2_000 + " guitar buy"),  # past READ_CHARS
    ("How many columns did I add?", "ALTER TABLE adds columns: adding two column(s)"),
    ("Where is Zoë's café?", "Zoë runs the café"),
]


@pytest.mark.parametrize(("question", "text"), COVERAGE_CASES)
def test_coverage_from_the_stored_words_is_coverage_from_the_text(question: str, text: str) -> None:
    asked = Asked.of(question)
    scanned = cue_matrix([text], asked)
    counted = cue_matrix([text], asked, tokens=[content_words(text)])
    np.testing.assert_array_equal(counted, scanned)
    assert scanned[0, COL["coverage"]] > 0


def test_coverage_from_stored_words_counts_words_joined_by_an_underscore() -> None:
    # The one place the two readings part: content words split "add_column" into two words,
    # so a question about adding a column finds code that does it.
    asked = Asked.of("How do I add a column?")
    text = "call add_column"
    assert cue_matrix([text], asked)[0, COL["coverage"]] == 0.0
    assert cue_matrix([text], asked, tokens=[content_words(text)])[0, COL["coverage"]] == 1.0
