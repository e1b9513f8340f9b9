"""Feedback keeps the rating, route and sources; message text only when the user opts in."""

import json

import pytest

from bot.feedback import save_feedback


def test_feedback_without_opt_in_stores_no_text(tmp_path):
    path = tmp_path / "feedback.jsonl"
    save_feedback(path, "answer", ["livertox-kratom"], "up")
    row = json.loads(path.read_text())
    assert row["route"] == "answer" and row["doc_ids"] == ["livertox-kratom"] and row["rating"] == "up"
    assert "conversation" not in row


def test_feedback_with_opt_in_stores_the_exchange(tmp_path):
    path = tmp_path / "feedback.jsonl"
    save_feedback(path, "answer", [], "down", {"user": "is kratom safe?", "assistant": "..."})
    assert json.loads(path.read_text())["conversation"]["user"] == "is kratom safe?"


def test_feedback_rejects_an_unknown_rating(tmp_path):
    with pytest.raises(ValueError):
        save_feedback(tmp_path / "f.jsonl", "answer", [], "meh")


def test_the_chat_ui_records_a_thumbs_down_without_text(services):
    """The Gradio like handler, called the way Gradio calls it."""
    import gradio as gr

    from bot.ui import build_ui

    demo = build_ui(services)
    handler = next(fn for fn in demo.fns.values() if getattr(fn.fn, "__name__", "") == "on_feedback").fn
    meta = [
        {
            "route": "answer",
            "doc_ids": ["dea-kratom-drug-fact-sheet"],
            "index": 1,
            "user": "is kratom legal?",
            "assistant": "It depends [1]",
        }
    ]  # the session's record of the reply, as `respond` keeps it
    data = gr.LikeData(target=None, data={"index": 1, "value": "It depends [1]", "liked": False})
    handler(data, meta, False)
    rows = [
        json.loads(line) for line in (services.settings.data_dir / "feedback.jsonl").read_text().splitlines()
    ]
    assert rows[-1] == {
        **rows[-1],
        "route": "answer",
        "rating": "down",
        "doc_ids": ["dea-kratom-drug-fact-sheet"],
    }
    assert "conversation" not in rows[-1]
