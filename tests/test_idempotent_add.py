"""A message with the caller's own id is stored once, however often the add is retried."""

from __future__ import annotations

import pytest

from hippodex import Memory, ValidationError


def test_a_retried_add_stores_each_message_once(lexical_memory: Memory) -> None:
    m = lexical_memory
    batch = [{"id": f"turn-{i}", "content": f"note {i}", "role": "user"} for i in range(3)]
    first = m.add(batch, user_id="ana")
    again = m.add(batch, user_id="ana")  # no session_id: a retry would get a new random one
    assert again == first and [e.id for e in first] == ["turn-0", "turn-1", "turn-2"]
    assert m.stats(user_id="ana").episodes == 3
    # Half stored before a crash: the retry adds only the rest, and returns all in order.
    more = [*batch, {"id": "turn-3", "content": "note 3"}]
    out = m.add(more, user_id="ana", session_id=first[0].session_id)
    assert [e.id for e in out] == ["turn-0", "turn-1", "turn-2", "turn-3"] and out[:3] == first
    assert out[3].seq == 3 and m.stats(user_id="ana").episodes == 4
    assert [h.episode.id for h in m.search("note 3", user_id="ana", k=1)] == ["turn-3"]


def test_an_id_is_refused_for_other_content_or_repeated_in_one_call(lexical_memory: Memory) -> None:
    m = lexical_memory
    m.add({"id": "turn-0", "content": "I moved to Lisbon"}, user_id="ana")
    with pytest.raises(ValidationError, match=r"messages\[1\]\.id 'turn-0' is already the id of another message"):
        m.add(["fine", {"id": "turn-0", "content": "I moved to Porto"}], user_id="ana")
    with pytest.raises(ValidationError, match=r"messages\[1\]\.id 'x' repeats messages\[0\]\.id"):
        m.add([{"id": "x", "content": "a"}, {"id": "x", "content": "b"}], user_id="ana")
    with pytest.raises(ValidationError, match=r"messages\[0\]\.id must not be empty"):
        m.add({"id": " ", "content": "a"}, user_id="ana")
    assert m.stats(user_id="ana").episodes == 1  # nothing of the refused calls was written


def test_another_users_id_is_not_reused(db_path: object) -> None:
    # SQLite keeps episode ids unique across users: a clash is refused, not merged.
    with Memory(str(db_path), encoder=None) as m:
        m.add({"id": "turn-0", "content": "mine"}, user_id="ana")
        with pytest.raises(ValidationError, match="is taken; choose another id"):
            m.add({"id": "turn-0", "content": "mine"}, user_id="bob")
        assert m.stats(user_id="bob").episodes == 0
