"""Facts and entities distilled from episodes: rules by default, an LLM when configured.

>>> from datetime import datetime
>>> [f.text for f in extract_facts("I live in Lisbon.", speaker="Ana", role="user", occurred_at=datetime(2024, 1, 1))]
['Ana lives in Lisbon.']
>>> [(e.name, e.kind) for e in extract_entities("My friend Rachel moved to Berlin.")]
[('Rachel', 'person'), ('Berlin', 'place')]
"""

from hippodex.extract.entities import canonical, extract_entities
from hippodex.extract.llm import Extraction, LLMExtractor
from hippodex.extract.rules import RuleExtractor, extract_facts
from hippodex.extract.types import KINDS, PREDICATES, EntityMention, FactCandidate, FactExtractor, fact_text

__all__ = [
    "KINDS",
    "PREDICATES",
    "EntityMention",
    "Extraction",
    "FactCandidate",
    "FactExtractor",
    "LLMExtractor",
    "RuleExtractor",
    "canonical",
    "extract_entities",
    "extract_facts",
    "fact_text",
]
