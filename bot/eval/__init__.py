"""`kratom-qa eval`: play conversation datasets through the bot and score them.

dataset.py   the item schema (`Item`, unknown fields refused) and the one `read_jsonl`
targets.py   where turns are played: in process (`answer_turn`) or a server's /v1 (`--url`)
judge.py     one item's checks (`Checks`); urgent numbers from the policy for the run's locale
metrics.py   `Summary`: one field per metric; gate and table keys derive from it; `percentile`
gate.py      bounds from a YAML file (tests/data/eval/*.yaml) checked against a summary
runner.py    `evaluate`: play, judge, summarise overall and per category, keep the failures
report/      the terminal table, JSON, and HTML from the `report.html` template
"""

from bot.eval.dataset import DatasetError, Item, load_dataset, read_jsonl
from bot.eval.gate import check_gate, load_gate
from bot.eval.judge import Checks, answer_shape, corpus_texts, judge, reply_lang, urgent_numbers
from bot.eval.metrics import GATE_METRICS, PREDICTED, TABLE_KEYS, Summary, percentile, summarise
from bot.eval.report import html_report, terminal_table, write_reports
from bot.eval.runner import evaluate, play
from bot.eval.targets import HttpTarget, Target, TargetError, TurnResult, http_target, in_process_target
from guardrails.routes import ROUTES

__all__ = [
    "GATE_METRICS",
    "PREDICTED",
    "ROUTES",
    "TABLE_KEYS",
    "Checks",
    "DatasetError",
    "HttpTarget",
    "Item",
    "Summary",
    "Target",
    "TargetError",
    "TurnResult",
    "answer_shape",
    "check_gate",
    "corpus_texts",
    "evaluate",
    "html_report",
    "http_target",
    "in_process_target",
    "judge",
    "load_dataset",
    "load_gate",
    "percentile",
    "play",
    "read_jsonl",
    "reply_lang",
    "summarise",
    "terminal_table",
    "urgent_numbers",
    "write_reports",
]
