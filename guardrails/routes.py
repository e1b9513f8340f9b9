"""The five routes, in priority order: the one home of the names every layer shares."""

from __future__ import annotations

from typing import Literal, get_args

Route = Literal["emergency", "crisis", "dosing_refusal", "decline", "answer"]
ROUTES: tuple[Route, ...] = get_args(Route)
URGENT: tuple[Route, ...] = ("emergency", "crisis")
