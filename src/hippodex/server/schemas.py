"""Request and response bodies of the REST API, as pydantic models.

They give the OpenAPI document its shapes and reject malformed JSON early;
:class:`hippodex.Memory` still validates every value, so the rules live in one
place (:mod:`hippodex.ingest.normalize`). Responses mirror the dataclasses'
``to_dict()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from hippodex.config import CHANNELS
from hippodex.encode.quantize import TIERS
from hippodex.ingest.normalize import MAX_BATCH, MAX_CONTENT_CHARS, MAX_ID_CHARS, parse_time

Role = Literal["user", "assistant", "system", "tool"]


def check_time(value: str | float) -> str | float:
    """Reject a time :func:`parse_time` cannot read or represent in UTC, as a ``ValueError``."""
    # parse_time lets OverflowError escape for times that leave datetime's range
    # once moved to UTC (e.g. 9999-12-31T23:59-01:00); report it as a bad value.
    try:
        parse_time(value, "time")
    except OverflowError:
        raise ValueError("time is out of range (years 1 to 9999 in UTC)") from None
    return value


_JSON_TYPES: dict[type, str] = {dict: "object", list: "array", type(None): "null"}


def _json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _time_input(value: object) -> object:
    """Let only text and numbers through: JSON true is not Unix second 1."""
    # bool is an int subclass, so lax number parsing would read true/false as 1/0.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        got = str(value).lower() if isinstance(value, bool) else f"a JSON {_json_type(value)}"
        raise ValueError(f"expected an ISO 8601 time or Unix seconds, got {got}")
    return value


def _query_time(value: object) -> object:
    """Read a query value (always text) as Unix seconds when it is a number but not an ISO time."""
    # ISO goes first so a basic date such as 20240508 means what it means in a JSON body.
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip())
        except ValueError:
            try:
                return float(value)
            except ValueError:
                pass
    return value


def check_channel(name: str) -> str:
    """Reject a recall channel :mod:`hippodex.config` does not know."""
    if name not in CHANNELS:
        raise ValueError(f"unknown channel {name!r}; choose from {', '.join(CHANNELS)}")
    return name


def check_tier(name: str) -> str:
    """Reject a vector tier :mod:`hippodex.encode.quantize` does not know."""
    if name not in TIERS:
        raise ValueError(f"unknown tier {name!r}; choose from {', '.join(TIERS)}")
    return name


Time = Annotated[str | float, BeforeValidator(_time_input), AfterValidator(check_time)]
"""An ISO 8601 time (naive means UTC) or Unix seconds, in a JSON body."""

QueryTime = Annotated[str | float, BeforeValidator(_query_time), AfterValidator(check_time)]
"""The same, as a query parameter, where Unix seconds arrive as text."""

Channel = Annotated[str, AfterValidator(check_channel), Field(json_schema_extra={"enum": list(CHANNELS)})]
"""A recall channel; the names come from :data:`hippodex.config.CHANNELS` so they cannot drift."""

Tier = Annotated[str, AfterValidator(check_tier), Field(json_schema_extra={"enum": list(TIERS)})]
"""A vector tier, named as :data:`hippodex.encode.quantize.TIERS` names them."""

TIME = "ISO 8601 time such as 2024-05-08T14:00 (naive means UTC), or Unix seconds."
UNTIL = "Only episodes before this time; a date alone includes that day. " + TIME
UserId = Field(min_length=1, max_length=MAX_ID_CHARS, description="The tenant whose memory to use.")


class _Strict(BaseModel):
    # strict: JSON true is not 1 (a count or Unix second 1), nor "5" an integer.
    model_config = ConfigDict(extra="forbid", strict=True)


class MessageIn(_Strict):
    """One message to record."""

    role: Role = "user"
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    speaker: str | None = Field(None, max_length=MAX_ID_CHARS, description="Who said it, e.g. a name.")
    timestamp: Time | None = Field(None, description=TIME)
    metadata: dict[str, Any] | None = None
    id: str | None = Field(
        None,
        max_length=MAX_ID_CHARS,
        description="Your own id for it: sent again (a retry), the message is not stored twice.",
    )


class AddRequest(_Strict):
    """Body of ``POST /v1/memories``."""

    user_id: str = UserId
    messages: list[MessageIn] = Field(min_length=1, max_length=MAX_BATCH)
    session_id: str | None = Field(None, max_length=MAX_ID_CHARS, description="Session to add to (default: new).")
    timestamp: Time | None = Field(None, description="When the messages happened (default: now). " + TIME)
    metadata: dict[str, Any] | None = Field(None, description="Metadata shared by every message.")
    agent_id: str | None = Field(None, max_length=MAX_ID_CHARS)
    run_id: str | None = Field(None, max_length=MAX_ID_CHARS)


class SearchRequest(_Strict):
    """Body of ``POST /v1/search``."""

    user_id: str = UserId
    query: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    k: int = Field(10, ge=1, le=1000, description="How many hits.")
    now: Time | None = Field(None, description="When the question is asked (default: now). " + TIME)
    agent_id: str | None = None
    run_id: str | None = None
    session_id: str | list[str] | None = None
    since: Time | None = Field(None, description="Only episodes at or after this time. " + TIME)
    until: Time | None = Field(None, description=UNTIL)
    role: Role | list[Role] | None = None
    metadata: dict[str, Any] | None = Field(None, description="Only episodes whose metadata has these values.")
    channels: list[Channel] | None = Field(None, description="Recall channels (default: all): " + ", ".join(CHANNELS))
    expand: int = Field(0, ge=0, le=20, description="Neighbouring turns to attach on each side of a hit.")


class ContextRequest(_Strict):
    """Body of ``POST /v1/context``."""

    user_id: str = UserId
    query: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    budget_tokens: int = Field(1000, ge=20, le=200_000, description="Token budget (about 4 characters a token).")
    now: Time | None = Field(None, description="When the question is asked (default: now). " + TIME)
    # Memory.context's defaults and bounds (check_k's 1..1000, search's expand 0..20).
    k: int = Field(20, ge=1, le=1000, description="How many hits to draw the evidence from.")
    expand: int = Field(1, ge=0, le=20, description="Neighbouring turns to attach on each side of a hit.")


class ContextResponse(BaseModel):
    """A prompt-ready block of dated evidence."""

    context: str


class UpdateMetadataRequest(_Strict):
    """Body of ``PATCH /v1/memories/{id}``."""

    user_id: str = UserId
    metadata: dict[str, Any]
    merge: bool = Field(True, description="Merge into the existing metadata (false: replace it).")


class EpisodeOut(BaseModel):
    """One recorded episode, verbatim."""

    id: str
    user_id: str
    agent_id: str | None
    run_id: str | None
    session_id: str
    seq: int
    role: Role
    speaker: str | None
    content: str
    occurred_at: datetime
    recorded_at: datetime
    metadata: dict[str, Any]


class ChannelScoreOut(BaseModel):
    """A channel's 1-based rank and raw score for a hit."""

    rank: int
    score: float


class HitOut(BaseModel):
    """A recalled episode, its fused score, per-channel scores and context turns."""

    episode: EpisodeOut
    score: float
    channels: dict[str, ChannelScoreOut]
    context: list[EpisodeOut]


class AddResponse(BaseModel):
    """The stored episodes, in order."""

    episodes: list[EpisodeOut]


class SearchResponse(BaseModel):
    """Hits, best first."""

    hits: list[HitOut]


class PageOut(BaseModel):
    """One page of a listing; pass ``next_offset`` back as ``offset``."""

    items: list[EpisodeOut]
    total: int
    next_offset: int | None


class SessionOut(BaseModel):
    """A session: the episodes that share a session_id."""

    id: str
    user_id: str
    agent_id: str | None
    run_id: str | None
    started_at: datetime
    ended_at: datetime
    episodes: int


class SessionsResponse(BaseModel):
    """A user's sessions, most recent first."""

    sessions: list[SessionOut]


class StatsOut(BaseModel):
    """Counts and size of the memory, or of one user's part."""

    users: int
    sessions: int
    episodes: int
    vectors: int
    db_bytes: int
    encoder: str | None
    schema_version: int


class EraseResponse(BaseModel):
    """What ``DELETE /v1/users/{user_id}`` removed."""

    user_id: str
    deleted: int


class HealthOut(BaseModel):
    """Liveness (``/health``) or readiness (``/ready``)."""

    status: Literal["ok", "ready"]
    version: str


class ErrorBody(BaseModel):
    """A stable machine code and a human message."""

    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error response: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorBody


class FactOut(BaseModel):
    """A fact the memory distilled, with provenance and validity."""

    id: str
    user_id: str
    subject: str
    predicate: str
    object: str
    text: str
    confidence: float
    negated: bool
    single_valued: bool
    asserted_by: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    recorded_at: datetime
    last_seen: datetime
    superseded_by: str | None
    seen: int
    sources: list[str]
    extractor: str
    recalled: int
    last_recalled: datetime | None
    current: bool


class FactsResponse(BaseModel):
    """A user's facts, or one fact's history chain (oldest first)."""

    facts: list[FactOut]


class EntityOut(BaseModel):
    """A person, place, organisation or thing the episodes mention."""

    id: int
    user_id: str
    name: str
    kind: str
    aliases: list[str]
    mentions: int
    first_seen: datetime
    last_seen: datetime


class EntitiesResponse(BaseModel):
    """A user's entities, most mentioned first."""

    entities: list[EntityOut]


class ConsolidateRequest(_Strict):
    """Body of ``POST /v1/consolidate``: whose memory to consolidate, and whether to re-tier cold vectors."""

    user_id: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="The tenant to consolidate; omit for every user (admin).",
    )
    # allow_inf_nan=False: JSON has no Infinity (Memory reads an infinite age as "nothing is cold" anyway).
    cold_after_days: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="Move vectors of episodes older than this many days to cold_tier (default: leave them).",
    )
    cold_tier: Tier = Field("int8", description="The tier cold vectors move to: " + ", ".join(TIERS))


class ConsolidateResponse(BaseModel):
    """What a consolidation pass did."""

    users: int
    episodes_learned: int
    facts_added: int
    facts_reinforced: int
    facts_superseded: int
    facts_disputed: int
    mentions: int
    facts_merged: int
    summaries: int
    entities_recounted: int
    vectors_retiered: int
    errors: list[str]
    unavailable: bool = Field(description="Learning stopped early as the extractor failed; a later pass resumes.")
    seconds: float
