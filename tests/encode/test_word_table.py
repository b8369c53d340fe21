"""The word table shipped with the default encoder: its vectors are the encoder's, and searches use it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from hippodex import Memory
from hippodex._exceptions import EncoderError
from hippodex.encode.base import Encoder
from hippodex.encode.onnx_minilm import default_model_dir
from hippodex.encode.word_table import FILE_NAME, WordTable, packaged_word_table


def test_the_table_holds_the_encoders_own_vectors(encoder: Encoder) -> None:
    table = packaged_word_table(encoder.name)
    assert table is not None and len(table) > 20_000
    words = ["refrigerator", "gravel", "siblings", "jogging", "ceremonies", "acquire"]
    got = table.vectors([*words, "kayak", "xqzv"])  # the last two are not whole words of the vocabulary
    assert list(got) == words
    fresh = encoder.encode(words)
    cosines = [float(fresh[i] @ got[w] / np.linalg.norm(got[w])) for i, w in enumerate(words)]
    assert min(cosines) > 0.9999  # int8 codes with a scale a row, as stores keep word vectors


def test_no_table_serves_another_encoder() -> None:
    assert packaged_word_table("openai:text-embedding-3-small") is None


def test_a_damaged_table_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / FILE_NAME
    bad.write_bytes(b"not a numpy archive")
    with pytest.raises(EncoderError, match="word table"):
        WordTable.load(bad)
    assert (default_model_dir() / FILE_NAME).is_file()


class Counting:
    """The default encoder, counting the texts it is asked to embed."""

    def __init__(self, inner: Encoder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.asked: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.append(list(texts))
        return self.inner.encode(texts)


def test_searches_and_adds_look_words_up_instead_of_running_the_model(tmp_path: Path, encoder: Encoder) -> None:
    counting = Counting(encoder)
    with Memory(tmp_path / "m.db", encoder=counting) as m:  # type: ignore[arg-type]
        m.add(["The gravel path needs weeding", "My brother bought a kayak"], user_id="ana")
        # The turns' words: only those the table lacks went through the model.
        assert [w for texts in counting.asked for w in texts if " " not in w] == ["weeding", "kayak"]
        counting.asked.clear()
        m.search("Where is the refrigerator?", user_id="ana")
        assert counting.asked == [["Where is the refrigerator?"]]  # the question, not its unseen word
