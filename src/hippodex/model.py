"""The data model: scopes, sessions, episodes, search hits, facts and entities.

Everything is a frozen dataclass so values can be shared between threads and
compared in tests. Times are timezone-aware UTC datetimes; a naive time given
by a caller is read as UTC.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

ROLES = ("user", "assistant", "system", "tool")


@dataclass(frozen=True)
class Scope:
    """Who a memory belongs to.

    ``user_id`` is the tenant: nothing is ever read or written across it.
    ``agent_id`` and ``run_id`` narrow a scope further when given; left as
    ``None`` on a read they match any value.
    """

    user_id: str
    agent_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Episode:
    """One recorded item (a turn, message, tool result or note), kept verbatim."""

    id: str
    user_id: str
    session_id: str
    seq: int
    role: str
    content: str
    occurred_at: datetime
    recorded_at: datetime
    speaker: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings), as ``export`` writes it."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "session_id": self.session_id,
            "seq": self.seq,
            "role": self.role,
            "speaker": self.speaker,
            "content": self.content,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class Session:
    """A conversation or run: the episodes that share a ``session_id``.

    ``agent_id`` and ``run_id`` are those every episode of the session was written
    with, or ``None`` where its episodes differ (two agents writing one conversation).
    """

    id: str
    user_id: str
    started_at: datetime
    ended_at: datetime
    episodes: int
    agent_id: str | None = None
    run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "episodes": self.episodes,
        }


@dataclass(frozen=True)
class ChannelScore:
    """What one recall channel said of a hit: its 1-based rank and raw score."""

    rank: int
    score: float


@dataclass(frozen=True)
class Hit:
    """A recalled episode with its score and the channels that found it.

    ``score`` orders the hits: the fused score after the context stages, or,
    when the learned stage re-orders them (the default), its probability that
    the hit is evidence for the query. ``context`` holds neighbouring turns of
    the same session when the search asked for expansion; they are evidence
    around the hit, not hits themselves.
    """

    episode: Episode
    score: float
    channels: dict[str, ChannelScore]
    context: tuple[Episode, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the hit, its per-channel scores and context."""
        return {
            "episode": self.episode.to_dict(),
            "score": self.score,
            "channels": {n: {"rank": c.rank, "score": c.score} for n, c in self.channels.items()},
            "context": [e.to_dict() for e in self.context],
        }


@dataclass(frozen=True)
class Page:
    """One page of a listing; pass ``next_offset`` back to get the next one."""

    items: tuple[Episode, ...]
    total: int
    next_offset: int | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the page."""
        return {"items": [e.to_dict() for e in self.items], "total": self.total, "next_offset": self.next_offset}


@dataclass(frozen=True)
class Stats:
    """Counts and sizes of a memory, or of one user's part of it."""

    users: int
    sessions: int
    episodes: int
    vectors: int
    db_bytes: int
    encoder: str | None
    schema_version: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the counts."""
        return asdict(self)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


@dataclass(frozen=True)
class Fact:
    """Something the memory knows, distilled from episodes, with its provenance.

    ``valid_from``/``valid_to`` are world time (when it was true, as far as the
    episodes say); ``recorded_at`` is system time (when hippodex learned it).
    A fact is never overwritten: a newer one closes it (``valid_to``) and names
    itself in ``superseded_by``, and :meth:`hippodex.Memory.history` walks the
    chain. ``sources`` are the ids of the episodes that stated it; ``seen``
    counts how often it was stated.
    """

    id: str
    user_id: str
    subject: str
    predicate: str
    object: str
    text: str
    confidence: float
    recorded_at: datetime
    last_seen: datetime
    sources: tuple[str, ...] = ()
    negated: bool = False
    single_valued: bool = False
    asserted_by: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    superseded_by: str | None = None
    seen: int = 1
    extractor: str = "rules"
    #: How often context assembly has put it in front of a model, and when last.
    recalled: int = 0
    last_recalled: datetime | None = None

    @property
    def current(self) -> bool:
        """True while nothing has closed or superseded it."""
        return self.valid_to is None and self.superseded_by is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings)."""
        out = asdict(self)
        out["sources"] = list(self.sources)
        for name in ("recorded_at", "last_seen", "valid_from", "valid_to", "last_recalled"):
            out[name] = _iso(getattr(self, name))
        out["current"] = self.current
        return out


@dataclass(frozen=True)
class Entity:
    """A person, place, organisation or thing the episodes mention."""

    id: int
    user_id: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    mentions: int
    first_seen: datetime
    last_seen: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings)."""
        out = asdict(self)
        out["aliases"] = list(self.aliases)
        out["first_seen"] = self.first_seen.isoformat()
        out["last_seen"] = self.last_seen.isoformat()
        return out
