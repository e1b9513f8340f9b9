"""Load and validate `policy.yaml` into a `Policy`. Errors name the file and the key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from guardrails.amounts import find_amounts

ROUTES = ("emergency", "crisis", "dosing_refusal", "decline", "answer")
LANGS = ("en", "es")
RESOURCE_KEYS = ("emergency", "poison", "crisis", "helpline")
REQUIRED_TEMPLATES = ("emergency", "crisis", "dosing_refusal", "decline", "not_covered", "fallback",
                      "input_error", "disclaimer")
DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")


class PolicyError(Exception):
    def __init__(self, path: Path | str, key: str, why: str):
        self.path, self.key, self.why = str(path), key, why
        super().__init__(f"{path}: key '{key}': {why}")


@dataclass(frozen=True)
class Resource:
    key: str
    label: str
    number: str
    tel: str


@dataclass(frozen=True)
class Example:
    """A labelled message (`text`) or conversation (`turns`, judged on the last turn)."""

    text: str
    route: str
    lang: str
    turns: tuple[str, ...] = ()


@dataclass
class Policy:
    path: Path
    routes: tuple[str, ...]
    default_locale: str
    locales: dict[str, dict[str, Resource]]
    route_resources: dict[str, list[str]]
    aliases: list[tuple[re.Pattern, str]]
    templates: dict[str, dict[str, str]]
    decline_pointers: dict[str, dict[str, str]]
    classifier_k: int
    thresholds: dict[str, float]
    classifier_model: str = "logistic"
    classifier_regularisation: float = 4.0
    input_problems: dict[str, dict[str, str]] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)

    def resources(self, route: str, locale: str) -> list[Resource]:
        numbers = self.locales[locale]
        return [numbers[k] for k in self.route_resources.get(route, [])]

    def numbers(self, locale: str) -> dict[str, str]:
        return {k: r.number for k, r in self.locales[locale].items()}

    def render(self, name: str, lang: str, locale: str, **extra: str) -> str:
        lang = lang if lang in self.templates[name] else "en"
        return self.templates[name][lang].format(**self.numbers(locale), **extra).strip()


def _need(mapping: object, key: str, kind: type, path: Path, where: str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise PolicyError(path, f"{where}{key}", "is missing")
    value = mapping[key]
    if not isinstance(value, kind):
        raise PolicyError(path, f"{where}{key}", f"must be a {kind.__name__}")
    return value


def load_policy(path: Path | str = DEFAULT_POLICY) -> Policy:
    path = Path(path)
    if not path.is_file():
        raise PolicyError(path, "-", "policy file not found (KQA_POLICY_PATH)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PolicyError(path, "-", f"not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise PolicyError(path, "-", "must be a YAML mapping")

    routes = tuple(_need(raw, "routes", list, path, ""))
    if routes != ROUTES:
        raise PolicyError(path, "routes", f"must list exactly, in order: {', '.join(ROUTES)}")

    locales: dict[str, dict[str, Resource]] = {}
    for loc, spec in _need(raw, "locales", dict, path, "").items():
        locales[loc] = {}
        for key in RESOURCE_KEYS:
            r = _need(spec, key, dict, path, f"locales.{loc}.")
            for sub in ("label", "number", "tel"):
                if not str(r.get(sub, "")).strip():
                    raise PolicyError(path, f"locales.{loc}.{key}.{sub}", "is missing")
            if not re.fullmatch(r"\+?\d+", str(r["tel"])):
                raise PolicyError(path, f"locales.{loc}.{key}.tel", "must be digits (a tel: link)")
            locales[loc][key] = Resource(key, str(r["label"]), str(r["number"]), str(r["tel"]))
    default_locale = str(_need(raw, "default_locale", str, path, ""))
    if default_locale not in locales:
        raise PolicyError(path, "default_locale", f"{default_locale!r} is not one of the locales")

    route_resources = _need(raw, "route_resources", dict, path, "")
    for route, keys in route_resources.items():
        if route not in ROUTES:
            raise PolicyError(path, f"route_resources.{route}", "unknown route")
        for k in keys or []:
            if k not in RESOURCE_KEYS:
                raise PolicyError(path, f"route_resources.{route}", f"unknown resource {k!r}")

    aliases = []
    for canonical, patterns in _need(raw, "substance_aliases", dict, path, "").items():
        for i, pattern in enumerate(patterns or []):
            try:
                aliases.append((re.compile(pattern), str(canonical)))
            except re.error as exc:
                raise PolicyError(path, f"substance_aliases.{canonical}[{i}]", f"bad regex: {exc}") from None

    templates = _need(raw, "templates", dict, path, "")
    sample = {k: "x" for k in RESOURCE_KEYS} | {"why": "x"}
    for name in REQUIRED_TEMPLATES:
        for lang in LANGS:
            text = _need(_need(templates, name, dict, path, "templates."), lang, str, path, f"templates.{name}.")
            try:
                text.format(**sample)
            except (KeyError, IndexError, ValueError) as exc:
                raise PolicyError(path, f"templates.{name}.{lang}", f"unknown placeholder {exc}") from None
            if find_amounts(text):
                raise PolicyError(path, f"templates.{name}.{lang}", f"contains an amount: {find_amounts(text)}")
    pointers = raw.get("decline_pointers") or {}
    for name, by_lang in pointers.items():
        for lang in LANGS:
            _need(by_lang, lang, str, path, f"decline_pointers.{name}.")

    input_problems = _need(raw, "input_problems", dict, path, "")
    for key in ("too_many_turns", "too_long", "empty"):
        for lang in LANGS:
            text = _need(_need(input_problems, key, dict, path, "input_problems."), lang, str, path, f"input_problems.{key}.")
            try:
                text.format(limit=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise PolicyError(path, f"input_problems.{key}.{lang}", f"unknown placeholder {exc}") from None
    clf = _need(raw, "classifier", dict, path, "")
    thresholds = {str(k): float(v) for k, v in (clf.get("thresholds") or {}).items()}
    for route, t in thresholds.items():
        if route not in ROUTES or not 0 < t <= 1:
            raise PolicyError(path, f"classifier.thresholds.{route}", "must be a known route with 0 < value <= 1")
    model = str(clf.get("model", "logistic"))
    if model not in ("logistic", "knn"):
        raise PolicyError(path, "classifier.model", "must be logistic or knn")
    files = clf.get("examples", "examples.jsonl")
    examples = [e for f in ([files] if isinstance(files, str) else files) for e in _load_examples(path.parent / str(f), path)]
    return Policy(path, routes, default_locale, locales, {k: list(v or []) for k, v in route_resources.items()},
                  aliases, templates, pointers, int(clf.get("k", 7)), thresholds,
                  classifier_model=model, classifier_regularisation=float(clf.get("regularisation", 4.0)),
                  examples=examples, input_problems=input_problems)


def _load_examples(file: Path, policy_path: Path) -> list[Example]:
    if not file.is_file():
        raise PolicyError(policy_path, "classifier.examples", f"file not found: {file}")
    out = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PolicyError(file, f"line {n}", f"not JSON: {exc}") from None
        route = row.get("route", row.get("expected_route"))
        turns = row.get("turns") or []
        text = str(row.get("text") or (turns[-1] if turns else "")).strip()
        if route not in ROUTES or not text:
            raise PolicyError(file, f"line {n}", "needs text (or turns) and a known route (or expected_route)")
        out.append(Example(text, str(route), str(row.get("lang", "en")), tuple(str(t) for t in turns)))
    return out
