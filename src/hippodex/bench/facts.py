"""``hippodex bench facts``: precision and recall of the rule extractor on hand-labelled turns.

The labels (tests/data/facts_labelled.jsonl) are 150 dev turns drawn at random
with a fixed seed (scripts/sample_fact_turns.py), two thirds LoCoMo and one
third LongMemEval user turns, split into a "tune" half (read while writing the
rules) and a "heldout" half (not read). The metric is :mod:`hippodex.extract.evaluate`.
Optionally also runs the extractor over every LoCoMo dev turn for volume and speed.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from hippodex.extract.evaluate import OBJECT_F1, Score, labels_of, score_turn
from hippodex.extract.rules import extract_facts

SPLITS = ("tune", "heldout", "all")


def read_labels(path: Path) -> list[dict[str, Any]]:
    """The labelled rows; a row without a ``facts`` list is an error, not a silent zero."""
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("facts"), list) or row.get("split") not in ("tune", "heldout"):
            raise ValueError(f"{path}:{n}: every row needs a 'facts' list and split 'tune' or 'heldout'")
        rows.append(row)
    return rows


def score_labels(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores per split, plus each candidate with its verdict (for reading the errors)."""
    scores = {split: Score() for split in SPLITS}
    candidates = []
    for row in rows:
        found = extract_facts(
            row["content"],
            speaker=row.get("speaker"),
            role=row.get("role", "user"),
            occurred_at=datetime.fromisoformat(row["occurred_at"]),
        )
        labels = labels_of(row)
        verdicts = score_turn(scores[row["split"]], found, labels)
        score_turn(scores["all"], found, labels)
        candidates += [
            {
                "id": row["id"],
                "split": row["split"],
                "correct": ok,
                "subject": f.subject,
                "predicate": f.predicate,
                "object": f.object,
                "negated": f.negated,
            }
            for f, ok in zip(found, verdicts, strict=True)
        ]
    return {
        "turns": {s: sum(1 for r in rows if s in ("all", r["split"])) for s in SPLITS},
        "scores": {s: sc.as_dict() for s, sc in scores.items()},
        "candidates": candidates,
    }


def locomo_volume(path: Path) -> dict[str, Any]:
    """Run the extractor over every LoCoMo turn: facts per turn, by predicate, turns per second."""
    from hippodex.bench.datasets import load_locomo

    turns = [t for case in load_locomo(path) for s in case.sessions for t in s.turns]
    predicates: Counter[str] = Counter()
    with_facts = 0
    start = time.perf_counter()
    for t in turns:
        found = extract_facts(t.content, speaker=t.speaker, role=t.role, occurred_at=t.occurred_at)
        predicates.update(f.predicate for f in found)
        with_facts += bool(found)
    elapsed = time.perf_counter() - start
    total = sum(predicates.values())
    return {
        "turns": len(turns),
        "facts": total,
        "facts_per_turn": total / len(turns) if turns else 0.0,
        "turns_with_facts": with_facts,
        "seconds": elapsed,
        "turns_per_s": len(turns) / elapsed if elapsed else 0.0,
        "by_predicate": dict(predicates.most_common()),
    }


def run_facts(labels: Path, locomo: Path | None = None) -> dict[str, Any]:
    """The whole benchmark as one JSON-able dict."""
    result: dict[str, Any] = {
        "benchmark": "facts-rules",
        "labels": str(labels),
        "object_f1_threshold": OBJECT_F1,
        **score_labels(read_labels(labels)),
    }
    if locomo is not None:
        result["locomo"] = locomo_volume(locomo)
    return result
