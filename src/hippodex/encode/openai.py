"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint.

Works with OpenAI, vLLM, llama.cpp's server, Ollama, LM Studio and others.
Uses only the standard library so it adds no dependency.
"""

from __future__ import annotations

import json
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
        self.dim = dim or len(self._post(["dimension probe"])[0])

    def _post(self, texts: list[str]) -> list[list[float]]:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(f"{self.base_url}/embeddings", data=body, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    payload = json.loads(resp.read())
                data = sorted(payload["data"], key=lambda d: d.get("index", 0))
                vectors = [d["embedding"] for d in data]
                if len(vectors) != len(texts):
                    raise EncoderError(f"{self.base_url} returned {len(vectors)} embeddings for {len(texts)} texts")
                return vectors
            except urllib.error.HTTPError as exc:
                retryable = exc.code == 429 or exc.code >= 500
                if not retryable or attempt == self.retries:
                    raise EncoderError(f"{self.base_url}/embeddings answered HTTP {exc.code}: {exc.reason}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self.retries:
                    raise EncoderError(f"cannot reach {self.base_url}/embeddings: {exc}") from exc
            except (KeyError, TypeError, ValueError) as exc:
                raise EncoderError(
                    f"{self.base_url}/embeddings sent a reply that is not an embeddings list: {exc}"
                ) from exc
            time.sleep(min(2.0**attempt * 0.5, 8.0))
        raise EncoderError("unreachable")  # pragma: no cover

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            out.extend(self._post(list(texts[i : i + self.batch_size])))
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        matrix = np.asarray(out, dtype=np.float32)
        if matrix.shape[1] != self.dim:
            raise EncoderError(f"expected {self.dim}-dimensional embeddings, got {matrix.shape[1]}")
        return normalise(matrix)
