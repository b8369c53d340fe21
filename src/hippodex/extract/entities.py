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
# A sentence may open after a Markdown heading, list or quote marker, or inside emphasis
# ("### Caching", "- **Compression**: ..."), as assistants write.
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*|[\"“(]\s*)(?:(?:#{1,6}|[-*+>]|\d{1,3}[.)])\s+)?(?:\*\*|__|[*_`])?$")
# A Markdown heading names a topic in title case ("## Features to Consider"): its capitalised
# words are no names unless the speaker's or known ones.
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t].*$", re.MULTILINE)
_EVENT_WORDS = lexicon.words("Festival Conference Nights Night Party Concert Parade Marathon Fair Summit Expo Games")
_PERSON_CUE = re.compile(
    r"(?:\b(?:named|called|with|by|and|to|from|for|friend|sister|brother|mom|dad|wife|husband|son|daughter|"
    r"aunt|uncle|cousin|niece|nephew|boss|coach|instructor|teacher|Hey|Hi|Thanks|Thank you),?\s+)$"
)
# "in"/"at"/"near"/"visit" make a lone word a place ("in Lima", "visit Oslo").
_PLACE_CUE = re.compile(r"\b(?:in|at|near|around|visit|visited|visiting)\s+$")
# Where one works is an organisation, though "at" also marks places ("I work at Feedzai").
_WORK_CUE = re.compile(
    r"\b(?:work(?:s|ed|ing)?\s+(?:at|for)|(?:job|position|role|internship|interning)\s+(?:at|with)|hired\s+by)\s+$"
)
# "to"/"from" make a place only after travel ("moved to Oslo", "flight from
# Lima", "get there from Shinjuku"), on a route ("from LAX to JFK") or for a
# hometown ("I'm from Akron") -- not after talk or gifts ("talked to Jon").
_MOTION = (
    r"go|goes|going|gone|went|get|gets|getting|got|move|moves|moving|moved|relocate|relocated|fly|flies|flying|"
    r"flew|flight|flights|drive|drives|driving|drove|trip|trips|travel|travels|traveling|travelling|traveled|"
    r"travelled|come|comes|coming|came|head|heads|heading|headed|return|returns|returning|returned|back|been|"
    r"visit|journey|vacation|holiday|getaway|cruise|way|welcome"
)
_TRAVEL_CUE = re.compile(
    r"\b(?:" + _MOTION + r")\s+(?:(?:here|there|back|over|down|up|out|away|home|all the way)\s+)?(?:to|from)\s+$"
    r"|\bfrom\s+(?-i:[A-Z])[\w.]*\s+to\s+$"
    r"|(?:\bI['’]m|\bI am|['’]re|\b(?:he|she)['’]s|\boriginally|\bhails?)\s+from\s+$",
    re.IGNORECASE,
)
# A bare "from" is as often a shop or brand ("a dog bed from Petco") as a
# person, so it makes a lone word a person only after something people send
# ("a letter from Maria", "heard from Jon"); otherwise the kind stays "other".
_FROM = re.compile(r"\bfrom\s+$")
_FROM_PERSON = re.compile(
    r"\b(?:letter|letters|message|messages|call|calls|text|texts|email|emails|note|notes|card|cards|gift|gifts|"
    r"present|presents|hug|advice|help|support|news|word|heard|hear|hearing|invite|invitation|visit|reply|"
    r"feedback|tip|tips)\s+from\s+$",
    re.IGNORECASE,
)
# After a head that takes a thing ("similar to", "compared to", "a guide to",
# "donated my old coat to", "switched to") a name is a title, brand or charity,
# not a person. Heads a person follows as often ("according to", "related to",
# "a tribute to") are left out: there the default holds.
_TO_THING = re.compile(
    r"\b(?:similar|similarly|compare|compared|comparing|comparison|comparable|addition|alternative|alternatives|"
    r"equivalent|access|dedicated|guide|introduction|sequel|prequel|donate|donated|donates|donating|donation|"
    r"donations|subscribe|subscribed|subscribing|subscription|switch|switched|switching|upgrade|upgraded|"
    r"upgrading|apply|applied|applying|application|transfer|transferred|transferring)"
    r"(?:\s+(?-i:[a-z])[\w'’-]*){0,5}\s+to\s+$",
    re.IGNORECASE,
)
# An all-capitals token ("NASA", "LGBTQ") is an acronym, not a person; a long
# one, or a shouted common word ("INTENSE", "YOU"), is no organisation.
_ACRONYM = re.compile(r"[A-Z][A-Z&.]*[A-Z]")


def _shouted(name: str) -> bool:
    return len(name) > 5 or name.title() in lexicon.NOT_NAMES or name.title() in lexicon.COMMON_STARTERS


# A brand by its spelling: inner capitals ("PetSmart", "JetBlue"; not "McDonald",
# "LeBron") or a web domain ("Chewy.com").
_BRAND = re.compile(r"(?!Mc|Mac|De|Le|La|Di|Da|Du|Van|Von)[A-Z][a-z]+[A-Z]\w*|\w+\.(?:com|org|net|io|co)")
# A lone capitalised first word says nothing ("Honestly", "Wow") unless the text
# shows it is a name: a possessive ("Ana's brother", but not "Life's good"), or
# a verb that takes a person, maybe after an adverb ("Ana lives", "Ana just moved").
_NOT_AFTER_POSSESSIVE = lexicon.words(
    """a an the my your his her our their its this that so very really too such just still also always never not
    all like kinda pretty super quite been got gotten gonna going doing done getting coming having here there back
    out over up off what how why where when great good fine ok okay amazing awesome perfect cute sweet fun hard
    tough crazy wild nice cool right sure busy happy sad tired sick excited ready"""
)
_NAMED_AFTER = re.compile(
    r"['’]s\s+(?!(?:" + "|".join(sorted(_NOT_AFTER_POSSESSIVE)) + r")\b)[a-z]"
    r"|\s+(?:(?:" + "|".join(sorted(lexicon.VERB_ADVERBS)) + r")\s+)?"
    r"(?:" + "|".join(sorted(lexicon.PERSON_VERBS)) + r")\b"
    r"|\s+(?:and|&)\s+(?:I|me)\b"  # "Joana and I went to the beach"
)
# Common nouns by their ending ("Painting is fun", "Education matters",
# "Basketball has"), contractions ("You've got", "Don't quit") and lower-case
# compounds ("Dairy-free is"): not names even before such a verb.
_NOUN_ENDING = r"(?:[a-z]{2}ing|tion|sion|ness|ment|ism|ship|ity|ics|ture|sure|ology|phy|ball)$"
_COMMON_FORM = re.compile(_NOUN_ENDING + r"|['’](?:ve|re|ll|d|m|t)$|-[a-z]")
# Some names look like such a word ("Hope", "Will", "May", "Sterling",
# "Felicity"); first in a sentence one counts on a sign no common word gives: a
# possessive before kin, a pet or a home ("Joy's sister"), or a verb only people
# do ("Manning said"); not "is" or "has" ("Joy is everywhere", "Painting has").
_NOUN_LIKE = re.compile(_NOUN_ENDING)
_OWNED = sorted({*lexicon.KIN, *lexicon.NAMED_ONLY, *lexicon.PETS, "birthday", "wedding", "house", "family", "car"})
_NAMED_STRICTLY = re.compile(
    r"['’]s\s+(?:" + "|".join(re.escape(w) for w in sorted(_OWNED, key=len, reverse=True)) + r")\b"
    r"|\s+(?:(?:" + "|".join(sorted(lexicon.VERB_ADVERBS)) + r")\s+)?"
    r"(?:" + "|".join(sorted(lexicon.PERSON_ONLY_VERBS)) + r")\b"
)


def _name_as_word(word: str) -> bool:
    """A lone word that may be a name though a stop list or its ending drops it."""
    if word in lexicon.NAMES_AS_WORDS:
        return True
    return bool(_NOUN_LIKE.search(word)) and word not in lexicon.COMMON_STARTERS and word not in lexicon.NOT_NAMES


def _of_a_people(word: str) -> bool:
    """A demonym or language, also plural or in a compound ("Italians", "Korean-style")."""
    head = word.split("-")[0]
    return head in lexicon.DEMONYMS or head in lexicon.LANGUAGES or head.removesuffix("s") in lexicon.DEMONYMS


_LISTED_AFTER = re.compile(r"\b([A-Z][\w&.'-]*)(?: and| or| &|,) $")


def canonical(name: str) -> str:
    """The key that joins spellings of one entity.

    >>> canonical("The Hollywood Bowl's"), canonical("  Maria ")
    ('hollywood bowl', 'maria')
    """
    key = re.sub(r"['’]s?$", "", name.strip())
    key = re.sub(r"\s+", " ", key).casefold()
    return key.removeprefix("the ").strip(" .-")


def _kind(name: str, before: str, known_people: set[str], possessive: bool = False) -> str:
    words = name.split()
    key = canonical(name)
    if key in known_people:
        return "person"
    if name in lexicon.PLACES:
        return "place"
    if name in lexicon.ORGS or any(w in lexicon.ORG_WORDS for w in words) or _WORK_CUE.search(before):
        return "org"
    if words[-1] in lexicon.PLACES:
        return "place"
    if not re.search(r"[A-Za-z]{2}", key):
        return "other"  # "The 1975", "2022"
    if any(w in _EVENT_WORDS for w in words) or name in lexicon.MONTHS_DAYS:
        return "event"
    if _of_a_people(words[0]):
        return "other"  # "Mexican food", "my Swedish grandma", "I speak French", "Korean BBQ"
    if len(words) == 1:
        if _TRAVEL_CUE.search(before) and not possessive:
            return "place"
        if _ACRONYM.fullmatch(name):
            return "other" if name in lexicon.NOT_ORG_ACRONYMS or _shouted(name) else "org"
        if _BRAND.fullmatch(name):
            return "org"
        if possessive:  # "went to Maria's", "at Sarah's place": her home
            return "person"
        if _PLACE_CUE.search(before):
            return "place"
        if _FROM.search(before) and not _FROM_PERSON.search(before):
            return "other"
        if re.search(r"-[a-z]", name):
            return "other"  # a compound modifier: "AI-powered", "Marvel-themed"
        if _TO_THING.search(before):
            return "other"  # "similar to Avengers", "donated clothes to Goodwill"
        listed = _LISTED_AFTER.search(before)  # "Nike and Gatorade": the kind of what it is listed with
        if listed and (listed[1] in lexicon.ORGS or _BRAND.fullmatch(listed[1])):
            return "org"
        if listed and listed[1] in lexicon.PLACES:
            return "place"
        return "person"  # a lone capitalised word mid-sentence is most often a name in chat
    if len(words) == 2 and _PERSON_CUE.search(before) and not _TO_THING.search(before):
        return "person"  # "my friend Ana Lopez"; not "similar to Star Wars"
    return "other"


def extract_entities(content: str, *, speaker: str | None = None, known: Iterable[str] = ()) -> list[EntityMention]:
    """Named things in ``content``, in order of position.

    ``speaker`` and ``known`` names are always people; a prefix of a known name
    of three or more letters ("Mel") is an alias of it. A lone capitalised word
    that opens a sentence counts only when the text shows it is a name: a
    possessive, a verb that takes a person, or the same word mid-sentence; a
    name that is also a common word ("Hope", "Will", "Sterling") needs a
    stricter sign ("Hope said", "Joy's sister"). Demonyms and languages are
    never people ("Mexican food", "I speak French").

    >>> [(e.name, e.canonical, e.kind) for e in extract_entities(
    ...     "Hey Mel! I saw The 1975 at the Hollywood Bowl with Maria's sister.", known=["Melanie"])]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('Mel', 'melanie', 'person'), ('The 1975', '1975', 'other'),
     ('Hollywood Bowl', 'hollywood bowl', 'other'), ('Maria', 'maria', 'person')]
    >>> [(e.name, e.kind) for e in extract_entities("Ana's brother wrote to Jon and flew to Oslo. Life is good.")]
    [('Ana', 'person'), ('Jon', 'person'), ('Oslo', 'place')]
    """
    people = [n for n in (speaker, *known) if n and n.strip().lower() not in ("user", "assistant")]
    known_keys = {canonical(n): n for n in people}
    mentions: list[EntityMention] = []
    taken: list[tuple[int, int]] = []
    first_words: list[tuple[int, int, str, bool]] = []  # lone sentence-initial words: span, key, named by context

    def alias_of(key: str) -> str | None:
        return next((k for k in known_keys if len(key) >= 3 and k.startswith(key) and " " not in key), None)

    headings = [(h.start(), h.end()) for h in _HEADING.finditer(content)] if "#" in content else []

    def add(start: int, end: int, kind: str | None = None) -> None:
        if kind is None and any(a <= start < b for a, b in headings):
            return
        surface = content[start:end]
        # Strip a possessive and chat fillers at the front ("Hey Maria" -> "Maria").
        m = re.search(r"['’]s$", surface)
        if m:
            end -= len(m[0])
            surface = content[start:end]
        words = surface.split()
        if (
            kind is None
            and len(words) == 1
            and _name_as_word(surface)
            and _SENTENCE_START.search(content[:start])
            and alias_of(canonical(surface)) is None
            and not any(a < end and start < b for a, b in taken)
        ):
            # "Hope", "Will", "Sterling" first in a sentence: settled below, on
            # a strict sign or the same word met mid-sentence.
            first_words.append((start, end, canonical(surface), bool(_NAMED_STRICTLY.match(content, end))))
            return
        while (
            kind is None
            and words
            and (
                # "Hey Maria", "In Lisbon"; and the lower-case words left after one ("Congrats on the X")
                (words[0] in lexicon.NOT_NAMES and not (words[0] in ("The", "A", "An") and len(words) > 1))
                or words[0][:1].islower()
            )
            and canonical(words[0]) not in known_keys
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
        if not key or surface in lexicon.NOT_NAMES or not re.search(r"[^\W\d_]", surface):
            return  # nothing, a filler, or a number alone ("I'm 33")
        if len(words) == 1 and (surface in lexicon.MONTHS_DAYS or surface.removesuffix("s") in lexicon.MONTHS_DAYS):
            return  # "May", "Fri", and "on Sundays" too
        alias = alias_of(key)
        if alias is not None:
            key = alias
        sentence_start = bool(_SENTENCE_START.search(content[:start]))
        if kind is None:
            lone_first = sentence_start and len(words) == 1 and key not in known_keys and alias is None
            if (
                lone_first
                and surface not in lexicon.PLACES
                and surface not in lexicon.ORGS
                and not (_ACRONYM.fullmatch(surface) and not _shouted(surface))  # "NASA", not "WOW"
            ):
                # A capitalised first word says nothing, unless what follows
                # shows a name or the word recurs mid-sentence (settled below).
                if surface not in lexicon.COMMON_STARTERS and not _COMMON_FORM.search(surface):
                    first_words.append((start, end, key, bool(_NAMED_AFTER.match(content, end))))
                return
            kind = _kind(surface, content[max(0, start - 40) : start], set(known_keys), possessive=bool(m))
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
    # A lone first word takes the kind of the same word met mid-sentence ("Oslo
    # is cold. We moved to Oslo."); else it is a person if the context said so,
    # or "other" for a demonym or language ("French is hard").
    seen = {e.canonical: e.kind for e in reversed(mentions)}
    for start, end, key, named in first_words:
        kind = seen.get(key)
        if kind is None and named:
            kind = "other" if _of_a_people(content[start:end]) else "person"
        if kind is not None:
            mentions.append(EntityMention(content[start:end], key, kind, start, end))
    return sorted(mentions, key=lambda e: e.start)
