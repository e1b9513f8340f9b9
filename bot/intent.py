"""The router's trained intent model, sharing the turn's one forward pass.

The model is all-MiniLM-L6-v2 with its top layers fine-tuned as a 5-way route classifier
(`kratom-qa router train`, see `guardrails/model/card.md`). Its lower layers are the frozen
base model, so one pass serves both jobs:

    tokens -> base layers 0..5 -> mean pool -> the retrieval vector   (unchanged)
                 `-> hidden state after layer SPLIT -> tuned top layers -> mean pool -> head
                     -> logits / temperature -> route probabilities

For a single-turn conversation the query and the conversation text are the same string, so the
classifier costs only its tuned top layers. The artefact (fp16 safetensors) is checked against
the sha256 in its card at load time.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from guardrails.model import ModelVote

TURN_MARK = " [SEP] "
MAX_CONVERSATION_CHARS = 1200
MODEL_DIR = Path(__file__).resolve().parent.parent / "guardrails" / "model"
CHECKSUM_RE = re.compile(r"^sha256:\s*([0-9a-f]{64})\s*$", re.MULTILINE)


class IntentModelError(Exception):
    """The artefact is missing, corrupt or does not match its card."""


def conversation_text(user_turns: list[str]) -> str:
    """The classifier's input: user turns, most recent last, joined with a turn marker.

    Older turns are dropped (then the oldest kept turn is cut from the left) so the most recent
    text always fits the model's window. One turn is passed as is, so it equals the query.
    """
    turns = [t.strip() for t in user_turns if t and t.strip()] or [""]
    if len(turns) == 1:
        return turns[0]
    kept: list[str] = []
    size = 0
    for turn in reversed(turns):
        room = MAX_CONVERSATION_CHARS - size
        if room <= 40 and kept:
            break
        kept.append(turn if len(turn) <= room else turn[-room:])
        size += len(kept[-1]) + len(TURN_MARK)
    return TURN_MARK.join(reversed(kept))


WINDOW_CHARS, WINDOW_STEP, MAX_WINDOWS = 600, 500, 8  # 600 characters stay inside 256 word pieces
# A long message dilutes one urgent sentence in its window ("...question after question... and now my
# friend won't wake up"): its last sentence is also read alone, the way a multi-turn conversation's last
# turn is.
LONG_TURN_CHARS = 300
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def conversation_windows(user_turns: list[str]) -> list[str]:
    """The classifier's inputs for one turn: the conversation text, or for a text longer than the
    model's window, overlapping windows from its end (most recent first) and always its opening,
    so an urgent sentence anywhere in a long message is read."""
    text = conversation_text(user_turns)
    if len(text) <= WINDOW_CHARS:
        return [text]
    ends = range(len(text), WINDOW_CHARS - 1, -WINDOW_STEP)
    windows = [text[max(0, e - WINDOW_CHARS) : e] for e in ends][: MAX_WINDOWS - 1]
    return windows + [text[:WINDOW_CHARS]]


def classifier_inputs(user_turns: list[str]) -> list[str]:
    """What the router model reads for one turn, most important first: the conversation (in
    windows when long) and, in a multi-turn conversation, the last turn on its own, so an urgent
    last message is not drowned by a calm start. Votes are merged by `ModelVote.merge`."""
    inputs = conversation_windows(user_turns)
    turns = [t.strip() for t in user_turns if t and t.strip()]
    if len(turns) > 1:
        inputs += [w for w in conversation_windows(turns[-1:]) if w not in inputs]
    if turns and len(turns[-1]) > LONG_TURN_CHARS:  # a long message's last sentence, read on its own
        last = SENTENCE_END_RE.split(turns[-1].rstrip())[-1].strip()
        if len(last.split()) >= 3 and last not in inputs:
            inputs.append(last)
    return inputs


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def card_checksum(card: Path) -> str:
    m = CHECKSUM_RE.search(card.read_text(encoding="utf-8")) if card.is_file() else None
    if not m:
        raise IntentModelError(f"{card}: no 'sha256: <hex>' line; retrain with `kratom-qa router train`")
    return m.group(1)


class IntentHead:
    """The tuned top layers + linear head, loaded from the artefact, applied to a hidden state."""

    def __init__(self, bert, model_dir: Path = MODEL_DIR):
        import torch
        from safetensors.torch import load_file

        weights, card = model_dir / "router.safetensors", model_dir / "card.md"
        meta_path = model_dir / "router.json"
        if not weights.is_file() or not meta_path.is_file():
            raise IntentModelError(
                f"{model_dir}: router.safetensors / router.json missing; run `kratom-qa router train`"
            )
        expected, actual = card_checksum(card), file_sha256(weights)
        if expected != actual:
            raise IntentModelError(
                f"{weights}: checksum {actual[:12]}… does not match card.md ({expected[:12]}…); "
                "the artefact is corrupt or was changed by hand: retrain with `kratom-qa router train`"
            )
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
            state = load_file(str(weights))
        except Exception as exc:  # noqa: BLE001 (any unreadable artefact gets the same clear error)
            raise IntentModelError(
                f"{weights}: unreadable ({exc}); retrain with `kratom-qa router train`"
            ) from None
        self.split = int(self.meta["split"])
        self.routes = tuple(self.meta["routes"])
        self.temperature = float(self.meta["temperature"])
        layers = bert.encoder.layer
        self.layers = torch.nn.ModuleList(copy.deepcopy(layers[i]) for i in range(self.split, len(layers)))
        head = torch.nn.Linear(bert.config.hidden_size, len(self.routes))
        try:
            self.layers.load_state_dict(
                {k[len("layers.") :]: v.float() for k, v in state.items() if k.startswith("layers.")}
            )
            head.load_state_dict(
                {k[len("head.") :]: v.float() for k, v in state.items() if k.startswith("head.")}
            )
        except (RuntimeError, KeyError) as exc:
            raise IntentModelError(f"{weights}: does not fit the base model ({exc}); retrain") from None
        self.head = head
        self.layers.eval()
        self.head.eval()
        self.config = bert.config
        self.example_ids: list[str] = []
        self.example_routes: list[str] = []
        self.example_vectors = np.zeros((0, bert.config.hidden_size), dtype=np.float32)
        if "examples.vectors" in state:
            self.example_vectors = state["examples.vectors"].float().numpy()
            self.example_ids = list(self.meta.get("example_ids", []))
            self.example_routes = list(self.meta.get("example_routes", []))

    def forward(self, hidden, mask):
        """(hidden state after layer SPLIT, attention mask) -> (logits, pooled features); torch in, torch out."""
        make_mask = getattr(self.config, "bidirectional_mask", None)  # bot/minilm.py: no transformers import
        if make_mask is not None:
            attn = make_mask(mask, hidden)
        else:
            from transformers.masking_utils import create_bidirectional_mask

            attn = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=mask)
        for layer in self.layers:
            hidden = layer(hidden, attn)
            if isinstance(hidden, tuple):
                hidden = hidden[0]
        pooled = mean_pool(hidden, mask)
        return self.head(pooled), pooled

    def votes(self, hidden, mask, k: int = 3) -> list[ModelVote]:
        import torch

        with torch.inference_mode():
            logits, pooled = self.forward(hidden, mask)
            probs = torch.softmax(logits / self.temperature, dim=-1).numpy()
        feats = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        out = []
        for row, feat in zip(probs, feats):
            neighbours: tuple = ()
            if len(self.example_vectors):
                sims = self.example_vectors @ feat
                top = top_k(sims, k)
                neighbours = tuple((self.example_ids[i], self.example_routes[i], float(sims[i])) for i in top)
            out.append(ModelVote({r: float(p) for r, p in zip(self.routes, row)}, neighbours))
        return out


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """`np.argsort(-values)[:k]`, without sorting them all when the top k are distinct and no other
    value ties the k-th (else the full sort, so ties come out exactly as it orders them)."""
    if k >= len(values):
        return np.argsort(-values)[:k]
    top = np.argpartition(-values, k - 1)[:k]
    picked = values[top]
    if len(np.unique(picked)) < k or np.count_nonzero(values >= picked.min()) > k:
        return np.argsort(-values)[:k]
    return top[np.argsort(-picked)]


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
