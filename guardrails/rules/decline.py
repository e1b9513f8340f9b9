"""Decline: buying, making extracts, hiding use or beating a drug test, and questions that are
not about kratom (off-topic, or medical questions about something else). Each rule id's
second part names the pointer sentence added to the reply (policy `decline_pointers`)."""

import re

from guardrails.rules import Rule, rule

RULES: list[Rule] = [
    rule(
        "decline.buy",
        r"\b(?:where|how) (?:can|could|do|should|would|to) (?:i |we |you |one )?(?:buy|get|order|find|purchase|cop|score|pick up|source)\b(?! (?:help|treatment|support|naloxone|narcan|rid))",
        r"\bwhere to (?:buy|get|order|find|purchase|cop)\b(?! (?:help|treatment|support|naloxone|narcan))",
        r"\b(?:best|good|reliable|trusted|trustworthy|reputable|legit|cheapest|cheap|top|favorite|favourite|recommended)\s+(?:kratom |7oh )?(?:vendors?|sellers?|shops?|stores?|brands?|sources?|websites?|sites?|suppliers?|dealers?|plugs?)\b",
        r"\b(?:vendor|seller|supplier|webshop|smoke shop|head shop|gas station)s?\b[^.?!]{0,40}\b(?:recommend|best|good|legit|sells?|near me|ship)",
        r"\b(?:which|what) (?:strain|brand|vendor|kind|type|color|colour|vein)s?\b[^.?!]{0,30}\b(?:should i (?:buy|get|try|order)|(?:is|are) (?:the )?best|do you recommend|to buy)",
        r"\b(?:best|strongest|good) (?:strain|vein|kratom|7oh|extract|shot)s?\b[^.?!]{0,30}\b(?:for|to buy|online|to get)\b",
        r"\bsell (?:me|you)\b",
        r"\b(?:which|what) (?:vendor|seller|shop|store|brand|site|website|plug|supplier)s?\b",
        r"\b(?:ship|shipping|deliver|delivery) (?:to|in)\b[^.?!]{0,30}\b(?:kratom|7oh)",
        r"\bnear me\b",
        r"\bdiscount code|coupon\b",
        r"\b(?:cheapest|cheap|best|good|legit|reliable|safest) (?:place|website|site|spot|way|source|shop|store) (?:to|for) (?:get|buy|order|find|cop|score)\b",
        r"\b(?:in bulk|wholesale|bulk (?:order|price|kratom|powder))\b",
        r"\b(?:which|what) (?:one |kind |type |strain |color |colour |vein )?(?:should|do|would) (?:i|you) (?:buy|get|order|try)\b",
        r"\brecommend (?:me )?(?:a|an|some|any|your|the best) (?:good )?(?:kratom |7oh )?(?:brand|vendor|strain|product|shop|store|seller|site|website|extract|shot)s?\b",
        r"\b(?:closest|nearest|local) (?:shop|store|place|vendor|smoke shop|seller)\b",
        r"\b(?:shop|store|place|gas station)s? (?:that|which|who) sells?\b",
        r"\b(?:start|open|run|launch) (?:a|an|my own|my|our) (?:kratom |7oh )?(?:business|shop|store|company|brand)\b",
        r"\bsell (?:it|kratom|7oh|them) (?:online|on (?:amazon|ebay|etsy))\b",
        r"\b(?:buy|buying|purchase|purchasing|order|ordering|cop|copping)\b(?![^.?!]{0,40}\b(?:legal|illegal|law|allowed|age|under 18|under 21|banned|ban)\b)[^.?!]{0,30}\b(?:kratom|7oh|strain|vein|extract|shots?|powder|capsules|tabs|gummies|bali|maeng)\b",
        r"\bcompr(?:ar|o|a|e|arlo|arla|amos)\b(?![^.?!]{0,40}\b(?:legal|ilegal|ley|edad|prohibido)\b)",
        r"\b(?:donde|como) (?:\w+ )?(?:puedo |se puede |podria )?(?:compr\w*|consig\w*|venden|vende|pido|encuentro)",
        r"\b(?:mejor|buen|buena) (?:tienda|vendedor|marca|proveedor)",
        r"\btienda\b[^.?!]{0,30}\b(?:kratom|7oh)",
    ),
    rule(
        "decline.extraction",
        r"\b(?:make|making|made|brew|cook|prepare|produce|create|do) (?:my own |an? |some |the |homemade |home ?made )?(?:extract|resin|tincture|concentrate|isolate|7oh|full spectrum extract)s?\b(?! (?:products?|regulated|legal|safe|dangerous|risky))",
        r"\b(?:extract|extracting|isolate|isolating|concentrate|concentrating|purify|purifying|synthesi[sz]e|synthesi[sz]ing|convert|converting)\b[^.?!]{0,30}\b(?:mitragynine|7oh|alkaloids?|kratom|leaves|powder)\b[^.?!]{0,40}\b(?:at home|myself|step|how|recipe|method|process|solvent|acid|base|diy)",
        r"\b(?:how (?:do|can|to|would)|step by step|recipe|instructions|method|diy)\b[^.?!]{0,40}\b(?:extract|extraction|concentrate|isolate|synthesi[sz]e|acid[/ -]base|make 7oh|turn (?:kratom|mitragynine) into 7oh)",
        r"\b(?:acid[/ -]?base|a/b) extraction\b",
        r"\b(?:walk me (?:thru|through)|show me|teach me|guide me|explain)\b[^.?!]{0,30}\b(?:isolat\w*|extract\w*|concentrat\w*|synthes\w*|cook\w*|purif\w*)",
        r"\b(?:cook|cooks|cooking|boil\w*|reduc\w*)\b[^.?!]{0,30}\b(?:down|into)\b[^.?!]{0,30}\b(?:concentrat\w*|goo|paste|resin|extract|syrup|sludge)",
        r"\b(?:lab glassware|in my (?:garage|kitchen|basement|bathroom|lab))\b",
        r"\b(?:real|actual|exact) (?:steps|recipe|method|procedure)\b",
        r"\b(?:concentrar|extraer|aislar|purificar|sintetizar|reducir)\b[^.?!]{0,40}\b(?:kratom|7oh|mitraginina|mitragynine|alcaloides|hojas)",
        r"\b(?:boil|simmer|reduce|cook|evaporate)\b[^.?!]{0,40}\b(?:into|to|down to|until)\b[^.?!]{0,20}\b(?:resin|extract|concentrate|paste|tincture|syrup)\b",
        r"\bmake (?:it|7oh|this|that|extract|resin) (?:from|out of|with) (?:my |the |some |plain )?(?:leaf|leaves|kratom|powder|mitragynine)\b",
        r"\b(?:hago|hacemos|preparo|preparar|hacer)\b[^.?!]{0,15}\b(?:extracto|resina|tintura|concentrado)",
        r"\b(?:hacer|preparar|fabricar|sacar) (?:un |una |mi propio |mi propia )?(?:extracto|resina|tintura|concentrado|7oh)",
        r"\bextraer\b[^.?!]{0,40}\b(?:mitraginina|mitragynine|7oh|alcaloides|kratom)",
    ),
    rule(
        "decline.drug_test",
        r"\b(?:pass|beat|cheat|fool|flush|clean out|get past|get through|trick|mask|dodge|avoid failing|not fail|get around)\b[^.?!]{0,30}\b(?:drug|urine|pee|piss|hair|mouth|saliva|swab|ua|tox|toxicology|employment|work|probation)?\s?(?:tests?|screens?|screening|ua|panel)\b",
        r"\b(?:not|won'?t|doesn'?t|never) (?:show|come|pop) up\b[^.?!]{0,40}\b(?:how|make|so that|so it|trick|way)",
        r"\b(?:how|way|ways|trick|tricks) (?:to|do i|can i|should i) (?:make (?:it|kratom|7oh) )?(?:not|never) (?:show|come) up\b",
        r"\b(?:get|make) (?:\w+ )?(?:to )?not (?:show|come) up\b",
        r"\bso (?:it|that it|they|kratom|7oh|that) (?:doesn'?t|won'?t|does not|will not|wont|doesnt) (?:show|come|pop) up\b",
        r"\b(?:detox|cleanse) (?:drink|kit|pills|shampoo)\b",
        r"\b(?:synthetic|fake|clean|someone else'?s) (?:urine|pee|piss)\b",
        r"\bhide (?:it|my|the|this|his|her|that i|that he|that she|kratom|7oh)\b[^.?!]{0,40}\b(?:from|use|using|habit|smell|parents|wife|husband|boss|doctor|family|mom|dad|test|partner)",
        r"\b(?:hide|hiding|conceal|concealing|keep (?:it )?secret|sneak)\b[^.?!]{0,20}\b(?:kratom|7oh|my use|using|habit)",
        r"\bkeep (?:it|this|my use|my kratom|kratom|7oh|that) (?:hidden|secret|quiet|on the down ?low|under wraps)\b",
        r"\b(?:hide|mask|cover up|get rid of) the smell\b",
        r"\bpara que no (?:lo|la|me|se) (?:encuentren|descubran|sepan|noten|den cuenta)",
        r"\bso (?:my|the) (?:parents|wife|husband|boss|partner|family|mom|dad) (?:don'?t|won'?t|doesn'?t) (?:find out|know|notice)",
        r"\b(?:pasar|pase|paso|enganar|burlar)\b[^.?!]{0,30}\b(?:antidoping|prueba|examen|test|doping)",
        r"\bque no (?:me )?salga\b",
        r"\b(?:ocult\w*|escond\w*)\b[^.?!]{0,40}\b(?:kratom|7oh|consumo|que (?:tomo|consumo)|mis papas|mi familia|mis padres)",
    ),
    rule(
        "decline.grow",
        r"\b(?:grow|growing|cultivate|cultivating|plant|planting|propagate)\b[^.?!]{0,30}\b(?:kratom|7oh|mitragyna)?\s?(?:trees?|seeds?|plants?|cuttings?|clones?)\b",
        r"\b(?:cultivar|sembrar|plantar)\b[^.?!]{0,30}\b(?:kratom|arbol|semillas)",
    ),
    rule(
        "decline.off_topic",
        r"\b(?:write|draft|compose|help me (?:write|with)|make) (?:me )?(?:a|an|my) (?:cover letter|resume|cv|essay|poem|email|story|song|speech|code|program|script|website|app)\b",
        r"\b(?:who|which team) (?:won|will win|wins|is winning|do (?:you|u) think (?:wins|will win))\b",
        r"\b(?:super ?bowl|world cup|champions league|la champions|nba|nfl|premier league|world series)\b",
        r"\b(?:weather|forecast) (?:today|tomorrow|in|for)\b",
        r"\b(?:recipe|recipes) for\b",
        r"\b(?:netflix|movie|show|series|book|song) (?:to watch|recommendation|to read)\b|\brecommend (?:a |me a )?(?:good )?(?:netflix|movie|show|series|book|song)\b",
        r"\bcapital of\b",
        r"\b(?:unrelated|off[- ]topic|different (?:topic|question)|change of subject|otra cosa|cambiando de tema|otro tema)\b(?![^.?!]{0,60}\b(?:kratom|7oh)\b)[^.?!]{0,60}\b(?:can you|could you|help|what|who|how|where|recommend|puedes|ayuda\w*|que|como|donde|quien)\b",
        r"\bplan (?:a|my) (?:trip|vacation|holiday|party|wedding)\b",
        r"\b(?:python|javascript|java|sql|excel) (?:code|function|script|formula)\b",
        r"\b(?:tell me a joke|what'?s the time|what time is it)\b",
        r"\b(?:quien|que equipo) (?:gano|gana|ganara|crees que gane)\b",
        r"\b(?:el clima|la receta|una receta)\b",
        r"\bescribe(?:me)? (?:un|una) (?:carta|ensayo|poema|cuento|cancion)\b",
        r"\b(?:ayudas|ayudar|ayudame|ayuda) a (?:escribir|redactar|hacer) (?:un|una|mi) (?:correo|email|mail|mensaje|carta|curriculum|cv|tarea|ensayo)\b",
    ),
]

SUBSTANCE_RE = re.compile(
    r"\b(?:kratom|7oh|mitragyn\w*|mitragin\w*|speciosa|alkaloids?|alcaloides?|pseudoindoxyl)\b"
)
# Topics the corpus covers even when kratom is not named (help, pain care, overdose, ...).
IN_SCOPE_RE = re.compile(
    r"\b(?:opioids?|opiates?|overdos\w*|naloxone|narcan|poison\w*|988|samhsa|helpline|addict\w*|substance use|"
    r"withdrawal|abstinence|buprenorphine|suboxone|methadone|naltrexone|chronic pain|pain (?:relief|management|treatment|care|options)|"
    r"treat(?:ing|ment)? (?:for |of )?(?:my |chronic )?pain|fda|dea|legal|illegal|banned|ban|schedule[d]?|drug test|tolerance|dependence|"
    r"herbal|supplements?|plant|leaf|leaves|strains?|veins?|grams?|doses?|dosage|dosing|capsules?|powder|extract|shots?|tabs|gummies|"
    r"sobredosis|abstinencia|adiccion|dolor cronico|opioides?|opiaceos?|naloxona|legal|ilegal|suplementos?)\b"
)
# Health words that, without kratom or an in-scope topic, mark a medical question about something else.
OTHER_MEDICAL_RE = re.compile(
    r"\b(?:cbd|thc|delta[- ]?\d+|cannabis|marijuana|weed|edibles|kava|kanna|phenibut|ashwagandha|caffeine|nicotine|vape|vaping|"
    r"strep|throat|muela|muelas|diente|dientes|pastilla|antibiotics?|infection|sinus|flu|covid|vaccines?|fever|migraine|acne|rash|eczema|diabetes|insulin|"
    r"blood pressure|cholesterol|statins?|thyroid|asthma|allergy|allergies|diet|a cold|the flu|common cold|weight loss|keto|vitamins?|melatonin|"
    r"zoloft|sertraline|prozac|fluoxetine|lexapro|ssris?|antidepressants?|adderall|ritalin|xanax|ativan|valium|ibuprofen|advil|"
    r"tylenol|acetaminophen|aspirin|birth control|pregnan\w*|period|std|sti|uti|cancer|tumor|surgery|dentist|tooth|teeth|"
    r"doctor|medication|medicine|meds|prescription|pills?|dosis|medicamento|pastillas|antibiotico|presion|gripe|embaraz\w*)\b"
)
# Words that make a message plausibly about health or drugs: without any of these (and
# without kratom or an in-scope topic) a message is off-topic.
HEALTH_RE = re.compile(
    r"\b(?:pain|hurt\w*|ache|liver|heart|lips?|skin|face|eyes?|throat|tongue|chest|stomach|belly|head|dizzy|faint\w*|conscious|awake|wake|shaking|sweat\w*|pale|numb|"
    r"kidney|brain|blood|breath\w*|sleep|anxiety|depress\w*|mood|energy|sick|nause\w*|"
    r"vomit\w*|dose|doses|dosage|dosing|grams?|mg|strains?|veins?|tea|high|buzz|effects?|side effects?|safe|safety|danger\w*|risk\w*|"
    r"health\w*|medical|doctor|drug\w*|medicine|medication|meds|pills?|addict\w*|withdraw\w*|quit\w*|stop(?:ping)?|detox|craving\w*|"
    r"pregnan\w*|breastfe\w*|baby|newborn|teens?|alcohol|overdos\w*|poison\w*|seizures?|died|deaths?|die|dying|test|tests|"
    r"hospital|er|symptoms?|signs?|tolerance|dependen\w*|interact\w*|mix\w*|combine\w*|legal\w*|law|fda|dea|who|cdc|nih|study|studies|research|evidence|"
    r"dolor|higado|corazon|sueno|ansiedad|salud|droga\w*|medic\w*|adicc\w*|abstinencia|embaraz\w*|riesgo\w*|efecto\w*|seguro|peligro\w*)\b"
)
