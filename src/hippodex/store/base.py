"""The storage protocol every backend implements, and the values it trades in.

A store keeps episodes verbatim, their index keys (the text the lexical and
dense channels see), their vectors, and answers scoped reads. It knows nothing
of encoders or fusion: the facade computes vectors and hands them over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np

from hippodex._exceptions import StoreError
from hippodex.model import ROLES, Entity, Episode, Fact, Page, Scope, Session

if TYPE_CHECKING:  # the knowledge layer imports this module, so only for types
    from hippodex.knowledge.learn import LearningTx
    from hippodex.knowledge.sleep import SleepTx
    from hippodex.store.token_sets import TokenSet


#: The semantic-memory tables every backend keeps (each keyed by user_id first):
#: what erasing a user must empty besides the episodes.
KNOWLEDGE_TABLES = (
    "facts",
    "fact_sources",
    "fact_events",
    "entities",
    "entity_aliases",
    "mentions",
    "fact_entities",
    "learn_state",
    "session_summaries",
)


class StoredText(NamedTuple):
    """An episode's verbatim content and its stored cue reading (``None`` in files written before readings were)."""

    content: str
    cues: str | None


@dataclass(frozen=True)
class NewEpisode:
    """An episode about to be written; the store assigns id, seq and recorded_at
    unless they are given (as they are when an export is imported back)."""

    role: str
    content: str
    occurred_at: datetime
    key: str
    speaker: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    seq: int | None = None
    recorded_at: datetime | None = None
    # Vectors of its sentences (recall/parts.py), unit rows; None when it has under two.
    parts: np.ndarray | None = field(default=None, compare=False, repr=False)
    # Vectors of content words the user's memory had none of (recall/word_match.py).
    word_vectors: Mapping[str, np.ndarray] | None = field(default=None, compare=False, repr=False)
    # Its token vectors for late interaction (encode/late_interaction.py): the model's name and unit rows.
    token_vectors: tuple[str, np.ndarray] | None = field(default=None, compare=False, repr=False)

    def stored(
        self, scope: Scope, session_id: str, id: str, seq: int, occurred_at: datetime, recorded_at: datetime
    ) -> Episode:
        """The episode this becomes once stored: its id, position, and times as the store
        keeps them (read back from the stored value, so ``add`` returns what ``get`` will)."""
        return Episode(
            id=id,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            session_id=session_id,
            seq=seq,
            role=self.role,
            speaker=self.speaker,
            content=self.content,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            metadata=dict(self.metadata),
        )


@dataclass(frozen=True)
class Filters:
    """Restrictions a search or listing applies on top of the user scope."""

    agent_id: str | None = None
    run_id: str | None = None
    session_ids: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    roles: tuple[str, ...] = ()
    metadata: tuple[tuple[str, Any], ...] = ()

    @property
    def empty(self) -> bool:
        return self == Filters()


@dataclass(frozen=True)
class VectorSet:
    """All vectors of one user for one encoder: row i of ``matrix`` belongs to
    the episode with internal key ``rowids[i]``."""

    rowids: np.ndarray  # int64, shape (n,)
    matrix: np.ndarray  # float32, shape (n, dim), L2-normalised rows (decoded if in a lower tier)
    #: Indexes derived from the matrix by recall (e.g. binary codes), cached with it.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    #: The derived indexes of the set this one extends by appended rows, if any.
    parent: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Layout:
    """Where each of a user's episodes sits: session, position, time, speaker.

    Arrays are parallel and ordered by ``rowids`` (ascending), so a rowid's row
    is found by binary search. ``next``/``prev`` give the row of the next or
    previous turn of the same session, or -1. Recall stages read this instead
    of querying the store per candidate.
    """

    rowids: np.ndarray  # int64
    session: np.ndarray  # int32 code into ``sessions``
    seq: np.ndarray  # int64
    occurred: np.ndarray  # float64 Unix seconds
    role: np.ndarray  # int8 code into ROLES
    speaker: np.ndarray  # int32 code into ``speakers``, -1 for none
    sessions: tuple[str, ...]
    speakers: tuple[str, ...]
    prev: np.ndarray  # int64 row or -1
    next: np.ndarray  # int64 row or -1
    #: Rows by session, then position: session code ``c`` holds
    #: ``by_session[session_start[c]:session_start[c + 1]]``.
    by_session: np.ndarray  # int64 rows
    session_start: np.ndarray  # int64, len(sessions) + 1

    def rows(self, rowids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row index of each rowid (every rowid must belong to the layout)."""
        return np.searchsorted(self.rowids, np.asarray(rowids, dtype=np.int64))

    def session_rows(self, codes: np.ndarray) -> np.ndarray:
        """Every row of the given sessions (by code), session after session, in order.

        Reads only those sessions' rows: no pass over the whole layout.
        """
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self.by_session[self.session_start[c] : self.session_start[c + 1]] for c in codes])


MetadataCheck = Callable[[dict[str, Any]], dict[str, Any]]


def closed_error(path: str) -> StoreError:
    """What any use of a store says after :meth:`Store.close`."""
    return StoreError(f"{path}: this memory was closed; open it again to use it")


class ClosedConnection:
    """Takes a closed store's connection's place, so any later use raises
    :func:`closed_error` rather than the driver's own error."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __getattr__(self, name: str) -> Any:
        raise closed_error(self._path)


def new_metadata(stored: str, metadata: dict[str, Any], *, merge: bool, check: MetadataCheck | None) -> str:
    """The metadata JSON an update writes over ``stored``: ``metadata`` itself, or with ``merge``
    its keys set in the stored object; ``check`` (the API's limits) sees the whole result.

    >>> new_metadata('{"a": 1, "b": 2}', {"b": 3}, merge=True, check=None)
    '{"a": 1, "b": 3}'
    """
    new = {**json.loads(stored), **metadata} if merge else metadata
    if check is not None:
        new = check(new)
    return json.dumps(new, ensure_ascii=False)


def build_layout(rows: Sequence[tuple[int, str, int, float, str, str | None]]) -> Layout:
    """A :class:`Layout` from ``(rowid, session_id, seq, occurred_at, role, speaker)`` rows in rowid order."""
    n = len(rows)
    session_codes: dict[str, int] = {}
    speaker_codes: dict[str, int] = {}
    rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    session = np.fromiter((session_codes.setdefault(r[1], len(session_codes)) for r in rows), dtype=np.int32, count=n)
    seq = np.fromiter((r[2] for r in rows), dtype=np.int64, count=n)
    occurred = np.fromiter((r[3] for r in rows), dtype=np.float64, count=n)
    role = np.fromiter((ROLES.index(r[4]) for r in rows), dtype=np.int8, count=n)
    speaker = np.fromiter(
        (-1 if r[5] is None else speaker_codes.setdefault(r[5], len(speaker_codes)) for r in rows),
        dtype=np.int32,
        count=n,
    )
    order = np.lexsort((seq, session))  # by session, then position in it
    prev = np.full(n, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    same = session[order[1:]] == session[order[:-1]]
    nxt[order[:-1][same]] = order[1:][same]
    prev[order[1:][same]] = order[:-1][same]
    start = np.zeros(len(session_codes) + 1, dtype=np.int64)
    np.cumsum(np.bincount(session, minlength=len(session_codes)), out=start[1:])
    return Layout(
        rowids,
        session,
        seq,
        occurred,
        role,
        speaker,
        tuple(session_codes),
        tuple(speaker_codes),
        prev,
        nxt,
        order.astype(np.int64),
        start,
    )


@dataclass(frozen=True)
class EntityGraph:
    """A user's entities and the episodes that mention them, as arrays.

    ``names`` maps every alias (casefolded) to an entity index; mention ``i``
    links entity ``mention_entity[i]`` to episode ``mention_rowid[i]``, seen
    ``mention_count[i]`` times. ``entity_mentions[j]`` is how many episodes
    mention entity ``j`` (rare entities are the specific ones).
    """

    names: dict[str, int]
    entity_ids: np.ndarray  # int64, the store's entity ids by index
    entity_mentions: np.ndarray  # int64
    mention_entity: np.ndarray  # int64 entity index
    mention_rowid: np.ndarray  # int64 episode rowid
    mention_count: np.ndarray  # float64

    @property
    def longest_name(self) -> int:
        """Words in the longest alias (how far query n-grams need to reach)."""
        return max((len(n.split()) for n in self.names), default=0)


def kin_names(relations: Sequence[str], names: Mapping[str, int]) -> dict[str, int]:
    """Kin words that name one known entity, from the user's relation facts ("sister: Joana"),
    so "my sister" in a question reaches the episodes about Joana. A kin word with two
    different names ("brother: Tom", "brother: Rui") names neither.

    >>> kin_names(["sister: Joana", "kids", "brother: Tom", "brother: Rui"], {"joana": 0, "tom": 1, "rui": 2})
    {'sister': 0}
    """
    found: dict[str, set[int]] = {}
    for relation in relations:
        kin, _, name = relation.partition(":")
        entity = names.get(name.strip().casefold())
        if entity is not None and kin.strip():
            found.setdefault(kin.strip().casefold(), set()).add(entity)
    return {kin: next(iter(e)) for kin, e in found.items() if len(e) == 1}


def build_entity_graph(
    aliases: Sequence[tuple[str, int]],
    entities: Sequence[tuple[int, int]],
    mentions: Sequence[tuple[int, int, int]],
    relations: Sequence[str] = (),
) -> EntityGraph:
    """An :class:`EntityGraph` from ``(alias, entity_id)``, ``(entity_id, mentions)``
    and ``(entity_id, episode_rowid, count)`` rows, and the user's own relation facts'
    objects (see :func:`kin_names`; an entity's own aliases win)."""
    index = {int(eid): i for i, (eid, _) in enumerate(entities)}
    names = {alias: index[int(eid)] for alias, eid in aliases if int(eid) in index}
    for kin, entity in kin_names(relations, names).items():
        names.setdefault(kin, entity)
    kept = [m for m in mentions if int(m[0]) in index]
    return EntityGraph(
        names=names,
        entity_ids=np.array([int(e[0]) for e in entities], dtype=np.int64),
        entity_mentions=np.array([int(e[1]) for e in entities], dtype=np.int64),
        mention_entity=np.array([index[int(m[0])] for m in kept], dtype=np.int64),
        mention_rowid=np.array([int(m[1]) for m in kept], dtype=np.int64),
        mention_count=np.array([float(m[2]) for m in kept], dtype=np.float64),
    )


class Store(Protocol):
    """What the :class:`~hippodex.Memory` facade, the CLI and the servers need from a backend.

    Two implement it: :class:`~hippodex.store.sqlite.SQLiteStore` (one file, the
    default) and :class:`~hippodex.store.postgres.PostgresStore`
    (``postgresql://...``); :func:`~hippodex.store.open.open_store` picks one.
    """

    path: str
    """Where the store lives, fit to show (a file path, or a URL without its password)."""

    def meta(self, key: str) -> str | None:
        """A value of the store's own settings (``encoder``, ``schema_version``...), or None."""

    def set_meta(self, key: str, value: str) -> None:
        """Record a setting of the store."""

    def add(
        self,
        scope: Scope,
        session_id: str,
        items: Sequence[NewEpisode],
        vectors: np.ndarray | None,
        encoder: str | None,
    ) -> list[Episode]:
        """Write a batch of episodes in one transaction; durable on return."""

    def known_vectors(self, keys: Sequence[str], encoder: str, user_id: str | None = None) -> dict[str, np.ndarray]:
        """Vectors already stored for these key texts (so nothing is embedded twice).

        ``user_id`` narrows the lookup to one tenant's rows (a store may look wider)."""

    def has_ids(self, ids: Sequence[str], user_id: str | None = None, *, others: bool = False) -> set[str]:
        """Which of these public episode ids exist already: anywhere, or ``user_id``'s (import skips those).

        With ``others=True``, those ``user_id`` cannot take because another user's
        episode has them (where ids are unique per database rather than per user);
        import reports these as errors, and asks about no other ids of other users."""

    def get(self, user_id: str, episode_id: str) -> Episode:
        """One episode by its public id; raises MemoryNotFound outside the scope."""

    def by_rowids(self, user_id: str, rowids: Sequence[int]) -> dict[int, Episode]:
        """Episodes by internal key, limited to the user."""

    def texts(self, user_id: str, rowids: Sequence[int]) -> dict[int, StoredText]:
        """Verbatim content and cue reading by internal key, limited to the user (the learned stage reads them)."""

    def put_readings(self, user_id: str, readings: Mapping[int, str]) -> None:
        """Store cue readings (:func:`hippodex.recall.cues.stored_reading`) by internal key, for ``reindex``."""

    def page(self, user_id: str, filters: Filters, limit: int, offset: int) -> Page:
        """Episodes in time order, one page at a time."""

    def iter_episodes(self, user_id: str | None) -> Iterator[Episode]:
        """Every episode of a user (or of everyone), for export."""

    def sessions(self, user_id: str, limit: int, offset: int) -> list[Session]:
        """Sessions of a user, most recent first."""

    def neighbours(self, user_id: str, episode: Episode, before: int, after: int) -> list[Episode]:
        """Episodes of the same session around ``episode``, in order."""

    def update_metadata(
        self,
        user_id: str,
        episode_id: str,
        metadata: dict[str, Any],
        *,
        merge: bool = False,
        check: MetadataCheck | None = None,
    ) -> Episode:
        """Replace an episode's metadata, or with ``merge`` set its keys in what the episode has.

        Read, merge and write are one transaction, so concurrent merges all land.
        ``check`` (e.g. a size limit) sees the metadata about to be stored and
        returns it, or raises to leave the episode as it was.
        """

    def delete(self, user_id: str, episode_id: str) -> None:
        """Delete one episode with its vector and index rows."""

    def erase(self, user_id: str) -> int:
        """Delete everything of a user; returns the number of episodes removed."""

    def lexical(
        self, user_id: str, terms: Sequence[str], filters: Filters, k: int, rowids: Sequence[int] | None = None
    ) -> list[tuple[int, float]]:
        """BM25 over index keys: (rowid, score) best first; only ``rowids`` if given."""

    def session_lexical(self, user_id: str, terms: Sequence[str], filters: Filters) -> dict[str, float]:
        """BM25 of whole sessions (their turns' keys as one text): session id -> score."""

    def vectors(self, user_id: str, encoder: str) -> VectorSet:
        """The user's vectors for an encoder (cached by the store)."""

    def layout(self, user_id: str) -> Layout:
        """The user's episode positions (cached by the store)."""

    def allowed(self, user_id: str, filters: Filters) -> np.ndarray:
        """Internal keys of the user's episodes that pass the filters."""

    def stats(self, user_id: str | None) -> dict[str, Any]:
        """Counts for one user or the whole store."""

    def part_vectors(self, user_id: str, encoder: str, rowids: Sequence[int]) -> dict[int, np.ndarray]:
        """The vectors ``encoder`` made of these episodes' parts (episodes without any left out).

        ``encoder`` is the sentence encoder's name (their sentences) or the
        late-interaction model's (their tokens)."""

    def token_set(self, user_id: str, encoder: str) -> TokenSet:
        """Every token vector the late-interaction model ``encoder`` made of the user's episodes, in one matrix.

        Kept in memory between calls and extended by appends (:mod:`hippodex.store.token_sets`)."""

    def put_parts(self, user_id: str, encoder: str, parts: Mapping[int, np.ndarray]) -> None:
        """Store these episodes' vectors under ``encoder``, replacing those it had made (``reindex``)."""

    def word_vectors(self, user_id: str, encoder: str, words: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors ``encoder`` made of those of the user's content ``words`` that have one."""

    def episode_words(self, user_id: str, contents: Mapping[int, str]) -> dict[int, list[str]]:
        """The content words of these episodes (rowid -> content), kept in memory until the user's next deletion."""

    def put_words(self, user_id: str, encoder: str, uses: Mapping[str, int], vectors: Mapping[str, np.ndarray]) -> None:
        """Replace the user's words: how many episodes use each, and their vectors (``reindex``)."""

    def keys_after(self, rowid: int, limit: int) -> list[tuple[int, str, str]]:
        """``(rowid, user_id, index key)`` of episodes after ``rowid``, in order (for re-embedding)."""

    def replace_vectors(self, rows: Sequence[tuple[int, str, str]], vectors: np.ndarray, encoder: str) -> None:
        """Store new vectors for ``keys_after`` rows, replacing whatever encoder made the old ones."""

    def episode_keys(self, user_id: str, episode_id: str | None = None) -> list[str]:
        """Index keys of one episode, or of all the user's episodes (to forget cached embeddings)."""

    # -- semantic memory (facts, entities; see hippodex.knowledge) ------------
    def episodes_after(self, user_id: str, rowid: int, limit: int) -> list[tuple[int, Episode]]:
        """``(rowid, episode)`` of the user's episodes after ``rowid``, in rowid order."""

    def learn_cursor(self, user_id: str) -> int:
        """The internal key of the last episode already read for facts and entities."""

    def learning(self, user_id: str) -> AbstractContextManager[LearningTx]:
        """One write transaction of knowledge writes (see hippodex.knowledge.learn.LearningTx)."""

    def sleeping(self, user_id: str) -> AbstractContextManager[SleepTx]:
        """One write transaction of a consolidation step (see hippodex.knowledge.sleep.SleepTx)."""

    def users(self) -> list[str]:
        """Every user with episodes."""

    def summary(self, user_id: str, session_id: str) -> str | None:
        """A session's extractive summary from the last consolidation."""

    def facts(
        self, user_id: str, *, current_only: bool = True, subject: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Fact]:
        """A user's facts, most recently stated first."""

    def fact(self, fact_id: str, user_id: str | None = None) -> Fact:
        """One fact by id; raises MemoryNotFound."""

    def fact_chain(self, fact_id: str, user_id: str | None = None) -> list[Fact]:
        """The supersession chain a fact belongs to, oldest first."""

    def fact_events(self, fact_id: str) -> list[tuple[str, datetime, str | None, str | None]]:
        """A fact's audit trail: ``(action, at, episode_id, other_fact_id)``."""

    def mark_recalled(self, user_id: str, fact_ids: Sequence[str], at: datetime) -> None:
        """Count a retrieval of these facts."""

    def entities(self, user_id: str, limit: int = 100, offset: int = 0) -> list[Entity]:
        """A user's entities, most mentioned first."""

    def entity_graph(self, user_id: str) -> EntityGraph:
        """The user's entity-episode mention graph (cached by the store)."""

    def close(self) -> None:
        """Release connections."""
