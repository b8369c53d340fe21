"""Personalized PageRank against hand-computed values, and the forgetting curve."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hippodex._exceptions import ConfigError
from hippodex.knowledge.decay import DecayConfig
from hippodex.knowledge.graph import personalized_pagerank


def test_ppr_on_a_path_matches_the_closed_form() -> None:
    # 0 - 1 - 2, restart at 0 with probability 1 - d. By hand (d = 0.5):
    # p0 = 0.5 + 0.5 * p1/2,  p1 = 0.5 * (p0 + p2),  p2 = 0.5 * p1/2
    # => p2 = p1/4, p1 = 4/7 p0, p0 = 7/12, p1 = 1/3, p2 = 1/12 (sums to 1).
    src, dst = np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1])
    p = personalized_pagerank(3, src, dst, np.ones(4), {0: 1.0}, damping=0.5, iterations=200, tol=1e-12)
    assert p == pytest.approx([7 / 12, 1 / 3, 1 / 12], abs=1e-9)


def test_ppr_weights_steer_the_walk_and_dangling_mass_returns_to_seeds() -> None:
    # 0 -> 1 (weight 3), 0 -> 2 (weight 1); 1 and 2 have no out-edges.
    p = personalized_pagerank(3, np.array([0, 0]), np.array([1, 2]), np.array([3.0, 1.0]), {0: 1.0}, damping=0.8)
    assert p[1] == pytest.approx(3 * p[2]) and p.sum() == pytest.approx(1.0)


def test_ppr_degenerate_inputs() -> None:
    assert personalized_pagerank(0, np.array([]), np.array([]), np.array([]), {0: 1.0}).shape == (0,)
    assert not personalized_pagerank(2, np.array([0]), np.array([1]), np.ones(1), {}).any()
    assert not personalized_pagerank(2, np.array([0]), np.array([1]), np.ones(1), {0: 0.0}).any()


def test_two_seeds_share_the_restart() -> None:
    p = personalized_pagerank(4, np.array([0, 1]), np.array([2, 3]), np.ones(2), {0: 1.0, 1: 1.0}, damping=0.5)
    assert p[2] == pytest.approx(p[3]) and p[0] == pytest.approx(p[1])


def test_decay_curve() -> None:
    curve = DecayConfig(base_days=10, growth=3, floor=0.0)
    assert curve.retention(0) == 1.0
    assert curve.retention(10) == pytest.approx(math.exp(-1))
    assert curve.retention(30, repetitions=1) == pytest.approx(math.exp(-1))  # stability 30 days after one repeat
    assert curve.retention(10, repetitions=2) > curve.retention(10, repetitions=1) > curve.retention(10)
    assert DecayConfig(floor=0.2).retention(10_000) == 0.2
    now = datetime(2024, 1, 31, tzinfo=UTC)
    assert curve.strength(0.5, now - timedelta(days=10), now, 0) == pytest.approx(0.5 * math.exp(-1))
    assert curve.strength(0.5, now + timedelta(days=1), now, 0) == 0.5  # a future time does not raise strength


@pytest.mark.parametrize("kwargs", [{"base_days": 0}, {"growth": 0.5}, {"floor": 1.0}])
def test_decay_config_is_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        DecayConfig(**kwargs)
