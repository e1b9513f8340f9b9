"""The policy file is data a site can adapt; a broken one is refused at start-up, by key."""

import shutil
from pathlib import Path

import pytest
import yaml

from guardrails.amounts import find_amounts
from guardrails.policy import DEFAULT_POLICY, LANGS, REQUIRED_TEMPLATES, PolicyError, load_policy


@pytest.fixture()
def policy_copy(tmp_path) -> Path:
    shutil.copy(DEFAULT_POLICY, tmp_path / "policy.yaml")
    raw = yaml.safe_load((tmp_path / "policy.yaml").read_text())
    raw["model"]["dir"] = str(DEFAULT_POLICY.with_name("model"))
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    return tmp_path / "policy.yaml"


def _mutate(path: Path, change) -> Path:
    raw = yaml.safe_load(path.read_text())
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def test_shipped_policy_loads_with_two_locales_and_every_template():
    policy = load_policy()
    assert {"US", "UK"} <= set(policy.locales)
    assert policy.locales["US"]["emergency"].number == "911"
    assert policy.locales["US"]["poison"].number == "1-800-222-1222"
    assert policy.locales["US"]["crisis"].number == "988"
    assert policy.locales["US"]["helpline"].number == "1-800-662-4357"
    assert policy.locales["UK"]["emergency"].number == "999"
    for name in REQUIRED_TEMPLATES:
        for lang in LANGS:
            for locale in policy.locales:
                text = policy.render(name, lang, locale, why="x")
                assert text and not find_amounts(text)


def test_uk_locale_changes_the_numbers_in_replies():
    policy = load_policy()
    assert "999" in policy.render("emergency", "en", "UK") and "911" not in policy.render(
        "emergency", "en", "UK"
    )


@pytest.mark.parametrize("lang", LANGS)
def test_every_chat_string_exists_per_language_with_the_locales_numbers(lang):
    policy = load_policy()
    for name in policy.strings:
        assert policy.text(name, lang, "US") and "{emergency}" not in policy.text(name, lang, "UK")
    assert "999" in policy.text("header_note", lang, "UK") and "911" not in policy.text(
        "header_note", lang, "UK"
    )
    uk_lines = " ".join(policy.lines("en", "UK").values())
    assert "911" not in uk_lines and "1-800-222-1222" not in uk_lines and "{topic}" in uk_lines


@pytest.mark.parametrize(
    "key,change",
    [
        ("routes", lambda r: r.update(routes=["answer", "emergency"])),
        ("locales.US.poison", lambda r: r["locales"]["US"].pop("poison")),
        ("locales.UK.emergency.tel", lambda r: r["locales"]["UK"]["emergency"].update(tel="call me")),
        ("default_locale", lambda r: r.update(default_locale="FR")),
        ("templates.crisis.es", lambda r: r["templates"]["crisis"].pop("es")),
        ("templates.emergency.en", lambda r: r["templates"]["emergency"].update(en="Call {ambulance}")),
        (
            "templates.dosing_refusal.en",
            lambda r: r["templates"]["dosing_refusal"].update(en="Take 2 grams and call {helpline}"),
        ),
        (
            "substance_aliases.kratom[0]",
            lambda r: r["substance_aliases"]["kratom"].__setitem__(0, "(unclosed"),
        ),
        ("model.thresholds.crisis", lambda r: r["model"].update(thresholds={"crisis": 3})),
        ("model.thresholds.answer", lambda r: r["model"].update(thresholds={"answer": 0.5})),
        ("route_resources.panic", lambda r: r["route_resources"].update(panic=["emergency"])),
        ("strings.sources.es", lambda r: r["strings"]["sources"].pop("es")),
        ("strings.banner_crisis", lambda r: r["strings"].pop("banner_crisis")),
        (
            "house_lines.dose_why.en",
            lambda r: r["house_lines"]["dose_why"].update(en="Most people take 2 grams."),
        ),
        ("locale_strings.FR", lambda r: r["locale_strings"].update(FR={})),
        ("locale_strings.UK.nope", lambda r: r["locale_strings"]["UK"].update(nope={"en": "x", "es": "x"})),
        ("locale_strings.UK.header_note.es", lambda r: r["locale_strings"]["UK"]["header_note"].pop("es")),
    ],
)
def test_malformed_policy_is_refused_naming_the_key(policy_copy, key, change):
    _mutate(policy_copy, change)
    with pytest.raises(PolicyError) as err:
        load_policy(policy_copy)
    assert err.value.key == key and str(policy_copy) in str(err.value)


def test_policy_that_is_not_yaml_is_refused(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text("routes: [emergency\n  - nope")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(bad)


def test_bad_policy_stops_the_cli_with_a_clear_error(tmp_path):
    import os
    import subprocess
    import sys

    bad = tmp_path / "policy.yaml"
    bad.write_text("routes: [answer]\n")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "is kratom legal?"],
        capture_output=True,
        text=True,
        env={**os.environ, "KQA_POLICY_PATH": str(bad), "KQA_DATA_DIR": str(tmp_path)},
        timeout=300,
    )
    assert out.returncode == 2 and "policy.yaml" in out.stderr and "routes" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("lang", LANGS)
def test_house_lines_and_urgent_replies_name_the_locales_own_services(lang):
    """A UK page never sends people to "Poison Help (111)" or "SAMHSA's National Helpline (0300 ...)"."""
    policy = load_policy()
    uk = " ".join(policy.lines(lang, "UK").values()) + policy.render("emergency", lang, "UK")
    us = " ".join(policy.lines(lang, "US").values()) + policy.render("emergency", lang, "US")
    assert "Poison Help" not in uk and "SAMHSA" not in uk and "NHS 111 (111)" in uk and "FRANK" in uk
    assert "Poison Help (1-800-222-1222)" in us and "SAMHSA" in us and "1-800-662-4357" in us
    assert "MedWatch" in us and "FDA" not in uk and "Yellow Card" in uk and "Yellow Card" not in us
    assert "{" not in uk.replace("{topic}", "") and "{" not in us.replace("{topic}", "")
