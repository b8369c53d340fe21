"""``hippodex bench scale`` end to end at a tiny size, and its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hippodex.bench.report import render
from hippodex.cli import app

LOCOMO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "locomo" / "locomo_dev.json"


@pytest.mark.skipif(not LOCOMO.exists(), reason="needs the shared LoCoMo dev file")
def test_bench_scale_writes_the_json_schema(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    png = tmp_path / "scale.png"
    args = ["bench", "scale", "--n", "500", "--queries", "5", "--data", str(LOCOMO)]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["backend"] == "sqlite"
    row = data["sizes"]["500"]
    for key in ("ingest_per_s", "search_p50_ms", "search_p95_ms", "approx_recall@10", "bytes_per_memory"):
        assert row[key] > 0
    assert row["db_bytes"] > 500 * 1000 and row["peak_rss_mb"] > 50
    assert 0.0 <= row["approx_recall@10"] <= 1.0 and row["approx_used"] is False
    assert row["search_p95_ms_lexical"] >= row["search_p50_ms_lexical"]
    assert row["binary_tier_vector_bytes_per_memory"] < row["vector_bytes_per_memory"]
    assert png.stat().st_size > 1000
    assert "| 500 |" in render([out])


def test_bench_scale_refuses_bad_sizes() -> None:
    result = CliRunner().invoke(app, ["bench", "scale", "--n", "ten", "--data", __file__])
    assert result.exit_code != 0
    assert "comma list" in result.output


@pytest.mark.skipif(not LOCOMO.exists(), reason="needs the shared LoCoMo dev file")
def test_bench_scale_on_postgres(tmp_path: Path) -> None:
    pytest.importorskip("pgserver")
    out = tmp_path / "scale_pg.json"
    args = ["bench", "scale", "--n", "300", "--queries", "5", "--data", str(LOCOMO), "--backend", "postgres"]
    result = CliRunner().invoke(app, [*args, "--json", str(out), "--tmp", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    row = data["sizes"]["300"]
    assert data["backend"] == "postgres" and row["db_bytes"] > 0 and row["vector_bytes_per_memory"] > 384 * 4
    assert row["search_p95_ms"] >= row["search_p50_ms"] > 0 and 0.0 <= row["approx_recall@10"] <= 1.0
