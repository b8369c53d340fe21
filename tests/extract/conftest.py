"""Fixtures for extraction tests: the local OpenAI-compatible chat server."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def load_llm_server() -> ModuleType:
    """tests/llm_server.py as a module (tests are not a package)."""
    if "hippodex_test_llm_server" in sys.modules:
        return sys.modules["hippodex_test_llm_server"]
    path = Path(__file__).resolve().parents[1] / "llm_server.py"
    spec = importlib.util.spec_from_file_location("hippodex_test_llm_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def chat_server() -> Iterator[Any]:
    with load_llm_server().serve() as state:
        yield state
