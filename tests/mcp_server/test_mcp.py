"""``hippodex mcp`` end to end: the SDK's own client drives the server over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import hippodex.mcp_server
from hippodex.model import ROLES

pytestmark = pytest.mark.anyio

TOOLS = {"remember", "recall", "context", "forget", "recent_sessions", "facts"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@asynccontextmanager
async def _client(db: str | Path, *extra: str, log: Path | None = None) -> AsyncIterator[ClientSession]:
    """A client session with ``python -m hippodex.mcp_server --db DB --user u ...`` (= ``hippodex mcp``)."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hippodex.mcp_server", "--db", str(db), "--user", "u", *extra],
        env=dict(os.environ),  # the same hippodex as this process (stdio_client passes only a few variables)
    )
    with open(log or Path(db).with_suffix(".stderr"), "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def _call(session: ClientSession, tool: str, **args: Any) -> Any:
    result = await session.call_tool(tool, args)
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


async def test_tools_and_resources_over_stdio(db_target: str, tmp_path: Path) -> None:
    async with _client(db_target, "--encoder", "none", log=tmp_path / "mcp.stderr") as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) >= TOOLS
        assert all(len(tools[n].description or "") > 80 and "\n    " not in (tools[n].description or "") for n in TOOLS)

        tea = await _call(session, "remember", content="I drink green tea every morning", timestamp="2024-05-08T09:00")
        assert tea["date"].startswith("2024-05-08") and len(tea["ids"]) == 1
        cat = await _call(session, "remember", content="My cat is called Miso", session_id=tea["session"])
        assert cat["session"] == tea["session"]

        hits = await _call(session, "recall", query="what is my cat called?")
        assert hits[0]["content"] == "My cat is called Miso"
        assert hits[0]["id"] == cat["ids"][0] and hits[0]["role"] == "user" and "lexical" in hits[0]["found_by"]
        assert hits[0]["session"] == tea["session"] and hits[0]["score"] > 0

        block = await session.call_tool("context", {"query": "green tea", "budget_tokens": 200})
        assert not block.is_error
        assert "[2024-05-08] user: I drink green tea every morning" in block.content[0].text

        assert await _call(session, "forget", episode_id=cat["ids"][0]) == {"deleted": cat["ids"][0]}
        hits = await _call(session, "recall", query="what is my cat called?")
        assert all("Miso" not in h["content"] for h in hits)

        sessions = await _call(session, "recent_sessions")
        assert sessions == [{**sessions[0], "session": tea["session"], "episodes": 1}]

        listed = json.loads((await session.read_resource("memory://sessions")).contents[0].text)
        assert [s["session"] for s in listed] == [tea["session"]]
        one = json.loads((await session.read_resource(f"memory://sessions/{tea['session']}")).contents[0].text)
        assert [e["content"] for e in one["episodes"]] == ["I drink green tea every morning"]

        moved = await _call(session, "remember", content="I moved to Lisbon", timestamp="2024-06-01T09:00")
        known = await _call(session, "facts")
        lisbon = [f for f in known if "Lisbon" in f["fact"]]
        assert lisbon and all(f["current"] and f["sources"] == moved["ids"] for f in lisbon)
        assert lisbon[0]["since"].startswith("2024-06-01")

        # another user's memory is separate
        assert await _call(session, "recall", query="green tea", user_id="someone-else") == []
        assert await _call(session, "facts", user_id="someone-else") == []


async def test_hippodex_errors_become_tool_errors(db_target: str, tmp_path: Path) -> None:
    async with _client(db_target, "--encoder", "none", log=tmp_path / "mcp.stderr") as session:
        result = await session.call_tool("recall", {"query": "   "})
        assert result.is_error
        message = result.content[0].text
        assert "query is empty" in message and "Traceback" not in message

        result = await session.call_tool("forget", {"episode_id": "no-such-episode"})
        assert result.is_error and "Traceback" not in result.content[0].text

        result = await session.call_tool("remember", {"content": "hi", "role": "narrator"})
        assert result.is_error and "role" in result.content[0].text


async def _error(session: ClientSession, tool: str, **args: Any) -> str:
    result = await session.call_tool(tool, args)
    assert result.is_error, result.content
    text: str = result.content[0].text
    assert "Traceback" not in text
    return text


_BUDGET = {("context", "budget_tokens"): (20, 200_000)}
_BOUNDED = [("recall", "k"), ("recent_sessions", "limit"), *_BUDGET]


async def test_tool_schemas_describe_every_argument_and_its_limits(tmp_path: Path) -> None:
    async with _client(tmp_path / "m.db", "--encoder", "none") as session:
        schemas = {t.name: t.input_schema["properties"] for t in (await session.list_tools()).tools}
    assert all(field.get("description") for name in TOOLS for field in schemas[name].values())
    assert schemas["remember"]["role"]["enum"] == list(ROLES)
    assert "--user" in schemas["recall"]["user_id"]["description"]
    bounds = {(t, f): (schemas[t][f]["minimum"], schemas[t][f]["maximum"]) for t, f in _BOUNDED}
    assert bounds == {("recall", "k"): (1, 1000), ("recent_sessions", "limit"): (1, 10_000), **_BUDGET}
    for tool, field in _BOUNDED:  # stated in words too, for clients that show only descriptions
        low, high = bounds[tool, field]
        assert f"{low} to {high}" in schemas[tool][field]["description"]


async def test_errors_name_the_arguments_the_client_sent(tmp_path: Path) -> None:
    async with _client(tmp_path / "m.db", "--encoder", "none") as session:
        for content in ("", "   "):
            message = await _error(session, "remember", content=content)
            assert "content is empty" in message and "messages[" not in message
        message = await _error(session, "remember", content="hi", role="narrator")
        assert "role" in message and "messages[" not in message
        for tool, args in [("recent_sessions", {"limit": 0}), ("recall", {"query": "tea", "k": 0})]:
            message = await _error(session, tool, **args)  # the schema's bound, under the argument's name
            assert f"\n{next(iter(args.keys() - {'query'}))}\n" in message and "greater than or equal to 1" in message
        # "" is no more the default user than "  " is
        for user_id in ("", "  "):
            for tool, args in [("recall", {"query": "tea"}), ("remember", {"content": "hi"}), ("facts", {})]:
                assert "user_id must not be empty" in await _error(session, tool, **args, user_id=user_id)
        assert "session_id must not be empty" in await _error(session, "remember", content="hi", session_id="")
        assert await _call(session, "recent_sessions") == []  # nothing was stored by the failed calls


async def test_a_count_or_a_flag_of_the_wrong_json_type_is_refused(tmp_path: Path) -> None:
    # As the REST API does: "5" is no count and true no number, "yes" no flag.
    async with _client(tmp_path / "m.db", "--encoder", "none") as session:
        for tool, args in [
            ("recall", {"query": "tea", "k": "5"}),
            ("recall", {"query": "tea", "k": True}),
            ("recent_sessions", {"limit": "3"}),
            ("context", {"query": "tea", "budget_tokens": "200"}),
            ("facts", {"include_superseded": "yes"}),
        ]:
            name = next(iter(args.keys() - {"query"}))
            assert f"\n{name}\n" in await _error(session, tool, **args)
        assert await _call(session, "recall", query="tea", k=5) == []  # the right type passes


async def test_context_tool_keeps_within_the_budget(tmp_path: Path) -> None:
    async with _client(tmp_path / "m.db", "--encoder", "none") as session:
        await _call(session, "remember", content="I moved to Porto in May", timestamp="2024-05-08T09:00")
        blocks = {}
        for query, budget in [("Porto " * 2000, 100), ("Porto " * 2000, 20), ("Porto", 50), ("zebra " * 2000, 20)]:
            result = await session.call_tool("context", {"query": query, "budget_tokens": budget})
            assert not result.is_error, result.content
            block = blocks[query[:5], budget] = result.content[0].text
            assert len(block) <= budget * 4, block
            assert not block.endswith(":"), block  # no heading left with nothing under it
        assert "[2024-05-08] user: I moved to Porto in May" in blocks["Porto", 100]
        assert blocks["zebra", 20].startswith("No memories found for: zebra") and blocks["zebra", 20].endswith("…")


def test_blank_user_exits_2_before_serving(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    args = [sys.executable, "-m", "hippodex.mcp_server", "--db", str(db), "--user", " ", "--encoder", "none"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr
    assert "--user must not be empty" in done.stderr and done.stdout == "" and not db.exists()


def test_a_cross_encoder_it_cannot_find_exits_2_before_serving(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    args = [sys.executable, "-m", "hippodex.mcp_server", "--db", str(db), "--user", "u", "--encoder", "none"]
    done = subprocess.run(
        [*args, "--cross-encoder", str(tmp_path)], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 2, done.stderr
    assert "model.onnx is missing" in " ".join(done.stderr.split()) and done.stdout == "" and not db.exists()


def test_docs_and_help_name_every_tool() -> None:
    table = [line.split("|")[1].strip().strip("`") for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    assert set(table) >= TOOLS
    done = subprocess.run(
        [sys.executable, "-m", "hippodex.mcp_server", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and all(name in done.stdout for name in TOOLS)
    doc = hippodex.mcp_server.__doc__ or ""
    assert "six tools" in doc and all(f"``{name}``" in doc for name in TOOLS)


@pytest.mark.slow
async def test_default_encoder_finds_paraphrases(db_target: str, tmp_path: Path) -> None:
    start = time.monotonic()
    async with _client(db_target, log=tmp_path / "mcp.stderr") as session:
        await _call(session, "remember", content="I adopted a kitten last week")
        await _call(session, "remember", content="The quarterly report is due on Friday")
        hits = await _call(session, "recall", query="do I have any pets?", k=1)
        assert hits[0]["content"] == "I adopted a kitten last week" and "dense" in hits[0]["found_by"]
    assert time.monotonic() - start < 30


def test_missing_mcp_package_exits_2_with_install_hint(tmp_path: Path) -> None:
    code = "import sys; sys.modules['mcp'] = None; from hippodex.cli import main; main()"
    args = [sys.executable, "-c", code, "mcp", "--db", str(tmp_path / "m.db"), "--user", "u"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "pip install 'hippodex[mcp]'" in done.stderr and done.stdout == ""
