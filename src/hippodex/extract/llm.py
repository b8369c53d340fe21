"""Fact and entity extraction through any OpenAI-compatible ``/chat/completions`` endpoint.

The request asks for JSON matching :data:`RESPONSE_SCHEMA` (``response_format``
of type ``json_schema``). Every field of the reply is validated; an item that
fails is dropped and counted, never stored, and at most :data:`MAX_FACTS` facts
are kept per message. HTTP 429/5xx, unreachable or slow servers, replies cut
short and malformed JSON are retried with exponential backoff; ``timeout`` is a
deadline for each whole request. After the last retry, two failures differ:

- the endpoint failed (unreachable, timed out, cut short, an HTTP error):
  :class:`ExtractorUnavailable`, so learning stops before the episode and
  retries it later;
- the model answered, but never with usable JSON: :class:`UnusableReply` from
  :meth:`LLMExtractor.extract` (``Extraction.error`` from ``extract_all``), so
  learning reports it and moves on rather than blocking on that episode.

Settings that cannot work (no URL or model, a 401/403/404 from the server)
raise :class:`ConfigError`. Uses only the standard library, like
:mod:`hippodex.encode.openai`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hippodex._exceptions import ConfigError, HippodexError
from hippodex.extract.entities import canonical
from hippodex.extract.evaluate import content_tokens
from hippodex.extract.types import KINDS, PREDICATES, EntityMention, FactCandidate, fact_text, subject_of

log = logging.getLogger("hippodex.extract.llm")

#: Facts kept from one message; the rest of a longer reply is not read (a model
#: stuck in a loop must not flood memory, nor hold a write transaction for long).
MAX_FACTS = 50
#: Entity mentions kept from one message.
MAX_ENTITIES = 100
#: A reply body larger than this is not a plausible answer for one message.
MAX_REPLY_BYTES = 8 * 1024 * 1024

_FACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "predicate", "object", "negated", "confidence", "valid_from"],
    "properties": {
        "subject": {"type": "string"},
        "predicate": {"type": "string", "enum": sorted(PREDICATES)},
        "object": {"type": "string"},
        "negated": {"type": "boolean"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "valid_from": {"type": ["string", "null"], "description": "ISO date the fact became true, if the text says"},
    },
}
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["facts", "entities"],
    "properties": {
        "facts": {"type": "array", "items": _FACT_SCHEMA},
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "kind"],
                "properties": {"name": {"type": "string"}, "kind": {"type": "string", "enum": list(KINDS)}},
            },
        },
    },
}

_SYSTEM = """You extract durable facts about people from one chat message.
Subject: "{subject}" for first-person statements ("I", "my"); a person's name for facts about a named third party.
Predicates (use only these): {predicates}.
"relation" objects look like "sister: Maria" (or just "sister" when unnamed). Set negated for "no longer"/"don't".
"did" and "health" objects start with their verb: "went hiking with her kids", "is allergic to peanuts".
Only facts the message states; an assistant's message states nothing about the user. Questions and small talk
usually hold no facts: return an empty list. Resolve relative times against {now} into valid_from (YYYY-MM-DD).
Also list named entities (people, places, organisations, things, events) exactly as written in the message.
Answer with JSON only."""


class ExtractorUnavailable(HippodexError):
    """The endpoint could not be reached, missed its deadline, cut its reply short
    or answered with an HTTP error. Nothing is known about the message: learning
    stops before it and a later pass (or ``add``) retries it."""


class UnusableReply(HippodexError):
    """The model answered every attempt, but never with the JSON the schema asks
    for. Asking again later would likely fail the same way, so learning reports
    it and moves on."""


class _BadReply(ValueError):
    """The reply is not the JSON object the schema asks for (worth a retry)."""


class _NotChatCompletion(_BadReply):
    """The body is not a chat completion at all: the endpoint, not the model, is at fault
    (a proxy's error page, a wrong URL answering 200)."""


@dataclass
class Extraction:
    """What one call returned: facts, entity mentions, and items dropped by validation."""

    facts: list[FactCandidate] = field(default_factory=list)
    entities: list[EntityMention] = field(default_factory=list)
    rejected: int = 0
    #: Fact and entity items past :data:`MAX_FACTS` / :data:`MAX_ENTITIES`, not read.
    truncated: int = 0
    #: Why the reply was unusable (then there are no facts or entities).
    error: str | None = None


class LLMExtractor:
    """Facts and entities from an OpenAI-compatible chat endpoint.

    >>> ex = LLMExtractor("http://127.0.0.1:8080/v1", model="qwen2.5-7b-instruct")  # doctest: +SKIP
    >>> ex.extract("I moved to Lisbon.", speaker=None, role="user", occurred_at=datetime.now())  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.url = (url or os.environ.get("HIPPODEX_LLM_URL", "")).rstrip("/")
        self.model = model or os.environ.get("HIPPODEX_LLM_MODEL", "")
        if not self.url or not self.model:
            raise ConfigError(
                "the LLM extractor needs a URL and a model: pass url= and model=, "
                "or set HIPPODEX_LLM_URL and HIPPODEX_LLM_MODEL"
            )
        if not re.match(r"^https?://[^/\s]+", self.url):
            raise ConfigError(f"url must be an http(s) URL such as http://127.0.0.1:8080/v1, got {self.url!r}")
        if not timeout > 0:
            raise ConfigError(f"timeout must be positive, got {timeout!r}")
        if retries < 0 or backoff < 0:
            raise ConfigError(f"retries and backoff must be ≥ 0, got {retries!r} and {backoff!r}")
        self.api_key = api_key or os.environ.get("HIPPODEX_LLM_KEY") or os.environ.get("OPENAI_API_KEY")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.name = f"llm:{self.model}"
        self.last_error: str | None = None

    def extract(self, content: str, *, speaker: str | None, role: str, occurred_at: datetime) -> list[FactCandidate]:
        """Fact candidates for one turn (at most :data:`MAX_FACTS`).

        Raises :class:`ExtractorUnavailable` when the endpoint failed,
        :class:`UnusableReply` when the model's answer was unusable, and
        :class:`ConfigError` for a 401/403/404.
        """
        result = self.extract_all(content, speaker=speaker, role=role, occurred_at=occurred_at)
        if result.error is not None:
            raise UnusableReply(result.error)
        return result.facts

    def extract_all(self, content: str, *, speaker: str | None, role: str, occurred_at: datetime) -> Extraction:
        """Facts and entities for one turn, with counts of rejected and truncated items.

        An unusable reply gives an empty :class:`Extraction` whose ``error`` says why;
        an endpoint failure raises :class:`ExtractorUnavailable` (see the module docstring).
        """
        subject = subject_of(speaker)
        messages = [
            {
                "role": "system",
                "content": _SYSTEM.format(
                    subject=subject, predicates=", ".join(PREDICATES), now=occurred_at.date().isoformat()
                ),
            },
            {"role": "user", "content": json.dumps({"speaker": speaker, "role": role, "message": content})},
        ]
        try:
            payload = self._call(messages)
        except _BadReply as exc:
            return self._failed(str(exc))
        except (ExtractorUnavailable, ConfigError) as exc:
            self.last_error = str(exc)
            raise
        result = Extraction()
        words = content_tokens(content)
        facts, entities = payload["facts"], payload["entities"]
        for i, item in enumerate(facts):
            if len(result.facts) == MAX_FACTS:
                result.truncated += len(facts) - i
                break
            fact = _fact(item, words, subject, occurred_at)
            if fact is None:
                result.rejected += 1
            else:
                result.facts.append(fact)
        for i, item in enumerate(entities):
            if len(result.entities) == MAX_ENTITIES:
                result.truncated += len(entities) - i
                break
            found = _entity(item, content)
            if found is None:
                result.rejected += 1
            else:
                result.entities.append(found)
        if result.rejected:
            log.info("%s: dropped %d invalid item(s) from the reply", self.name, result.rejected)
        if result.truncated:
            log.warning(
                "%s: the reply held %d item(s) past the caps (%d facts, %d entities); they were not read",
                self.name,
                result.truncated,
                MAX_FACTS,
                MAX_ENTITIES,
            )
        self.last_error = None
        return result

    def _failed(self, reason: str) -> Extraction:
        self.last_error = reason
        log.warning("%s: unusable reply: %s", self.name, reason)
        return Extraction(error=reason)

    def _call(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        body = json.dumps(
            {
                "model": self.model,
                "messages": messages,
                "temperature": 0,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "facts", "strict": True, "schema": RESPONSE_SCHEMA},
                },
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        endpoint = f"{self.url}/chat/completions"
        reason = "no attempt made"
        endpoint_failed = False  # once any attempt failed this way, the episode deserves a later retry
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(self.backoff * 2.0 ** (attempt - 1), 8.0))
            attempts += 1
            try:
                return _parse(_post(endpoint, body, headers, self.timeout))
            except urllib.error.HTTPError as exc:
                if exc.code in (401, 403, 404):
                    raise ConfigError(
                        f"{endpoint} answered HTTP {exc.code} ({exc.reason}): check the URL, model and API key"
                    ) from exc
                reason, endpoint_failed = f"{endpoint} answered HTTP {exc.code}: {exc.reason}", True
                if exc.code != 429 and exc.code < 500:
                    break  # the request itself is wrong; asking again will not help
            except _BadReply as exc:
                reason = f"{endpoint} sent a malformed reply: {exc}"
                endpoint_failed = endpoint_failed or isinstance(exc, _NotChatCompletion)
            except (OSError, http.client.HTTPException) as exc:
                # URLError, timeouts, resets, a reply cut short (IncompleteRead)
                # or one that is not HTTP at all (BadStatusLine).
                reason, endpoint_failed = f"cannot reach {endpoint}: {type(exc).__name__}: {exc}", True
        message = f"{reason} (after {attempts} attempt(s))"
        if endpoint_failed:
            raise ExtractorUnavailable(message)
        raise _BadReply(message)


class _Deadline:
    """Shuts the request's socket down when ``seconds`` have passed, so a server
    that trickles bytes cannot hold a call past it (a socket timeout only bounds
    each read)."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                _shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    # The plain socket method, also for TLS sockets: it wakes a blocked read
    # without touching the TLS state the reading thread is using.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Connection(http.client.HTTPConnection):
    def __init__(self, host: str, *, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _TLSConnection(_Connection, http.client.HTTPSConnection):
    pass


class _Handler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_Connection, req, deadline=self._deadline)  # type: ignore[arg-type]


class _TLSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_TLSConnection, req, deadline=self._deadline)  # type: ignore[arg-type]


def _post(endpoint: str, body: bytes, headers: dict[str, str], timeout: float) -> bytes:
    """The whole reply body, within ``timeout`` seconds from start to end."""
    deadline = _Deadline(timeout)
    # Proxies and the rest of urllib's handling stay; only the connections are watched.
    opener = urllib.request.build_opener(_Handler(deadline), _TLSHandler(deadline))
    try:
        with opener.open(urllib.request.Request(endpoint, data=body, headers=headers), timeout=timeout) as resp:
            raw: bytes = resp.read(MAX_REPLY_BYTES + 1)
            left: int | None = resp.length
    except urllib.error.HTTPError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired:
            raise TimeoutError(f"no complete reply within {timeout:g} s") from exc
        raise
    finally:
        deadline.cancel()
    if deadline.expired:
        raise TimeoutError(f"no complete reply within {timeout:g} s")
    if len(raw) > MAX_REPLY_BYTES:
        raise _BadReply(f"the reply is larger than {MAX_REPLY_BYTES} bytes")
    if left:
        raise http.client.IncompleteRead(raw, left)
    return raw


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(raw)
        text = envelope["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise _NotChatCompletion(f"not a chat completion ({exc!r})") from exc
    if not isinstance(text, str):
        raise _BadReply("message content is not a string")
    # Some servers wrap JSON in a code fence even when asked for a schema.
    text = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text)
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise _BadReply(f"content is not JSON ({exc})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("facts"), list):
        raise _BadReply("content has no 'facts' list")
    entities = payload.get("entities", [])
    if not isinstance(entities, list):
        raise _BadReply("'entities' is not a list")
    return {"facts": payload["facts"], "entities": entities}


def _fact(item: Any, words: set[str], subject: str, occurred_at: datetime) -> FactCandidate | None:
    """A validated candidate, or ``None`` for an item that breaks the schema or is not grounded."""
    if not isinstance(item, dict):
        return None
    subj, pred, obj = item.get("subject"), item.get("predicate"), item.get("object")
    negated, conf, since = item.get("negated", False), item.get("confidence", 0.5), item.get("valid_from")
    if not (isinstance(subj, str) and isinstance(pred, str) and isinstance(obj, str)):
        return None
    subj, obj = subj.strip(), " ".join(obj.split())
    if pred not in PREDICATES or not subj or not obj or len(obj) > 300 or len(subj) > 100:
        return None
    if not isinstance(negated, bool) or isinstance(conf, bool) or not isinstance(conf, int | float):
        return None
    if not 0.0 <= float(conf) <= 1.0:
        return None
    if subj.lower() in ("i", "me", "user", "the user"):
        subj = subject
    # Grounding: the object must share a content word with the message, so an
    # invented fact does not slip in (relations may name only the kin word).
    if not (content_tokens(obj) & words):
        return None
    valid_from = None
    if since is not None:
        if not isinstance(since, str):
            return None
        try:
            valid_from = datetime.fromisoformat(since.strip())
        except ValueError:
            return None
        if occurred_at.tzinfo is not None and valid_from.tzinfo is None:
            valid_from = valid_from.replace(tzinfo=occurred_at.tzinfo)
    return FactCandidate(
        subject=subj,
        predicate=pred,
        object=obj,
        text=fact_text(subj, pred, obj, negated=negated),
        confidence=float(conf),
        negated=negated,
        valid_from=valid_from,
        single_valued=PREDICATES[pred] and not negated,
    )


def _entity(item: Any, content: str) -> EntityMention | None:
    """A mention found verbatim in the message, or ``None``."""
    if not isinstance(item, dict):
        return None
    name, kind = item.get("name"), item.get("kind")
    if not isinstance(name, str) or kind not in KINDS or not name.strip():
        return None
    start = content.find(name.strip())
    if start < 0:
        return None  # not in the text: the model made it up or rewrote it
    assert isinstance(kind, str)
    return EntityMention(name.strip(), canonical(name), kind, start, start + len(name.strip()))
