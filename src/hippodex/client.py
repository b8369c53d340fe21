"""A Python client for ``hippodex serve``, with the same methods as :class:`hippodex.Memory`.

It returns the same dataclasses (:class:`Episode`, :class:`Hit`, :class:`Page`,
...) and raises the same errors, so code written against ``Memory`` runs against
a server by swapping one constructor. Needs ``httpx`` (the ``server`` extra).
"""

from __future__ import annotations

import builtins
import json as _json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from hippodex._exceptions import HippodexError, MemoryNotFound, StoreError, ValidationError
from hippodex.ingest.normalize import TimeLike
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


def _time(value: TimeLike | None) -> str | float | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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


def _message(m: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(m, str):
        return {"role": "user", "content": m}
    out = dict(m)
    if "name" in out and "speaker" not in out:
        out["speaker"] = out.pop("name")
    if "timestamp" in out:
        out["timestamp"] = _time(out["timestamp"])
    return out


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _filters(
    agent_id: str | None,
    run_id: str | None,
    session_id: str | Sequence[str] | None,
    since: TimeLike | None,
    until: TimeLike | None,
    role: str | Sequence[str] | None,
) -> dict[str, Any]:
    """The filters search and list share, as JSON-ready values (httpx repeats list params)."""
    return {
        "agent_id": agent_id,
        "run_id": run_id,
        "session_id": session_id if isinstance(session_id, str | None) else builtins.list(session_id),
        "since": _time(since),
        "until": _time(until),
        "role": role if isinstance(role, str | None) else builtins.list(role),
    }


class Client:
    """Talk to a hippodex server as if it were a local :class:`hippodex.Memory`.

    >>> with Client("http://127.0.0.1:8765", api_key="hdx_...") as mem:  # doctest: +SKIP
    ...     mem.add("I moved to Lisbon in May", user_id="ana")
    ...     mem.search("where does Ana live?", user_id="ana", k=3)[0].episode.content
    'I moved to Lisbon in May'

    Errors map back to hippodex's: 401/403 raise :class:`AuthError`, 404
    :class:`MemoryNotFound`, 413/422 :class:`ValidationError`, anything else
    (and an unreachable server) :class:`StoreError`.
    """

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    # -- transport --------------------------------------------------------
    def _call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        try:
            r = self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise StoreError(f"cannot reach hippodex server at {self.url}: {exc}") from exc
        if r.status_code < 400:
            return None if r.status_code == 204 or not r.content else r.json()
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = r.text[:200] or r.reason_phrase
        if r.status_code in (401, 403):
            raise AuthError(message, status=r.status_code)
        if r.status_code == 404:
            raise MemoryNotFound(message)
        if r.status_code in (413, 422):
            raise ValidationError(message)
        raise StoreError(f"server error {r.status_code}: {message}")

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
        """Record messages as episodes of one session (see :meth:`Memory.add`)."""
        items = [messages] if isinstance(messages, str | Mapping) else builtins.list(messages)
        body = _drop_none(
            {
                "user_id": user_id,
                "messages": [_message(m) for m in items],
                "agent_id": agent_id,
                "run_id": run_id,
                "session_id": session_id,
                "timestamp": _time(timestamp),
                "metadata": dict(metadata) if metadata is not None else None,
            }
        )
        return [_episode(e) for e in self._call("POST", "/v1/memories", json=body)["episodes"]]

    def update_metadata(
        self, episode_id: str, metadata: Mapping[str, Any], *, user_id: str, merge: bool = True
    ) -> Episode:
        """Set an episode's metadata (merged unless ``merge=False``)."""
        body = {"user_id": user_id, "metadata": dict(metadata), "merge": merge}
        return _episode(self._call("PATCH", f"/v1/memories/{_seg(episode_id)}", json=body))

    def delete(self, episode_id: str, *, user_id: str) -> None:
        """Delete one episode."""
        self._call("DELETE", f"/v1/memories/{_seg(episode_id)}", params={"user_id": user_id})

    def erase(self, *, user_id: str) -> int:
        """Remove everything of a user; returns episodes removed."""
        return int(self._call("DELETE", f"/v1/users/{_seg(user_id)}")["deleted"])

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
        """Recall the episodes that best answer ``query`` (see :meth:`Memory.search`)."""
        body = _drop_none(
            {
                "user_id": user_id,
                "query": query,
                "k": k,
                "now": _time(now),
                **_filters(agent_id, run_id, session_id, since, until, role),
                "metadata": dict(metadata) if metadata is not None else None,
                "channels": None if channels is None else builtins.list(channels),
                "expand": expand,
            }
        )
        return [_hit(h) for h in self._call("POST", "/v1/search", json=body)["hits"]]

    def context(self, query: str, *, user_id: str, budget_tokens: int = 1000, now: TimeLike | None = None) -> str:
        """A prompt-ready block of dated evidence (see :meth:`Memory.context`)."""
        body = _drop_none({"user_id": user_id, "query": query, "budget_tokens": budget_tokens, "now": _time(now)})
        return str(self._call("POST", "/v1/context", json=body)["context"])

    def get(self, episode_id: str, *, user_id: str) -> Episode:
        """One episode by id; raises :class:`MemoryNotFound` if the user has none such."""
        return _episode(self._call("GET", f"/v1/memories/{_seg(episode_id)}", params={"user_id": user_id}))

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
        """A page of a user's episodes in time order; pass ``page.next_offset`` on."""
        params = _drop_none(
            {
                "user_id": user_id,
                "limit": limit,
                "offset": offset,
                **_filters(agent_id, run_id, session_id, since, until, role),
                "metadata": _json.dumps(dict(metadata)) if metadata is not None else None,
            }
        )
        d = self._call("GET", "/v1/memories", params=params)
        return Page(tuple(_episode(e) for e in d["items"]), d["total"], d["next_offset"])

    def sessions(self, *, user_id: str, limit: int = 50, offset: int = 0) -> builtins.list[Session]:
        """A user's sessions, most recent first."""
        d = self._call("GET", f"/v1/users/{_seg(user_id)}/sessions", params={"limit": limit, "offset": offset})
        return [_session(x) for x in d["sessions"]]

    def stats(self, *, user_id: str | None = None) -> Stats:
        """Counts and size of the memory (admin key), or of one user's part of it."""
        d = self._call("GET", "/v1/stats", params=_drop_none({"user_id": user_id}))
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
        """What the memory knows about a user (see :meth:`Memory.facts`)."""
        params = _drop_none({"current_only": current_only, "subject": subject, "limit": limit, "offset": offset})
        return [_fact(f) for f in self._call("GET", f"/v1/users/{_seg(user_id)}/facts", params=params)["facts"]]

    def history(self, fact_id: str, *, user_id: str) -> builtins.list[Fact]:
        """A fact's chain, oldest first (see :meth:`Memory.history`)."""
        d = self._call("GET", f"/v1/facts/{_seg(fact_id)}/history", params={"user_id": user_id})
        return [_fact(f) for f in d["facts"]]

    def entities(self, user_id: str, *, limit: int = 100, offset: int = 0) -> builtins.list[Entity]:
        """A user's entities, most mentioned first (see :meth:`Memory.entities`)."""
        d = self._call("GET", f"/v1/users/{_seg(user_id)}/entities", params={"limit": limit, "offset": offset})
        return [_entity(e) for e in d["entities"]]

    def consolidate(self, user_id: str) -> dict[str, Any]:
        """Run a consolidation pass for one user; returns what it did (see :meth:`Memory.consolidate`)."""
        return dict(self._call("POST", "/v1/consolidate", json={"user_id": user_id}))

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
