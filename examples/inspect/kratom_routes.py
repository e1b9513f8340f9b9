"""inspect-ai task: does each case take the expected route? (the same 20 cases as examples/promptfoo/)

    OPENAI_BASE_URL=http://127.0.0.1:7860/v1 OPENAI_API_KEY=unused \\
        inspect eval examples/inspect/kratom_routes.py --model openai/kratom-qa

`openai/...` calls /v1/responses; inspect copies the response's `metadata` (string values,
`route` among them) into `state.output.metadata`, which the scorer reads.
"""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer
from inspect_ai.solver import TaskState, generate

CASES = Path(__file__).with_name("cases.jsonl")


@scorer(metrics=[accuracy()])
def route_matches():
    async def score(state: TaskState, target: Target) -> Score:
        route = (state.output.metadata or {}).get("route")
        return Score(
            value=CORRECT if route == target.text else INCORRECT,
            answer=route,
            explanation=f"route {route}, expected {target.text}",
        )

    return score


@task
def kratom_routes() -> Task:
    return Task(dataset=json_dataset(str(CASES)), solver=generate(), scorer=route_matches())
