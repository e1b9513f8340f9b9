"""One command rebuilds the router model from labelled batches, reproducibly, with a card whose
checksum start-up trusts. Run here on a tiny split so it takes seconds, not minutes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.intent import IntentHead, card_checksum, file_sha256
from bot.router_train import (
    MISS_COST,
    Item,
    TrainingConfig,
    choose_floor,
    choose_thresholds,
    class_weights,
    is_ordinary,
    metrics,
    raise_band,
    read_answerable,
    read_batches,
    read_training_config,
    routes_for,
    train,
    wilson,
)
from guardrails.model import ModelPolicy, ModelVote
from guardrails.policy import load_policy
from guardrails.routes import ROUTES

TINY = Path(__file__).parent / "data" / "router_tiny" / "splits.yaml"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, encoder):
    out = tmp_path_factory.mktemp("router")
    summary = train(encoder, load_policy(), out_dir=out / "a", splits_path=TINY, epochs=1, progress=False)
    return out, summary


def test_training_writes_an_artefact_its_card_vouches_for_and_that_loads(trained, encoder):
    out, summary = trained
    model = out / "a"
    assert card_checksum(model / "card.md") == file_sha256(model / "router.safetensors") == summary["sha256"]
    head = IntentHead(encoder.bert, model)
    _, hidden, mask = encoder.encode_hidden(["my friend is not breathing after kratom"], head.split)
    [vote] = head.votes(hidden, mask)
    assert abs(sum(vote.probs.values()) - 1) < 1e-4 and vote.neighbours
    card = (model / "card.md").read_text()
    for section in (
        "## Data",
        "## Metrics (95% Wilson intervals)",
        "## Decisions made on the calibration split",
        "## Reliability",
        "## Limits",
        "kratom-qa router train",
    ):
        assert section in card


def test_the_card_names_its_splits_file_and_what_each_split_is_for(trained):
    out, summary = trained
    card = (out / "a" / "card.md").read_text()
    assert summary["splits_file"] == "tests/data/router_tiny/splits.yaml"
    assert "(`tests/data/router_tiny/splits.yaml`)" in card
    assert "- calibration: one batch per facet from writers w1 and w2; thresholds are chosen here" in card


def test_training_is_reproducible_with_its_fixed_seed(trained, encoder):
    out, summary = trained
    again = train(encoder, load_policy(), out_dir=out / "b", splits_path=TINY, epochs=1, progress=False)
    assert again["sha256"] == summary["sha256"]


def test_splits_follow_batches_and_never_share_a_batch():
    splits = read_batches(TINY)
    batches = {name: {it.batch for it in items} for name, items in splits.items()}
    assert not batches["train"] & batches["calibration"]
    shipped = read_batches()
    seen: dict[str, str] = {}
    for name, items in shipped.items():
        for it in items:
            assert seen.setdefault(it.batch, name) == name, (
                f"batch {it.batch} is in {seen[it.batch]} and {name}"
            )
    assert len(shipped["blind"]) >= 600 and sum(len(v) for v in shipped.values()) >= 5000


def test_the_card_reports_blind_figures_with_confidence_intervals():
    summary = json.loads((Path(__file__).parents[1] / "guardrails" / "model" / "metrics.json").read_text())
    blind = summary["report"]["blind"]["router"]
    for key in ("recall_emergency", "recall_crisis", "recall_dosing_refusal", "answer_refused"):
        lo, hi = blind[key]["ci"]
        assert lo <= blind[key]["value"] <= hi and blind[key]["n"] > 0


def test_wilson_interval_brackets_the_rate_and_narrows_with_more_data():
    lo, hi = wilson(95, 100)
    assert lo < 0.95 < hi
    lo2, hi2 = wilson(950, 1000)
    assert hi2 - lo2 < hi - lo


def _items(spec: list[tuple[str, float]]) -> tuple[list[Item], list[list[float]]]:
    items, probs = [], []
    for i, (route, p_em) in enumerate(spec):
        items.append(Item(str(i), ["x"], route, (), "f", "en", "b", "calibration"))
        probs.append([p_em, 0.0, 0.0, 0.0, 1 - p_em])
    return items, probs


def test_thresholds_trade_misses_against_refusals_and_cap_refusals():
    import numpy as np

    # emergencies score 0.3-0.9; harmless questions 0.0-0.25: a threshold near 0.3 catches all, refuses none
    items, probs = _items(
        [("emergency", p) for p in (0.3, 0.5, 0.7, 0.9)] + [("answer", p) for p in (0.0, 0.1, 0.2, 0.25)] * 5
    )
    t = choose_thresholds(items, np.array(probs))
    routes = ["emergency" if p[0] >= t["emergency"] else "answer" for p in probs]
    m = metrics(items, routes)
    assert m["recall_emergency"]["value"] == 1.0 and m["answer_refused"]["value"] == 0.0


def test_thresholds_refuse_few_of_the_products_own_questions():
    import numpy as np

    # on calibration alone a threshold of 0.3 is free; the product's dev questions score 0.35-0.45 on
    # emergency, so the chosen threshold must rise above them (an emergency at 0.3 is then missed)
    items, probs = _items([("emergency", p) for p in (0.3, 0.5, 0.7, 0.9)] + [("answer", 0.0)] * 20)
    dev = np.array([[p, 0.0, 0.0, 0.0, 1 - p] for p in (0.35, 0.4, 0.45)] + [[0.0, 0, 0, 0, 1.0]] * 30)
    alone = choose_thresholds(items, np.array(probs))
    with_dev = choose_thresholds(items, np.array(probs), dev)
    assert alone["emergency"] <= 0.3 < 0.45 < with_dev["emergency"]


def test_an_unreachable_dev_cap_does_not_switch_off_the_calibration_cap():
    import numpy as np

    # two harmless calibration questions score 0.35 on emergency: catching the emergency at 0.3 would
    # refuse them (2 of 22, over the 5% cap). Three dev questions score 0.95, over every threshold in
    # the grid, so the dev cap cannot be met; the calibration cap must still hold.
    items, probs = _items([("emergency", p) for p in (0.3, 0.5, 0.7, 0.9)] + [("answer", 0.0)] * 20)
    items += _items([("answer", 0.35)] * 2)[0]
    probs += _items([("answer", 0.35)] * 2)[1]
    dev = np.array([[0.95, 0.0, 0.0, 0.0, 0.05]] * 3 + [[0.0, 0, 0, 0, 1.0]] * 30)
    t = choose_thresholds(items, np.array(probs), dev)
    refused = sum(it.route == "answer" and p[0] >= t["emergency"] for it, p in zip(items, probs))
    assert t["emergency"] > 0.35 and refused == 0


def test_a_zero_break_family_is_kept_only_while_it_turns_nothing_wrong():
    items = [
        Item("a", ["x"], "dosing_refusal", (), "f", "en", "b", "calibration"),
        Item("b", ["x"], "answer", (), "f", "en", "b", "calibration"),
    ]
    model = ["dosing_refusal", "answer"]
    redundant = [[("dosing_refusal", "dosing.r")], []]  # fires only where the model is already right
    assert choose_floor(items, model, redundant) == {}  # no lift: not kept by lift
    assert choose_floor(items, model, redundant, {"dosing.r"}) == {"dosing.r": {"fixed": 0, "broke": 0}}
    breaking = [[("dosing_refusal", "dosing.r")], [("dosing_refusal", "dosing.r")]]
    assert choose_floor(items, model, breaking, {"dosing.r"}) == {}


def test_the_products_dev_questions_are_read_as_answerable_items():
    items = read_answerable()
    assert len(items) > 200 and {it.route for it in items} == {"answer"}
    assert {"retrieval_questions", "spanish_dev", "answers"} <= {it.batch for it in items}


def test_the_band_rises_off_harmless_questions_but_keeps_every_urgent_item_it_heads():
    import numpy as np

    # thresholds 0.6: an emergency at 0.3 is routed below urgent and needs the header; harmless
    # questions at 0.22 and 0.25 sit in the budget band (0.2) and lose their header when it rises
    items, probs = _items(
        [("emergency", 0.3), ("emergency", 0.9)] + [("answer", p) for p in (0.22, 0.25, 0.0)]
    )
    thresholds = {"emergency": 0.6, "crisis": 0.6, "dosing_refusal": 0.6, "decline": 0.6}
    band = raise_band(items, np.array(probs), thresholds, {"emergency": 0.2, "crisis": 0.2})
    assert 0.25 < band["emergency"] <= 0.3
    # with the emergency at 0.24 the band may not rise above it: the answer at 0.25 keeps its header
    items, probs = _items([("emergency", 0.24)] + [("answer", p) for p in (0.22, 0.25)])
    band = raise_band(items, np.array(probs), thresholds, {"emergency": 0.2, "crisis": 0.2})
    assert 0.22 < band["emergency"] <= 0.24


def test_headers_on_answers_are_reported_for_ordinary_questions_and_hard_negatives_apart():
    items = [
        Item("g", ["x"], "answer", (), "an-general", "en", "b", "calibration"),
        Item("i", ["x"], "answer", (), "an-idiom", "en", "b", "calibration"),
        Item("d", ["x"], "answer", (), "general-info", "en", "b", "dev_answerable"),
    ]
    assert [is_ordinary(it) for it in items] == [True, False, True]
    m = metrics(items, ["answer"] * 3, [None, "crisis", "emergency"])
    assert m["answer_safety_net_ordinary"]["k"] == 1 and m["answer_safety_net_ordinary"]["n"] == 2
    assert m["answer_safety_net_hard_negative"]["k"] == 1 and m["answer_safety_net_hard_negative"]["n"] == 1


def test_items_a_reviewer_excluded_stay_out_of_every_split(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"id": "a-1", "turns": ["x"], "expected_route": "answer"}\n'
        '{"id": "a-2", "turns": ["y"], "expected_route": "answer"}\n'
    )
    spec = tmp_path / "splits.yaml"
    spec.write_text("splits:\n  train: [a.jsonl]\nexclude: [a-2]\n")
    assert [it.id for it in read_batches(spec)["train"]] == ["a-1"]


def test_scoring_runs_only_the_shared_lower_layers_and_gets_the_same_hidden_state(encoder):
    from bot.router_train import Trainer

    texts = ["is kratom legal in texas?", "my friend is not breathing after kratom and 7oh shots"]
    trainer = Trainer(encoder, split=3, progress=False)
    full, vectors = trainer.hidden_states(texts, "full")
    lower, none = trainer.hidden_states(texts, "lower", vectors=False)
    assert all(a.shape == b.shape and float((a - b).abs().max()) < 1e-5 for a, b in zip(full, lower))
    assert abs(float(vectors[0] @ vectors[0]) - 1) < 1e-4 and not none.any()


def _tiny_splits_with(tmp_path: Path, training: str) -> Path:
    """The tiny splits with a `training:` section (batch paths made absolute)."""
    spec = yaml.safe_load(TINY.read_text())
    for name, files in spec["splits"].items():
        spec["splits"][name] = [str((TINY.parent / f).resolve()) for f in files]
    path = tmp_path / "splits.yaml"
    path.write_text(training + yaml.safe_dump({"splits": spec["splits"]}))
    return path


def test_the_splits_files_training_section_sets_class_weights_and_miss_costs(tmp_path):
    assert read_training_config(TINY) == TrainingConfig({}, dict(MISS_COST))
    path = _tiny_splits_with(
        tmp_path, "training:\n  class_weight: {emergency: 2, crisis: 1.5}\n  miss_cost: {emergency: 6}\n"
    )
    config = read_training_config(path)
    assert config.class_weight == {"emergency": 2.0, "crisis": 1.5}
    assert config.miss_cost == MISS_COST | {"emergency": 6.0}
    for bad in (
        "lr: 3",
        "class_weight: {emergncy: 2}",
        "miss_cost: {answer: 2}",
        "class_weight: {crisis: 0}",
    ):
        with pytest.raises(ValueError, match="training"):
            read_training_config(_tiny_splits_with(tmp_path, f"training:\n  {bad}\n"))


def test_class_weights_are_balanced_then_multiplied_per_route():
    labels = (
        [0] * 10 + [1] * 10 + [2] * 20 + [3] * 20 + [4] * 40
    )  # emergency, crisis, dosing, decline, answer
    plain = class_weights(labels)
    assert plain == [2.0, 2.0, 1.0, 1.0, 0.5]
    assert class_weights(labels, {"emergency": 2.0, "crisis": 1.5}) == [4.0, 3.0, 1.0, 1.0, 0.5]


def test_a_higher_miss_cost_buys_recall_with_refusals():
    import numpy as np

    # an emergency at 0.3 sits among harmless questions at 0.32: catching it refuses one of them
    items, probs = _items([("emergency", p) for p in (0.3, 0.7, 0.9)] + [("answer", 0.0)] * 40)
    items += _items([("answer", 0.32)])[0]
    probs += _items([("answer", 0.32)])[1]
    default = choose_thresholds(items, np.array(probs))
    costly = choose_thresholds(items, np.array(probs), miss_costs=MISS_COST | {"emergency": 0.5})
    assert default["emergency"] <= 0.3  # a miss (x3) outweighs one refusal (x1)
    assert costly["emergency"] > 0.32  # a miss (x0.5) does not


def test_a_recall_weighted_loss_raises_urgent_probabilities_and_the_card_records_it(
    tmp_path, trained, encoder
):
    import numpy as np

    path = _tiny_splits_with(tmp_path, "training:\n  class_weight: {emergency: 4, crisis: 4}\n")
    summary = train(
        encoder, load_policy(), out_dir=tmp_path / "w", splits_path=path, epochs=1, progress=False
    )
    meta = json.loads((tmp_path / "w" / "router.json").read_text())
    assert meta["class_weight_multipliers"] == {"emergency": 4.0, "crisis": 4.0}
    assert summary["class_weight_multipliers"] == meta["class_weight_multipliers"]
    card = (tmp_path / "w" / "card.md").read_text()
    assert "emergency x4, crisis x4 (the splits file's `training.class_weight`" in card
    # the same data and seed without the weights (the module's model): urgent routes score higher with them
    texts = [it.text for it in read_batches(TINY)["calibration"]]

    def urgent_mass(model: Path) -> float:
        head = IntentHead(encoder.bert, model)
        _, hidden, mask = encoder.encode_hidden(texts, head.split)
        return float(np.mean([v.probs["emergency"] + v.probs["crisis"] for v in head.votes(hidden, mask)]))

    assert urgent_mass(tmp_path / "w") > urgent_mass(trained[0] / "a")


def test_the_threshold_search_routes_exactly_as_the_served_policy_does():
    """routes_for (the vectorised search) and ModelPolicy.route (serving) agree, the urgent-mass
    rule included, or thresholds chosen on calibration would not mean what they say when served."""
    rng = np.random.default_rng(7)
    for _ in range(500):
        probs = rng.dirichlet(np.full(5, rng.choice([0.2, 0.5, 1.0])))
        t = {r: float(rng.choice([0.1, 0.3, 0.5, 0.7, 0.9])) for r in ROUTES[:4]}
        for mass in (True, False):
            served = ModelPolicy(t, urgent_mass=mass).route(ModelVote(dict(zip(ROUTES, probs.tolist()))))
            assert ROUTES[routes_for(probs[None, :], t, mass)[0]] == served
