"""How strong a memory still is: an Ebbinghaus forgetting curve whose stability
grows with every repetition or retrieval (spaced-repetition style).

``retention = exp(-elapsed / stability)`` and
``stability = base_days * growth ** repetitions``: a fact stated once fades to
37% of its strength after ``base_days``; each repetition multiplies the time it
takes. Pure functions, so the curve is easy to test and to plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from hippodex._exceptions import ConfigError

#: The longest a memory takes to fade to 1/e: a thousand years, as good as never.
MAX_STABILITY_DAYS = 365_250.0


@dataclass(frozen=True)
class DecayConfig:
    """Parameters of the forgetting curve.

    >>> DecayConfig().stability(0), DecayConfig().stability(2)
    (30.0, 120.0)
    """

    base_days: float = 30.0
    growth: float = 2.0
    #: Retention never falls below this floor, so old memories fade but stay findable.
    floor: float = 0.05

    def __post_init__(self) -> None:
        if self.base_days <= 0 or self.growth < 1 or not 0 <= self.floor < 1:
            raise ConfigError("decay: base_days must be > 0, growth >= 1 and 0 <= floor < 1")

    def stability(self, repetitions: int) -> float:
        """Days for retention to fall to 1/e after ``repetitions`` repetitions, at most
        :data:`MAX_STABILITY_DAYS` (a fact recalled a thousand times would overflow a float).

        >>> DecayConfig().stability(5_000) == MAX_STABILITY_DAYS
        True
        """
        reps = max(0, repetitions)
        if self.growth > 1 and reps * math.log(self.growth) >= math.log(MAX_STABILITY_DAYS / self.base_days):
            return max(self.base_days, MAX_STABILITY_DAYS)
        return min(self.base_days * self.growth**reps, max(self.base_days, MAX_STABILITY_DAYS))

    def retention(self, elapsed_days: float, repetitions: int = 0) -> float:
        """Share of strength left after ``elapsed_days`` (1.0 at 0 days).

        >>> round(DecayConfig().retention(30.0), 3)
        0.368
        """
        kept = math.exp(-max(0.0, elapsed_days) / self.stability(repetitions))
        return max(self.floor, kept)

    def strength(self, confidence: float, last_seen: datetime, now: datetime, repetitions: int) -> float:
        """A memory's strength now: its confidence times its retention."""
        elapsed = (now - last_seen).total_seconds() / 86400.0
        return confidence * self.retention(elapsed, repetitions)
