"""Learned fusion: a linear model over each candidate's signals re-ranks the best candidates.

The hand-set stages (channel weights, contiguity, session, speaker, time)
each move a score by a fixed share. A logistic model fitted on the benchmark
dev halves weighs the same signals, plus a few the stages cannot express (how
a turn's neighbours match, whether its session matched lexically, whether it
is an assistant turn when the question asks what the assistant said, and the
cues in its words of :mod:`hippodex.recall.cues`), and re-orders the first
``RecallConfig.rerank_depth`` candidates. Scoring is one dot product per
candidate; reading the cues in each candidate's words is most of the stage's
few milliseconds.

The model ships as JSON (``hippodex/data/ranker.json``), written by
``hippodex bench fit``, which also reports cross-validated figures: every
question is scored by a model fitted without its conversation (LoCoMo) or
its fold of questions (LongMemEval).
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hippodex._exceptions import ConfigError
from hippodex.model import ROLES
from hippodex.recall import cues

#: The signals, in the order of the model's weights.
FEATURES = (
    "context",  # the hand-set pipeline's score / the best candidate's
    "context_rank",  # log(1 + rank) in the hand-set pipeline
    "fused",  # the channels' fused score / the best (0: reached only by contiguity)
    "lexical",  # BM25 / the best candidate's
    "lexical_hit",  # any query term matched
    "dense",  # cosine to the query
    "dense_gap",  # cosine minus the best candidate's cosine
    "part_dense",  # the best cosine of the turn or any of its sentences (recall/parts.py)
    "word_match",  # how near the turn's words come to the query's, one by one (recall/word_match.py)
    "late",  # late interaction: each query token's best match in the turn, averaged (NaN: no token vectors)
    "late_gap",  # late minus the best candidate's late
    "graph",  # entity-walk score / the best
    "neighbour_lexical",  # the better of the previous and next turn's BM25 / the best
    "neighbour_dense",  # the better neighbour's cosine minus the best cosine
    "session",  # the session's score (mean of its best candidates) / the best session's
    "session_lexical",  # BM25 of the whole session / the best session's
    "session_dense",  # the best cosine of any turn of the session minus the best candidate's
    "speaker_named",  # the query names one speaker, and this is their turn
    "speaker_other",  # the query names one speaker, and this is someone else's turn
    "in_window",  # inside the query's time window (1), fading to 0 a few days outside
    "outside_window",  # the query has a time window and this is outside it
    "order",  # position in time towards the end the query asks for ("first", "latest")
    "assistant",  # an assistant turn
    "assistant_asked",  # an assistant turn, and the query asks what the assistant said
    "question",  # the turn ends with a question mark (it asks rather than tells)
    "asks",  # the turn has a question mark somewhere
    "length",  # log(1 + words in the turn)
    # coverage, first_person, discloses, number_asked, name_asked: see cues.cue_matrix
    *cues.CUES,
)

_ASKS_ASSISTANT = re.compile(
    r"\b(you|your)\b.*\b(recommend|suggest|said|say|told|tell|mention|gave|give|provide|list|name)",
    re.IGNORECASE,
)
_ASSISTANT = ROLES.index("assistant")


def asks_assistant(query: str) -> bool:
    """Whether the query asks about what the assistant said.

    >>> asks_assistant("What was the name of the hotel you recommended?"), asks_assistant("Where do I live?")
    (True, False)
    """
    return bool(_ASKS_ASSISTANT.search(query))


def _over_best(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else np.zeros_like(values)


@dataclass(frozen=True)
class Signals:
    """What is known of each candidate and its neighbours.

    The per-row arrays (``lexical``, ``dense``, ``speaker``, ``role``,
    ``session``, ``prev``, ``next``) run over a universe of rows that holds
    at least the candidates and their neighbours: the search passes the
    candidates' sessions, a test may pass a whole layout. ``rows`` and the
    links index that universe (-1: none). ``lexical`` and ``dense`` hold
    scores (0 where unknown; ``dense`` NaN where there is no vector).
    """

    rows: np.ndarray  # candidates (positions in the universe), in the hand-set pipeline's order
    context: np.ndarray  # the pipeline's score, aligned with rows
    fused: np.ndarray  # aligned with rows
    graph: np.ndarray  # aligned with rows
    lexical: np.ndarray  # per row
    dense: np.ndarray  # per row
    session_score: np.ndarray  # per session code
    session_lexical: np.ndarray  # per session code
    session_dense: np.ndarray  # per session code: the best cosine of its turns (NaN: unknown)
    speaker: np.ndarray  # per row, speaker code
    role: np.ndarray  # per row, role code
    session: np.ndarray  # per row, session code
    prev: np.ndarray
    next: np.ndarray
    named_speakers: list[int] = field(default_factory=list)
    window: np.ndarray | None = None  # per candidate, 0..1, when the query has a time window
    order: np.ndarray | None = None  # per candidate, 0..1 towards the asked end
    asks_assistant: bool = False
    parts: np.ndarray | None = None  # per candidate, the best cosine of it or its sentences
    words: np.ndarray | None = None  # per candidate, its soft word match (0 without word vectors)
    late: np.ndarray | None = None  # per candidate, its MaxSim (encode/late_interaction.py); NaN without tokens
    texts: list[str] | None = None  # each candidate's content, aligned with rows
    readings: list[cues.Read | None] | None = None  # each candidate's stored cue reading, aligned with rows
    tokens: list[list[str]] | None = None  # each candidate's distinct content words (text.content_words), aligned
    query: str = ""
    speaker_names: tuple[str, ...] = ()  # by speaker code


def features(s: Signals) -> np.ndarray:
    """The ``[candidates, len(FEATURES)]`` matrix of signals (a pure function)."""
    rows = s.rows
    n = len(rows)
    X = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if not n:
        return X
    col = {name: i for i, name in enumerate(FEATURES)}
    X[:, col["context"]] = _over_best(s.context)
    X[:, col["context_rank"]] = np.log1p(np.arange(n))
    X[:, col["fused"]] = _over_best(s.fused)
    lex_top = float(s.lexical[rows].max())
    lex = s.lexical / lex_top if lex_top > 0 else np.zeros_like(s.lexical)
    X[:, col["lexical"]] = lex[rows]
    X[:, col["lexical_hit"]] = s.lexical[rows] > 0
    dense = np.nan_to_num(s.dense, nan=0.0)
    best_cos = float(dense[rows].max())
    X[:, col["dense"]] = dense[rows]
    X[:, col["dense_gap"]] = dense[rows] - best_cos
    X[:, col["part_dense"]] = dense[rows] if s.parts is None else np.maximum(s.parts, dense[rows])
    if s.words is not None:
        X[:, col["word_match"]] = s.words
    # Unknown stays NaN, and the model reads NaN as the mean it was fitted on:
    # a memory without token vectors is ranked as if the signal said nothing.
    late = np.full(n, np.nan) if s.late is None else np.asarray(s.late, dtype=np.float64)
    X[:, col["late"]] = late
    X[:, col["late_gap"]] = late - (np.nanmax(late) if np.isfinite(late).any() else np.nan)
    X[:, col["graph"]] = _over_best(s.graph)
    nb_lex = np.zeros(n)
    nb_dense = np.full(n, -1.0)
    for links in (s.prev, s.next):
        linked = links[rows]
        ok = linked >= 0
        nb_lex[ok] = np.maximum(nb_lex[ok], lex[linked[ok]])
        nb_dense[ok] = np.maximum(nb_dense[ok], dense[linked[ok]])
    X[:, col["neighbour_lexical"]] = nb_lex
    X[:, col["neighbour_dense"]] = np.where(nb_dense > -1.0, nb_dense - best_cos, -1.0)
    sessions = s.session[rows]
    X[:, col["session"]] = _over_best(s.session_score)[sessions]
    X[:, col["session_lexical"]] = _over_best(s.session_lexical)[sessions]
    X[:, col["session_dense"]] = np.nan_to_num(s.session_dense, nan=best_cos)[sessions] - best_cos
    if len(s.named_speakers) == 1:
        mine = s.speaker[rows] == s.named_speakers[0]
        X[:, col["speaker_named"]] = mine
        X[:, col["speaker_other"]] = ~mine
    if s.window is not None:
        X[:, col["in_window"]] = s.window
        X[:, col["outside_window"]] = s.window == 0
    if s.order is not None:
        X[:, col["order"]] = s.order
    assistant = s.role[rows] == _ASSISTANT
    X[:, col["assistant"]] = assistant
    X[:, col["assistant_asked"]] = assistant & s.asks_assistant
    if s.texts is not None:
        X[:, col["question"]] = [t.rstrip().endswith("?") for t in s.texts]
        X[:, col["asks"]] = ["?" in t for t in s.texts]
        X[:, col["length"]] = np.log1p([len(t.split()) for t in s.texts])
        speakers = [s.speaker_names[c] if 0 <= c < len(s.speaker_names) else "" for c in s.speaker[rows].tolist()]
        X[:, [col[name] for name in cues.CUES]] = cues.cue_matrix(
            s.texts, cues.Asked.of(s.query), speakers, s.readings or (), s.tokens or ()
        )
    return X


@dataclass(frozen=True)
class LinearRanker:
    """A logistic model over :data:`FEATURES`: ``score = (x - mean) / scale · coef + bias``.

    >>> r = LinearRanker(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), np.eye(len(FEATURES))[0], 0.0)
    >>> r.score(np.eye(len(FEATURES))[:2]).tolist()
    [1.0, 0.0]
    """

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    bias: float
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def score(self, X: np.ndarray) -> np.ndarray:
        """One logit per row; a NaN signal (not known for that candidate) counts as its mean."""
        X = np.where(np.isnan(X), self.mean, X)
        return np.asarray(((X - self.mean) / self.scale) @ self.coef + self.bias, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": self.mean.round(8).tolist(),
            "scale": self.scale.round(8).tolist(),
            "coef": self.coef.round(8).tolist(),
            "bias": round(float(self.bias), 8),
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "ranker") -> LinearRanker:
        try:
            names = tuple(data["features"])
            arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
            bias = float(data["bias"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: not a ranker file ({exc})") from exc
        if names != FEATURES:
            raise ConfigError(f"{where}: fitted on features {list(names)}, this version computes {list(FEATURES)}")
        if any(a.shape != (len(FEATURES),) for a in arrays) or np.any(arrays[1] <= 0):
            raise ConfigError(f"{where}: mean, scale and coef must each hold {len(FEATURES)} numbers, scale > 0")
        return cls(names, arrays[0], arrays[1], arrays[2], bias, dict(data.get("meta", {})))


#: Speaker names that are roles, not people.
_ROLE_NAMES = frozenset({*ROLES, "system", "tool", "human", "ai", "bot"})


def regime(speakers: tuple[str, ...]) -> str:
    """``"dialogue"`` when the memory's turns name two or more people, else ``"chat"``.

    Conversations between named people (LoCoMo) and a user's chats with an
    assistant (LongMemEval) reward different signals: who is speaking
    matters in one, sessions matter more in the other. Each has its own weights.

    >>> regime(("Caroline", "Melanie")), regime(("user",)), regime(())
    ('dialogue', 'chat', 'chat')
    """
    people = {s for s in speakers if s and s.casefold() not in _ROLE_NAMES}
    return "dialogue" if len(people) >= 2 else "chat"


REGIMES = ("dialogue", "chat")
#: The signals a memory may lack: token vectors exist only where late interaction
#: was on at ``add`` (or ``reindex``). Each regime has a second model fitted without
#: them; a model that leans on them ranks worse than that one when they are missing.
LATE_FEATURES = ("late", "late_gap")
NO_LATE = "/no-late"


def model_key(regime_name: str, late: bool) -> str:
    """The key of a regime's model in :attr:`Ranker.models`, with or without late signals.

    >>> model_key("chat", True), model_key("chat", False)
    ('chat', 'chat/no-late')
    """
    return regime_name if late else regime_name + NO_LATE


MODEL_KEYS = tuple(model_key(r, late) for r in REGIMES for late in (True, False))


@dataclass(frozen=True)
class Ranker:
    """The learned weights for each regime; a regime without a model keeps the hand-set order."""

    models: dict[str, LinearRanker | None]
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    #: The channels the candidates came from when it was fitted. A search with
    #: other channels keeps the hand-set order: without the dense channel, for
    #: one, every cosine feature would read 0 and the weights would not fit.
    channels: tuple[str, ...] = ("lexical", "dense", "graph")

    def model_for(self, speakers: tuple[str, ...], channels: Sequence[str], late: bool = True) -> LinearRanker | None:
        """The model for a memory with these speakers, searched with these channels (or ``None``);
        ``late=False`` when its candidates have no token vectors (late interaction off, or a file
        written before it), which picks the regime's model fitted without them where there is one."""
        if set(channels) != set(self.channels):
            return None
        name = regime(speakers)
        if not late and model_key(name, False) in self.models:
            return self.models[model_key(name, False)]
        return self.models.get(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "channels": list(self.channels),
            "models": {name: (m.to_json() if m is not None else None) for name, m in self.models.items()},
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "ranker") -> Ranker:
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("models"), dict):
            raise ConfigError(f"{where}: not a ranker file (expected format {FORMAT!r} with 'models')")
        unknown = set(data["models"]) - set(MODEL_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown regimes {sorted(unknown)}; known: {', '.join(MODEL_KEYS)}")
        models = {
            name: (LinearRanker.from_json(m, f"{where} ({name})") if m is not None else None)
            for name, m in data["models"].items()
        }
        channels = data.get("channels", ["lexical", "dense", "graph"])
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise ConfigError(f"{where}: 'channels' must be a list of channel names")
        return cls(models, dict(data.get("meta", {})), tuple(channels))


FORMAT = "hippodex-ranker/1"
_CACHE: dict[str, Ranker] = {}


def load_ranker(spec: str) -> Ranker:
    """The shipped model (``"default"``) or one from a JSON file written by ``hippodex bench fit``.

    Each file is read once per process: searches reuse the parsed weights.
    """
    if spec not in _CACHE:
        if spec == "default":
            path = Path(str(importlib.resources.files("hippodex.data") / "ranker.json"))
        else:
            path = Path(spec)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"ranker: cannot read {path} ({exc})") from exc
        _CACHE[spec] = Ranker.from_json(data, str(path))
    return _CACHE[spec]
