"""bot/gaps.py: a gap needs a word the corpus never says, so a turn whose candidate words the
corpus all says is answered without encoding them (the turn keeps its one forward pass)."""

import numpy as np


def test_words_the_corpus_says_are_not_encoded_and_an_unknown_word_is(services):
    services.warm()
    gaps, encoder = services.composer.gaps, services.encoder
    vector = encoder.encode_one("does kratom hurt the liver during withdrawal?")
    said = "does kratom hurt the liver during withdrawal?"
    assert gaps.candidates(said, []) and all(gaps.corpus.says(w) for w in gaps.candidates(said, []))
    before = encoder.texts_encoded
    assert gaps.find(said, vector, [], []) == []
    assert encoder.texts_encoded == before  # nothing encoded
    unknown = "does kratom help my saxophone practice?"
    words = gaps.candidates(unknown, [])
    assert any(not gaps.corpus.says(w) for w in words)
    found = gaps.find(unknown, encoder.encode_one(unknown), [], [])
    assert encoder.texts_encoded > before + 1  # the question and its candidate words
    assert all(isinstance(g.salience, float) and np.isfinite(g.salience) for g in found)
