"""Vector tiers: cold memories move from float32 to int8 or binary codes.

A tier trades recall for bytes. ``hippodex bench locomo --tier ...`` measures
both on the dev data; the encodings are in :mod:`hippodex.encode.quantize`.
"""

from __future__ import annotations

from datetime import datetime

from hippodex.encode.quantize import tier_code
from hippodex.store.base import Filters
from hippodex.store.sqlite import SQLiteStore


def move_tier(store: SQLiteStore, user_id: str, encoder: str | None, tier: str, until: datetime | None = None) -> int:
    """Move the vectors of a user's episodes that happened before ``until`` (all if ``None``) to ``tier``."""
    code = tier_code(tier)
    if encoder is None:
        return 0
    rowids = None if until is None else store.allowed(user_id, Filters(until=until)).tolist()
    return store.set_tier(user_id, encoder, rowids, code)
