"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint.

Works with OpenAI, vLLM, llama.cpp's server, Ollama, LM Studio and others.
Uses only the standard library so it adds no dependency. Every reply is checked
before anything is stored: one list of finite numbers per text, all of the
encoder's dimension; anything else (base64 strings, nulls, mixed lengths, NaN or
infinity) is an :class:`EncoderError`.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from hippodex._exceptions import EncoderError
from hippodex.encode.base import normalise


class OpenAIEncoder:
    """Embed through ``POST {base_url}/embeddings``.

    >>> enc = OpenAIEncoder("http://127.0.0.1:8080/v1", model="nomic-embed-text", dim=768)  # doctest: +SKIP
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        model: str | None = None,
        api_key: str | None = None,
        dim: int | None = None,
        batch_size: int = 64,
        timeout: float = 60.0,
        retries: int = 3,
    ) -> None:
        self.base_url = (base_url or os.environ.get("HIPPODEX_EMBED_URL", "")).rstrip("/")
        self.model = model or os.environ.get("HIPPODEX_EMBED_MODEL", "")
        if not self.base_url or not self.model:
            raise EncoderError(
                "the openai encoder needs a base URL and a model: pass base_url= and model=, "
                "or set HIPPODEX_EMBED_URL and HIPPODEX_EMBED_MODEL"
            )
        self.api_key = api_key or os.environ.get("HIPPODEX_EMBED_KEY") or os.environ.get("OPENAI_API_KEY")
        self.batch_size, self.timeout, self.retries = batch_size, timeout, retries
        self.name = f"openai:{self.model}"
        #: What :class:`hippodex.encode.cache.CachedEncoder` files vectors under: two
        #: servers may serve different models under one name.
        self.cache_key = f"{self.name}@{self.base_url}"
        self.dim = dim or self._post(["dimension probe"]).shape[1]

    def _post(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        where = f"{self.base_url}/embeddings"
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(where, data=body, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                break
            except urllib.error.HTTPError as exc:
                retryable = exc.code == 429 or exc.code >= 500
                if not retryable or attempt == self.retries:
                    raise EncoderError(f"{where} answered HTTP {exc.code}: {exc.reason}") from exc
            except (OSError, http.client.HTTPException) as exc:  # unreachable, timed out, cut short, not HTTP
                if attempt == self.retries:
                    raise EncoderError(f"cannot reach {where}: {type(exc).__name__}: {exc}") from exc
            time.sleep(min(2.0**attempt * 0.5, 8.0))
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise EncoderError(f"{where} sent a reply that is not an embeddings list: {exc}") from exc
        return _matrix(payload, len(texts), where)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out: list[np.ndarray] = []
        for i in range(0, len(texts), self.batch_size):
            batch = self._post(list(texts[i : i + self.batch_size]))
            if batch.shape[1] != self.dim:
                raise EncoderError(f"expected {self.dim}-dimensional embeddings, got {batch.shape[1]}")
            out.append(batch)
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(np.concatenate(out))


def _matrix(payload: object, n: int, where: str) -> np.ndarray:
    """The ``(n, dim)`` float32 matrix in an embeddings reply, or an :class:`EncoderError` saying what is wrong."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise EncoderError(f"{where} sent a reply that is not an embeddings list (no 'data' list of objects)")
    if len(data) != n:
        raise EncoderError(f"{where} returned {len(data)} embeddings for {n} texts")
    indexes = [d.get("index", i) for i, d in enumerate(data)]
    if sorted(indexes) != list(range(n)):
        raise EncoderError(f"{where} returned embeddings with indexes {indexes[:10]}, not 0..{n - 1}")
    rows: list[list[float]] = [[] for _ in range(n)]
    for index, d in zip(indexes, data, strict=True):
        rows[index] = _row(d.get("embedding"), index, where)
    if len({len(r) for r in rows}) > 1:
        raise EncoderError(f"{where} returned embeddings of mixed lengths {sorted({len(r) for r in rows})}")
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused just below
        matrix = np.asarray(rows, dtype=np.float32).reshape(n, -1)
    if not np.isfinite(matrix).all():  # also catches values too large for float32
        bad = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
        raise EncoderError(f"{where} returned a non-finite embedding (NaN or infinity) for text {bad}")
    return matrix


def _row(embedding: object, index: int, where: str) -> list[float]:
    if isinstance(embedding, str):
        raise EncoderError(
            f"{where} returned embedding {index} as a string (base64?); hippodex needs lists of numbers "
            "(the server's default encoding_format, 'float')"
        )
    if not isinstance(embedding, list) or not embedding:
        raise EncoderError(f"{where} returned embedding {index} as {type(embedding).__name__}, not a list of numbers")
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in embedding):
        raise EncoderError(f"{where} returned embedding {index} with items that are not numbers")
    try:
        values = [float(x) for x in embedding]
    except OverflowError:  # an integer beyond any float
        values = [math.inf]
    if not all(math.isfinite(x) for x in values):
        raise EncoderError(f"{where} returned a non-finite embedding (NaN or infinity) for text {index}")
    return values
