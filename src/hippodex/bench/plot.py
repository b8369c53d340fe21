"""Recall@k curves from ``hippodex bench`` JSON results, as a PNG (``pip install '.[plot]'``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hippodex._exceptions import ConfigError
from hippodex.bench.runner import LME_KS, LOCOMO_KS


def _label(result: dict[str, Any]) -> str:
    return " + ".join(result.get("settings", {}).get("channels", ["?"]))


def plot_recall(paths: Iterable[Path], out: Path) -> Path:
    """One panel per benchmark: recall@k per run (LoCoMo and BEAM evidence recall, LongMemEval session recall_all)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plotting needs matplotlib: pip install 'hippodex[plot]'") from exc
    results = [json.loads(Path(p).read_text()) for p in paths]
    panels: list[tuple[str, str, tuple[int, ...], Callable[[dict[str, Any], int], float]]] = [
        (
            "locomo",
            "LoCoMo: evidence recall@k (cats 1-4)",
            LOCOMO_KS,
            lambda r, k: r["headline"]["cats_1_4"][f"recall@{k}"],
        ),
        (
            "longmemeval",
            "LongMemEval-S: session recall_all@k (official)",
            LME_KS,
            lambda r, k: r["headline"][f"session_recall_all@{k}"],
        ),
        (
            "beam",
            "BEAM sample: evidence recall@k (never tuned on)",
            LOCOMO_KS,
            lambda r, k: r["headline"]["all"][f"recall@{k}"],
        ),
    ]
    panels = [p for p in panels if any(r.get("benchmark") == p[0] for r in results)]
    if not panels:
        raise ConfigError("no locomo, longmemeval or beam results among the files given")
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), squeeze=False)
    for ax, (bench, title, ks, value) in zip(axes[0], panels, strict=True):
        for r in (r for r in results if r.get("benchmark") == bench):
            ax.plot(ks, [value(r, k) for k in ks], marker="o", label=_label(r))
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("hippodex recall, no LLM (dev halves, 2-core CPU)", fontsize=11)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plot_scale(result: dict[str, Any], out: Path) -> Path:
    """Search latency p50/p95 (dense, lexical, fused) against the number of memories, log-log."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plotting needs matplotlib: pip install 'hippodex[plot]'") from exc
    sizes = sorted(result["sizes"], key=int)
    xs = [int(n) for n in sizes]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for mode, suffix in (("fused", ""), ("dense", "_dense"), ("lexical", "_lexical")):
        for pct, style in (("p50", "-"), ("p95", "--")):
            ys = [result["sizes"][n][f"search_{pct}_ms{suffix}"] for n in sizes]
            ax.plot(xs, ys, style, marker="o", label=f"{mode} {pct}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memories in one scope")
    ax.set_ylabel("search latency, ms (query embedding excluded)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(f"hippodex search latency vs size ({result['backend']}, 2-core CPU)", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
