"""What extraction produces: fact candidates, entity mentions, the predicate vocabulary.

Extractors are pure: text in, candidates out. Storage, consolidation (add /
reinforce / supersede) and linking to episodes happen elsewhere and consume
these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# The fixed predicate vocabulary, with whether a new value replaces the old
# one (single-valued: a person lives in one place at a time) or accumulates.
PREDICATES: dict[str, bool] = {
    "name": True,  # what the subject is called
    "age": True,  # "32"
    # Many-valued: one can be trans and lesbian; "I'm gay" must not close "I'm a transgender woman".
    "identity": False,  # gender, orientation: "a transgender woman"
    "status": True,  # relationship status: "single", "married", "divorced"
    "diet": True,  # "vegetarian", "vegan"
    "situation": False,  # circumstances beside those: "pregnant", "retired", "a single mom"
    "from": True,  # where the subject comes from or grew up
    "lives_in": True,  # where the subject lives now
    "moved_to": False,  # a move (an event; also implies lives_in)
    "works_as": True,  # job title or occupation
    "works_at": True,  # employer or workplace
    "studies": True,  # subject or school of study
    "member_of": False,  # a group, team, club, brigade
    "likes": False,  # preferences, favourites, hobbies
    "dislikes": False,  # aversions
    "has": False,  # possessions and pets: "a dog named Max"
    "relation": False,  # kin and other people: "sister: Maria", or "kids"
    "uses": False,  # tools, apps, products in use
    "habit": False,  # recurring behaviour: "orders chicken burgers every Friday"
    "plans": False,  # intentions and upcoming events
    "did": False,  # a past event, dated when the text says when
    "health": False,  # allergies, intolerances, conditions: "is allergic to peanuts", "has asthma"
}

#: Predicates that state an event, dated by when it happened, not a state that holds from then on.
EVENTS = frozenset({"moved_to", "did"})

#: Predicates an assistant should keep in mind whatever is asked: an allergy matters to any dinner plan.
STANDING = frozenset({"health", "diet"})

KINDS = ("person", "place", "org", "thing", "event", "other")


@dataclass(frozen=True)
class FactCandidate:
    """One distilled statement about a subject, before consolidation.

    ``subject`` is the speaker's name when known, ``"user"`` for an unnamed
    first-person speaker, or a named third party. ``predicate`` is one of
    :data:`PREDICATES`. ``text`` is a readable third-person sentence.
    """

    subject: str
    predicate: str
    object: str
    text: str
    confidence: float
    negated: bool = False
    valid_from: datetime | None = None
    single_valued: bool = False


@dataclass(frozen=True)
class EntityMention:
    """A named thing in a text: surface form, normalised key, kind and span."""

    name: str
    canonical: str
    kind: str
    start: int
    end: int


class FactExtractor(Protocol):
    """Anything that turns one episode's text into fact candidates."""

    name: str

    def extract(
        self, content: str, *, speaker: str | None, role: str, occurred_at: datetime
    ) -> list[FactCandidate]: ...


def subject_of(speaker: str | None) -> str:
    """The subject for first-person statements: the speaker's name, else ``"user"``.

    >>> subject_of("Caroline"), subject_of(None), subject_of("user")
    ('Caroline', 'user', 'user')
    """
    if speaker and speaker.strip().lower() not in ("user", "assistant", "human", "system", ""):
        return speaker.strip()
    return "user"


_TEMPLATES = {
    "name": "{s}'s name is {o}.",
    "age": "{s} is {o} years old.",
    "identity": "{s} is {o}.",
    "status": "{s} is {o}.",
    "diet": "{s} is {o}.",
    "situation": "{s} is {o}.",
    "from": "{s} is from {o}.",
    "lives_in": "{s} lives in {o}.",
    "moved_to": "{s} moved to {o}.",
    "works_as": "{s} works as {o}.",
    "works_at": "{s} works at {o}.",
    "studies": "{s} studies {o}.",
    "member_of": "{s} is a member of {o}.",
    "likes": "{s} likes {o}.",
    "dislikes": "{s} dislikes {o}.",
    "has": "{s} has {o}.",
    "uses": "{s} uses {o}.",
    "plans": "{s} plans {o}.",
    "did": "{s} {o}.",
    "health": "{s} {o}.",
}
_NEGATED = {
    "lives_in": "{s} no longer lives in {o}.",
    "works_at": "{s} no longer works at {o}.",
    "works_as": "{s} no longer works as {o}.",
    "likes": "{s} does not like {o}.",
    "has": "{s} no longer has {o}.",
    "uses": "{s} no longer uses {o}.",
    "member_of": "{s} is no longer a member of {o}.",
}


def _third_person_verb(phrase: str) -> str:
    """``phrase`` with its leading verb as "he/she" says it: "eat meat" -> "eats meat".

    >>> [_third_person_verb(p) for p in ("go to the gym", "watch TV", "study", "play chess", "running daily")]
    ['goes to the gym', 'watches TV', 'studies', 'plays chess', 'running daily']
    """
    verb, space, rest = phrase.partition(" ")
    low = verb.lower()
    if not low.isalpha() or low.endswith(("ing", "ed", "s")):
        return phrase  # not a bare verb ("running every morning"), or already said so
    if low in ("have", "do", "go"):
        verb = {"have": "has", "do": "does", "go": "goes"}[low]
    elif low.endswith(("sh", "ch", "x", "z", "o")):
        verb += "es"
    elif low.endswith("y") and low[-2:-1] not in ("a", "e", "i", "o", "u"):
        verb = verb[:-1] + "ies"
    else:
        verb += "s"
    return verb + space + rest


def fact_text(subject: str, predicate: str, obj: str, *, negated: bool = False) -> str:
    """A readable third-person sentence for a fact.

    >>> fact_text("Ana", "lives_in", "Lisbon")
    'Ana lives in Lisbon.'
    >>> fact_text("user", "relation", "sister: Maria")
    'The user has a sister named Maria.'
    >>> fact_text("Ana", "likes", "sushi", negated=True)
    'Ana does not like sushi.'
    """
    s = "The user" if subject == "user" else subject
    if predicate == "relation":
        kin, _, who = obj.partition(":")
        article = "" if kin.endswith("s") or kin.startswith(("a ", "an ")) else "a "
        return f"{s} has {article}{kin.strip()}" + (f" named {who.strip()}." if who.strip() else ".")
    if predicate == "habit":  # "eat meat every day" ("I eat..."), or "running every morning"
        if obj.split(" ", 1)[0].lower().endswith("ing"):
            return f"{s} {'no longer has' if negated else 'has'} a habit of {obj}."
        return f"{s} {'no longer' if negated else 'regularly'} {_third_person_verb(obj)}."
    if predicate == "plans":
        first = obj.split(" ", 1)[0].lower()
        verb_like = not first.endswith("ing") and first not in ("a", "an", "the", "my", "their", "some")
        return f"{s} {'no longer plans' if negated else 'plans'} {'to ' if verb_like else 'on '}{obj}."
    template = (_NEGATED.get(predicate) if negated else None) or _TEMPLATES.get(predicate, "{s} {p}: {o}.")
    text = template.format(s=s, o=obj, p=predicate)
    if negated and predicate not in _NEGATED:
        text = f"Not true: {text}"
    return text[0].upper() + text[1:]
