"""The MCP server: tools and resources over one :class:`~hippodex.Memory`.

Every tool parses its arguments, calls one ``Memory`` method and returns
compact JSON text; a :class:`~hippodex.HippodexError` becomes an MCP tool
error (or resource error) carrying the hippodex message and nothing else.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from hippodex._exceptions import HippodexError
from hippodex._version import __version__
from hippodex.ingest.normalize import check_id
from hippodex.memory import Memory
from hippodex.model import Episode, Hit, Session

__all__ = ["build_server"]

_T = TypeVar("_T")
_PAGE = 1000  # episodes per store page when a resource reads a whole session

# Argument types: the SDK turns each Field into the tool's JSON schema (description, enum, bounds)
# and checks calls against it, so a client sees the limits Memory enforces before it calls.
Role = Literal["user", "assistant", "system", "tool"]  # hippodex.model.ROLES (a test keeps them equal)
UserId = Annotated[
    str | None,
    Field(
        description="Whose memory to use. Omit it for the server's own user (its --user option); "
        "each user's memories are kept apart. Must not be empty."
    ),
]
Content = Annotated[
    str,
    Field(
        description='What to remember, as a self-contained sentence ("Ana moved to Lisbon in May 2023"); '
        "not empty, at most 100000 characters."
    ),
]
Timestamp = Annotated[str | None, Field(description="When it happened, ISO 8601 like 2024-05-08T14:00 (default: now).")]
RoleArg = Annotated[Role, Field(description="Who said it: user, assistant, system or tool.")]
RememberSession = Annotated[
    str | None,
    Field(description="The conversation to add it to (an id `remember` returned); omit to start a new one."),
]
Query = Annotated[
    str, Field(description='A question or keywords ("where does Ana live?"); not empty, at most 100000 characters.')
]
# strict: a JSON string or boolean is no count ("5", true), as the REST API holds too.
K = Annotated[int, Field(strict=True, ge=1, le=1000, description="How many hits to return, 1 to 1000.")]
Now = Annotated[
    str | None,
    Field(description="When the question is asked, ISO 8601 (default: now); it anchors phrases like 'last week'."),
]
RecallSession = Annotated[str | None, Field(description="Search only this conversation (a `session` id).")]
Since = Annotated[str | None, Field(description="Only what happened at or after this ISO 8601 time.")]
Until = Annotated[
    str | None, Field(description="Only what happened before this ISO 8601 time; a date alone includes that day.")
]
Budget = Annotated[
    int,
    Field(
        strict=True,
        ge=20,
        le=200_000,
        description="The most the block may take, in tokens of about 4 characters; 20 to 200000.",
    ),
]
EpisodeId = Annotated[str, Field(description="The `id` of a memory, as `recall` or `remember` returned it.")]
Limit = Annotated[int, Field(strict=True, ge=1, le=10_000, description="How many sessions to list, 1 to 10000.")]
Subject = Annotated[
    str | None, Field(description='Only facts about this person: a speaker name, or "user" for the user.')
]
Superseded = Annotated[
    bool,
    Field(
        strict=True,
        description="Also list facts that later ones replaced (for questions like 'where did I live before?').",
    ),
]

INSTRUCTIONS = """\
Long-term memory for this user, kept across conversations (hippodex).
Call `recall` before answering anything that may depend on earlier conversations: the user's facts,
preferences, plans, people, past decisions. Call `remember` for each new durable fact the user shares
or asks you to keep, in their words, as a self-contained sentence. Call `forget` when the user asks to
delete something (recall it first to find its id). Times are ISO 8601; dates in results are when
things happened, so prefer the latest when facts conflict."""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@contextmanager
def _errors(kind: type[Exception] = ToolError, prefix: str = "") -> Iterator[None]:
    """Turn a HippodexError into ``kind`` with its message only (no traceback reaches the client).

    ``prefix`` is dropped from the message: the library's name for what the
    client passed as a plain argument (``messages[0].content`` is ``content``).
    """
    try:
        yield
    except HippodexError as exc:
        message = "\n".join([str(exc), *getattr(exc, "__notes__", [])])
        raise kind(message.replace(prefix, "") if prefix else message) from None


def _episode(ep: Episode) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ep.id,
        "date": ep.occurred_at.isoformat(),
        "session": ep.session_id,
        "seq": ep.seq,
        "role": ep.role,
    }
    if ep.speaker:
        out["speaker"] = ep.speaker
    out["content"] = ep.content
    return out


def _hit(hit: Hit) -> dict[str, Any]:
    return {**_episode(hit.episode), "score": round(hit.score, 4), "found_by": sorted(hit.channels)}


def _session(s: Session) -> dict[str, Any]:
    return {
        "session": s.id,
        "started": s.started_at.isoformat(),
        "ended": s.ended_at.isoformat(),
        "episodes": s.episodes,
    }


def build_server(memory: Memory, *, default_user: str) -> MCPServer:
    """An MCP server (the SDK's ``MCPServer``, formerly ``FastMCP``) exposing ``memory``.

    ``default_user`` is the user every tool and resource acts for unless a
    tool call passes ``user_id``. The caller owns ``memory`` and closes it.
    """
    server: MCPServer = MCPServer(
        name="hippodex",
        title="hippodex memory",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
    )

    def user(user_id: str | None) -> str:
        # Only an omitted user_id means the default: "" is as wrong here as anywhere else.
        return default_user if user_id is None else str(check_id(user_id, "user_id"))

    def call(fn: Callable[[], _T], prefix: str = "") -> _T:
        with _errors(prefix=prefix):
            return fn()

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[..., str]], Callable[..., str]]:
        """Register a tool whose description is its dedented docstring and whose result is JSON text."""

        def add(fn: Callable[..., str]) -> Callable[..., str]:
            description = inspect.cleandoc(fn.__doc__ or "")
            server.add_tool(fn, description=description, annotations=annotations, structured_output=False)
            return fn

        return add

    @tool(ToolAnnotations(title="Remember", read_only_hint=False, destructive_hint=False))
    def remember(
        content: Content,
        role: RoleArg = "user",
        session_id: RememberSession = None,
        timestamp: Timestamp = None,
        user_id: UserId = None,
    ) -> str:
        """Store one message or fact in long-term memory, verbatim, so it can be recalled in later conversations.

        Call it when the user shares something worth keeping (facts about them, preferences, plans, people,
        decisions) or asks you to remember something. Pass `content` as a self-contained sentence
        ("Ana moved to Lisbon in May 2023", not "I did"). `role` is who said it: user, assistant, system or tool.
        `session_id` groups messages of one conversation (omit to start a new one; reuse the returned id to add
        to it). `timestamp` is when it happened, ISO 8601 like 2024-05-08T14:00 (default: now).
        Returns JSON {"ids": [...], "session": ..., "date": ...}.
        """
        message = {"role": role, "content": content}
        eps = call(
            lambda: memory.add(message, user_id=user(user_id), session_id=session_id, timestamp=timestamp),
            prefix="messages[0].",  # one message, so the client's names are content and role
        )
        return _json({"ids": [e.id for e in eps], "session": eps[0].session_id, "date": eps[0].occurred_at.isoformat()})

    @tool(ToolAnnotations(title="Recall", read_only_hint=True))
    def recall(
        query: Query,
        k: K = 8,
        now: Now = None,
        session_id: RecallSession = None,
        since: Since = None,
        until: Until = None,
        user_id: UserId = None,
    ) -> str:
        """Search long-term memory for what was said before; call it before answering anything that may
        depend on earlier conversations (the user's facts, preferences, plans, people, past events).

        `query` is a natural-language question or keywords ("where does Ana live?"); it is matched by words
        and by meaning. `k` is how many hits (1-1000, default 8). `now` is when the question is asked, ISO 8601
        (default: the current time; it anchors phrases like "last week"). `session_id` limits to one
        conversation; `since`/`until` (ISO 8601) bound when things happened.
        Returns a JSON list, best first, of {"id", "date", "session", "seq", "role", "speaker"?, "content",
        "score", "found_by"}: `date` is when it happened (prefer the latest when facts conflict), `found_by`
        lists the channels that matched (lexical = shared words, dense = similar meaning), and `id` is what
        `forget` takes. An empty list means nothing relevant is stored.
        """
        hits = call(
            lambda: memory.search(
                query, user_id=user(user_id), k=k, now=now, session_id=session_id, since=since, until=until
            )
        )
        return _json([_hit(h) for h in hits])

    @tool(ToolAnnotations(title="Context", read_only_hint=True))
    def context(query: Query, budget_tokens: Budget = 1000, now: Now = None, user_id: UserId = None) -> str:
        """Get a ready-to-read block of what memory holds about a topic, within a token budget.

        Prefer it to `recall` when you want to read the evidence rather than act on ids: it returns plain
        text, the most relevant remembered turns (with a neighbouring turn each) grouped by conversation,
        each line dated, in the order things happened. `budget_tokens` (20-200000, default 1000) caps its
        length (about 4 characters a token); `now` (ISO 8601) is when the question is asked.
        """
        return call(lambda: memory.context(query, user_id=user(user_id), budget_tokens=budget_tokens, now=now))

    @tool(ToolAnnotations(title="Forget", read_only_hint=False, destructive_hint=True, idempotent_hint=True))
    def forget(episode_id: EpisodeId, user_id: UserId = None) -> str:
        """Delete one stored memory for good, by the `id` that `recall` or `remember` returned.

        Call it when the user asks to forget or correct something: recall it first, then forget each
        matching id (and `remember` the corrected fact if there is one). Returns JSON {"deleted": id};
        an unknown id is an error.
        """
        call(lambda: memory.delete(episode_id, user_id=user(user_id)))
        return _json({"deleted": episode_id})

    @tool(ToolAnnotations(title="Recent sessions", read_only_hint=True))
    def recent_sessions(limit: Limit = 10, user_id: UserId = None) -> str:
        """List the most recent conversations (sessions) in memory, newest first: `limit` of them (1-10000, default 10).

        Use it to get an overview of what memory holds or to find a `session_id` to pass to `recall` or
        `remember`. Returns a JSON list of {"session", "started", "ended", "episodes"} (ISO 8601 dates,
        episode counts). The resource memory://sessions/{session_id} holds one session's messages in order.
        """
        sessions = call(lambda: memory.sessions(user_id=user(user_id), limit=limit))
        return _json([_session(s) for s in sessions])

    @tool(ToolAnnotations(title="Known facts", read_only_hint=True))
    def facts(subject: Subject = None, include_superseded: Superseded = False, user_id: UserId = None) -> str:
        """List what memory knows about the user: facts distilled from past conversations, newest first.

        Use it for stable knowledge (where the user lives, works, what they like, who their family are)
        before searching raw conversations with `recall`. `subject` narrows to one person (a speaker name,
        or "user"); `include_superseded` adds facts that later ones replaced (for "where did I live
        before?"). Returns a JSON list of {"fact", "since", "until", "current", "sources"} with ISO dates.
        """
        found = call(
            lambda: memory.facts(user(user_id), current_only=not include_superseded, subject=subject, limit=200)
        )
        return _json(
            [
                {
                    "fact": f.text,
                    "since": f.valid_from.isoformat() if f.valid_from else None,
                    "until": f.valid_to.isoformat() if f.valid_to else None,
                    "current": f.current,
                    "sources": list(f.sources),
                }
                for f in found
            ]
        )

    @server.resource(
        "memory://sessions",
        name="sessions",
        title="Recent sessions",
        description="The 50 most recent sessions of the default user, newest first, as JSON.",
        mime_type="application/json",
    )
    def sessions_resource() -> str:
        with _errors(ResourceError):
            return _json([_session(s) for s in memory.sessions(user_id=default_user, limit=50)])

    @server.resource(
        "memory://sessions/{session_id}",
        name="session",
        title="One session",
        description="Every episode of one session of the default user, in order, as JSON.",
        mime_type="application/json",
    )
    def session_resource(session_id: str) -> str:
        episodes: list[dict[str, Any]] = []
        offset: int | None = 0
        with _errors(ResourceError):
            while offset is not None:
                page = memory.list(user_id=default_user, session_id=session_id, limit=_PAGE, offset=offset)
                episodes += [_episode(e) for e in page.items]
                offset = page.next_offset
        if not episodes:
            raise ResourceNotFoundError(f"no session {session_id!r}")
        return _json({"session": session_id, "episodes": episodes})

    return server
