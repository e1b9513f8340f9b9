"""An intent classifier on the turn's one query vector, explained by its nearest examples.

The labelled examples (named in the policy) are embedded once per process by the caller
(guardrails never load a model). `model: logistic` (default) fits a class-balanced logistic
regression on them at start-up and scores a turn with one small matrix product; `model: knn`
scores a route by its similarity-weighted share of the k nearest examples. Either way the k
nearest examples are reported as the reason. The router uses a vote only when it clears the
route's threshold (chosen by 5-fold cross-validation on the dev sets, see DATASETS.md).
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
    def __init__(self, examples: list[Example], vectors: np.ndarray, k: int = 7, model: str = "logistic",
                 regularisation: float = 4.0):
        if len(examples) != len(vectors):
            raise ValueError("one vector per example is required")
        self.examples = examples
        self.routes = np.array([e.route for e in examples])
        self.matrix = np.asarray(vectors, dtype=np.float32)
        self.k = max(1, min(k, len(examples)))
        self.weights: np.ndarray | None = None
        if model == "logistic" and len(set(self.routes)) > 1:
            from sklearn.linear_model import LogisticRegression

            fit = LogisticRegression(C=regularisation, max_iter=2000, class_weight="balanced").fit(self.matrix, self.routes)
            self.classes = np.array(fit.classes_)
            self.weights = fit.coef_.astype(np.float32)
            self.bias = fit.intercept_.astype(np.float32)

    def vote(self, vector: np.ndarray, exclude: set[int] | None = None) -> Vote:
        sims = self.matrix @ np.asarray(vector, dtype=np.float32)
        if exclude:
            sims = sims.copy()
            sims[list(exclude)] = -1.0
        top = np.argpartition(-sims, self.k - 1)[: self.k]
        top = top[np.argsort(-sims[top])]
        neighbours = tuple((int(i), str(self.routes[i]), float(sims[i])) for i in top)
        if self.weights is not None:
            logits = self.weights @ np.asarray(vector, dtype=np.float32) + self.bias
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            best = int(np.argmax(probs))
            return Vote(str(self.classes[best]), float(probs[best]), neighbours)
        weights = np.clip(sims[top], 0.0, None)
        total = float(weights.sum()) or 1.0
        scores: dict[str, float] = {}
        for i, w in zip(top, weights):
            scores[self.routes[i]] = scores.get(self.routes[i], 0.0) + float(w) / total
        route = max(scores, key=scores.get)
        return Vote(str(route), float(scores[route]), neighbours)
