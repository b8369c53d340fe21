"""Report and plot from real (small) benchmark runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hippodex.bench.report import END, START, render, write_readme
from hippodex.bench.runner import BenchSettings, ablation_variants, run_locomo
from hippodex.config import RecallConfig

LOCOMO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "locomo" / "locomo_dev.json"
pytestmark = pytest.mark.skipif(not LOCOMO.is_file(), reason=f"benchmark data not found at {LOCOMO}")


@pytest.fixture(scope="module")
def result_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = BenchSettings(channels=("lexical",), encoder=None)
    result = run_locomo(LOCOMO, settings, limit=1)
    result["settings"] = {"channels": ["lexical"]}
    path = tmp_path_factory.mktemp("results") / "locomo.json"
    path.write_text(json.dumps(result))
    return path


def test_one_conversation_run_has_the_official_shape(result_file: Path) -> None:
    result = json.loads(result_file.read_text())
    assert result["conversations"] == 1 and result["questions"] > 100
    head = result["headline"]["cats_1_4"]
    assert 0 < head["recall@5"] <= head["recall@10"] <= head["recall@25"] <= head["recall@50"] <= 1
    assert result["timing"]["turns"] > 0 and result["timing"]["search_p95_ms"] >= result["timing"]["search_p50_ms"]


def test_report_renders_and_replaces_the_readme_section(result_file: Path, tmp_path: Path) -> None:
    markdown = render([result_file])
    recall10 = json.loads(result_file.read_text())["headline"]["cats_1_4"]["recall@10"]
    assert f"{recall10:.3f}" in markdown and "| lexical |" in markdown
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold figures\n{END}\noutro\n")
    write_readme(readme, markdown)
    text = readme.read_text()
    assert "old figures" not in text and text.startswith("intro") and text.endswith("outro\n") and markdown in text


def test_plot_writes_a_png(result_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from hippodex.bench.plot import plot_recall

    out = plot_recall([result_file], tmp_path / "recall.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ablation_switches_off_each_channel_and_stage() -> None:
    names = [n for n, _ in ablation_variants(BenchSettings(config=RecallConfig()))]
    assert names == [
        "all",
        "- lexical",
        "- dense",
        "- graph",
        "- neighbour",
        "- session",
        "- session_lexical",
        "- speaker",
        "- temporal",
        "- late candidates",
        "- late",
        "- learned",
    ]
    variants = dict(ablation_variants(BenchSettings(config=RecallConfig())))
    no_temporal = variants["- temporal"]
    assert no_temporal.config.temporal == 0 and no_temporal.config.speaker == RecallConfig().speaker
    assert variants["- learned"].config.ranker is None and variants["- temporal"].config.ranker == "default"
    assert not variants["- late"].config.late_interaction and variants["- learned"].config.late_interaction
    assert variants["- late candidates"].config.late_candidates == 0
    assert variants["- late candidates"].config.late_interaction


def test_a_cross_encoder_run_is_labelled_and_ablated(result_file: Path, tmp_path: Path) -> None:
    crossed = json.loads(result_file.read_text())
    crossed["settings"] = {"channels": ["lexical"], "cross_encoder": "ms-marco"}
    other = tmp_path / "locomo_cross.json"
    other.write_text(json.dumps(crossed))
    markdown = render([result_file, other])
    assert "| lexical |" in markdown and "| lexical, then cross-encoder ms-marco |" in markdown
    variants = dict(ablation_variants(BenchSettings(config=RecallConfig(cross_encoder="ms-marco"))))
    assert variants["- cross"].config.cross_encoder is None and variants["all"].config.cross_encoder == "ms-marco"
    assert "- cross" not in dict(ablation_variants(BenchSettings(config=RecallConfig())))
