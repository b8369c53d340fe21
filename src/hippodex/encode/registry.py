"""Encoders by name, so the CLI, config and errors share one list."""

from __future__ import annotations

from collections.abc import Callable

from hippodex._exceptions import ConfigError
from hippodex.encode.base import Encoder


def _minilm() -> Encoder:
    from hippodex.encode.onnx_minilm import MiniLMEncoder

    return MiniLMEncoder()


def _openai() -> Encoder:
    from hippodex.encode.openai import OpenAIEncoder

    return OpenAIEncoder()


ENCODERS: dict[str, Callable[[], Encoder]] = {
    "minilm": _minilm,
    "openai": _openai,
}

#: The encoder a new memory uses when none is named.
DEFAULT_ENCODER = "minilm"


def create_encoder(name: str) -> Encoder:
    """Build a registered encoder by name, e.g. ``"minilm"``.

    ``"st:<model>"`` builds a sentence-transformers encoder (an extra).
    """
    if name.startswith("st:"):
        from hippodex.encode.sentence_transformers import SentenceTransformerEncoder

        return SentenceTransformerEncoder(name[3:])
    try:
        factory = ENCODERS[name]
    except KeyError:
        raise ConfigError(f"encoder: unknown {name!r}; choose from {', '.join(ENCODERS)}, or 'st:<model>'") from None
    return factory()
