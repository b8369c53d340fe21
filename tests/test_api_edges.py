"""Edges of the Python API an audit found: each bad input gets a clear error and writes nothing,
and the options that take a time or a name do what they say at the extremes."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hippodex import Memory, SchemaError, StoreError, ValidationError
from hippodex.ingest.normalize import MAX_METADATA_BYTES, parse_time
from hippodex.store.open import redact


@pytest.fixture
def mem(tmp_path: Path) -> Memory:
    m = Memory(tmp_path / "m.db", encoder=None)
    yield m
    m.close()


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda m: m.add("bad \ud800 text", user_id="u"), "content"),
        (lambda m: m.add("fine", user_id="a\ud800"), "user_id"),
        (lambda m: m.add("fine", user_id="u", session_id="s\udfff"), "session_id"),
        (lambda m: m.add("fine", user_id="u", metadata={"note": "x\ud83d"}), "metadata"),
        (lambda m: m.add([{"role": "user", "content": "fine", "speaker": "\ud800"}], user_id="u"), "speaker"),
    ],
)
def test_a_lone_surrogate_is_refused_and_nothing_is_written(mem: Memory, call, named: str) -> None:
    with pytest.raises(ValidationError, match=rf"{named} is not valid Unicode: it holds a lone surrogate"):
        call(mem)
    assert mem.stats().episodes == 0


def test_a_lone_surrogate_in_a_query_is_a_validation_error(mem: Memory) -> None:
    mem.add("I live in Porto", user_id="u")
    with pytest.raises(ValidationError, match="query is not valid Unicode"):
        mem.search("Porto \ud800", user_id="u")


def test_a_message_with_a_non_string_field_name_is_a_validation_error(mem: Memory) -> None:
    with pytest.raises(ValidationError, match=r"messages\[0\] has unknown field\(s\): 1"):
        mem.add([{1: "x", "content": "hello"}], user_id="u")
    assert mem.stats().episodes == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.list(user_id="u", limit=0),
        lambda m: m.sessions(user_id="u", limit=0),
        lambda m: m.facts("u", limit=0),
        lambda m: m.entities("u", limit=0),
    ],
)
def test_a_bad_limit_is_called_limit(mem: Memory, call) -> None:
    with pytest.raises(ValidationError, match=r"^limit must be between 1 and 10000, got 0$"):
        call(mem)


def test_one_channel_may_be_named_as_a_string(mem: Memory) -> None:
    mem.add("My sister lives in Porto", user_id="u")
    hits = mem.search("sister", user_id="u", channels="lexical")
    assert hits == mem.search("sister", user_id="u", channels=["lexical"])
    assert [("lexical" in h.channels, "graph" in h.channels) for h in hits] == [(True, False)]
    with pytest.raises(ValidationError, match=r"channels: unknown \['lexicon'\]"):
        mem.search("sister", user_id="u", channels="lexicon")
    with pytest.raises(ValidationError, match="channels: none given; choose one or more of lexical, dense, graph"):
        mem.search("sister", user_id="u", channels=[])


def test_merged_metadata_is_held_to_the_size_limit(mem: Memory) -> None:
    ep = mem.add("hello", user_id="u", metadata={"a": "x" * (MAX_METADATA_BYTES // 2)})[0]
    with pytest.raises(ValidationError, match="larger than"):
        mem.update_metadata(ep.id, {"b": "y" * (MAX_METADATA_BYTES // 2)}, user_id="u")
    assert mem.get(ep.id, user_id="u").metadata == ep.metadata


@pytest.mark.parametrize("days", [1e6, 1e300, float("inf"), 10**30])
def test_a_cold_threshold_before_all_time_moves_nothing(mem: Memory, days: float) -> None:
    mem.add("hello", user_id="u", timestamp="0001-01-02")
    assert mem.consolidate(cold_after_days=days).retiered == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cold_after_days": "3"}, "cold_after_days must be a number of days >= 0, got '3'"),
        ({"cold_after_days": float("nan")}, "cold_after_days must be a number of days >= 0"),
        ({"cold_after_days": -1}, "cold_after_days must be a number of days >= 0"),
        ({"cold_after_days": 1, "cold_tier": "float16"}, "tier: 'float16' is not one of"),
    ],
)
def test_consolidate_refuses_bad_tier_arguments_before_it_runs(mem: Memory, kwargs: dict, message: str) -> None:
    mem.add("I live in Porto", user_id="u", session_id="s1")
    with pytest.raises(ValidationError, match=message):
        mem.consolidate(**kwargs)
    # The sleep pass did not run: it writes the session's summary, as the good call shows.
    assert mem.store.summary("u", "s1") is None
    mem.consolidate(cold_after_days=1)
    assert mem.store.summary("u", "s1") is not None


def _moved(mem: Memory) -> None:
    mem.add("I live in Porto", user_id="ana", session_id="s1", timestamp="2022-01-10")
    mem.add("We moved to Lisbon last month", user_id="ana", session_id="s2", timestamp="2023-06-01")


def test_context_in_the_past_tells_the_facts_as_they_stood_then(mem: Memory) -> None:
    _moved(mem)
    then = mem.context("where do I live?", user_id="ana", now="2022-06-01")
    assert "The user lives in Porto." in then and "Lisbon" not in then
    later = mem.context("where do I live?", user_id="ana", now="2023-07-01")
    assert "The user lives in Lisbon." in later


def test_context_with_a_future_now_does_not_date_the_recall_in_the_future(mem: Memory) -> None:
    _moved(mem)
    before = datetime.now(UTC)
    mem.context("where do I live?", user_id="ana", now="9999-12-31")
    recalled = [f.last_recalled for f in mem.facts("ana") if f.recalled]
    assert recalled
    assert all(t is not None and before <= t <= datetime.now(UTC) for t in recalled)


def test_expand_keeps_to_the_agent_the_search_is_narrowed_to(mem: Memory) -> None:
    mem.add("Planning the trip to Porto", user_id="u", session_id="s", agent_id="planner")
    mem.add("Booked the train to Porto for Friday", user_id="u", session_id="s", agent_id="booker")
    mem.add("Porto has lovely bridges", user_id="u", session_id="s", agent_id="planner")
    hits = mem.search("trip", user_id="u", agent_id="planner", expand=2)
    assert hits and all(h.episode.agent_id == "planner" for h in hits)
    assert {e.agent_id for h in hits for e in h.context} == {"planner"}
    wide = mem.search("trip", user_id="u", expand=2)
    assert {e.agent_id for h in wide for e in h.context} == {"planner", "booker"}


def test_metadata_nested_too_deep_is_refused_before_anything_is_written(mem: Memory) -> None:
    deep: list = []
    inner = deep
    for _ in range(10_000):  # deep enough to overflow a recursive encoder
        inner.append([])
        inner = inner[0]
    for depth_doc in ({"x": deep}, {"x": json.loads("[" * 33 + "]" * 33)}):
        with pytest.raises(ValidationError, match="metadata is nested more than 32 levels deep"):
            mem.add("hello", user_id="u", metadata=depth_doc)
    assert mem.stats().episodes == 0
    ok = mem.add("hello", user_id="u", metadata={"x": json.loads("[" * 31 + "]" * 31)})[0]
    with pytest.raises(ValidationError, match="nested more than"):
        mem.update_metadata(ok.id, {"y": deep}, user_id="u")


def test_a_fact_recalled_thousands_of_times_still_goes_into_context(mem: Memory, tmp_path: Path) -> None:
    mem.add("I live in Lisbon", user_id="u")
    assert "The user lives in Lisbon." in mem.context("where do I live?", user_id="u")
    # 2 ** 1024 overflows a float: the forgetting curve's stability must stop growing before that.
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("UPDATE facts SET recalled = 5000 WHERE user_id = 'u'").rowcount >= 1
    assert "The user lives in Lisbon." in mem.context("where do I live?", user_id="u")


@pytest.mark.parametrize("metadata", [{"a": "x\x00y"}, {"a\x00": 1}, {"a": ["ok", {"b": "\x00"}]}])
def test_metadata_holding_a_nul_character_is_refused(mem: Memory, metadata: dict) -> None:
    # PostgreSQL's jsonb cannot hold one: stored, it failed every later metadata filter of the user.
    with pytest.raises(ValidationError, match="metadata contains a NUL character"):
        mem.add("hello", user_id="u", metadata=metadata)
    assert mem.stats().episodes == 0


def test_a_schema_version_that_is_not_a_number_is_a_schema_error(tmp_path: Path) -> None:
    Memory(tmp_path / "m.db", encoder=None).close()
    with sqlite3.connect(tmp_path / "m.db") as db:
        db.execute("UPDATE meta SET value = 'seven' WHERE key = 'schema_version'")
    with pytest.raises(SchemaError, match=r"records schema version 'seven', not a number"):
        Memory(tmp_path / "m.db", encoder=None)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ana:s3cret@[::1/mem", "postgresql://***@[::1/mem"),
        ("postgresql://ana:s3cret@db.example:port/mem", "postgresql://ana:***@db.example:port/mem"),
    ],
)
def test_a_malformed_postgres_url_is_a_store_error_that_hides_the_password(url: str, shown: str) -> None:
    with pytest.raises(StoreError, match="is not a PostgreSQL URL hippodex can read") as caught:
        Memory(url, encoder=None)
    assert shown in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_password_in_the_query_string_is_hidden_too() -> None:
    url = "postgresql://ana@/mem?host=/run/pg&password=s3cret&sslmode=disable"
    assert redact(url) == "postgresql://ana@/mem?host=/run/pg&password=***&sslmode=disable"


@pytest.mark.parametrize("until", ["2023-05-08", date(2023, 5, 8), " 2023-05-08 ", "20230508"])
def test_a_date_alone_as_until_takes_in_that_whole_day(mem: Memory, until: object) -> None:
    mem.add("I moved to Lisbon", user_id="ana", timestamp="2023-05-08T14:00")
    mem.add("I unpacked the boxes", user_id="ana", timestamp="2023-05-08T23:30")
    mem.add("I started the new job", user_id="ana", timestamp="2023-05-09T09:00")
    day = mem.list(user_id="ana", since="2023-05-08", until=until)
    assert [e.content for e in day.items] == ["I moved to Lisbon", "I unpacked the boxes"]
    hits = mem.search("Lisbon boxes job", user_id="ana", since="2023-05-08", until=until)
    assert sorted(h.episode.content for h in hits) == ["I moved to Lisbon", "I unpacked the boxes"]


def test_a_time_as_until_stays_exclusive(mem: Memory) -> None:
    mem.add("I moved to Lisbon", user_id="ana", timestamp="2023-05-08T14:00")
    assert mem.list(user_id="ana", until="2023-05-08T14:00").items == ()
    assert mem.list(user_id="ana", until=datetime(2023, 5, 8)).items == ()  # a datetime is its moment
    assert len(mem.list(user_id="ana", until="9999-12-31").items) == 1  # the last day there is: no end


@pytest.mark.parametrize(
    "sent",
    ["2023-05-08T15:00:00 02:00", "2023-05-08 15:00 02:00", "2023-05-08T15:00:00.000 0200"],
)
def test_an_offset_whose_plus_arrived_as_a_space_reads_as_the_offset(sent: str) -> None:
    # A "+" left unencoded in a URL's query string reaches the server as a space.
    assert parse_time(sent) == datetime(2023, 5, 8, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("since", "until"),
    [("2023-05-09", "2023-05-08"), ("2023-05-08T14:00", "2023-05-08T14:00"), ("2023-05-09", "2023-05-08T23:00")],
)
def test_a_time_range_that_holds_nothing_is_refused(mem: Memory, since: str, until: str) -> None:
    mem.add("I moved to Lisbon", user_id="ana", timestamp="2023-05-08T14:00")
    for call in (mem.search, mem.list):
        args = ("Lisbon",) if call == mem.search else ()
        with pytest.raises(ValidationError, match=r"since \(.*\) is not before until \(.*\); the range holds nothing"):
            call(*args, user_id="ana", since=since, until=until)
    assert len(mem.list(user_id="ana", since="2023-05-08", until="2023-05-08").items) == 1  # one day: fine
