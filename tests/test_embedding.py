"""The encoder's `transformers`-only path gives sentence-transformers' vectors (issue #15).

`bot.embedding.MeanPoolModel` loads the bundled all-MiniLM-L6-v2 without importing
sentence-transformers (most of a warm start). The index, the sentence-vector caches and the
router model were all built with sentence-transformers' vectors, so they must not move.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.embedding import Encoder, MeanPoolModel, default_model_path, mean_pool_config

TEXTS = [
    "is kratom legal?",
    "  Can kratom damage your liver?  ",  # stripped, as sentence-transformers does
    "¿El kratom es legal en Estados Unidos?",
    "my friend took kratom and won't wake up",
    "x",
    "Kratom (Mitragyna speciosa) " * 120,  # longer than 256 tokens: truncated the same way
    "FDA warns: products vary in alkaloid content; more frequent use, more harm. 7-OH!",
]


@pytest.fixture(scope="module")
def reference():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(default_model_path(), device="cpu")


def test_bundled_model_loads_without_sentence_transformers(encoder):
    assert isinstance(encoder._model, MeanPoolModel)
    assert mean_pool_config(default_model_path()) == 256


def test_vectors_equal_sentence_transformers_to_1e5(encoder, reference):
    ours = encoder.encode(TEXTS, batch_size=3)  # batches mix lengths: padding must not matter
    theirs = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(encoder.encode_one(TEXTS[0]), theirs[0], atol=1e-5)


def test_one_pass_vectors_equal_encode(encoder):
    vectors, hidden, mask = encoder.encode_hidden(TEXTS, layer=4)
    np.testing.assert_allclose(vectors, encoder.encode(TEXTS), atol=1e-5)
    assert hidden.shape[:2] == mask.shape and mask.shape[1] <= 256


def test_token_counter_uses_the_same_tokenizer(encoder, reference):
    ids = encoder._model.tokenizer("is kratom legal?")["input_ids"]
    assert ids == reference.tokenizer("is kratom legal?")["input_ids"]


def test_a_model_folder_with_other_pooling_loads_through_sentence_transformers(tmp_path):
    """CLS pooling is not what MeanPoolModel computes: that model takes the general path."""
    import shutil

    folder = tmp_path / "cls-model"
    shutil.copytree(default_model_path(), folder)
    config = folder / "1_Pooling" / "config.json"
    pooling = json.loads(config.read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    config.write_text(json.dumps(pooling))
    assert mean_pool_config(str(folder)) is None
    cls = Encoder(str(folder))
    assert not isinstance(cls._model, MeanPoolModel)
    from sentence_transformers import SentenceTransformer

    expected = SentenceTransformer(str(folder), device="cpu").encode(TEXTS[:2], normalize_embeddings=True)
    np.testing.assert_allclose(cls.encode(TEXTS[:2]), expected, atol=1e-5)
