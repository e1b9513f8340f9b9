"""Safety policy and checks for kratom-qa. Imports nothing from `bot`.

check_input(user_turns, policy, vote) -> Decision                  (router.py)
check_output(text, sources) -> Verdict                            (output_checks.py)
check_grounding(cited, passages) -> Verdict                       (output_checks.py)
load_policy(path) -> Policy                                       (policy.py)
"""

from guardrails.amounts import find_amounts
from guardrails.model import ModelPolicy, ModelVote
from guardrails.output_checks import Verdict, check_grounding, check_output
from guardrails.policy import Policy, PolicyError, load_policy
from guardrails.replies import render_reply
from guardrails.router import Decision, check_input

__all__ = [
    "Decision",
    "ModelPolicy",
    "ModelVote",
    "Policy",
    "PolicyError",
    "Verdict",
    "check_grounding",
    "check_input",
    "check_output",
    "find_amounts",
    "load_policy",
    "render_reply",
]
