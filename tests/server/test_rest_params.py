"""REST parameters that mirror ``Memory``'s: context's k/expand, consolidate's every-user and cold-vector
options, history of any user's fact, and ids that contain "/", each checked with plain httpx and its auth."""

from __future__ import annotations

from itertools import count
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.server.envelope import auth, envelope

from hippodex.store.sqlite import SQLiteStore

_ids = count()


def seg(value: str) -> str:
    """``value`` as one encoded path segment, "/" included."""
    return quote(value, safe="")


def post(served: Any, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    return httpx.post(served.url + path, json=body, headers=auth(key), timeout=30)


def get(served: Any, path: str, key: str, **params: Any) -> httpx.Response:
    return httpx.get(served.url + path, params=params, headers=auth(key), timeout=30)


def add(served: Any, user: str, *texts: str) -> None:
    messages = [{"content": t} for t in texts]
    body = {"user_id": user, "messages": messages, "timestamp": "2023-05-08T14:00"}
    assert post(served, "/v1/memories", body, served.admin).status_code == 201


# -- context: k and expand ---------------------------------------------------------------------------
def test_context_takes_k_and_expand_as_memory_does(served: Any) -> None:
    add(served, "ana", "I moved to Lisbon in May", "Lisbon is sunny", "I adopted a cat")
    for options in [{"k": 1, "expand": 0}, {"k": 3, "expand": 2}, {}]:
        body = {"user_id": "ana", "query": "Lisbon", "now": "2023-07-01T12:00", **options}
        r = post(served, "/v1/context", body, served.ana)
        assert r.status_code == 200, r.text
        kwargs: dict[str, Any] = {"budget_tokens": 1000, "now": "2023-07-01T12:00", **options}
        assert r.json()["context"] == served.memory.context("Lisbon", user_id="ana", **kwargs)


@pytest.mark.parametrize(
    ("field", "value"), [("k", 0), ("k", 1001), ("k", True), ("expand", -1), ("expand", 21), ("expand", "1")]
)
def test_context_refuses_k_and_expand_out_of_bounds(served: Any, field: str, value: object) -> None:
    r = post(served, "/v1/context", {"user_id": "ana", "query": "Lisbon", field: value}, served.ana)
    code, message = envelope(r)
    assert r.status_code == 422 and code == "validation_error" and field in message


# -- consolidate: every user, cold vectors, the whole report ----------------------------------------------
def test_consolidate_every_user_needs_an_admin_key(served: Any) -> None:
    add(served, "ana", "I live in Porto")
    add(served, "bob", "I live in Oslo")
    r = post(served, "/v1/consolidate", {}, served.ana)
    code, message = envelope(r)
    assert r.status_code == 403 and code == "forbidden" and "admin" in message
    r = post(served, "/v1/consolidate", {}, served.admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["users"] >= 2
    assert {"facts_disputed", "mentions", "unavailable"} <= set(report) and report["unavailable"] is False
    r = post(served, "/v1/consolidate", {"user_id": "ana"}, served.ana)  # a user's own pass needs no admin
    assert r.status_code == 200 and r.json()["users"] == 1


def test_consolidate_with_cold_vectors(served: Any) -> None:
    r = post(served, "/v1/consolidate", {"user_id": "ana", "cold_after_days": 30, "cold_tier": "binary"}, served.ana)
    if isinstance(served.memory.store, SQLiteStore):
        assert r.status_code == 200, r.text
        assert r.json()["vectors_retiered"] == 0  # lexical-only memory: no vectors to move
    else:  # vector tiers exist on SQLite files only: the request's fault, not a server error
        code, message = envelope(r)
        assert r.status_code == 422 and code == "validation_error" and "SQLite" in message


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": "ana", "cold_after_days": -1},
        {"user_id": "ana", "cold_after_days": True},
        {"user_id": "ana", "cold_after_days": 1, "cold_tier": "gold"},
        {"user_id": ""},
        {"user_id": None, "cold_tier": 8},
    ],
)
def test_consolidate_refuses_bad_options(served: Any, body: dict[str, Any]) -> None:
    r = post(served, "/v1/consolidate", body, served.admin)
    assert r.status_code == 422 and envelope(r)[0] == "validation_error"


# -- history of any user's fact ------------------------------------------------------------------------
def test_history_without_user_id_needs_an_admin_key(served: Any) -> None:
    add(served, "ana", "I live in Porto")
    fact = next(f for f in served.memory.facts("ana") if f.predicate == "lives_in")
    path = f"/v1/facts/{fact.id}/history"
    r = get(served, path, served.ana)
    code, message = envelope(r)
    assert r.status_code == 403 and code == "forbidden" and "admin" in message
    r = get(served, path, served.admin)
    assert r.status_code == 200, r.text
    assert [f["id"] for f in r.json()["facts"]] == [f.id for f in served.memory.history(fact.id)]
    assert get(served, path, served.ana, user_id="ana").status_code == 200  # one's own, as before
    r = get(served, "/v1/facts/nope/history", served.admin)
    assert r.status_code == 404 and envelope(r)[0] == "not_found"


# -- ids that contain "/" ---------------------------------------------------------------------------------
def test_ids_with_a_slash_reach_their_routes(served: Any) -> None:
    n = next(_ids)
    user, eid = f"team/ana{n}", f"ep/{n}"
    record = {"id": eid, "user_id": user, "session_id": "s/1", "seq": 0, "role": "user", "content": "I live in Porto"}
    served.memory.import_episodes([(1, record | {"occurred_at": "2023-05-08T14:00:00+00:00"})])
    key = served.keys.create([user], name=f"team{n}")[1]
    r = get(served, f"/v1/memories/{seg(eid)}", key, user_id=user)
    assert r.status_code == 200 and r.json()["id"] == eid
    r = httpx.patch(
        f"{served.url}/v1/memories/{seg(eid)}", json={"user_id": user, "metadata": {"a": 1}}, headers=auth(key)
    )
    assert r.status_code == 200 and r.json()["metadata"] == {"a": 1}
    r = get(served, f"/v1/users/{seg(user)}/sessions", key)
    assert r.status_code == 200 and [x["id"] for x in r.json()["sessions"]] == ["s/1"]
    assert get(served, f"/v1/users/{seg(user)}/facts", key).status_code == 200
    assert get(served, f"/v1/users/{seg(user)}/entities", key).status_code == 200
    # the key for "team/anaN" does not reach "ana", nor "ana"'s key "team/anaN": the id is the whole path part
    assert get(served, f"/v1/users/{seg(user)}/sessions", served.ana).status_code == 403
    assert get(served, f"/v1/memories/{seg(eid)}", key, user_id="ana").status_code == 403
    r = get(served, f"/v1/memories/{seg(eid + 'x')}", key, user_id=user)
    assert r.status_code == 404 and envelope(r)[0] == "not_found"
    r = httpx.delete(f"{served.url}/v1/memories/{seg(eid)}", params={"user_id": user}, headers=auth(key))
    assert r.status_code == 204
    served.memory.import_episodes([(1, record | {"occurred_at": "2023-05-08T14:00:00+00:00"})])
    r = httpx.delete(f"{served.url}/v1/users/{seg(user)}", headers=auth(key))
    assert r.status_code == 200 and r.json() == {"user_id": user, "deleted": 1}


def test_routes_without_a_slash_keep_their_shape(served: Any) -> None:
    r = httpx.get(f"{served.url}/v1/users/ana", headers=auth(served.ana))  # only DELETE is served there
    assert r.status_code == 405 and envelope(r)[0] == "method_not_allowed"
    r = get(served, "/v1/users/ana/sessions", served.ana)
    assert r.status_code == 200


# -- times in a query string ---------------------------------------------------------------------------
def contents(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    body = r.json()
    return [e["content"] for e in body["items"]] if "items" in body else [h["episode"]["content"] for h in body["hits"]]


def test_an_unencoded_plus_in_a_query_string_time_reads_as_the_offset(served: Any) -> None:
    text = f"I moved to Lisbon, note {next(_ids)}"
    add(served, "ana", text)  # 2023-05-08T14:00, UTC
    raw = f"{served.url}/v1/memories?user_id=ana&limit=1000&since=2023-05-08T15:00:00+02:00"  # "+" arrives as " "
    assert text in contents(httpx.get(raw, headers=auth(served.ana), timeout=30))
    late = get(served, "/v1/memories", served.ana, user_id="ana", limit=1000, since="2023-05-08T17:00:00+02:00")
    assert text not in contents(late)


def test_a_date_alone_as_until_takes_in_that_day_over_rest(served: Any) -> None:
    text = f"I moved to Porto, note {next(_ids)}"
    add(served, "ana", text)  # 2023-05-08T14:00, UTC
    day = {"user_id": "ana", "since": "2023-05-08", "until": "2023-05-08"}
    assert text in contents(get(served, "/v1/memories", served.ana, limit=1000, **day))
    assert text in contents(post(served, "/v1/search", {"query": "Porto note", "k": 1000, **day}, served.ana))
    before = {"user_id": "ana", "until": "2023-05-08T14:00"}  # a time stays exclusive
    assert text not in contents(get(served, "/v1/memories", served.ana, limit=1000, **before))
