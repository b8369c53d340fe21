"""The facade: one object that records and recalls.

``Memory`` composes a store, an encoder and the recall channels. It validates
what callers give it, and leaves storage to the store and ranking to
:mod:`hippodex.recall`; the CLI and servers call only its methods.
"""

from __future__ import annotations

import builtins
import logging
import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from hippodex._exceptions import ConfigError, ImportFormatError, MissingVectorsWarning, ValidationError
from hippodex.config import RecallConfig, default_db_path
from hippodex.encode.base import Encoder
from hippodex.encode.cache import CachedEncoder, EmbeddingCache
from hippodex.encode.late_interaction import CachedLateInteraction, LateInteraction, late_text, load_late_interaction
from hippodex.encode.quantize import tier_code
from hippodex.encode.registry import DEFAULT_ENCODER, ENCODERS, create_encoder
from hippodex.encode.word_table import word_lookup
from hippodex.extract import EntityMention, FactExtractor, LLMExtractor, RuleExtractor, extract_entities
from hippodex.ingest.normalize import (
    Message,
    TimeLike,
    check_budget,
    check_channels,
    check_content,
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
from hippodex.knowledge.as_of import facts_as_of
from hippodex.knowledge.learn import LearnReport, learn
from hippodex.knowledge.sleep import SleepReport, sleep
from hippodex.model import ROLES, Entity, Episode, Fact, Hit, Page, Scope, Session, Stats
from hippodex.recall.assemble import assemble, relevant_facts
from hippodex.recall.channels.base import Channel
from hippodex.recall.channels.dense import DenseChannel
from hippodex.recall.channels.graph import GraphChannel
from hippodex.recall.channels.lexical import LexicalChannel
from hippodex.recall.cross_encoder import resolve as resolve_cross_encoder
from hippodex.recall.cues import stored_reading
from hippodex.recall.engine import Timings, recall
from hippodex.recall.parts import embed_parts, split_parts
from hippodex.recall.query import Query
from hippodex.recall.text import content_words, index_key
from hippodex.recall.word_match import WordEmbedder, embed_words
from hippodex.store.base import Filters, NewEpisode, Store
from hippodex.store.open import open_store
from hippodex.store.word_sql import uses

if TYPE_CHECKING:
    from hippodex.store.sqlite import SQLiteStore

_UNSET: Any = object()
log = logging.getLogger("hippodex")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: episodes added, and those skipped as already present."""

    added: int
    skipped: int


def _entities(content: str, speaker: str | None) -> list[EntityMention]:
    return extract_entities(content, speaker=speaker)


def _fact_extractor(facts: str | FactExtractor | None) -> FactExtractor | None:
    if facts is _UNSET:
        facts = os.environ.get("HIPPODEX_FACTS", "rules")
    if facts is None or facts == "none":
        return None
    if facts == "rules":
        return RuleExtractor()
    if facts == "llm":
        return LLMExtractor()  # configured by HIPPODEX_LLM_URL, HIPPODEX_LLM_MODEL, HIPPODEX_LLM_KEY
    if isinstance(facts, str) or not callable(getattr(facts, "extract", None)):
        raise ConfigError(
            f"facts: {facts!r} is not 'rules', 'llm' or 'none' (or None, or an object with .name and .extract())"
        )
    return facts


class Memory:
    """Long-term memory for agents, in one SQLite file or a PostgreSQL database.

    >>> m = Memory(":memory:", encoder=None)
    >>> _ = m.add([{"role": "user", "content": "I moved to Lisbon in May"}],
    ...           user_id="ana", session_id="s1", timestamp="2023-05-08T14:00")
    >>> m.search("where does Ana live? Lisbon", user_id="ana", k=1)[0].episode.content
    'I moved to Lisbon in May'

    ``path`` is a file (default: ``$HIPPODEX_DB``, else ``./memory.db``) or a
    ``postgresql://`` URL (needs ``pip install 'hippodex[postgres]'``).
    ``encoder`` is a registered name (``"minilm"``, the packaged default), an
    object with ``name``, ``dim`` and ``encode``, or ``None`` for lexical
    recall only. ``cache`` is an optional :class:`EmbeddingCache` (or its
    path) shared across memory files.

    ``facts`` is how facts are distilled from episodes: ``"rules"`` (the
    packaged zero-LLM extractor, the default), ``"llm"`` (an OpenAI-compatible
    endpoint from ``HIPPODEX_LLM_URL``/``_MODEL``/``_KEY``), ``None`` (no
    facts), or an extractor object such as :class:`hippodex.extract.LLMExtractor`;
    left out, ``HIPPODEX_FACTS`` chooses (so the CLI and servers follow it). With
    ``learn_on_add`` (default: on for the rules, off for other extractors)
    every ``add`` learns at once; otherwise :meth:`consolidate` does.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        encoder: str | Encoder | None = DEFAULT_ENCODER,
        config: RecallConfig | None = None,
        cache: str | os.PathLike[str] | EmbeddingCache | None = None,
        facts: str | FactExtractor | None = _UNSET,
        learn_on_add: bool | None = None,
    ) -> None:
        self.config = config or RecallConfig()
        self._extractor = _fact_extractor(facts)  # before opening anything: a bad setting leaks nothing
        if self.config.cross_encoder:
            resolve_cross_encoder(self.config.cross_encoder)  # its files, now; the model loads at the first search
        self.store: Store = open_store(os.fspath(path) if path is not None else default_db_path())
        self.path = self.store.path
        if isinstance(encoder, str) and encoder not in ENCODERS and not encoder.startswith("st:"):
            raise ConfigError(f"encoder: unknown {encoder!r}; choose from {', '.join(ENCODERS)}, or 'st:<model>'")
        self._encoder_spec = encoder
        self._encoder: Encoder | None = None
        self._doc_encoder: Encoder | None = None
        self._query_words: WordEmbedder | None = None
        self._word_lookup: Callable[[list[str]], dict[str, np.ndarray]] | None = None
        self._late: LateInteraction | CachedLateInteraction | None = None
        self._cache = cache if isinstance(cache, EmbeddingCache) or cache is None else EmbeddingCache(cache)
        self.last_timings = Timings()
        self._vectors_checked: set[str] = set()  # users whose vector count search has compared
        #: Keep each search's learned-stage features in ``last_timings`` (for ``hippodex bench fit``).
        self.record_features = False
        rules = isinstance(self._extractor, RuleExtractor)
        self.learn_on_add = rules if learn_on_add is None else bool(learn_on_add)

    # -- encoder ------------------------------------------------------------
    @property
    def encoder(self) -> Encoder | None:
        """The encoder, loaded on first use and checked against the database's."""
        if self._encoder is None and self._encoder_spec is not None:
            spec = self._encoder_spec
            enc = create_encoder(spec) if isinstance(spec, str) else spec
            stored = self.store.meta("encoder")
            if stored is not None and stored != enc.name and self.store.stats(None)["vectors"]:
                raise ConfigError(
                    f"encoder: {self.path} was embedded with {stored!r}, not {enc.name!r}; "
                    f"open it with that encoder, or call reindex() to re-embed with the new one"
                )
            self._encoder = enc
            # Episodes go through the shared cache; queries do not (they rarely
            # repeat, and a cached query would hide the real search latency).
            self._doc_encoder = CachedEncoder(enc, self._cache) if self._cache else enc
            self._word_lookup = word_lookup(enc.name)
            self._query_words = WordEmbedder(enc.encode, table=self._word_lookup)
        return self._encoder

    def _embed(self, keys: Sequence[str], user_ids: Sequence[str]) -> np.ndarray | None:
        """Vectors of ``keys`` (``user_ids[i]`` owns ``keys[i]``), reusing those the store has."""
        enc = self.encoder
        if enc is None:
            return None
        known: dict[str, np.ndarray] = {}
        for user in dict.fromkeys(user_ids):  # tenant-scoped lookups keep to the tenant's index range
            known.update(
                self.store.known_vectors([k for k, u in zip(keys, user_ids, strict=True) if u == user], enc.name, user)
            )
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            doc_encoder = self._doc_encoder or enc
            known.update(zip(missing, doc_encoder.encode(missing), strict=True))
        if self.store.meta("encoder") != enc.name:
            self.store.set_meta("encoder", enc.name)
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)

    def _with_parts(self, items: list[NewEpisode]) -> list[NewEpisode]:
        """``items`` with the vectors of their sentences (:mod:`hippodex.recall.parts`)."""
        if self.encoder is None or not self.config.sentence_vectors:
            return items
        vectors = embed_parts([it.content for it in items], (self._doc_encoder or self.encoder).encode)
        return [it if v is None else replace(it, parts=v) for it, v in zip(items, vectors, strict=True)]

    @property
    def late(self) -> LateInteraction | CachedLateInteraction | None:
        """The late-interaction model (:mod:`hippodex.encode.late_interaction`), loaded on first use;
        ``None`` when ``RecallConfig.late_interaction`` is off or there is no encoder."""
        if self._late is None and self.config.late_interaction and self._encoder_spec is not None:
            model = load_late_interaction()
            self._late = CachedLateInteraction(model, self._cache) if self._cache is not None else model
        return self._late

    def _with_tokens(self, items: list[NewEpisode]) -> list[NewEpisode]:
        """``items`` with their token vectors for late interaction (when it is on)."""
        late = self.late
        if late is None or not items:
            return items
        tokens = late.encode([late_text(it.content, it.speaker, it.role) for it in items])
        return [replace(it, token_vectors=(late.name, t)) for it, t in zip(items, tokens, strict=True)]

    def _with_words(self, items: list[NewEpisode], owners: Sequence[str]) -> list[NewEpisode]:
        """``items`` with vectors of the content words their user's memory has none of yet
        (:mod:`hippodex.recall.word_match`), each given to the first item using it."""
        enc = self.encoder
        if enc is None or not self.config.word_vectors:
            return items
        out = list(items)
        per_item = [content_words(it.content) for it in items]
        for user in dict.fromkeys(owners):
            mine = [i for i, u in enumerate(owners) if u == user]
            wanted = list(dict.fromkeys(w for i in mine for w in per_item[i]))
            known = self.store.word_vectors(user, enc.name, wanted)
            missing = [w for w in wanted if w not in known]
            if not missing:
                continue
            fresh = embed_words(missing, (self._doc_encoder or enc).encode, self._word_lookup)
            for i in mine:
                given = {w: fresh.pop(w) for w in per_item[i] if w in fresh}
                if given:
                    out[i] = replace(items[i], word_vectors=given)
        return out

    def _key(self, content: str, occurred_at: datetime, speaker: str | None, role: str) -> str:
        return index_key(
            content, occurred_at=occurred_at, speaker=speaker, role=role, with_date=self.config.date_in_key
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
    ) -> list[Episode]:
        """Record messages as episodes of one session; durable when it returns.

        Each message is a string (a user turn) or a dict with ``role``,
        ``content`` and optionally ``speaker``, ``timestamp``, ``metadata``
        and ``id``. ``timestamp`` is when the messages happened (default: now).

        A message with an ``id`` the user already has is not stored again: the
        episode stored under it is returned in its place, so an add retried
        after a timeout or a crash (with the same ids) stores each message
        once. The same id with other content is refused.

        >>> m = Memory(":memory:", encoder=None)
        >>> [e.seq for e in m.add(["hi", "I like tea"], user_id="ana", session_id="s1")]
        [0, 1]
        >>> first = m.add({"id": "msg-1", "content": "I moved to Lisbon"}, user_id="ana")
        >>> m.add({"id": "msg-1", "content": "I moved to Lisbon"}, user_id="ana") == first
        True
        """
        scope = Scope(
            str(check_id(user_id, "user_id")),
            check_id(agent_id, "agent_id", required=False),
            check_id(run_id, "run_id", required=False),
        )
        session = check_id(session_id, "session_id", required=False) or f"session-{secrets.token_hex(6)}"
        msgs = check_messages(messages)
        when = parse_time(timestamp) or datetime.now(UTC)
        shared = check_metadata(metadata)
        stored = self._already_stored(scope.user_id, msgs)
        items = []
        for m in msgs:
            if m.id in stored:
                continue
            at = m.occurred_at or when
            items.append(
                NewEpisode(
                    role=m.role,
                    content=m.content,
                    occurred_at=at,
                    speaker=m.speaker,
                    key=self._key(m.content, at, m.speaker, m.role),
                    metadata={**shared, **m.metadata},
                    id=m.id,
                )
            )
        added: list[Episode] = []
        if items:
            items = self._with_words(self._with_tokens(self._with_parts(items)), [scope.user_id] * len(items))
            vectors = self._embed([it.key for it in items], [scope.user_id] * len(items))
            added = self._store(scope, session, items, vectors)
            if self.learn_on_add:
                self._learn_quietly(scope.user_id)
        fresh = iter(added)
        return [stored[m.id] if m.id in stored else next(fresh) for m in msgs]

    def _already_stored(self, user_id: str, msgs: Sequence[Message]) -> dict[str | None, Episode]:
        """The user's episodes stored under the messages' own ids (a retried add); an id
        that another user holds, or that holds other content, is refused."""
        ids = [m.id for m in msgs if m.id is not None]
        if not ids:
            return {}
        present = self.store.has_ids(ids, user_id)
        taken = self.store.has_ids([i for i in ids if i not in present], user_id, others=True)
        found: dict[str | None, Episode] = {}
        for n, m in enumerate(msgs):
            if m.id in taken:
                raise ValidationError(
                    f"messages[{n}].id {m.id!r} is taken; choose another id (ids are unique in this database)"
                )
            if m.id in present:
                episode = self.store.get(user_id, m.id)
                if (episode.content, episode.role) != (m.content, m.role):
                    raise ValidationError(
                        f"messages[{n}].id {m.id!r} is already the id of another message ({episode.content[:40]!r})"
                    )
                found[m.id] = episode
        return found

    def _store(self, scope: Scope, session: str, items: list[NewEpisode], vectors: np.ndarray | None) -> list[Episode]:
        """Write one session's episodes (the store reads their cues as it writes them)."""
        return self.store.add(scope, session, items, vectors, self._encoder.name if self._encoder else None)

    def _learn(self, user_id: str) -> LearnReport:
        return learn(self.store, user_id, self._extractor, _entities)

    def _learn_quietly(self, user_id: str) -> None:
        """Learn after a write without failing it: the episodes are stored, and
        whatever learning missed, :meth:`consolidate` picks up later."""
        try:
            report = self._learn(user_id)
        except Exception as exc:  # the write was acknowledged; never undo it for a derived index
            log.warning("learning facts for %r failed (run consolidate() to retry): %s", user_id, exc)
            return
        for error in report.errors:
            log.warning("fact extraction: %s", error)

    def update_metadata(
        self, episode_id: str, metadata: Mapping[str, Any], *, user_id: str, merge: bool = True
    ) -> Episode:
        """Set an episode's metadata (merged into what it has, unless ``merge=False``)."""
        user = str(check_id(user_id, "user_id"))
        new = check_metadata(metadata)
        # Merged inside the store's write transaction (a read here, then a write, lost concurrent
        # merges); checked again there: the merged whole must keep within the limits too.
        return self.store.update_metadata(
            user, str(check_id(episode_id, "episode_id")), new, merge=merge, check=check_metadata if merge else None
        )

    def delete(self, episode_id: str, *, user_id: str) -> None:
        """Delete one episode with everything derived only from it: its vector,
        index entries, mentions, cached embedding, words no other episode uses, and
        facts no other episode states (a fact it superseded becomes current again)."""
        user, eid = str(check_id(user_id, "user_id")), str(check_id(episode_id, "episode_id"))
        keys = self.store.episode_keys(user, eid)
        gone = [self.store.get(user, eid)] if self._cache is not None else []
        self.store.delete(user, eid)
        self._forget_cached(keys, gone, user)

    def erase(self, *, user_id: str) -> int:
        """Remove everything of a user from every table and index (facts, entities,
        summaries and cached embeddings included); returns episodes removed."""
        user = str(check_id(user_id, "user_id"))
        keys = self.store.episode_keys(user)
        gone = list(self.store.iter_episodes(user)) if self._cache is not None else []
        removed = self.store.erase(user)
        self._forget_cached(keys, gone, user)
        return removed

    def _forget_cached(self, keys: Sequence[str], gone: Sequence[Episode], user: str) -> None:
        """Drop cached embeddings of texts no episode in this memory holds any more,
        of the sentences (parts) and token vectors of the ``gone`` episodes, and of
        their words the user's remaining episodes do not use."""
        if self._cache is None or not keys:
            return
        enc = self._encoder
        still = self.store.known_vectors(keys, enc.name) if enc is not None else {}
        contents = [e.content for e in gone]
        sentences = [p for c in contents for p in split_parts(c)]
        tokens = [late_text(e.content, e.speaker, e.role) for e in gone]
        words = list(dict.fromkeys(w for c in contents for w in content_words(c)))
        kept = self.store.word_vectors(user, enc.name, words) if enc is not None else {}
        self._cache.forget(
            [k for k in keys if k not in still] + sentences + tokens + [w for w in words if w not in kept]
        )

    # -- reads --------------------------------------------------------------
    def _filters(
        self,
        agent_id: str | None,
        run_id: str | None,
        session_id: str | Sequence[str] | None,
        since: TimeLike | None,
        until: TimeLike | None,
        role: str | Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
    ) -> Filters:
        roles = check_roles(role)
        start, end = parse_range(since, until)
        return Filters(
            agent_id=check_id(agent_id, "agent_id", required=False),
            run_id=check_id(run_id, "run_id", required=False),
            session_ids=check_ids(session_id, "session_id"),
            since=start,
            until=end,
            roles=roles,
            metadata=tuple(sorted(check_metadata(metadata, "metadata filter").items())),
        )

    def _warn_missing_vectors(self, user: str, encoder: str) -> None:
        """Warn, once per user, when some episodes have no vector for ``encoder``: dense recall misses them."""
        self._vectors_checked.add(user)
        episodes = len(self.store.layout(user).rowids)  # both kept in memory for the search anyway
        missing = episodes - len(self.store.vectors(user, encoder).rowids)
        if missing > 0:
            warnings.warn(
                f"{missing} of {episodes} episodes of user {user!r} have no vector from {encoder} "
                "(added with encoder=None?), so dense recall cannot find them; "
                "reindex() (`hippodex reindex`) embeds them",
                MissingVectorsWarning,
                stacklevel=3,
            )

    def _channels(self, names: Sequence[str] | None) -> list[Channel]:
        wanted = check_channels(names) if names is not None else self.config.channels
        out: list[Channel] = []
        if "lexical" in wanted:
            out.append(LexicalChannel(self.store, self.config))
        if "dense" in wanted:
            if self.encoder is None:
                if names is not None:
                    raise ValidationError(
                        "channels: 'dense' needs an encoder; this memory was opened with encoder=None"
                    )
            else:
                out.append(DenseChannel(self.store, self.encoder.name, self.config))
        if "graph" in wanted:
            out.append(GraphChannel(self.store))
        return out

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
    ) -> list[Hit]:
        """Recall the episodes that best answer ``query``, within one user's memory.

        ``now`` is the moment the question is asked (default: the current
        time); ``since``/``until`` bound when episodes happened; ``role``,
        ``session_id`` and ``metadata`` (equality) filter further; ``expand``
        attaches that many neighbouring turns on each side as context.

        >>> m = Memory(":memory:", encoder=None)
        >>> _ = m.add("My sister lives in Porto", user_id="ana")
        >>> hit = m.search("sister", user_id="ana")[0]
        >>> hit.channels["lexical"].rank
        1
        """
        user = str(check_id(user_id, "user_id"))
        text = check_query(query)
        k = check_k(k)
        check_expand(expand)
        filters = self._filters(agent_id, run_id, session_id, since, until, role, metadata)
        chans = self._channels(channels)
        enc = self.encoder if any(c.name == "dense" for c in chans) else None
        if enc is not None and user not in self._vectors_checked:
            self._warn_missing_vectors(user, enc.name)
        q = Query(
            text=text,
            user_id=user,
            now=parse_time(now, "now") or datetime.now(UTC),
            filters=filters,
            embed=(lambda s: enc.encode([s])[0]) if enc is not None else None,
            embed_words=self._query_words if enc is not None else None,
            embed_tokens=late.encode_query if enc is not None and (late := self.late) is not None else None,
        )
        self.last_timings = Timings(record_features=self.record_features)
        ranked = recall(q, chans, self.config, k, self.last_timings, store=self.store)
        episodes = self.store.by_rowids(user, [r.rowid for r in ranked])
        hits = []
        for r in ranked:
            ep = episodes[r.rowid]
            ctx = tuple(self._neighbours(user, ep, expand, filters)) if expand else ()
            hits.append(Hit(ep, r.score, r.channels, ctx))
        return hits

    def _neighbours(self, user: str, ep: Episode, n: int, filters: Filters) -> builtins.list[Episode]:
        """The turns around a hit, within the scope the search was narrowed to (agent, run).

        Role, time and metadata filters choose hits, not their context: the
        assistant's answer after a user's turn is what makes it readable.
        """
        return [
            e
            for e in self.store.neighbours(user, ep, n, n)
            if filters.agent_id in (None, e.agent_id) and filters.run_id in (None, e.run_id)
        ]

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
        """A prompt-ready block of recalled evidence for ``query``, within ``budget_tokens``.

        Dated excerpts grouped by session and told in order, best evidence
        first to fill the budget (tokens estimated at four characters each).
        With ``now`` given, the known facts before them are those the memory
        had heard by then, as the evidence is what had happened by then.

        >>> m = Memory(":memory:", encoder=None)
        >>> _ = m.add("I moved to Lisbon in May", user_id="ana", session_id="s1", timestamp="2023-05-08")
        >>> print(m.context("Lisbon", user_id="ana", budget_tokens=200))
        Memories relevant to: Lisbon
        Known facts:
        - The user moved to Lisbon. (on 2023-05-01)
        - The user lives in Lisbon. (since 2023-05-01)
        Evidence:
        Session s1 (Monday, 08 May 2023):
        - [2023-05-08] user: I moved to Lisbon in May
        """
        check_budget(budget_tokens)
        hits = self.search(query, user_id=user_id, k=k, now=now, expand=expand)
        user = str(check_id(user_id, "user_id"))
        known = self.store.facts(user, current_only=False, limit=10_000)
        clock = datetime.now(UTC)
        asked = parse_time(now, "now") or clock
        if now is not None:  # the facts as they stood then, as the evidence is
            known = facts_as_of(known, asked)
        facts = relevant_facts(query, known, hits, now=asked)
        block = assemble(query, hits, budget_tokens, facts=facts)
        shown = [f.id for f in facts if f"- {f.text}" in block]
        # The recall happens now: a `now` in the future must not date it there and stop the fact fading.
        self.store.mark_recalled(user, shown, min(asked, clock))
        return block

    # -- semantic memory ------------------------------------------------------
    def facts(
        self,
        user_id: str,
        *,
        current_only: bool = True,
        subject: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Fact]:
        """What the memory knows about a user, most recently stated first.

        Each fact has ``text``, ``valid_from``/``valid_to`` (world time),
        ``superseded_by`` and ``sources`` (episode ids). ``current_only=False``
        includes facts that newer ones superseded.

        >>> m = Memory(":memory:", encoder=None)
        >>> _ = m.add("I live in Porto", user_id="ana", timestamp="2023-01-01")
        >>> _ = m.add("I moved to Lisbon last month", user_id="ana", timestamp="2023-06-01")
        >>> [f.text for f in m.facts("ana") if f.predicate == "lives_in"]
        ['The user lives in Lisbon.']
        """
        user = str(check_id(user_id, "user_id"))
        subj = check_id(subject, "subject", required=False)
        return self.store.facts(
            user,
            current_only=bool(current_only),
            subject=subj,
            limit=check_k(limit, 10_000, "limit"),
            offset=check_offset(offset),
        )

    def history(self, fact_id: str, *, user_id: str | None = None) -> builtins.list[Fact]:
        """The chain a fact belongs to, oldest first: the facts it superseded and
        those that superseded it. With ``user_id``, only that user's facts are found."""
        user = check_id(user_id, "user_id", required=False)
        return self.store.fact_chain(str(check_id(fact_id, "fact_id")), user)

    def entities(self, user_id: str, *, limit: int = 100, offset: int = 0) -> builtins.list[Entity]:
        """People, places, organisations and things a user's episodes mention, most mentioned first."""
        return self.store.entities(
            str(check_id(user_id, "user_id")), check_k(limit, 10_000, "limit"), check_offset(offset)
        )

    def consolidate(
        self, user_id: str | None = None, *, cold_after_days: float | None = None, cold_tier: str = "int8"
    ) -> SleepReport:
        """The offline "sleep" pass, for one user or all.

        Learns facts and entities from episodes not read yet, merges duplicate
        facts, writes extractive session summaries and refreshes entity counts.
        With ``cold_after_days``, vectors of episodes older than that move to
        ``cold_tier`` (``"int8"`` or ``"binary"``; SQLite files only).
        Idempotent and resumable (each step commits per user and batch), and
        safe while the memory is in use.
        """
        user = check_id(user_id, "user_id", required=False)
        # Checked before the sleep pass, so a bad argument is refused rather than reported after the work.
        until = self._cold_before(cold_after_days, cold_tier) if cold_after_days is not None else None
        report = sleep(self.store, self._extractor, _entities, user_id=user)
        if until is not None:
            for u in [user] if user is not None else self.store.users():
                report.retiered += self.move_tier(cold_tier, user_id=u, until=until)
        return report

    def _cold_before(self, days: object, tier: str) -> datetime | None:
        """When episodes count as cold: ``days`` before now, or ``None`` when no time is that old."""
        if isinstance(days, bool) or not isinstance(days, int | float) or not days >= 0:  # NaN fails >= 0
            raise ValidationError(f"cold_after_days must be a number of days >= 0, got {days!r}")
        tier_code(tier)
        self._sqlite_only()
        try:
            return datetime.now(UTC) - timedelta(days=float(days))
        except OverflowError:  # before datetime.min (or infinite): nothing is cold
            return None

    def get(self, episode_id: str, *, user_id: str) -> Episode:
        """One episode by id; raises :class:`MemoryNotFound` if the user has none such."""
        return self.store.get(str(check_id(user_id, "user_id")), str(check_id(episode_id, "episode_id")))

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
        limit = check_k(limit, 10_000, "limit")
        offset = check_offset(offset)
        filters = self._filters(agent_id, run_id, session_id, since, until, role, metadata)
        return self.store.page(str(check_id(user_id, "user_id")), filters, limit, offset)

    def sessions(self, *, user_id: str, limit: int = 50, offset: int = 0) -> builtins.list[Session]:
        """A user's sessions, most recent first."""
        return self.store.sessions(
            str(check_id(user_id, "user_id")), check_k(limit, 10_000, "limit"), check_offset(offset)
        )

    def stats(self, *, user_id: str | None = None) -> Stats:
        """Counts and size of the memory, or of one user's part of it."""
        s = self.store.stats(check_id(user_id, "user_id", required=False))
        return Stats(
            s["users"],
            s["sessions"],
            s["episodes"],
            s["vectors"],
            s["db_bytes"],
            self.store.meta("encoder"),
            s["schema_version"],
        )

    # -- export and import --------------------------------------------------
    def export(self, *, user_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every episode (of one user, or all) as a JSON-ready dict, oldest first."""
        for ep in self.store.iter_episodes(check_id(user_id, "user_id", required=False)):
            yield ep.to_dict()

    def import_episodes(
        self,
        records: str | os.PathLike[str] | Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]],
        *,
        batch: int = 500,
        new_ids: bool = False,
    ) -> ImportResult:
        """Restore exported episodes, keeping ids, times and order.

        ``records`` is what :meth:`export` yields (dicts, numbered from 1 in
        errors), ``(line, record)`` pairs as :func:`hippodex.ingest.read_records`
        gives them, or the path of a file ``hippodex import`` reads (its format
        sniffed).

        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> old = Memory(folder / "old.db", encoder=None)
        >>> _ = old.add("I keep a turtle named Shelly.", user_id="ana")
        >>> new = Memory(folder / "new.db", encoder=None)
        >>> new.import_episodes(old.export())
        ImportResult(added=1, skipped=0)

        Records whose id the user already has are skipped, so an import can be
        re-run after an interruption. Each batch is checked before it is
        written: a malformed record, an id or ``seq`` repeated in the file, a
        ``seq`` its session already has, or (in SQLite, where ids are unique per
        file) an id another user's episode has, raises :class:`ImportFormatError`
        naming its line; earlier batches stay stored, and a note says how many
        episodes that is. To copy records to another user, pass ``new_ids=True``:
        each gets a fresh id derived from its user and old id (so a re-run still
        skips what was stored).
        """
        from hippodex.ingest.importers import ImportBatch

        added = skipped = 0
        anonymous = False  # an id-less record was stored: a re-run would store it again
        pending = ImportBatch(self.store, new_ids=new_ids)

        def write() -> None:
            nonlocal added, skipped, anonymous
            fresh, present = pending.take()
            skipped += present
            groups: dict[tuple[Scope, str], list[NewEpisode]] = {}
            for e in fresh:
                groups.setdefault((e.scope, e.session), []).append(e.item)
            # One embedding call for the whole batch: bigger batches of similar
            # lengths pad less (about 1.7x the throughput of per-session calls).
            # Sentence and word vectors for the whole batch too, dealt back to their groups in order.
            owners = [scope.user_id for (scope, _), items in groups.items() for _ in items]
            flat = [it for items in groups.values() for it in items]
            ready = iter(self._with_words(self._with_tokens(self._with_parts(flat)), owners))
            groups = {group: [next(ready) for _ in items] for group, items in groups.items()}
            keys = [it.key for items in groups.values() for it in items]
            matrix = self._embed(keys, owners) if keys else None
            start = 0
            for (scope, session), items in groups.items():
                vectors = None if matrix is None else matrix[start : start + len(items)]
                start += len(items)
                self._store(scope, session, items, vectors)
                added += len(items)
                anonymous = anonymous or any(it.id is None for it in items)
            if self.learn_on_add:
                for user in {scope.user_id for scope, _ in groups}:
                    self._learn_quietly(user)

        try:
            for line, rec in _numbered(records):
                entry = pending.entry(line, *self._record(line, rec))
                if not pending.admits(entry):
                    write()
                pending.add(entry)
                if len(pending) >= batch:
                    write()
            if len(pending):
                write()
        except Exception as exc:  # whatever stopped it, say what is already stored
            rerun = "" if anonymous else "; re-running the import skips them"
            exc.add_note(f"{added} episode(s) before it were stored{rerun}" if added else "nothing was stored")
            raise
        return ImportResult(added, skipped)

    def _record(self, line: int, rec: Mapping[str, Any]) -> tuple[Scope, str, NewEpisode]:
        def field(name: str, required: bool = True) -> Any:
            if required and rec.get(name) is None:
                raise ImportFormatError("is missing", line=line, field=name)
            return rec.get(name)

        try:
            scope = Scope(
                str(check_id(field("user_id"), "user_id")),
                check_id(rec.get("agent_id"), "agent_id", required=False),
                check_id(rec.get("run_id"), "run_id", required=False),
            )
            session = str(check_id(field("session_id"), "session_id"))
            role = field("role")
            if role not in ROLES:
                raise ValidationError(f"{role!r} is not one of {', '.join(ROLES)}")
            content = check_content(field("content"))
            at = parse_time(field("occurred_at"), "occurred_at")
            assert at is not None
            seq = field("seq", required=False)
            if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 0):
                raise ValidationError("seq must be a non-negative integer")
            speaker = check_id(rec.get("speaker"), "speaker", required=False)
            item = NewEpisode(
                role=role,
                content=content,
                occurred_at=at,
                speaker=speaker,
                key=self._key(content, at, speaker, role),
                metadata=check_metadata(rec.get("metadata")),
                id=check_id(rec.get("id"), "id", required=False),
                seq=seq,
                recorded_at=parse_time(rec.get("recorded_at"), "recorded_at"),
            )
        except ImportFormatError:
            raise
        except ValidationError as exc:
            raise ImportFormatError(str(exc), line=line) from None
        return scope, session, item

    def reindex(self, *, batch: int = 256) -> int:
        """Re-embed every episode (its sentences and words too) with this memory's encoder; returns how many.

        Use it after switching encoders: the file then records the new one. It
        also gives a file written before sentence vectors, word vectors or cue
        readings existed its missing ones.
        Safe to interrupt: re-running it starts over and ends in the same state.
        """
        spec = self._encoder_spec
        if spec is None:
            raise ConfigError("encoder: reindex needs an encoder; this memory was opened with encoder=None")
        enc = create_encoder(spec) if isinstance(spec, str) else spec
        old = self.store.meta("encoder")
        done, last = 0, 0
        users: dict[str, None] = {}
        while rows := self.store.keys_after(last, batch):
            self.store.replace_vectors(rows, enc.encode([k for _, _, k in rows]), enc.name)
            for user in dict.fromkeys(u for _, u, _ in rows):
                users[user] = None
                stored = self.store.texts(user, [r for r, u, _ in rows if u == user])
                contents = {r: t.content for r, t in stored.items()}
                self.store.put_readings(user, {r: stored_reading(c) for r, c in contents.items()})
                empty = np.zeros((0, enc.dim), dtype=np.float32)
                texts = list(contents.values())
                vectors = embed_parts(texts, enc.encode) if self.config.sentence_vectors else [None] * len(texts)
                parts = {r: empty if v is None else v for r, v in zip(contents, vectors, strict=True)}
                self.store.put_parts(user, enc.name, parts)
                if old is not None and old != enc.name:  # the old encoder's sentence vectors go
                    self.store.put_parts(user, old, {r: empty for r in contents})
                if (late := self.late) is not None:
                    eps = self.store.by_rowids(user, list(contents))
                    tokens = late.encode([late_text(c, eps[r].speaker, eps[r].role) for r, c in contents.items()])
                    self.store.put_parts(user, late.name, dict(zip(contents, tokens, strict=True)))
            done, last = done + len(rows), rows[-1][0]
        for user in users:  # word counts afresh (older files have none), and their vectors
            counts = uses(e.content for e in self.store.iter_episodes(user))
            words = list(counts) if self.config.word_vectors else []
            self.store.put_words(user, enc.name, counts, dict(zip(words, enc.encode(words), strict=True)))
        self.store.set_meta("encoder", enc.name)
        self._encoder = None  # reload, now matching the file
        return done

    # -- lifecycle ----------------------------------------------------------
    def move_tier(self, tier: str, *, user_id: str, until: TimeLike | None = None) -> int:
        """Move a user's vectors (those of episodes before ``until``, or all) to a cheaper tier.

        ``tier`` is ``"int8"`` (388 bytes a 384-dim vector) or ``"binary"``
        (48 bytes); see :mod:`hippodex.encode.quantize`. One transaction;
        returns how many vectors moved.

        >>> m = Memory(":memory:", encoder=None)
        >>> m.move_tier("binary", user_id="ana")
        0
        """
        from hippodex.lifecycle.tiers import move_tier

        store = self._sqlite_only()
        enc = self._encoder.name if self._encoder else store.meta("encoder")
        return move_tier(store, str(check_id(user_id, "user_id")), enc, tier, parse_time(until, "until"))

    def _sqlite_only(self) -> SQLiteStore:
        """The store, if it is a SQLite file: vector tiers exist only there."""
        from hippodex.store.sqlite import SQLiteStore

        if not isinstance(self.store, SQLiteStore):
            raise ConfigError("tiers: moving vectors to int8 or binary codes is available on SQLite files only")
        return self.store

    def close(self) -> None:
        """Close the database. The object cannot be used afterwards."""
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Memory({self.path!r})"


def _numbered(
    records: str | os.PathLike[str] | Iterable[Mapping[str, Any] | tuple[int, Mapping[str, Any]]],
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(line, record)`` pairs from whatever :meth:`Memory.import_episodes` was given."""
    from hippodex.ingest.importers import read_records

    if isinstance(records, str | os.PathLike):
        yield from read_records(os.fspath(records))
        return
    if isinstance(records, Mapping) or not isinstance(records, Iterable):
        raise ValidationError(
            "records: expected what export() yields (an iterable of dicts), (line, record) pairs, or a file path"
        )
    for n, item in enumerate(records, 1):
        if isinstance(item, Mapping):
            yield n, item
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], int)
            and not isinstance(item[0], bool)
            and isinstance(item[1], Mapping)
        ):
            yield item[0], item[1]
        else:
            raise ImportFormatError(
                f"is a {type(item).__name__}, not a record (a dict as export() yields it, or a (line, dict) pair)",
                line=n,
            )
