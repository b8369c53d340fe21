"""A Python client for ``hippodex serve``, with the same methods as :class:`hippodex.Memory`.

It returns the same dataclasses (:class:`Episode`, :class:`Hit`, :class:`Page`,
:class:`SleepReport`, ...) and raises the same errors with the same messages,
so code written against ``Memory`` runs against a server by swapping one
constructor. Needs ``httpx`` (the ``server`` extra).

Arguments are checked here, with the very functions ``Memory`` checks them with
(:mod:`hippodex.ingest.normalize`), before anything is sent: a bad value gets
``Memory``'s message rather than the server's schema wording, and a value JSON
or a URL would silently change (a lone surrogate, ``{1: 2}``, a ``None`` user)
never leaves the process. The server checks everything again.
"""

from __future__ import annotations

import builtins
import json as _json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import quote

from hippodex._exceptions import ConfigError, HippodexError, MemoryNotFound, StoreError, ValidationError
from hippodex.encode.quantize import tier_code
from hippodex.ingest.normalize import (
    Message,
    TimeLike,
    check_budget,
    check_channels,
    check_expand,
    check_id,
    check_ids,
    check_k,
    check_messages,
    check_metadata,
    check_offset,
    check_query,
    check_roles,
    parse_range,
    parse_time,
)
from hippodex.knowledge.learn import LearnReport
from hippodex.knowledge.sleep import SleepReport
from hippodex.memory import ImportResult
from hippodex.model import ChannelScore, Entity, Episode, Fact, Hit, Page, Session, Stats

try:
    import httpx
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise ImportError("hippodex.client needs httpx: pip install 'hippodex[server]'") from _exc

__all__ = ["AuthError", "Client"]


class AuthError(HippodexError):
    """The server refused the API key (401) or the key may not touch that user (403)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class _SleepReport(SleepReport):
    """A :class:`SleepReport` that also reads like the dict earlier clients returned (``report["users"]``).

    >>> _SleepReport(users=2)["users"]
    2
    """

    def __getitem__(self, key: str) -> object:
        return self.to_dict()[key]


# -- from JSON ----------------------------------------------------------------
def _episode(d: Mapping[str, Any]) -> Episode:
    return Episode(
        id=d["id"],
        user_id=d["user_id"],
        session_id=d["session_id"],
        seq=d["seq"],
        role=d["role"],
        content=d["content"],
        occurred_at=datetime.fromisoformat(d["occurred_at"]),
        recorded_at=datetime.fromisoformat(d["recorded_at"]),
        speaker=d.get("speaker"),
        agent_id=d.get("agent_id"),
        run_id=d.get("run_id"),
        metadata=dict(d.get("metadata") or {}),
    )


def _hit(d: Mapping[str, Any]) -> Hit:
    return Hit(
        episode=_episode(d["episode"]),
        score=d["score"],
        channels={n: ChannelScore(c["rank"], c["score"]) for n, c in d["channels"].items()},
        context=tuple(_episode(e) for e in d.get("context", ())),
    )


def _session(d: Mapping[str, Any]) -> Session:
    return Session(
        id=d["id"],
        user_id=d["user_id"],
        started_at=datetime.fromisoformat(d["started_at"]),
        ended_at=datetime.fromisoformat(d["ended_at"]),
        episodes=d["episodes"],
        agent_id=d.get("agent_id"),
        run_id=d.get("run_id"),
    )


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _fact(d: Mapping[str, Any]) -> Fact:
    times = {n: _when(d.get(n)) for n in ("valid_from", "valid_to", "recorded_at", "last_seen", "last_recalled")}
    plain = {n: d[n] for n in Fact.__dataclass_fields__ if n not in times and n != "sources"}
    return Fact(**plain, **times, sources=tuple(d["sources"]))  # type: ignore[arg-type]


def _entity(d: Mapping[str, Any]) -> Entity:
    return Entity(
        id=d["id"],
        user_id=d["user_id"],
        name=d["name"],
        kind=d["kind"],
        aliases=tuple(d["aliases"]),
        mentions=d["mentions"],
        first_seen=datetime.fromisoformat(d["first_seen"]),
        last_seen=datetime.fromisoformat(d["last_seen"]),
    )


def _sleep_report(d: Mapping[str, Any]) -> _SleepReport:
    learned = LearnReport(
        episodes=d["episodes_learned"],
        added=d["facts_added"],
        reinforced=d["facts_reinforced"],
        superseded=d["facts_superseded"],
        disputed=d["facts_disputed"],
        mentions=d["mentions"],
        errors=builtins.list(d["errors"]),
        unavailable=d["unavailable"],
    )
    return _SleepReport(
        users=d["users"],
        learned=learned,
        merged=d["facts_merged"],
        summaries=d["summaries"],
        entities_recounted=d["entities_recounted"],
        retiered=d["vectors_retiered"],
        seconds=d["seconds"],
    )


# -- to JSON, checked as Memory checks it ------------------------------------------
def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _time(value: TimeLike | None, name: str) -> str | None:
    """``value`` read as ``Memory`` reads it (naive is UTC, a date is its midnight), as ISO 8601."""
    return _iso(parse_time(value, name))


def _message(m: Message) -> dict[str, Any]:
    return _drop_none(
        {
            "role": m.role,
            "content": m.content,
            "speaker": m.speaker,
            "timestamp": _iso(m.occurred_at),
            "metadata": m.metadata or None,
            "id": m.id,
        }
    )


def _user(user_id: object) -> str:
    return str(check_id(user_id, "user_id"))


def _some_user(user_id: object) -> str | None:
    """An optional ``user_id`` (``None``: every user)."""
    return check_id(user_id, "user_id", required=False)


def _channels(names: str | Sequence[str] | None) -> builtins.list[str] | None:
    """The channel names as :meth:`Memory.search` checks them (``None``: the server's default)."""
    return None if names is None else builtins.list(check_channels(names))


def _filters(
    agent_id: str | None,
    run_id: str | None,
    session_id: str | Sequence[str] | None,
    since: TimeLike | None,
    until: TimeLike | None,
    role: str | Sequence[str] | None,
    metadata: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The filters search and list share, checked in ``Memory``'s order, as JSON-ready values."""
    roles = check_roles(role)
    start, end = parse_range(since, until)
    return {
        "agent_id": check_id(agent_id, "agent_id", required=False),
        "run_id": check_id(run_id, "run_id", required=False),
        "session_id": builtins.list(check_ids(session_id, "session_id")) or None,
        "since": _iso(start),
        "until": _iso(end),
        "role": builtins.list(roles) or None,
        "metadata": check_metadata(metadata, "metadata filter") or None,
    }


def _seg(value: str) -> str:
    """``value`` as one URL path segment."""
    # Dots too: httpx resolves a segment "." or ".." away, so erase(user_id="..") would hit /v1/.
    return quote(value, safe="").replace(".", "%2E")


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _no_episode(episode_id: str, user_id: str) -> str:
    return f"no episode {episode_id!r} for user {user_id!r}"  # the store's words, which the server withholds


class Client:
    """Talk to a hippodex server as if it were a local :class:`hippodex.Memory`.

    >>> with Client("http://127.0.0.1:8765", api_key="hdx_...") as mem:  # doctest: +SKIP
    ...     mem.add("I moved to Lisbon in May", user_id="ana")
    ...     mem.search("where does Ana live?", user_id="ana", k=3)[0].episode.content
    'I moved to Lisbon in May'

    Errors map back to hippodex's: a bad argument raises :class:`ValidationError`
    before any request (so does a 413 or 422), 401/403 :class:`AuthError`, an
    unknown id :class:`MemoryNotFound`, and anything else (an unreachable
    server, a URL that is not a hippodex server, a 5xx) :class:`StoreError`
    naming the URL. What the REST API cannot do (export, import, reindex,
    move_tier) raises :class:`ConfigError`, as ``Memory`` does for what its
    backend cannot do.
    """

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        try:
            self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
            scheme = self._http.base_url.scheme
        except (httpx.InvalidURL, ValueError) as exc:  # e.g. a bad port in the URL
            raise ConfigError(f"url: {url!r} is not a usable server URL ({exc})") from None
        # Said now, not at the first call: "localhost:8765" would parse as the scheme "localhost".
        if scheme not in ("http", "https"):
            self._http.close()
            raise ConfigError(f"url: {url!r} must start with http:// or https://, e.g. http://127.0.0.1:8765")

    # -- transport --------------------------------------------------------
    def _call(self, method: str, path: str, *, json: Any = None, params: Any = None, missing: str | None = None) -> Any:
        """Send one request and return its JSON; ``missing`` is the :class:`MemoryNotFound`
        message for a 404 (on routes without an id a 404 means a wrong base URL)."""
        where = f"{method} {self.url}{path}"
        if self._http.is_closed:  # httpx would raise a bare RuntimeError
            raise StoreError(f"this Client of {self.url} is closed; open a new one")
        try:
            r = self._http.request(method, path, json=json, params=params)
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            # The request reached the server (or may have): a write may yet be stored.
            timeout = self._http.timeout.read
            raise StoreError(
                f"{where} got no answer ({type(exc).__name__}: {str(exc) or 'no detail'}) within {timeout} s; "
                "the server may still have done it, so check (e.g. list or stats) before sending a write again "
                "(an add whose messages carry ids is safe to send again), "
                "and give Client(timeout=...) more seconds, or send fewer messages at a time, for long calls"
            ) from None
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            # from None: the message says all; httpx's own traceback would only bury it.
            raise StoreError(
                f"cannot reach the hippodex server at {self.url} ({type(exc).__name__}: {str(exc) or 'no detail'}); "
                "is `hippodex serve` running there?"
            ) from None
        if 200 <= r.status_code < 300:
            if r.status_code == 204:
                return None
            try:
                return r.json()
            except ValueError:
                raise StoreError(
                    f"{where} answered with a body that is not JSON; is {self.url} a hippodex server?"
                ) from None
        try:
            message = str(r.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = r.text[:200] or r.reason_phrase
        if r.status_code in (401, 403):
            raise AuthError(message, status=r.status_code)
        if r.status_code == 404:
            if missing is not None:
                raise MemoryNotFound(missing)
            raise StoreError(f"{where}: no such route (404); is {self.url} the base URL of a hippodex server?")
        if r.status_code in (413, 422):
            raise ValidationError(message)
        if 300 <= r.status_code < 400:
            target = r.headers.get("location", "elsewhere")
            raise StoreError(f"{where} was redirected to {target}; give Client that URL instead")
        raise StoreError(f"server error {r.status_code} from {where}: {message}")

    def _unsupported(self, what: str, instead: str) -> NoReturn:
        raise ConfigError(
            f"{what} is not available through the REST API of {self.url} (it has no endpoint for it); {instead}"
        )

    # -- writes -------------------------------------------------------------
    def add(
        self,
        messages: str | Mapping[str, Any] | Iterable[str | Mapping[str, Any]],
        *,
        user_id: str,
        agent_id: str | None = None,
        run_id: str | None = None,
        session_id: str | None = None,
        timestamp: TimeLike | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> builtins.list[Episode]:
        """Record messages as episodes of one session (see :meth:`Memory.add`).

        >>> mem.add(["hi", "I like tea"], user_id="ana", session_id="s1")  # doctest: +SKIP
        [Episode(..., seq=0, ...), Episode(..., seq=1, ...)]
        """
        body = _drop_none(
            {
                "user_id": _user(user_id),
                "agent_id": check_id(agent_id, "agent_id", required=False),
                "run_id": check_id(run_id, "run_id", required=False),
                "session_id": check_id(session_id, "session_id", required=False),
                "messages": [_message(m) for m in check_messages(messages)],
                "timestamp": _time(timestamp, "timestamp"),
                "metadata": check_metadata(metadata) or None,
            }
        )
        return [_episode(e) for e in self._call("POST", "/v1/memories", json=body)["episodes"]]

    def update_metadata(
        self, episode_id: str, metadata: Mapping[str, Any], *, user_id: str, merge: bool = True
    ) -> Episode:
        """Set an episode's metadata (merged unless ``merge=False``; see :meth:`Memory.update_metadata`)."""
        user, meta = _user(user_id), check_metadata(metadata)
        eid = str(check_id(episode_id, "episode_id"))
        body = {"user_id": user, "metadata": meta, "merge": bool(merge)}
        return _episode(self._call("PATCH", f"/v1/memories/{_seg(eid)}", json=body, missing=_no_episode(eid, user)))

    def delete(self, episode_id: str, *, user_id: str) -> None:
        """Delete one episode (see :meth:`Memory.delete`)."""
        user, eid = _user(user_id), str(check_id(episode_id, "episode_id"))
        self._call("DELETE", f"/v1/memories/{_seg(eid)}", params={"user_id": user}, missing=_no_episode(eid, user))

    def erase(self, *, user_id: str) -> int:
        """Remove everything of a user; returns episodes removed."""
        return int(self._call("DELETE", f"/v1/users/{_seg(_user(user_id))}")["deleted"])

    # -- reads --------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        user_id: str,
        k: int = 10,
        now: TimeLike | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        session_id: str | Sequence[str] | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        role: str | Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        channels: Sequence[str] | None = None,
        expand: int = 0,
    ) -> builtins.list[Hit]:
        """Recall the episodes that best answer ``query`` (see :meth:`Memory.search`).

        >>> mem.search("sister", user_id="ana", k=3, channels="lexical")[0].channels["lexical"].rank  # doctest: +SKIP
        1
        """
        body = _drop_none(
            {
                "user_id": _user(user_id),
                "query": check_query(query),
                "k": check_k(k),
                "expand": check_expand(expand),
                **_filters(agent_id, run_id, session_id, since, until, role, metadata),
                "channels": _channels(channels),
                "now": _time(now, "now"),
            }
        )
        return [_hit(h) for h in self._call("POST", "/v1/search", json=body)["hits"]]

    def context(
        self,
        query: str,
        *,
        user_id: str,
        budget_tokens: int = 1000,
        now: TimeLike | None = None,
        k: int = 20,
        expand: int = 1,
    ) -> str:
        """A prompt-ready block of dated evidence (see :meth:`Memory.context`)."""
        check_budget(budget_tokens)
        body = _drop_none(
            {
                "user_id": _user(user_id),
                "query": check_query(query),
                "k": check_k(k),
                "expand": check_expand(expand),
                "budget_tokens": budget_tokens,
                "now": _time(now, "now"),
            }
        )
        return str(self._call("POST", "/v1/context", json=body)["context"])

    def get(self, episode_id: str, *, user_id: str) -> Episode:
        """One episode by id; raises :class:`MemoryNotFound` if the user has none such."""
        user, eid = _user(user_id), str(check_id(episode_id, "episode_id"))
        path = f"/v1/memories/{_seg(eid)}"
        return _episode(self._call("GET", path, params={"user_id": user}, missing=_no_episode(eid, user)))

    def list(
        self,
        *,
        user_id: str,
        limit: int = 50,
        offset: int = 0,
        agent_id: str | None = None,
        run_id: str | None = None,
        session_id: str | Sequence[str] | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        role: str | Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Page:
        """A page of a user's episodes in time order; pass ``page.next_offset`` on.

        >>> mem.list(user_id="ana", limit=2, role="user").next_offset  # doctest: +SKIP
        2
        """
        limit, offset = check_k(limit, 10_000, "limit"), check_offset(offset)
        filters = _filters(agent_id, run_id, session_id, since, until, role, metadata)
        if filters["metadata"] is not None:  # a query parameter: JSON text
            filters["metadata"] = _json.dumps(filters["metadata"])
        params = _drop_none({"user_id": _user(user_id), "limit": limit, "offset": offset, **filters})
        d = self._call("GET", "/v1/memories", params=params)
        return Page(tuple(_episode(e) for e in d["items"]), d["total"], d["next_offset"])

    def sessions(self, *, user_id: str, limit: int = 50, offset: int = 0) -> builtins.list[Session]:
        """A user's sessions, most recent first."""
        user = _user(user_id)
        params = {"limit": check_k(limit, 10_000, "limit"), "offset": check_offset(offset)}
        return [_session(x) for x in self._call("GET", f"/v1/users/{_seg(user)}/sessions", params=params)["sessions"]]

    def stats(self, *, user_id: str | None = None) -> Stats:
        """Counts and size of the memory (admin key), or of one user's part of it."""
        d = self._call("GET", "/v1/stats", params=_drop_none({"user_id": _some_user(user_id)}))
        return Stats(**{f: d[f] for f in Stats.__dataclass_fields__})

    # -- semantic memory ----------------------------------------------------
    def facts(
        self,
        user_id: str,
        *,
        current_only: bool = True,
        subject: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Fact]:
        """What the memory knows about a user (see :meth:`Memory.facts`).

        >>> [f.text for f in mem.facts("ana") if f.predicate == "lives_in"]  # doctest: +SKIP
        ['The user lives in Lisbon.']
        """
        user = _user(user_id)
        params = _drop_none(
            {
                "subject": check_id(subject, "subject", required=False),
                "limit": check_k(limit, 10_000, "limit"),
                "offset": check_offset(offset),
                "current_only": bool(current_only),  # Memory reads it for its truth, not its type
            }
        )
        return [_fact(f) for f in self._call("GET", f"/v1/users/{_seg(user)}/facts", params=params)["facts"]]

    def history(self, fact_id: str, *, user_id: str | None = None) -> builtins.list[Fact]:
        """A fact's chain, oldest first (see :meth:`Memory.history`)."""
        user = _some_user(user_id)
        fid = str(check_id(fact_id, "fact_id"))
        missing = f"no fact {fid!r}" + (f" for user {user!r}" if user else "")
        params = _drop_none({"user_id": user})
        return [
            _fact(f)
            for f in self._call("GET", f"/v1/facts/{_seg(fid)}/history", params=params, missing=missing)["facts"]
        ]

    def entities(self, user_id: str, *, limit: int = 100, offset: int = 0) -> builtins.list[Entity]:
        """A user's entities, most mentioned first (see :meth:`Memory.entities`)."""
        user = _user(user_id)
        params = {"limit": check_k(limit, 10_000, "limit"), "offset": check_offset(offset)}
        return [_entity(e) for e in self._call("GET", f"/v1/users/{_seg(user)}/entities", params=params)["entities"]]

    def consolidate(
        self, user_id: str | None = None, *, cold_after_days: float | None = None, cold_tier: str = "int8"
    ) -> SleepReport:
        """Run a consolidation pass (see :meth:`Memory.consolidate`); returns what it did.

        >>> mem.consolidate("ana").summaries  # doctest: +SKIP
        2
        """
        body: dict[str, Any] = _drop_none({"user_id": _some_user(user_id)})
        if cold_after_days is not None:
            days: object = cold_after_days
            if isinstance(days, bool) or not isinstance(days, int | float) or not days >= 0:  # NaN fails >= 0
                raise ValidationError(f"cold_after_days must be a number of days >= 0, got {days!r}")
            tier_code(cold_tier)
            if math.isfinite(days):  # an infinite age makes nothing cold, as in Memory; JSON cannot carry it
                body |= {"cold_after_days": days, "cold_tier": cold_tier}
        return _sleep_report(self._call("POST", "/v1/consolidate", json=body))

    # -- what only the database's host can do -------------------------------
    def export(self, *, user_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Not over REST: raises :class:`ConfigError` (run ``hippodex export`` where the database is)."""
        _some_user(user_id)
        self._unsupported("export", "run `hippodex export` where the database is")

    def import_episodes(
        self,
        records: str | os.PathLike[str] | Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]],
        *,
        batch: int = 500,
        new_ids: bool = False,
    ) -> ImportResult:
        """Not over REST: raises :class:`ConfigError` (run ``hippodex import`` where the database is)."""
        self._unsupported("import_episodes", "run `hippodex import` where the database is")

    def reindex(self, *, batch: int = 256) -> int:
        """Not over REST: raises :class:`ConfigError` (run ``hippodex reindex`` where the database is)."""
        self._unsupported("reindex", "run `hippodex reindex` where the database is")

    def move_tier(self, tier: str, *, user_id: str, until: TimeLike | None = None) -> int:
        """Not over REST: raises :class:`ConfigError` (call it on a ``Memory`` where the database is)."""
        self._unsupported("move_tier", "call Memory.move_tier where the database is")

    # -- lifecycle ----------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"
