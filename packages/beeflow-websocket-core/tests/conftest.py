from collections.abc import Iterator

import pytest

from beeflow_websocket.core.action_registry import ActionRegistryMeta
from beeflow_websocket.core.event_registry import EventRegistryMeta
from beeflow_websocket.core.recipient_registry import RecipientRegistryMeta


@pytest.fixture(autouse=True)
def isolated_registries() -> Iterator[None]:
    """Forget the plugin classes a test defines, so that tests cannot see each other's."""
    with (
        ActionRegistryMeta.registry.isolated(),
        EventRegistryMeta.registry.isolated(),
        RecipientRegistryMeta.registry.isolated(),
    ):
        yield
