"""Entity mentions from rules: capitalisation, speaker names, possessives, a small gazetteer.

Each mention keeps its surface form and span, and a ``canonical`` key
(case-folded, possessive and leading "the" stripped) that joins aliases: a
short form of a known name ("Mel" for "Melanie") takes the known name's key.
The same function reads a fact's text, so mentions can link entities to
episodes and to facts alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hippodex.extract import lexicon
from hippodex.extract.types import EntityMention

_CAP = re.compile(r"[A-Z][\w&'’.-]*(?:(?:\s+(?:of|the|de|la|&|on))*\s+(?!I\b)[A-Z0-9][\w&'’.-]*)*")
# A period after a word of two or more lower-case letters ends a sentence, not
# an abbreviation ("St. Louis" stays whole; "Leeds. Tom" is two names).
_BREAK = re.compile(r"(?<=[a-z]{2})\.\s+")
_QUOTED = re.compile(r"[\"“]([A-Z][^\"”]{1,60})[\"”]")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*|[\"“(]\s*)$")
_EVENT_WORDS = lexicon.words("Festival Conference Nights Night Party Concert Parade Marathon Fair Summit Expo Games")
_PERSON_CUE = re.compile(
    r"(?:\b(?:named|called|with|by|and|to|from|for|friend|sister|brother|mom|dad|wife|husband|son|daughter|"
    r"aunt|uncle|cousin|niece|nephew|boss|coach|instructor|teacher|Hey|Hi|Thanks|Thank you),?\s+)$"
)
_PLACE_CUE = re.compile(r"\b(?:in|to|from|at|near|visit|visited|around)\s+$")


def canonical(name: str) -> str:
    """The key that joins spellings of one entity.

    >>> canonical("The Hollywood Bowl's"), canonical("  Maria ")
    ('hollywood bowl', 'maria')
    """
    key = re.sub(r"['’]s?$", "", name.strip())
    key = re.sub(r"\s+", " ", key).casefold()
    return key.removeprefix("the ").strip(" .-")


def _kind(name: str, before: str, known_people: set[str]) -> str:
    words = name.split()
    key = canonical(name)
    if key in known_people:
        return "person"
    if name in lexicon.PLACES:
        return "place"
    if name in lexicon.ORGS or any(w in lexicon.ORG_WORDS for w in words):
        return "org"
    if words[-1] in lexicon.PLACES:
        return "place"
    if not re.search(r"[A-Za-z]{2}", key):
        return "other"  # "The 1975", "2022"
    if any(w in _EVENT_WORDS for w in words) or name in lexicon.MONTHS_DAYS:
        return "event"
    if len(words) == 1:
        if _PLACE_CUE.search(before):
            return "place"
        return "person"  # a lone capitalised word mid-sentence is most often a name in chat
    if len(words) == 2 and _PERSON_CUE.search(before):
        return "person"
    return "other"


def extract_entities(content: str, *, speaker: str | None = None, known: Iterable[str] = ()) -> list[EntityMention]:
    """Named things in ``content``, in order of position.

    ``speaker`` and ``known`` names are always people; a prefix of a known name
    of three or more letters ("Mel") is an alias of it.

    >>> [(e.name, e.canonical, e.kind) for e in extract_entities(
    ...     "Hey Mel! I saw The 1975 at the Hollywood Bowl with Maria's sister.", known=["Melanie"])]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('Mel', 'melanie', 'person'), ('The 1975', '1975', 'other'),
     ('Hollywood Bowl', 'hollywood bowl', 'other'), ('Maria', 'maria', 'person')]
    """
    people = [n for n in (speaker, *known) if n and n.strip().lower() not in ("user", "assistant")]
    known_keys = {canonical(n): n for n in people}
    mentions: list[EntityMention] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, kind: str | None = None) -> None:
        surface = content[start:end]
        # Strip a possessive and chat fillers at the front ("Hey Maria" -> "Maria").
        m = re.search(r"['’]s$", surface)
        if m:
            end -= len(m[0])
            surface = content[start:end]
        words = surface.split()
        while (
            kind is None
            and words
            and words[0] in lexicon.NOT_NAMES
            and canonical(words[0]) not in known_keys
            and not (words[0] in ("The", "A", "An") and len(words) > 1)  # "The 1975", "The Great Gatsby"
        ):
            start = content.index(words[0], start) + len(words[0])
            words = words[1:]
            while start < end and content[start].isspace():
                start += 1
        surface = content[start:end].strip(" .-")
        end = start + len(surface)
        if not surface or any(a < end and start < b for a, b in taken):
            return
        key = canonical(surface)
        if not key or surface in lexicon.NOT_NAMES or (len(words) == 1 and surface in lexicon.MONTHS_DAYS):
            return
        alias = next((k for k in known_keys if len(key) >= 3 and k.startswith(key) and " " not in key), None)
        if alias is not None:
            key = alias
        sentence_start = bool(_SENTENCE_START.search(content[:start]))
        if kind is None:
            lone_first = sentence_start and len(words) == 1 and key not in known_keys and alias is None
            if lone_first and surface not in lexicon.PLACES and surface not in lexicon.ORGS:
                return  # a capitalised first word says nothing
            kind = _kind(surface, content[max(0, start - 40) : start], set(known_keys))
        mentions.append(EntityMention(surface, key, kind, start, end))
        taken.append((start, end))

    for name in sorted(people, key=len, reverse=True):
        for m in re.finditer(r"\b" + re.escape(name.strip()) + r"\b", content):
            add(m.start(), m.end(), "person")
    for m in _QUOTED.finditer(content):
        add(m.start(1), m.end(1), "thing")
    for m in _CAP.finditer(content):
        cut = m.start()
        for b in _BREAK.finditer(content, m.start(), m.end()):
            add(cut, b.start())
            cut = b.end()
        add(cut, m.end())
    return sorted(mentions, key=lambda e: e.start)
