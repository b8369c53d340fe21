"""Small word lists the rule extractors lean on (kin, pets, jobs, places...).

Kept short and hand-written: they are a gazetteer of the common cases in chat
about one's life, not a dictionary.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps long lists readable)."""
    return frozenset(text.split())


KIN = (
    "best friend",
    "boyfriend",
    "girlfriend",
    "fiancée",
    "fiancee",
    "fiancé",
    "fiance",
    "husband",
    "wife",
    "partner",
    "spouse",
    "mom",
    "mum",
    "mother",
    "dad",
    "father",
    "parents",
    "sister",
    "sisters",
    "brother",
    "brothers",
    "siblings",
    "son",
    "sons",
    "daughter",
    "daughters",
    "kids",
    "children",
    "child",
    "baby",
    "grandma",
    "grandmother",
    "grandpa",
    "grandfather",
    "grandparents",
    "grandson",
    "granddaughter",
    "aunt",
    "uncle",
    "cousin",
    "niece",
    "nephew",
    "stepmom",
    "stepdad",
    "in-laws",
    "mother-in-law",
    "father-in-law",
)
# People who count as a relation only when the text names them ("my friend Ana").
NAMED_ONLY = (
    "friend",
    "boss",
    "coworker",
    "co-worker",
    "colleague",
    "roommate",
    "neighbor",
    "neighbour",
    "instructor",
    "teacher",
    "coach",
    "mentor",
    "therapist",
    "doctor",
    "manager",
)
PETS = (
    "dog",
    "dogs",
    "puppy",
    "pup",
    "cat",
    "cats",
    "kitten",
    "turtle",
    "turtles",
    "fish",
    "hamster",
    "parrot",
    "bird",
    "horse",
    "rabbit",
    "bunny",
    "guinea pig",
    "snake",
    "lizard",
    "tortoise",
)
JOBS = [
    *words(
        "accountant actor actress architect artist athlete baker barista carpenter cashier chef consultant counselor "
        "counsellor dancer dentist designer developer doctor driver economist editor electrician engineer farmer "
        "firefighter freelancer gamer hairdresser journalist lawyer librarian manager mechanic "
        "musician nurse painter paramedic pharmacist photographer physician pilot plumber professor "
        "programmer psychologist researcher salesperson scientist singer student "
        "surgeon teacher therapist translator tutor veterinarian vet waiter waitress writer author "
        "entrepreneur streamer youtuber blogger volunteer intern analyst"
    ),
    *("software engineer", "graphic designer", "police officer", "social worker", "tattoo artist"),
]
STATUSES = (
    "single",
    "married",
    "engaged",
    "divorced",
    "widowed",
    "pregnant",
    "retired",
    "unemployed",
    "a single mom",
    "a single dad",
    "a single parent",
    "a stay-at-home mom",
    "a stay-at-home dad",
    "a new mom",
    "a new dad",
    "vegan",
    "vegetarian",
    "sober",
)
IDENTITIES = (
    "transgender",
    "trans",
    "a trans woman",
    "a trans man",
    "a transgender woman",
    "a transgender man",
    "non-binary",
    "nonbinary",
    "gay",
    "lesbian",
    "bisexual",
    "queer",
)
# Things "I have a ..." says that are not possessions.
ABSTRACT_HAVES = words(
    """question questions feeling idea ideas lot few bit couple blast great good hard tough busy fun chance
    plan plans problem problems issue issues favor favour moment moments time day week dream goal thing things
    sense way habit tendency passion love soft spot knack concern concerns doubt doubts suggestion request
    meeting deadline presentation conversation talk chat look try go headache cold fever"""
)
PLACES = words(
    """Lisbon Paris London Berlin Madrid Rome Tokyo Kyoto Osaka Seoul Beijing Shanghai Sydney Melbourne Toronto
    Vancouver Montreal Chicago Boston Seattle Denver Austin Dallas Houston Miami Atlanta Portland Phoenix Vegas
    Brooklyn Manhattan Hollywood NYC LA SF Spain France Germany Italy Portugal Japan China Korea India Canada Mexico
    Brazil Argentina Peru Chile Australia England Scotland Ireland Wales Greece Turkey Egypt Morocco Kenya Nigeria
    Sweden Norway Finland Denmark Netherlands Belgium Switzerland Austria Poland Russia Ukraine Thailand Vietnam
    Indonesia Philippines Singapore Malaysia Bali Hawaii California Texas Florida Oregon Washington Colorado Arizona
    Nevada Utah Alaska Georgia Ohio Michigan Virginia Carolina Jersey York Europe Asia Africa America Tasmania
    Roppongi Amsterdam Prague Vienna Dublin Edinburgh Barcelona Venice Florence Milan Munich Zurich Geneva Sedona
    """
)
ORG_WORDS = words(
    """Inc Corp Corporation Company Co Ltd LLC University College School Academy Institute Hospital Clinic Bank
    Studios Studio Museum Library Church Center Centre Foundation Society Association Club Agency Group Team
    Brigade Department Council Ministry Airlines Airways"""
)
ORGS = words(
    """Google Amazon Apple Microsoft Facebook Meta Netflix Spotify Instagram Twitter YouTube TikTok Uber Tesla
    Nike Adidas IKEA Walmart Target Costco Starbucks KFC McDonald's Goodreads Mendeley Zotero Moosejaw Etsy Reddit
    Universal Disney NASA UNICEF"""
)
# Capitalised words that open sentences or fill chat and are not names.
NOT_NAMES = words(
    """I I'm I've I'd I'll Im Ive Hey Hi Hello Thanks Thank Wow Yeah Yes No Oh Ok Okay OK Sure Great Awesome Cool
    Nice Good Well So And But Or The A An It It's Its This That These Those There Here What When Where Who Why How
    Which Do Does Did Can Could Would Should Will Just Also Really Totally Love Glad Sounds Congrats Congratulations
    Haha Lol Omg Ah Aw Aww Hmm Yep Nope Sorry Please Take Talk Bye See Let Let's Same Anyway Btw By As If My Your
    Our His Her Their We You They He She Me Us Not Any Some All Every Being Having Got Getting Gonna Wanna Maybe
    Last Next Since After Before Then Now Today Tomorrow Yesterday Tonight Woah Whoa Woohoo Yay Ugh Guess"""
)
MONTHS_DAYS = words(
    """January February March April May June July August September October November December Monday Tuesday
    Wednesday Thursday Friday Saturday Sunday Christmas Halloween Easter Thanksgiving"""
)
