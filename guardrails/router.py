"""check_input: route a whole conversation. The order is written once, here:

    emergency > crisis > dosing_refusal > decline > answer

1. Rules (guardrails/rules/*) run on each normalised user turn (base64-looking text is
   decoded and checked too). Emergency hits are dropped when the turn is resolved ("he's fine
   now"), in the distant past, or a general question (guardrails/negation.py); denied symptoms
   are cut out first. A live emergency in a recent turn carries over until a later turn says
   it is resolved. Crisis carries over for the whole conversation, and an overdose still being
   planned inside a crisis is crisis, not emergency. Dosing joins recent turns (a weight, then
   "so how much?"). Decline covers buying, extracts, drug tests, growing and off-topic asks.
2. The example classifier votes on the turn's one query vector; its route is added when it
   clears the policy threshold (never an emergency the rules saw resolved or past).
3. State: after an emergency reply the emergency stays the route until the conversation says it
   is over: resolved or in professional hands ("the ambulance came", "she's awake and talking
   now", "ya llegaron los paramédicos"), a false alarm ("no, nobody is hurt, i was asking in
   general"), or long past. An emergency sign in the words (a rule hit, kept in the floor or not,
   or first aid under way: "i rolled him on his side") keeps it live however calm the model's
   reading of a later harmless question; only an emergency the words never showed (the model's
   reading alone) ends when that reading fades. First aid under way is an emergency by itself.
4. The highest-priority route wins. Every decision carries its reasons: rule ids, suppressed
   hits and why, classifier neighbours and scores. Never user text.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field

from guardrails import negation
from guardrails.amounts import find_amounts
from guardrails.language import conversation_lang
from guardrails.model import URGENT, ModelVote
from guardrails.normalize import normalize
from guardrails.policy import ROUTES, Policy
from guardrails.reasons import RuleHit, Suppressed
from guardrails.rules import crisis, decline, dosing, emergency, hits

CARRY_EMERGENCY_TURNS = 3
DOSING_WINDOW = 4
CRISIS_NEGATED = re.compile(
    r"\b(?:not|never|no longer|wasn'?t|isn'?t|am not|i'?m not) (?:suicidal|thinking (?:about|of) (?:suicide|killing|hurting|ending))|"
    r"\bno (?:soy|estoy) suicida|\bno (?:quiero|pienso) (?:morir|matarme|hacerme dano)"
)
CAUSAL_QUESTION = re.compile(
    r"^\W*(?:can|could|does|do|is|are|will|would|puede|pueden|el|la|es)\b[^.?!]{0,40}\b(?:cause|causes|lead to|linked|associated|trigger|make (?:you|people|someone)|increase|causar|provocar|dar)\b"
)
INTENT_AHEAD = re.compile(
    r"\b(?:think(?:ing)? (?:about|of)|want(?:ed)?|wanna|wish|hope|hoping|plan(?:ning)?|going to|gonna|will|rather|would be nice|kinda nice|"
    r"ready to|tonight i'?ll|i'?ll|quiero|pienso|pensando|voy a|esta noche|manana)\b"
)
UNRESOLVED_ONLY = {"emergency.unresponsive", "emergency.large_amount"}
DRUG_TEST_CONTEXT = re.compile(
    r"\b(?:drug|urine|pee|hair|ua|tox) (?:test|screen)|\bantidoping|\bprueba de drogas|\bdoping\b|\btests?\b|\burine\b|\bpee\b|\bin (?:my|your|his|her) system\b|\borina\b"
)
DRUG_TEST_EVADE = re.compile(
    r"\b(?:pass|beat|cheat|fool|flush|get past|trick|not show|won'?t show|not come up|clean out|pasar|pasarlo|pasarla|enganar|que no salga|no salga|limpi\w*|sacar|eliminar|quitar)\b"
)
GREETING = re.compile(
    r"^(?:hi|hello|hey|hola|buenas|good (?:morning|evening|night)|thanks|thank you|gracias|ok|okay)\b[\s!.,]*(?:\w+[\s!.,]*){0,3}$"
)
YELLOW = re.compile(r"\b(?:yellow|jaundic\w*|amarill\w*)\b")
SEVERE_BELLY = re.compile(
    r"\b(?:severe|bad|terrible|intense|horrible|sharp|awful|worst|so bad|really bad|doubled over|can'?t stand|muy fuerte|fuerte|no se puede ni parar|insoportable)\b[^.?!]{0,40}\b(?:pain|ache|hurts|dolor|duele)|"
    r"\b(?:pain|ache|hurts|dolor|duele)\b[^.?!]{0,40}\b(?:severe|bad|terrible|intense|horrible|so bad|doubled over|can'?t stand|muy fuerte|fuerte|no se puede ni parar|insoportable)\b"
)
BASE64_RE = re.compile(r"\b[A-Za-z0-9+/]{16,}={0,2}")
INTERACTION_WORDS = re.compile(
    r"\b(?:interact\w*|mix\w*|combin\w*|together|along with|with (?:it|kratom|7oh)|mezcl\w*|con (?:el )?kratom|junto)\b"
)
SHORT_FOLLOW_UP = re.compile(r"^(?:and|what about|how about|y|or)\b")
# Someone is giving first aid or waiting for responders now: an emergency in progress, whatever
# the next message asks ("i rolled him on his side, sitting with him").
FIRST_AID = re.compile(
    r"\bi(?:'?ve| have)? (?:just )?(?:put|rolled|turned|laid|placed|got|moved) (?:him|her|them|my \w+)(?: over)? (?:in(?:to)? (?:the )?recovery position|on(?:to)? (?:his|her|their|the) side)\b|"
    r"\b(?:he'?s|hes|she'?s|shes|they'?re|theyre|he is|she is|they are) (?:now )?(?:in (?:the )?recovery position|on (?:his|her|their) side)\b|"
    r"\b(?:i'?m|im|i am|we'?re|we are) (?:doing|giving) (?:cpr|chest compressions|rescue breaths)\b|\bi (?:just )?gave (?:him|her|them) (?:narcan|naloxone)\b|"
    r"\b(?:i'?m|im|i am|we'?re|were|we are|still|now|just) (?:still )?waiting (?:for|on) (?:the )?(?:ambulance|paramedics|emts?|ems|911|help|poison control)\b|"
    r"\b(?:the )?(?:ambulance|paramedics|emts?|ems|911|help) (?:is|are|'?s) (?:on (?:the|its|their) way|coming|en route)\b|"
    r"\b(?:lo|la|los) (?:puse|acoste|tengo|deje|voltee) de (?:lado|costado)\b|\b(?:lo|la|los) (?:puse|tengo|deje) en (?:la )?posicion de (?:recuperacion|seguridad)\b|"
    r"\b(?:le|les) (?:di|dimos|puse|pusimos) (?:el |la )?(?:narcan|naloxona)\b|\b(?:estoy|estamos) (?:haciendo(?:le)?|dando(?:le)?) (?:rcp|reanimacion)\b|"
    r"\b(?:estoy|estamos|sigo|seguimos) esperando (?:a )?(?:la ambulancia|los paramedicos|el 911)\b|\b(?:la ambulancia|los paramedicos) (?:ya )?(?:viene|vienen|va en camino|van en camino|esta en camino|estan en camino)\b"
)


@dataclass
class Decision:
    route: str
    lang: str
    reasons: list = field(default_factory=list)  # RuleHit | Suppressed | ModelVote
    decline_kind: str | None = None
    safety_net: str | None = None  # "emergency" | "crisis": lead with that help, then answer

    @property
    def rule_ids(self) -> list[str]:
        return [r.rule for r in self.reasons if isinstance(r, RuleHit)]


def _decoded(text: str) -> str:
    """Append any base64 or rot13 payload, decoded, so obfuscated requests meet the same rules."""
    extra = []
    if re.search(r"\brot ?-?13\b", text, re.IGNORECASE):
        extra.append(codecs.decode(text, "rot13"))
    for token in BASE64_RE.findall(text):
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if raw.isprintable() and sum(c.isalpha() or c == " " for c in raw) > 0.8 * len(raw):
            extra.append(raw)
    return text + (" . " + " . ".join(extra) if extra else "")


CLAUSE_SPLIT = re.compile(r"[.!?;]+|,\s*(?=(?:but|and|now|then|pero|y ahora|ahora)\b)|\bbut\b|\bpero\b")


def _emergency_in(turn: str) -> tuple[list[str], str | None]:
    """Live emergency rule ids in one turn, or ([], why) when every hit is resolved, past or general.

    Resolution ("he's fine now") applies to the whole turn; past and general are judged per
    clause, so "she started kratom last week. she isn't making sense" is still an emergency.
    """
    text = negation.strip_denied(turn)
    if not hits(emergency.RULES, text):
        return [], None
    if negation.is_negated(turn):
        return [], "negated"
    live: list[str] = []
    why: str | None = None
    urgent_somewhere = bool(negation.NOW.search(text) or negation.ACTUAL.search(text))
    clauses = [c for c in CLAUSE_SPLIT.split(text) if c.strip()]
    for clause in clauses:
        ids = hits(emergency.RULES, clause)
        if not ids:
            continue
        if negation.is_past(clause):
            why = why or "past"
        elif not urgent_somewhere and (
            negation.is_general(clause) or (negation.is_general(text) and not negation.NOW.search(clause))
        ):
            why = why or "general"
        else:
            live += [i for i in ids if i not in live]
    if not live and why is None:  # a hit spanning clauses: judge the whole turn
        if negation.is_past(text):
            why = "past"
        elif negation.is_general(text):
            why = "general"
        else:
            live = hits(emergency.RULES, text)
    return live, (None if live else why)


def _emergency(turns: list[str], found: list, reasons: list) -> bool:
    """Fill `found` with live emergency hits; return True when the last turn was resolved or past."""
    last_i = len(turns) - 1
    ids, why = _emergency_in(turns[-1])
    found += [RuleHit(i, last_i) for i in ids]
    if why:
        reasons += [Suppressed(i, why, last_i) for i in hits(emergency.RULES, turns[-1])]
        return why in ("negated", "past") or negation.is_negated(turns[-1]) or negation.is_past(turns[-1])
    if not ids:
        for j in range(last_i - 1, max(-1, last_i - 1 - CARRY_EMERGENCY_TURNS), -1):
            earlier, _ = _emergency_in(turns[j])
            if earlier:
                if not any(negation.is_negated(t) or negation.is_past(t) for t in turns[j + 1 :]):
                    found += [RuleHit(i, j, carried=True) for i in earlier]
                break
    recent = turns[-CARRY_EMERGENCY_TURNS:]
    if not found and any(YELLOW.search(t) for t in recent) and any(SEVERE_BELLY.search(t) for t in recent):
        if not any(
            negation.is_negated(t) or negation.is_past(t) or negation.is_general(t) for t in recent[-1:]
        ):
            found.append(RuleHit("emergency.liver_acute", last_i, across_turns=True))
    return negation.is_negated(turns[-1]) or negation.is_past(turns[-1])


def _settles(turn: str) -> bool:
    """This message says an emergency is over, in professional hands, a false alarm, or long past."""
    if negation.is_negated(turn):
        return True
    if hits(emergency.RULES, negation.strip_denied(turn)) and not negation.is_past(turn):
        return False  # "it's not an emergency but he's not breathing": a sign, however framed, wins
    return negation.is_false_alarm(turn) or ("?" not in turn and negation.is_past(turn))


def _emergency_evidence(turns: list[str], last_ids: list[str]) -> tuple[list[RuleHit], bool]:
    """The latest turn with an emergency sign of its own (a rule hit, kept in the floor or not, or
    first aid under way) and whether a later turn settled it. The model's reading of an emergency
    fades as harmless questions follow; a sign in the words does not, until the user says it is over.
    `last_ids`: the floor's emergency hits on the last turn (after its crisis-intent pruning)."""
    for j in range(len(turns) - 1, -1, -1):
        ids = last_ids if j == len(turns) - 1 else _emergency_in(turns[j])[0]
        if not ids and FIRST_AID.search(turns[j]) and not _settles(turns[j]):
            ids = ["state.first_aid"]
        if ids:
            return [RuleHit(i, j, carried=j < len(turns) - 1) for i in ids], any(
                _settles(t) for t in turns[j + 1 :]
            )
    return [], False


def _crisis(turns: list[str], found: list, reasons: list) -> None:
    for j, t in enumerate(turns):
        ids = hits(crisis.RULES, t)
        if not ids or CRISIS_NEGATED.search(t):
            continue
        if (
            CAUSAL_QUESTION.search(t)
            and "crisis.on_purpose" not in ids
            and not re.search(r"\b(?:i|me|my|quiero|yo)\b", t)
        ):
            reasons += [Suppressed(i, "general", j) for i in ids]
            continue
        if any(CRISIS_NEGATED.search(x) for x in turns[j + 1 :]):
            continue
        found += [RuleHit(i, j) for i in ids]


def _dosing(turns: list[str], found: list) -> None:
    last_i, last = len(turns) - 1, turns[-1]
    ids = hits(dosing.RULES, last)
    if (
        ids
        and (re.search(dosing.DOSE_CONCEPT, last) or re.search(dosing.DOSE_CLAIM, last))
        and not re.search(dosing.PERSONAL_ASK, last)
    ):
        ids = []  # "why is there no safe dose?" asks about the idea, not for an amount
    if (
        not ids
        and find_amounts(last)
        and re.search(dosing.AMOUNT_ASK, last)
        and not re.search(r"\b(?:is that why|was that why|why)\b", last)
        and (re.search(r"\b(?:i|me|my|he|him|his|she|her|we|us|they|them|yo|mi|el|ella)\b", last))
    ):
        ids = ["dosing.amount_question"]
    found += [RuleHit(i, last_i) for i in ids]
    if found or len(turns) < 2:
        return
    window = turns[-DOSING_WINDOW:-1]
    context = any(re.search(p, t) for t in window for p in dosing.CONTEXT_PATTERNS)
    earlier = [i for t in window for i in hits(dosing.RULES, t)]
    asks = re.search(dosing.ELLIPTIC_ASK, last) or re.search(dosing.FOLLOW_UP_ASK, last)
    if asks and (context or earlier):
        found.append(RuleHit("dosing.split_over_turns", last_i))
    elif (
        earlier
        and hits(dosing.RULES, turns[-2])
        and ("?" not in last or (len(last.split()) <= 8 and SHORT_FOLLOW_UP.search(last)))
    ):
        found.append(RuleHit("dosing.continued", last_i))


def _decline(turns: list[str], found: list) -> None:
    last_i, last = len(turns) - 1, turns[-1]
    found += [RuleHit(i, last_i) for i in hits(decline.RULES, last)]
    if found:
        return
    if DRUG_TEST_EVADE.search(last) and any(DRUG_TEST_CONTEXT.search(t) for t in turns):
        found.append(RuleHit("decline.drug_test", last_i, context=True))
        return
    whole = " ".join(turns)
    about_kratom = decline.SUBSTANCE_RE.search(whole)
    last_about_kratom = decline.SUBSTANCE_RE.search(last)
    if (
        decline.OTHER_MEDICAL_RE.search(last)
        and not last_about_kratom
        and not INTERACTION_WORDS.search(last)
        and not SHORT_FOLLOW_UP.search(last)
        and not decline.IN_SCOPE_RE.search(last)
    ):
        found.append(RuleHit("decline.other_medical", last_i))
    elif (
        not about_kratom
        and not decline.IN_SCOPE_RE.search(whole)
        and not GREETING.match(last)
        and not re.search(crisis.DISTRESS, whole)
    ):
        kind = (
            "other_medical"
            if decline.HEALTH_RE.search(whole) or decline.OTHER_MEDICAL_RE.search(whole)
            else "off_topic"
        )
        found.append(RuleHit(f"decline.{kind}", last_i))


def _floor(
    user_turns: list[str], policy: Policy
) -> tuple[list[str], dict[str, list[RuleHit]], list[Suppressed], bool]:
    """The rule floor alone: (normalised turns, hits per route, suppressed hits, last turn settled)."""
    turns = [normalize(_decoded(t), policy.aliases) for t in user_turns]
    turns = [t for t in turns if t.strip()] or [""]
    reasons: list[Suppressed] = []
    found: dict[str, list[RuleHit]] = {r: [] for r in ROUTES}
    settled = _emergency(turns, found["emergency"], reasons)
    _crisis(turns, found["crisis"], reasons)
    if found["crisis"] and found["emergency"]:
        live = {h.rule for h in found["emergency"]}
        if live <= UNRESOLVED_ONLY and INTENT_AHEAD.search(turns[-1]):
            reasons += [Suppressed(i, "intent_not_yet_taken") for i in sorted(live)]
            found["emergency"] = []
    _dosing(turns, found["dosing_refusal"])
    _decline(turns, found["decline"])
    return turns, found, reasons, settled


def floor_hits(user_turns: list[str], policy: Policy) -> list[tuple[str, str]]:
    """(route, rule id) for every rule the floor fires on this conversation, before any pruning."""
    _, found, _, _ = _floor(user_turns, policy)
    return [(r, h.rule) for r in ROUTES for h in found[r]]


def check_input(
    user_turns: list[str], policy: Policy, vote: ModelVote | None = None, live: str | None = None
) -> Decision:
    """Decide a route: the rule floor's kept hits and the model's thresholded route; the first in
    ROUTES order wins. `live` is the urgent route of the bot's previous reply: an emergency stays
    the route until the conversation says it is over ("he's awake now", "the ambulance took her",
    "nobody is hurt, i was asking in general"); while its sign is in the words, a fading model
    reading does not end it (module docstring, step 3). A model emergency the conversation has
    since resolved, with no new sign, leads with help and answers (safety net). A crisis keeps 988 first (safety net) unless the model no longer reads the conversation as a crisis at all (`crisis_clear_below`, chosen on calibration). A non-urgent route whose urgent probability sits in the
    calibrated band carries a safety net too: help first, then the answer."""
    turns, found, suppressed, _ = _floor(user_turns, policy)
    reasons: list[Suppressed | ModelVote] = list(suppressed)
    last_ids = [h.rule for h in found["emergency"] if h.turn == len(turns) - 1 and not h.carried]
    evidence, settled = _emergency_evidence(turns, last_ids)
    sign_now = bool(evidence) and evidence[0].turn == len(turns) - 1
    lang = conversation_lang(user_turns)
    keep = policy.model.floor_keep
    declines = list(found["decline"])
    if keep is not None:
        for r in ROUTES:
            dropped = [h for h in found[r] if h.rule not in keep]
            reasons += [Suppressed(h.rule, "not_in_floor") for h in dropped]
            found[r] = [h for h in found[r] if h.rule in keep]
    # the user says the bot's emergency was a false alarm ("no, nobody is hurt, i was asking in general")
    false_alarm = (
        len(turns) > 1 and not sign_now and _settles(turns[-1]) and negation.is_false_alarm(turns[-1])
    )
    softened = None
    if vote is not None:
        reasons.append(vote)
        model_route = policy.model.route(vote)
        p = vote.probs.get(model_route, 0.0)
        if model_route == "emergency" and false_alarm:
            reasons.append(Suppressed("model.emergency", "false_alarm", p=round(p, 4)))
            vote = ModelVote(vote.probs | {"emergency": 0.0}, vote.neighbours)
            model_route = policy.model.route(vote)
        elif model_route == "emergency" and (
            ((p < 0.5 or len(turns) > 1) and negation.NEGATED.search(turns[-1])) or (settled and not sign_now)
        ):
            # the conversation says it is over ("the ambulance took him, he's stable now. what is 7-OH?"),
            # in this turn or an earlier one with no new sign since: help stays first (safety net) and the
            # question is answered
            reasons.append(Suppressed("model.emergency", "resolved", p=round(p, 4)))
            softened = "emergency"
            model_route = policy.model.route(ModelVote(vote.probs | {"emergency": 0.0}))
        if model_route != "answer":
            found[model_route].append(
                RuleHit(f"model.{model_route}", p=round(vote.probs.get(model_route, 0.0), 4))
            )
    if (
        evidence
        and found["crisis"]
        and {h.rule for h in evidence} <= UNRESOLVED_ONLY
        and INTENT_AHEAD.search(turns[-1])
    ):
        evidence = []  # an overdose still being planned inside a crisis is crisis (as in _floor)
    if (
        sign_now
        and not settled
        and [h.rule for h in evidence] == ["state.first_aid"]
        and not found["emergency"]
    ):
        found["emergency"].append(evidence[0])  # first aid under way is an emergency in progress
    if live == "emergency" and not found["emergency"]:
        # a live emergency ends when the conversation says so, not when the model's reading fades;
        # only an emergency the words never showed (the model's alone) may end with that reading
        if negation.NEGATED.search(turns[-1]) or false_alarm or (settled and not sign_now):
            reasons.append(Suppressed("state.emergency_live", "false_alarm" if false_alarm else "resolved"))
        elif evidence and not settled:
            found["emergency"].append(RuleHit("state.emergency_live", evidence[0].turn, carried=True))
        elif policy.model.cleared(vote):
            reasons.append(Suppressed("state.emergency_live", "model_cleared"))
        else:
            found["emergency"].append(RuleHit("state.emergency_live"))
    route = next(r for r in ROUTES if r == "answer" or found[r])
    safety_net = policy.model.safety_net(vote, route) if vote is not None else None
    if softened and route not in URGENT:
        safety_net = softened
    if (
        live == "crisis"
        and route not in URGENT
        and not CRISIS_NEGATED.search(turns[-1])
        and not policy.model.crisis_cleared(vote)
    ):
        safety_net = "crisis"
    decline_kind = None
    if route == "decline":  # the pointer ("for buying, ...") comes from any decline rule, kept or not
        kinds = [h.rule.split(".", 1)[1] for h in declines if h.rule.startswith("decline.")]
        decline_kind = next((k for k in kinds if k in policy.decline_pointers), None)
    ordered = found[route] + [x for r in ROUTES if r != route for x in found[r]]
    return Decision(route, lang, ordered + reasons, decline_kind, safety_net)
