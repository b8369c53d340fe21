"""Any sentence-transformers model, for users who have torch (an extra)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hippodex._exceptions import EncoderError


class SentenceTransformerEncoder:
    """Embed with a local sentence-transformers model (``pip install 'hippodex[st]'``)."""

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
        except ImportError as exc:
            raise EncoderError("the sentence-transformers encoder needs its extra: pip install 'hippodex[st]'") from exc
        self._model = SentenceTransformer(model, device=device)
        self.batch_size = batch_size
        self.name = f"st:{model}"
        self.dim = int(self._model.get_sentence_embedding_dimension() or 0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True)
        return np.asarray(out, dtype=np.float32)
