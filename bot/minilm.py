"""A BERT encoder in plain torch for the bundled all-MiniLM-L6-v2, loaded without `transformers`.

Importing `transformers` and its BERT modelling code costs ~2.5 CPU-seconds (it pulls in
torch.distributed, torch._dynamo, sympy and scipy), more than half of a warm start (issue #15).
The model itself is small: token, position and type embeddings, then six identical layers.
`BertModel` here has `transformers`' BertModel structure and parameter names, so the weights load
from the model folder's `model.safetensors` as they are, the router's tuned top layers
(`bot/intent.py`) load into copies of its layers, and the arithmetic is the same operations in the
same order (scaled-dot-product attention with the same boolean mask, exact GELU, post-norm), with
the same dropouts when training. tests/test_minilm.py checks hidden states and vectors against
`transformers` and the token ids against its tokenizer.

Only what the bundled model is gets this path (`plain_bert_config`): an absolute-position BERT
with GELU, a WordPiece `tokenizer.json` that lower-cases; any other model loads through
`transformers` (`bot.embedding`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class BertConfig:
    """The fields of a BERT `config.json` this model reads."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    hidden_dropout_prob: float
    attention_probs_dropout_prob: float
    pad_token_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BertConfig:
        names = set(cls.__dataclass_fields__) - {"extra"}
        return cls(
            **{k: raw[k] for k in names if k in raw}, extra={k: v for k, v in raw.items() if k not in names}
        )

    @staticmethod
    def bidirectional_mask(attention_mask: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor | None:
        """The attention mask `transformers` gives BERT's SDPA attention: None when nothing is
        padded, else a boolean (batch, 1, query, key) mask, True where a token may be attended."""
        if bool(attention_mask.all()):
            return None
        batch, length = attention_mask.shape
        return attention_mask.bool()[:, None, None, :].expand(batch, 1, hidden.shape[1], length)


def plain_bert_config(path: str) -> BertConfig | None:
    """The config when the folder holds a model this module reproduces exactly, else None."""
    folder = Path(path)
    try:
        raw = json.loads((folder / "config.json").read_text())
        tokenizer = json.loads((folder / "tokenizer.json").read_text())
        normalizer = tokenizer.get("normalizer") or {}
        # transformers rebuilds the normalizer when tokenizer_config.json disagrees with it: only a
        # folder where they agree tokenizes the same through `tokenizers` alone
        settings_file = folder / "tokenizer_config.json"
        settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
        agrees = (
            settings.get("do_lower_case", True) is True
            and settings.get("strip_accents") == normalizer.get("strip_accents")
            and settings.get("tokenize_chinese_chars", True) == normalizer.get("handle_chinese_chars", True)
        )
        plain = (
            agrees
            and raw.get("model_type") == "bert"
            and raw.get("hidden_act") == "gelu"
            and raw.get("position_embedding_type", "absolute") == "absolute"
            and not raw.get("is_decoder")
            and not raw.get("add_cross_attention")
            and (folder / "model.safetensors").is_file()
            and tokenizer.get("model", {}).get("type") == "WordPiece"
            and normalizer.get("type") == "BertNormalizer"
            and normalizer.get("lowercase") is True
        )
        return BertConfig.from_dict(raw) if plain else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


class Linear(nn.Linear):
    """`nn.Linear` without the random initialisation: every weight is loaded from the model folder
    right after construction (`BertModel.load`), so initialising ~10M numbers first is wasted."""

    def reset_parameters(self) -> None:
        pass


def _embedding(rows: int, dim: int, padding_idx: int | None = None) -> nn.Embedding:
    """`nn.Embedding` on uninitialised memory (`_weight`), for the same reason as `Linear`."""
    return nn.Embedding(rows, dim, padding_idx=padding_idx, _weight=torch.empty(rows, dim))


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = _embedding(config.vocab_size, config.hidden_size, config.pad_token_id)
        self.position_embeddings = _embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = _embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(embeddings))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.head_size = config.hidden_size // config.num_attention_heads
        self.scaling = self.head_size**-0.5
        self.query = Linear(config.hidden_size, config.hidden_size)
        self.key = Linear(config.hidden_size, config.hidden_size)
        self.value = Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        shape = (*hidden.shape[:-1], -1, self.head_size)
        q = self.query(hidden).view(*shape).transpose(1, 2)
        k = self.key(hidden).view(*shape).transpose(1, 2)
        v = self.value(hidden).view(*shape).transpose(1, 2)
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout.p if self.training else 0.0,
            scale=self.scaling,
            is_causal=False,
        )
        return out.transpose(1, 2).contiguous().reshape(*hidden.shape[:-1], -1).contiguous()


class BertOutput(nn.Module):
    """dense -> dropout -> LayerNorm(+ residual): after the attention (`attention.output`, from
    hidden_size) and after the feed-forward layer (`output`, from intermediate_size)."""

    def __init__(self, config: BertConfig, in_size: int):
        super().__init__()
        self.dense = Linear(in_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertOutput(config, config.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, mask), hidden)

    def forward_packed(self, packed: torch.Tensor, rows: torch.Tensor, shape: torch.Size, mask: torch.Tensor):
        """`forward` on a padded batch's real tokens only (`packed`: (tokens, hidden), the rows
        `rows` of the flattened (batch x length) layout `shape`): the projections run on the real
        tokens, the attention on the padded layout."""
        attn = self.self
        batch, length = shape[0], shape[1]

        def padded(x: torch.Tensor) -> torch.Tensor:  # (tokens, hidden) -> (batch, heads, length, head)
            full = x.new_zeros(batch * length, x.shape[-1]).index_copy_(0, rows, x)
            return full.view(batch, length, -1, attn.head_size).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            padded(attn.query(packed)),
            padded(attn.key(packed)),
            padded(attn.value(packed)),
            attn_mask=mask,
            dropout_p=0.0,
            scale=attn.scaling,
            is_causal=False,
        )
        return self.output(out.transpose(1, 2).reshape(batch * length, -1).index_select(0, rows), packed)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(hidden))


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config, config.intermediate_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is not None and not self.training and mask.dtype == torch.bool:
            return self._forward_padded(hidden, mask)
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)

    def _forward_padded(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """A padded batch (concurrent turns of different lengths): the dense layers, nine tenths of
        the work, run on the real tokens only, so a batch costs what its texts cost, not its
        longest text times its size. Each real token's values are those `forward` gives (every
        step is per token or masked); padding positions come out as zeros, which nothing reads
        (the attention masks them as keys, mean pooling skips them)."""
        # the real tokens' rows in (batch x length) (the mask is the same for every query)
        rows = mask[:, 0, 0, :].reshape(-1).nonzero().squeeze(1)
        packed = hidden.reshape(-1, hidden.shape[-1]).index_select(0, rows)
        attended = self.attention.forward_packed(packed, rows, hidden.shape, mask)
        out = self.output(self.intermediate(attended), attended)
        return (
            hidden.new_zeros(hidden.shape)
            .view(-1, hidden.shape[-1])
            .index_copy_(0, rows, out)
            .view(hidden.shape)
        )


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


@dataclass
class EncoderOutput:
    last_hidden_state: torch.Tensor
    hidden_states: tuple[torch.Tensor, ...] | None = None


class BertModel(nn.Module):
    """Embeddings + encoder layers (no pooler: sentence vectors are mean-pooled)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        tap: tuple[int, Callable[[torch.Tensor], object]] | None = None,
    ) -> EncoderOutput:
        """`tap=(n, fn)` hands the hidden state after n layers to `fn` as soon as it is computed
        (the router's tuned top layers start on it while the remaining layers run)."""
        hidden = self.embeddings(input_ids, token_type_ids)
        mask = self.config.bidirectional_mask(attention_mask, hidden)
        states = [hidden]
        for layer in self.encoder.layer:
            if tap is not None and tap[0] == len(states) - 1:
                tap[1](hidden)
            hidden = layer(hidden, mask)
            states.append(hidden)
        if tap is not None and tap[0] == len(states) - 1:
            tap[1](hidden)
        return EncoderOutput(hidden, tuple(states) if output_hidden_states else None)

    def run_layers(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, start: int, stop: int | None = None
    ) -> torch.Tensor:
        """Layers `start`..`stop` (exclusive) on a hidden state: `forward` in two parts (layers
        0..n, then n..end) is `forward`, operation for operation (the router stops at its split,
        and a turn that needs no retrieval vector never runs the top layers)."""
        mask = self.config.bidirectional_mask(attention_mask, hidden)
        for layer in self.encoder.layer[start:stop]:
            hidden = layer(hidden, mask)
        return hidden

    @classmethod
    def load(cls, path: str, config: BertConfig) -> BertModel:
        """The model with every weight from `<path>/model.safetensors` (all must be there)."""
        from safetensors.torch import load_file

        model = cls(config)
        state = load_file(str(Path(path) / "model.safetensors"))
        unused = {k for k in state if k.startswith("pooler.") or k.endswith("position_ids")}
        missing, unexpected = model.load_state_dict(
            {k: v for k, v in state.items() if k not in unused}, strict=False, assign=True
        )
        if missing or unexpected:
            raise ValueError(f"weights do not fit a BERT: missing {missing[:3]}, unexpected {unexpected[:3]}")
        return model.eval()


class WordPieceTokenizer:
    """The model folder's `tokenizer.json` (the Rust `tokenizers` library, as `transformers`' fast
    tokenizer uses it): pads to the longest text of a batch, truncates to `max_length`."""

    def __init__(self, path: str, max_length: int):
        from tokenizers import Tokenizer

        self.backend_tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self.backend_tokenizer.enable_truncation(max_length, strategy="longest_first")
        pad = self.backend_tokenizer.token_to_id("[PAD]")
        self.backend_tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
        self._whole: Any = None

    def __call__(self, text: str) -> dict[str, list[int]]:
        """One text's ids as `transformers`' `tokenizer(text)` gives them: not truncated, not padded."""
        if self._whole is None:
            self._whole = type(self.backend_tokenizer).from_str(self.backend_tokenizer.to_str())
            self._whole.no_truncation()
            self._whole.no_padding()
        out = self._whole.encode(text)
        return {"input_ids": out.ids, "token_type_ids": out.type_ids, "attention_mask": out.attention_mask}

    def batch(self, texts: list[str]) -> dict[str, torch.Tensor]:
        encoded = self.backend_tokenizer.encode_batch(texts)
        return {
            "input_ids": torch.tensor([e.ids for e in encoded], dtype=torch.long),
            "token_type_ids": torch.tensor([e.type_ids for e in encoded], dtype=torch.long),
            "attention_mask": torch.tensor([e.attention_mask for e in encoded], dtype=torch.long),
        }
