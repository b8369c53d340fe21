"""``hippodex bench fit`` on a slice of the dev files (skipped without them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hippodex.bench.fit import run_fit
from hippodex.bench.report import render
from hippodex.bench.runner import BenchSettings
from hippodex.recall.learned import Ranker

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LOCOMO = DATA / "locomo" / "locomo_dev.json"
LME = DATA / "longmemeval" / "longmemeval_s_dev.json.gz"
pytestmark = pytest.mark.skipif(not (LOCOMO.is_file() and LME.is_file()), reason=f"benchmark data not found in {DATA}")


def test_fit_cross_validates_and_writes_a_ranker_that_loads(tmp_path: Path) -> None:
    settings = BenchSettings(channels=("lexical",), encoder=None)
    report, ranker = run_fit(LOCOMO, LME, folds=2, limit=2, settings=settings)
    # two conversations, one per fold: each is scored by a model fitted on the other
    assert report["meta"]["questions"]["locomo"] > 200 and report["meta"]["questions"]["longmemeval"] >= 1
    for bench in ("locomo", "longmemeval"):
        for figures in report["compare"][bench].values():
            assert all(0.0 <= figures[k] <= 1.0 for k in ("hand", "cv", "in_sample", "cv_no_late"))
    assert set(report["kept"]) == {"dialogue", "chat"}
    for name, kept in report["kept"].items():
        # each regime with a model has a second one for memories without token vectors
        assert (ranker.models[name] is not None) == kept == (ranker.models[f"{name}/no-late"] is not None)
    back = Ranker.from_json(json.loads(json.dumps(ranker.to_json())))
    assert back.channels == ("lexical",)  # a memory searched with these channels uses it
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(report))
    assert "Learned fusion (2-fold cross-validation" in render([path])
