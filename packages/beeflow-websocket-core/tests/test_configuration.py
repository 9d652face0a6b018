from collections.abc import Callable

import pytest

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.configuration import AdapterState, configure_adapter

type Layout = Callable[[dict[str, str]], None]

CALLER = """
from beeflow_websocket.core.configuration import AdapterState, configure_adapter

def configure(**keywords):
    return configure_adapter(AdapterState, caller_depth=1, **keywords)

STATE = configure(problem_type_base_url="https://x.test/p")
"""
ACTION = """
from beeflow_websocket.core.action_registry import ActionRegistryMeta

class {cls}(metaclass=ActionRegistryMeta, name="{name}"):
    pass
"""


def test_the_adapter_s_caller_is_autodiscovered(layout: Layout) -> None:
    layout(
        {
            "webapp/__init__.py": "",
            "webapp/server.py": CALLER,
            "webapp/ws/__init__.py": "",
            "webapp/ws/actions.py": ACTION.format(cls="Found", name="found"),
        }
    )

    server = __import__("webapp.server").server

    assert server.STATE.settings.problem_type_base_url == "https://x.test/p"
    assert server.STATE.autodiscovered == ("webapp.ws.actions",)
    assert server.STATE.delivery is server.STATE.connections
    assert "found" in ActionRegistryMeta.registry


def test_without_autodiscovery_nothing_is_imported() -> None:
    state = configure_adapter(AdapterState, caller_depth=0, autodiscover=False)

    assert (state.settings.problem_type_base_url, state.autodiscovered, state.redis) == (None, (), None)


def test_a_redis_url_gives_the_redis_engine() -> None:
    state = configure_adapter(
        AdapterState, caller_depth=0, autodiscover=False, redis_url="redis://127.0.0.1:1/0"
    )

    assert state.redis is not None
    assert state.delivery is state.redis
    assert state.redis.local is state.connections


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"autodiscover": 1}, "autodiscover must be True or False"),
        ({"autodiscover_modules": "actions"}, "autodiscover_modules must be a list or tuple"),
        ({"autodiscover_modules": 5}, "autodiscover_modules must be a list or tuple"),
        ({"autodiscover_modules": [" "]}, "autodiscover_modules must hold non-blank module names"),
        ({"autodiscover_packages": "pkg"}, "autodiscover_packages must be a list or tuple"),
    ],
)
def test_wrong_keyword_types_are_clear_errors(keywords: dict[str, object], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        configure_adapter(AdapterState, caller_depth=0, **keywords)  # type: ignore[arg-type]
