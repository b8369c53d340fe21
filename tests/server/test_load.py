"""The bounded load test runs against a real server subprocess and counts every request."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx")

from hippodex import ConfigError
from hippodex.bench.load import run_load


def test_short_load_run_has_no_errors() -> None:
    result = run_load(clients=3, seconds=1.5, preload=20, encoder="none")
    assert result["errors"] == 0
    assert result["search"]["requests"] > 0 and result["add"]["requests"] >= 0
    assert result["search"]["p50_ms"] <= result["search"]["p95_ms"] <= result["search"]["p99_ms"]


def test_load_is_bounded() -> None:
    with pytest.raises(ConfigError, match="bounded"):
        run_load(clients=10_000, seconds=1)
