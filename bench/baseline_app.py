"""The baseline: a plain LangChain RAG pipeline with no guardrails and no BM25.

Same embedding model, same corpus, same Chroma index: dense top-4 through
`langchain_chroma.Chroma.as_retriever`, passages returned as the answer. Served with the same
request shape as our `/api/chat` so the load generator treats both alike.
"""

from __future__ import annotations

import os
import sys

from fastapi import FastAPI
from langchain_chroma import Chroma
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

import bot.offline  # noqa: F401
from bot.embedding import load_encoder
from bot.index import open_index
from bot.settings import load_settings


class Body(BaseModel):
    messages: list[dict]


def build_chain():
    settings = load_settings()
    index = open_index(settings)
    encoder = load_encoder(settings.embedding_model)
    store = Chroma(client=index.client, collection_name=index.active_name, embedding_function=encoder)
    retriever = store.as_retriever(search_kwargs={"k": 4})
    fmt = RunnableLambda(
        lambda docs: "\n\n".join(f"{d.page_content} ({d.metadata.get('url')})" for d in docs)
    )
    return retriever | fmt


def create_app() -> FastAPI:
    chain = build_chain()
    app = FastAPI(title="baseline")

    @app.post("/api/chat")
    def chat(body: Body) -> dict:
        question = next(m["content"] for m in reversed(body.messages) if m.get("role") == "user")
        return {"route": "answer", "answer": chain.invoke(question)}

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", 7990)),
        log_level="warning",
        access_log=False,
    )
