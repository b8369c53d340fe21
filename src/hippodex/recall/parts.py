"""Sentence parts of an episode, embedded beside its whole text.

One vector per turn blurs a turn that is about two things. A chat user often
asks about one topic and mentions a fact in passing ("I'm looking for BBQ
sauce recipes. By the way, I just got a smoker today"): the whole turn's
vector sits near sauces, far from a question about kitchen appliances. So an
episode of two or more sentences also keeps one vector per sentence (its
*parts*), and the learned stage reads the best cosine of any part
(:func:`best_part_cosine`) as a signal of its own.

Parts are read from the first :data:`READ_CHARS` characters, like the word
cues, so a pasted document costs a bounded number of vectors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from hippodex.recall.text import READ_CHARS

#: A sentence needs this many words to be a part ("Thanks!" is not).
MIN_WORDS = 3

_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\n+")


def split_parts(content: str) -> list[str]:
    """The sentences of ``content`` worth a vector of their own; ``[]`` when fewer than two.

    >>> split_parts("I love BBQ. By the way, I just got a smoker today!")
    ['I love BBQ.', 'By the way, I just got a smoker today!']
    >>> split_parts("One sentence only, so the turn's own vector says it all.")
    []
    """
    parts = [p.strip() for p in _BOUNDARY.split(content[:READ_CHARS])]
    parts = [p for p in parts if len(p.split()) >= MIN_WORDS]
    return parts if len(parts) >= 2 else []


def embed_parts(contents: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> list[np.ndarray | None]:
    """Per content, the vectors of its parts (``None`` for one without), each distinct sentence embedded once."""
    split = [split_parts(c) for c in contents]
    texts = list(dict.fromkeys(p for ps in split for p in ps))
    if not texts:
        return [None] * len(split)
    vectors = dict(zip(texts, encode(texts), strict=True))
    return [np.stack([vectors[p] for p in ps]).astype(np.float32, copy=False) if ps else None for ps in split]


def best_part_cosine(
    query: np.ndarray, whole: np.ndarray, rowids: Sequence[int], parts: Mapping[int, np.ndarray]
) -> np.ndarray:
    """Per candidate, the best cosine of its whole text (``whole``) or any of its parts.

    ``parts`` maps a candidate's rowid to its part vectors (unit rows); a
    candidate without parts keeps its whole-text cosine.

    >>> q = np.array([1.0, 0.0])
    >>> best_part_cosine(q, np.array([0.2, 0.5]), [7, 8], {7: np.array([[0.0, 1.0], [0.9, 0.1]])}).tolist()
    [0.9, 0.5]
    """
    best = np.array(whole, dtype=np.float64, copy=True)
    have = [(i, parts[r]) for i, r in enumerate(rowids) if r in parts and len(parts[r])]
    if have:  # one product for all parts, then the best per candidate
        cosines = np.concatenate([v for _, v in have]) @ query
        starts = np.cumsum([0] + [len(v) for _, v in have[:-1]])
        at = [i for i, _ in have]
        best[at] = np.maximum(best[at], np.maximum.reduceat(cosines, starts))
    return best
