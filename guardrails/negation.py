"""When a symptom mention is not a current emergency: negated, in the distant past, or asked
in general. `now` markers ("right now", "just took", "help") keep an emergency an emergency
even in question form; when genuinely unsure, the router keeps emergency."""

from __future__ import annotations

import re

NEGATED = re.compile(
    r"\beveryone(?:'?s| is) (?:fine|ok|okay|safe)(?: now)?\b|"
    r"\b(?:he'?s|hes|she'?s|shes|they'?re|i'?m|im|he is|she is|they are|i am|we'?re|i feel|i felt|feel|feeling|felt) (?:totally |completely |all |much |perfectly |doing )?(?:fine|ok|okay|alright|all right|better|stable|back to normal|normal)\b(?= (?:now|again|today|since|after|these days))|"
    r"\b(?:turned out|ended up) (?:totally |completely )?(?:fine|ok|okay|alright)\b|\bstable now\b|\b(?:got|was|been) (?:discharged|released from the hospital)\b|\bout of the hospital\b|"
    r"\bme dieron de alta\b|\b(?:le|lo|la) dieron de alta\b|"
    r"\b(?:false alarm|all good now|it passed|it went away|went away)\b|"
    r"\b(?:already|now) (?:at|in) (?:the )?(?:hospital|er|emergency room|ed)\b|\b(?:ambulance|paramedics|emts?) (?:came|took|is here|are here|arrived|checked)\b|"
    r"\b(?:doctors?|docs?|er) (?:checked|said|cleared|ran tests)\b|\bgot checked out\b|\bwas (?:fine|ok|okay) after\b|"
    # "talking" is recovery only as itself ("she's talking now"), never "talking funny/gibberish" (slurred
    # or confused speech is an emergency sign)
    r"\b(?:is|are|'s|'re|hes|shes|theyre) (?:now )?(?:awake|up|conscious|talking(?= now| again| normally| fine| ok| okay| clearly| to (?:me|us)| and|\s*[.,!?;]|\s*$)|breathing (?:normally|fine|ok|okay|better))(?: now| again| and (?:talking|breathing|ok|okay|fine))?\b|"
    r"\b(?:ems|emts?|paramedics|medics|firefighters|the ambulance|an ambulance|911) (?:came|got here|took over|have (?:him|her|them)|took (?:him|her|them|me))\b|"
    r"\btook (?:him|her|them|me) to (?:the )?(?:hospital|er|emergency room|ed)\b|\b(?:at|in) the (?:hospital|er|emergency room|icu) now\b|\bhelp is here\b|"
    r"\bya (?:esta|estoy|estan) (?:bien|mejor|en el hospital)\b|\bya (?:desperto|reacciono|respira bien|se desperto)\b|"
    r"\bya llegaron (?:los paramedicos|la ambulancia)\b|\bse (?:lo|la|los) llevaron al hospital\b|"
    r"\b(?:esta|estoy) bien ahora\b|\bya paso\b|\bllego la ambulancia\b|"
    # in professional hands ("she's with the paramedics now", "they said she's breathing fine")
    r"\b(?:doctors?|docs?|nurses?|the er|urgent care|clinic|paramedics|emts?)\b[^.?!]{0,30}\b(?:checked|examined) (?:me|him|her|them)(?: out| over)?\b|"
    r"\bsent (?:me|him|her|them) (?:back )?(?:home|to (?:my|his|her|their) (?:dorm|room|place))\b|\bvitals (?:were |are |all )?(?:normal|fine|good)\b|"
    r"\b(?:he'?s|hes|she'?s|shes|they'?re|theyre|he is|she is|they are) (?:now )?with (?:the )?(?:paramedics|emts?|ems|medics|ambulance crew)\b|"
    r"\b(?:they'?ve|theyve|they have) got (?:him|her|them)\b|\bthe (?:doctors?|nurses?|paramedics|emts?|ems) (?:have|got) (?:him|her|them)\b|"
    r"\b(?:they|the (?:doctors?|nurses?|paramedics|emts?|ems)) said (?:he'?s|hes|she'?s|shes|they'?re|i'?m|im) (?:breathing )?(?:fine|ok|okay|stable|alright|out of danger)\b|"
    r"\b(?:ahora|ahorita) (?:ya )?(?:esta|estoy|estan) bien\b|\b(?:esta|estan) con los paramedicos\b|\bya (?:lo|la|los) (?:atendieron|revisaron|estan atendiendo)\b|\b(?:desperto|reacciono) y (?:esta|ya) (?:bien|hablando)\b"
)
# The bot's emergency reply was itself a false alarm and the user says so ("no, nobody is hurt,
# i was asking in general"): an exit from a live emergency, never a reason to ignore a symptom in
# the same message (router.py checks the message has no emergency sign of its own).
FALSE_ALARM = re.compile(
    r"\b(?:nobody|no one|noone)(?:'?s| is| was| got)? (?:hurt|sick|in danger|overdosing|dying|unconscious)\b|\bnobody took (?:anything|it)\b|"
    r"\b(?:i was|we were|i'?m|im|i am) (?:just |only )?(?:asking|wondering)(?: about it)? (?:in general|generally|hypothetically|for (?:a|my) (?:class|paper|project|story)|for future reference)\b|"
    r"\bi was (?:just |only )?(?:asking|wondering|curious)\s*[.!]*$|"
    r"\b(?:it'?s|its|it was|this is|that was|that'?s|was) (?:just |only )?(?:a )?(?:hypothetical|general question)\b|\b(?:it'?s|its|it was|that was|was) (?:just|only) a question\b|"
    r"\b(?:not|no|isn'?t|wasn'?t) (?:an? |real |really an? )?(?:emergency|real situation)\b|"
    r"\b(?:you )?misunderstood\b|\bthat'?s not what i meant\b|\bi (?:meant|mean) in general\b|\bfalse alarm\b|"
    r"\bnadie (?:esta |estaba )?(?:herido|en peligro|mal|intoxicado)\b|\bsolo (?:preguntaba|pregunto|era una pregunta|tenia curiosidad)\b|"
    r"\b(?:era|es) (?:una pregunta (?:general|hipotetica)|hipotetico|solo una pregunta)\b|\bno (?:es|era|hay) (?:una )?emergencia\b|\bme (?:malinterpretaste|entendiste mal)\b|"
    r"\b(?:preguntaba|pregunto|era|hablaba) en general\b|\bpreguntaba por (?:curiosidad|saber)\b"
)
# Declarations that nothing is happening ("no emergency, just curious") make a message a
# general question; they never outweigh a concrete event happening now ("ate it 10 min ago").
DECLARED = (
    r"\b(?:no|not an?|isn'?t an?|not really an?) (?:emergency|emergencia)\b|\b(?:nobody|no one)(?:'?s| is)? (?:hurt|in danger|sick)\b|"
    r"\bjust (?:curious|wondering|asking)\b|\bjust (?:want|wanted) to (?:know|understand|be prepared)\b|\bnothing (?:is )?(?:happening|wrong)\b|"
    r"\bno (?:es|hay) (?:una )?emergencia\b|\bsolo (?:por )?curiosidad\b|\bsolo (?:queria|quiero|quisiera) saber\b|\bsolo (?:pregunto|preguntaba)\b|"
    r"\bnadie (?:esta )?(?:herido|en peligro|mal)\b|\bes (?:solo )?para saber\b|\bpor si acaso\b"
)
# A denied symptom ("I'm NOT having trouble breathing") is removed from the text before the
# emergency rules run; other symptoms in the same message still count.
DENIED = re.compile(
    r"\b(?:don'?t|do not|doesn'?t|does not|didn'?t|never|am not|i'?m not|im not|is not|isn'?t|not|no) (?:\w+ )?(?:have |having |had |got |getting |feel |feeling )?(?:any )?"
    r"(?:trouble|problems?|difficulty|issues?|shortness of|chest pain|seizures?)(?: (?:breathing|with (?:my|his|her) breathing|of breath))?\b|"
    r"\bno (?:tengo|tiene) (?:problemas? (?:para|al) respirar|dolor (?:de|en el) pecho|convulsiones)\b"
)

PAST = re.compile(
    r"\b(?:last (?:year|month|week|weekend|summer|winter|spring|fall|autumn|christmas|time)|(?:a |one |two |three |few |several |many |\d+ )?(?:years?|yrs?|months?|mos|weeks?|wks?) (?:ago|back)|"
    r"a while (?:ago|back)|back (?:then|when|in (?:19|20)\d\d)|in the past|used to|when i was (?:younger|a kid|in)|years back|"
    r"in (?:19|20)\d\d|el (?:ano|mes) pasado|la semana pasada|hace (?:un|una|unos|unas|dos|tres|varios|varias|muchos|muchas) (?:anos?|mes(?:es)?|semanas?|tiempo)|hace tiempo)\b"
)
GENERAL = re.compile(
    r"\bif i (?:took|take|were to|did|had|ate|swallowed)\b|\bwhat (?:would|could) happen\b|" + DECLARED + "|"
    r"^(?:\W*)(?:can|could|does|do|will|would|is|are|was|what|whats|what'?s|how|why|which|when|should (?:someone|a person|people|you)|puede|pueden|es|son|que|cual|cuales|como|por que|cuando)\b|"
    r"\b(?:if|when|whether) (?:someone|somebody|a person|people|you|u|one|anyone|a friend|your friend|a user|users)\b|"
    r"\b(?:signs?|symptoms?|warning signs?) (?:of|that)\b|\bwhat (?:does|do) [^.?!]{0,40} look like\b|\bhypothetical(?:ly)?\b|"
    r"\bfor (?:a|my) (?:class|school|paper|essay|project|report|course|presentation)\b|\bin general\b|\bis (?:it|that|this) (?:common|normal|a side effect|possible|rare|known)\b|"
    r"\bside effects?\b|\bsi (?:alguien|una persona|uno)\b|\bsintomas de\b|\ben general\b|"
    r"\bfor (?:a|my|the) (?:screenplay|script|novel|story|book|movie|film|scene|play|show|game|character)\b|\b(?:in|for) (?:a|my) (?:story|novel|screenplay)\b|"
    r"\b(?:can|could|does|do|will|would|might|puede|pueden)\b[^.?!]{0,30}\b(?:cause|causes|give (?:you|people)|lead to|trigger|provocar|causar|producir|dar)\b"
)
NOW = re.compile(
    r"\b(?:right now|rn|atm|currently|at the moment|tonight|this morning|just now|just (?:took|had|ate|swallowed|used|did|drank|downed)|"
    r"minutes? ago|an? hour ago|hours? ago|\d+ ?(?:min|mins|minutes|hours|hrs) ago|help (?:me|him|her|us|please|pls|now)|^help\b|please help|pls|plz|hurry|asap|omg|"
    r"what do i do|what should i do(?! if)|what do we do|is (?:he|she) (?:ok|okay|going to be)|"
    r"ahora|ahorita|ahora mismo|ayuda|auxilio|hace (?:un rato|unos minutos|una hora|media hora)|que hago|que hacemos)\b"
)
PERSONAL = re.compile(
    r"\b(?:i'?m|im|i am|i feel|i have|i'?ve|i took|i just|my|me|he'?s|she'?s|he is|she is|he has|she has|they'?re|his|her|him|our|we'?re|"
    r"estoy|esta|tengo|tiene|mi|me|le|lo|la)\b"
)


def strip_denied(text: str) -> str:
    return DENIED.sub(" ", text)


def is_negated(text: str) -> bool:
    return bool(NEGATED.search(text))


def is_false_alarm(text: str) -> bool:
    return bool(FALSE_ALARM.search(text))


def is_past(text: str) -> bool:
    return bool(PAST.search(text)) and not NOW.search(text)


ACTUAL = re.compile(
    r"\b(?:not (?:a |really )?hypothetical\w*|for real|this is real|it'?s (?:me|real|happening)|its me|no es (?:hipotetico|un ejemplo)|es real|soy yo)\b"
)


def is_general(text: str) -> bool:
    """A question about kratom in general, not about someone now."""
    if NOW.search(text) or ACTUAL.search(text):
        return False
    if not GENERAL.search(text):
        return False
    hypothetical = re.search(
        r"\b(?:if|when|whether) (?:someone|somebody|a person|people|you|u|one|anyone)\b|\bsigns?|symptoms?\b|\bhypothetical|"
        r"\bif i (?:took|take|were to|did|had|ate|swallowed)\b|\bwhat (?:would|could) happen\b|"
        + DECLARED
        + "|"
        r"\bfor (?:a|my|the) (?:screenplay|script|novel|story|book|movie|film|scene|play|show|game|character)\b|"
        r"\b(?:escribe|cuento|historia|novela|personaje)\b",
        text,
    )
    return bool(hypothetical) or not PERSONAL.search(text)
