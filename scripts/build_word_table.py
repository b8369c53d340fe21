"""Build the packaged word table: MiniLM's vector of every whole word in its vocabulary.

Dev-only tool. The word signal (:mod:`hippodex.recall.word_match`) needs a vector
for each content word of a question; words the memory never used were embedded at
search time, a model run of about 3 ms that half of LongMemEval's questions paid
(48 of the 49 such words in its first 80 questions are whole words of MiniLM's
vocabulary). The table holds those vectors, computed once with the shipped model,
so a search looks them up instead.

Which words: the entries of the model's WordPiece vocabulary (Apache-2.0, shipped
beside the model) that are lower-case ASCII letters, at least two, and a content
word of their own (:func:`hippodex.recall.text.content_words`): 21,556 of 30,522.
Each vector is int8 with one scale a row, as stores keep word vectors.

Run from the repository root (about 30 s on 2 cores)::

    python scripts/build_word_table.py
"""

from __future__ import annotations

import numpy as np

from hippodex.encode.onnx_minilm import MiniLMEncoder, default_model_dir
from hippodex.encode.quantize import int8_quantize
from hippodex.encode.word_table import FILE_NAME
from hippodex.recall.text import content_words


def main() -> None:
    enc = MiniLMEncoder()
    vocab = sorted(enc._tokenizer.get_vocab())  # the encoder's own tokenizer.json
    words = [w for w in vocab if w.isascii() and w.isalpha() and w.islower() and len(w) >= 2]
    words = [w for w in words if content_words(w) == [w]]
    codes, scales = int8_quantize(enc.encode(words))
    out = default_model_dir() / FILE_NAME
    np.savez(out, encoder=np.array(enc.name), words=np.array("\n".join(words)), codes=codes, scales=scales)
    print(f"wrote {out}: {len(words)} words, {out.stat().st_size / 1e6:.1f} MB, encoder {enc.name}")


if __name__ == "__main__":
    main()
