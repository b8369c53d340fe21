"""The default offline embedder: all-MiniLM-L6-v2 as an int8 ONNX model shipped in the package.

Needs only onnxruntime, tokenizers and numpy: no torch, no download. The model files
live in ``hippodex/encode/models/all-MiniLM-L6-v2/`` (see its NOTICE.md for provenance;
``scripts/export_minilm.py`` rebuilds them).

Example:

    >>> from hippodex.encode.onnx_minilm import MiniLMEncoder
    >>> enc = MiniLMEncoder(threads=1)
    >>> vecs = enc.encode(["I moved to Lisbon last year.", "Where do I live now?"])
    >>> vecs.shape, vecs.dtype.name
    ((2, 384), 'float32')
    >>> bool(vecs[0] @ vecs[1] > 0.3)
    True
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hippodex._exceptions import ConfigError, EncoderError, ValidationError
from hippodex.encode.base import normalise

MODEL_DIR_NAME = "all-MiniLM-L6-v2"


def default_model_dir() -> Path:
    """The model directory shipped inside the hippodex package."""
    return Path(str(importlib.resources.files("hippodex.encode") / "models" / MODEL_DIR_NAME))


def cpu_session_options(threads: int | None = None) -> Any:
    """onnxruntime options for the models hippodex runs on the CPU (the encoder, the cross-encoder).

    ``threads`` or ``HIPPODEX_ENCODER_THREADS`` caps the intra-op threads, e.g.
    under a server whose request threads would otherwise each start one per core.
    """
    import onnxruntime as ort  # type: ignore[import-untyped]

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    env_threads = os.environ.get("HIPPODEX_ENCODER_THREADS", "")
    options.intra_op_num_threads = threads or (int(env_threads) if env_threads.isdigit() else 0) or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    # Idle workers sleep rather than spin: on a 2-core machine a spinning
    # worker takes the core the search runs on next. Measured at 1M
    # memories, search with its query embedding: p50 / p95 58 / 87 ms
    # spinning, 41 / 49 ms not; batch embedding speed is the same.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class MiniLMEncoder:
    """Default offline embedder: all-MiniLM-L6-v2, int8 ONNX, runs on onnxruntime.

    Mean pooling over the attention mask, then L2 normalisation (as sentence-transformers
    does for this model); texts are cut at ``max_length`` tokens. ``name`` embeds the
    first 8 hex digits of the model file's sha256, so it changes whenever the model does.
    """

    name: str
    dim: int = 384

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        threads: int | None = None,
        max_length: int = 256,
        batch_size: int = 32,
    ) -> None:
        if not 2 <= max_length <= 512:
            raise ConfigError(f"max_length: must be between 2 and 512 tokens, got {max_length}")
        if batch_size < 1:
            raise ConfigError(f"batch_size: must be at least 1, got {batch_size}")
        if threads is not None and threads < 1:
            raise ConfigError(f"threads: must be at least 1, got {threads}")
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EncoderError(
                f"the MiniLM encoder needs onnxruntime and tokenizers ({exc}); "
                "install them with: pip install onnxruntime tokenizers"
            ) from exc
        directory = Path(model_dir) if model_dir is not None else default_model_dir()
        model_path, tokenizer_path = directory / "model.onnx", directory / "tokenizer.json"
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise EncoderError(f"MiniLM model file missing: {path}; reinstall hippodex or pass model_dir=")
        model_bytes = model_path.read_bytes()
        self.name = f"minilm-l6-v2-int8-{hashlib.sha256(model_bytes).hexdigest()[:8]}"
        self.max_length, self.batch_size = max_length, batch_size

        try:
            self._session: Any = ort.InferenceSession(
                model_bytes, cpu_session_options(threads), providers=["CPUExecutionProvider"]
            )
            self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise EncoderError(
                f"cannot load the MiniLM model from {directory} (corrupt or incompatible file?): {exc}; "
                "reinstall hippodex or regenerate it with scripts/export_minilm.py"
            ) from exc
        if {i.name for i in self._session.get_inputs()} != {"input_ids", "attention_mask"}:
            raise EncoderError(f"{model_path} is not the expected MiniLM export (inputs input_ids, attention_mask)")
        # tokenizer.json carries presets of truncation 128 and fixed padding 128: override.
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``: shape ``(len(texts), 384)``, float32, rows of unit length."""
        if isinstance(texts, str):
            raise ValidationError("texts: pass a sequence of strings, not a single str")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not len(texts):
            return out
        try:
            encodings = self._tokenizer.encode_batch(list(texts))
        except TypeError as exc:
            raise ValidationError(f"texts: every item must be a str ({exc})") from exc
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(lengths, kind="stable")  # similar lengths share a batch: little padding
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            ids = np.zeros((len(idx), int(lengths[idx].max())), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = encodings[i].ids
            mask = (np.arange(ids.shape[1]) < lengths[idx][:, None]).astype(np.int64)
            try:
                (hidden,) = self._session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
            except Exception as exc:
                raise EncoderError(f"MiniLM inference failed: {exc}") from exc
            weights = mask[:, :, None].astype(np.float32)
            out[idx] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(out)
