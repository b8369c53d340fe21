"""The one interface every recall channel implements."""

from __future__ import annotations

from typing import Protocol

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
