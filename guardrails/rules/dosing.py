"""Dosing: any request for a personal amount, schedule, taper, conversion between forms, or a
stronger effect. The router also joins recent turns, so a weight in one turn and "so how much
then?" two turns later is one request."""

from guardrails.rules import Rule, rule

UNITS = r"(?:g|grams?|gs|grs?|mg|milligrams?|caps?|capsules?|tabs?|tablets?|pills?|shots?|scoops?|spoons?|spoonfuls?|teaspoons?|tsp|tablespoons?|tbsp|doses?|bottles?|gramos?|capsulas?|pastillas?|cucharad\w*|dosis)"
FORMS = r"(?:capsules?|caps|powder|leaf|leaves|extract|shots?|tabs?|tablets?|7oh|gummies|tea|resin|tincture|liquid|kratom|polvo|capsulas?|extracto)"

RULES: list[Rule] = [
    rule(
        "dosing.how_much",
        r"\bhow (?:much|many)(?! (?:\w+ )?(?:does it|do they|people|ppl|users|persons|americans|adults|teens|kids|folks|deaths|die|died|overdoses|reports|money|\$|research|evidence|is known|do we know|studies|people|deaths|cases|calls|states|countries|time|days|hours|weeks|months|years|minutes|longer|more (?:dangerous|risky|likely)|stronger|weaker|worse|safer|damage|harm|risk))(?![^.?!]*\b(?:cost|costs|price|pay|money|is in (?:a|the|one|each|it|kratom|\w+ (?:product|leaf|sample))|are in|does \w+ contain|contains?)\b)\b[^.?!]{0,40}\b(?:should|shall|do|can|could|would|to take|to use|to start|to dose|to redose|for (?:me|him|her|them|my|a |an |pain|energy|sleep|anxiety|withdrawal|opiate|opioid)|is (?:safe|ok|okay|fine|enough|too much|normal|a lot)|is too|then|kratom|7oh|powder|extract|caps|capsules|grams|mg|shots|tabs|tablets)\b",
        r"\bhow (?:much|many) (?:grams?|g|mg|milligrams?|caps|capsules|tabs|tablets|pills|shots|scoops|spoons|teaspoons|tablespoons|doses)\b",
        r"\bhow much (?:then|now|exactly|tho|though)?\s*\??$",
        r"\b(?:and|or) how (?:much|many)\b(?! (?:people|deaths|cases))",
        r"\bhow much (?:and|or|,)",
        r"\b(?:ok|so|alright|right|fine)[, ]+how much\b",
        r"\b[ck]uant[oa][sz]? (?:kratom|7oh|gramo[sz]|g|mg|capsulas|pastillas|tabletas|shots?|cucharad\w*|debo|deberia|tomo|tomar|tomaria|le doy|le damos|toma|toman|tomaria|tomarias|uso|usar|puedo|podria|necesito|me recomiendas|le recomiendas|recomiendas|seria|es (?:seguro|mucho|demasiado|normal)|entonces|polvo|extracto|hojas)",
    ),
    rule(
        "dosing.dose_request",
        r"\b(?:what|whats|what'?s|which|recommended|recommend|suggest|give me|tell me|need|want|know|find|calculate|figure out|share|list|say|post|write|output|print|provide|providing|state|stating|confirm|confirming|giving|listing|telling me|reveal|generate|display|show me|spit out|dame|dime) (?:is |are |'?s |would be )?(?:a |the |an |your |my |his |her |some )?(?:(?:good|safe|safest|normal|typical|right|proper|correct|ideal|usual|standard|average|starting|starter|beginner|first[- ]?time|low|lower|high|higher|max|maximum|min|minimum|effective|therapeutic|recommended|best|daily|optimal|realistic|solid|decent|moderate|mild|strong|reasonable|sensible|common|regular|maintenance|exact|micro|kratom|7oh|morning|night|nightly|personal|specific)[ -]){0,3}(?:dose|doses|dosage|dosages|dosing|amount|serving|serving size|microdose|regimen|protocol|number of (?:grams|caps|capsules|mg))\b",
        r"\b(?:dose|dosage|amount|serving)s? (?:for|of (?:kratom|7oh) for|should|to take|i should|do i|would you|you'?d|recommended for|per (?:day|kg|pound)) ?(?:me|him|her|them|my|a |an |pain|anxiety|energy|sleep|withdrawal|focus|beginners?|first|\d)",
        r"\b(?:start|starting|begin|beginning|start off|start out) (?:with|at|on)\b[^.?!]{0,30}\b(?:how|what|dose|amount|\d)",
        r"\b(?:should|can|could|would|do|shall|is it ok if|is it okay if|is it safe if) (?:i|he|she|we|they|my \w+|you) (?:take|use|start|do|try|have|dose|redose|give (?:him|her|them)|up|increase|double|bump)\b[^.?!]{0,40}\b(?:more|less|another|extra|again|double|half|one|two|three|dose|amount|\d+|a lot|higher|lower)\b",
        r"\b(?:ideal|perfect|best|right|exact) (?:\w+ )?(?:number|amount) of\b",
        r"___|\bfill in the (?:blank|number)\b|\banswer (?:only )?with a number\b|\bjust (?:give me |say )?(?:a|the) number\b",
        r"\b(?:que|cual|cuales) (?:es |seria |son )?(?:la |una |las )?(?:buena |mejor |correcta |normal )?dosis\b",
        r"\bdosis (?:recomendada|segura|inicial|normal|diaria|ideal|correcta|para|de kratom para|maxima|minima)",
        r"\b(?:me recomiendas|recomiendame|dime) (?:cuanto|una dosis|la dosis|que cantidad)",
        r"\bque cantidad\b",
        r"\bmicro-?dos\w*|\bmacro-?dos\w*",
        r"\bwhat (?:should|would|could|can) (?:i|he|she|we|they|my \w+) (?:start|begin|try) (?:with|on|at)\b",
        r"\b(?:exact|exacta|precise|real|reales|actual) (?:dose|dosis|dosage|numbers?|numeros?|amount|cantidad|grams|gramos)\b|\bcon numeros\b",
        r"\bserving size\b",
        r"\bnumber of (?:grams|g|caps|capsules|mg|tabs|tablets|shots|scoops|pills)\b",
        r"\b(?:dose|dosage|amount)s? (?:of (?:kratom|7oh) )?(?:to take )?(?:for|to treat|to help with|to manage|para)\b",
        r"\b(?:prescribe|prescription|regimen|protocol|routine|personali[sz]ed (?:plan|dose|dosing|amount))\b[^.?!]{0,40}\b(?:kratom|7oh|for me|for my|me)\b",
        r"\b(?:plan|regimen|protocol|routine|schedule) for (?:me|him|her|my)\b",
        r"\b(?:mg|g|grams?|mgs)\s*(?:/|per)\s*(?:kg|kilo|lb|pound)\b",
        r"\bdose_\w*|\bdose\b(?=[^.?!]{0,20}(?:\bfill\b|\?))|\bfill in\b[^.?!]{0,25}\b(?:dose|gram|amount|number|blank|mg)",
        r"\b(?:solo|unicamente) con un numero\b",
        r"\b(?:gramos|mg|capsulas|cucharadas?) de (?:kratom|7oh) (?:para|por)\b",
        r"\b(?:take|have|do|try) (?:a |the )?(?:second|another|extra|bigger|smaller|higher|lower|third|2nd|3rd) (?:dose|one|round|serving|scoop|cap|capsule|tab|shot|hit)\b",
        r"\b(?:split|cut|break|halve|divide|snap)\b[^.?!]{0,25}\b(?:in half|in halves|into (?:halves|quarters|pieces|thirds)|in quarters|quarter)",
        r"\bhalf or (?:a )?(?:whole|full|quarter)\b|\bwhole or (?:a )?half\b|\bmedia o (?:entera|una entera)",
    ),
    rule(
        "dosing.amount_check",
        r"\b(?:is|are|would|will|does|do|can|could|should) (?:\w+ ){0,3}\d+(?:[.,]\d+)? ?"
        + UNITS
        + r"\b[^.?!]{0,40}\b(?:too much|too many|safe|ok|okay|fine|enough|a lot|alot|dangerous|normal|strong|work|good|reasonable|overkill|low|high|excessive)\b",
        r"\b(?:i|he|she|we|they|my \w+)(?: \w+){0,3} (?:take|use|do|have|taking|using|doing) (?:\w+ )?\d+(?:[.,]\d+)? ?"
        + UNITS
        + r"\b[^.?!]{0,60}\b(?:should|can|could|too much|enough|more|less|safe|ok|okay|increase|lower|reduce|up it|bump)",
        r"\b(?:should|can|could) (?:i|he|she|we|they) (?:take|do|try|use|go (?:up )?to|bump (?:up )?to) (?:\w+ )?\d+(?:[.,]\d+)? ?"
        + UNITS
        + r"\b",
        r"\b(?:es|son|seria|serian) \d+(?:[.,]\d+)? ?"
        + UNITS
        + r"\b[^.?!]{0,30}\b(?:mucho|demasiado|seguro|suficiente|normal|poco)",
    ),
    rule(
        "dosing.schedule",
        r"\bhow (?:often|frequently|many times)(?: (?:a|per) (?:day|week))?\b[^.?!]{0,30}\b(?:should|can|do|could|is it (?:ok|okay|safe)) (?:i|he|she|we|they|you|one|people)\b[^.?!]{0,20}\b(?:take|dose|use|redose|have)",
        r"\b(?:when|what time) (?:should|can|do) (?:i|he|she|we|you) (?:take|dose|redose|have) (?:my|the|his|her|next|another|it|kratom|7oh|more)",
        r"\bredos\w*\b",
        r"\bhow long (?:should|do|can) (?:i|he|she|we|you) wait (?:between|before|after) (?:\w+ )?(?:doses|taking|redos\w*|another)",
        r"\b(?:dosing|dose|dosage) (?:schedule|regimen|plan|chart|guide|table|calculator)s?\b",
        r"\b(?:twice|three times|once|2x|3x) (?:a|per) day\b[^.?!]{0,40}\b(?:how much|ok|okay|enough|should)",
        r"\bcada cuant\w*",
        r"\bcuantas veces (?:al|por) (?:dia|semana)",
        r"\bhorario (?:de )?(?:dosis|toma)",
    ),
    rule(
        "dosing.taper",
        r"\btaper\w*\b",
        r"\bwean\w* (?:off|down|myself|him|her)\b",
        r"\bstep (?:it |my dose |myself )?down\b",
        r"\b(?:cut|come|go|bring) (?:it |my dose |my use |myself )?down\b[^.?!]{0,40}\b(?:how much|by how|grams|schedule|plan|per (?:day|week)|each (?:day|week))",
        r"\b(?:reduce|lower|decrease|drop) (?:my|the|his|her) (?:dose|dosage|amount|intake|grams)\b[^.?!]{0,40}\b(?:by|how|what|schedule|plan|per|each)",
        r"\b(?:plan|schedule) (?:to|for) (?:get off|quit|stop|come off|reduce)\b[^.?!]{0,30}\b(?:dose|grams|amount|how much|per day)",
        r"\b(?:bajar|reducir|disminuir) (?:la |mi |su )?(?:dosis|cantidad)",
        r"\b(?:dejar|dejarlo) (?:poco a poco|gradualmente)\b[^.?!]{0,40}\b(?:cuanto|dosis|gramos|plan)",
        r"\bplan (?:para|de) (?:dejar|bajar|reducir)",
        r"\b(?:plan|map|lay|schedule|write|work) (?:it |this |that |something )?out for (?:me|him|her)\b",
        r"\b(?:day|week|month) by (?:day|week|month)\b[^.?!]{0,40}\b(?:plan|schedule|off|down|quit|stop|less|reduce)|\b(?:plan|schedule|off|down|quit|stop|reduce)\b[^.?!]{0,40}\b(?:day|week) by (?:day|week)\b",
        r"\b(?:armame|hazme|dame|arma|haz|escribe(?:me)?) (?:un|el|una|la) (?:plan|calendario|horario|programa|esquema)\b",
        r"\b(?:semana|dia) (?:por|a) (?:semana|dia)\b",
    ),
    rule(
        "dosing.conversion",
        rf"\b(?:equal|equals|equivalent|equivalence|same as|same strength as|as strong as|compare[sd]? to|convert|conversion|translate|translates|in terms of|corresponds?)\b[^.?!]{{0,60}}\b{FORMS}",
        rf"\b{FORMS}\b[^.?!]{{0,40}}\b(?:equal|equals|equivalent|same as|convert|conversion|=)\b",
        r"\bhow many (?:capsules?|caps|tabs?|tablets?|shots?|scoops?|spoons?|teaspoons?|grams?|gummies|pills?)\b[^.?!]{0,30}\b(?:in|per|equal|make|for|is|to)\b",
        r"\b(?:equivale|equivalen|equivalente|igual a|convertir|conversion)\b",
    ),
    rule(
        "dosing.stronger_effect",
        r"\bpotentiat\w*",
        r"\b(?:make|making|get|getting|have|help) (?:it|kratom|7oh|the (?:effects?|high|buzz)|them|my kratom|my dose)\b ?(?:to )?(?:hit|work|kick|feel|last)?(?: in)? ?(?:harder|stronger|better|faster|longer|more)\b",
        r"\b(?:stronger|better|bigger|more intense|longer|more) (?:effects?|high|buzz|hit|kick|euphoria)\b",
        r"\b(?:boost|enhance|intensify|amplify|increase|maximi[sz]e|strengthen) (?:the |my |its )?(?:effects?|high|buzz|kratom|7oh|potency|strength|euphoria)\b",
        r"\bfeel it more\b",
        r"\bhits? harder\b",
        r"\btolerance (?:reset|break)\b",
        r"\bget (?:more )?high(?:er)?\b",
        r"\bget a (?:better|bigger|stronger) (?:high|buzz)\b",
        r"\bmix (?:\w+ ){0,3}with [^.?!]{0,30}\b(?:to|so) (?:feel|it hits|it works|make it|get)\b",
        r"\bpotenci\w+",
        r"\b(?:pegue|pegar|haga efecto|hacer efecto|sienta) mas\b",
        r"\b(?:hacer(?:lo|la)?|que sea|sea|para que (?:sea|pegue)) mas (?:fuerte|potente)\b",
        r"\bmas (?:efecto|colocon|subidon)\b",
        r"\b(?:que|para que) (?:me )?(?:pegue|suba) mas",
    ),
    rule(
        "dosing.roleplay_prescriber",
        # the bot cast as the user's own clinician, then asked for a prescription, regimen or amount
        r"^(?=[\s\S]*\b(?:(?:you(?:'re| are| r)|ur|u r) (?:now |officially |basically )?(?:my|a|the)|"
        r"act(?:ing)? (?:as|like) (?:my|a|the)|be (?:my|a|the)|pretend(?:ing)? (?:to be|you(?:'re| are)) (?:my|a|the)|"
        r"play(?:ing)? (?:the role of )?(?:my|a|the)|role-?play(?:ing)? (?:as )?(?:my|a|the)|"
        r"eres (?:mi|un|el)|se mi|actua como (?:mi|un|el)|finge (?:ser|que eres) (?:mi|un|el)|haz de (?:mi|un))"
        r" (?:\w+ )?(?:pharmacist|doctor|dr|physician|prescriber|nurse|md|clinician|pain specialist|"
        r"farmaceutic[oa]|medic[oa]|doctora?|enfermer[oa])\b)"
        r"(?=[\s\S]*\b(?:prescri\w*|regimen|protocol|dose|doses|dosage|dosing|how (?:much|many)|amount|"
        r"schedule|taper|plan|recet\w*|dosis|cuant[oa]s?|pauta|tratamiento|cantidad)\b)",
    ),
    rule(
        "dosing.body_weight",
        r"\b(?:for|at|as) (?:a |an |someone |somebody )?(?:\d{2,3} ?(?:kg|kgs|kilo|kilos|lb|lbs|pound|pounds)|\d'\d{1,2}\"?)[^.?!]{0,40}\b(?:how much|dose|amount|grams|take|should)",
        r"\b(?:per|by) (?:body ?weight|kg|kilo|pound)\b",
    ),
]

# A body weight, height or condition in one turn makes a later bare "how much?" a dosing request.
CONTEXT_PATTERNS = [
    r"\b\d{2,3} ?(?:kg|kgs|kilo|kilos|lb|lbs|pounds?)\b",
    r"\b\d'\d{1,2}\b",
    r"\b\d ?(?:ft|feet|foot)\b",
    r"\bpeso \d+",
    r"\bmido \d",
    r"\b(?:i|he|she) weigh",
    r"\b\d+ ?(?:years? old|yo|anos)\b",
]
FOLLOW_UP_ASK = r"^(?:so |ok |okay |alright |and |then |y |entonces |pues |bueno )?(?:how much|how many|what amount|cuanto|cuantos|cuantas|que cantidad)\b"
# A question about the idea of a dose ("why is there no safe dose?") is answerable; these
# drop dose-word hits when nothing asks for an amount for someone.
DOSE_CONCEPT = r"\b(?:why|is there|isn'?t there|there is no|there'?s no|no (?:safe|established|standard|official|approved|set)|por que|no existe|existe|hay una|no hay)\b[^.?!]{0,60}\b(?:dose|doses|dosage|dosing|dosis|amount)"
# Questions about whether dose charts or claims are true are answerable, not dose requests.
DOSE_CLAIM = r"\b(?:dose|doses|dosage|dosing|dosis)\b[^.?!]{0,40}\b(?:backed|supported|based on|accurate|reliable|legit|trustworthy|scientific|science|evidence|research|true|myth|real|made up|reliable)\b"
# An amount in the user's message becomes a dosing request only with a forward-looking ask.
AMOUNT_ASK = r"\b(?:should|can i|could i|can he|can she|may i|is it (?:ok|okay|safe|fine|too much|enough)|is (?:that|this) (?:ok|okay|safe|fine|too much|enough|a lot|normal)|too much|too many|enough|safe|ok|okay|fine|tell me|start|starting|increase|up it|bump|redose|debo|puedo|es (?:mucho|seguro|demasiado))\b"
PERSONAL_ASK = r"\b(?:for me|for him|for her|should i|should he|should she|can i|could i|do i|i should|how much|how many|cuanto|cuantos|debo|me recomiendas|para mi|tell me (?:the|a|how)|give me)\b"
# Later asks that lean on an earlier turn ("so what would you suggest?").
ELLIPTIC_ASK = r"\b(?:what (?:would|do|should|can) (?:you|u|i) (?:suggest|recommend|say|take|do)|what should (?:i|he|she) (?:take|do|start with)|how much|how many|cuanto|cuantos|que me recomiendas|que (?:le )?recomiendas|dose|dosis|amount|cantidad|tell me the|give me (?:a|the)|for (?:him|her|me) then)\b"
