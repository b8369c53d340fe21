"""Validation at the API edge: turn loose caller input into checked values.

Every public entry point (Python, CLI, REST, MCP) passes its input through
these functions, so a bad value gets the same clear message everywhere and is
rejected before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hippodex._exceptions import ValidationError
from hippodex.config import CHANNELS
from hippodex.model import ROLES

MAX_CONTENT_CHARS = 100_000
MAX_ID_CHARS = 256
MAX_METADATA_BYTES = 64_000
#: Levels of nesting metadata may have: deeper documents break JSON encoders along the way
#: (pydantic refuses to serialise 256), and no real record needs them.
MAX_METADATA_DEPTH = 32
MAX_BATCH = 10_000

TimeLike = datetime | date | str | int | float


@dataclass(frozen=True)
class Message:
    """A validated message, ready to be stored as an episode."""

    role: str
    content: str
    speaker: str | None
    occurred_at: datetime | None
    metadata: dict[str, Any]
    id: str | None = None  # the caller's own id, so a retried add stores nothing twice


def _check_unicode(value: str, name: str) -> None:
    """Reject a lone surrogate (from a bad ``\\ud800`` escape): it cannot be stored as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"{name} is not valid Unicode: it holds a lone surrogate (U+{ord(value[exc.start]):04X}) "
            f"at character {exc.start}; fix the escape that produced it"
        ) from None


def stable_id(*parts: object) -> str:
    """A deterministic episode id, so re-running an interrupted import skips what it stored."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def check_id(value: object, name: str, *, required: bool = True) -> str | None:
    """Check an identifier such as ``user_id`` or ``session_id``."""
    if value is None:
        if required:
            raise ValidationError(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, got {type(value).__name__}")
    _check_unicode(value, name)
    if not value.strip():
        raise ValidationError(f"{name} must not be empty")
    if len(value) > MAX_ID_CHARS:
        raise ValidationError(f"{name} is {len(value)} characters; the limit is {MAX_ID_CHARS}")
    if any(ord(c) < 32 for c in value):
        raise ValidationError(f"{name} must not contain control characters")
    return value


# "2023-05-08T15:00:00 02:00": a "+" in a URL's query string that arrived as a space.
_OFFSET_AS_SPACE = re.compile(r"^(\d{4}-?\d{2}-?\d{2}[T ]\d{2}[\d:.,]*) (\d{2}(?::?\d{2})?)$")


def parse_time(value: TimeLike | None, name: str = "timestamp") -> datetime | None:
    """Read a time as an aware UTC datetime; naive times are taken as UTC.

    Accepts a ``datetime``, a ``date``, an ISO 8601 string or Unix seconds.

    >>> parse_time("2023-05-08T14:00").isoformat()
    '2023-05-08T14:00:00+00:00'
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a time, got a boolean")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValidationError(f"{name} must be a finite number of seconds")
        try:
            dt = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValidationError(f"{name} {value!r} is out of range as Unix seconds") from exc
    elif isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(_OFFSET_AS_SPACE.sub(r"\1+\2", text))
        except ValueError:
            raise ValidationError(
                f"{name} {value!r} is not an ISO 8601 time; "
                "write it like 2023-05-08, 2023-05-08T14:00 or 2023-05-08T14:00:00+02:00"
            ) from None
    else:
        raise ValidationError(f"{name} must be an ISO 8601 string, a datetime or Unix seconds")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 lies past datetime.max in UTC
        raise ValidationError(f"{name} {value!r} is out of the representable range of times") from None


def parse_until(value: TimeLike | None, name: str = "until") -> datetime | None:
    """Read the end of a time range, which is exclusive: like :func:`parse_time`,
    except that a date alone ends after that day, so ``since`` and ``until`` of
    one date cover it.

    >>> parse_until("2023-05-08").isoformat(), parse_until("2023-05-08T14:00").isoformat()
    ('2023-05-09T00:00:00+00:00', '2023-05-08T14:00:00+00:00')
    """
    end = parse_time(value, name)
    if end is None or not _date_only(value):
        return end
    try:
        return end + timedelta(days=1)
    except OverflowError:  # until 9999-12-31: no end
        return None


def parse_range(since: TimeLike | None, until: TimeLike | None) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` read as a range (:func:`parse_time`, :func:`parse_until`); one
    that holds nothing, ``since`` at or after ``until``, is refused."""
    start, end = parse_time(since, "since"), parse_until(until, "until")
    if start is not None and end is not None and start >= end:
        raise ValidationError(
            f"since ({start.isoformat()}) is not before until ({end.isoformat()}); the range holds nothing"
        )
    return start, end


def _date_only(value: TimeLike | None) -> bool:
    if isinstance(value, str):
        try:
            date.fromisoformat(value.strip())
        except ValueError:
            return False
        return True
    return isinstance(value, date) and not isinstance(value, datetime)


def check_metadata(value: object, name: str = "metadata") -> dict[str, Any]:
    """Check that metadata is a JSON object of reasonable size."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(f"{name} must be a JSON object (dict), got {type(value).__name__}")
    depth, nul = _shape(value)
    if depth > MAX_METADATA_DEPTH:  # before encoding it: a deep enough one overflows the stack there
        raise ValidationError(f"{name} is nested more than {MAX_METADATA_DEPTH} levels deep; flatten it")
    if nul:  # PostgreSQL's jsonb cannot hold one: every metadata filter of the user would fail
        raise ValidationError(f"{name} contains a NUL character")
    try:
        encoded = json.dumps(dict(value), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} is not JSON-serializable: {exc}") from None
    _check_unicode(encoded, name)
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise ValidationError(f"{name} is larger than {MAX_METADATA_BYTES} bytes as JSON")
    if any(not isinstance(k, str) for k in value):
        raise ValidationError(f"{name} keys must be strings")
    return dict(value)


def _shape(value: object) -> tuple[int, bool]:
    """Levels of nesting of a JSON value (a scalar is 0, ``{"a": [1]}`` is 2), and whether any
    key or string in it holds a NUL character; without recursion.

    >>> _shape({"a": [1, {"b": []}]}), _shape("x"), _shape({"k": ["a\\x00b"]})
    ((4, False), (0, False), (2, True))
    """
    deepest, nul, stack = 0, False, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            nul = nul or "\x00" in item
            continue
        if isinstance(item, Mapping):
            stack.extend((k, level) for k in item)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, level + 1) for v in item)
        else:
            continue
        deepest = max(deepest, level + 1)
    return deepest, nul


def check_content(value: object, name: str = "content") -> str:
    """Check one message's text: a non-empty string within the size limit."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"{name} is empty")
    if len(value) > MAX_CONTENT_CHARS:
        raise ValidationError(
            f"{name} is {len(value)} characters; the limit is {MAX_CONTENT_CHARS} (split long documents into chunks)"
        )
    if "\x00" in value:
        raise ValidationError(f"{name} contains a NUL character")
    _check_unicode(value, name)
    return value


def check_message(raw: object, index: int) -> Message:
    """Check one message: a string, or a dict with ``role`` and ``content``."""
    where = f"messages[{index}]"
    if isinstance(raw, str):
        return Message("user", check_content(raw, f"{where}.content"), None, None, {})
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{where} must be a dict with 'role' and 'content', or a string")
    unknown = set(raw) - {"id", "role", "content", "name", "speaker", "timestamp", "metadata"}
    if unknown:
        raise ValidationError(f"{where} has unknown field(s): {', '.join(sorted(map(repr, unknown)))}")
    role = raw.get("role", "user")
    if role not in ROLES:
        raise ValidationError(f"{where}.role is {role!r}; expected one of {', '.join(ROLES)}")
    speaker = raw.get("speaker", raw.get("name"))
    if speaker is not None:
        speaker = check_id(speaker, f"{where}.speaker")
    return Message(
        role=role,
        content=check_content(raw.get("content"), f"{where}.content"),
        speaker=speaker,
        occurred_at=parse_time(raw.get("timestamp"), f"{where}.timestamp"),
        metadata=check_metadata(raw.get("metadata"), f"{where}.metadata"),
        id=check_id(raw.get("id"), f"{where}.id", required=False),
    )


def check_messages(messages: object) -> list[Message]:
    """Check a batch of messages (a string, a dict, or a list of either)."""
    if isinstance(messages, str | Mapping):
        messages = [messages]
    if not isinstance(messages, Iterable):
        raise ValidationError("messages must be a list of {role, content} dicts or strings")
    items = list(messages)
    if not items:
        raise ValidationError("messages is empty: nothing to add")
    if len(items) > MAX_BATCH:
        raise ValidationError(f"{len(items)} messages in one call; the limit is {MAX_BATCH}")
    checked = [check_message(m, i) for i, m in enumerate(items)]
    first: dict[str, int] = {}
    for i, m in enumerate(checked):
        if m.id is not None and first.setdefault(m.id, i) != i:
            raise ValidationError(f"messages[{i}].id {m.id!r} repeats messages[{first[m.id]}].id")
    return checked


def check_k(k: object, limit: int = 1000, name: str = "k") -> int:
    """Check a result count (``name`` is what the caller calls it: ``k``, ``limit``)."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValidationError(f"{name} must be an integer, got {type(k).__name__}")
    if not 1 <= k <= limit:
        raise ValidationError(f"{name} must be between 1 and {limit}, got {k}")
    return k


def check_query(query: object) -> str:
    """Check a search query: a non-empty string within the size limit."""
    return check_content(query, "query")


def check_ids(value: str | Sequence[str] | None, name: str) -> tuple[str, ...]:
    """One id or several (``session_id="s1"`` or ``["s1", "s2"]``), each checked.

    An empty list is refused: read as "no filter" it would widen a caller's "only
    these sessions" to every session when the list happened to be empty.
    """
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    if not values:
        raise ValidationError(f"{name}: an empty list matches nothing; leave {name} out to match every one")
    return tuple(str(check_id(v, name)) for v in values)


def check_roles(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A role filter: one role or several, each one of :data:`hippodex.model.ROLES`."""
    roles = check_ids(value, "role")
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValidationError(f"role: {bad[0]!r} is not one of {', '.join(ROLES)}")
    return roles


def check_channels(names: str | Sequence[str]) -> tuple[str, ...]:
    """Channel names asked for: one name (not its letters) or several, each known."""
    wanted = (names,) if isinstance(names, str) else tuple(names)
    if not wanted:
        raise ValidationError(f"channels: none given; choose one or more of {', '.join(CHANNELS)}")
    unknown = [n for n in wanted if n not in CHANNELS]
    if unknown:
        raise ValidationError(f"channels: unknown {unknown}; choose from {', '.join(CHANNELS)}")
    return wanted


def _bounded(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{name} must be an integer between {low} and {high}")
    return value


#: SQLite integers are 64-bit (found by schemathesis).
MAX_OFFSET = 2**62


def check_offset(offset: object) -> int:
    """A page's offset."""
    return _bounded(offset, "offset", 0, MAX_OFFSET)


def check_expand(expand: object) -> int:
    """How many turns before and after each hit a search also returns."""
    return _bounded(expand, "expand", 0, 20)


def check_budget(budget_tokens: object) -> int:
    """A context block's token budget."""
    return _bounded(budget_tokens, "budget_tokens", 20, 200_000)
