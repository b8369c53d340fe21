"""hippodex: long-term memory for LLM agents, local first, no LLM required.

>>> from hippodex import Memory
>>> m = Memory(":memory:", encoder=None)
>>> _ = m.add("I moved to Lisbon in May", user_id="ana", timestamp="2023-05-08")
>>> m.search("Lisbon", user_id="ana")[0].episode.content
'I moved to Lisbon in May'
"""

from hippodex._exceptions import (
    ConfigError,
    EncoderError,
    HippodexError,
    ImportFormatError,
    MemoryNotFound,
    MissingVectorsWarning,
    SchemaError,
    StoreError,
    ValidationError,
)
from hippodex._version import __version__
from hippodex.config import RecallConfig
from hippodex.encode.cache import EmbeddingCache
from hippodex.extract import LLMExtractor
from hippodex.knowledge.sleep import SleepReport
from hippodex.memory import ImportResult, Memory
from hippodex.model import ChannelScore, Entity, Episode, Fact, Hit, Page, Scope, Session, Stats

__all__ = [
    "ChannelScore",
    "ConfigError",
    "EmbeddingCache",
    "EncoderError",
    "Entity",
    "Episode",
    "Fact",
    "HippodexError",
    "Hit",
    "ImportFormatError",
    "ImportResult",
    "LLMExtractor",
    "Memory",
    "MemoryNotFound",
    "MissingVectorsWarning",
    "Page",
    "RecallConfig",
    "SchemaError",
    "Scope",
    "Session",
    "SleepReport",
    "Stats",
    "StoreError",
    "ValidationError",
    "__version__",
]

# Reprs and docs say hippodex.Memory, not hippodex.memory.Memory.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "hippodex"
