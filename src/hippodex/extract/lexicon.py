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
# Relationship status: one holds at a time, so a new one closes the old.
STATUSES = ("single", "married", "engaged", "divorced", "widowed")
# What one eats: one at a time ("vegan" closes "vegetarian"), apart from one's relationship.
DIETS = ("vegan", "vegetarian", "pescatarian")
# Circumstances that hold beside each other and beside a marriage.
SITUATIONS = (
    "pregnant",
    "retired",
    "unemployed",
    "sober",
    "a single mom",
    "a single dad",
    "a single parent",
    "a stay-at-home mom",
    "a stay-at-home dad",
    "a new mom",
    "a new dad",
)
# Conditions "I have X" states plainly (no article needed): "I have asthma".
CONDITIONS = (
    "asthma",
    "diabetes",
    "type 1 diabetes",
    "type 2 diabetes",
    "celiac disease",
    "coeliac disease",
    "epilepsy",
    "migraines",
    "arthritis",
    "ADHD",
    "autism",
    "dyslexia",
    "high blood pressure",
    "hypertension",
    "IBS",
    "Crohn's disease",
    "lupus",
    "eczema",
    "psoriasis",
    "a heart condition",
    "cancer",
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
    US USA UK UAE DC CA Alabama Arkansas Connecticut Delaware Idaho Illinois Indiana Iowa Kansas Kentucky
    Louisiana Maine Maryland Massachusetts Minnesota Mississippi Missouri Montana Nebraska Oklahoma Pennsylvania
    Tennessee Vermont Wisconsin Wyoming Caribbean Iceland Croatia Hungary Romania Czechia Israel Lebanon Iran Iraq
    Pakistan Bangladesh Nepal Tibet Taiwan Cambodia Laos Myanmar Ethiopia Ghana Tanzania Uganda Rwanda Zimbabwe
    Colombia Venezuela Ecuador Bolivia Uruguay Paraguay Cuba Jamaica Haiti Guatemala Honduras Nicaragua Panama
    Zealand Fiji Scandinavia
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
    Last Next Since After Before Then Now Today Tomorrow Yesterday Tonight Woah Whoa Woohoo Yay Ugh Guess
    In On At For From To With Into Onto During Until About Through Without Near Around Across Of
    LOL LMAO OMG BTW FYI TBH IDK IMO IMHO ASAP BRB TTYL NGL IKR AKA XOXO"""
)
# Common words that may open a sentence before a verb yet are never names: a
# lone one first in a sentence stays dropped even in "Life is good", "Work was
# hard", "Everyone loves it". Kept apart from NOT_NAMES, which also trims the
# front of longer names and vets names in the fact rules.
COMMON_STARTERS = words(
    """He She It They We You One Someone Somebody Something Anyone Anybody Anything Everyone Everybody Everything Nobody
    Nothing Noone None Each Both Either Neither Most Many Few Several Much More Less Others Other Another Things Stuff
    Such Whoever Whatever Mine Yours Ours Theirs Hers Lots Tons Plenty Half Part Nor Yet Still Even Only Never Always
    Sometimes Often Usually Mostly Recently Lately Finally Actually Honestly Basically Luckily Hopefully Seriously
    Apparently Obviously Definitely Probably Suddenly Eventually Overall Otherwise However Everywhere Somewhere
    Anywhere Nowhere Everyday Morning Evening Afternoon Night Weekend Weekends Summer Winter Spring Fall Autumn Day
    Days Week Weeks Month Months Year Years Time Times
    Life Work Job Career School College Class Classes Home House Family Friends People Person Kids Baby Parents Mom
    Mum Dad Mother Father Grandma Grandpa Brother Sister Son Daughter Husband Wife Boyfriend Girlfriend Partner Team
    Teammates Coach Boss Music Art Arts Nature Love Health Money Food Dinner Lunch Breakfast Coffee Tea Pizza Cake
    Wine Beer Weather Rain Snow Sun Traffic Travel Trip Vacation Holiday Holidays Party Game Games Sports Sport Dance
    Yoga Pottery Clay Guitar Piano Poetry Books Book Movies Movie Film Films Shows Show Theater Theatre Church Faith
    God Heaven Therapy Exercise Fitness Gym Practice Change Success Failure Progress Balance Confidence Courage
    Patience Hope Fear Stress Anxiety Pain Injury Grief Loss Joy Peace Freedom Growth Support Advice Business Studies
    Exams Exam Homework Research Stories Story Words Ideas Pets Pet Dogs Dog Cats Cat Puppies Puppy Animals Birds Fish
    Turtles Plants Flowers Garden Trees Water Ocean Beach Mountains City Town Store Shop Office Car Cars Phone
    Internet Social Media News History Math Tech Tournaments Tournament Concert Concerts Festival Camp Blue Red Green
    Black White Pink Purple Yellow Orange Gold Silver"""
)
# Verbs that mostly take a person subject, third person or past: after one, a
# lone capitalised first word is a name ("Ana lives in Rome"). No bare plural
# forms ("Cats sleep"), nor verbs any noun takes ("Art gives", "Yoga helps").
PERSON_VERBS = words(
    """is was has had lives lived works worked said says told tells asked asks moved moves went goes got gets
    loves loved likes liked hates hated wants wanted studies studied teaches taught plays played thinks thought
    knows knew met meets called calls texted texts married graduated joined visited visits bought adopted
    quit retired wrote writes sings sang paints painted cooks cooked"""
)
# Adverbs that may sit between such a name and its verb ("Ana just moved").
VERB_ADVERBS = words("just also really always never still recently finally actually even often usually already")
# All-capital tokens that name no organisation (the default for an acronym).
NOT_ORG_ACRONYMS = words(
    """LGBTQ LGBT LGBTQIA TV DIY RPG FPS MMO PTSD ADHD OCD DNA CEO CPR GPS AI PC VR R&R BBQ SUV RV ER ICU
    ID PDF USB GPA MBA HR PR II III IV AM PM NLP CPU GPU RAM SSD HDD HDR GB MB TB KB SEO EP LP CD DVD HD UI UX API
    OS FAQ ETA URL HTML CSS SQL QA IQ DM MRI CT ECG EKG UTI ENT EMG BP RAW DI ASL BSL"""
)
MONTHS_DAYS = words(
    """January February March April May June July August September October November December Monday Tuesday
    Wednesday Thursday Friday Saturday Sunday Christmas Halloween Easter Thanksgiving
    Mon Tue Tues Wed Weds Thu Thur Thurs Fri Sat Sun"""
)
# Adjectives (and a few nouns) of nations, regions and peoples: capitalised,
# yet no one's name ("Mexican food", "my Swedish grandma", "I speak French").
# Names that double as one ("Roman", "Norman", "Dane", "Scot", "Christian")
# are left out.
DEMONYMS = words(
    """American Americans Canadian Mexican Guatemalan Honduran Salvadoran Nicaraguan Panamanian Cuban Jamaican
    Haitian Dominican Colombian Venezuelan Ecuadorian Peruvian Bolivian Chilean Argentine Argentinian
    Uruguayan Paraguayan Brazilian British Brit Brits English Scottish Welsh Irish French German Dutch Flemish
    Belgian Swiss Austrian Italian Sicilian Tuscan Spanish Catalan Basque Portuguese Greek Cypriot Maltese
    Swedish Norwegian Danish Finnish Icelandic Scandinavian Nordic Polish Czech Slovak Hungarian Romanian
    Bulgarian Croatian Serbian Bosnian Slovenian Albanian Lithuanian Latvian Estonian Russian Ukrainian
    Belarusian Georgian Armenian Turkish Kurdish Persian Iranian Iraqi Syrian Lebanese Jordanian Palestinian
    Israeli Saudi Emirati Yemeni Arab Arabian Egyptian Moroccan Algerian Tunisian Libyan Ethiopian Eritrean
    Somali Sudanese Kenyan Ugandan Tanzanian Rwandan Nigerian Ghanaian Senegalese Congolese Cameroonian
    Zimbabwean Afghan Pakistani Indian Bangladeshi Nepali Nepalese Tibetan Chinese Taiwanese Japanese Korean
    Mongolian Vietnamese Thai Cambodian Laotian Burmese Filipino Filipina Indonesian Balinese Malaysian
    Singaporean Australian Aussie Hawaiian Polynesian Samoan Fijian Maori Asian European African Latin Hispanic
    Latino Latina Latinx Mediterranean Midwestern Texan Californian Cajun Creole Celtic Navajo Cherokee Inuit
    Aboriginal Indigenous Jewish Muslim Catholic Buddhist Hindu Sikh"""
)
# Languages that are no demonym ("learning Mandarin", "coding in Python").
LANGUAGES = words(
    """Mandarin Cantonese Hindi Urdu Bengali Punjabi Gujarati Marathi Tamil Telugu Arabic Hebrew Yiddish Farsi
    Swahili Amharic Yoruba Igbo Hausa Zulu Tagalog Gaelic Esperanto Sanskrit Quechua Python JavaScript
    TypeScript Kotlin Fortran"""
)
# Given names that are common words too, and so sit in a stop list above
# (COMMON_STARTERS, NOT_NAMES, MONTHS_DAYS): first in a sentence one counts
# only on a sign no common word gives ("Joy's sister", "Will said").
NAMES_AS_WORDS = words("Hope Joy Faith Patience Summer Autumn Art Will May June April August")
# Verbs, past tense, that only people do: they show a name even in a word that
# is also a noun or a gerund ("Hope said", "Manning married"), where "is",
# "has" or "loves" would not ("Joy is everywhere", "Painting has helped").
PERSON_ONLY_VERBS = words("said told asked called texted emailed replied married graduated met")
