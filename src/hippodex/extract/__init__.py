"""Facts and entities distilled from episodes: rules by default, an LLM when configured.

>>> from datetime import datetime
>>> [f.text for f in extract_facts("I live in Lisbon.", speaker="Ana", role="user", occurred_at=datetime(2024, 1, 1))]
['Ana lives in Lisbon.']
"""

from hippodex.extract.rules import RuleExtractor, extract_facts
from hippodex.extract.types import KINDS, PREDICATES, EntityMention, FactCandidate, FactExtractor, fact_text

__all__ = [
    "KINDS",
    "PREDICATES",
    "EntityMention",
    "FactCandidate",
    "FactExtractor",
    "RuleExtractor",
    "extract_facts",
    "fact_text",
]
