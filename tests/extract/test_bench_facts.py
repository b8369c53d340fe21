"""``hippodex bench facts`` and the labelled sample it reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hippodex.bench.facts import read_labels, run_facts
from hippodex.cli import app
from hippodex.extract import PREDICATES

LABELS = Path(__file__).resolve().parents[1] / "data" / "facts_labelled.jsonl"


def test_the_labelled_sample_is_well_formed() -> None:
    rows = read_labels(LABELS)
    assert len(rows) >= 150
    assert {r["split"] for r in rows} == {"tune", "heldout"}
    assert sum(r["source"] == "locomo" for r in rows) == 100
    assert all(len(r["content"]) <= 400 for r in rows)
    for r in rows:
        for f in r["facts"]:
            assert f["predicate"] in PREDICATES and f["subject"] and f["object"]
            assert f["subject"] == (r["speaker"] or "user") or f["subject"][0].isupper()


def test_run_facts_scores_every_split(tmp_path: Path) -> None:
    result = run_facts(LABELS)
    assert set(result["scores"]) == {"tune", "heldout", "all"}
    all_ = result["scores"]["all"]
    assert all_["extracted"] == result["scores"]["tune"]["extracted"] + result["scores"]["heldout"]["extracted"]
    assert all_["labelled"] == sum(len(r["facts"]) for r in read_labels(LABELS))
    assert len(result["candidates"]) == all_["extracted"]
    assert all_["correct"] == sum(c["correct"] for c in result["candidates"])


def test_cli_prints_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "facts.json"
    res = CliRunner().invoke(app, ["bench", "facts", "--labels", str(LABELS), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "heldout" in res.output and "tune" in res.output
    written = json.loads(out.read_text())
    assert written["benchmark"] == "facts-rules"
    held = written["scores"]["heldout"]
    assert f"{held['precision']:.3f}" in res.output


def test_unlabelled_rows_are_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"content": "x", "split": "tune", "facts": None}) + "\n")
    with pytest.raises(ValueError, match="facts"):
        read_labels(bad)
