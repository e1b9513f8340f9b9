"""Load and validate `policy.yaml` into a `Policy`. Errors name the file and the key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from guardrails.amounts import find_amounts
from guardrails.model import ModelPolicy
from guardrails.routes import ROUTES

LANGS = ("en", "es")
RESOURCE_KEYS = ("emergency", "poison", "crisis", "helpline")
REQUIRED_TEMPLATES = (
    "emergency",
    "crisis",
    "dosing_refusal",
    "decline",
    "not_covered",
    "fallback",
    "input_error",
    "disclaimer",
    "safety_net_emergency",
    "safety_net_crisis",
)
UI_STRINGS = (
    "page_title",
    "header_title",
    "header_note",
    "placeholder",
    "feedback_share",
    "banner_emergency",
    "banner_crisis",
    "sources",
    "sources_say",
    "key_facts",
    "what_you_can_do",
    "not_covered_focus",
    "not_covered_closest",
)
DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")


class DataError(Exception):
    """A data file is invalid: the message names the file, the place in it and why, so the fix is
    plain. `PolicyError` here and `bot/corpus_loader.py` `CorpusError` are the two kinds."""

    place = "key"  # what a place in this kind of file is called

    def __init__(self, file: Path | str, where: str, why: str):
        self.file, self.where, self.why = str(file), where, why
        super().__init__(f"{self.file}: {self.place} '{where}': {why}")


class PolicyError(DataError):
    """`policy.yaml` (or a file it names) is invalid at `key`."""

    @property
    def key(self) -> str:
        return self.where


@dataclass(frozen=True)
class Resource:
    """A help line for one locale (policy `locales`), as a reply shows it."""

    key: str  # emergency | poison | crisis | helpline
    label: str
    number: str  # shown as-is
    tel: str  # what a tel: link dials
    names: dict[str, str] = field(default_factory=dict)  # lang -> how a sentence names it ({poison_name})
    notes: dict[str, str] = field(default_factory=dict)  # lang -> a clause after its number ({helpline_note})

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "number": self.number, "tel": self.tel}


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
    model_dir: Path
    model: ModelPolicy
    input_problems: dict[str, dict[str, str]] = field(default_factory=dict)
    strings: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> lang -> text
    locale_strings: dict[str, dict[str, dict[str, str]]] = field(
        default_factory=dict
    )  # locale -> name -> lang -> text
    house_lines: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> lang -> text

    def resources(self, route: str, locale: str) -> list[Resource]:
        numbers = self.locales[locale]
        return [numbers[k] for k in self.route_resources.get(route, [])]

    def numbers(self, locale: str, lang: str = "en") -> dict[str, str]:
        """The locale's placeholders: `{poison}` is the number, `{poison_name}` the service's name in
        `lang`, `{poison_note}` an optional clause (", también en español")."""
        out = {}
        for k, r in self.locales[locale].items():
            out[k] = r.number
            out[f"{k}_name"] = r.names.get(lang) or r.names.get("en") or r.label
            out[f"{k}_note"] = r.notes.get(lang, "")
        return out

    def urgent_route_of(self, reply: str) -> str | None:
        """'emergency' or 'crisis' when `reply` is this policy's urgent reply (any language or
        locale): the conversation's state, read back from the history the client sends."""
        text = reply.strip()
        for route in ("emergency", "crisis"):
            for lang in self.templates[route]:
                for locale in self.locales:
                    if text and text.startswith(self.render(route, lang, locale).split("\n", 1)[0]):
                        return route
        return None

    def text(self, name: str, lang: str, locale: str, **extra: str) -> str:
        """A fixed UI string (`strings`, or the locale's override) in `lang`, else English."""
        overrides = self.locale_strings.get(locale, {})
        by_lang = overrides[name] if name in overrides and name in self.strings else self.strings[name]
        return _fill(by_lang.get(lang) or by_lang["en"], self.numbers(locale, lang) | extra)

    def lines(self, lang: str, locale: str) -> dict[str, str]:
        """House lines (uncited policy text) in `lang`, else English, with the locale's numbers;
        other placeholders ({topic}) are left for the composer."""
        numbers = self.numbers(locale, lang)
        lines = self.house_lines | {
            k: v for k, v in self.locale_strings.get(locale, {}).items() if k in self.house_lines
        }
        return {k: _fill(v.get(lang) or v.get("en", ""), numbers) for k, v in lines.items()}

    def render(self, name: str, lang: str, locale: str, **extra: str) -> str:
        lang = lang if lang in self.templates[name] else "en"
        return self.templates[name][lang].format(**self.numbers(locale, lang), **extra).strip()


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(text: str, values: dict[str, str]) -> str:
    """`text` with the placeholders `values` names filled; any other placeholder left as it is."""
    return text.format_map(_Keep(values))


def _by_lang(section: object, where: str, path: Path, langs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """A `name -> {lang: text}` mapping (at key `where`); each name has every language in `langs`, and no amount."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise PolicyError(path, where, "must be a mapping")
    out: dict[str, dict[str, str]] = {}
    for name, by_lang in section.items():
        for lang in langs:
            _need(by_lang, lang, str, path, f"{where}.{name}.")
        for lang, text in by_lang.items():
            if not isinstance(text, str):
                raise PolicyError(path, f"{where}.{name}.{lang}", "must be a str")
            if find_amounts(_fill(text, {})):
                raise PolicyError(path, f"{where}.{name}.{lang}", f"contains an amount: {find_amounts(text)}")
        out[str(name)] = {str(k): v for k, v in by_lang.items()}
    return out


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
            by_lang = {}
            for sub in ("name", "note"):
                by_lang[sub] = r.get(sub) or {}
                if not isinstance(by_lang[sub], dict) or not all(
                    isinstance(v, str) and v.strip() for v in by_lang[sub].values()
                ):
                    raise PolicyError(path, f"locales.{loc}.{key}.{sub}", "must map a language to a text")
            locales[loc][key] = Resource(
                key, str(r["label"]), str(r["number"]), str(r["tel"]), by_lang["name"], by_lang["note"]
            )
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
    sample = (
        {k: "x" for k in RESOURCE_KEYS}
        | {f"{k}_{s}": "x" for k in RESOURCE_KEYS for s in ("name", "note")}
        | {"why": "x"}
    )
    for name in REQUIRED_TEMPLATES:
        for lang in LANGS:
            text = _need(
                _need(templates, name, dict, path, "templates."), lang, str, path, f"templates.{name}."
            )
            try:
                text.format(**sample)
            except (KeyError, IndexError, ValueError) as exc:
                raise PolicyError(path, f"templates.{name}.{lang}", f"unknown placeholder {exc}") from None
            if find_amounts(text):
                raise PolicyError(
                    path, f"templates.{name}.{lang}", f"contains an amount: {find_amounts(text)}"
                )
    pointers = raw.get("decline_pointers") or {}
    for name, by_lang in pointers.items():
        for lang in LANGS:
            _need(by_lang, lang, str, path, f"decline_pointers.{name}.")

    input_problems = _need(raw, "input_problems", dict, path, "")
    for key in ("too_many_turns", "too_long", "empty"):
        for lang in LANGS:
            text = _need(
                _need(input_problems, key, dict, path, "input_problems."),
                lang,
                str,
                path,
                f"input_problems.{key}.",
            )
            try:
                text.format(limit=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise PolicyError(
                    path, f"input_problems.{key}.{lang}", f"unknown placeholder {exc}"
                ) from None
    strings = _by_lang(raw.get("strings"), "strings", path, LANGS)
    for name in UI_STRINGS:
        _need(strings, name, dict, path, "strings.")
    house_lines = _by_lang(raw.get("house_lines"), "house_lines", path, ("en",))
    locale_strings = {}
    for loc, overrides in (raw.get("locale_strings") or {}).items():
        if loc not in locales:
            raise PolicyError(path, f"locale_strings.{loc}", "unknown locale")
        locale_strings[str(loc)] = _by_lang(overrides, f"locale_strings.{loc}", path, LANGS)
        for name in locale_strings[str(loc)]:
            if name not in strings and name not in house_lines:
                raise PolicyError(
                    path, f"locale_strings.{loc}.{name}", "overrides no string in `strings` or `house_lines`"
                )
    model_dir, model = _model_policy(raw, path)
    return Policy(
        path,
        routes,
        default_locale,
        locales,
        {k: list(v or []) for k, v in route_resources.items()},
        aliases,
        templates,
        pointers,
        model_dir,
        model,
        input_problems=input_problems,
        strings=strings,
        locale_strings=locale_strings,
        house_lines=house_lines,
    )


def _model_policy(raw: dict, path: Path) -> tuple[Path, ModelPolicy]:
    """The trained model's decisions (router.json, written by `kratom-qa router train`), with any
    threshold overrides from the policy. No router.json: the rule floor decides alone."""
    spec = raw.get("model") or {}
    if not isinstance(spec, dict):
        raise PolicyError(path, "model", "must be a mapping")
    model_dir = (path.parent / str(spec.get("dir", "model"))).resolve()
    meta_path = model_dir / "router.json"
    if not meta_path.is_file():
        return model_dir, ModelPolicy({}, {}, None)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        thresholds = {str(k): float(v) for k, v in meta["thresholds"].items()}
        band = {str(k): float(v) for k, v in meta.get("safety_net_band", {}).items()}
        keep = frozenset(str(r) for r in meta.get("floor_keep", []))
        clear = float(meta.get("state_clear_below", 0.0))
        crisis_clear = float(meta.get("crisis_clear_below", 0.0))
        urgent_mass = bool(meta.get("urgent_mass", False))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PolicyError(
            meta_path, "thresholds", f"unreadable: {exc}; retrain with `kratom-qa router train`"
        ) from None
    for route, t in (spec.get("thresholds") or {}).items():
        if route not in ROUTES[:4] or not isinstance(t, (int, float)) or not 0 < t <= 1:
            raise PolicyError(
                path, f"model.thresholds.{route}", "must be a non-answer route with 0 < value <= 1"
            )
        thresholds[str(route)] = float(t)
    return model_dir, ModelPolicy(thresholds, band, keep, clear, crisis_clear, urgent_mass)
