"""Fuzz the write and search bodies: never a 5xx, and every 2xx matches its model."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hippodex.server.schemas import AddResponse, SearchResponse

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ids = st.sampled_from(["ana", "fuzz", "", " ", "a\x00b", "x" * 300]) | st.text(max_size=12) | json_scalars
times = st.sampled_from(["2023-05-08", "2023-05-08T14:00+02:00", "9999-12-31T23:59:59-01:00", "0001-01-01", "nope"])
times = times | st.integers() | st.floats() | st.text(max_size=20) | st.none()


def maybe(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts that may hold any subset of ``fields``."""
    return st.fixed_dictionaries({}, optional=fields)


messages = maybe(
    role=st.sampled_from(["user", "assistant", "system", "tool", "wizard"]) | json_scalars,
    content=st.text(max_size=60) | json_values,
    speaker=ids,
    timestamp=times,
    metadata=json_values,
    bogus=json_scalars,
)
add_bodies = (
    maybe(
        user_id=ids,
        messages=st.lists(messages, max_size=4) | json_values,
        session_id=ids,
        timestamp=times,
        metadata=json_values,
        agent_id=ids,
        run_id=ids,
    )
    | json_values
)
search_bodies = (
    maybe(
        user_id=ids,
        query=st.text(max_size=40) | json_values,
        k=st.integers(-5, 2000) | json_scalars,
        now=times,
        since=times,
        until=times,
        session_id=ids | st.lists(ids, max_size=3),
        role=st.sampled_from(["user", "tool", "x"]) | st.lists(st.sampled_from(["user", "bad"]), max_size=3),
        metadata=json_values,
        expand=st.integers(-2, 30) | json_scalars,
        channels=st.lists(st.sampled_from(["lexical", "dense", "graph", "x"]), max_size=2) | json_scalars,
    )
    | json_values
)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def post(served: Any, path: str, body: Any) -> httpx.Response:
    # allow_nan: NaN and Infinity are what a careless client sends; the server must cope.
    import json

    return httpx.post(
        f"{served.url}{path}",
        content=json.dumps(body, allow_nan=True).encode(),
        headers={"Authorization": f"Bearer {served.admin}", "Content-Type": "application/json"},
    )


@pytest.fixture(scope="module")
def seeded(served: Any) -> Any:
    served.memory.add(["fuzzing is fun", "so is searching"], user_id="fuzz", session_id="s")
    return served


@FUZZ
@given(body=add_bodies)
@example(body={"user_id": "a", "messages": [{"content": "x"}], "timestamp": "9999-12-31T23:59:59-01:00"})
@example(body={"user_id": "a", "messages": [{"content": "x", "timestamp": "0001-01-01T00:00+01:00"}]})
def test_fuzz_add(seeded: Any, body: Any) -> None:
    r = post(seeded, "/v1/memories", body)
    assert r.status_code < 500, (body, r.text)
    if r.is_success:
        assert r.status_code == 201
        AddResponse.model_validate(r.json())
    else:
        assert r.status_code in (403, 422) and r.json()["error"]["code"]


@FUZZ
@given(body=search_bodies)
@example(body={"user_id": "a", "query": "x", "now": "0001-01-01T00:00+01:00"})
@example(body={"user_id": "a", "query": "x", "since": 1e300, "k": 1.5})
def test_fuzz_search(seeded: Any, body: Any) -> None:
    r = post(seeded, "/v1/search", body)
    assert r.status_code < 500, (body, r.text)
    if r.is_success:
        SearchResponse.model_validate(r.json())
    else:
        assert r.status_code in (403, 422) and r.json()["error"]["code"]
