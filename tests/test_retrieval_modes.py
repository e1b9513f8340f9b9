"""Both dense modes read the same Chroma index and agree; concurrent turns share encodes."""

import threading

from bot.batching import BatchingEncoder
from bot.retrieval import Retriever

QUESTIONS = [
    "Is kratom approved by the FDA?",
    "can kratom hurt my liver",
    "kratom withdrawal symptoms",
    "is kratom legal in the united states",
    "kratom and pregnancy",
    "salmonella in kratom products",
]


def test_memory_and_chroma_dense_rankings_agree(services):
    memory = Retriever(services.index, services.encoder, dense="memory")
    chroma = Retriever(services.index, services.encoder, dense="chroma")
    for q in QUESTIONS:
        v = services.encoder.encode_one(q)
        a = [p.chunk.chunk_id for p in memory.search(q, v)]
        b = [p.chunk.chunk_id for p in chroma.search(q, v)]
        assert a[:3] == b[:3], q


def test_concurrent_turns_share_forward_passes(services):
    batcher = BatchingEncoder(services.encoder)
    before_passes, before_texts = services.encoder.forward_passes, services.encoder.texts_encoded
    results = {}
    barrier = threading.Barrier(16)

    def turn(i):
        barrier.wait()
        results[i] = batcher.encode_one(f"question number {i} about kratom")

    threads = [threading.Thread(target=turn, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert services.encoder.texts_encoded - before_texts == 16
    assert services.encoder.forward_passes - before_passes < 16
    direct = services.encoder.encode_one("question number 3 about kratom")
    assert float(results[3] @ direct) > 0.999
