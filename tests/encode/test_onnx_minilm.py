"""The packaged int8 ONNX MiniLM encoder against the float model it was exported from."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from hippodex._exceptions import EncoderError, ValidationError
from hippodex.encode.onnx_minilm import MiniLMEncoder, default_model_dir

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "minilm_reference.json"

MIXED = [
    "ok",
    "Remind me to water the plants on Thursday morning before work.",
    "",
    "The quarterly planning meeting moved to the big room on the third floor, "
    "and everyone should bring their notes from last week's customer interviews. " * 8,
    "Café au lait ☕ in Zürich",
    "我喜欢在周末去公园散步。",
    "Hi!",
    "What did we decide about the database migration?",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEncoder:
    return MiniLMEncoder()


def test_shape_dtype_and_unit_rows(minilm: MiniLMEncoder) -> None:
    vecs = minilm.encode(MIXED)
    assert vecs.shape == (len(MIXED), 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert minilm.dim == 384
    assert re.fullmatch(r"minilm-l6-v2-int8-[0-9a-f]{8}", minilm.name)


def test_empty_input(minilm: MiniLMEncoder) -> None:
    empties: list[Sequence[str]] = [[], ()]
    for empty in empties:
        vecs = minilm.encode(empty)
        assert vecs.shape == (0, 384) and vecs.dtype == np.float32


def test_single_str_is_rejected(minilm: MiniLMEncoder) -> None:
    with pytest.raises(ValidationError):
        minilm.encode("not a list")  # type: ignore[arg-type]


def test_order_preserved_with_mixed_lengths(minilm: MiniLMEncoder) -> None:
    forward = minilm.encode(MIXED)
    backward = minilm.encode(MIXED[::-1])
    assert np.allclose(forward, backward[::-1], atol=1e-5)
    # each row is its own sentence, not a neighbour's: best match of row i is row i
    assert (np.argmax(forward @ forward.T, axis=1) == np.arange(len(MIXED))).all()


@pytest.mark.parametrize("batch_size", [1, 3, 32])
def test_batched_equals_one_by_one(batch_size: int) -> None:
    enc = MiniLMEncoder(batch_size=batch_size, threads=1)
    batched = enc.encode(MIXED * 2)
    single = np.concatenate([enc.encode([t]) for t in MIXED * 2])
    assert np.abs(batched - single).max() < 1e-5


def test_truncates_at_max_length(minilm: MiniLMEncoder) -> None:
    head = "alpha beta gamma delta " * 100  # far more than 256 tokens
    a, b = minilm.encode([head + "one ending", head + "a completely different ending"])
    assert np.allclose(a, b, atol=1e-6)
    short = MiniLMEncoder(max_length=8)
    c, d = short.encode(["one two three four five six seven", "one two three four five six eight"])
    assert np.allclose(c, d, atol=1e-6)


def test_close_to_float_reference(minilm: MiniLMEncoder) -> None:
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    expected = np.asarray(ref["embeddings"], dtype=np.float32)
    got = minilm.encode(ref["sentences"])
    cos = (got * expected).sum(axis=1) / np.linalg.norm(expected, axis=1)
    worst = ref["sentences"][int(np.argmin(cos))]
    assert cos.min() >= 0.98, f"min cosine {cos.min():.4f} on {worst!r}"
    assert cos.mean() >= 0.99, f"mean cosine {cos.mean():.4f}"


def test_paraphrase_closer_than_unrelated(minilm: MiniLMEncoder) -> None:
    a, b, c = minilm.encode(
        [
            "My sister's birthday party is next Saturday.",
            "Next Saturday we celebrate my sister's birthday.",
            "The server ran out of disk space during the backup.",
        ]
    )
    assert a @ b > 0.8 and a @ b > a @ c + 0.4


def test_idle_workers_do_not_spin(minilm: MiniLMEncoder) -> None:
    # A spinning onnxruntime worker slows the search that follows an embedding (see the encoder).
    options = minilm._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_missing_model_dir_raises_encoder_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="missing"):
        MiniLMEncoder(tmp_path)


def test_corrupt_model_raises_encoder_error(tmp_path: Path) -> None:
    shutil.copyfile(default_model_dir() / "tokenizer.json", tmp_path / "tokenizer.json")
    (tmp_path / "model.onnx").write_bytes(b"this is not an onnx model")
    with pytest.raises(EncoderError, match="cannot load"):
        MiniLMEncoder(tmp_path)
