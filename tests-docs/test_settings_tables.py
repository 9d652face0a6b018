"""The settings tables of docs/ list exactly the options of the one table, with its defaults.

``beeflow_websocket.core.options.OPTIONS`` is what the adapters read; these tables are what users read.
"""

import re
from pathlib import Path

import pytest

from beeflow_websocket.core.options import OPTIONS

from docexamples import REPOSITORY

LANGUAGES = ["en", "pl"]
# Defaults that are words rather than values, as each language writes them.
WORDS = {"pl": {"the six conventional modules": "sześć konwencjonalnych modułów"}}
_ROW = re.compile(r"^\| `([A-Za-z_]+)` \| ([^|]+) \|", re.MULTILINE)


def shown(default: str, language: str) -> str:
    return WORDS.get(language, {}).get(default, default)


def rows(document: Path) -> dict[str, str]:
    """First cell (a code name) -> second cell (the default), for every table row of the document."""
    return {name: default.strip() for name, default in _ROW.findall(document.read_text())}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_fastapi_keywords_table_is_the_table_s_keywords(language: str) -> None:
    documented = rows(REPOSITORY / "docs" / language / "fastapi.md")

    assert documented == {
        entry.name: shown(entry.documented_default, language) for entry in OPTIONS if entry.keyword
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_django_settings_table_is_the_table_s_django_settings(language: str) -> None:
    documented = {
        name: default
        for name, default in rows(REPOSITORY / "docs" / language / "django.md").items()
        if name.startswith("BEEFLOW_WEBSOCKET_")
    }

    assert documented == {
        entry.django_setting: shown(entry.documented_default, language) for entry in OPTIONS if entry.django
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_flask_names_every_keyword(language: str) -> None:
    text = (REPOSITORY / "docs" / language / "flask.md").read_text()

    assert [entry.name for entry in OPTIONS if entry.keyword and f"`{entry.name}`" not in text] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_limits_table_gives_both_names_of_every_limit(language: str) -> None:
    text = (REPOSITORY / "docs" / language / "limits.md").read_text()
    limits = [entry for entry in OPTIONS if entry.protocol and entry.name != "problem_type_base_url"]

    for entry in limits:
        assert re.search(rf"\| `{entry.name}` \| `{entry.django_setting}` \|", text), entry.name
