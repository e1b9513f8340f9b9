import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_defaults_run_offline_with_embedded_chroma(tmp_path):
    s = Settings(_env_file=None, data_dir=tmp_path)
    assert s.embedding_model == ""  # bundled model
    assert not s.uses_server
    assert s.locale == "US"
    assert s.log_conversation_text is False


def test_env_prefix_and_chroma_aliases(monkeypatch):
    monkeypatch.setenv("KQA_TOP_K", "7")
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", "8123")
    s = load_settings(_env_file=None)
    assert (s.top_k, s.chroma_host, s.chroma_port, s.uses_server) == (7, "127.0.0.1", 8123, True)


def test_invalid_value_fails_with_the_variable_name(monkeypatch):
    monkeypatch.setenv("KQA_TOP_K", "lots")
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    assert "KQA_TOP_K" in str(err.value) and "'lots'" in str(err.value)


def test_out_of_range_locale_is_refused(monkeypatch):
    monkeypatch.setenv("KQA_LOCALE", "Narnia")
    with pytest.raises(SettingsError, match="KQA_LOCALE"):
        load_settings(_env_file=None)


def test_allowed_origins_accepts_a_comma_list(monkeypatch):
    monkeypatch.setenv("KQA_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    assert load_settings(_env_file=None).allowed_origins == ["https://a.example", "https://b.example"]


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("KQA_ANSWER_WORDS=90\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().answer_words == 90


# ---- issue #15: forgiving and explicit settings -------------------------------------------


def test_locale_is_accepted_in_any_case(monkeypatch):
    monkeypatch.setenv("KQA_LOCALE", "uk")
    monkeypatch.setenv("KQA_LOG_LEVEL", "debug")
    s = load_settings(_env_file=None)
    assert (s.locale, s.log_level) == ("UK", "DEBUG")


def test_a_misspelt_variable_gets_a_did_you_mean():
    from bot.settings import unknown_variables

    warnings = unknown_variables({"KQA_PROT": "7861", "KQA_PORT": "7860", "KQA_HARNESS": "1", "PATH": "/bin"})
    assert warnings == ["KQA_PROT is not a kratom-qa setting and is ignored; did you mean KQA_PORT?"]


def test_the_settings_error_hint_names_the_variable_not_the_failing_command(monkeypatch):
    monkeypatch.setenv("KQA_TOP_K", "lots")
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    hint = str(err.value).splitlines()[-1]
    assert hint.startswith("Hint: fix or unset KQA_TOP_K") and "kratom-qa settings" not in hint
