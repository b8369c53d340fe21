"""Token sets: every token vector of a user as one matrix, kept between searches.

The cache is exercised with plain rows; the stores' ``token_set`` on real
SQLite files and a real PostgreSQL server (the ``memory`` fixture's backends).
"""

from __future__ import annotations

import numpy as np

from hippodex import Memory
from hippodex.encode.base import Encoder
from hippodex.encode.late_interaction import LateInteraction
from hippodex.encode.quantize import pack_int8, unpack_int8
from hippodex.store.token_sets import EMPTY, TokenCache, TokenSet


def _row(rowid: int, count: int, dim: int = 4) -> tuple[int, int, bytes]:
    rng = np.random.default_rng(rowid)
    v = rng.normal(size=(count, dim))
    return rowid, count, pack_int8(v / np.linalg.norm(v, axis=1, keepdims=True))


def _of(ts: TokenSet) -> dict[int, np.ndarray]:
    """Each episode's rows of the set."""
    ends = [*ts.starts[1:].tolist(), len(ts.matrix)]
    return {r: ts.matrix[a:b] for r, a, b in zip(ts.rowids.tolist(), ts.starts.tolist(), ends, strict=True)}


def test_a_set_keeps_each_episodes_rows_in_order() -> None:
    rows = [_row(2, 3), _row(5, 1), _row(9, 2)]
    ts = TokenSet.from_rows(rows)
    assert ts.rowids.tolist() == [2, 5, 9] and ts.starts.tolist() == [0, 3, 4] and ts.matrix.shape == (6, 4)
    np.testing.assert_array_equal(_of(ts)[9], unpack_int8([rows[2]])[9])
    assert TokenSet.from_rows([]) is EMPTY


def test_extending_gives_the_set_read_at_once() -> None:
    rows = [_row(1, 2), _row(4, 3), _row(6, 1)]
    whole, parts = TokenSet.from_rows(rows), TokenSet.from_rows(rows[:1]).extend(TokenSet.from_rows(rows[1:]))
    for a, b in zip(
        (whole.rowids, whole.starts, whole.matrix), (parts.rowids, parts.starts, parts.matrix), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert EMPTY.extend(whole) is whole and whole.extend(EMPTY) is whole


def test_the_cache_reads_appends_only_until_a_deletion() -> None:
    stored = [_row(1, 2), _row(2, 2)]
    asked: list[int] = []

    def read(after: int) -> list[tuple[int, int, bytes]]:
        asked.append(after)
        return [r for r in stored if r[0] > after]

    cache = TokenCache()
    assert cache.get("ana", "m", (1, 0), read).rowids.tolist() == [1, 2]
    assert cache.get("ana", "m", (1, 0), read).rowids.tolist() == [1, 2]
    assert asked == [0]  # the same version: nothing read
    stored.append(_row(3, 1))
    assert cache.get("ana", "m", (2, 0), read).rowids.tolist() == [1, 2, 3]
    assert asked == [0, 2]  # an append: only what came after
    stored.pop(0)
    assert cache.get("ana", "m", (3, 1), read).rowids.tolist() == [2, 3]
    assert asked == [0, 2, 0]  # a deletion: everything again
    cache.drop("ana")
    cache.get("ana", "m", (3, 1), read)
    assert asked[-1] == 0


def test_rows_just_written_extend_a_current_set_or_start_a_new_users() -> None:
    def nothing(after: int) -> list[tuple[int, int, bytes]]:
        raise AssertionError("a set kept current by writes is not read")

    cache = TokenCache()
    cache.append("ana", "m", (0, 0), (1, 0), [_row(1, 2)])  # a new user: the set starts here
    cache.append("ana", "m", (1, 0), (2, 0), [_row(4, 1)])
    assert cache.get("ana", "m", (2, 0), nothing).rowids.tolist() == [1, 4]
    # A write the cache did not see in between: no guessing, the next get reads.
    cache.append("ana", "m", (3, 0), (4, 0), [_row(9, 1)])
    assert cache.get("ana", "m", (4, 0), lambda after: [_row(6, 1), _row(9, 1)]).rowids.tolist() == [1, 4, 6, 9]
    # A user with history the cache never read is left to get, which reads it all.
    cache.append("bo", "m", (5, 0), (6, 0), [_row(12, 1)])
    assert cache.get("bo", "m", (6, 0), lambda after: [_row(11, 1), _row(12, 1)]).rowids.tolist() == [11, 12]


def test_the_cache_lets_the_least_recently_used_go_past_its_budget() -> None:
    one = TokenSet.from_rows([_row(1, 100)])
    cache = TokenCache(limit_bytes=int(one.nbytes * 3.5))
    reads: list[str] = []

    def reader(user: str):  # type: ignore[no-untyped-def]
        def read(after: int) -> list[tuple[int, int, bytes]]:
            reads.append(user)
            return [_row(1, 100)] if after == 0 else []

        return read

    for user in ("a", "b", "c"):
        cache.get(user, "m", (1, 0), reader(user))
    cache.get("a", "m", (1, 0), reader("a"))  # a is used again: b is now the oldest
    cache.get("d", "m", (1, 0), reader("d"))
    assert reads == ["a", "b", "c", "d"]
    cache.get("a", "m", (1, 0), reader("a"))
    cache.get("b", "m", (1, 0), reader("b"))
    assert reads == ["a", "b", "c", "d", "b"]  # a stayed, b was let go


def test_stores_give_every_token_vector_and_follow_writes(memory: Memory) -> None:
    name = LateInteraction.name
    memory.add(["My turtles love the sun", "I moved to Lisbon"], user_id="ana", session_id="s1")
    first = memory.store.token_set("ana", name)
    rowids = memory.store.layout("ana").rowids.tolist()
    assert first.rowids.tolist() == rowids
    held = memory.store.part_vectors("ana", name, rowids)
    for r, m in _of(first).items():
        np.testing.assert_array_equal(m, held[r])
    assert memory.store.token_set("ana", name) is first  # nothing written since: the same set
    memory.add("Paris was lovely this spring", user_id="ana", session_id="s2")
    grown = memory.store.token_set("ana", name)
    assert len(grown.rowids) == 3 and grown.rowids[:2].tolist() == rowids
    # reindex replaces rows: the set is read again, not appended to
    memory.store.put_parts("ana", name, {rowids[0]: np.zeros((0, LateInteraction.dim))})
    assert memory.store.token_set("ana", name).rowids.tolist() == grown.rowids[1:].tolist()
    gone = memory.store.by_rowids("ana", [rowids[1]])[rowids[1]]
    memory.delete(gone.id, user_id="ana")
    assert rowids[1] not in memory.store.token_set("ana", name).rowids.tolist()
    assert len(memory.store.token_set("bo", name).rowids) == 0
    memory.erase(user_id="ana")
    assert len(memory.store.token_set("ana", name).rowids) == 0


def test_another_handle_sees_what_one_wrote(db_target: str, encoder: Encoder) -> None:
    """Two handles on one database (two processes of a server): the version comes from the store."""
    name = LateInteraction.name
    with Memory(db_target, encoder=encoder) as one, Memory(db_target, encoder=encoder) as two:
        one.add("My turtles love the sun", user_id="ana")
        assert len(two.store.token_set("ana", name).rowids) == 1
        one.add("I moved to Lisbon", user_id="ana")
        assert len(two.store.token_set("ana", name).rowids) == 2
        [ep] = one.search("turtles", user_id="ana", k=1)
        one.delete(ep.episode.id, user_id="ana")
        assert len(two.store.token_set("ana", name).rowids) == 1
