"""What the REST layer accepts and how it says no: channels, strict types, times in queries, error docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.server.envelope import auth, envelope

from hippodex.client import Client
from hippodex.config import CHANNELS
from hippodex.server import schemas

MAY_6 = 1715000000  # 2024-05-06T12:53:20Z


def error(r: httpx.Response, status: int = 422) -> str:
    """The error message of a response that must be ``status`` in the usual envelope."""
    assert r.status_code == status, r.text
    code, message = envelope(r)
    if status == 422:
        assert code == "validation_error"
    return message


@pytest.fixture
def admin(served: Any) -> Iterator[Client]:
    with Client(served.url, served.admin) as c:
        yield c


# -- 1. every channel hippodex has can be asked for -----------------------------------------
def test_search_channels_are_config_channels(served: Any, admin: Client) -> None:
    spec = httpx.get(f"{served.url}/openapi.json").json()
    prop = spec["components"]["schemas"]["SearchRequest"]["properties"]["channels"]
    [listed] = [a for a in prop["anyOf"] if a.get("type") == "array"]
    assert tuple(listed["items"]["enum"]) == CHANNELS
    assert all(schemas.check_channel(name) == name for name in CHANNELS)

    admin.add("Ana and Marco flew to Lisbon together", user_id="graphy")
    hits = admin.search("Lisbon", user_id="graphy", channels=["graph"])  # was 422 "'lexical' or 'dense'"
    assert hits and "graph" in hits[0].channels and "lexical" not in hits[0].channels
    both = {"user_id": "graphy", "query": "Lisbon", "channels": ["lexical", "graph"]}
    assert httpx.post(f"{served.url}/v1/search", json=both, headers=auth(served.admin)).status_code == 200
    bad = {"user_id": "graphy", "query": "Lisbon", "channels": ["lexical", "vibes"]}
    message = error(httpx.post(f"{served.url}/v1/search", json=bad, headers=auth(served.admin)))
    assert "'vibes'" in message and ", ".join(CHANNELS) in message


def test_empty_channel_list_is_422(served: Any) -> None:
    # Memory.search refuses an empty list; the REST layer passes that on rather than searching nothing.
    body = {"user_id": "ana", "query": "x", "channels": []}
    assert "channels" in error(httpx.post(f"{served.url}/v1/search", json=body, headers=auth(served.ana)))


# -- 2. JSON true is not 1 ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/memories", {"messages": [{"content": "x"}], "timestamp": True}, "timestamp"),
        ("POST", "/v1/memories", {"messages": [{"content": "x", "timestamp": False}]}, "messages.0.timestamp"),
        ("POST", "/v1/search", {"query": "x", "k": True}, "k"),
        ("POST", "/v1/search", {"query": "x", "now": True}, "now"),
        ("POST", "/v1/search", {"query": "x", "since": False}, "since"),
        ("POST", "/v1/search", {"query": "x", "until": True}, "until"),
        ("POST", "/v1/search", {"query": "x", "expand": True}, "expand"),
        ("POST", "/v1/context", {"query": "x", "budget_tokens": True}, "budget_tokens"),
        ("POST", "/v1/context", {"query": "x", "now": True}, "now"),
        ("PATCH", "/v1/memories/" + "0" * 32, {"metadata": {}, "merge": 1}, "merge"),
    ],
)
def test_booleans_are_not_times_or_counts(
    served: Any, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    before = served.memory.stats(user_id="ana").episodes
    r = httpx.request(method, served.url + path, json={"user_id": "ana", **body}, headers=auth(served.ana))
    assert re.search(rf"(^|; ){re.escape(field)}: ", error(r)), r.text
    assert served.memory.stats(user_id="ana").episodes == before


def test_times_as_numbers_and_strings_still_work(served: Any) -> None:
    body = {"user_id": "ana", "session_id": "unix", "timestamp": MAY_6, "messages": [{"content": "unix seconds"}]}
    r = httpx.post(f"{served.url}/v1/memories", json=body, headers=auth(served.ana))
    assert r.status_code == 201 and r.json()["episodes"][0]["occurred_at"] == "2024-05-06T12:53:20Z"
    for now in (MAY_6 + 0.5, "2024-05-07T09:00+02:00"):
        search = {"user_id": "ana", "query": "unix seconds", "now": now, "since": MAY_6, "k": 3}
        r = httpx.post(f"{served.url}/v1/search", json=search, headers=auth(served.ana))
        assert r.status_code == 200 and r.json()["hits"], r.text
    r = httpx.get(f"{served.url}/v1/memories", params={"user_id": "ana", "limit": "true"}, headers=auth(served.ana))
    assert "limit" in error(r)


# -- 3. query-string times read like JSON ones -----------------------------------------------
def test_list_since_and_until_take_unix_seconds(served: Any, admin: Client) -> None:
    admin.add("early", user_id="clock", timestamp=MAY_6 - 86_400)
    admin.add("late", user_id="clock", timestamp=MAY_6 + 86_400)

    def contents(**params: Any) -> list[str]:
        r = httpx.get(f"{served.url}/v1/memories", params={"user_id": "clock", **params}, headers=auth(served.admin))
        assert r.status_code == 200, r.text
        return [e["content"] for e in r.json()["items"]]

    assert contents(since=str(MAY_6)) == ["late"]  # was 422
    assert contents(until=f"{MAY_6}.0") == ["early"]
    assert contents(since="2024-05-06T12:53:20Z") == ["late"]
    assert contents(until="20240506") == ["early"]  # a basic ISO date (that whole day), not Unix second 20240506
    assert [e.content for e in admin.list(user_id="clock", since=MAY_6).items] == ["late"]
    assert admin.list(user_id="clock", until=datetime(2024, 5, 6, tzinfo=UTC)).items[0].content == "early"
    r = httpx.get(f"{served.url}/v1/memories", params={"user_id": "clock", "since": "soon"}, headers=auth(served.admin))
    assert "since" in error(r) and "ISO 8601" in error(r)

    spec = httpx.get(f"{served.url}/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/memories"]["get"]["parameters"]}
    for name in ("since", "until"):
        assert {"string", "number"} <= {a.get("type") for a in params[name]["schema"]["anyOf"]}
        assert "Unix seconds" in params[name]["description"]


# -- 4. the documented error codes are the ones sent -------------------------------------------
def test_openapi_error_descriptions_name_the_codes_sent(served: Any) -> None:
    spec = httpx.get(f"{served.url}/openapi.json").json()
    documented: dict[tuple[str, str, str], str] = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    code = re.match(r"`(\w+)`", response["description"])
                    assert code, (method, path, status, response["description"])
                    documented[path, method, status] = code[1]
    search = f"{served.url}/v1/search"
    sent = {
        "401": httpx.post(search, json={"user_id": "ana", "query": "x"}),
        "403": httpx.post(search, json={"user_id": "bob", "query": "x"}, headers=auth(served.ana)),
        "413": httpx.post(search, json={"user_id": "ana", "query": "x" * 300_000}, headers=auth(served.ana)),
        "422": httpx.post(search, json={"user_id": "ana", "query": ""}, headers=auth(served.ana)),
    }
    for status, r in sent.items():
        assert str(r.status_code) == status and r.json()["error"]["code"] == documented["/v1/search", "post", status]
    r = httpx.get(f"{served.url}/v1/memories/{'0' * 32}", params={"user_id": "ana"}, headers=auth(served.ana))
    assert r.json()["error"]["code"] == documented["/v1/memories/{episode_id}", "get", "404"] == "not_found"
    assert {code for (_, _, status), code in documented.items() if status == "422"} == {"validation_error"}


# -- 5. malformed JSON says where ---------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"user_id": "ana", "query": ', "Expecting value at line 1, column 29 (character 28)"),
        (b'{\n  "user_id": "ana",\n  "query" "x"\n}', "Expecting ':' delimiter at line 3, column 11 (character 32)"),
        (b'{"user_id": "ana", "query": "x"} trailing', "Extra data at line 1, column 34 (character 33)"),
    ],
)
def test_malformed_json_says_where_and_what(served: Any, body: bytes, where: str) -> None:
    headers = {**auth(served.ana), "Content-Type": "application/json"}
    message = error(httpx.post(f"{served.url}/v1/search", content=body, headers=headers))
    assert message == f"the body is not valid JSON: {where}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"user_id": "ana", "query": ' + b"[" * 5000 + b"]" * 5000 + b"}",  # deeper than the parser goes
        b'{"user_id": "ana", "query": "caf\xe9"}',  # Latin-1, not UTF-8
    ],
    ids=["nested-too-deep", "not-utf8"],
)
def test_a_body_the_json_parser_gives_up_on_is_a_validation_error(served: Any, body: bytes) -> None:
    headers = {**auth(served.ana), "Content-Type": "application/json"}
    r = httpx.post(f"{served.url}/v1/search", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert "not UTF-8, or it is nested too deeply" in r.json()["error"]["message"]


@pytest.mark.parametrize("field", ["session_id", "role"])
def test_an_empty_filter_list_is_refused_not_read_as_no_filter(served: Any, field: str) -> None:
    r = httpx.post(
        f"{served.url}/v1/search", json={"user_id": "ana", "query": "x", field: []}, headers=auth(served.ana)
    )
    assert r.status_code == 422 and f"{field}: an empty list" in envelope(r)[1]
