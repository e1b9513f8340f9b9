"""The trained intent model's vote and how it becomes a route. No torch here: `bot/intent.py`
runs the model on the turn's shared forward pass and hands guardrails a `ModelVote`.

Thresholds, the safety-net band and the kept floor rules are written by training
(`kratom-qa router train`) into `guardrails/model/router.json` and read by the policy loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guardrails.routes import URGENT


@dataclass(frozen=True)
class ModelVote:
    """Route probabilities (temperature-scaled) and the nearest labelled training examples."""

    probs: dict[str, float]
    neighbours: tuple[tuple[str, str, float], ...] = ()  # (example id, route, cosine)

    @staticmethod
    def merge(votes: list[ModelVote]) -> ModelVote:
        """One vote from the model's readings of a turn (bot/intent.py classifier_inputs): the
        first reading's vote, with each urgent route's probability raised to its highest in any."""
        first = votes[0]
        probs = dict(first.probs) | {r: max(v.probs.get(r, 0.0) for v in votes) for r in URGENT}
        return ModelVote(probs, first.neighbours)

    def public(self) -> dict[str, object]:
        return {
            "source": "model",
            "probs": {r: round(p, 4) for r, p in self.probs.items()},
            "neighbours": [
                {"example": i, "route": r, "similarity": round(s, 3)} for i, r, s in self.neighbours
            ],
        }


@dataclass(frozen=True)
class ModelPolicy:
    """What training decided: per-route thresholds, the uncertain band, the kept floor rules."""

    thresholds: dict[str, float]
    band: dict[str, float] = field(default_factory=dict)  # lower edge of the safety-net band, urgent routes
    floor_keep: frozenset[str] | None = None  # None: every rule is kept (no trained model yet)
    clear_below: float = (
        0.0  # a live emergency is over once the model's emergency probability falls below this
    )

    crisis_clear_below: float = (
        0.0  # a crisis carried from an earlier reply stops heading answers below this crisis probability
    )
    urgent_mass: bool = False  # emergency + crisis together may clear the lower urgent threshold (route)

    def crisis_cleared(self, vote: ModelVote | None) -> bool:
        """The whole conversation no longer reads as a crisis to the model at all (an earlier turn
        was misread, e.g. a short opening line): the carried 988 header is dropped."""
        return vote is not None and vote.probs.get("crisis", 0.0) < self.crisis_clear_below

    def cleared(self, vote: ModelVote | None) -> bool:
        """The whole conversation no longer reads as an emergency to the model."""
        return vote is not None and vote.probs.get("emergency", 0.0) < self.clear_below

    def route(self, vote: ModelVote) -> str:
        """The model's route: the first of emergency, crisis, dosing_refusal, decline whose
        probability is at or over its threshold; else answer. With `urgent_mass` (models calibrated
        with it), when neither urgent route clears its own threshold but the two together clear the
        lower one, the likelier of the two is the route:
        a conversation the model is sure is urgent is never answered because it could not decide
        which help comes first ("took the whole bottle on purpose": emergency .54, crisis .45)."""
        p = vote.probs
        e, c = p.get("emergency", 0.0), p.get("crisis", 0.0)
        t_e, t_c = self.thresholds.get("emergency", 1.1), self.thresholds.get("crisis", 1.1)
        if e >= t_e:
            return "emergency"
        if c >= t_c:
            return "crisis"
        if self.urgent_mass and e + c >= min(t_e, t_c):
            return "emergency" if e >= c else "crisis"
        for r in ("dosing_refusal", "decline"):
            if p.get(r, 0.0) >= self.thresholds.get(r, 1.1):
                return r
        return "answer"

    def safety_net(self, vote: ModelVote, route: str) -> str | None:
        """'emergency' or 'crisis' when a non-urgent route's conversation sits in that route's uncertain band."""
        if route in URGENT:
            return None
        inside = [r for r in URGENT if vote.probs.get(r, 0.0) >= self.band.get(r, 1.1)]
        return max(inside, key=lambda r: vote.probs.get(r, 0.0)) if inside else None
