"""Configuration is strict (SPEC §7): a mistake names the key at fault, never passes silently."""

from __future__ import annotations

import pytest

from lading.entrypoints.settings import KEYS, ConfigError, load_settings


def test_lading_config_naming_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="LADING_CONFIG names .*nowhere.toml, which is not a file"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_CONFIG": str(tmp_path / "nowhere.toml")})


def test_an_unknown_lading_variable_is_refused_with_the_close_key_suggested(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown setting LADING_PROT \(did you mean LADING_PORT\?\)"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_PROT": "9001"})


def test_variables_of_other_programs_and_the_test_suites_knobs_are_not_settings(tmp_path):
    settings = load_settings({"LADING_HOME": str(tmp_path), "PORT": "1", "LADING_TEST_POSTGRES": "x"})
    assert settings.port == 8000


def test_an_unknown_key_in_the_file_is_refused_naming_the_file_and_the_setting_meant(tmp_path):
    config = tmp_path / "lading.toml"
    config.write_text("port = 9001\n")
    with pytest.raises(ConfigError, match=r"lading.toml: unknown setting port \(did you mean LADING_PORT\?\)"):
        load_settings({"LADING_HOME": str(tmp_path)})


def test_a_file_key_of_a_table_type_is_refused_by_name(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[LADING_PORT]\nvalue = 1\n")
    with pytest.raises(ConfigError, match="LADING_PORT must be a string, number or boolean"):
        load_settings({"LADING_HOME": str(tmp_path), "LADING_CONFIG": str(config)})


def test_file_values_of_every_toml_type_are_read_and_the_environment_wins(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("LADING_PORT = 9001\nLADING_CALLBACK_ALLOW_PRIVATE = true\n"
                      "LADING_HEADER_TIMEOUT = 2.5\nLADING_WORKSPACE = 'acme'\n")
    settings = load_settings({"LADING_HOME": str(tmp_path), "LADING_CONFIG": str(config),
                              "LADING_WORKSPACE": "other"})
    assert (settings.port, settings.callback_allow_private, settings.header_timeout,
            settings.workspace) == (9001, True, 2.5, "other")


@pytest.mark.parametrize(("key", "value", "said"), [
    ("LADING_PORT", "abc", "LADING_PORT must be a whole number, not 'abc'"),
    ("LADING_MAX_ROWS", "1e9", "LADING_MAX_ROWS must be a whole number, not '1e9'"),
    ("LADING_HEADER_TIMEOUT", "soon", "LADING_HEADER_TIMEOUT must be a number, not 'soon'"),
    ("LADING_PORT", "70000", "LADING_PORT must be from 1 to 65535"),
    ("LADING_MAX_ACTIVE_JOBS", "0", "LADING_MAX_ACTIVE_JOBS must be at least 1"),
])
def test_a_value_of_the_wrong_type_or_range_names_its_key(tmp_path, key, value, said):
    with pytest.raises(ConfigError, match=said):
        load_settings({"LADING_HOME": str(tmp_path), key: value})


def test_every_known_setting_is_accepted_from_the_environment(tmp_path):
    plain = {key: "1" for key in KEYS}
    plain.update({"LADING_HOME": str(tmp_path), "LADING_EVENT_STORE": str(tmp_path / "e.sqlite"),
                  "LADING_DESTINATION": str(tmp_path / "d"), "LADING_BLOBS": str(tmp_path / "b"),
                  "LADING_REDIS_URL": "redis://127.0.0.1:6379/0", "LADING_LOG_LEVEL": "debug",
                  "LADING_SOURCES_DIR": str(tmp_path)})
    settings = load_settings(plain)
    assert settings.max_rows == 1 and settings.port == 1


def test_the_default_row_limit_is_the_specs(tmp_path):
    assert load_settings({"LADING_HOME": str(tmp_path)}).max_rows == 200_000_000
