"""Soft word match: how near a candidate's words come to each word of the query.

A question and its evidence often share no word: "What video games does Nate
play?" is answered by "the final of a big Valorant tournament". BM25 needs the
same word; one cosine per turn (or per sentence) blurs a single telling word
among the others. Here every distinct content word is embedded on its own,
once per user (the store keeps its vector beside a count of the episodes
using it), and a candidate scores the mean over the query's words of the best
cosine any of its words reaches, weighted by each query word's rarity among
the candidates (a word every candidate has says little). ColBERT scores the
same way with contextual token vectors; these are context-free, so they cost
one vector per word of the vocabulary rather than per word of every turn.

Measured out of fold as the learned stage's 30th signal (``hippodex bench fit``):
LoCoMo recall@10 0.805 -> 0.817 and recall@25 0.872 -> 0.886, LongMemEval
official ndcg_any@10 0.729 -> 0.742 (a candidate's first 32 words read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np

#: A candidate's first this many content words are read: in reading order, a turn
#: says what it is about early. Out of fold, 32 scores as all of them on LoCoMo and
#: 0.0015 lower in LongMemEval ndcg_any@10; the synthetic turns of the scale
#: benchmark hold about 40.
MAX_WORDS = 32


def rarity(query_words: Sequence[str], candidate_words: Sequence[Sequence[str]]) -> np.ndarray:
    """BM25's idf of each query word over the candidates (each a list of distinct words), normalised to sum to 1.

    >>> rarity(["nate", "game"], [["nate", "game"], ["nate"], ["nate", "tea"]]).round(3).tolist()
    [0.12, 0.88]
    """
    df = Counter(w for ws in candidate_words for w in ws)
    return _idf_weights(len(candidate_words), [df[w] for w in query_words])


def soft_match(
    query_words: Sequence[str],
    candidate_words: Sequence[Sequence[str]],
    vectors: Mapping[str, np.ndarray],
) -> np.ndarray:
    """Per candidate, the rarity-weighted mean over query words of their best cosine to its words.

    Each candidate's words are distinct (as :func:`~hippodex.recall.text.content_words`
    gives them). ``vectors`` maps words to unit vectors; words without one are left out (a
    query word without one counts 0 for every candidate, a candidate without
    any scores 0).

    >>> v = {"game": np.array([1.0, 0.0]), "valorant": np.array([0.8, 0.6]), "tea": np.array([0.0, 1.0])}
    >>> soft_match(["game"], [["valorant"], ["tea"], []], v).round(2).tolist()
    [0.8, 0.0, 0.0]
    """
    out = np.zeros(len(candidate_words))
    asked = [i for i, w in enumerate(query_words) if w in vectors]
    if not asked or not len(candidate_words):
        return out
    # One pass: each candidate's words as rows of the vocabulary matrix.
    index: dict[str, int] = {}
    rows: list[np.ndarray] = []
    flat: list[int] = []
    starts: list[int] = []
    filled: list[int] = []
    for i, ws in enumerate(candidate_words):
        start = len(flat)
        for w in ws[:MAX_WORDS]:
            j = index.get(w)
            if j is None:
                v = vectors.get(w)
                if v is None:
                    continue
                j = index[w] = len(rows)
                rows.append(v)
            flat.append(j)
        if len(flat) > start:
            filled.append(i)
            starts.append(start)
    if not rows:
        return out
    query = _matrix([vectors[query_words[i]] for i in asked])
    # words x query words: BLAS takes this orientation three times faster than its transpose.
    cosines = _matrix(rows) @ query.T
    best = np.maximum.reduceat(cosines[flat], starts, axis=0).T  # query words x filled candidates
    df = np.bincount(flat, minlength=len(rows))  # each candidate's words are distinct
    weights = _idf_weights(len(candidate_words), [int(df[index[w]]) if w in index else 0 for w in query_words])
    out[filled] = weights[asked] @ best
    return out


def _matrix(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Equal-length vectors as float32 rows: one concatenate is four times faster than
    ``np.stack`` for the thousands of word vectors a search's candidates hold."""
    return np.concatenate(vectors).reshape(len(vectors), -1).astype(np.float32, copy=False)


def _idf_weights(n: int, dfs: Sequence[int]) -> np.ndarray:
    """BM25's idf of words found in ``dfs`` of ``n`` documents, normalised to sum to 1 (equal if all are 0)."""
    weights = np.array([np.log1p((n - f + 0.5) / (f + 0.5)) for f in dfs])
    total = float(weights.sum())
    return weights / total if total > 0 else np.full(len(dfs), 1.0 / max(len(dfs), 1))


class WordEmbedder:
    """Embeds query words a memory has no vector of, each once per open memory.

    A word's vector is fixed for an encoder, and searches ask for the same few
    unseen query words again and again; a bounded dict keeps up to ``limit``.

    >>> calls = []
    >>> embed = WordEmbedder(lambda words: calls.append(list(words)) or np.ones((len(words), 2)))
    >>> _ = embed(["kayak", "tea"]); _ = embed(["tea", "oolong"])
    >>> calls
    [['kayak', 'tea'], ['oolong']]
    >>> embed = WordEmbedder(lambda words: calls.append(list(words)) or np.ones((len(words), 2)),
    ...                      table=lambda words: {w: np.zeros(2) for w in words if w == "tea"})
    >>> _ = embed(["tea", "chai"]); calls[-1]  # the table had tea
    ['chai']
    """

    def __init__(
        self,
        encode: Callable[[list[str]], np.ndarray],
        limit: int = 10_000,
        table: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
    ) -> None:
        self._encode = encode
        self._table = table  # vectors computed ahead (encode/word_table.py): looked up before encoding
        self._known: dict[str, np.ndarray] = {}
        self.limit = limit

    def __call__(self, words: list[str]) -> np.ndarray:
        missing = [w for w in dict.fromkeys(words) if w not in self._known]
        if missing:
            if len(self._known) + len(missing) > self.limit:
                self._known.clear()
            self._known.update(embed_words(missing, self._encode, self._table))
        return np.stack([self._known[w] for w in words])


def embed_words(
    words: list[str],
    encode: Callable[[list[str]], np.ndarray],
    table: Callable[[list[str]], dict[str, np.ndarray]] | None = None,
) -> dict[str, np.ndarray]:
    """Vectors of ``words``: from ``table`` where it has them (encode/word_table.py), else encoded.

    >>> got = embed_words(["tea", "chai"], lambda ws: np.ones((len(ws), 2)), lambda ws: {"tea": np.zeros(2)})
    >>> {w: v.tolist() for w, v in got.items()}
    {'tea': [0.0, 0.0], 'chai': [1.0, 1.0]}
    """
    found = table(words) if table is not None else {}
    rest = [w for w in words if w not in found]
    if rest:
        found.update(zip(rest, encode(rest), strict=True))
    return found
