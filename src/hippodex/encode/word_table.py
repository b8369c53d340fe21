"""Word vectors computed once and shipped: a question's words need no model run.

The word signal (:mod:`hippodex.recall.word_match`) reads a vector for each
content word of a question. Words the memory has used come from the store;
the others were embedded at search time, about 3 ms a search for half of
LongMemEval's questions. The default encoder ships a table of its vectors for
the 21,556 whole words of its vocabulary (``scripts/build_word_table.py``),
int8 with a scale a row as stores keep word vectors, and a search looks there
first. The table names the encoder that made it and serves no other.

>>> from hippodex.encode.onnx_minilm import MiniLMEncoder
>>> table = packaged_word_table(MiniLMEncoder().name)
>>> table is not None and sorted(table.vectors(["gravel", "zzqx"]))  # a whole word of the vocabulary, and not
['gravel']
>>> packaged_word_table("another-encoder") is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from hippodex._exceptions import EncoderError

FILE_NAME = "words.npz"


class WordTable:
    """One encoder's vectors of a fixed list of words."""

    def __init__(self, encoder: str, words: Sequence[str], codes: np.ndarray, scales: np.ndarray) -> None:
        if len(words) != len(codes) or len(codes) != len(scales):
            raise EncoderError(f"word table: {len(words)} words, {len(codes)} codes and {len(scales)} scales")
        self.encoder = encoder
        self._row = {w: i for i, w in enumerate(words)}
        self._codes, self._scales = codes, scales

    def __len__(self) -> int:
        return len(self._row)

    def vectors(self, words: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of those ``words`` the table holds (float32)."""
        found = [(w, self._row[w]) for w in dict.fromkeys(words) if w in self._row]
        if not found:
            return {}
        rows = np.array([i for _, i in found])
        decoded = self._codes[rows].astype(np.float32) * self._scales[rows, None]
        return {w: decoded[j] for j, (w, _) in enumerate(found)}

    @classmethod
    def load(cls, path: Path) -> WordTable:
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(str(f["encoder"]), str(f["words"]).split("\n"), f["codes"], f["scales"])
        except (OSError, KeyError, ValueError) as exc:
            raise EncoderError(f"cannot read the word table {path}: {exc}") from exc


@lru_cache(maxsize=4)
def packaged_word_table(encoder: str) -> WordTable | None:
    """The table shipped for ``encoder`` (by its name), or ``None`` if there is none for it."""
    from hippodex.encode.onnx_minilm import default_model_dir

    path = default_model_dir() / FILE_NAME
    if not path.is_file():
        return None
    table = WordTable.load(path)
    return table if table.encoder == encoder else None


def word_lookup(encoder: str) -> Callable[[list[str]], dict[str, np.ndarray]]:
    """Looks words up in the table shipped for ``encoder`` (read on first use); finds nothing if there is none.

    A plain function of the name, not a method of the memory: a memory that held a
    bound method of itself would live on in a reference cycle after it closed, and
    free its models in a garbage-collector pause during some later search.
    """

    def lookup(words: list[str]) -> dict[str, np.ndarray]:
        table = packaged_word_table(encoder)
        return table.vectors(words) if table is not None else {}

    return lookup
