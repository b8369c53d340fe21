"""``hippodex.client.Client`` is a drop-in for ``hippodex.Memory``: same methods, results and errors.

Every test runs the same calls on a local ``Memory`` over one SQLite file and on a
``Client`` against a real server (uvicorn on a free port) over another file fed
identically, and compares. Reads run over a seed imported with fixed ids and
times, so they must match exactly; writes make fresh ids and clocks, which are
set aside before comparing. What the REST server deliberately does not serve
(export, import, reindex, move_tier) the client refuses by name with ConfigError.
"""

from __future__ import annotations

import inspect
import socket
import typing
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from hippodex import (
    ConfigError,
    Entity,
    Episode,
    Fact,
    HippodexError,
    Hit,
    Memory,
    MemoryNotFound,
    Page,
    Session,
    SleepReport,
    Stats,
    StoreError,
    ValidationError,
)
from hippodex.client import AuthError, Client
from hippodex.server import KeyStore, create_app

Runner = Callable[[Any], AbstractContextManager[str]]

T0 = datetime(2023, 5, 8, 14, 0, tzinfo=UTC)
NOW = datetime(2023, 7, 1, 12, 0, tzinfo=UTC)  # every search is asked "now", so recency cannot drift
RECORDED = datetime(2023, 7, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _record(n: int, session: str, seq: int, role: str, content: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"ep-{n:02d}",
        "user_id": extra.pop("user_id", "ana"),
        "session_id": session,
        "seq": seq,
        "role": role,
        "content": content,
        "occurred_at": at.isoformat(),
        "recorded_at": (RECORDED + timedelta(seconds=n)).isoformat(),
        **extra,
    }


SEED = [
    _record(1, "home", 0, "user", "I live in Porto with my cat Mimi", datetime(2022, 1, 10, 9, tzinfo=UTC)),
    _record(2, "home", 1, "tool", "weather: Porto 14C and rain", datetime(2022, 1, 10, 9, 1, tzinfo=UTC)),
    _record(3, "home", 2, "system", "The user asked for a summary", datetime(2022, 1, 10, 9, 2, tzinfo=UTC)),
    _record(
        4,
        "trip",
        0,
        "user",
        "I moved to Lisbon in May",
        T0,
        speaker="Ana",
        agent_id="planner",
        run_id="r1",
        metadata={"topic": "travel"},
    ),
    _record(
        5,
        "trip",
        1,
        "assistant",
        "How do you like Lisbon so far?",
        T0 + timedelta(minutes=1),
        agent_id="planner",
        run_id="r1",
        metadata={"topic": "travel", "mood": "curious"},
    ),
    _record(
        6,
        "trip",
        2,
        "user",
        "I love Lisbon, my sister Ines visits next week",
        T0 + timedelta(minutes=2),
        speaker="Ana",
        agent_id="planner",
        run_id="r1",
        metadata={"topic": "family", "tags": ["sister", "visit"]},
    ),
    _record(
        7,
        "work",
        0,
        "user",
        "I work as a nurse at Hospital Santa Maria in Lisbon",
        datetime(2023, 6, 1, 9, tzinfo=UTC),
        agent_id="planner",
        run_id="r2",
        metadata={"topic": "work"},
    ),
    _record(
        8,
        "work",
        1,
        "assistant",
        "Nursing in Lisbon sounds demanding",
        datetime(2023, 6, 1, 9, 1, tzinfo=UTC),
        agent_id="helper",
        run_id="r2",
    ),
    _record(9, "sea", 0, "user", "Bob likes sailing near Lisbon", T0, user_id="bob"),
]


@dataclass
class Pair:
    """The two sides: ``local`` (a Memory) and ``remote`` (a Client, admin key) on a server over ``served``."""

    local: Memory
    remote: Client
    served: Memory  # the server's own Memory, to feed it what the Client cannot (an import)
    url: str
    keys: KeyStore
    ana_key: str
    revoked_key: str

    def seed(self, records: list[dict[str, Any]] = SEED) -> None:
        for memory in (self.local, self.served):
            memory.import_episodes(enumerate(records, 1))

    def both(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """The results of one call on each side; both must succeed."""
        return getattr(self.local, name)(*args, **kwargs), getattr(self.remote, name)(*args, **kwargs)

    def same(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Both sides return equal values of the same type; returns the local one."""
        local, remote = self.both(name, *args, **kwargs)
        assert type(remote) is type(local)
        assert remote == local
        return local

    def same_error(self, name: str, *args: Any, **kwargs: Any) -> HippodexError:
        """Both sides raise the same error type with the same message; returns the local error."""
        errors = []
        for side in (self.local, self.remote):
            with pytest.raises(HippodexError) as info:
                result = getattr(side, name)(*args, **kwargs)
                if inspect.isgenerator(result):
                    next(result)
            errors.append(info.value)
        local, remote = errors
        assert (type(remote), str(remote)) == (type(local), str(local))
        return local


@pytest.fixture
def make_pair(tmp_path: Path, running: Runner) -> Iterator[Callable[..., Pair]]:
    """``make_pair(**memory_options)``: a fresh local memory and a fresh server, with the same options."""
    with ExitStack() as stack:

        def make(**options: Any) -> Pair:
            folder = tmp_path / f"pair{len(list(tmp_path.iterdir()))}"
            folder.mkdir()
            local = stack.enter_context(Memory(folder / "local.db", encoder=None, **options))
            served = stack.enter_context(Memory(folder / "served.db", encoder=None, **options))
            # Keys in a file of their own: the two memory files stay alike to the byte.
            keys = stack.enter_context(KeyStore(folder / "keys.db"))
            admin = keys.create([], admin=True, name="ops")[1]
            ana = keys.create(["ana"], name="ana")[1]
            revoked_id, revoked = keys.create(["ana"], name="old")
            keys.revoke(revoked_id)
            url = stack.enter_context(running(create_app(served, auth=keys)))
            remote = stack.enter_context(Client(url, admin))
            return Pair(local, remote, served, url, keys, ana, revoked)

        yield make


@pytest.fixture
def pair(make_pair: Callable[..., Pair]) -> Pair:
    return make_pair()


@pytest.fixture
def seeded(pair: Pair) -> Pair:
    pair.seed()
    return pair


def written(episodes: list[Episode], *, session: bool = False) -> list[Episode]:
    """Episodes a write made, without what is fresh on each side: ids, clocks (and random session ids)."""
    out = [replace(e, id="", recorded_at=EPOCH) for e in episodes]
    return [replace(e, session_id="") for e in out] if session else out


def facts_key(facts: list[Fact]) -> list[Fact]:
    """Facts with their random ids (and the clock they were learned by) replaced by what they say."""
    name = {f.id: f"{f.subject}|{f.predicate}|{f.object}|{f.negated}|{f.valid_from}" for f in facts}
    return [
        replace(
            f,
            id=name[f.id],
            superseded_by=name.get(f.superseded_by or "", f.superseded_by),
            recorded_at=EPOCH,
        )
        for f in facts
    ]


def same_facts(local: list[Fact], remote: list[Fact]) -> None:
    """Equal facts, in the same order as far as the order is defined (ties by id are random)."""
    assert all(type(f) is Fact for f in remote)
    assert [f.last_seen for f in remote] == [f.last_seen for f in local]
    mine, theirs = facts_key(local), facts_key(remote)
    assert sorted(theirs, key=repr) == sorted(mine, key=repr)


def report(r: SleepReport) -> dict[str, object]:
    assert isinstance(r, SleepReport)
    return {k: v for k, v in r.to_dict().items() if k != "seconds"}


# -- 1. the same methods, with the same signatures -------------------------------------------------
PUBLIC = sorted(n for n, f in inspect.getmembers(Memory, inspect.isfunction) if not n.startswith("_"))


@pytest.mark.parametrize("name", PUBLIC)
def test_client_has_every_method_of_memory_with_its_signature(name: str) -> None:
    assert callable(getattr(Client, name, None)), f"Client has no {name}()"
    mine, theirs = inspect.signature(getattr(Memory, name)), inspect.signature(getattr(Client, name))
    shape = [(p.name, p.kind, p.default) for p in mine.parameters.values()]
    assert [(p.name, p.kind, p.default) for p in theirs.parameters.values()] == shape
    assert typing.get_type_hints(getattr(Client, name)) == typing.get_type_hints(getattr(Memory, name))


# -- 2. writes ------------------------------------------------------------------------------------------
def test_add_one_message(pair: Pair) -> None:
    local, remote = pair.both("add", "I like green tea", user_id="ana", session_id="s1", timestamp=T0)
    assert all(type(e) is Episode for e in remote) and len(remote) == 1
    assert written(remote) == written(local)
    assert remote[0].id != local[0].id and remote[0] == pair.remote.get(remote[0].id, user_id="ana")


def test_add_several_messages_with_everything(pair: Pair) -> None:
    messages = [
        "a plain string is a user turn",
        {"role": "assistant", "content": "noted", "metadata": {"mood": "calm", "n": 1}},
        {"role": "user", "content": "named", "name": "Ana", "timestamp": "2023-05-09T08:00+02:00"},
        {"role": "tool", "content": "both", "speaker": "clock", "name": "ignored", "timestamp": date(2023, 5, 10)},
        {"role": "system", "content": "unicode: café ☕ 日本", "timestamp": 1_683_554_400.25},
    ]
    options = {
        "user_id": "ana",
        "agent_id": "planner",
        "run_id": "r9",
        "session_id": "s-all",
        "timestamp": "2023-05-08T14:00",
        "metadata": {"topic": "tea", "n": 0, "nested": {"a": [1, 2.5, None, True]}},
    }
    local, remote = pair.both("add", messages, **options)
    assert written(remote) == written(local)
    assert [e.seq for e in remote] == [0, 1, 2, 3, 4]
    assert [e.speaker for e in remote] == [None, None, "Ana", "clock", None]
    assert remote[1].metadata == {"topic": "tea", "n": 1, "nested": {"a": [1, 2.5, None, True]}, "mood": "calm"}


def test_an_add_sent_again_with_its_ids_stores_nothing_twice(pair: Pair) -> None:
    batch = [{"id": "turn-1", "content": "I moved to Lisbon"}, {"id": "turn-2", "content": "I like tea"}]
    local, remote = pair.both("add", batch, user_id="ana", session_id="s-ids", timestamp=T0)
    again_local, again_remote = pair.both("add", batch, user_id="ana", timestamp=T0)
    assert again_local == local and again_remote == remote  # the stored episodes, not new ones
    assert written(remote) == written(local) and [e.id for e in remote] == ["turn-1", "turn-2"]
    assert pair.local.stats(user_id="ana").episodes == pair.remote.stats(user_id="ana").episodes == 2


def test_add_iterables_dict_and_generated_session(pair: Pair) -> None:
    local, remote = pair.both("add", {"content": "one dict"}, user_id="ana", timestamp=T0)
    assert written(remote, session=True) == written(local, session=True)
    assert remote[0].session_id.startswith("session-")
    local, remote = [
        side.add((m for m in ("gen one", "gen two")), user_id="ana", session_id="g", timestamp=T0)
        for side in (pair.local, pair.remote)
    ]
    assert written(remote) == written(local) and len(remote) == 2


def test_add_without_timestamp_is_now_on_both(pair: Pair) -> None:
    before = datetime.now(UTC)
    local, remote = pair.both("add", "now-ish", user_id="ana", session_id="n")
    assert before <= local[0].occurred_at and before <= remote[0].occurred_at
    assert abs(remote[0].occurred_at - local[0].occurred_at) < timedelta(seconds=30)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2023, 5, 8, 14),  # naive: UTC
        datetime(2023, 5, 8, 14, tzinfo=UTC),
        datetime(2023, 5, 8, 16, tzinfo=timezone(timedelta(hours=2))),
        "2023-05-08T14:00",
        "2023-05-08T14:00:00Z",
        "2023-05-08T09:00-05:00",
        1_683_554_400,
        1_683_554_400.0,
        date(2023, 5, 8),
        "2023-05-08",
    ],
)
def test_add_times_naive_aware_and_numbers_agree(pair: Pair, when: object) -> None:
    local, remote = pair.both("add", "timed", user_id="ana", session_id="t", timestamp=when)
    assert remote[0].occurred_at == local[0].occurred_at
    assert remote[0].occurred_at.tzinfo is not None and remote[0].occurred_at.utcoffset() == timedelta(0)


def test_update_metadata_merge_and_replace(seeded: Pair) -> None:
    merged = seeded.same("update_metadata", "ep-04", {"pinned": True, "topic": "moving"}, user_id="ana")
    assert merged.metadata == {"topic": "moving", "pinned": True}
    replaced = seeded.same("update_metadata", "ep-04", {"x": [1, {"y": None}]}, user_id="ana", merge=False)
    assert replaced.metadata == {"x": [1, {"y": None}]}
    seeded.same("update_metadata", "ep-05", {}, user_id="ana", merge=False)
    seeded.same("get", "ep-05", user_id="ana")


def test_delete_and_erase(seeded: Pair) -> None:
    assert seeded.same("delete", "ep-05", user_id="ana") is None
    seeded.same_error("get", "ep-05", user_id="ana")
    seeded.same_error("delete", "ep-05", user_id="ana")
    seeded.same("list", user_id="ana", limit=100)
    assert seeded.same("erase", user_id="ana") == 7
    assert seeded.same("erase", user_id="ana") == 0
    assert seeded.same("erase", user_id="nobody") == 0
    assert seeded.same("list", user_id="bob").total == 1


@pytest.mark.parametrize("user", ["..", ".", "a b", "ana?x=1", "#frag", "Zoë", "%2e%2e"])
def test_odd_user_ids_reach_the_right_user(pair: Pair, user: str) -> None:
    for side in (pair.local, pair.served):
        side.add("odd user", user_id=user, session_id="odd", timestamp=T0)
    assert len(pair.same("sessions", user_id=user)) == 1
    pair.same("entities", user)
    same_facts(*pair.both("facts", user))
    assert pair.same("erase", user_id=user) == 1


# -- 3. reads over the same seed ---------------------------------------------------------------------
SEARCHES: list[dict[str, Any]] = [
    {},
    {"k": 1},
    {"k": 3, "expand": 1},
    {"k": 1000, "expand": 20},
    {"channels": ["lexical"]},
    {"channels": "lexical"},  # one name, not its letters
    {"channels": ("graph",)},
    {"channels": ["graph", "lexical"]},
    {"role": "user"},
    {"role": ["user", "assistant"]},
    {"session_id": "trip"},
    {"session_id": ["trip", "work"]},
    {"agent_id": "planner"},
    {"agent_id": "planner", "run_id": "r1", "expand": 2},
    {"run_id": "r2"},
    {"metadata": {"topic": "travel"}},
    {"metadata": {"tags": ["sister", "visit"]}},
    {"since": datetime(2023, 5, 8, 14, 1)},  # naive: UTC
    {"since": datetime(2023, 5, 8, 16, 1, tzinfo=timezone(timedelta(hours=2)))},
    {"since": date(2023, 5, 9)},
    {"since": "2023-05-08T14:01"},
    {"since": "2023-05-08T14:01:00+00:00"},
    {"since": T0.timestamp() + 60.5},
    {"since": int(T0.timestamp())},
    {"until": datetime(2023, 1, 1)},
    {"until": "2023-05-08T14:01Z"},
    {"since": date(2022, 1, 1), "until": date(2023, 6, 1)},
    {"now": "2023-05-09"},
    {"now": datetime(2023, 5, 9)},
    {"now": T0.timestamp()},
    {"now": date(2024, 1, 1)},
]


@pytest.mark.parametrize("options", SEARCHES, ids=lambda o: ",".join(f"{k}={v!r}" for k, v in o.items()) or "plain")
@pytest.mark.parametrize("query", ["Lisbon", "where does Ana live?", "sister Ines", "nurse hospital"])
def test_search(seeded: Pair, query: str, options: dict[str, Any]) -> None:
    local, remote = seeded.both("search", query, user_id="ana", **{"now": NOW, **options})
    assert all(type(h) is Hit for h in remote)
    assert remote == local
    assert all(h.episode.user_id == "ana" for h in remote)


def test_search_finds_something_and_expands(seeded: Pair) -> None:
    hits = seeded.same("search", "Lisbon sister", user_id="ana", k=2, expand=1, now=NOW)
    assert hits and hits[0].channels and hits[0].context
    assert hits[0].episode.id.startswith("ep-")


def test_get(seeded: Pair) -> None:
    for n in range(1, 9):
        assert seeded.same("get", f"ep-{n:02d}", user_id="ana").id == f"ep-{n:02d}"
    assert seeded.same("get", "ep-09", user_id="bob").content.startswith("Bob")


LISTINGS: list[dict[str, Any]] = [
    {},
    {"role": "assistant"},
    {"role": ["user", "tool"]},
    {"session_id": "home"},
    {"session_id": ["home", "work"]},
    {"agent_id": "planner", "run_id": "r2"},
    {"metadata": {"topic": "travel"}},
    {"metadata": {"tags": ["sister", "visit"]}},
    {"since": datetime(2023, 5, 8, 16, 1, tzinfo=timezone(timedelta(hours=2)))},
    {"since": "2023-05-08T14:01", "until": date(2023, 6, 2)},
    {"since": "2023-05-08", "until": "2023-05-08"},  # a date alone as until takes in that day
    {"until": date(2023, 5, 8)},
    {"until": T0.timestamp()},
    {"since": 1_683_554_460},
]


@pytest.mark.parametrize("options", LISTINGS, ids=lambda o: ",".join(f"{k}={v!r}" for k, v in o.items()) or "plain")
def test_list_and_pages(seeded: Pair, options: dict[str, Any]) -> None:
    whole = seeded.same("list", user_id="ana", limit=10_000, **options)
    assert type(whole) is Page
    walked: list[Episode] = []
    offset: int | None = 0
    while offset is not None:
        page = seeded.same("list", user_id="ana", limit=2, offset=offset, **options)
        walked += page.items
        offset = page.next_offset
    assert tuple(walked) == whole.items
    seeded.same("list", user_id="ana", offset=1000, **options)


def test_sessions_and_pages(seeded: Pair) -> None:
    sessions = seeded.same("sessions", user_id="ana")
    assert all(type(s) is Session for s in sessions)
    assert [s.id for s in sessions] == ["work", "trip", "home"]
    assert seeded.same("sessions", user_id="ana", limit=1, offset=1)[0].id == "trip"
    seeded.same("sessions", user_id="ana", offset=5)
    seeded.same("sessions", user_id="nobody")


def test_stats(seeded: Pair) -> None:
    assert type(seeded.same("stats", user_id="ana")) is Stats
    seeded.same("stats", user_id="nobody")
    assert seeded.same("stats").users == 2


def test_facts_history_and_entities(seeded: Pair) -> None:
    for options in ({}, {"current_only": False}, {"subject": "user"}, {"limit": 1}, {"offset": 1}, {"limit": 10_000}):
        same_facts(*seeded.both("facts", "ana", **options))
    local, remote = seeded.both("facts", "ana", current_only=False, limit=10_000)
    assert remote, "the seed should teach facts"
    by_text = {f.text: f for f in remote}
    for f in local:
        same_facts(seeded.local.history(f.id, user_id="ana"), seeded.remote.history(by_text[f.text].id, user_id="ana"))
    assert {f.object for f in remote if f.predicate == "lives_in"} == {"Porto", "Lisbon"}
    entities = seeded.same("entities", "ana")
    assert entities and all(type(e) is Entity for e in entities)
    seeded.same("entities", "ana", limit=1, offset=1)
    seeded.same("entities", "nobody")


def context_key(block: str) -> str:
    """A context block with its known facts sorted: facts of equal strength come in id order, and
    fact ids are random, so two memory files fed alike may list those in either order."""
    if "Known facts:\n" not in block:
        return block
    head, rest = block.split("Known facts:\n", 1)
    facts, sep, tail = rest.partition("Evidence:")
    return head + "Known facts:\n" + "\n".join(sorted(facts.splitlines())) + "\n" + sep + tail


def test_context(seeded: Pair) -> None:
    for options in (
        {},
        {"budget_tokens": 20},
        {"budget_tokens": 200_000},
        {"now": "2023-05-09"},
        {"now": date(2022, 2, 1)},
        {"now": datetime(2023, 7, 1, 14, tzinfo=timezone(timedelta(hours=2)))},
    ):
        local, remote = seeded.both("context", "where does Ana live? Lisbon", user_id="ana", **{"now": NOW, **options})
        assert type(remote) is str and context_key(remote) == context_key(local)
        assert "Lisbon" in local or options == {"budget_tokens": 20}
    # context marks the facts it showed as recalled; the marks agree as well
    same_facts(*seeded.both("facts", "ana", current_only=False))


def test_consolidate(seeded: Pair) -> None:
    local, remote = seeded.both("consolidate", "ana")
    assert report(remote) == report(local) and local.summaries == 3
    local, remote = seeded.both("consolidate", "ana")  # idempotent
    assert report(remote) == report(local)
    assert remote["users"] == 1  # still reads like the dict it used to be
    same_facts(*seeded.both("facts", "ana", current_only=False))


# -- 4. the same errors with the same messages ----------------------------------------------------------
BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], type[HippodexError], str]] = [
    ("add", ("",), {"user_id": "ana"}, ValidationError, "content is empty"),
    ("add", ("   ",), {"user_id": "ana"}, ValidationError, "content is empty"),
    ("add", ([],), {"user_id": "ana"}, ValidationError, "messages is empty"),
    ("add", (5,), {"user_id": "ana"}, ValidationError, "messages must be a list"),
    ("add", ([5],), {"user_id": "ana"}, ValidationError, "messages[0] must be a dict"),
    ("add", ({"role": "wizard", "content": "x"},), {"user_id": "ana"}, ValidationError, "messages[0].role"),
    ("add", ({"content": "x", "extra": 1},), {"user_id": "ana"}, ValidationError, "unknown field(s): 'extra'"),
    ("add", ("x\ud800y",), {"user_id": "ana"}, ValidationError, "lone surrogate (U+D800)"),
    ("add", ("x",), {"user_id": "ana\udc00"}, ValidationError, "user_id is not valid Unicode"),
    ("add", ("x\x00",), {"user_id": "ana"}, ValidationError, "NUL"),
    ("add", ("x" * 100_001,), {"user_id": "ana"}, ValidationError, "the limit is 100000"),
    ("add", ("x",), {"user_id": None}, ValidationError, "user_id is required"),
    ("add", ("x",), {"user_id": 5}, ValidationError, "user_id must be a string, got int"),
    ("add", ("x",), {"user_id": ""}, ValidationError, "user_id must not be empty"),
    ("add", ("x",), {"user_id": "a" * 257}, ValidationError, "the limit is 256"),
    ("add", ("x",), {"user_id": "a\nb"}, ValidationError, "control characters"),
    ("add", ("x",), {"user_id": "ana", "session_id": ""}, ValidationError, "session_id must not be empty"),
    ("add", ("x",), {"user_id": "ana", "metadata": [1]}, ValidationError, "metadata must be a JSON object"),
    ("add", ("x",), {"user_id": "ana", "metadata": {1: 2}}, ValidationError, "keys must be strings"),
    ("add", ("x",), {"user_id": "ana", "metadata": {"a": float("nan")}}, ValidationError, "not JSON-serializable"),
    ("add", ("x",), {"user_id": "ana", "metadata": {"a": object()}}, ValidationError, "not JSON-serializable"),
    ("add", ("x",), {"user_id": "ana", "metadata": {"a": "\ud800"}}, ValidationError, "lone surrogate"),
    ("add", ({"content": "x", "metadata": 3},), {"user_id": "ana"}, ValidationError, "messages[0].metadata"),
    ("add", ("x",), {"user_id": "ana", "timestamp": True}, ValidationError, "got a boolean"),
    ("add", ("x",), {"user_id": "ana", "timestamp": "yesterday"}, ValidationError, "not an ISO 8601 time"),
    ("add", ("x",), {"user_id": "ana", "timestamp": float("inf")}, ValidationError, "finite number"),
    ("add", ("x",), {"user_id": "ana", "timestamp": 1e20}, ValidationError, "out of range"),
    ("add", ("x",), {"user_id": "ana", "timestamp": "9999-12-31T23:59-01:00"}, ValidationError, "representable"),
    ("add", ({"content": "x", "timestamp": "soon"},), {"user_id": "ana"}, ValidationError, "messages[0].timestamp"),
    ("search", ("x",), {"user_id": "ana", "k": 0}, ValidationError, "k must be between 1 and 1000, got 0"),
    (
        "add",
        ([{"id": "i", "content": "a"}, {"id": "i", "content": "b"}],),
        {"user_id": "ana"},
        ValidationError,
        "messages[1].id 'i' repeats messages[0].id",
    ),
    # An empty list would read as "no filter" and widen "only these sessions" to all of them.
    ("search", ("x",), {"user_id": "ana", "session_id": []}, ValidationError, "session_id: an empty list"),
    ("search", ("x",), {"user_id": "ana", "role": []}, ValidationError, "role: an empty list"),
    ("search", ("x",), {"user_id": "ana", "k": 1001}, ValidationError, "k must be between 1 and 1000"),
    ("search", ("x",), {"user_id": "ana", "k": True}, ValidationError, "k must be an integer"),
    ("search", ("x",), {"user_id": "ana", "k": "5"}, ValidationError, "k must be an integer"),
    ("search", ("",), {"user_id": "ana"}, ValidationError, "query is empty"),
    ("search", (None,), {"user_id": "ana"}, ValidationError, "query must be a string"),
    ("search", ("x",), {"user_id": "ana", "channels": ["nope"]}, ValidationError, "channels: unknown ['nope']"),
    ("search", ("x",), {"user_id": "ana", "channels": "nope"}, ValidationError, "channels: unknown ['nope']"),
    ("search", ("x",), {"user_id": "ana", "channels": []}, ValidationError, "channels: none given"),
    ("search", ("x",), {"user_id": "ana", "channels": ["dense"]}, ValidationError, "'dense' needs an encoder"),
    ("search", ("x",), {"user_id": "ana", "role": "wizard"}, ValidationError, "role: 'wizard' is not one of"),
    ("search", ("x",), {"user_id": "ana", "expand": 21}, ValidationError, "expand must be an integer"),
    ("search", ("x",), {"user_id": "ana", "since": "nope"}, ValidationError, "since 'nope' is not an ISO 8601"),
    ("search", ("x",), {"user_id": "ana", "until": True}, ValidationError, "until must be a time"),
    ("search", ("x",), {"user_id": "ana", "now": float("nan")}, ValidationError, "now must be a finite"),
    ("search", ("x",), {"user_id": "ana", "metadata": [1]}, ValidationError, "metadata filter must be"),
    ("search", ("x",), {"user_id": "ana", "session_id": ""}, ValidationError, "session_id must not be empty"),
    ("get", ("nope",), {"user_id": "ana"}, MemoryNotFound, "no episode 'nope' for user 'ana'"),
    ("get", ("ep-09",), {"user_id": "ana"}, MemoryNotFound, "no episode 'ep-09' for user 'ana'"),  # bob's
    ("get", ("..",), {"user_id": "ana"}, MemoryNotFound, "no episode '..'"),
    ("get", ("",), {"user_id": "ana"}, ValidationError, "episode_id must not be empty"),
    ("get", ("ep-01",), {"user_id": None}, ValidationError, "user_id is required"),
    ("delete", ("nope",), {"user_id": "ana"}, MemoryNotFound, "no episode 'nope'"),
    ("update_metadata", ("nope", {"a": 1}), {"user_id": "ana"}, MemoryNotFound, "no episode 'nope'"),
    ("update_metadata", ("ep-01", [1]), {"user_id": "ana"}, ValidationError, "metadata must be a JSON object"),
    ("update_metadata", ("ep-01", {"a": "x" * 70_000}), {"user_id": "ana"}, ValidationError, "larger than"),
    ("erase", (), {"user_id": None}, ValidationError, "user_id is required"),
    ("erase", (), {"user_id": 5}, ValidationError, "user_id must be a string"),
    ("erase", (), {"user_id": " "}, ValidationError, "user_id must not be empty"),
    ("list", (), {"user_id": "ana", "limit": 0}, ValidationError, "limit must be between 1 and 10000"),
    ("list", (), {"user_id": "ana", "offset": -1}, ValidationError, "offset must be an integer"),
    ("list", (), {"user_id": "ana", "offset": 2**63}, ValidationError, "offset must be an integer"),
    ("list", (), {"user_id": "ana", "role": ["user", "wizard"]}, ValidationError, "role: 'wizard'"),
    ("list", (), {"user_id": "ana", "since": "nope"}, ValidationError, "since 'nope'"),
    ("list", (), {"user_id": "ana", "metadata": [1]}, ValidationError, "metadata filter must be"),
    ("sessions", (), {"user_id": "ana", "limit": 0}, ValidationError, "limit must be between"),
    ("sessions", (), {"user_id": None}, ValidationError, "user_id is required"),
    ("facts", (None,), {}, ValidationError, "user_id is required"),
    ("facts", ("ana",), {"limit": 10_001}, ValidationError, "limit must be between 1 and 10000"),
    ("facts", ("ana",), {"subject": ""}, ValidationError, "subject must not be empty"),
    ("history", ("nope",), {"user_id": "ana"}, MemoryNotFound, "no fact 'nope' for user 'ana'"),
    ("history", ("",), {"user_id": "ana"}, ValidationError, "fact_id must not be empty"),
    ("entities", ("ana",), {"offset": -1}, ValidationError, "offset must be an integer"),
    ("entities", (5,), {}, ValidationError, "user_id must be a string"),
    ("context", ("x",), {"user_id": "ana", "budget_tokens": 5}, ValidationError, "budget_tokens must be"),
    ("context", ("",), {"user_id": "ana"}, ValidationError, "query is empty"),
    ("context", ("x",), {"user_id": "ana", "k": 0}, ValidationError, "k must be between"),
    ("context", ("x",), {"user_id": "ana", "now": "later"}, ValidationError, "now 'later'"),
    ("consolidate", (5,), {}, ValidationError, "user_id must be a string"),
    ("consolidate", ("ana",), {"cold_after_days": -1}, ValidationError, "cold_after_days must be"),
    ("consolidate", ("ana",), {"cold_after_days": 1, "cold_tier": "gold"}, ValidationError, "tier: 'gold'"),
    ("stats", (), {"user_id": ""}, ValidationError, "user_id must not be empty"),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "error", "fragment"),
    BAD_CALLS,
    ids=[f"{c[0]}-{c[4][:40]}" for c in BAD_CALLS],
)
def test_bad_input_raises_the_same_error(
    seeded: Pair, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[HippodexError], fragment: str
) -> None:
    before = seeded.served.stats()
    raised = seeded.same_error(name, *args, **kwargs)
    assert type(raised) is error and fragment in str(raised)
    assert seeded.served.stats() == before  # nothing was written on the server


def test_the_merged_metadata_limit_is_checked_on_both(seeded: Pair) -> None:
    seeded.same("update_metadata", "ep-01", {"a": "x" * 40_000}, user_id="ana")
    seeded.same_error("update_metadata", "ep-01", {"b": "y" * 40_000}, user_id="ana")


def test_wrong_key_is_an_auth_error(pair: Pair) -> None:
    for key, status, fragment in [
        ("hdx_not-a-real-key-000000000000000", 401, "invalid or revoked API key"),
        (pair.revoked_key, 401, "invalid or revoked API key"),
        (None, 401, "missing API key"),
    ]:
        with Client(pair.url, key) as c, pytest.raises(AuthError) as info:
            c.search("x", user_id="ana")
        assert info.value.status == status and fragment in str(info.value)
        assert isinstance(info.value, HippodexError)
    with Client(pair.url, pair.ana_key) as c:
        assert c.list(user_id="ana").total == 0
        with pytest.raises(AuthError) as info:
            c.list(user_id="bob")
        assert info.value.status == 403 and "user_id" in str(info.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # free once the block ends: nothing listens there


def test_a_server_that_is_not_running_is_a_clear_store_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with Client(url, "hdx_x", timeout=5) as c:
        for call in (lambda: c.add("x", user_id="ana"), lambda: c.search("x", user_id="ana"), c.stats):
            with pytest.raises(StoreError) as info:
                call()
            message = str(info.value)
            assert url in message and "cannot reach" in message and "hippodex serve" in message
            assert info.value.__cause__ is None and info.value.__suppress_context__  # no httpx traceback shown


def test_a_url_that_is_not_a_hippodex_server_is_a_clear_store_error(pair: Pair) -> None:
    for base in (pair.url + "/v1", pair.url + "/health"):
        with Client(base, "hdx_x") as c:
            for name, args in (("search", ("x",)), ("stats", ())):
                with pytest.raises(StoreError) as info:
                    getattr(c, name)(*args, user_id="ana")
                assert base in str(info.value) and "404" in str(info.value)


def test_a_closed_client_is_a_store_error(pair: Pair) -> None:
    c = Client(pair.url)
    c.close()
    with pytest.raises(StoreError, match="closed"):
        c.stats()


async def _not_hippodex(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A web server that is not hippodex: HTML for every path, and a redirect under /old."""
    if scope["type"] != "http":
        return
    moved = scope["path"].startswith("/old")
    status, headers = (307, [(b"location", b"https://example.org/")]) if moved else (200, [])
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/html"), *headers]}
    )
    await send({"type": "http.response.body", "body": b"" if moved else b"<html>hello</html>"})


def test_a_server_that_is_not_hippodex_is_a_store_error(running: Runner) -> None:
    with running(_not_hippodex) as url:
        with Client(url) as c, pytest.raises(StoreError) as info:
            c.stats(user_id="ana")
        assert "not JSON" in str(info.value) and url in str(info.value)
        with Client(url + "/old") as c, pytest.raises(StoreError) as info:
            c.stats(user_id="ana")
        assert "redirected to https://example.org/" in str(info.value)


@pytest.mark.parametrize("url", ["localhost:8765", "", "ftp://127.0.0.1"])
def test_a_url_without_http_is_refused_at_once(url: str) -> None:
    with pytest.raises(ConfigError, match="http://"):
        Client(url)


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("export", (), {"user_id": "ana"}),
        ("import_episodes", ([],), {}),
        ("reindex", (), {}),
        ("move_tier", ("int8",), {"user_id": "ana"}),
    ],
)
def test_what_rest_cannot_do_is_a_config_error(pair: Pair, name: str, args: tuple[Any, ...], kwargs: Any) -> None:
    with pytest.raises(ConfigError) as info:
        getattr(pair.remote, name)(*args, **kwargs)
    assert name in str(info.value) and pair.url in str(info.value)


# -- 5. what the server once could not do, and what it deliberately does not serve -------------------------
def test_context_with_k_and_expand_defaults_work(seeded: Pair) -> None:
    local, remote = seeded.both("context", "Lisbon", user_id="ana", now=NOW, k=20, expand=1)
    assert context_key(remote) == context_key(local)


@pytest.mark.parametrize("options", [{"k": 5}, {"expand": 0}, {"k": 3, "expand": 2}])
def test_context_with_k_and_expand(seeded: Pair, options: dict[str, int]) -> None:
    local, remote = seeded.both("context", "Lisbon", user_id="ana", now=NOW, **options)
    assert context_key(remote) == context_key(local)


def test_history_without_user_id(seeded: Pair) -> None:
    fact = seeded.remote.facts("ana")[0]
    local = next(f for f in seeded.local.facts("ana") if f.text == fact.text)
    same_facts(seeded.local.history(local.id), seeded.remote.history(fact.id))


def test_consolidate_every_user(seeded: Pair) -> None:
    local, remote = seeded.both("consolidate")
    assert report(remote) == report(local)


def test_consolidate_with_cold_vectors(seeded: Pair) -> None:
    local, remote = seeded.both("consolidate", "ana", cold_after_days=30, cold_tier="binary")
    assert report(remote) == report(local)


def test_consolidate_reports_everything_it_learned(make_pair: Callable[..., Pair]) -> None:
    pair = make_pair(learn_on_add=False)  # so consolidate is what learns (and counts mentions)
    pair.seed()
    local, remote = pair.both("consolidate", "ana")
    assert report(remote) == report(local)  # what SleepReport.to_dict() carries agrees...
    assert local.learned.mentions > 0
    assert replace(remote.learned) == replace(local.learned)  # ...and so do the learn counts it leaves out


@pytest.mark.parametrize("call", ["get", "delete", "update_metadata", "erase", "sessions", "facts", "entities"])
def test_ids_with_a_slash(pair: Pair, call: str) -> None:
    record = {**SEED[0], "id": "ep/1", "user_id": "team/ana"}
    pair.seed([record])
    args: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
        "get": (("ep/1",), {"user_id": "team/ana"}),
        "delete": (("ep/1",), {"user_id": "team/ana"}),
        "update_metadata": (("ep/1", {"a": 1}), {"user_id": "team/ana"}),
        "erase": ((), {"user_id": "team/ana"}),
        "sessions": ((), {"user_id": "team/ana"}),
        "facts": (("team/ana",), {}),
        "entities": (("team/ana",), {}),
    }
    positional, keywords = args[call]
    local, remote = pair.both(call, *positional, **keywords)
    if call == "facts":
        same_facts(local, remote)
    else:
        assert remote == local


# Export, import, re-embedding and re-tiering are not served over REST: they are run where the
# database is. The client keeps Memory's signatures for them and says so plainly.
@pytest.mark.parametrize(
    ("call", "args", "instead"),
    [
        ("export", {"user_id": "ana"}, "`hippodex export`"),
        ("import_episodes", {"records": SEED}, "`hippodex import`"),
        ("reindex", {}, "`hippodex reindex`"),
        ("move_tier", {"tier": "int8", "user_id": "ana"}, "Memory.move_tier"),
    ],
)
def test_admin_operations_are_refused_by_name(seeded: Pair, call: str, args: dict[str, Any], instead: str) -> None:
    with pytest.raises(ConfigError, match="not available through the REST API") as caught:
        result = getattr(seeded.remote, call)(**args)
        if call == "export":  # a generator: the refusal comes on the first read
            next(iter(result))
    assert instead in str(caught.value) and seeded.remote.url in str(caught.value)
    assert seeded.remote.list(user_id="ana", limit=100) == seeded.local.list(user_id="ana", limit=100)
