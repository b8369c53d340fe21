"""The REST API: a FastAPI app over one :class:`hippodex.Memory`.

It only translates HTTP to ``Memory`` calls, validates, and authorises: no SQL,
no scoring. Endpoints are plain ``def`` functions run in FastAPI's threadpool;
``Memory`` serialises access to its SQLite connection with a lock.

Errors are always ``{"error": {"code": "...", "message": "..."}}``:

==== ======================= ============================================
401  ``unauthorized``        missing, unknown or revoked API key
403  ``forbidden``           the key may not touch that ``user_id``
404  ``not_found``           no such memory for that user (or no route)
405  ``method_not_allowed``
413  ``payload_too_large``   body over ``max_body_bytes``
422  ``validation_error``    malformed body or value, with what to fix
500  ``internal_error``      nothing about the cause leaks to the client
503  ``unavailable``         the database is down, locked or full (``Retry-After: 5``)
503  ``not_ready``           ``/ready`` when the store or the API keys cannot be read
==== ======================= ============================================
"""

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hippodex._exceptions import ConfigError, HippodexError, MemoryNotFound, StoreError, ValidationError
from hippodex._version import __version__
from hippodex.memory import Memory
from hippodex.server import schemas as s
from hippodex.server import web
from hippodex.server.keys import Key, KeyStore

__all__ = ["ApiError", "create_app"]

log = logging.getLogger("hippodex.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ApiError(Exception):
    """An error with an HTTP status and a stable code, rendered as the error JSON."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


# Each description names the code the response carries (the table above), so /docs tells the truth.
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": s.ErrorOut, "description": f"`{code}`: {why}"}
    for status, code, why in [
        (401, "unauthorized", "missing, unknown or revoked API key"),
        (403, "forbidden", "the key may not touch that user_id"),
        (413, "payload_too_large", "the body is over the server's limit"),
        (422, "validation_error", "malformed body or value; the message says what to fix"),
    ]
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": s.ErrorOut, "description": "`not_found`: no such memory for that user"}
}


class _BodyLimit:
    """Reject bodies over ``limit`` bytes with 413, by Content-Length and by what actually arrives,
    before anything parses them (the whole body is read here, then replayed to the app)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def _reject(self, send: Send) -> None:
        response = _error(413, "payload_too_large", f"request body is larger than {self.limit} bytes")
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._reject(send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._reject(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_message(exc: RequestValidationError) -> str | None:
    """Where and why the body is not JSON, or None if it parsed (FastAPI only gives the offset)."""
    errors = exc.errors()
    if len(errors) != 1 or errors[0].get("type") != "json_invalid":
        return None
    err, doc = errors[0], exc.body if isinstance(exc.body, str) else ""
    pos = err["loc"][-1]
    line, column = doc.count("\n", 0, pos) + 1, pos - doc.rfind("\n", 0, pos)
    why = err.get("ctx", {}).get("error", "invalid")
    return f"the body is not valid JSON: {why} at line {line}, column {column} (character {pos})"


def _pydantic_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        # A ValueError from our own validators already reads as a sentence.
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


#: What a body the JSON parser gave up on gets, where json.loads raised no JSONDecodeError.
BODY_UNREADABLE = "the body could not be read as JSON: it is not UTF-8, or it is nested too deeply to parse"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    def request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "validation_error", _json_message(exc) or _pydantic_message(exc))

    @app.exception_handler(StarletteHTTPException)
    def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "There was an error parsing the body": every body here is JSON
            return _error(422, "validation_error", BODY_UNREADABLE)
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(MemoryNotFound)
    def not_found(_: Request, exc: MemoryNotFound) -> JSONResponse:
        return _error(404, "not_found", "no memory with that id for this user")

    @app.exception_handler(ValidationError)
    def invalid(_: Request, exc: ValidationError) -> JSONResponse:
        return _error(422, "validation_error", str(exc))

    @app.exception_handler(StoreError)
    def store_down(_: Request, exc: StoreError) -> JSONResponse:
        # The database is down, locked or full: the request may well work later.
        log.error("store error: %s", exc)
        return _error(503, "unavailable", "the memory store is unavailable; retry later", {"Retry-After": "5"})

    @app.exception_handler(HippodexError)
    def hippodex_error(_: Request, exc: HippodexError) -> JSONResponse:
        log.error("hippodex error: %s", exc)
        return _error(500, "internal_error", "the server could not complete the request; see its log")

    @app.exception_handler(Exception)
    def crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _error(500, "internal_error", "the server could not complete the request; see its log")


def create_app(memory: Memory, *, auth: KeyStore | None, max_body_bytes: int = 1_000_000) -> Any:
    """A FastAPI app serving ``memory``; ``auth=None`` serves without keys (loopback only!).

    >>> from hippodex import Memory
    >>> app = create_app(Memory(":memory:", encoder=None), auth=None)
    >>> "/v1/search" in {r.path for r in app.routes}
    True
    """
    app = FastAPI(
        title="hippodex",
        version=__version__,
        description="Long-term memory for LLM agents. Send `Authorization: Bearer hdx_...` on every /v1 route.",
    )
    _install_error_handlers(app)

    def caller(request: Request) -> Key | None:
        if auth is None:
            return None
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key")
        if not token:
            raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer hdx_...'")
        key = auth.check(token)
        if key is None:
            raise ApiError(401, "unauthorized", "invalid or revoked API key")
        return key

    KeyDep = Annotated[Key | None, Depends(caller)]
    UserQ = Annotated[str, Query(min_length=1, max_length=256, description="The tenant whose memory to use.")]
    # Ids may contain "/" (check_id allows it) and uvicorn decodes %2F before routing, so id path parameters
    # use the {name:path} converter; each route's fixed prefix and suffix keep the match unambiguous.
    IdP = Annotated[str, Path(min_length=1, max_length=256, description="The episode's id.")]
    UserP = Annotated[str, Path(min_length=1, max_length=256, description="The tenant whose memory to use.")]
    LimitQ = Annotated[int, Query(ge=1, le=10_000)]
    OffsetQ = Annotated[int, Query(ge=0)]

    def allow(key: Key | None, user_id: str) -> str:
        if key is not None and not key.allows(user_id):
            raise ApiError(403, "forbidden", "this API key may not access that user_id")
        return user_id

    def allow_any(key: Key | None, user_id: str | None, what: str) -> str | None:
        """``user_id`` if the key may use it; ``None`` (every user) only for admin keys (or no auth)."""
        if user_id is not None:
            return allow(key, user_id)
        if key is not None and not key.admin:
            raise ApiError(403, "forbidden", f"{what} need an admin key; pass user_id")
        return None

    @app.get("/health", response_model=s.HealthOut, tags=["ops"])
    def health() -> s.HealthOut:
        """Liveness: the process answers."""
        return s.HealthOut(status="ok", version=__version__)

    @app.get("/ready", response_model=s.HealthOut, tags=["ops"], responses={503: {"model": s.ErrorOut}})
    def ready() -> Any:
        """Readiness: the memory and its API keys can be read."""
        try:
            memory.stats()
            if auth is not None:
                auth.ping()
        except Exception:
            log.exception("readiness check failed")
            return _error(503, "not_ready", "the memory store cannot be read")
        return s.HealthOut(status="ready", version=__version__)

    @app.post("/v1/memories", status_code=201, response_model=s.AddResponse, responses=_ERRORS, tags=["memories"])
    def add(body: s.AddRequest, key: KeyDep) -> s.AddResponse:
        """Record messages as episodes of one session."""
        allow(key, body.user_id)
        episodes = memory.add(
            [m.model_dump(exclude_none=True) for m in body.messages],
            user_id=body.user_id,
            agent_id=body.agent_id,
            run_id=body.run_id,
            session_id=body.session_id,
            timestamp=body.timestamp,
            metadata=body.metadata,
        )
        return s.AddResponse.model_validate({"episodes": [e.to_dict() for e in episodes]})

    @app.post("/v1/search", response_model=s.SearchResponse, responses=_ERRORS, tags=["memories"])
    def search(body: s.SearchRequest, key: KeyDep) -> s.SearchResponse:
        """Recall the episodes that best answer a query, within one user's memory."""
        allow(key, body.user_id)
        args = body.model_dump(exclude={"user_id", "query"})
        hits = memory.search(body.query, user_id=body.user_id, **args)
        return s.SearchResponse.model_validate({"hits": [h.to_dict() for h in hits]})

    @app.post("/v1/context", response_model=s.ContextResponse, responses=_ERRORS, tags=["memories"])
    def context(body: s.ContextRequest, key: KeyDep) -> s.ContextResponse:
        """A prompt-ready block of dated evidence for a query, within a token budget."""
        allow(key, body.user_id)
        block = memory.context(
            body.query,
            user_id=body.user_id,
            budget_tokens=body.budget_tokens,
            now=body.now,
            k=body.k,
            expand=body.expand,
        )
        return s.ContextResponse(context=block)

    @app.get(
        "/v1/memories/{episode_id:path}", response_model=s.EpisodeOut, responses=_ERRORS | _NOT_FOUND, tags=["memories"]
    )
    def get(episode_id: IdP, user_id: UserQ, key: KeyDep) -> s.EpisodeOut:
        """One episode by id."""
        return s.EpisodeOut.model_validate(memory.get(episode_id, user_id=allow(key, user_id)).to_dict())

    @app.get("/v1/memories", response_model=s.PageOut, responses=_ERRORS, tags=["memories"])
    def list_(
        user_id: UserQ,
        key: KeyDep,
        limit: LimitQ = 50,
        offset: OffsetQ = 0,
        session_id: Annotated[list[str] | None, Query()] = None,
        role: Annotated[list[s.Role] | None, Query()] = None,
        since: Annotated[
            s.QueryTime | None, Query(description="Only episodes at or after this time. " + s.TIME)
        ] = None,
        until: Annotated[s.QueryTime | None, Query(description=s.UNTIL)] = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Annotated[str | None, Query(description="A JSON object the metadata must match.")] = None,
    ) -> s.PageOut:
        """A page of a user's episodes in time order."""
        try:
            meta = json.loads(metadata) if metadata is not None else None
        except ValueError:
            raise ValidationError('metadata must be a JSON object, e.g. {"topic": "travel"}') from None
        page = memory.list(
            user_id=allow(key, user_id),
            limit=limit,
            offset=offset,
            agent_id=agent_id,
            run_id=run_id,
            session_id=session_id,
            since=since,
            until=until,
            role=role,
            metadata=meta,
        )
        return s.PageOut.model_validate(page.to_dict())

    @app.patch(
        "/v1/memories/{episode_id:path}", response_model=s.EpisodeOut, responses=_ERRORS | _NOT_FOUND, tags=["memories"]
    )
    def update_metadata(episode_id: IdP, body: s.UpdateMetadataRequest, key: KeyDep) -> s.EpisodeOut:
        """Set an episode's metadata (merged into what it has unless merge is false)."""
        ep = memory.update_metadata(episode_id, body.metadata, user_id=allow(key, body.user_id), merge=body.merge)
        return s.EpisodeOut.model_validate(ep.to_dict())

    @app.delete("/v1/memories/{episode_id:path}", status_code=204, responses=_ERRORS | _NOT_FOUND, tags=["memories"])
    def delete(episode_id: IdP, user_id: UserQ, key: KeyDep) -> Response:
        """Delete one episode, its vector and its index entries."""
        memory.delete(episode_id, user_id=allow(key, user_id))
        return Response(status_code=204)

    @app.delete("/v1/users/{user_id:path}", response_model=s.EraseResponse, responses=_ERRORS, tags=["users"])
    def erase(user_id: UserP, key: KeyDep) -> s.EraseResponse:
        """Remove everything of a user from every table and index."""
        return s.EraseResponse(user_id=user_id, deleted=memory.erase(user_id=allow(key, user_id)))

    @app.get("/v1/users/{user_id:path}/sessions", response_model=s.SessionsResponse, responses=_ERRORS, tags=["users"])
    def sessions(
        user_id: UserP,
        key: KeyDep,
        limit: LimitQ = 50,
        offset: OffsetQ = 0,
    ) -> s.SessionsResponse:
        """A user's sessions, most recent first."""
        found = memory.sessions(user_id=allow(key, user_id), limit=limit, offset=offset)
        return s.SessionsResponse.model_validate({"sessions": [x.to_dict() for x in found]})

    @app.get("/v1/stats", response_model=s.StatsOut, responses=_ERRORS, tags=["users"])
    def stats(
        key: KeyDep,
        user_id: Annotated[str | None, Query(max_length=256, description="Omit for the whole memory (admin).")] = None,
    ) -> s.StatsOut:
        """Counts and size of one user's memory, or (admin keys) of the whole file."""
        user = allow_any(key, user_id, "stats of the whole memory")
        return s.StatsOut.model_validate(memory.stats(user_id=user).to_dict())

    @app.get("/v1/users/{user_id:path}/facts", response_model=s.FactsResponse, responses=_ERRORS, tags=["knowledge"])
    def facts(
        user_id: UserP,
        key: KeyDep,
        current_only: Annotated[bool, Query(description="Leave out superseded facts.")] = True,
        subject: Annotated[str | None, Query(max_length=256, description="Only facts about this subject.")] = None,
        limit: LimitQ = 100,
        offset: OffsetQ = 0,
    ) -> s.FactsResponse:
        """What the memory knows about a user, most recently stated first."""
        found = memory.facts(
            allow(key, user_id), current_only=current_only, subject=subject, limit=limit, offset=offset
        )
        return s.FactsResponse.model_validate({"facts": [f.to_dict() for f in found]})

    @app.get(
        "/v1/facts/{fact_id:path}/history",
        response_model=s.FactsResponse,
        responses=_ERRORS | _NOT_FOUND,
        tags=["knowledge"],
    )
    def history(
        fact_id: Annotated[str, Path(min_length=1, max_length=256, description="The fact's id.")],
        key: KeyDep,
        user_id: Annotated[
            str | None, Query(min_length=1, max_length=256, description="Only this user's facts; omit for any (admin).")
        ] = None,
    ) -> s.FactsResponse:
        """A fact's chain, oldest first: what it superseded and what superseded it.

        Without ``user_id`` the fact may be any user's, so only admin keys may leave it out.
        """
        chain = memory.history(fact_id, user_id=allow_any(key, user_id, "fact histories of every user"))
        return s.FactsResponse.model_validate({"facts": [f.to_dict() for f in chain]})

    @app.get(
        "/v1/users/{user_id:path}/entities", response_model=s.EntitiesResponse, responses=_ERRORS, tags=["knowledge"]
    )
    def entities(
        user_id: UserP,
        key: KeyDep,
        limit: LimitQ = 100,
        offset: OffsetQ = 0,
    ) -> s.EntitiesResponse:
        """People, places and things a user's episodes mention, most mentioned first."""
        found = memory.entities(allow(key, user_id), limit=limit, offset=offset)
        return s.EntitiesResponse.model_validate({"entities": [e.to_dict() for e in found]})

    @app.post("/v1/consolidate", response_model=s.ConsolidateResponse, responses=_ERRORS, tags=["knowledge"])
    def consolidate(body: s.ConsolidateRequest, key: KeyDep) -> s.ConsolidateResponse:
        """Sleep for one user, or (admin keys) every user: learn new facts, merge duplicates, summarise
        sessions and, with ``cold_after_days``, move older episodes' vectors to ``cold_tier``."""
        user = allow_any(key, body.user_id, "consolidation passes of every user")
        try:
            report = memory.consolidate(user, cold_after_days=body.cold_after_days, cold_tier=body.cold_tier)
        except ConfigError as exc:  # cold tiers on a backend without them: the request's fault, not a crash
            raise ApiError(422, "validation_error", str(exc)) from None
        return s.ConsolidateResponse.model_validate(report.to_dict())

    web.install(app, auth)  # the viewer page at / (see web.py)
    app.add_middleware(_BodyLimit, limit=max_body_bytes)
    return app
