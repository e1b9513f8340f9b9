"""Why a turn went the way it did. Each reason is a small typed value with one `public()`
serialiser (rule ids, scores, chunk ids; never user text), used by the API, the CLI and the
evaluator alike. `ModelVote` (guardrails/model.py) and `Verdict` (guardrails/output_checks.py)
are reasons too.
"""

from __future__ import annotations

from dataclasses import dataclass


def _set_fields(out: dict[str, object], **fields: object) -> dict[str, object]:
    """`out` and, in order, each of `fields` that is set: a public form leaves out None and False."""
    out.update({name: value for name, value in fields.items() if value is not None and value is not False})
    return out


@dataclass(frozen=True)
class RuleHit:
    """A floor rule (or the model, `model.<route>`, or the conversation's state) that fired."""

    rule: str
    turn: int | None = None  # index of the user turn it fired on
    carried: bool = False  # an earlier turn's emergency, still live
    across_turns: bool = False  # its parts were said in different turns
    context: bool = False  # fired because of the conversation's context
    p: float | None = None  # the model's probability, for model.<route>

    @property
    def route(self) -> str:
        return self.rule.split(".", 1)[0]

    def public(self) -> dict[str, object]:
        return _set_fields(
            {"rule": self.rule},
            turn=self.turn,
            carried=self.carried,
            across_turns=self.across_turns,
            context=self.context,
            p=self.p,
        )


@dataclass(frozen=True)
class Suppressed:
    """A hit that did not count, and why (negated, past, general, resolved, not_in_floor, ...)."""

    rule: str
    why: str
    turn: int | None = None
    p: float | None = None

    def public(self) -> dict[str, object]:
        return _set_fields({"suppressed": self.rule, "why": self.why}, turn=self.turn, p=self.p)


@dataclass(frozen=True)
class InputProblem:
    """The request was over a limit or empty (policy `input_problems` key)."""

    key: str

    def public(self) -> dict[str, object]:
        return {"input": self.key}


@dataclass(frozen=True)
class RetrievalMiss:
    """No passage cleared the relevance floor: the sources do not cover the question."""

    def public(self) -> dict[str, object]:
        return {"retrieval": "below_relevance_floor"}


@dataclass(frozen=True)
class Retrieved:
    """The chunks the answer was composed from, in rank order."""

    chunk_ids: tuple[str, ...]

    def public(self) -> dict[str, object]:
        return {"retrieval": list(self.chunk_ids)}


@dataclass(frozen=True)
class ComposeMiss:
    """The composer found no sentence it could quote."""

    def public(self) -> dict[str, object]:
        return {"compose": "no_sentence_selected"}
