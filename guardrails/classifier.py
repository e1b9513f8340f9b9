"""Nearest labelled examples on the turn's one query vector.

The examples (`examples.jsonl`, named in the policy) are embedded once per process by the
caller (guardrails never load a model). A route's score is its similarity-weighted share of
the k nearest examples; the router uses it only when it clears the route's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from guardrails.policy import Example


@dataclass(frozen=True)
class Vote:
    route: str
    score: float
    neighbours: tuple[tuple[int, str, float], ...]  # (example index, route, similarity)

    def reason(self) -> dict[str, object]:
        return {
            "source": "classifier",
            "route": self.route,
            "score": round(self.score, 3),
            "neighbours": [{"example": i, "route": r, "similarity": round(s, 3)} for i, r, s in self.neighbours],
        }


class ExampleClassifier:
    def __init__(self, examples: list[Example], vectors: np.ndarray, k: int = 7):
        if len(examples) != len(vectors):
            raise ValueError("one vector per example is required")
        self.examples = examples
        self.routes = np.array([e.route for e in examples])
        self.matrix = np.asarray(vectors, dtype=np.float32)
        self.k = max(1, min(k, len(examples)))

    def vote(self, vector: np.ndarray, exclude: set[int] | None = None) -> Vote:
        sims = self.matrix @ np.asarray(vector, dtype=np.float32)
        if exclude:
            sims = sims.copy()
            sims[list(exclude)] = -1.0
        top = np.argpartition(-sims, self.k - 1)[: self.k]
        top = top[np.argsort(-sims[top])]
        weights = np.clip(sims[top], 0.0, None)
        total = float(weights.sum()) or 1.0
        scores: dict[str, float] = {}
        for i, w in zip(top, weights):
            scores[self.routes[i]] = scores.get(self.routes[i], 0.0) + float(w) / total
        route = max(scores, key=scores.get)
        return Vote(route, scores[route], tuple((int(i), str(self.routes[i]), float(sims[i])) for i in top))
