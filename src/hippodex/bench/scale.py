"""``hippodex bench scale``: ingest rate, search latency, recall and size at 10k-1M memories.

The memories are synthetic but built from real material, so both channels see
realistic work:

- **Real sample.** Every turn of the LoCoMo file given (``--data``) with its
  index key embedded by the real encoder (from the shared embedding cache).
- **Vectors** of the rest: ``normalise(w·v_a + (1-w)·v_b + 0.3·(v_c - v_d))``
  with ``v_a..v_d`` random real vectors and ``w ~ U(0.5, 1)``: a continuous
  spread in the directions real sentences take (differences of real vectors
  as noise), not tight clusters around the sample.
- **Text** of the rest: the words of turn ``a`` (its speaker too), about 15%
  replaced by words of turn ``b`` and 15% by words drawn from the sample's
  word frequencies, so term statistics (Zipf, stop words, names, the dated
  key prefix) look like conversation and match the vector's main source.
- **Sessions** of 20 turns, one every three hours from 2020 on.
- **Queries**: the LoCoMo questions, embedded by the real encoder once before
  timing. Search latency is ``Memory.search`` (dense only, lexical only, and
  fused with every stage the default config runs) without the query
  embedding, which is reported on its own (``query_embed_ms``: the median
  time to embed one question alone, as a search does).

Each size runs in a fresh process (so ``peak_rss_mb`` is that size's own peak,
from ``getrusage``) on a new SQLite file, ingested through the real store path
(``SQLiteStore.add``, one durable transaction per session, vectors given).
``ingest_per_s`` counts only time inside ``add``. ``approx_recall@10`` is the
overlap of the approximate dense path's top 10 with exact search's, forced on
at every size; ``approx_used`` says whether search used it at that size.
``lexical_index_build_s`` is the first search's cost of building the in-memory
BM25 index (``lexical_index_used``: the scope reached
``RecallConfig.lexical_index_threshold``); ``first_search_s`` is the rest of
that first search (vectors and codes loaded).
Last, every vector is moved to the binary tier and the vector tables are
measured again (``binary_tier_vector_bytes_per_memory``, SQLite's dbstat).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from hippodex.config import RecallConfig
from hippodex.encode.base import Encoder
from hippodex.encode.cache import CachedEncoder, EmbeddingCache, default_cache_path
from hippodex.model import Scope
from hippodex.recall.channels.dense import DenseChannel
from hippodex.recall.channels.lexical import indexed
from hippodex.recall.text import content_words, index_key
from hippodex.store.base import NewEpisode

SESSION_TURNS = 20
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sample:
    """The real material: turns, their key vectors, word frequencies, questions."""

    speakers: tuple[str, ...]
    texts: tuple[tuple[str, ...], ...]  # words of each turn
    vectors: np.ndarray  # float32 (n, dim), L2-normalised
    vocab: tuple[str, ...]
    freq: np.ndarray  # float64 probabilities over vocab
    questions: tuple[str, ...]


def load_sample(data: Path, encoder: Encoder, cache: EmbeddingCache | None, questions: int = 100) -> Sample:
    """The LoCoMo turns of ``data`` with their key vectors, and up to ``questions`` questions."""
    from hippodex.bench.datasets import load_locomo

    keys: list[str] = []
    speakers: list[str] = []
    texts: list[tuple[str, ...]] = []
    asked: list[str] = []
    for case in load_locomo(data):
        for session in case.sessions:
            for t in session.turns:
                if not t.content.strip():
                    continue
                keys.append(index_key(t.content, occurred_at=t.occurred_at, speaker=t.speaker, role=t.role))
                speakers.append(t.speaker)
                texts.append(tuple(t.content.split()))
        asked += [q.question for q in case.questions if q.question.strip()]
    doc_encoder = CachedEncoder(encoder, cache) if cache is not None else encoder
    vectors = np.asarray(doc_encoder.encode(keys), dtype=np.float32)
    counts: dict[str, int] = {}
    for turn_words in texts:
        for w in turn_words:
            counts[w] = counts.get(w, 0) + 1
    vocab = tuple(counts)
    freq = np.array([counts[w] for w in vocab], dtype=np.float64)
    step = max(1, len(asked) // questions)
    return Sample(tuple(speakers), tuple(texts), vectors, vocab, freq / freq.sum(), tuple(asked[::step][:questions]))


def synthesize(
    sample: Sample, n: int, seed: int = 0, batch: int = 10_000
) -> Iterator[tuple[list[str], list[str], np.ndarray]]:
    """Batches of ``(speakers, texts, vectors)`` for ``n`` synthetic memories (see the module doc)."""
    rng = np.random.default_rng(seed)
    m = len(sample.texts)
    for start in range(0, n, batch):
        size = min(batch, n - start)
        a, b, c, d = (rng.integers(0, m, size) for _ in range(4))
        w = rng.uniform(0.5, 1.0, size).astype(np.float32)[:, None]
        v = sample.vectors
        vec = w * v[a] + (1 - w) * v[b] + 0.3 * (v[c] - v[d])
        vec /= np.linalg.norm(vec, axis=1, keepdims=True)
        draws = iter(rng.choice(len(sample.vocab), size=size * 8, p=sample.freq))
        coins = rng.random((size, 64))
        texts = []
        for i in range(size):
            own, other = sample.texts[a[i]], sample.texts[b[i]]
            out = []
            for j, word in enumerate(own[:64]):
                r = coins[i, j]
                if r < 0.15 and other:
                    word = other[j % len(other)]
                elif r < 0.30:
                    word = sample.vocab[next(draws, 0)]
                out.append(word)
            texts.append(" ".join(out) or "ok")
        yield [sample.speakers[i] for i in a], texts, vec.astype(np.float32)


class _Precomputed:
    """The real encoder, answering the benchmark's questions from vectors made before timing."""

    def __init__(self, encoder: Encoder, texts: Sequence[str]) -> None:
        self.name, self.dim = encoder.name, encoder.dim
        self._inner = encoder
        self._known = dict(zip(texts, encoder.encode(list(texts)), strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if all(t in self._known for t in texts):
            return np.stack([self._known[t] for t in texts])
        return np.asarray(self._inner.encode(texts))


def _single_embeds(encoder: Encoder, texts: Sequence[str]) -> list[float]:
    """Milliseconds to embed each text on its own, as a search embeds its query."""
    times = []
    for text in texts:
        t0 = time.perf_counter()
        encoder.encode([text])
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q * 100)) if values else 0.0


def _ingest(memory: Any, sample: Sample, n: int, user: str, words: dict[str, np.ndarray]) -> tuple[float, float]:
    """Store ``n`` synthetic memories; returns (seconds inside ``add``, seconds generating).

    ``words`` holds the vectors of the material's content words, embedded before the
    clock starts: each episode carries those of its words no earlier one had, as
    ``Memory.add`` would give them (recall/word_match.py).
    """
    store, name = memory.store, memory.encoder.name
    store.set_meta("encoder", name)
    scope = Scope(user)
    unseen = dict(words) if memory.config.word_vectors else {}
    add_s, gen_start, session = 0.0, time.perf_counter(), 0
    for speakers, texts, vectors in synthesize(sample, n):
        for lo in range(0, len(texts), SESSION_TURNS):
            at = _EPOCH + timedelta(hours=3 * session)
            items = [
                NewEpisode(
                    role="user",
                    content=texts[i],
                    occurred_at=at,
                    speaker=speakers[i],
                    key=index_key(texts[i], occurred_at=at, speaker=speakers[i], role="user"),
                    word_vectors={w: unseen.pop(w) for w in content_words(texts[i]) if w in unseen} or None,
                )
                for i in range(lo, min(lo + SESSION_TURNS, len(texts)))
            ]
            t0 = time.perf_counter()
            store.add(scope, f"s{session}", items, vectors[lo : lo + len(items)], name)
            add_s += time.perf_counter() - t0
            session += 1
    return add_s, time.perf_counter() - gen_start - add_s


def vector_bytes(db_path: Path) -> dict[str, int]:
    """Bytes on disk of the vector tables and their indexes (SQLite's dbstat)."""
    import sqlite3

    db = sqlite3.connect(db_path)
    try:
        rows = db.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name IN "
            "('vectors', 'vectors_user', 'vectors_key', 'vector_codes') GROUP BY name"
        ).fetchall()
    finally:
        db.close()
    return {name: int(size) for name, size in rows}


def run_size(
    n: int, data: Path, folder: str, queries: int, settings: dict[str, Any], pg_url: str | None = None
) -> dict[str, Any]:
    """One size in this process: ingest, search in three modes, approximate recall, size, RSS.

    ``settings`` are the RecallConfig fields (plain values, so they cross to the child process).
    With ``pg_url`` the memories go to that (empty) PostgreSQL database instead of a SQLite file.
    """
    config = RecallConfig(**settings)
    from hippodex.encode.registry import create_encoder
    from hippodex.memory import Memory
    from hippodex.store.sqlite import SQLiteStore

    encoder = create_encoder("minilm")
    cache = EmbeddingCache(default_cache_path())
    sample = load_sample(data, encoder, cache, queries)
    vocab = sorted({w for text in sample.texts for w in content_words(" ".join(text))})
    words = dict(zip(vocab, CachedEncoder(encoder, cache).encode(vocab), strict=True))
    asked = sorted({w for q in sample.questions for w in content_words(q)})
    qenc = _Precomputed(encoder, [*sample.questions, *asked])
    embed_ms = _pct(_single_embeds(encoder, sample.questions), 0.5)
    path: Path | str = pg_url or Path(folder) / f"scale-{n}.db"
    user = "u"
    with Memory(path, encoder=qenc, config=config) as memory:
        add_s, gen_s = _ingest(memory, sample, n, user, words)
    out: dict[str, Any] = {
        "n": n,
        "ingest_per_s": round(n / add_s, 1),
        "generate_s": round(gen_s, 1),
        "query_embed_ms": round(embed_ms, 2),
        "approx_used": bool(config.approx_threshold and n >= config.approx_threshold),
    }
    with Memory(path, encoder=qenc, config=config) as memory:
        memory.store.layout(user)
        t0 = time.perf_counter()
        index = indexed(memory.store, user, config)  # the in-memory BM25 index, built on first use
        out["lexical_index_used"] = index is not None
        out["lexical_index_build_s"] = round(time.perf_counter() - t0, 2)
        out["lexical_index_mb"] = round(index.nbytes / 2**20, 1) if index is not None else 0.0
        t0 = time.perf_counter()
        memory.search(sample.questions[0], user_id=user)  # loads vectors and codes once
        out["first_search_s"] = round(time.perf_counter() - t0, 2)
        for mode, channels in (("dense", ["dense"]), ("lexical", ["lexical"]), ("fused", None)):
            times: list[float] = []
            stages: dict[str, list[float]] = {}
            for q in sample.questions:
                t0 = time.perf_counter()
                memory.search(q, user_id=user, channels=channels)
                times.append((time.perf_counter() - t0) * 1000)
                for stage, ms in memory.last_timings.stages.items():
                    stages.setdefault(stage, []).append(ms)
            suffix = "" if mode == "fused" else f"_{mode}"
            out[f"search_p50_ms{suffix}"] = round(_pct(times, 0.5), 2)
            out[f"search_p95_ms{suffix}"] = round(_pct(times, 0.95), 2)
            if mode == "fused":
                out["stages_p50_ms"] = {s: round(_pct(v, 0.5), 2) for s, v in stages.items()}
                out["stages_p95_ms"] = {s: round(_pct(v, 0.95), 2) for s, v in stages.items()}
        out["approx_recall@10"] = round(approx_recall(memory, user, qenc, sample.questions, config), 4)
        store = memory.store
        if isinstance(store, SQLiteStore):
            store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out["db_bytes"] = memory.stats().db_bytes
    out["bytes_per_memory"] = round(out["db_bytes"] / n, 1)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if pg_url is not None:
        out["vector_bytes_per_memory"] = round(postgres_vector_bytes(pg_url) / n, 1)
        return out  # tiers are a SQLite feature
    assert isinstance(path, Path)
    vb = vector_bytes(path)
    out["vector_bytes_per_memory"] = round(sum(vb.values()) / n, 1)
    # Then every vector moved to the binary tier, to measure what it costs on disk at this size.
    with Memory(path, encoder=qenc, config=config) as memory:
        t0 = time.perf_counter()
        memory.move_tier("binary", user_id=user)
        out["binary_tier_move_s"] = round(time.perf_counter() - t0, 1)
    out["binary_tier_vector_bytes_per_memory"] = round(sum(vector_bytes(path).values()) / n, 1)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return out


def postgres_vector_bytes(url: str) -> int:
    """Bytes of the vectors table with its TOAST and indexes (pg_total_relation_size)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_total_relation_size('vectors')").fetchone()
    return int(row[0]) if row else 0


def approx_recall(memory: Any, user: str, encoder: Encoder, questions: Sequence[str], config: RecallConfig) -> float:
    """Mean overlap of the approximate path's top 10 with exact search's (approximate forced on)."""
    forced = DenseChannel(memory.store, encoder.name, replace(config, approx_threshold=1))
    vs = memory.store.vectors(user, encoder.name)
    overlaps = []
    for q in questions:
        vector = encoder.encode([q])[0]
        exact, _ = forced.nearest(vs, vector, 10, None, exact=True)
        approx, _ = forced.nearest(vs, vector, 10, None)
        overlaps.append(len(set(exact.tolist()) & set(approx.tolist())) / min(10, len(exact) or 1))
    return float(np.mean(overlaps)) if overlaps else 0.0


def _postgres_server(folder: Path) -> Any:
    """A PostgreSQL 16 + pgvector server of our own (the pgserver wheel), stopped by ``cleanup()``."""
    try:
        import pgserver
        import psycopg
    except ImportError as exc:
        from hippodex._exceptions import ConfigError

        raise ConfigError(f"backend postgres needs pip install '.[test]' (pgserver, psycopg): {exc}") from None
    folder.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(folder), cleanup_mode="stop")  # type: ignore[attr-defined]
    with psycopg.connect(server.get_uri("template1"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return server


def _new_database(server: Any, name: str) -> str:
    import psycopg

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return str(server.get_uri(name))


def run_scale(
    sizes: Sequence[int],
    data: Path,
    *,
    backend: str = "sqlite",
    queries: int = 100,
    config: RecallConfig | None = None,
    folder: str | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Every size in its own fresh process, smallest first; the JSON the CLI writes.

    ``backend="postgres"`` starts a private PostgreSQL server (the ``pgserver``
    wheel, from ``pip install '.[test]'``) in the temporary folder and gives
    each size a fresh database.
    """
    if backend not in ("sqlite", "postgres"):
        from hippodex._exceptions import ConfigError

        raise ConfigError(f"backend: {backend!r} is not one of sqlite, postgres")
    config = config or RecallConfig()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hippodex-scale-", dir=folder) as tmp:
        server = _postgres_server(Path(tmp) / "pg") if backend == "postgres" else None
        try:
            for n in sorted(sizes):
                url = _new_database(server, f"scale_{n}") if server is not None else None
                ctx = multiprocessing.get_context("spawn")
                with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                    settings = {f.name: getattr(config, f.name) for f in fields(config)}
                    settings["weights"] = dict(config.weights)
                    results[str(n)] = pool.submit(run_size, n, data, tmp, queries, settings, url).result()
                if progress is not None:
                    progress(n, results[str(n)])
        finally:
            if server is not None:
                server.cleanup()
    return {
        "benchmark": "scale",
        "backend": backend,
        "data": str(data),
        "queries": queries,
        "config": {
            "approx_threshold": config.approx_threshold,
            "approx_candidates": config.approx_candidates,
            "lexical_index_threshold": config.lexical_index_threshold,
        },
        "sizes": results,
    }
