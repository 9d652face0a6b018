from collections.abc import Collection

import pytest

from beeflow_websocket.core.recipient_registry import (
    RecipientMapDoesNotExist,
    RecipientPluginProtocol,
    RecipientRegistryMeta,
)
from beeflow_websocket.core.recipients.websocket import WebSocketRecipient


@pytest.mark.anyio
async def test_the_websocket_recipient_resolves_a_connection_to_itself() -> None:
    assert RecipientRegistryMeta.registry["websocket"] is WebSocketRecipient
    assert isinstance(WebSocketRecipient(), RecipientPluginProtocol)
    assert list(await WebSocketRecipient().resolve("conn-1")) == ["conn-1"]


@pytest.mark.anyio
async def test_an_application_recipient_registers_by_name() -> None:
    class Team(metaclass=RecipientRegistryMeta, name="team"):
        async def resolve(self, recipient_id: str) -> Collection[str]:
            return [f"{recipient_id}-a", f"{recipient_id}-b"]

    resolver = RecipientRegistryMeta.registry["team"]()

    assert list(await resolver.resolve("red")) == ["red-a", "red-b"]


def test_an_unknown_recipient_raises_recipient_map_does_not_exist() -> None:
    with pytest.raises(RecipientMapDoesNotExist, match="no recipient is registered under the name 'team'"):
        RecipientRegistryMeta.registry["team"]
