"""The bundled MiniLM runs on plain torch (`bot/minilm.py`) and computes what `transformers` does.

The index, the sentence-vector caches and the router model were built with `transformers`' BERT,
so the plain-torch model must give the same token ids, the same hidden state after every layer,
the same router votes, and train the router to the same artefact; and loading it must not import
`transformers` (that import was more than half of a warm start, issue #15).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bot.embedding import default_model_path
from bot.minilm import BertModel, plain_bert_config
from bot.settings import REPO_ROOT

TEXTS = [
    "is kratom legal?",
    "  Can kratom damage your liver?  ",
    "¿El kratom es legal en Estados Unidos? Sí, según la FDA… ñandú",
    "my friend took kratom and won't wake up",
    "x",
    "naïve café 中文 😀 ﬁ ligature\tTAB\u200bzero-width",
    "Kratom (Mitragyna speciosa) " * 120,  # longer than 256 word pieces: truncated the same way
]


@pytest.fixture(scope="module")
def reference():
    """`transformers`' own model and tokenizer on the same folder."""
    from transformers import AutoModel, AutoTokenizer

    path = default_model_path()
    return AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)


def test_the_bundled_model_takes_the_plain_torch_path(encoder):
    assert plain_bert_config(default_model_path()) is not None
    assert isinstance(encoder.bert, BertModel)


def test_loading_and_encoding_do_not_import_transformers():
    code = (
        "import sys; from bot.embedding import load_encoder; e = load_encoder(''); e.encode(['x']); "
        "print('transformers' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_token_ids_equal_transformers_tokenizer(encoder, reference, corpus_docs):
    _, tokenizer = reference
    texts = TEXTS + [doc.body[:4000] for doc in corpus_docs]
    for text in texts:
        assert encoder._model.tokenizer(text)["input_ids"] == tokenizer(text)["input_ids"]
        ours = encoder._model.preprocess([text])["input_ids"][0].tolist()
        theirs = tokenizer([text.strip()], truncation="longest_first", max_length=256)["input_ids"][0]
        assert ours == theirs


def test_hidden_states_after_every_layer_equal_transformers(encoder, reference):
    import torch

    model, _ = reference
    features = encoder._model.preprocess(TEXTS)  # padded: the attention mask matters
    with torch.inference_mode():
        ours = encoder.bert(**features, output_hidden_states=True)
        theirs = model(**features, output_hidden_states=True)
    assert len(ours.hidden_states) == len(theirs.hidden_states) == 7
    real = features["attention_mask"].bool()  # padding positions are zeros here: nothing reads them
    assert not bool(real.all())
    for a, b in zip(ours.hidden_states, theirs.hidden_states):
        np.testing.assert_allclose(a[real].numpy(), b[real].numpy(), atol=1e-6)
    np.testing.assert_allclose(
        ours.last_hidden_state[real].numpy(), theirs.last_hidden_state[real].numpy(), atol=1e-6
    )


def test_router_votes_equal_on_transformers_layers(encoder, reference):
    """The shipped router artefact loads into the plain layers and votes as on `transformers`' layers."""
    from bot.intent import MODEL_DIR, IntentHead

    model, _ = reference
    texts = TEXTS[:5]
    _, hidden, mask = encoder.encode_hidden(texts, 4)
    ours = IntentHead(encoder.bert, MODEL_DIR)
    theirs = IntentHead(model, MODEL_DIR)
    for a, b in zip(ours.votes(hidden, mask), theirs.votes(hidden, mask)):
        assert a.probs.keys() == b.probs.keys()
        for route in a.probs:
            assert abs(a.probs[route] - b.probs[route]) < 1e-5
        assert [n[0] for n in a.neighbours] == [n[0] for n in b.neighbours]


def test_a_folder_that_is_not_plain_bert_is_left_to_transformers(tmp_path):
    import json
    import shutil

    folder = tmp_path / "gelu-new"
    shutil.copytree(default_model_path(), folder)
    config = json.loads((folder / "config.json").read_text())
    config["hidden_act"] = "gelu_new"  # another activation: this module does not reproduce it
    (folder / "config.json").write_text(json.dumps(config))
    assert plain_bert_config(str(folder)) is None
    assert plain_bert_config(str(REPO_ROOT / "nope")) is None

    cased = tmp_path / "cased"
    shutil.copytree(default_model_path(), cased)
    settings = json.loads((cased / "tokenizer_config.json").read_text())
    settings["do_lower_case"] = False  # transformers would rebuild the normalizer from this
    (cased / "tokenizer_config.json").write_text(json.dumps(settings))
    assert plain_bert_config(str(cased)) is None


@pytest.mark.slow
def test_router_training_gives_the_same_artefact_on_plain_and_transformers_layers(
    encoder, reference, tmp_path
):
    """Training runs the tuned layers with dropout: same operations, same random draws, same bytes."""
    import copy

    from bot.router_train import train
    from guardrails.policy import load_policy

    model, tokenizer = reference
    on_transformers = copy.copy(encoder)
    on_transformers._model = copy.copy(encoder._model)
    on_transformers._model.auto_model, on_transformers._model.tokenizer = model, tokenizer
    on_transformers._model.light = False
    tiny = REPO_ROOT / "tests" / "data" / "router_tiny" / "splits.yaml"
    shas = [
        train(enc, load_policy(), out_dir=tmp_path / name, splits_path=tiny, epochs=1, progress=False)[
            "sha256"
        ]
        for name, enc in (("plain", encoder), ("transformers", on_transformers))
    ]
    assert shas[0] == shas[1]
