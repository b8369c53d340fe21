"""Benchmark runs: ingest each case into a fresh memory, ask its questions, score.

Every case gets its own SQLite file in a temporary folder, so each question is
answered only from its own haystack, as the official scripts do. Embeddings go
through a shared on-disk cache keyed by content hash, so re-runs and the
filler sessions LongMemEval repeats across questions cost one embedding each.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from hippodex.bench.datasets import (
    BenchCase,
    BenchQuestion,
    iter_longmemeval,
    load_beam,
    load_locomo,
    official_session_id,
)
from hippodex.bench.metrics import (
    all_at_k,
    evidence_recall,
    hit_at_k,
    ndcg_any,
    recall_all,
    recall_any,
    session_metrics_from_turns,
    summarize,
)
from hippodex.config import CHANNELS, RecallConfig
from hippodex.encode.base import Encoder
from hippodex.encode.cache import default_cache_path
from hippodex.memory import Memory
from hippodex.recall.learned import regime
from hippodex.store.sqlite import SQLiteStore

LOCOMO_KS = (5, 10, 25, 50)
LME_KS = (1, 3, 5, 10, 30, 50)

Progress = Callable[[int], None]


@dataclass
class RunStats:
    """Timing collected over a run."""

    turns: int = 0
    ingest_s: float = 0.0
    search_ms: list[float] = field(default_factory=list)
    stage_ms: dict[str, list[float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float:
            if not values:
                return 0.0
            ordered = sorted(values)
            return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

        return {
            "turns": self.turns,
            "ingest_s": round(self.ingest_s, 3),
            "ingest_turns_per_s": round(self.turns / self.ingest_s, 1) if self.ingest_s else 0.0,
            "queries": len(self.search_ms),
            "search_p50_ms": round(pct(self.search_ms, 0.5), 2),
            "search_p95_ms": round(pct(self.search_ms, 0.95), 2),
            "search_mean_ms": round(statistics.fmean(self.search_ms), 2) if self.search_ms else 0.0,
            "stages_p50_ms": {s: round(pct(v, 0.5), 2) for s, v in self.stage_ms.items()},
            "stages_p95_ms": {s: round(pct(v, 0.95), 2) for s, v in self.stage_ms.items()},
        }


@dataclass(frozen=True)
class BenchSettings:
    """What a run uses: channels, encoder and recall settings."""

    channels: tuple[str, ...] = CHANNELS
    encoder: str | Encoder | None = "minilm"
    #: Embedding cache shared by every case and run (``None``: the default path).
    cache: str | Path | None = None
    config: RecallConfig = field(default_factory=RecallConfig)
    #: Vector tier every memory is moved to after ingest (float32: left as stored).
    tier: str = "float32"

    def recall_config(self) -> RecallConfig:
        return replace(self.config, channels=self.channels)


def _ingest(memory: Memory, case: BenchCase, user: str, stats: RunStats) -> dict[str, str]:
    """Store every session of a case; returns episode id -> benchmark turn id."""
    ids: dict[str, str] = {}
    start = time.perf_counter()
    for n, session in enumerate(case.sessions):
        # Only the official retrieval units are stored (LongMemEval: user turns).
        # A few turns are empty; the API refuses empty content, and an empty
        # turn can hold no evidence, so it is left out.
        turns = [t for t in session.turns if t.is_key and t.content.strip()]
        messages = [
            {"role": t.role, "content": t.content, "speaker": t.speaker, "timestamp": t.occurred_at} for t in turns
        ]
        if not messages:
            continue
        # LongMemEval may repeat a session id within one haystack: keep both copies apart.
        episodes = memory.add(messages, user_id=user, session_id=f"{session.id}#{n}")
        ids.update((ep.id, t.id) for ep, t in zip(episodes, turns, strict=True))
        stats.turns += len(messages)
    stats.ingest_s += time.perf_counter() - start
    return ids


@dataclass(frozen=True)
class Sample:
    """One question's candidates, as the learned stage saw them (for ``hippodex bench fit``).

    ``head`` are the turn ids the learned stage ranks (hand-set order) and
    ``X`` their features; ``ranked`` is the whole hand-set ranking returned.
    """

    benchmark: str
    group: str  # LoCoMo: the conversation; LongMemEval: the question
    question: BenchQuestion
    head: list[str]
    X: Any
    ranked: list[str]
    answer_sessions: frozenset[str] = frozenset()
    regime: str = "chat"  # hippodex.recall.learned.regime of the memory asked


def _ask(
    memory: Memory,
    q: BenchQuestion,
    user: str,
    k: int,
    now: Any,
    stats: RunStats,
    roles: Sequence[str] | None,
    ids: dict[str, str],
) -> list[str]:
    start = time.perf_counter()
    hits = memory.search(q.question, user_id=user, k=k, now=now, role=roles)
    stats.search_ms.append((time.perf_counter() - start) * 1000)
    for stage, ms in memory.last_timings.stages.items():
        stats.stage_ms.setdefault(stage, []).append(ms)
    return [ids[h.episode.id] for h in hits]


def _record(
    samples: list[Sample] | None,
    benchmark: str,
    group: str,
    user: str,
    q: BenchQuestion,
    memory: Memory,
    ids: dict[str, str],
    ranked: list[str],
    answer_sessions: frozenset[str] = frozenset(),
) -> None:
    """Keep the last search's learned-stage features when a fit asks for them."""
    features = memory.last_timings.features
    if samples is None or features is None:
        return
    rowids, X = features
    by_rowid = memory.store.by_rowids(user, [int(r) for r in rowids])
    head = [ids[by_rowid[int(r)].id] for r in rowids]
    kind = regime(memory.store.layout(user).speakers)
    samples.append(Sample(benchmark, group, q, head, X, ranked, answer_sessions, kind))


def _open(folder: str, name: str, settings: BenchSettings) -> Memory:
    return Memory(
        Path(folder) / f"{name}.db",
        encoder=settings.encoder if "dense" in settings.channels else None,
        config=settings.recall_config(),
        cache=settings.cache or default_cache_path(),
    )


def locomo_row(ranked: Sequence[str], gold: Collection[str]) -> dict[str, float]:
    """One question's turn-level evidence recall, hit and all at each k (LoCoMo, BEAM)."""
    row: dict[str, float] = {}
    for k in LOCOMO_KS:
        row[f"recall@{k}"] = evidence_recall(ranked, gold, k)
        row[f"hit@{k}"] = hit_at_k(ranked, gold, k)
        row[f"all@{k}"] = all_at_k(ranked, gold, k)
    return row


@dataclass
class _EvidenceRun:
    """What asking every question of some cases gave: per-question rows and the costs."""

    rows: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    stats: RunStats = field(default_factory=RunStats)
    skipped: int = 0  # questions that cite no evidence
    dropped: int = 0  # evidence ids that name no turn
    vector_bytes: int = 0
    vector_count: int = 0

    def vector_bytes_per_memory(self) -> float:
        return round(self.vector_bytes / self.vector_count, 1) if self.vector_count else 0.0


def _run_evidence(
    benchmark: str,
    cases: Sequence[BenchCase],
    settings: BenchSettings,
    progress: Progress | None,
    samples: list[Sample] | None,
) -> _EvidenceRun:
    """Each case in its own memory, every question asked the day after its last session
    and scored by turn-level evidence recall (:func:`locomo_row`)."""
    run = _EvidenceRun()
    with tempfile.TemporaryDirectory(prefix="hippodex-bench-") as folder:
        for case in cases:
            run.dropped += case.dropped_evidence
            with _open(folder, case.id, settings) as memory:
                memory.record_features = samples is not None
                ids = _ingest(memory, case, case.id, run.stats)
                if settings.tier != "float32" and "dense" in settings.channels:
                    memory.move_tier(settings.tier, user_id=case.id)
                run.vector_bytes += _vector_bytes(memory)
                run.vector_count += memory.stats().vectors
                now = max(s.started_at for s in case.sessions) + timedelta(days=1)
                for q in case.questions:
                    if not q.gold_turns:
                        run.skipped += 1
                        continue
                    ranked = _ask(memory, q, case.id, max(LOCOMO_KS), q.asked_at or now, run.stats, None, ids)
                    _record(samples, benchmark, case.id, case.id, q, memory, ids, ranked)
                    run.rows.append((q.category, locomo_row(ranked, q.gold_turns)))
            if progress:
                progress(1)
    return run


def run_locomo(
    path: str | Path,
    settings: BenchSettings,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    samples: list[Sample] | None = None,
) -> dict[str, Any]:
    """LoCoMo turn-level evidence recall@k (k = 5, 10, 25, 50), per category.

    Questions with empty evidence are left out and counted. Questions are asked
    the day after the conversation's last session. With ``samples``, each
    question's learned-stage features are appended to it.
    """
    cases = load_locomo(path)[:limit]
    run = _run_evidence("locomo", cases, settings, progress, samples)
    headline = summarize((c, r) for c, r in run.rows if c != "5")["all"]
    return {
        "benchmark": "locomo",
        "data": str(path),
        "conversations": len(cases),
        "questions": len(run.rows),
        "skipped_empty_evidence": run.skipped,
        "dropped_evidence_ids": run.dropped,
        "headline": {"cats_1_4": headline.means, "count": headline.count},
        "by_category": {c: {"count": s.count, **s.means} for c, s in summarize(run.rows).items()},
        "timing": run.stats.as_dict(),
        "tier": settings.tier,
        "vector_bytes_per_memory": run.vector_bytes_per_memory(),
    }


def run_beam(
    path: str | Path,
    settings: BenchSettings,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """BEAM turn-level evidence recall@k (k = 5, 10, 25, 50), per probing ability.

    A check that was never tuned on: nothing in the shipped ranker or the
    hand-set weights was fitted to BEAM. User and assistant messages are both
    stored (questions cite either); abstention questions cite nothing and are
    left out and counted. Questions are asked the day after the last batch.
    """
    cases = load_beam(path)[:limit]
    run = _run_evidence("beam", cases, settings, progress, None)
    summary = summarize(run.rows)
    return {
        "benchmark": "beam",
        "data": str(path),
        "conversations": len(cases),
        "questions": len(run.rows),
        "skipped_no_evidence": run.skipped,
        "dropped_evidence_ids": run.dropped,
        "headline": {"all": summary["all"].means, "count": summary["all"].count},
        "by_category": {c: {"count": v.count, **v.means} for c, v in summary.items()},
        "timing": run.stats.as_dict(),
        "tier": settings.tier,
        "vector_bytes_per_memory": run.vector_bytes_per_memory(),
    }


def _vector_bytes(memory: Memory) -> int:
    """Bytes the vector tables and their indexes take in a memory's file (SQLite's dbstat)."""
    store = memory.store
    assert isinstance(store, SQLiteStore), "vector bytes are measured in SQLite files"
    rows = store._db.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN ('vectors', 'vectors_user', 'vectors_key', 'vector_codes')"
    ).fetchone()
    return int(rows[0] or 0)


def _original_session(turn_id: str) -> str:
    """The haystack session of a turn id, undoing the official ``noans`` renaming."""
    return official_session_id(turn_id).replace("noans", "answer", 1)


def lme_row(ranked: list[str], q: BenchQuestion, answer_sessions: frozenset[str]) -> dict[str, float]:
    row: dict[str, float] = {}
    gold = q.gold_turns
    # The simpler variant many memory systems report: sessions ranked by their
    # best turn, gold = answer_session_ids (so questions whose evidence sits in
    # assistant turns count too).
    sessions = list(dict.fromkeys(_original_session(t) for t in ranked))
    for k in LME_KS:
        row[f"any_session_recall_any@{k}"] = recall_any(sessions, answer_sessions, k)
        row[f"any_session_recall_all@{k}"] = recall_all(sessions, answer_sessions, k)
        row[f"any_session_ndcg_any@{k}"] = ndcg_any(sessions, answer_sessions, k)
        s = session_metrics_from_turns(ranked, gold, k, official_session_id)
        row[f"session_recall_any@{k}"] = s["recall_any"]
        row[f"session_recall_all@{k}"] = s["recall_all"]
        row[f"session_ndcg_any@{k}"] = s["ndcg_any"]
        row[f"turn_recall_any@{k}"] = recall_any(ranked, gold, k)
        row[f"turn_recall_all@{k}"] = recall_all(ranked, gold, k)
        row[f"turn_ndcg_any@{k}"] = ndcg_any(ranked, gold, k, n_relevant=len(gold))
    return row


def run_longmemeval(
    path: str | Path,
    settings: BenchSettings,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    samples: list[Sample] | None = None,
) -> dict[str, Any]:
    """LongMemEval session- and turn-level recall_any/recall_all/ndcg_any@k.

    Official rules: user turns are the retrieval keys (so only they are
    stored: assistant turns are long and would cost most of the embedding
    time while never counting as evidence), ``_abs`` questions are left out,
    session metrics come from the turn ranking (turn2session). Each question
    is asked at its own ``question_date``.
    """
    stats = RunStats()
    rows: list[tuple[str, dict[str, float]]] = []
    abstentions = 0
    with tempfile.TemporaryDirectory(prefix="hippodex-bench-") as folder:
        for case in iter_longmemeval(path, limit):
            q = case.questions[0]
            if q.abstention:
                abstentions += 1
                if progress:
                    progress(1)
                continue
            with _open(folder, "case", settings) as memory:
                memory.record_features = samples is not None
                ids = _ingest(memory, case, "u", stats)
                keys = sum(t.is_key for s in case.sessions for t in s.turns)
                ranked = _ask(memory, q, "u", min(1000, keys), q.asked_at, stats, None, ids)
                answer_sessions = frozenset(s.id for s in case.sessions if s.id.startswith("answer"))
                _record(samples, "longmemeval", q.id, "u", q, memory, ids, ranked, answer_sessions)
                rows.append((q.category, lme_row(ranked, q, answer_sessions)))
            (Path(folder) / "case.db").unlink()
            for suffix in ("-wal", "-shm"):
                Path(folder, "case.db" + suffix).unlink(missing_ok=True)
            if progress:
                progress(1)
    summary = summarize(rows)
    return {
        "benchmark": "longmemeval",
        "data": str(path),
        "questions": len(rows),
        "skipped_abstention": abstentions,
        "headline": summary["all"].means,
        "by_category": {c: {"count": s.count, **s.means} for c, s in summary.items()},
        "timing": stats.as_dict(),
    }


#: Recall stages an ablation switches off one at a time (config field names).
STAGES = ("neighbour", "session", "session_lexical", "speaker", "temporal")


def ablation_variants(settings: BenchSettings) -> list[tuple[str, BenchSettings]]:
    """The full setting, then all-minus-one for every channel and stage that is on."""
    variants = [("all", settings)]
    if len(settings.channels) > 1:
        for channel in settings.channels:
            rest = tuple(c for c in settings.channels if c != channel)
            variants.append((f"- {channel}", replace(settings, channels=rest)))
    for stage in STAGES:
        if getattr(settings.config, stage):
            off: dict[str, Any] = {stage: 0.0}
            variants.append((f"- {stage}", replace(settings, config=replace(settings.config, **off))))
    if settings.config.late_interaction:
        if settings.config.late_candidates:
            # Late interaction then scores the channels' candidates only, adding none of its own.
            no_added = replace(settings.config, late_candidates=0)
            variants.append(("- late candidates", replace(settings, config=no_added)))
        # The search then ranks with the model fitted without the late signals.
        variants.append(("- late", replace(settings, config=replace(settings.config, late_interaction=False))))
    if settings.config.ranker:
        variants.append(("- learned", replace(settings, config=replace(settings.config, ranker=None))))
    if settings.config.cross_encoder:
        variants.append(("- cross", replace(settings, config=replace(settings.config, cross_encoder=None))))
    return variants
