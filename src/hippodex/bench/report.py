"""Markdown tables from ``hippodex bench`` JSON results, for the README.

The README's results section is written by this module between two marker
comments, so every figure there comes from a results file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from hippodex.bench.datasets import CATEGORY_NAMES
from hippodex.bench.runner import LOCOMO_KS

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    align = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join([_row(header), _row(align), *(_row(r) for r in rows)])


def _channels(result: dict[str, Any]) -> str:
    settings = result.get("settings", {})
    label = " + ".join(settings.get("channels", ["?"]))
    if settings.get("cross_encoder"):
        label += f", then cross-encoder {settings['cross_encoder']}"
    return f"{label} (cold embedding cache)" if settings.get("cold_cache") else label


def stage_line(result: dict[str, Any]) -> str:
    """Per-stage search latency of one run, p50/p95 in ms."""
    t = result["timing"]
    parts = [f"{stage} {p50:.1f}/{t['stages_p95_ms'][stage]:.1f}" for stage, p50 in t["stages_p50_ms"].items()]
    return f"Search time by stage ({_channels(result)}), p50/p95 ms: " + ", ".join(parts) + "."


def locomo_tables(results: list[dict[str, Any]]) -> str:
    """One row per run (headline, cats 1-4), then per-category recall@10 for the first run."""
    head = ["channels", *(f"R@{k}" for k in LOCOMO_KS), "ingest turns/s", "search p50 ms", "search p95 ms"]
    rows = []
    for r in results:
        h, t = r["headline"]["cats_1_4"], r["timing"]
        rows.append(
            [
                _channels(r),
                *(f"{h[f'recall@{k}']:.3f}" for k in LOCOMO_KS),
                f"{t['ingest_turns_per_s']:.0f}",
                f"{t['search_p50_ms']:.1f}",
                f"{t['search_p95_ms']:.1f}",
            ]
        )
    out = [
        f"LoCoMo, turn-level evidence recall@k, categories 1-4 ({results[0]['headline']['count']} questions, "
        f"{results[0]['conversations']} conversations):",
        "",
        _table(head, rows),
        "",
    ]
    cats = [c for c in results[0]["by_category"] if c != "all"]
    head = ["channels", *(f"{c} {CATEGORY_NAMES.get(c, '')}" for c in cats)]
    rows = [[_channels(r), *(f"{r['by_category'][c]['recall@10']:.3f}" for c in cats)] for r in results]
    out += ["LoCoMo recall@10 per category:", "", _table(head, rows), "", stage_line(results[0]), ""]
    return "\n".join(out)


def beam_tables(results: list[dict[str, Any]]) -> str:
    """One row per run (all questions), then recall at each k per probing ability for the first run."""
    first = results[0]
    head = ["channels", *(f"R@{k}" for k in LOCOMO_KS), "search p50 ms", "search p95 ms"]
    rows = [
        [
            _channels(r),
            *(f"{r['headline']['all'][f'recall@{k}']:.3f}" for k in LOCOMO_KS),
            f"{r['timing']['search_p50_ms']:.1f}",
            f"{r['timing']['search_p95_ms']:.1f}",
        ]
        for r in results
    ]
    by = first["by_category"]
    abilities = [c for c in by if c != "all"]
    per = [[name, by[name]["count"], *(f"{by[name][f'recall@{k}']:.3f}" for k in LOCOMO_KS)] for name in abilities]
    return "\n".join(
        [
            f"BEAM (100K sample), turn-level evidence recall@k over user and assistant messages "
            f"({first['headline']['count']} questions, {first['conversations']} conversations, "
            f"{first['timing']['turns']} messages; abstention left out). Nothing was tuned on it:",
            "",
            _table(head, rows),
            "",
            f"BEAM recall per probing ability ({_channels(first)}):",
            "",
            _table(["ability", "n", *(f"R@{k}" for k in LOCOMO_KS)], per),
            "",
        ]
    )


def longmemeval_tables(results: list[dict[str, Any]]) -> str:
    """Session- and turn-level figures per run."""
    head = [
        "channels",
        "level",
        *(f"{m}@{k}" for m, k in [("recall_any", 5), ("recall_all", 5), ("ndcg_any", 10), ("recall_all", 50)]),
    ]
    rows = []
    for r in results:
        h = r["headline"]
        for level in ("session", "turn", "any_session"):
            rows.append(
                [
                    _channels(r),
                    level,
                    *(
                        f"{h[f'{level}_{m}@{k}']:.3f}"
                        for m, k in [("recall_any", 5), ("recall_all", 5), ("ndcg_any", 10), ("recall_all", 50)]
                    ),
                ]
            )
    t = results[0]["timing"]
    out = [
        f"LongMemEval-S, official rules ({results[0]['questions']} questions; `_abs` left out; user turns are the "
        "keys; session metrics from the turn ranking). `any_session` is the simpler variant many memory systems "
        "report: sessions ranked by their best turn, gold = `answer_session_ids`, so questions whose evidence is "
        "only in assistant turns count too (the official rule scores them recall_any 0):",
        "",
        _table(head, rows),
        "",
        f"Speed of the first run ({_channels(results[0])}): {t['turns']} turns ingested at "
        f"{t['ingest_turns_per_s']:.0f} turns/s "
        f"({'embedding each turn' if results[0].get('settings', {}).get('cold_cache') else 'embeddings from the cache'}"
        f"), search p50 {t['search_p50_ms']:.1f} ms, p95 {t['search_p95_ms']:.1f} ms (query embedding included).",
        "",
        stage_line(results[0]),
        "",
    ]
    by = results[0]["by_category"]
    head = ["question type", "n", "session recall_any@5", "session recall_all@5", "session ndcg_any@10"]
    rows = [
        [
            c,
            v["count"],
            *(f"{v[m]:.3f}" for m in ("session_recall_any@5", "session_recall_all@5", "session_ndcg_any@10")),
        ]
        for c, v in by.items()
        if c != "all"
    ]
    out += [f"By question type ({_channels(results[0])}):", "", _table(head, rows), ""]
    return "\n".join(out)


Headline = Callable[[dict[str, Any]], dict[str, float]]

ABLATION_METRICS: dict[str, tuple[tuple[str, ...], Headline]] = {
    "locomo-ablation": (("recall@5", "recall@10", "recall@25"), lambda r: r["headline"]["cats_1_4"]),
    "longmemeval-ablation": (
        ("session_recall_any@5", "session_recall_all@5", "session_ndcg_any@10", "any_session_recall_all@5"),
        lambda r: r["headline"],
    ),
}


def ablation_table(result: dict[str, Any]) -> str:
    """All-minus-one: the full setting's figures, then each variant's change."""
    metrics, headline = ABLATION_METRICS[result["benchmark"]]
    base = headline(result["variants"]["all"])
    rows = []
    for name, r in result["variants"].items():
        values = headline(r)
        rows.append([name, *(f"{values[m]:.3f}" if name == "all" else f"{values[m] - base[m]:+.3f}" for m in metrics)])
    title = result["benchmark"].removesuffix("-ablation")
    return "\n".join(
        [
            f"Ablation on {title} (all, then the change when one part is switched off):",
            "",
            _table(["variant", *metrics], rows),
            "",
        ]
    )


def load_table(result: dict[str, Any]) -> str:
    """Requests/s and latency percentiles of a ``hippodex bench load`` run."""
    rows = [
        [
            op,
            result[op]["requests"],
            f"{result[op]['per_s']:.1f}",
            f"{result[op]['p50_ms']:.1f}",
            f"{result[op]['p95_ms']:.1f}",
            f"{result[op]['p99_ms']:.1f}",
        ]
        for op in ("search", "add")
    ]
    head = ["operation", "requests", "per s", "p50 ms", "p95 ms", "p99 ms"]
    return "\n".join(
        [
            f"`hippodex serve` under load ({result['clients']} concurrent clients for {result['seconds']} s "
            "on loopback, "
            f"{result['backend']} file, {result['encoder']} encoder, {result['preload']} memories preloaded; "
            f"80% search, 20% add; {result['errors']} errors):",
            "",
            _table(head, rows),
            "",
        ]
    )


def fit_table(result: dict[str, Any]) -> str:
    """Hand-set vs learned fusion, out of fold and in sample (``hippodex bench fit``)."""
    rows = [
        [
            bench,
            metric,
            f"{v['hand']:.3f}",
            f"{v['cv']:.3f}",
            f"{v['cv'] - v['hand']:+.3f}",
            f"{v['in_sample']:.3f}",
            f"{v['cv_no_late']:.3f}" if "cv_no_late" in v else "",
        ]
        for bench, metrics in result["compare"].items()
        for metric, v in metrics.items()
    ]
    meta = result["meta"]
    kept = ", ".join(f"{name}: {'learned' if on else 'hand-set'}" for name, on in result["kept"].items())
    return "\n".join(
        [
            f"Learned fusion ({meta['folds']}-fold cross-validation over the dev halves: LoCoMo by conversation, "
            f"LongMemEval by question; L2 {meta['l2']}; {meta['rerank_depth']} candidates re-ranked; kept: {kept}):",
            "",
            _table(
                [
                    "benchmark",
                    "metric",
                    "hand-set",
                    "learned, out of fold",
                    "change",
                    "learned, in sample",
                    "without late interaction, out of fold",
                ],
                rows,
            ),
            "",
        ]
    )


def render(paths: Iterable[Path]) -> str:
    """Markdown for all result files, grouped by benchmark, in the order given."""
    results = [json.loads(Path(p).read_text()) for p in paths]
    parts = []
    for bench, fn in (("locomo", locomo_tables), ("longmemeval", longmemeval_tables), ("beam", beam_tables)):
        group = [r for r in results if r.get("benchmark") == bench]
        if group:
            parts.append(fn(group))
        parts.extend(ablation_table(r) for r in results if r.get("benchmark") == f"{bench}-ablation")
    parts.extend(fit_table(r) for r in results if r.get("benchmark") == "fit")
    parts.extend(load_table(r) for r in results if r.get("benchmark") == "load")
    parts.extend(scale_table(r) for r in results if r.get("benchmark") == "scale")
    return "\n".join(parts)


def write_readme(readme: Path, markdown: str) -> None:
    """Replace what stands between the bench markers of a README."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{markdown}\n{END}{after}")


def scale_table(result: dict[str, Any]) -> str:
    """One row per size of a ``hippodex bench scale`` run."""
    head = [
        "memories",
        "ingest/s",
        "dense p50/p95 ms",
        "lexical p50/p95 ms",
        "fused p50/p95 ms",
        "BM25 index build s",
        "approx recall@10",
        "bytes/memory",
        "vector bytes/memory (float32 / binary)",
        "db MB",
        "peak RSS MB",
    ]
    rows = []
    for n, r in sorted(result["sizes"].items(), key=lambda kv: int(kv[0])):
        rows.append(
            [
                f"{int(n):,}",
                f"{r['ingest_per_s']:.0f}",
                f"{r['search_p50_ms_dense']:.1f} / {r['search_p95_ms_dense']:.1f}",
                f"{r['search_p50_ms_lexical']:.1f} / {r['search_p95_ms_lexical']:.1f}",
                f"{r['search_p50_ms']:.1f} / {r['search_p95_ms']:.1f}",
                f"{r['lexical_index_build_s']:.1f}" if r.get("lexical_index_used") else "(FTS5 used)",
                f"{r['approx_recall@10']:.3f}" + ("" if r["approx_used"] else " (exact used)"),
                f"{r['bytes_per_memory']:.0f}",
                f"{r['vector_bytes_per_memory']:.0f} / {r.get('binary_tier_vector_bytes_per_memory', 0):.0f}",
                f"{r['db_bytes'] / 1e6:.0f}",
                f"{r['peak_rss_mb']:.0f}",
            ]
        )
    cfg = result.get("config", {})
    return "\n".join(
        [
            f"Scale ({result['backend']}, one scope, synthetic memories from LoCoMo material, "
            f"{result['queries']} questions per mode, query embedding excluded; approximate dense search "
            f"from {cfg.get('approx_threshold', '?'):,} vectors, {cfg.get('approx_candidates', '?'):,} candidates "
            "rescored):",
            "",
            _table(head, rows),
            "",
        ]
    )
