"""``hippodex bench``: run the retrieval benchmarks, print tables, write JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hippodex._exceptions import ConfigError
from hippodex.bench.datasets import CATEGORY_NAMES
from hippodex.bench.runner import (
    LME_KS,
    LOCOMO_KS,
    BenchSettings,
    ablation_variants,
    run_beam,
    run_locomo,
    run_longmemeval,
)
from hippodex.config import CHANNELS, FUSIONS, RecallConfig
from hippodex.recall.cross_encoder import resolve as resolve_cross_encoder

bench_app = typer.Typer(
    help="Measure recall on LoCoMo, LongMemEval and BEAM (no LLM involved), and speed at scale.", no_args_is_help=True
)
console = Console()

DataOpt = Annotated[
    Path,
    typer.Option(
        "--data", help="The benchmark file (e.g. ../shared/data/locomo/locomo_dev.json).", exists=True, dir_okay=False
    ),
]
ChannelsOpt = Annotated[
    str, typer.Option("--channels", help="'all' (the default set), or a comma list of: " + ", ".join(CHANNELS))
]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the full results as JSON to this file.")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N cases (quick iterations).")]
EncoderOpt = Annotated[str, typer.Option("--encoder", help="Encoder for the dense channel.")]
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", help="Embedding cache file (default ~/.cache/hippodex); a new file measures a cold run."),
]
FusionOpt = Annotated[str, typer.Option("--fusion", help="Fusion method: " + ", ".join(FUSIONS))]
TierOpt = Annotated[
    str, typer.Option("--tier", help="Move every vector to this tier before asking: float32, int8 or binary.")
]
CrossOpt = Annotated[
    str | None,
    typer.Option(
        "--cross-encoder",
        help="Re-read the best candidates with a cross-encoder: 'ms-marco' "
        "or a folder with model.onnx and tokenizer.json.",
    ),
]
AblationOpt = Annotated[
    bool, typer.Option("--ablation", help="Also run all-minus-one for every channel and stage, and print the deltas.")
]


def _ablation(benchmark: str, run: Any, settings: BenchSettings, out: Path | None) -> None:
    """Run the full setting and every all-minus-one variant; print the changes; write all."""
    from hippodex.bench.report import ablation_table

    results: dict[str, Any] = {}
    for name, variant in ablation_variants(settings):
        with _progress(None, f"ablation: {name}") as bar:
            task = bar.add_task("run", total=None)
            results[name] = run(variant, lambda n, task=task, bar=bar: bar.advance(task, n))
    summary = {"benchmark": f"{benchmark}-ablation", "variants": results}
    typer.echo(ablation_table(summary))
    _write(summary, out)


def _settings(
    channels: str, encoder: str, cache: Path | None, fusion: str, cross_encoder: str | None = None
) -> BenchSettings:
    names = RecallConfig().channels if channels == "all" else tuple(c.strip() for c in channels.split(",") if c.strip())
    unknown = [c for c in names if c not in CHANNELS]
    if unknown:
        raise typer.BadParameter(f"unknown channel(s) {', '.join(unknown)}; choose from {', '.join(CHANNELS)}")
    try:
        config = RecallConfig(channels=names, fusion=fusion, cross_encoder=cross_encoder)
        if cross_encoder:
            resolve_cross_encoder(cross_encoder)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return BenchSettings(channels=names, encoder=encoder, cache=cache, config=config)


def _settings_record(settings: BenchSettings, encoder: str, cold: bool) -> dict[str, Any]:
    """What a result's JSON says about the run that made it."""
    return {
        "channels": list(settings.channels),
        "encoder": encoder,
        "fusion": settings.config.fusion,
        "cold_cache": cold,
        "cross_encoder": settings.config.cross_encoder,
    }


def _progress(total: int | None, label: str) -> Progress:
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
    )


def _timing_table(timing: dict[str, Any]) -> Table:
    t = Table(title="speed", show_header=True)
    for col in ("turns", "ingest turns/s", "queries", "search p50 ms", "search p95 ms"):
        t.add_column(col, justify="right")
    t.add_row(
        str(timing["turns"]),
        f"{timing['ingest_turns_per_s']:.0f}",
        str(timing["queries"]),
        f"{timing['search_p50_ms']:.1f}",
        f"{timing['search_p95_ms']:.1f}",
    )
    return t


def _write(result: dict[str, Any], out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        console.print(f"wrote {out}")


@bench_app.command("locomo")
def locomo(
    data: DataOpt,
    channels: ChannelsOpt = "all",
    json_out: JsonOpt = None,
    limit: LimitOpt = None,
    encoder: EncoderOpt = "minilm",
    cache: CacheOpt = None,
    fusion: FusionOpt = "score",
    ablation: AblationOpt = False,
    tier: TierOpt = "float32",
    cross_encoder: CrossOpt = None,
) -> None:
    """LoCoMo turn-level evidence recall@k (k = 5, 10, 25, 50), per category."""
    from hippodex.encode.quantize import TIERS

    if tier not in TIERS:
        raise typer.BadParameter(f"--tier: {tier!r} is not one of {', '.join(TIERS)}")
    settings = replace(_settings(channels, encoder, cache, fusion, cross_encoder), tier=tier)
    cold = cache is not None and not cache.exists()
    if ablation:
        return _ablation("locomo", lambda v, p: run_locomo(data, v, limit=limit, progress=p), settings, json_out)
    with _progress(None, "locomo conversations") as bar:
        task = bar.add_task("run", total=limit or 5)
        result = run_locomo(data, settings, limit=limit, progress=lambda n: bar.advance(task, n))
    result["settings"] = {**_settings_record(settings, encoder, cold), "tier": tier}
    rows = [("cats 1-4", {"count": result["headline"]["count"], **result["headline"]["cats_1_4"]})]
    rows += [(f"{c} {CATEGORY_NAMES.get(c, '')}".strip(), v) for c, v in result["by_category"].items() if c != "all"]
    console.print(
        _evidence_table(
            f"LoCoMo evidence recall · channels: {', '.join(settings.channels)} · tier {tier} "
            f"({result['vector_bytes_per_memory']:.0f} vector bytes/memory)",
            "category",
            rows,
        )
    )
    console.print(_timing_table(result["timing"]))
    _write(result, json_out)


def _evidence_table(title: str, first: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """Turn-level evidence recall at each k, one row per group."""
    table = Table(title=title)
    table.add_column(first)
    table.add_column("n", justify="right")
    for k in LOCOMO_KS:
        table.add_column(f"R@{k}", justify="right")
    for name, v in rows:
        table.add_row(name, str(v["count"]), *(f"{v[f'recall@{k}']:.3f}" for k in LOCOMO_KS))
    return table


@bench_app.command("beam")
def beam(
    data: DataOpt,
    channels: ChannelsOpt = "all",
    json_out: JsonOpt = None,
    limit: LimitOpt = None,
    encoder: EncoderOpt = "minilm",
    cache: CacheOpt = None,
    fusion: FusionOpt = "score",
    cross_encoder: CrossOpt = None,
) -> None:
    """BEAM turn-level evidence recall@k per probing ability: a benchmark nothing was tuned on."""
    settings = _settings(channels, encoder, cache, fusion, cross_encoder)
    cold = cache is not None and not cache.exists()
    with _progress(None, "beam conversations") as bar:
        task = bar.add_task("run", total=limit)
        result = run_beam(data, settings, limit=limit, progress=lambda n: bar.advance(task, n))
    result["settings"] = _settings_record(settings, encoder, cold)
    rows = [("all", result["by_category"]["all"])]
    rows += [(c, v) for c, v in result["by_category"].items() if c != "all"]
    title = (
        f"BEAM evidence recall ({result['questions']} questions, {result['skipped_no_evidence']} abstention left out)"
        f" · channels: {', '.join(settings.channels)}"
    )
    console.print(_evidence_table(title, "ability", rows))
    console.print(_timing_table(result["timing"]))
    _write(result, json_out)


@bench_app.command("longmemeval")
def longmemeval(
    data: DataOpt,
    channels: ChannelsOpt = "all",
    json_out: JsonOpt = None,
    limit: LimitOpt = None,
    encoder: EncoderOpt = "minilm",
    cache: CacheOpt = None,
    fusion: FusionOpt = "score",
    ablation: AblationOpt = False,
    cross_encoder: CrossOpt = None,
) -> None:
    """LongMemEval session- and turn-level recall_any/recall_all/ndcg_any@k (official rules)."""
    settings = _settings(channels, encoder, cache, fusion, cross_encoder)
    cold = cache is not None and not cache.exists()
    if ablation:
        return _ablation(
            "longmemeval", lambda v, p: run_longmemeval(data, v, limit=limit, progress=p), settings, json_out
        )
    with _progress(limit, "longmemeval questions") as bar:
        task = bar.add_task("run", total=limit)
        result = run_longmemeval(data, settings, limit=limit, progress=lambda n: bar.advance(task, n))
    result["settings"] = _settings_record(settings, encoder, cold)
    h = result["headline"]
    table = Table(
        title=f"LongMemEval ({result['questions']} questions, _abs excluded) · channels: {', '.join(settings.channels)}"
    )
    table.add_column("level")
    table.add_column("metric")
    for k in LME_KS:
        table.add_column(f"@{k}", justify="right")
    for level in ("session", "turn", "any_session"):
        for metric in ("recall_any", "recall_all", "ndcg_any"):
            table.add_row(level, metric, *(f"{h[f'{level}_{metric}@{k}']:.3f}" for k in LME_KS))
    console.print(table)
    console.print("any_session: sessions ranked by their best turn, gold = answer_session_ids (not the official rule)")
    by_type = Table(title="by question type (session level)")
    for col in ("type", "n", "recall_any@5", "recall_all@5", "ndcg_any@10", "turn recall_all@50"):
        by_type.add_column(col, justify="right" if col != "type" else "left")
    for c, v in result["by_category"].items():
        by_type.add_row(
            c,
            str(v["count"]),
            f"{v['session_recall_any@5']:.3f}",
            f"{v['session_recall_all@5']:.3f}",
            f"{v['session_ndcg_any@10']:.3f}",
            f"{v['turn_recall_all@50']:.3f}",
        )
    console.print(by_type)
    console.print(_timing_table(result["timing"]))
    _write(result, json_out)


@bench_app.command("report")
def report(
    results: Annotated[list[Path], typer.Argument(help="Result files written by --json.", exists=True)],
    readme: Annotated[Path | None, typer.Option(help="Write the tables into this README between its markers.")] = None,
) -> None:
    """Markdown tables from result files; with --readme, write them into the README."""
    from hippodex.bench.report import render, write_readme

    markdown = render(results)
    if readme is None:
        typer.echo(markdown)
    else:
        write_readme(readme, markdown)
        console.print(f"wrote the results section of {readme}")


@bench_app.command("plot")
def plot(
    results: Annotated[list[Path], typer.Argument(help="Result files written by --json.", exists=True)],
    out: Annotated[Path, typer.Option("--out", help="The PNG to write.")] = Path("benchmarks/recall.png"),
) -> None:
    """Recall@k curves per run as a PNG (needs matplotlib: pip install 'hippodex\\[plot]')."""
    from hippodex.bench.plot import plot_recall

    console.print(f"wrote {plot_recall(results, out)}")


@bench_app.command("load")
def load(
    clients: Annotated[int, typer.Option(min=1, max=500, help="Concurrent clients.")] = 50,
    seconds: Annotated[float, typer.Option(min=1, max=600, help="How long the load runs.")] = 30.0,
    preload: Annotated[int, typer.Option(min=0, help="Memories stored before the clients start.")] = 2000,
    encoder: EncoderOpt = "minilm",
    json_out: JsonOpt = None,
) -> None:
    """Load-test `hippodex serve` on loopback: requests/s and p50/p95/p99 for search and add."""
    from hippodex.bench.load import run_load

    with console.status(f"{clients} clients for {seconds:.0f} s against a fresh server…"):
        result = run_load(clients=clients, seconds=seconds, preload=preload, encoder=encoder)
    table = Table(title=f"hippodex serve under load · {clients} clients · {result['seconds']} s · SQLite")
    for col in ("operation", "requests", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, justify="right" if col != "operation" else "left")
    for op in ("search", "add"):
        r = result[op]
        table.add_row(
            op,
            str(r["requests"]),
            f"{r['per_s']:.1f}",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            f"{r['p99_ms']:.1f}",
        )
    console.print(table)
    console.print(f"errors: {result['errors']} {result['error_kinds'] or ''}")
    _write(result, json_out)


@bench_app.command("consolidate")
def consolidate(
    data: DataOpt = Path("../shared/data/locomo/locomo_dev.json"),
    json_out: JsonOpt = None,
) -> None:
    """Time the sleep pass (learn facts and entities, merge, summarise) over a benchmark file."""
    from hippodex.bench.sleep import run_consolidate

    result = run_consolidate(data)
    table = Table(title=f"consolidate() on {data.name} ({result['users']} users, {result['episodes']} episodes)")
    for col in ("pass", "seconds", "episodes learned", "facts added", "superseded", "merged", "summaries"):
        table.add_column(col, justify="right")
    for name in ("first_pass", "second_pass"):
        p = result[name]
        table.add_row(
            name.replace("_", " "),
            f"{p['seconds']:.2f}",
            *(str(p[k]) for k in ("episodes_learned", "facts_added", "facts_superseded", "facts_merged", "summaries")),
        )
    console.print(table)
    console.print(
        f"{result['facts']} facts ({result['current_facts']} current), {result['entities']} entities; "
        f"{result['episodes_per_second']} episodes/s learned"
    )
    _write(result, json_out)


@bench_app.command("facts")
def facts(
    labels: Annotated[
        Path, typer.Option("--labels", help="Hand-labelled turns (JSONL).", exists=True, dir_okay=False)
    ] = Path("tests/data/facts_labelled.jsonl"),
    json_out: JsonOpt = Path("benchmarks/results/facts_rules.json"),
    locomo: Annotated[
        Path | None,
        typer.Option("--locomo", help="Also run over every turn of this LoCoMo file (volume and speed)."),
    ] = None,
) -> None:
    """Precision/recall of the rule fact extractor on hand-labelled dev turns (tune, held-out, all)."""
    from hippodex.bench.facts import SPLITS, run_facts

    default_locomo = Path("../shared/data/locomo/locomo_dev.json")
    if locomo is None and default_locomo.exists():
        locomo = default_locomo
    result = run_facts(labels, locomo)
    table = Table(title="rule fact extraction vs hand labels")
    for col in ("split", "turns", "extracted", "correct", "labelled", "matched", "precision", "recall"):
        table.add_column(col, justify="right" if col != "split" else "left", no_wrap=True)
    for split in SPLITS:
        s = result["scores"][split]
        table.add_row(
            split,
            str(result["turns"][split]),
            *(str(s[k]) for k in ("extracted", "correct", "labelled", "matched")),
            f"{s['precision']:.3f}",
            f"{s['recall']:.3f}",
        )
    console.print(table)
    per = Table(title="per predicate (all turns)")
    for col in ("predicate", "extracted", "correct", "labelled", "matched"):
        per.add_column(col, justify="right" if col != "predicate" else "left")
    for pred, c in result["scores"]["all"]["by_predicate"].items():
        per.add_row(pred, *(str(c[k]) for k in ("extracted", "correct", "labelled", "matched")))
    console.print(per)
    if "locomo" in result:
        v = result["locomo"]
        console.print(
            f"LoCoMo: {v['turns']} turns, {v['facts']} facts ({v['facts_per_turn']:.2f}/turn, "
            f"{v['turns_with_facts']} turns with any), {v['turns_per_s']:.0f} turns/s"
        )
    _write(result, json_out)


@bench_app.command("scale")
def scale(
    n: Annotated[str, typer.Option("--n", help="Comma list of sizes (memories in one scope).")] = "10000,100000",
    data: Annotated[
        Path,
        typer.Option("--data", help="LoCoMo file the synthetic memories are built from.", exists=True, dir_okay=False),
    ] = Path("../shared/data/locomo/locomo_dev.json"),
    backend: Annotated[
        str, typer.Option("--backend", help="Store backend: sqlite, or postgres (a private pgserver).")
    ] = "sqlite",
    queries: Annotated[int, typer.Option("--queries", min=1, max=1000, help="Questions timed per mode.")] = 100,
    json_out: JsonOpt = None,
    plot_out: Annotated[Path | None, typer.Option("--plot", help="Write a PNG of latency vs size.")] = None,
    tmp: Annotated[Path | None, typer.Option("--tmp", help="Folder for the temporary databases.")] = None,
) -> None:
    """Ingest rate, search p50/p95 (dense, lexical, fused), approximate recall, size and RSS per size."""
    from hippodex.bench.report import scale_table
    from hippodex.bench.scale import run_scale

    try:
        sizes = sorted({int(x) for x in n.split(",") if x.strip()})
    except ValueError:
        raise typer.BadParameter("--n takes a comma list of integers, e.g. 10000,100000") from None
    if not sizes or min(sizes) < 100:
        raise typer.BadParameter("--n: sizes must be at least 100")

    def done(size: int, row: dict[str, Any]) -> None:
        console.print(f"n={size}: fused p95 {row['search_p95_ms']:.1f} ms, ingest {row['ingest_per_s']:.0f}/s")

    result = run_scale(sizes, data, backend=backend, queries=queries, folder=str(tmp) if tmp else None, progress=done)
    typer.echo(scale_table(result))
    _write(result, json_out)
    if plot_out is not None:
        from hippodex.bench.plot import plot_scale

        console.print(f"wrote {plot_scale(result, plot_out)}")


@bench_app.command("fit")
def fit(
    locomo: Annotated[Path, typer.Option("--locomo", help="LoCoMo dev file.", exists=True, dir_okay=False)] = Path(
        "../shared/data/locomo/locomo_dev.json"
    ),
    longmemeval_data: Annotated[
        Path, typer.Option("--longmemeval", help="LongMemEval-S dev file.", exists=True, dir_okay=False)
    ] = Path("../shared/data/longmemeval/longmemeval_s_dev.json.gz"),
    out: Annotated[Path, typer.Option("--out", help="Where to write the fitted ranker.")] = Path(
        "src/hippodex/data/ranker.json"
    ),
    folds: Annotated[int, typer.Option("--folds", min=2, max=20, help="Cross-validation folds.")] = 5,
    l2: Annotated[float, typer.Option("--l2", min=0.0, help="L2 penalty of the logistic model.")] = 1.0,
    limit: LimitOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Fit the learned fusion model on the dev halves; print hand-set vs cross-validated recall."""
    from hippodex.bench.fit import run_fit

    with _progress(None, "collecting candidates") as bar:
        task = bar.add_task("run", total=None)
        result, ranker = run_fit(
            locomo, longmemeval_data, folds=folds, l2=l2, limit=limit, progress=lambda n: bar.advance(task, n)
        )
    table = Table(title=f"learned fusion · {folds}-fold cross-validation on the dev halves")
    columns = ["benchmark", "metric", "hand-set", "learned (out of fold)", "learned (in sample)"]
    columns.append("no late (out of fold)")
    for col in columns:
        table.add_column(col, justify="left" if col in ("benchmark", "metric") else "right", no_wrap=True)
    for bench, metrics in result["compare"].items():
        for metric, v in metrics.items():
            cells = (v["hand"], v["cv"], v["in_sample"], v["cv_no_late"])
            table.add_row(bench, metric, *(f"{x:.3f}" for x in cells))
    console.print(table)
    for name, kept in result["kept"].items():
        console.print(f"{name}: {'learned model kept' if kept else 'hand-set order kept (the model did not beat it)'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(ranker.to_json(), indent=1) + "\n")
    console.print(f"wrote {out}")
    _write(result, json_out)
