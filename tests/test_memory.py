"""The Memory facade: add, search, get, list, update, delete, erase, stats."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory, MemoryNotFound, MissingVectorsWarning, ValidationError
from hippodex.encode.base import Encoder


def test_add_returns_verbatim_episodes_with_provenance(memory: Memory) -> None:
    eps = memory.add(
        [
            {"role": "user", "content": "I moved to Lisbon in May", "speaker": "Ana"},
            {"role": "assistant", "content": "Congratulations on the move!"},
        ],
        user_id="ana",
        session_id="s1",
        timestamp="2023-05-08T14:00",
        metadata={"source": "chat"},
    )
    assert [e.content for e in eps] == ["I moved to Lisbon in May", "Congratulations on the move!"]
    assert [e.seq for e in eps] == [0, 1]
    assert [e.role for e in eps] == ["user", "assistant"]
    assert eps[0].speaker == "Ana" and eps[1].speaker is None
    assert eps[0].occurred_at == datetime(2023, 5, 8, 14, 0, tzinfo=UTC)
    assert eps[0].recorded_at > eps[0].occurred_at
    assert eps[0].metadata == {"source": "chat"}
    assert memory.get(eps[0].id, user_id="ana") == eps[0]


def test_seq_continues_within_a_session(lexical_memory: Memory) -> None:
    lexical_memory.add(["one", "two"], user_id="u", session_id="s")
    third = lexical_memory.add("three", user_id="u", session_id="s")
    assert third[0].seq == 2


def test_search_hits_carry_fused_and_per_channel_scores(memory: Memory) -> None:
    memory.add(
        [{"role": "user", "content": "I moved to Lisbon in May"}],
        user_id="ana",
        session_id="s1",
        timestamp="2023-05-08T14:00",
    )
    memory.add("My favourite food is grilled sardines", user_id="ana", session_id="s2", timestamp="2023-06-01")
    memory.add("The weather report says rain tomorrow", user_id="ana", session_id="s3", timestamp="2023-06-02")
    hits = memory.search("where does Ana live now? Lisbon", user_id="ana", k=3, now="2023-07-01")
    top = hits[0]
    assert top.episode.content == "I moved to Lisbon in May"
    assert {"lexical", "dense"} <= set(top.channels)
    assert top.channels["lexical"].rank == 1
    assert top.score > hits[-1].score
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_dense_channel_finds_a_paraphrase_lexical_cannot(memory: Memory) -> None:
    memory.add("I adopted a small dog from the shelter", user_id="u", session_id="s")
    memory.add("The quarterly budget meeting moved to Thursday", user_id="u", session_id="s")
    assert memory.search("puppy", user_id="u", channels=["lexical"]) == []
    hits = memory.search("puppy", user_id="u", channels=["dense"], k=1)
    assert hits[0].episode.content.startswith("I adopted a small dog")


def test_search_never_crosses_users(memory: Memory) -> None:
    memory.add("Bob's secret: the vault code is 4471", user_id="bob")
    memory.add("I like tea", user_id="ana")
    for q in ["vault code", "secret 4471", "bob"]:
        assert all(h.episode.user_id == "ana" for h in memory.search(q, user_id="ana", k=50))
    with pytest.raises(MemoryNotFound):
        memory.get(memory.search("vault", user_id="bob")[0].episode.id, user_id="ana")


def test_agent_and_run_narrow_a_scope(lexical_memory: Memory) -> None:
    lexical_memory.add("note from planner", user_id="u", agent_id="planner", run_id="r1")
    lexical_memory.add("note from coder", user_id="u", agent_id="coder", run_id="r2")
    assert len(lexical_memory.search("note", user_id="u")) == 2
    only = lexical_memory.search("note", user_id="u", agent_id="coder")
    assert [h.episode.agent_id for h in only] == ["coder"]
    assert [h.episode.run_id for h in lexical_memory.search("note", user_id="u", run_id="r1")] == ["r1"]


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "AND",
        "OR NOT",
        "NEAR(a b)",
        "a* -b",
        "col:value",
        "^start",
        "tea + coffee",
        "naïve café",
        "日本語のテキスト",
        "emoji 🎉 party",
        "'; DROP TABLE episodes; --",
        "{body}: x",
    ],
)
def test_fts_syntax_in_queries_is_searched_literally(lexical_memory: Memory, query: str) -> None:
    lexical_memory.add(f"text containing {query} literally", user_id="u")
    lexical_memory.add("unrelated", user_id="u")
    hits = lexical_memory.search(query, user_id="u")
    assert hits and hits[0].episode.content == f"text containing {query} literally"


@pytest.mark.parametrize("query", ["(((", "\\", '"', "*", "-", "…"])
def test_query_of_only_punctuation_finds_nothing_lexically_and_does_not_fail(
    lexical_memory: Memory, query: str
) -> None:
    lexical_memory.add(f"text containing {query} literally", user_id="u")
    assert lexical_memory.search(query, user_id="u") == []


def test_filters_session_time_role_metadata(lexical_memory: Memory) -> None:
    m = lexical_memory
    m.add(
        [{"role": "user", "content": "tea in spring"}, {"role": "assistant", "content": "tea noted"}],
        user_id="u",
        session_id="spring",
        timestamp="2023-04-01",
        metadata={"topic": "drinks"},
    )
    m.add("tea in autumn", user_id="u", session_id="autumn", timestamp="2023-10-01", metadata={"topic": "other"})
    assert {h.episode.session_id for h in m.search("tea", user_id="u", session_id="autumn")} == {"autumn"}
    assert {h.episode.content for h in m.search("tea", user_id="u", since="2023-09-01")} == {"tea in autumn"}
    assert {h.episode.content for h in m.search("tea", user_id="u", until="2023-09-01", role="user")} == {
        "tea in spring"
    }
    assert {h.episode.role for h in m.search("tea", user_id="u", role="assistant")} == {"assistant"}
    assert {h.episode.content for h in m.search("tea", user_id="u", metadata={"topic": "other"})} == {"tea in autumn"}


def test_expand_attaches_neighbouring_turns(lexical_memory: Memory) -> None:
    lexical_memory.add(
        ["what should I read?", "Try Piranesi by Susanna Clarke", "thanks, ordered it"], user_id="u", session_id="s"
    )
    hit = lexical_memory.search("Piranesi", user_id="u", k=1, expand=1)[0]
    assert [e.content for e in hit.context] == ["what should I read?", "thanks, ordered it"]


def test_list_pages_in_time_order(lexical_memory: Memory) -> None:
    for day in range(1, 8):
        lexical_memory.add(f"day {day}", user_id="u", session_id=f"s{day}", timestamp=f"2023-01-0{day}")
    first = lexical_memory.list(user_id="u", limit=3)
    assert [e.content for e in first.items] == ["day 1", "day 2", "day 3"]
    assert first.total == 7 and first.next_offset == 3
    last = lexical_memory.list(user_id="u", limit=3, offset=6)
    assert [e.content for e in last.items] == ["day 7"] and last.next_offset is None
    sessions = lexical_memory.sessions(user_id="u")
    assert sessions[0].id == "s7" and sessions[0].episodes == 1


def test_update_metadata_merges_or_replaces(lexical_memory: Memory) -> None:
    ep = lexical_memory.add({"role": "user", "content": "x", "metadata": {"a": 1}}, user_id="u")[0]
    assert lexical_memory.update_metadata(ep.id, {"b": 2}, user_id="u").metadata == {"a": 1, "b": 2}
    assert lexical_memory.update_metadata(ep.id, {"c": 3}, user_id="u", merge=False).metadata == {"c": 3}
    with pytest.raises(MemoryNotFound):
        lexical_memory.update_metadata(ep.id, {"x": 1}, user_id="someone-else")


def test_delete_removes_from_every_channel(memory: Memory) -> None:
    ep = memory.add("the spare key is under the blue flowerpot", user_id="u")[0]
    memory.add("groceries: milk, eggs", user_id="u")
    assert memory.search("flowerpot key", user_id="u")[0].episode.id == ep.id
    memory.delete(ep.id, user_id="u")
    assert all(h.episode.id != ep.id for h in memory.search("flowerpot key", user_id="u", k=10))
    assert all(h.episode.id != ep.id for h in memory.search("flowerpot", user_id="u", channels=["dense"]))
    with pytest.raises(MemoryNotFound):
        memory.get(ep.id, user_id="u")
    with pytest.raises(MemoryNotFound):
        memory.delete(ep.id, user_id="u")


def test_erase_user_leaves_no_rows(memory: Memory, db_target: str, backend: str) -> None:
    import sqlite3

    memory.add(["secret one", "secret two"], user_id="gone", session_id="s")
    memory.add("kept", user_id="stays")
    assert memory.erase(user_id="gone") == 2
    assert memory.search("secret", user_id="gone") == []
    assert memory.stats(user_id="gone").episodes == 0
    if backend == "postgres":
        import psycopg

        with psycopg.connect(db_target) as pg:
            for table in ("episodes", "sessions", "vectors", "scopes"):
                assert pg.execute(f"SELECT count(*) FROM {table} WHERE user_id = 'gone'").fetchone() == (0,)
            assert pg.execute("SELECT count(*) FROM episodes WHERE key LIKE '%secret%'").fetchone() == (0,)
            assert pg.execute("SELECT count(*) FROM sessions WHERE doc @@ 'secret'::tsquery").fetchone() == (0,)
        assert memory.stats().episodes == 1
        return
    db = sqlite3.connect(db_target)
    for table in ("episodes", "sessions", "vectors", "scope_versions"):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE user_id = 'gone'").fetchone()[0] == 0
    for table in ("episodes_fts", "sessions_fts"):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE body LIKE '%secret%'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM session_keys WHERE user_id = 'gone'").fetchone()[0] == 0
    assert memory.stats().episodes == 1


def test_erase_leaves_none_of_the_users_words_in_the_file(tmp_path: Path) -> None:
    # FTS5 keeps a deleted row's terms in its index segments until they are merged, and
    # the write-ahead log keeps old pages until a checkpoint: the raw bytes are what count.
    path = tmp_path / "m.db"
    with Memory(path, encoder=None) as m:
        for i in range(30):
            m.add(f"I visited Zanzibarqux with Clarabellq, note {i}", user_id="gone", session_id=f"s{i % 3}")
        m.add("I live in Lisbonqq", user_id="stays")
        m.erase(user_id="gone")

        def raw(word: bytes) -> int:
            return sum(f.read_bytes().count(word) for f in tmp_path.iterdir() if f.name.startswith("m.db"))

        assert raw(b"zanzibarqux") == raw(b"clarabellq") == 0  # the memory still open, as a server keeps it
        assert raw(b"lisbonqq") > 0
        assert [h.episode.content for h in m.search("Lisbonqq", user_id="stays")] == ["I live in Lisbonqq"]


def test_persistence_across_reopen(db_target: str, encoder: Encoder) -> None:
    with Memory(db_target, encoder=encoder) as m:
        ep = m.add("I keep bees on the roof", user_id="u", session_id="s")[0]
    with Memory(db_target, encoder=encoder) as m:
        assert m.get(ep.id, user_id="u") == ep
        assert m.search("beekeeping hobby", user_id="u", channels=["dense"])[0].episode.id == ep.id
        assert m.stats().vectors == 1


def test_identical_text_is_embedded_once(db_target: str, backend: str, encoder: Encoder) -> None:
    embedded: list[str] = []

    class Counting:
        name, dim = encoder.name, encoder.dim

        def encode(self, texts):  # type: ignore[no-untyped-def]
            embedded.extend(texts)
            return encoder.encode(texts)

    with Memory(db_target, encoder=Counting()) as m:
        m.add(["same kayak", "same kayak"], user_id="u", session_id="s", timestamp="2023-01-01")
        m.add("same kayak", user_id="u", session_id="t", timestamp="2023-01-01")
        m.add("same kayak", user_id="v", session_id="s", timestamp="2023-01-01")
    keys = [t for t in embedded if t.endswith("user: same kayak")]
    # PostgreSQL looks up known vectors within the tenant only (its indexes are
    # tenant-first, so the schema shards by user); one SQLite file reuses them across users.
    assert len(keys) == (1 if backend == "sqlite" else 2)
    # Word vectors (recall/word_match.py) are kept per user: once for each ("same" is a stopword;
    # a whole word of MiniLM's vocabulary would come from its word table, "kayak" is not one).
    assert [t for t in embedded if t not in keys] == ["kayak", "kayak"]


def test_stats_counts(memory: Memory) -> None:
    memory.add(["a b", "c d"], user_id="u1", session_id="s")
    memory.add("e f", user_id="u2")
    s = memory.stats()
    assert (s.users, s.sessions, s.episodes, s.vectors) == (2, 2, 3, 3)
    assert s.encoder is not None and s.encoder.startswith("minilm") and s.db_bytes > 0
    assert memory.stats(user_id="u1").episodes == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": [], "user_id": "u"}, "empty"),
        ({"messages": [{"role": "user", "content": ""}], "user_id": "u"}, "empty"),
        ({"messages": [{"role": "user", "content": "   "}], "user_id": "u"}, "empty"),
        ({"messages": [{"role": "robot", "content": "x"}], "user_id": "u"}, "role"),
        ({"messages": [{"role": "user", "content": "x" * 100_001}], "user_id": "u"}, "limit"),
        ({"messages": [{"role": "user", "content": 5}], "user_id": "u"}, "string"),
        ({"messages": [{"content": "x", "colour": "red"}], "user_id": "u"}, "unknown field"),
        ({"messages": "x", "user_id": ""}, "user_id"),
        ({"messages": "x", "user_id": None}, "user_id is required"),
        ({"messages": "x", "user_id": "u", "timestamp": "last tuesday"}, "ISO 8601"),
        ({"messages": "x", "user_id": "u", "timestamp": "2023-13-45"}, "ISO 8601"),
        ({"messages": "x", "user_id": "u", "timestamp": "9999-12-31T23:59:59-01:00"}, "range"),
        ({"messages": "x", "user_id": "u", "timestamp": "0001-01-01T00:00+01:00"}, "range"),
        ({"messages": "x", "user_id": "u", "metadata": ["not", "a", "dict"]}, "JSON object"),
        ({"messages": "x", "user_id": "u", "metadata": {"x": object()}}, "JSON-serializable"),
        ({"messages": 42, "user_id": "u"}, "list"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_stored(lexical_memory: Memory, kwargs: dict, message: str) -> None:
    lexical_memory.add("already here", user_id="u")
    with pytest.raises(ValidationError, match=message):
        lexical_memory.add(**kwargs)
    assert lexical_memory.stats().episodes == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": ""}, "empty"),
        ({"query": "x", "k": 0}, "between"),
        ({"query": "x", "k": "5"}, "integer"),
        ({"query": "x", "role": "robot"}, "role"),
        ({"query": "x", "channels": ["psychic"]}, "unknown"),
        ({"query": "x", "since": "yesterday"}, "ISO 8601"),
        ({"query": "x", "expand": -1}, "expand"),
    ],
)
def test_bad_search_arguments(lexical_memory: Memory, kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        lexical_memory.search(user_id="u", **kwargs)


def test_message_may_be_a_plain_string_or_carry_its_own_time(lexical_memory: Memory) -> None:
    eps = lexical_memory.add(
        ["plain", {"role": "user", "content": "dated", "timestamp": "2020-02-02T02:02:00+02:00"}],
        user_id="u",
        timestamp="2021-01-01",
    )
    assert eps[0].role == "user" and eps[0].occurred_at.year == 2021
    assert eps[1].occurred_at == datetime(2020, 2, 2, 0, 2, tzinfo=UTC)


def test_export_streams_every_episode_across_pages(lexical_memory: Memory) -> None:
    for batch in range(3):
        lexical_memory.add([f"note {batch}-{i}" for i in range(900)], user_id="u", session_id=f"s{batch}")
    lexical_memory.add("someone else's", user_id="v")
    exported = list(lexical_memory.export(user_id="u"))
    assert len(exported) == 2700 == len({e["id"] for e in exported})
    assert len(list(lexical_memory.export())) == 2701


def test_switching_encoders_is_refused_until_reindex(db_target: str, encoder: Encoder) -> None:
    from hippodex import ConfigError
    from hippodex.encode.base import normalise

    class Letters:
        name, dim = "letters-v1", 26

        def encode(self, texts):  # type: ignore[no-untyped-def]
            rows = [[t.lower().count(chr(97 + i)) for i in range(26)] for t in texts]
            return normalise(np.array(rows, dtype=np.float32))

    with Memory(db_target, encoder=encoder) as m:
        m.add(["aaaa aaaa", "zzzz zzzz"], user_id="u", session_id="s")
    with Memory(db_target, encoder=Letters()) as m:
        with pytest.raises(ConfigError, match="reindex"):
            m.search("aaaa", user_id="u", channels=["dense"])
        assert m.reindex() == 2
        assert m.stats().encoder == "letters-v1" and m.stats().vectors == 2
        assert m.search("zzz", user_id="u", channels=["dense"], k=1)[0].episode.content == "zzzz zzzz"


def test_context_is_dated_grouped_and_within_budget(lexical_memory: Memory) -> None:
    m = lexical_memory
    m.add(
        ["We adopted a border collie called Pepper", "She loves the beach"],
        user_id="u",
        session_id="dogs",
        timestamp="2024-02-03",
    )
    m.add("Pepper turned two today", user_id="u", session_id="birthday", timestamp="2024-08-21")
    block = m.context("Pepper the border collie", user_id="u", budget_tokens=500)
    lines = block.splitlines()
    assert lines[0] == "Memories relevant to: Pepper the border collie"
    assert "Session dogs (Saturday, 03 February 2024):" in lines
    assert "- [2024-02-03] user: We adopted a border collie called Pepper" in lines
    assert block.index("Session dogs") < block.index("Session birthday")  # told in time order
    m.add(" ".join(["long notes about Pepper and other things"] * 80), user_id="u", session_id="long")
    tight = m.context("Pepper", user_id="u", budget_tokens=120)
    assert len(tight) <= 120 * 4 and tight.endswith("…")  # the best hit, cut to fit
    assert m.context("zebra", user_id="u") == "No memories found for: zebra"
    with pytest.raises(ValidationError, match="budget_tokens"):
        m.context("Pepper", user_id="u", budget_tokens=5)


@pytest.mark.parametrize("offset", [-1, 2**70, True, "3"])
def test_bad_offsets_are_validation_errors(lexical_memory: Memory, offset: object) -> None:
    with pytest.raises(ValidationError, match="offset"):
        lexical_memory.list(user_id="u", offset=offset)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="offset"):
        lexical_memory.sessions(user_id="u", offset=offset)  # type: ignore[arg-type]


def test_search_warns_once_when_episodes_have_no_vector(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    with Memory(path) as m:
        m.add("I like green tea", user_id="ana")
    with Memory(path, encoder=None) as m:  # lexical only: no vector
        m.add("I walked to the harbour", user_id="ana")
    with Memory(path) as m:
        with pytest.warns(MissingVectorsWarning, match=r"1 of 2 episodes of user 'ana' have no vector"):
            m.search("tea", user_id="ana")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m.search("harbour", user_id="ana")  # said once per user
            m.search("tea", user_id="ana", channels=["lexical"])  # no dense channel, nothing missed
        m.reindex()
    with Memory(path) as m, warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m.search("harbour", user_id="ana")[0].channels.get("dense") is not None


def test_a_closed_memory_is_freed_at_once(db_target: str, encoder: Encoder) -> None:
    """No reference cycles through a memory: it goes when its last reference does, with its models.

    One left to the garbage collector frees them in a pause during some later
    search (LongMemEval's p95 went from 48 to 68 ms when a bound method made one).
    """
    import gc
    import weakref

    gc.disable()
    try:
        m = Memory(db_target, encoder=encoder)
        m.add(["The gravel path needs weeding", "My brother bought a kayak"], user_id="ana")
        m.search("Where is the refrigerator?", user_id="ana")
        m.close()
        gone = weakref.ref(m)
        del m
        assert gone() is None
    finally:
        gc.enable()
