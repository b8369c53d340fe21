"""Store edge cases: JSON metadata filters, sessions after deletes, and paths that cannot be a memory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hippodex import ConfigError, Memory, SchemaError, StoreError
from hippodex.config import default_db_path
from hippodex.store import sqlite as sqlite_module

# -- metadata filters: SQLite answers as PostgreSQL's jsonb equality does ---------------------

STORED: dict[str, dict[str, Any]] = {
    "null": {"z": None},
    "quote": {'a"b': "q", "a.b": 1},
    "object": {"d": {"x": 1, "y": 2}},
    "one": {"b": 1},
    "true": {"b": True},
    "real": {"n": 1.0},
    "int": {"n2": 1},
    "text": {"s": 'Ünï "x"', "t": "null"},
    "array": {"a": [1, {"p": None, "q": True}]},
    "big": {"big": 123456789012345678901234567890},
}

FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    ({"z": None}, {"null"}),
    ({"missing": None}, set()),  # an absent key is not null
    ({'a"b': "q"}, {"quote"}),
    ({"a.b": 1}, {"quote"}),  # a dot is part of the key, not a path
    ({"d": {"y": 2, "x": 1}}, {"object"}),  # key order is irrelevant
    ({"d": {"x": 1}}, set()),
    ({"d": {"x": 1.0, "y": 2}}, {"object"}),
    ({"b": True}, {"true"}),  # true is not 1...
    ({"b": 1}, {"one"}),  # ...nor 1 true
    ({"n": 1}, {"real"}),  # 1 equals 1.0 both ways
    ({"n2": 1.0}, {"int"}),
    ({"s": 'Ünï "x"'}, {"text"}),
    ({"s": 'ünï "x"'}, set()),  # strings compare exactly
    ({"t": None}, set()),  # the string "null" is not null
    ({"a": [1, {"q": True, "p": None}]}, {"array"}),
    ({"a": [{"q": True, "p": None}, 1]}, set()),  # arrays compare in order
    ({"big": 123456789012345678901234567890}, {"big"}),
    ({"big": 123456789012345678901234567891}, set()),  # past 64 bits, still exact
    ({"big": 1.2345678901234568e29}, set()),
    ({"b": True, "z": None}, set()),
]


@pytest.fixture
def tagged(lexical_memory: Memory) -> tuple[Memory, dict[str, str]]:
    """A memory holding one episode per entry of STORED; returns it and episode id -> name."""
    names = {}
    for name, meta in STORED.items():
        (ep,) = lexical_memory.add(f"note {name} about green tea", user_id="u", session_id="s", metadata=meta)
        names[ep.id] = name
    return lexical_memory, names


@pytest.mark.parametrize(("wanted", "expected"), FILTERS, ids=[repr(f) for f, _ in FILTERS])
def test_metadata_filter_is_json_equality(
    tagged: tuple[Memory, dict[str, str]], wanted: dict[str, Any], expected: set[str]
) -> None:
    memory, names = tagged
    listed = memory.list(user_id="u", metadata=wanted, limit=100)
    assert {names[ep.id] for ep in listed.items} == expected
    assert listed.total == len(expected)
    found = memory.search("green tea", user_id="u", k=20, metadata=wanted)
    assert {names[hit.episode.id] for hit in found} == expected


# -- sessions follow the episodes they still have ----------------------------------------------

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def _three_turns(memory: Memory) -> list[str]:
    ids = []
    for i, text in enumerate(["first turn", "second turn", "third turn"]):
        (ep,) = memory.add(text, user_id="u", session_id="s", timestamp=T0 + timedelta(hours=i))
        ids.append(ep.id)
    return ids


def test_deleting_turns_refits_the_session_and_the_last_removes_it(lexical_memory: Memory) -> None:
    first, second, third = _three_turns(lexical_memory)
    lexical_memory.add("another talk", user_id="u", session_id="other", timestamp=T0)

    lexical_memory.delete(first, user_id="u")
    (s,) = [s for s in lexical_memory.sessions(user_id="u") if s.id == "s"]
    assert (s.started_at, s.ended_at, s.episodes) == (T0 + timedelta(hours=1), T0 + timedelta(hours=2), 2)

    lexical_memory.delete(third, user_id="u")
    (s,) = [s for s in lexical_memory.sessions(user_id="u") if s.id == "s"]
    assert (s.started_at, s.ended_at, s.episodes) == (T0 + timedelta(hours=1), T0 + timedelta(hours=1), 1)

    lexical_memory.delete(second, user_id="u")
    assert [s.id for s in lexical_memory.sessions(user_id="u")] == ["other"]
    assert lexical_memory.stats(user_id="u").sessions == 1
    assert lexical_memory.search("turn", user_id="u") == []


def test_a_session_emptied_by_deletes_can_be_written_again(lexical_memory: Memory) -> None:
    for eid in _three_turns(lexical_memory):
        lexical_memory.delete(eid, user_id="u")
    (ep,) = lexical_memory.add("a new start", user_id="u", session_id="s", timestamp=T0 + timedelta(days=1))
    (s,) = lexical_memory.sessions(user_id="u")
    assert (s.id, s.started_at, s.ended_at, s.episodes) == ("s", ep.occurred_at, ep.occurred_at, 1)
    assert [h.episode.id for h in lexical_memory.search("new start", user_id="u")] == [ep.id]


def test_erase_leaves_no_session(lexical_memory: Memory) -> None:
    _three_turns(lexical_memory)
    lexical_memory.add("someone else", user_id="v", session_id="s", timestamp=T0)
    assert lexical_memory.erase(user_id="u") == 3
    assert lexical_memory.sessions(user_id="u") == []
    assert lexical_memory.stats(user_id="u").sessions == 0
    assert [s.id for s in lexical_memory.sessions(user_id="v")] == ["s"]


def test_a_session_names_its_agent_and_run_only_while_its_writers_agree(lexical_memory: Memory) -> None:
    m = lexical_memory
    m.add("plan the trip", user_id="u", session_id="s", agent_id="planner", run_id="r1", timestamp=T0)
    m.add("and the hotel", user_id="u", session_id="s", agent_id="planner", run_id="r1", timestamp=T0)
    (s,) = m.sessions(user_id="u")
    assert (s.agent_id, s.run_id, s.episodes) == ("planner", "r1", 2)
    m.add("booked it", user_id="u", session_id="s", agent_id="booker", run_id="r1", timestamp=T0)
    (s,) = m.sessions(user_id="u")
    assert (s.agent_id, s.run_id, s.episodes) == (None, "r1", 3)  # two agents: neither is the session's
    m.add("one more", user_id="u", session_id="s", agent_id="planner", timestamp=T0)
    (s,) = m.sessions(user_id="u")
    assert (s.agent_id, s.run_id, s.episodes) == (None, None, 4)  # once mixed, stays mixed
    assert {e.agent_id for e in m.list(user_id="u").items} == {"planner", "booker"}  # each episode keeps its own


# -- paths that cannot be a memory -------------------------------------------------------------


def test_an_empty_path_is_refused_rather_than_a_throwaway_database() -> None:
    with pytest.raises(StoreError, match="empty"):
        Memory("", encoder=None)


def test_an_empty_hippodex_db_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIPPODEX_DB", "")
    with pytest.raises(ConfigError, match="HIPPODEX_DB is set but empty"):
        Memory(encoder=None)
    monkeypatch.delenv("HIPPODEX_DB")
    assert default_db_path() == "memory.db"


def test_in_memory_databases_still_work() -> None:
    with Memory(":memory:", encoder=None) as m:
        m.add("kept while open", user_id="u")
        assert m.stats().episodes == 1


def test_home_folder_is_expanded_for_the_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with Memory("~/m.db", encoder=None) as m:
        m.add("hello", user_id="u")
        assert m.path == str(tmp_path / "m.db")
    assert (tmp_path / "m.db").is_file()


def test_a_folder_is_refused_as_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"is a folder, not a database file") as caught:
        Memory(".", encoder=None)  # what the CLI's --db "" arrives as
    assert not isinstance(caught.value, SchemaError)


def test_a_missing_folder_says_so_after_expanding_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(StoreError, match=rf"folder {tmp_path}/nope does not exist"):
        Memory("~/nope/m.db", encoder=None)


def test_a_file_opened_read_only_says_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's read-only open mode stands in for a chmod 444 file, which root could still write."""
    kept, empty = tmp_path / "kept.db", tmp_path / "empty.db"
    Memory(kept, encoder=None).close()
    empty.touch()
    real_connect = sqlite3.connect

    def read_only(path: str, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(f"file:{path}?mode=ro", uri=True, **kwargs)

    monkeypatch.setattr(sqlite_module.sqlite3, "connect", read_only)
    with Memory(kept, encoder=None) as m:  # reading needs no write
        assert m.stats().episodes == 0
        with pytest.raises(StoreError, match=r"opened read-only; hippodex needs to write the file"):
            m.add("hello", user_id="u")
    with pytest.raises(StoreError, match=r"cannot open .*empty.db: it was opened read-only") as caught:
        Memory(empty, encoder=None)  # a new memory must create its tables
    assert not isinstance(caught.value, SchemaError)


_OPEN_AND_ADD = """
import sys
from hippodex import Memory
try:
    with Memory(sys.argv[1], encoder=None) as m:
        m.add("hello", user_id="u")
    print("ok")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def _as_unprivileged(path: Path) -> str:
    """What opening ``path`` and adding to it prints, run as a user without write access."""
    if os.geteuid() != 0:
        return subprocess.run([sys.executable, "-c", _OPEN_AND_ADD, str(path)], capture_output=True, text=True).stdout
    try:
        run = subprocess.run(
            [sys.executable, "-c", _OPEN_AND_ADD, str(path)], capture_output=True, text=True, user=65534
        )
    except OSError as exc:
        pytest.skip(f"running as root and cannot drop to an unprivileged user: {exc}")
    if run.returncode != 0 or not run.stdout:
        pytest.skip(f"an unprivileged user cannot run hippodex here: {run.stderr[-300:]}")
    return run.stdout


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user can reach (tmp_path's parents are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="hdx-ro-"))
    folder.chmod(0o755)
    yield folder
    folder.chmod(0o755)
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


@pytest.mark.parametrize("folder_writable", [True, False])
def test_a_chmod_444_file_says_read_only_not_corrupt(shared_folder: Path, folder_writable: bool) -> None:
    path = shared_folder / "m.db"
    Memory(path, encoder=None).close()
    path.chmod(0o444)
    shared_folder.chmod(0o777 if folder_writable else 0o555)
    out = _as_unprivileged(path)
    assert out.startswith("StoreError") and "the file is read-only" in out, out
    assert "not a SQLite database" not in out


# -- a closed memory ----------------------------------------------------------------------------


def test_a_closed_memory_says_so_on_every_use(db_target: str) -> None:
    memory = Memory(db_target, encoder=None)
    memory.add("I keep a turtle named Shelly.", user_id="ana")
    memory.close()
    uses = {
        "add": lambda: memory.add("more", user_id="ana"),
        "search": lambda: memory.search("turtle", user_id="ana"),
        "list": lambda: memory.list(user_id="ana"),
        "stats": lambda: memory.stats(),
        "facts": lambda: memory.facts("ana"),
    }
    for name, use in uses.items():
        with pytest.raises(StoreError, match="this memory was closed; open it again") as caught:
            use()
        assert not isinstance(caught.value.__cause__, sqlite3.Error), name
    memory.close()  # closing twice is harmless
    with Memory(db_target, encoder=None) as again:  # and nothing acknowledged was lost
        assert [e.content for e in again.list(user_id="ana").items] == ["I keep a turtle named Shelly."]
