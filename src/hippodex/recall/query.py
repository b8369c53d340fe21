"""What a channel is asked: the query text, its scope, filters and "now"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np

from hippodex.recall.text import query_terms
from hippodex.store.base import Filters


@dataclass
class Query:
    """One search, analysed once and shared by every channel."""

    text: str
    user_id: str
    now: datetime
    filters: Filters = field(default_factory=Filters)
    embed: Callable[[str], np.ndarray] | None = None
    #: Embeds words the memory has no vector of (the soft word match, recall/word_match.py).
    embed_words: Callable[[list[str]], np.ndarray] | None = None
    #: The query's token vectors for late interaction (encode/late_interaction.py).
    embed_tokens: Callable[[str], np.ndarray] | None = None
    _vector: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def terms(self) -> list[str]:
        """Content words, analysed once though several channels and stages read them."""
        return query_terms(self.text)

    @property
    def vector(self) -> np.ndarray | None:
        """The query embedding, computed on first use (None without an encoder)."""
        if self._vector is None and self.embed is not None:
            self._vector = self.embed(self.text)
        return self._vector

    @cached_property
    def token_vectors(self) -> np.ndarray | None:
        """The query's token vectors (None without a late-interaction model)."""
        return self.embed_tokens(self.text) if self.embed_tokens is not None else None


@dataclass(frozen=True)
class ChannelHit:
    """One ranked candidate from one channel: internal episode key and raw score."""

    rowid: int
    score: float
