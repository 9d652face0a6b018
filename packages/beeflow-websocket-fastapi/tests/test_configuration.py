import importlib
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.options import OPTIONS, Option
from beeflow_websocket.core.settings import DEFAULT_SETTINGS
from beeflow_websocket.fastapi import configure_beeflow_websocket
from beeflow_websocket.fastapi.configuration import AdapterState, adapter_state

type Layout = Callable[[dict[str, str]], None]

MAIN = """
from fastapi import FastAPI
from beeflow_websocket.fastapi import configure_beeflow_websocket

app = FastAPI()
configure_beeflow_websocket(app{keywords})
"""
ACTION = """
from beeflow_websocket.core.action_registry import ActionRegistryMeta

class {cls}(metaclass=ActionRegistryMeta, name="{name}"):
    async def execute(self, message, context):
        return
        yield
"""


def test_settings_live_on_each_application() -> None:
    first, second = FastAPI(), FastAPI()

    configure_beeflow_websocket(first, problem_type_base_url="https://one.test/p", autodiscover=False)
    configure_beeflow_websocket(second, problem_type_base_url="https://two.test/p", autodiscover=False)

    assert adapter_state(first).settings.problem_type_base_url == "https://one.test/p"
    assert adapter_state(second).settings.problem_type_base_url == "https://two.test/p"
    assert adapter_state(first).connections is not adapter_state(second).connections


def test_an_unconfigured_application_gets_the_defaults() -> None:
    state = adapter_state(FastAPI())

    assert isinstance(state, AdapterState)
    assert state.settings is DEFAULT_SETTINGS


def test_the_calling_package_and_its_parents_are_autodiscovered(layout: Layout) -> None:
    layout(
        {
            "shop/__init__.py": "",
            "shop/actions.py": ACTION.format(cls="Buy", name="buy"),
            "shop/api/__init__.py": "",
            "shop/api/ws/__init__.py": "",
            "shop/api/ws/actions.py": ACTION.format(cls="Sell", name="sell"),
            "shop/api/main.py": MAIN.format(keywords=""),
        }
    )

    importlib.import_module("shop.api.main")

    assert {"buy", "sell"} <= set(ActionRegistryMeta.registry)


def test_a_top_level_module_discovers_the_plugins_beside_it(layout: Layout) -> None:
    layout({"solo_main.py": MAIN.format(keywords=""), "actions.py": ACTION.format(cls="Solo", name="solo")})

    importlib.import_module("solo_main")

    assert "solo" in ActionRegistryMeta.registry


def test_autodiscovery_can_be_turned_off_or_pointed_elsewhere(layout: Layout) -> None:
    layout(
        {
            "quiet/__init__.py": "",
            "quiet/actions.py": ACTION.format(cls="Hidden", name="hidden"),
            "quiet/handlers.py": ACTION.format(cls="Handler", name="handler"),
            "quiet/main.py": MAIN.format(keywords=", autodiscover=False"),
            "quiet/other.py": MAIN.format(
                keywords=", autodiscover_modules=['handlers'], autodiscover_packages=['extra']"
            ),
            "extra/__init__.py": ACTION.format(cls="Extra", name="extra"),
        }
    )

    importlib.import_module("quiet.main")
    assert "hidden" not in ActionRegistryMeta.registry

    importlib.import_module("quiet.other")
    assert {"handler", "extra"} <= set(ActionRegistryMeta.registry)
    assert "hidden" not in ActionRegistryMeta.registry


def test_a_broken_plugin_module_fails_startup(layout: Layout) -> None:
    layout({"broken/__init__.py": "", "broken/ws/__init__.py": "", "broken/ws/actions.py": "1 / 0\n"})

    with pytest.raises(ZeroDivisionError):
        configure_beeflow_websocket(FastAPI(), autodiscover_packages=["broken.ws"])


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"autodiscover": "yes"}, "autodiscover must be True or False"),
        ({"autodiscover_modules": "actions"}, "autodiscover_modules must be a list or tuple"),
        ({"autodiscover_modules": ["actions", ""]}, "autodiscover_modules must hold non-blank module names"),
        ({"autodiscover_packages": [3]}, "autodiscover_packages must hold non-blank module names"),
    ],
)
def test_wrong_keywords_are_clear_errors(keywords: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        configure_beeflow_websocket(FastAPI(), **keywords)  # type: ignore[arg-type]


def test_the_application_must_be_starlette() -> None:
    with pytest.raises(TypeError, match="expected a FastAPI or Starlette application, got object"):
        configure_beeflow_websocket(object(), autodiscover=False)  # type: ignore[arg-type]


def test_a_blank_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="problem_type_base_url"):
        configure_beeflow_websocket(FastAPI(), problem_type_base_url=" ", autodiscover=False)


def test_limits_are_kept_with_the_settings() -> None:
    app = FastAPI()
    configure_beeflow_websocket(
        app, autodiscover=False, max_message_size=4096, max_concurrent_actions=4, max_pending_messages=8
    )

    settings = adapter_state(app).settings
    assert (settings.max_message_size, settings.max_concurrent_actions, settings.max_pending_messages) == (
        4096,
        4,
        8,
    )


@pytest.mark.parametrize("keyword", ["max_message_size", "max_concurrent_actions", "max_pending_messages"])
def test_limits_must_be_positive(keyword: str) -> None:
    with pytest.raises(ValueError, match=f"{keyword} must be a positive integer"):
        configure_beeflow_websocket(FastAPI(), autodiscover=False, **{keyword: 0})  # type: ignore[arg-type]


def test_an_unknown_keyword_names_the_public_function() -> None:
    from fastapi import FastAPI

    from beeflow_websocket.fastapi import configure_beeflow_websocket

    with pytest.raises(
        TypeError, match=r"^configure_beeflow_websocket\(\) got an unexpected keyword argument 'bogus'$"
    ):
        configure_beeflow_websocket(FastAPI(), bogus=1)  # type: ignore[call-arg]


def test_a_limit_given_as_text_is_a_value_error() -> None:
    from fastapi import FastAPI

    from beeflow_websocket.fastapi import configure_beeflow_websocket

    with pytest.raises(ValueError, match="max_message_size must be a positive integer"):
        configure_beeflow_websocket(FastAPI(), max_message_size="1MB")  # type: ignore[arg-type]


@pytest.mark.parametrize("entry", [entry for entry in OPTIONS if entry.keyword], ids=lambda entry: entry.name)
def test_every_keyword_of_the_table_is_taken_and_reaches_the_connections(entry: Option) -> None:
    app = FastAPI()
    keywords = {"autodiscover": False, entry.name: entry.example}

    configure_beeflow_websocket(app, **keywords)  # type: ignore[arg-type]

    state = adapter_state(app)
    assert state.options[entry.name] == entry.example
    if entry.protocol:
        assert getattr(state.settings, entry.name) == entry.example
