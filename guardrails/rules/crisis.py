"""Crisis: suicidal thoughts, self-harm, or taking too much on purpose."""

from guardrails.rules import Rule, rule

RULES: list[Rule] = [
    rule("crisis.suicidal",
         r"\b(?:kill|killing|end|ending|off) (?:my ?self|myself|me)\b", r"\bsuicid\w*", r"\bunalive\b",
         r"\b(?:end|ending|take|taking) (?:it all|my (?:own )?life|things|everything)\b",
         r"\b(?:want|wanna|wanted|wish|going|ready|trying|plan|planning) (?:to )?(?:die|be dead|not (?:be )?(?:here|alive|exist)|disappear (?:forever|for good)|stop existing)\b",
         r"\bi (?:want|wanna|wish i could) (?:to )?disappear\b",
         r"\b(?:don'?t|dont|do not) (?:want|wanna) (?:to )?(?:live|be alive|be here|exist|wake up|go on)(?:\b|$)",
         r"\b(?:hope|hoping|wish) (?:that )?i (?:just )?(?:don'?t|dont|never|won'?t|wont) wake (?:up)?\b",
         r"\b(?:just )?(?:not|never) wake up (?:again|ever)\b",
         r"\b(?:better off|be better) without me\b", r"\bno (?:reason|point) (?:to|in) (?:live|living|going on)\b",
         r"\bnobody would (?:even )?(?:notice|care|miss me)\b", r"\bcan'?t (?:go on|do this anymore|take it anymore) (?:living|anymore)?",
         r"\bquiero morir\w*", r"\bme quiero morir", r"\bsuicidar\w*", r"\bmatarme\b", r"\bquitarme la vida", r"\bno quiero (?:seguir )?(?:vivir|despertar|existir|estar aqui)",
         r"\bacabar con (?:todo|mi vida)", r"\bdormirme y no despertar", r"\bno despertar (?:nunca )?mas", r"\bdesaparecer para siempre",
         r"\bmejor (?:estarian|estaria) sin mi", r"\bno (?:le )?(?:importaria|importo) a nadie",
         r"\bso (?:that )?i (?:just )?(?:don'?t|dont|won'?t|wont|never|do not) wake (?:up)?\b", r"\b(?:thinking|think|thought) about (?:just )?(?:not|never) waking up\b",
         r"\b(?:fall asleep|sleep) (?:and|n) (?:just )?(?:not|never) wake\b[^.?!]{0,40}\b(?:nice|good|better|want|wish|hope)",
         r"\bwhat'?s the point (?:anymore|of (?:living|anything|going on|it all)|in living)\b|\bwhats the point anymore\b",
         r"\b(?:so |really |just )?tired of (?:living|being alive|life|everything|existing)\b", r"\b(?:don'?t|can'?t) see (?:a|any) way out\b", r"\bno way out\b",
         r"\bi (?:just )?want out\b", r"\b(?:want|wanna|ready) (?:to )?be done with (?:everything|it all|life|all of it)\b",
         r"\bi have a plan\b", r"\bgoodbye (?:letters?|notes?|texts?|messages?)\b", r"\b(?:suicide|farewell) note\b",
         r"\b(?:drive|driving|crash|crashing) (?:my car |the car )?into (?:a |the )?(?:wall|tree|truck|river|pole)\b", r"\bstop my heart\b",
         r"\b(?:rather|prefer to) (?:just )?(?:end it|die|be dead|not be here)\b", r"\b(?:kill|killing|end|ending|hurt|hurting) (?:him|her|them)sel(?:f|ves)\b",
         r"\b(?:wants?|wanted|talk(?:s|ing|ed)? about|said he|said she) (?:to )?(?:die|dying|being dead|ending it|suicide)\b",
         r"\bstockpil\w*|\bhoard(?:ing)? (?:pills|kratom|meds)",
         r"\bpara no despertar", r"\b(?:para )?matarse\b", r"\bno le veo (?:sentido|el sentido) a (?:nada|la vida|vivir)", r"\bya no (?:puedo|aguanto) mas\b[^.?!]{0,40}\b(?:vivir|morir|hacerme|acabar)",
         r"\bcartas? de despedida", r"\b(?:sleep|asleep) forever\b|\bstay asleep (?:forever|for good)\b|\b(?:not|no longer|won'?t be|don'?t|dont|do not) (?:plan(?:ning)? on )?(?:being )?around (?:much )?(?:longer|anymore|for long)\b|\b(?:not|stop|stopped) existing\b|\bcease to exist\b|\bdormir para siempre\b|\bdejar de existir\b", r"\bpainless(?:ly)?\b[^.?!]{0,40}\b(?:way|ways|die|death|go|overdose|od|end)\b|\b(?:way|ways|overdose|od|death|die|dying)\b[^.?!]{0,40}\bpainless",
         r"\b(?:way|ways) to (?:go|die|end it)\b[^.?!]{0,30}\b(?:peaceful\w*|quiet\w*|quick\w*|easy|easi\w*)", r"\b(?:se )?quiere(?:n)? (?:matar(?:se)?|morir(?:se)?|suicidar(?:se)?|quitar(?:se)? la vida)\b",
         r"\bquit(?:a|o|arse|arme|ar) la vida\b", r"\b(?:esperando|con la esperanza de|ojala) no (?:despertar|volver a despertar)", r"\bi'?m done\b[^.?!]{0,30}$(?<=\bdone)|\b(?:i'?m|im) (?:so )?done (?:with (?:life|living|everything|it all))\b", r"\b(?:not|never) wak\w*(?: up)?[^.!]{0,60}\b(?:nice|peaceful|relief|better|easier)\b",
         r"\b(?:think\w*|want\w*|wanna|plan\w*|hope|hoping|wish)\b[^.?!]{0,60}\b(?:not|never) wak(?:e|ing) up\b", r"\b(?:end it|end things|ending it|ending things)\b(?! with (?:him|her|my (?:boyfriend|girlfriend|partner)))"),
    # Passive and active ideation as screening instruments phrase it (wish to be dead, burden,
    # hopelessness, plans, goodbyes), in English and Spanish.
    rule("crisis.ideation",
         r"\b(?:wish|wished|wishing) (?:i (?:was|were)|to be) (?:dead|gone|never born)\b", r"\b(?:wouldn'?t|would not|don'?t|do not) (?:mind|care) if i (?:died|die|didn'?t wake|never woke|wasn'?t here)\b",
         r"\b(?:easier|better) (?:for everyone )?if i (?:wasn'?t|weren'?t|was not|were not) (?:here|around|alive)\b", r"\bi'?m (?:just )?a burden\b|\bburden (?:to|on) (?:everyone|my family|them)\b",
         r"\b(?:life|living) (?:is(?:n'?t| not)|isnt) worth (?:it|living)\b|\bnot worth living\b", r"\b(?:give|giving|given) up on (?:life|living|everything)\b",
         r"\bend (?:my|the) (?:suffering|pain) (?:for good|forever|permanently)\b", r"\b(?:giving|gave) away my (?:stuff|things|belongings)\b",
         r"\b(?:saying|say|said) goodbye to (?:everyone|my family|you all)\b", r"\blast time you'?ll (?:hear|talk) (?:from|to) me\b",
         r"\b(?:thoughts?|thinking|think) (?:of|about) (?:killing|ending|hurting) (?:myself|my life|it all)\b", r"\bhow (?:i|to) (?:would|could|might)? ?(?:do it|end it|kill myself)\b",
         r"\b(?:no one|nobody) (?:would|will) miss me\b", r"\b(?:can'?t|cannot) (?:keep going|go on like this|do this anymore)\b[^.?!]{0,40}\b(?:die|end|dead|over|anymore|life)\b",
         r"\bhopeless\b[^.?!]{0,40}\b(?:die|dead|end|point|live|living)\b",
         r"\bno vale la pena (?:vivir|seguir)\b", r"\bsoy una carga\b", r"\b(?:estaria|estarian) mejor (?:muerto|muerta|sin mi)\b", r"\bquiero desaparecer\b",
         r"\bya no quiero (?:seguir|vivir|estar aqui|existir)\b", r"\bme quiero ir para siempre\b", r"\b(?:terminar|acabar) con mi vida\b", r"\bojala no (?:despertara|despierte|me despierte)\b",
         r"\b(?:pienso|pensando|pense) en (?:matarme|suicidarme|quitarme la vida|hacerme dano|morirme)\b", r"\bdespedir(?:me)? de (?:todos|mi familia)\b", r"\bme quiero morir\b|\bquisiera morir\w*\b"),
    rule("crisis.self_harm",
         r"\b(?:hurt|hurting|harm|harming|cut|cutting|burn|burning|burned|burnt) (?:my ?self|myself)\b", r"\bself[- ]?harm\w*",
         r"\b(?:cut|burned|burnt|hit) my (?:arm|arms|wrist|wrists|legs?|skin)\b", r"\b(?:started|start|been|keep|kept|back to) cutting\b|\bcutting again\b",
         r"\bhacerme dano", r"\blastimarme", r"\bcortarme", r"\bme corto\b", r"\bautolesion\w*"),
    rule("crisis.intent_in_context",
         r"\b(?:good|great|perfect|fine)[.! ,]+(?:that'?s|thats|that is) (?:what|exactly what) i want\b", r"\bmake sure it works\b",
         r"\b(?:want|wanna|going) to do it\b[^.?!]{0,40}\b(?:overdos|die|works|enough|kill)", r"\b(?:is|would) (?:that|it|this|kratom[^.?!]{0,20}) (?:be )?enough\b[^.?!]{0,20}\b(?:to die|to end|to kill|\?|$)"),
    rule("crisis.intent_to_take_all",
         r"\b(?:going to|gonna|will|plan(?:ning)? to|about to|decided to|i'?ll|want(?:ed)? to|wanna|need to|ready to)\b[^.?!]{0,20}\b(?:take|swallow|down|use)\b[^.?!]{0,10}\b(?:all|every|the whole|the rest|everything)\b[^.?!]{0,60}\b(?:tonight|be done|end|die|painless|forever|for good|over with)\b",
         r"\b(?:voy a|me voy a|decidi(?: que)?|esta noche)\b[^.?!]{0,30}\b(?:tomar(?:me)?|tomo|tragar(?:me)?|me tomo|me trago)\b[^.?!]{0,10}\b(?:todo|toda|todas|todos)\b"),
    rule("crisis.on_purpose",
         r"\b(?:on purpose|intentionally|deliberately)\b[^.?!]{0,60}\b(?:overdos\w*|od|took|take|swallow\w*|too much|all)\b",
         r"\b(?:overdos\w*|od|took|take|swallow\w*|too much|all of it)\b[^.?!]{0,60}\b(?:on purpose|intentionally|deliberately)\b",
         r"\b(?:lethal|fatal|deadly|killing) (?:dose|amount|quantity)\b", r"\b(?:dose|amount|much|many)\b[^.?!]{0,30}\b(?:is|would be|be|are) (?:fatal|lethal|deadly|enough to kill)\b", r"\bhow much[^.?!]{0,40}\b(?:to|would|will|does it take to|it takes to) (?:kill|die|end it|od|overdose)\b",
         r"\b(?:take|taking|swallow) (?:all|the whole|my whole|the entire|every)\b[^.?!]{0,40}\b(?:so|and|to) (?:i |it )?(?:die|not wake|never wake|end)",
         r"\ba proposito\b[^.?!]{0,60}\b(?:tome|tomo|trague|sobredosis|todo)", r"\b(?:tome|tomo|trague|tomar|tomarme|mas)\b[^.?!]{0,60}\ba proposito\b", r"\b(?:dosis|cantidad) (?:letal|mortal)", r"\bcuanto[^.?!]{0,40}\bpara morir"),
]


# Emotional distress without explicit ideation. Not a route by itself: with it, a crisis vote
# from the classifier counts at any score, and the message is never declined as off-topic.
DISTRESS = (
    r"\b(?:hopeless\w*|worthless|pointless|no point|empty inside|numb|give up|giving up|tired of (?:it all|everything|life|fighting|trying)|"
    r"exhausted|alone|lonely|nobody cares|no one cares|hate (?:myself|my life)|trapped|no way out|a burden|disappear|"
    r"over it all|done with (?:everything|life|it all)|can'?t (?:go on|take it|do this)|falling apart|breaking down|"
    r"desesperad\w*|sin esperanza|sin salida|no aguanto|ya no puedo|harto de (?:la vida|todo)|cansad[oa] de (?:vivir|todo)|"
    r"no sirvo para nada|nadie me quiere|me odio|vacio por dentro|sol[oa] en (?:el mundo|esto))\b"
)
