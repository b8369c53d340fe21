"""Zero-LLM fact extraction: regular expressions over first-person statements.

A turn is split into sentences and clauses. Each clause is tried against a
table of patterns (``I live in X``, ``my sister Maria``, ``I'm planning to
X``, ``last week I visited X``...), each naming a predicate of
:data:`~hippodex.extract.types.PREDICATES` and a confidence. The speaker is
the subject (their name when known, else ``"user"``); assistant turns state
no user facts and yield nothing. Questions (a trailing "?", or a question's
word order: "do i like sushi") yield only what their possessives say ("my
sister" in "what should I get my sister?"); nothing after a hedge ("if",
"maybe", "suppose", "I doubt") is recorded. A negation is read within its own
clause: "anymore" in "..., but I don't eat meat anymore" leaves the "I love
sushi" before it alone. Relative times resolve against ``occurred_at``
through :mod:`hippodex.recall.temporal`.

Precision comes first: a pattern whose object is vague ("I love that",
"I'll keep it up") is dropped rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from hippodex.extract import lexicon
from hippodex.extract.types import PREDICATES, FactCandidate, fact_text, subject_of
from hippodex.recall.temporal import TimeWindow, parse_window

_CAPTION = re.compile(r"\s*\[shares [^\]]*\]")
# A full stop after these ends no sentence, nor a name ("St. Louis", "Dr. Lee").
_ABBREVIATED = "".join(rf"(?<!\b{a}\.)" for a in ("St", "Mt", "Ft", "Dr", "Mr", "Mrs", "Ms", "Jr", "Sr", "vs"))
_SENTENCE = re.compile(r"(?<=[.!?])" + _ABBREVIATED + r"\s+|\n+|\s+-\s+")
# Where an object phrase stops: punctuation, or a conjunction opening a new clause.
_STOP = re.compile(
    # A full stop ends an object only before a space, a capital or the end: "Booking.com", "St. Louis" go on.
    r"\s*(?:[,;:!?()\"]|\." + _ABBREVIATED + r"(?=\s|$|(?-i:[A-Z]))"
    r"|\s-\s|\bbut\b|\bbecause\b|\bsince\b|\bso that\b|\bso (?:i|we|it)\b|\bwhich\b|\bwhile\b"
    r"|\balthough\b|\bthough\b|\bwhen\b|\bif\b|\bwho\b|\band (?:i|we|it|see|then|that|is|was|it's|i'm|now)\b"
    r"|\binstead of\b|\brather than\b"
    r"|\bto (?:see|make sure)\b)",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:\s+(?:too|as well|lately|now|right now|so much|a lot|these days|recently|again|already|yet|anymore|"
    r"any more|though|haha|lol|with you|for me|tho|ever|today|tonight|tomorrow|soon|next \w+|this (?:weekend|summer|"
    r"winter|spring|fall|autumn|week|month|year)|someday|one day|about|around|roughly|on|in|at|by|for|with))+$",
    re.IGNORECASE,
)
_VAGUE = lexicon.words("it that this them those these you your yours him her us something anything everything stuff")
_ADV = (
    r"(?:(?:just|really|also|actually|recently|finally|still|now|totally|absolutely|definitely|already|even|truly|"
    r"always) )*"
)
_I = r"\b(?:I|i)"


def _any_of(phrases: Iterable[str]) -> str:
    """A regex alternation of the phrases, longest first so "a single mom" wins over "single"."""
    return "|".join(sorted((re.escape(p) for p in phrases), key=len, reverse=True))


_KIN = _any_of(lexicon.KIN)
_NAMED = _any_of(lexicon.NAMED_ONLY)
_PETS = _any_of(lexicon.PETS)
_JOBS = _any_of(lexicon.JOBS)
_STATUSES = _any_of(lexicon.STATUSES)
_DIETS = _any_of(lexicon.DIETS)
_SITUATIONS = _any_of(lexicon.SITUATIONS)
_IDENTITIES = _any_of(lexicon.IDENTITIES)
_CONDITIONS = _any_of(lexicon.CONDITIONS)
_NOT_COMPOUND = (
    r"(?! (?:sculpture|food|toy|toys|bed|treats|sitter|walker|video|videos|photo|photos|painting|figurine|lover|hair|"
    r"allergy|allergies|tree|mug|shelter|park|owner|owners|breed|care|training|trainer|groomer|collar|leash)\b)"
)
_NAME = r"(?P<name>[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)"
_EVENT_VERBS = (
    "went|visited|attended|took|made|won|lost|started|began|finished|completed|bought|purchased|got|saw|met|joined|"
    "ran|traveled|travelled|adopted|graduated|volunteered|participated|organized|organised|hosted|painted|wrote|"
    "published|baked|cooked|built|climbed|hiked|played|watched|performed|gave|received|found|upgraded|celebrated|"
    "launched|opened|signed up|enrolled|competed|camped|biked|explored|flew|drove|sold|created|designed|learned|"
    "learnt|taught|helped|raised|donated|fixed|renovated|planted|picked up|tried out|checked out|booked|ordered"
)
_EVENT_CUE = re.compile(
    r"\b(?:just|finally|recently|the other day|yesterday|last|ago|this (?:week|month|year))\b", re.I
)


@dataclass(frozen=True)
class _Rule:
    predicate: str
    pattern: re.Pattern[str]
    confidence: float
    in_questions: bool = False  # possessives state facts even inside a question
    shape: Callable[[re.Match[str]], str] | None = None  # builds the object from the match
    lead: str = ""  # words put before the cleaned object: "is " + "allergic to peanuts"


def _r(
    predicate: str,
    pattern: str,
    confidence: float,
    *,
    flags: int = re.IGNORECASE,
    in_questions: bool = False,
    shape: Callable[[re.Match[str]], str] | None = None,
    lead: str = "",
) -> _Rule:
    return _Rule(predicate, re.compile(pattern, flags), confidence, in_questions, shape, lead)


def _kin(m: re.Match[str]) -> str:
    name = m.groupdict().get("name")
    kin = m["kin"].lower()
    # A place is no kin's name: "I love Lisbon, my sister Ines ...", "My sister, Lisbon is ...".
    return f"{kin}: {name}" if name and name not in lexicon.NOT_NAMES and name not in lexicon.PLACES else kin


def _pet(m: re.Match[str]) -> str:
    pet, name = m["pet"].lower(), m.groupdict().get("name")
    if name and name not in lexicon.NOT_NAMES:
        return f"a {pet} named {name}"
    return pet if pet.endswith("s") and pet != "fish" else f"a {pet}"


_NEG = r"(?P<neg>no longer |don'?t |do not |didn'?t |never |used to )?"
# Where a job's object ends: before its employer ("as a nurse at Santo António hospital"), or
# an employer's before the job ("at Booking.com as a data scientist").
_EMPLOYER = r"(?= (?:at|for) (?-i:[A-Z])|$)"
_AS_JOB = r"(?= as (?:a|an|the|their|my) |$)"
# A negation that says something ended: "no longer", or "don't" with "any more" in the clause.
_ENDED_BY = r"(?P<neg>no longer |(?:do not |don'?t )(?=[^,.;!?]*\bany ?more\b))"
_NOT_HABITS = (
    r"(?:live|living|work|working|use|using|love|like|enjoy|adore|hate|plan|intend|aim|have"
    r"|know|think|want|need|care|remember|understand|believe|feel|mind|see|get|mean|agree|trust|talk to|speak to)\b"
)

# What follows "I can't eat" when it is no food: "right now", "another bite", "that much".
_NOT_FOODS = (
    r"(?:right|now|much|more|any|anything|another|that|it|this|them|those|these|too|yet|out|here|there|today|"
    r"tonight|so|enough|all|a thing|one more|without)\b"
)

RULES: tuple[_Rule, ...] = (
    _r("name", r"\b[Mm]y name is (?P<o>[A-Z][\w'-]+(?: [A-Z][\w'-]+)?)", 0.95, flags=0),
    _r("age", _I + r"(?:'m| am) (?P<o>\d{1,3}) years? old\b", 0.9),
    _r("age", _I + r" (?:just )?turned (?P<o>\d{1,3})\b", 0.85),
    _r("age", _I + r"(?:'m| am) " + _ADV + r"(?P<o>\d{1,2})\s*(?:[.!?]|$)", 0.8),  # "I'm 33." and nothing after
    _r("from", _I + r"(?:'m| am) (?:originally )?from (?P<o>.+)", 0.85),
    _r("from", _I + r" (?:grew up|was born and raised|was born) in (?P<o>.+)", 0.85),
    _r("lives_in", _I + r"(?:'ve been| have been| still| currently)? " + _NEG + r"(?:live|living) in (?P<o>.+)", 0.85),
    _r("lives_in", _I + r"(?:'m| am) (?:now |currently )?based in (?P<o>.+)", 0.8),
    _r(
        "moved_to",
        r"\b(?:I|i|we|We) "
        + _ADV
        + r"(?:moved|relocated) (?:back )?(?:from (?-i:[A-Z])[^,.]*? )?(?:to|into) (?P<o>.+)",
        0.85,
    ),
    # "I work as a nurse at Santo António hospital": the job here, the employer below.
    _r(
        "works_as",
        _I + r"(?:'m| am)? " + _ADV + _NEG + r"(?:currently )?work(?:ing|ed)? as (?P<o>.+?)" + _EMPLOYER,
        0.85,
    ),
    _r(
        "works_at",
        _I + r"(?:'m| am)? " + _ADV + _NEG + r"(?:currently )?work(?:ing|ed)? as .+? (?:at|for) (?P<o>(?-i:[A-Z]).+)",
        0.8,
    ),
    _r("works_as", r"\bmy (?:new )?job as (?P<o>.+)", 0.8),
    _r(
        "works_as",
        _I + r" " + _ADV + r"(?:got|landed|accepted|started) (?:a |my |the )?(?:new )?(?:job|position|role) "
        r"(?:at|with) .+? as (?P<o>(?:a|an) .+)",
        0.8,
    ),
    _r(
        "works_as",
        _I + r"(?:'m| am) (?:now |(?P<neg>not |no longer ))?"
        r"(?P<o>(?:a|an) (?:professional |freelance |full-time |part-time )?(?:" + _JOBS + r"))\b",
        0.75,
    ),
    _r(
        "works_at",
        _I + r"(?:'m| am)? " + _ADV + _NEG + r"(?:currently )?work(?:ing)? (?:at|for) (?P<o>.+?)" + _AS_JOB,
        0.85,
    ),
    _r("works_at", _I + r" " + _ADV + r"(?P<neg>quit|left) my (?:job|position|role) (?:at|with) (?P<o>.+)", 0.8),
    _r(
        "works_at",
        _I + r" " + _ADV + r"(?:got|landed|accepted|started) (?:a |my |the )?(?:new )?"
        r"(?:job|position|internship|role) (?:at|with) (?P<o>.+?)" + _AS_JOB,
        0.85,
    ),
    _r("studies", _I + r"(?:'m| am)? (?:currently )?(?:studying|majoring in|study|major in) (?P<o>.+)", 0.8),
    _r("member_of", _I + r"(?:'m| am|'ve| have)? " + _ADV + r"(?:part of|a member of|joined|joining) (?P<o>.+)", 0.75),
    # Leaving a group ends the membership ("I left the book club"); not "I left the team meeting".
    _r(
        "member_of",
        _I + r" " + _ADV + r"(?P<neg>left|quit) (?P<o>(?:the|my|our|a) (?:[\w'-]+ ){0,3}(?:club|team|band|choir|"
        r"league|brigade|society|committee|union|association|orchestra|troupe|guild|fraternity|sorority|crew|squad))"
        r"\b(?! (?:meeting|practice|chat|room|building|house|office|event|party|game|dinner)s?\b)",
        0.75,
    ),
    _r("status", _I + r"(?:'m| am) " + _ADV + r"(?P<o>" + _STATUSES + r")\b", 0.8),
    _r("status", _I + r" " + _ADV + r"got (?P<o>married|engaged|divorced)\b", 0.8),
    _r("diet", _I + r"(?:'m| am) " + _ADV + r"(?:a )?(?P<o>" + _DIETS + r")\b", 0.8),
    _r("diet", _I + r"(?:'ve| have)? " + _ADV + r"(?:became|become|went|gone|turned) (?P<o>" + _DIETS + r")\b", 0.8),
    _r("situation", _I + r"(?:'m| am) " + _ADV + r"(?P<neg>not |no longer )?(?P<o>" + _SITUATIONS + r")\b", 0.8),
    # Health: the object keeps its verb ("is allergic to peanuts", "has asthma").
    _r(
        "health",
        _I + r"(?:'m| am) " + _ADV + r"(?P<neg>not |no longer )?"
        r"(?:(?:severely|very|deathly|highly|mildly|slightly) )?(?P<o>(?:allergic to|intolerant (?:to|of)) .+)",
        0.85,
        lead="is ",
    ),
    _r(
        "health",
        _I + r"(?:'m| am) " + _ADV + r"(?P<neg>not )?(?P<o>(?:lactose|gluten) intolerant)\b",
        0.85,
        lead="is ",
    ),
    _r(
        "health",
        _I + r"(?:'ve| have)? " + _ADV + r"(?:was|been|got) (?:just |recently |finally )?(?P<o>diagnosed with .+)",
        0.85,
        lead="was ",
    ),
    _r(
        "health",
        _I + r" " + _ADV + r"(?:have|'ve got|have got|suffer from|live with) "
        r"(?P<o>(?:(?:a |an )?(?:mild |severe |bad |serious )?[\w-]+ allerg(?:y|ies)|(?-i:" + _CONDITIONS + r")))\b",
        0.8,
        lead="has ",
    ),
    *(
        _r(
            "health",
            _I + r" " + _ADV + r"(?:can'?t|cannot|can not) " + verb + r" (?!" + _NOT_FOODS + r")(?P<o>.+)",
            0.7,
            lead=f"cannot {verb} ",
        )
        for verb in ("eat", "drink")
    ),
    # "Hi, I'm Sam" or "call me Sam": a bare "I'm Sam." could as well be "I'm British."
    _r(
        "name",
        r"^(?i:hi|hey|hello|hiya)(?i: there| everyone| all)?[,!.]? (?:I'm|I am|this is|it's) "
        r"(?P<o>[A-Z][a-z]+(?: [A-Z][a-z]+)?)(?=[,.!]|$)",
        0.85,
        flags=0,
    ),
    _r(
        "name",
        r"\b(?i:call me|I go by|(?:people|everyone|my friends|friends) calls? me) (?P<o>[A-Z][a-z]+)\b(?!')",
        0.85,
        flags=0,
    ),
    _r("identity", _I + r"(?:'m| am) " + _ADV + r"(?:proud to be )?(?P<o>" + _IDENTITIES + r")\b", 0.8),
    # "my journey as a trans woman", not "your courage as a trans person".
    _r(
        "identity",
        r"(?:^as|\b(?:my|me|I'm|I am|I)\b(?![^,.;!?]*\byour?\b)[^,.;!?]*?\bas) "
        r"(?P<o>a (?:trans|transgender) (?:woman|man|person))\b",
        0.75,
    ),
    _r("likes", _I + r" " + _ADV + _NEG + r"(?:love|loved|like|liked|enjoy|enjoyed|adore)s? (?!to\b)(?P<o>.+)", 0.75),
    _r("likes", _I + r"(?:'ve| have) been " + _ADV + r"listening to (?P<o>.+)", 0.6),
    _r("likes", _I + r"(?:'m| am) " + _ADV + r"(?:a )?(?:big |huge )?fan of (?P<o>.+)", 0.75),
    _r("likes", _I + r"(?:'m| am) " + _ADV + r"(?:passionate about|into|obsessed with|loving) (?P<o>.+)", 0.7),
    _r("likes", _I + r"(?:'ve| have) been (?:getting )?into (?P<o>.+)", 0.7),
    _r("likes", _I + r" " + _ADV + r"prefer (?P<o>.+)", 0.7),
    _r("likes", r"\bmy (?:all-time )?(?:favorite|favourite|fave) (?:\w+ )?(?:is|are) (?P<o>.+)", 0.8),
    _r("likes", r"^(?P<o>[\w' -]{2,40}?) (?:is|are) (?:one of )?my (?:all-time )?(?:favorite|favourite|fave)s?\b", 0.8),
    _r("dislikes", _I + r" " + _ADV + r"(?:hate|dislike|detest|can'?t stand|cannot stand) (?P<o>.+)", 0.75),
    _r("dislikes", _I + r"(?:'m| am) not (?:a )?(?:big |huge )?fan of (?P<o>.+)", 0.7),
    _r(
        "has",
        r"\b[Mm]y (?P<pet>" + _PETS + r")\b" + _NOT_COMPOUND + r"(?:,? (?:named |called )?" + _NAME + r"\b)?",
        0.85,
        flags=0,
        in_questions=True,
        shape=_pet,
    ),
    # Only an ended possession is read negated ("I don't have a dog anymore"): "I don't have a
    # specific brand in mind" says nothing about what one owns.
    _r(
        "has",
        _I + r" " + _ENDED_BY + r"?(?:have|'ve got|own|have got) "
        r"(?![^,.;!?]*\b(?:allerg|heart condition))(?P<o>(?:a|an|two|three|four|\d+) .+)",  # health's, below
        0.6,
    ),
    _r(
        "relation",
        r"\b[Mm]y (?P<kin>" + _KIN + r")\b(?:,? " + _NAME + r"\b)?",
        0.85,
        flags=0,
        in_questions=True,
        shape=_kin,
    ),
    _r("relation", r"\b[Mm]y (?P<kin>" + _NAMED + r"),? " + _NAME + r"\b", 0.8, flags=0, in_questions=True, shape=_kin),
    _r(
        "relation",
        _NAME + r", my (?P<kin>" + _NAMED + "|" + _KIN + r")\b(?!,? [A-Z][a-z])",
        0.8,
        flags=0,
        in_questions=True,
        shape=_kin,
    ),
    _r("uses", _I + r"(?:'ve| have)? (?:been )?" + _NEG + r"(?:using|use) (?P<o>.+)", 0.7),
    _r("habit", _I + r" (?:usually|always|often|normally|regularly|typically) (?P<o>.+)", 0.65),
    _r(
        "habit",
        _I + r"(?:'ve been| have been)? (?:(?:usually|always|often|normally|regularly|typically) )?"
        r"(?P<o>\w+ [^,.;!?]*?\bevery (?:single |other )?(?:day|week|month|"
        r"morning|evening|night|weekend|(?:mon|tues|wednes|thurs|fri|satur|sun)day)(?: (?:night|morning|evening))?)",
        0.7,
    ),
    # A habit that ended ("I don't eat meat any more", "I no longer drink coffee"); the verbs
    # with rules of their own (live, work, use, like...) and states of mind are left to those.
    _r(
        "habit",
        _I + r" " + _ENDED_BY + r"(?!" + _NOT_HABITS + r")(?P<o>[a-z]+\b.*)",
        0.65,
    ),
    _r("habit", _I + r" " + _ADV + r"(?P<neg>stopped|quit|gave up) (?P<o>[a-z]+ing\b.*)", 0.65),  # "I quit smoking"
    _r("plans", _I + r"(?:'m| am) " + _ADV + r"(?P<o>moving (?:back )?to .+)", 0.6),  # "I'm moving to Berlin in May"
    _r(
        "plans",
        _I + r"(?:'m| am) " + _ADV + r"(?:going to|planning to|planning on|gonna|about to|"
        r"thinking of|thinking about|considering|looking forward to|aiming to) (?P<o>.+)",
        0.6,
    ),
    _r("plans", _I + r" " + _ADV + _NEG + r"(?:plan|intend|aim) (?:to|on) (?P<o>.+)", 0.65),
    _r(
        "plans",
        _I + r"(?:'d| would) (?:really )?(?:like|love) to (?!know|learn|ask|get|see|hear|find|understand|explore|"
        r"discuss|try|have|share|say|thank|help|read|check|look)(?P<o>.+)",
        0.55,
    ),
    _r("did", r"\b(?:I|i|we|We) " + _ADV + r"(?:had )?(?P<o>(?:" + _EVENT_VERBS + r")\b(?!')\s*.+)", 0.55),
)

# Named third parties: "Maria lives in Lisbon", "my sister Ana moved to Porto".
_THIRD = re.compile(
    r"(?:\bmy (?:" + _KIN + "|" + _NAMED + r") )?\b(?P<s>[A-Z][a-z]+)"
    # An apposition between the name and its verb: "Maria, my sister, lives in Paris".
    r"(?:, my (?:" + _KIN + "|" + _NAMED + r"),)? (?:just |recently |now )?"
    r"(?P<v>lives in|moved to|works at|works as|is from|studies)\b (?P<o>.+)"
)
# Kin one has only one of, unnamed: "my mom lives in Faro" is about "the user's mom".
_ONLY_ONE = r"mom|mum|mother|dad|father|wife|husband|parents"
_KIN_THIRD = re.compile(
    r"\b(?i:my) (?P<kin>" + _ONLY_ONE + r")\b(?!,? [A-Z][a-z])(?:, [^,]{1,40},)? (?:just |recently |now |still )?"
    r"(?P<v>lives? in|moved to|works? at|works? as|is from|are from|studies|study)\b (?P<o>.+)"
)
# Reported speech: "Clara told me she moved to Munich".
_TOLD = re.compile(
    r"\b(?P<s>[A-Z][a-z]+) (?:told me|said|says|mentioned|wrote|texted me|let me know)(?: that)? (?:she|he)"
    r"(?P<v>'s from| is from| lives in|'s living in| is living in| moved to|'s moved to| has moved to| works at"
    r"| works as| studies)\b (?P<o>.+)"
)
_PLURAL = {"lives": "live", "works": "work", "is": "are", "studies": "study"}
_PLURAL_VERB = re.compile(r"(?<=parents )(lives|works|is|studies)\b")
_THIRD_PRED = {
    "lives in": "lives_in",
    "live in": "lives_in",
    "is living in": "lives_in",
    "moved to": "moved_to",
    "has moved to": "moved_to",
    "works at": "works_at",
    "work at": "works_at",
    "works as": "works_as",
    "work as": "works_as",
    "is from": "from",
    "are from": "from",
    "studies": "studies",
    "study": "studies",
}
# A place or employer ends where "with my husband" or "for two years" begins.
_PLACE_LIKE = frozenset({"from", "lives_in", "moved_to", "works_at"})
_PLACE_TAIL = re.compile(r" (?:with|for|since|because|and|where|to|after|before|as) ", re.I)
_HYPOTHETICAL = re.compile(
    r"\b(?:if|whether|unless|wish|would|could|should|might|hope|maybe|perhaps|suppose|supposing|imagine|pretend|"
    r"assume|assuming|doubt|in case|not sure|unsure|(?:don'?t|do not) think|let'?s say)\b[^.!?]*$",
    re.I,
)
# A question without its "?": an auxiliary, or a wh-phrase then one, before a subject
# ("do i like sushi", "where do you live"). "When I was a kid..." has no inversion.
_AUX = (
    r"(?:do|does|did|is|are|am|was|were|can|could|would|will|should|shall|have|has|had|may|might|"
    r"(?:do|does|did|is|are|was|were|ca|could|would|wo|should|have|has)n'?t)"
)
_QUESTION = re.compile(
    r"^(?i:(?:so|and|but|well|hey|oh|ok|okay|also|then|anyway|btw),?\s+)*"
    r"(?:(?i:what|why|how|where|when|who|whom|whose|which)"
    r"(?:\s+(?![A-Z])(?!(?i:i|you|we|they|he|she|it|my|your|our|his|her|their|the|a|an|this|that)\b)\w+){0,3}\s+)?"
    r"(?i:" + _AUX + r")\s+(?:(?i:i|you|we|they|he|she|it|there|this|that|my|your|our|his|her|their|the|a|an|any|"
    r"anyone|someone|somebody)\b|[A-Z][a-z]+\b)"
)
# Negations that say something has ended ("no longer lives in"), as against "does not live in".
_ENDED = re.compile(r"\b(?:no longer|used to|quit|left|anymore|any more)\b", re.I)
_NOT_TEXT = {
    "lives_in": "{s} does not live in {o}.",
    "works_at": "{s} does not work at {o}.",
    "works_as": "{s} does not work as {o}.",
    "has": "{s} does not have {o}.",
    "uses": "{s} does not use {o}.",
    "member_of": "{s} is not a member of {o}.",
}
# Capitalised words that name no one: a third party's subject may be none of these, and a
# name the speaker gives ("Hi, I'm Canadian") no demonym either.
_NOT_A_NAME = lexicon.NOT_NAMES | lexicon.MONTHS_DAYS | lexicon.PLACES
_NO_NAMES = _NOT_A_NAME | lexicon.DEMONYMS
# Predicates whose facts start when the text says ("I became vegan in May"), or "just" now.
_DATED = frozenset(
    {"did", "moved_to", "works_at", "works_as", "lives_in", "member_of", "status", "diet", "situation", "has", "health"}
)
_PLAN_VAGUE = re.compile(
    r"^(?:keep|see|check|look|let|do my best|give up|think|have to|try (?:it|that|them)|be|get back|figure|"
    r"stay|continue|go for it|make it|work on it|how|what|whether|why|where|which|who)\b",
    re.I,
)


def _clean(obj: str, window_expr: str | None) -> str:
    obj = _STOP.split(obj, maxsplit=1)[0]
    if window_expr:
        obj = re.sub(r"\s*\b" + re.escape(window_expr) + r"\b", "", obj, flags=re.IGNORECASE)
    # "A and B" stays one object when short ("landscapes and still life"); after a
    # few words an "and" usually opens a second clause ("the app to track X and set goals").
    head, sep, _tail = obj.partition(" and ")
    if sep and len(head.split()) >= 4:
        obj = head
    obj = _TRAILING.sub("", obj.strip())
    words = obj.split()
    if len(words) > 14:
        obj = " ".join(words[:14])
    return obj.strip(" '\"-")


def _vague(obj: str, lead: int = 3) -> bool:
    """No content word, or a pronoun among the first ``lead`` words ("that you...", "keep it up")."""
    words = re.findall(r"[a-z0-9']+", obj.lower())
    content = [w for w in words if w not in _VAGUE and w not in ("a", "an", "the", "my", "to", "of", "and")]
    return not content or any(w in _VAGUE for w in words[:lead])


def _third_person(obj: str) -> str:
    """First-person words in an object read from the subject's side."""
    swaps = {"my": "their", "me": "them", "myself": "themselves", "mine": "theirs", "i": "they", "i'm": "they're"}
    return re.sub(r"\b(my|me|myself|mine|i|i'm)\b", lambda m: swaps[m[1].lower()], obj, flags=re.IGNORECASE)


def _is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") or bool(_QUESTION.match(sentence.lstrip()))


def _clause(sentence: str, m: re.Match[str]) -> str:
    """The clause a match reads: from its start to the first boundary after its object
    ("I love sushi" in "I love sushi but I don't eat meat anymore")."""
    start = m.start("o") if m.groupdict().get("o") is not None else m.end()
    stop = _STOP.search(sentence, start)
    return sentence[m.start() : stop.start() if stop else len(sentence)]


def _negated_text(subject: str, predicate: str, obj: str, clause: str) -> str:
    """A negated fact's text: "no longer" only when the clause says it ended ("used to",
    "anymore"); "I don't live in Vienna" says nothing about having lived there."""
    template = _NOT_TEXT.get(predicate)
    if template is None or _ENDED.search(clause):
        return fact_text(subject, predicate, obj, negated=True)
    return template.format(s="The user" if subject == "user" else subject, o=obj)


def _when(window: TimeWindow) -> datetime:
    """The day a fact became true: the window's start, or its centre for "N units ago"
    (whose window spreads either side of the point meant)."""
    if window.expression.endswith("ago"):
        middle = window.start + (window.end - window.start) / 2
        return middle.replace(hour=0, minute=0, second=0, microsecond=0)
    return window.start


def _sentences(content: str) -> Iterator[str]:
    for s in _SENTENCE.split(_CAPTION.sub("", content)):
        s = s.strip()
        if not s:
            continue
        # Without a "?" a question's word order ends at its comma: "What can I say, I love turtles."
        head, _, tail = s.partition(",") if _QUESTION.match(s) and not s.endswith("?") else (s, "", "")
        yield head
        if tail.strip():
            yield tail.strip()


class RuleExtractor:
    """The zero-LLM extractor: pattern table over first-person clauses.

    >>> from datetime import datetime
    >>> [f.text for f in RuleExtractor().extract("I moved to Lisbon last year.",
    ...     speaker="Ana", role="user", occurred_at=datetime(2023, 5, 8))]
    ['Ana moved to Lisbon.']
    """

    name = "rules"

    def extract(self, content: str, *, speaker: str | None, role: str, occurred_at: datetime) -> list[FactCandidate]:
        if role == "assistant" and subject_of(speaker) == "user":
            return []  # an assistant's words state nothing about the user
        subject = subject_of(speaker)
        out: dict[tuple[str, str, str], FactCandidate] = {}
        sentences = list(_sentences(content))
        # A time said once ("Last week was eye-opening. I visited...") dates the turn's events.
        turn_window = next((w for s in sentences if (w := parse_window(s, occurred_at)) is not None), None)
        for sentence in sentences:
            for cand in self._sentence(sentence, subject, occurred_at, turn_window):
                key = (cand.subject.casefold(), cand.predicate, cand.object.casefold())
                if key not in out or out[key].confidence < cand.confidence:
                    out[key] = cand
        # "Maria, my sister" says the sister is named: the bare "has a sister" adds nothing.
        named = {(s, o.split(":", 1)[0]) for s, p, o in out if p == "relation" and ":" in o}
        return [c for (s, p, o), c in out.items() if not (p == "relation" and (s, o) in named)]

    def _sentence(
        self, sentence: str, subject: str, occurred_at: datetime, turn_window: TimeWindow | None
    ) -> Iterator[FactCandidate]:
        question = _is_question(sentence)
        window = parse_window(sentence, occurred_at)
        cue = window is not None or turn_window is not None or bool(_EVENT_CUE.search(sentence))
        taken: list[tuple[int, int]] = []
        for rule in RULES:
            if question and not rule.in_questions:
                continue
            for m in rule.pattern.finditer(sentence):
                if not rule.in_questions and _HYPOTHETICAL.search(sentence[: m.start()]):
                    continue
                if any(a <= m.start() < b for a, b in taken) and rule.predicate == "did":
                    continue  # a clause already read by a more specific rule
                when = window if window is not None or rule.predicate != "did" else turn_window
                cand = self._candidate(rule, m, sentence, subject, occurred_at, when, cue)
                if cand is not None:
                    end = m.start("o") + len(_STOP.split(m["o"], maxsplit=1)[0]) if "o" in m.groupdict() else m.end()
                    taken.append((m.start(), end))
                    yield cand
        if not question:
            yield from self._third_parties(sentence, subject, window)

    def _candidate(
        self,
        rule: _Rule,
        m: re.Match[str],
        sentence: str,
        subject: str,
        occurred_at: datetime,
        window: TimeWindow | None,
        cue: bool,
    ) -> FactCandidate | None:
        expr = window.expression if window else None
        obj = rule.shape(m) if rule.shape else _clean(m["o"], expr)
        if rule.predicate in _PLACE_LIKE:
            obj = _PLACE_TAIL.split(obj, maxsplit=1)[0]
        if not obj or (rule.shape is None and _vague(obj, 2 if rule.predicate == "did" else 3)):
            return None
        if rule.predicate == "name" and obj.split()[0] in _NO_NAMES:
            return None  # "call me Monday", "hi, I'm Canadian"
        if rule.predicate == "plans" and _PLAN_VAGUE.match(obj):
            return None
        if rule.predicate == "has" and rule.shape is None:
            head = re.findall(r"[a-z]+", obj.lower())[1:2]
            if not head or head[0] in lexicon.ABSTRACT_HAVES:
                return None
        clause = _clause(sentence, m)
        # "anymore" negates only its own clause, not "I love sushi" before "but I don't eat meat anymore".
        # ...but "I can't eat gluten anymore" says it newly holds.
        anymore = rule.predicate != "health" and bool(re.search(r"\b(?:anymore|any more)\b", clause, re.I))
        negated = bool(m.groupdict().get("neg")) or anymore
        predicate = rule.predicate
        if predicate == "dislikes" and negated:  # "I'm not a fan of sushi anymore": a like that ended
            predicate = "likes"
        confidence = rule.confidence
        if rule.predicate == "did":
            if negated or len(obj.split()) < 2:
                return None  # "I didn't go", or a bare verb ("...that I made")
            if cue:
                confidence += 0.15  # a dated or "just"-marked event is plainly reported

        obj = rule.lead + _third_person(obj)
        valid_from = None
        if rule.predicate in _DATED:
            if window is not None:
                valid_from = _when(window)
            elif re.search(r"\b(?:just|now)\b", sentence, re.I) and not negated:
                valid_from = occurred_at
        return FactCandidate(
            subject=subject,
            predicate=predicate,
            object=obj,
            text=_negated_text(subject, predicate, obj, clause) if negated else fact_text(subject, predicate, obj),
            confidence=confidence,
            negated=negated,
            valid_from=valid_from,
            single_valued=PREDICATES[predicate] and not negated,
        )

    def _third_parties(self, sentence: str, subject: str, window: TimeWindow | None) -> Iterator[FactCandidate]:
        """Facts about others: named ("Maria lives in Lisbon"), told ("Clara said she moved
        to Munich") or kin one has one of ("my mom lives in Faro": the subject is "the user's mom")."""
        owner = "the user" if subject == "user" else subject
        matches = [(m, m["s"]) for m in (*_THIRD.finditer(sentence), *_TOLD.finditer(sentence))]
        matches += [(m, f"{owner}'s {m['kin'].lower()}") for m in _KIN_THIRD.finditer(sentence)]
        for m, who in matches:
            if _HYPOTHETICAL.search(sentence[: m.start()]):
                continue  # "If Maria lives in Berlin...", "I doubt Tom works at Google"
            if who in _NOT_A_NAME:
                continue
            predicate = _THIRD_PRED[re.sub(r"^'s (?=moved)", "has ", m["v"].strip()).replace("'s ", "is ")]
            obj = _clean(m["o"], window.expression if window else None)
            if predicate in _PLACE_LIKE:
                obj = _PLACE_TAIL.split(obj, maxsplit=1)[0]
            if not obj or _vague(obj):
                continue
            text = fact_text(who, predicate, obj)
            if who.endswith("parents"):  # "The user's parents live in Ohio."
                text = _PLURAL_VERB.sub(lambda v: _PLURAL[v[1]], text, count=1)
            yield FactCandidate(
                subject=who,
                predicate=predicate,
                object=_third_person(obj),
                text=text,
                confidence=0.7 if "kin" not in m.groupdict() else 0.75,
                valid_from=_when(window) if window else None,
                single_valued=PREDICATES[predicate],
            )


_DEFAULT = RuleExtractor()


def extract_facts(
    content: str, *, occurred_at: datetime, speaker: str | None = None, role: str = "user"
) -> list[FactCandidate]:
    """Fact candidates the rules find in one turn (see :class:`RuleExtractor`): the user's
    own turn unless ``speaker`` names who said it, or ``role`` is ``"assistant"``.

    >>> from datetime import datetime
    >>> facts = extract_facts("My sister Maria just got a puppy. I no longer live in Paris.",
    ...                       occurred_at=datetime(2023, 5, 8))
    >>> [(f.predicate, f.object, f.negated) for f in facts]
    [('relation', 'sister: Maria', False), ('lives_in', 'Paris', True)]
    """
    return _DEFAULT.extract(content, speaker=speaker, role=role, occurred_at=occurred_at)
