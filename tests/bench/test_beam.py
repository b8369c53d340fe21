"""BEAM: the loader on hand-made files and the dev sample, and ``hippodex bench beam`` end to end."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hippodex.bench.datasets import BenchFormatError, beam_gold, load_beam, parse_beam_datetime
from hippodex.bench.plot import plot_recall
from hippodex.bench.report import render
from hippodex.bench.runner import BenchSettings, run_beam
from hippodex.cli import app

BEAM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "beam" / "beam_100k_dev_sample.json.gz"


def _message(mid: int, role: str, content: str, anchor: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"role": role, "id": mid, "content": content}
    if anchor is not None:
        m["time_anchor"] = anchor
    return m


def _record() -> dict[str, Any]:
    """Two batches of a made-up conversation, shaped as BEAM's files are."""
    return {
        "scale": "100K",
        "conversation_id": "7",
        "topic": {"title": "A budget app"},
        "chat": [
            {
                "batch_number": "1",
                "time_anchor": None,
                "turns": [
                    [
                        _message(0, "user", "My first sprint ends on March 29. ->-> 1,1", "March-15-2024"),
                        _message(1, "assistant", "Noted: the sprint ends on March 29."),
                    ],
                    [
                        _message(2, "user", "I use SQLite for the transactions table ->-> 1,2"),
                        _message(3, "assistant", "SQLite suits a small app."),
                    ],
                ],
            },
            {
                "batch_number": "2",
                "time_anchor": None,
                "turns": [
                    [
                        _message(4, "user", "I moved the transactions table to PostgreSQL ->-> 2,N/A", "April-05-2024"),
                        _message(5, "assistant", "PostgreSQL handles concurrent writes better."),
                    ]
                ],
            },
        ],
        "probing_questions": {
            "information_extraction": [{"question": "When does my first sprint end?", "source_chat_ids": [0]}],
            "knowledge_update": [
                {
                    "question": "Which database holds the transactions table?",
                    "answer": "PostgreSQL",
                    "source_chat_ids": {"original": [2], "updated": [4, 4, 99]},
                }
            ],
            "abstention": [{"question": "What colour is the logo?", "ideal_response": "Not mentioned."}],
        },
    }


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(gzip.compress(json.dumps(records).encode()))
    return path


def test_a_conversation_becomes_dated_batches_with_cited_gold(tmp_path: Path) -> None:
    (case,) = load_beam(_write(tmp_path / "beam.json.gz", [_record()]))
    assert case.id == "beam-7"
    assert [s.id for s in case.sessions] == ["B1", "B2"]
    first, second = case.sessions
    assert [t.occurred_at for t in first.turns] == [datetime(2024, 3, 15)] * 4  # the anchor holds for its batch
    assert second.started_at == datetime(2024, 4, 5)
    assert [t.id for t in first.turns] == ["0", "1", "2", "3"] and [t.seq for t in first.turns] == [0, 1, 2, 3]
    # The generator's index marker is dropped; everything else is kept as written.
    assert first.turns[0].content == "My first sprint ends on March 29."
    assert second.turns[0].content == "I moved the transactions table to PostgreSQL"
    assert all(t.is_key for s in case.sessions for t in s.turns)  # assistant messages are cited too
    by_ability = {q.category: q for q in case.questions}
    assert by_ability["information_extraction"].gold_turns == {"0"}
    update = by_ability["knowledge_update"]
    assert update.gold_turns == {"2", "4"} and update.gold_sessions == {"B1", "B2"} and update.answer == "PostgreSQL"
    assert case.dropped_evidence == 1  # message 99 does not exist
    abstain = by_ability["abstention"]
    assert abstain.abstention and not abstain.gold_turns and abstain.answer == "Not mentioned."


def test_cited_ids_flatten_in_order_once_each() -> None:
    assert beam_gold({"first_statement": [58], "second_statement": [24, 58]}) == [58, 24]
    assert beam_gold([4, 60, 4]) == [4, 60]
    assert beam_gold(None) == []
    assert parse_beam_datetime("April-05-2024") == datetime(2024, 4, 5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["chat"][0]["turns"][0][0].pop("time_anchor"), r"chat\[0\]\.turns\[0\]\.time_anchor"),
        (lambda r: r["chat"][0]["turns"][0][0].update(time_anchor="15/03/2024"), r"time_anchor'.*bad date"),
        (lambda r: r["chat"][1]["turns"][0][1].update(role="system"), r"chat\[1\]\.turns\[1\]\.role"),
        (lambda r: r["chat"][1]["turns"][0][1].update(id=0), r"duplicate id 0"),
        (lambda r: r["probing_questions"]["abstention"][0].pop("question"), r"abstention\[0\]\.question'.*missing"),
        (lambda r: r.pop("chat"), r"field 'chat': missing"),
    ],
)
def test_a_malformed_file_names_the_field(tmp_path: Path, change: Any, field: str) -> None:
    record = _record()
    change(record)
    with pytest.raises(BenchFormatError, match=field):
        load_beam(_write(tmp_path / "bad.json.gz", [record]))


def test_run_scores_each_ability_and_leaves_abstention_out(tmp_path: Path) -> None:
    path = _write(tmp_path / "beam.json.gz", [_record()])
    result = run_beam(path, BenchSettings(channels=("lexical",), cache=tmp_path / "cache.db"))
    assert result["questions"] == 2 and result["skipped_no_evidence"] == 1 and result["dropped_evidence_ids"] == 1
    assert set(result["by_category"]) == {"all", "information_extraction", "knowledge_update"}
    # Six messages: every cited one is within the first 25.
    assert result["headline"]["all"]["recall@25"] == 1.0 and result["headline"]["count"] == 2
    assert result["timing"]["turns"] == 6 and result["timing"]["queries"] == 2


def test_the_bench_command_prints_and_writes_json(tmp_path: Path) -> None:
    path = _write(tmp_path / "beam.json.gz", [_record()])
    out = tmp_path / "beam.json"
    args = ["bench", "beam", "--data", str(path), "--channels", "lexical", "--cache", str(tmp_path / "c.db")]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "information_extraction" in result.output and "abstention left out" in result.output
    data = json.loads(out.read_text())
    assert data["benchmark"] == "beam" and data["settings"]["channels"] == ["lexical"]


@pytest.mark.skipif(not BEAM.exists(), reason="BEAM dev sample not in ../shared/data")
def test_the_dev_sample_loads_whole() -> None:
    cases = load_beam(BEAM)
    assert [c.id for c in cases] == ["beam-1", "beam-2", "beam-3"]
    assert [sum(len(s.turns) for s in c.sessions) for c in cases] == [188, 200, 194]
    assert all(len(c.sessions) == 3 and len(c.questions) == 20 for c in cases)
    # Every citation resolves (shared/data/README.md: all 179 references), and only abstention cites nothing.
    assert sum(c.dropped_evidence for c in cases) == 0
    assert all(bool(q.gold_turns) != q.abstention for c in cases for q in c.questions)
    assert not any("->->" in t.content for c in cases for s in c.sessions for t in s.turns)


def test_the_report_and_plot_render_a_run(tmp_path: Path) -> None:
    path = _write(tmp_path / "beam.json.gz", [_record()])
    result = run_beam(path, BenchSettings(channels=("lexical",), cache=tmp_path / "cache.db"))
    out = tmp_path / "beam.json"
    out.write_text(json.dumps({**result, "settings": {"channels": ["lexical"]}}))
    text = render([out])
    assert "BEAM (100K sample)" in text and "| lexical | 1.000 |" in text
    assert "| knowledge_update | 1 |" in text
    png = plot_recall([out], tmp_path / "recall.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
