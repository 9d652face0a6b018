"""The one table of settings (beeflow_websocket.core.options), and what derives from it."""

from dataclasses import fields

import pytest

from beeflow_websocket.core.configuration import AdapterOptions, AdapterState, configure_adapter
from beeflow_websocket.core.options import OPTIONS, Option, checked_module_names, option, protocol_settings
from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings

KEYWORDS = [entry for entry in OPTIONS if entry.keyword]


def test_the_typed_keywords_are_the_table_s_keywords() -> None:
    assert list(AdapterOptions.__annotations__) == [entry.name for entry in KEYWORDS]


def test_every_protocol_setting_is_in_the_table_with_its_default() -> None:
    for field in fields(DispatcherSettings):
        entry = option(field.name)
        assert entry.protocol
        assert entry.default == getattr(DEFAULT_SETTINGS, field.name)
        assert entry.keyword
        assert entry.django


def test_every_example_differs_from_its_default() -> None:
    for entry in OPTIONS:
        assert entry.example != entry.default, entry.name


@pytest.mark.parametrize("entry", KEYWORDS, ids=lambda entry: entry.name)
def test_every_keyword_is_taken_and_applied(entry: Option) -> None:
    given = {"autodiscover": False, entry.name: entry.example}

    state = configure_adapter(AdapterState, caller_depth=0, **given)  # type: ignore[arg-type]

    assert state.options[entry.name] == entry.example
    assert set(state.options) == {keyword.name for keyword in KEYWORDS}
    if entry.protocol:
        assert getattr(state.settings, entry.name) == entry.example


def test_the_table_s_names_are_unique_and_an_unknown_name_is_a_key_error() -> None:
    assert len({entry.name for entry in OPTIONS}) == len(OPTIONS)
    with pytest.raises(KeyError):
        option("max_everything")


def test_protocol_settings_take_only_the_protocol_s_options() -> None:
    settings = protocol_settings({"max_pending_messages": 3, "redis_url": "redis://x"})

    assert settings == DispatcherSettings(max_pending_messages=3)


@pytest.mark.parametrize("value", ["actions", {"actions"}, ["actions", ""], None])
def test_module_names_must_be_an_ordered_list_of_names(value: object) -> None:
    with pytest.raises(TypeError, match=r"^SOME_SETTING must"):
        checked_module_names("SOME_SETTING", value)
