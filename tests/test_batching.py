"""The turn's one forward pass: the router head on a second thread, padded batches on their real
tokens only, and a follow-up's last turn riding in the same pass. Same numbers, less work."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from bot.batching import BatchingEncoder
from bot.chat import answer_turn

TEXTS = [
    "is kratom legal?",
    "my friend took kratom with xanax and now he won't wake up, his lips look blue",
    "how much kratom should I take for my back pain",
    "what does the FDA say about 7-OH products sold at gas stations and smoke shops in 2025?",
]


def probs(votes):
    return np.array([[v.probs[r] for r in sorted(v.probs)] for v in votes])


def test_the_router_head_on_a_second_thread_gives_the_same_vectors_and_votes(services):
    intent, encoder = services.intent, services.encoder
    rows = list(range(len(TEXTS)))
    with ThreadPoolExecutor(1) as head:
        for texts, wanted in ((TEXTS[:1], [0]), (TEXTS, rows), (TEXTS, [3, 1])):
            together, votes_together = encoder.encode_routed(texts, intent, wanted, head)
            apart, votes_apart = encoder.encode_routed(texts, intent, wanted, None)
            assert np.array_equal(together, apart)
            assert np.array_equal(probs(votes_together), probs(votes_apart))
            assert [v.neighbours for v in votes_together] == [v.neighbours for v in votes_apart]


def test_a_padded_batch_gives_each_text_the_numbers_of_the_full_padded_computation(services):
    """The dense layers run on the real tokens only; the result equals running every layer on the
    padded batch (positions and all), value for value, and each text's own encode closely."""
    bert = services.encoder.bert
    features = services.encoder._model.preprocess(TEXTS)
    mask = features["attention_mask"]
    assert not bool(mask.all())  # the texts differ in length: the batch is padded
    with torch.inference_mode():
        packed = bert(**features, output_hidden_states=True)
        hidden = packed.hidden_states[0]
        attn = bert.config.bidirectional_mask(mask, hidden)
        for layer in bert.encoder.layer:  # the padded computation, layer by layer
            attended = layer.attention(hidden, attn)
            hidden = layer.output(layer.intermediate(attended), attended)
    real = mask.bool()
    assert torch.equal(packed.last_hidden_state[real], hidden[real])
    alone = services.encoder.encode(TEXTS, batch_size=1)
    together = services.encoder.encode(TEXTS, batch_size=len(TEXTS))
    assert np.allclose(alone, together, atol=1e-5)


def test_a_follow_up_turn_is_one_forward_pass(services):
    """The follow-up's last turn, which the composer weighs in, comes from the turn's own pass."""
    services.warm()
    first = {"role": "user", "content": "is kratom legal in the US?"}
    answer = answer_turn([first], services)
    messages = [
        first,
        {"role": "assistant", "content": answer.text},
        {"role": "user", "content": "and in Thailand?"},
    ]
    before = services.encoder.forward_passes
    reply = answer_turn(messages, services)
    assert reply.route == "answer"
    assert services.encoder.forward_passes - before == 1


def test_an_idle_batcher_encodes_in_the_calling_thread_and_a_busy_one_still_batches(services):
    batcher = BatchingEncoder(services.encoder, workers=1)
    direct = batcher.encode_one("is kratom addictive?")
    assert np.allclose(direct, services.encoder.encode_one("is kratom addictive?"), atol=1e-6)
    vector, votes, extra = batcher.encode_turn("is kratom addictive?", [], ("and the liver?",))
    assert votes is None and len(extra) == 1
    assert np.allclose(extra[0], services.encoder.encode_one("and the liver?"), atol=1e-5)


def test_a_staged_pass_gives_the_numbers_and_votes_of_the_one_pass(services):
    """Router first, retrieval layers after (a batch or a busy machine): each text's vector and
    the router's votes are those of the shared pass (`encode_routed`); one text alone, exactly."""
    intent, encoder = services.intent, services.encoder
    staged = BatchingEncoder(encoder, intent=intent)  # no second thread: always staged
    for text in TEXTS:
        vector, votes, _ = staged.encode_turn(text, [text])
        expected, expected_votes = encoder.encode_routed([text], intent, [0], None)
        assert np.array_equal(vector, expected[0])
        assert np.array_equal(probs(votes), probs(expected_votes))
        assert [v.neighbours for v in votes] == [v.neighbours for v in expected_votes]
    conversation = f"{TEXTS[0]} [SEP] {TEXTS[1]}"
    vector, votes, extra = staged.encode_turn(TEXTS[3], [conversation, TEXTS[1]], (TEXTS[1],))
    texts = [TEXTS[3], conversation, TEXTS[1]]
    expected, expected_votes = encoder.encode_routed(texts, intent, [1, 2], None)
    assert np.allclose(vector, expected[0], atol=1e-5) and np.allclose(extra[0], expected[2], atol=1e-5)
    assert np.allclose(probs(votes), probs(expected_votes), atol=1e-5)


def test_a_turn_that_wants_no_vector_never_runs_the_retrieval_layers(services):
    """`needed(votes)` says no (chat.py: an urgent, refused or declined route): the base model's
    top layers do not run, and the turn gets its votes but no vectors."""
    intent, encoder = services.intent, services.encoder
    staged = BatchingEncoder(encoder, intent=intent)
    top = encoder.bert.encoder.layer[-1]
    calls = []
    hook = top.register_forward_hook(lambda *_: calls.append(1))
    asked = []
    try:
        no = staged.encode_turn(TEXTS[1], [TEXTS[1]], ("and now?",), lambda v: asked.append(v) or False)
        assert no.vector is None and no.extra == [] and len(no.votes) == 1 and not calls
        assert asked and probs(asked[0]).tolist() == probs(no.votes).tolist()
        yes = staged.encode_turn(TEXTS[0], [TEXTS[0]], ("and now?",), lambda v: True)
        assert yes.vector is not None and len(yes.extra) == 1 and calls
    finally:
        hook.remove()
    assert np.allclose(yes.extra[0], encoder.encode_one("and now?"), atol=1e-5)


def test_staged_and_parallel_passes_give_the_same_replies(services, monkeypatch):
    """The turn's route, reply and sources do not depend on which way the pass ran."""
    import bot.batching

    services.warm()
    conversations = [
        [{"role": "user", "content": "is kratom legal in the US?"}],
        [{"role": "user", "content": TEXTS[1]}],
        [{"role": "user", "content": TEXTS[2]}],
        [
            {"role": "user", "content": "is kratom legal in the US?"},
            {"role": "assistant", "content": "(an earlier answer)"},
            {"role": "user", "content": "and in Thailand?"},
        ],
    ]
    encoder = services.query_encoder
    replies = {}
    for busy in (True, False):
        monkeypatch.setattr(bot.batching, "_busy", lambda busy=busy: busy)
        monkeypatch.setattr(encoder, "_head", ThreadPoolExecutor(1))
        replies[busy] = [answer_turn(c, services) for c in conversations]
    for staged, parallel in zip(replies[True], replies[False]):
        assert (staged.route, staged.text, staged.doc_ids) == (
            parallel.route,
            parallel.text,
            parallel.doc_ids,
        )
    assert [r.route for r in replies[True]][:3] == ["answer", "emergency", "dosing_refusal"]
