"""The one interface every recall channel implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from hippodex.recall.query import ChannelHit, Query


class Channel(Protocol):
    """A way of finding evidence: ``query, k -> ranked hits``.

    A new channel is one module with a class that has a ``name`` and a
    ``search``; fusion sees only the hits it returns.
    """

    name: str

    def search(self, query: Query, k: int) -> list[ChannelHit]:
        """Up to ``k`` hits, best first, within the query's user and filters."""
        ...


@runtime_checkable
class Rescoring(Protocol):
    """A channel that can also score given candidates it did not rank itself.

    Score fusion asks for these so a candidate found by one channel is judged
    on every channel's real score, not on a zero for "not in your top k".
    """

    def rescore(self, query: Query, rowids: Sequence[int]) -> dict[int, float]:
        """Scores of the given candidates (those the channel can score at all)."""
        ...
