"""The classes of the contract's test application (see ``contract_app``); importing this registers them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from beeflow_websocket.core.action_registry import Action, ActionContext, ActionRegistryMeta
from beeflow_websocket.core.event_registry import Event, EventPluginProtocol
from beeflow_websocket.core.payloads import ActionMessage, WebSocketActionPayload
from beeflow_websocket.core.problems import ClientProblem


class Card(BaseModel):
    kind: Literal["card"]
    number: str = Field(pattern=r"^\d{16}$")


class Transfer(BaseModel):
    kind: Literal["transfer"]
    iban: str
    reference: tuple[str, int]


class Order(BaseModel):
    """What a client orders."""

    item: str
    quantity: int = Field(ge=1, le=10)
    payment: Annotated[Card | Transfer, Field(discriminator="kind")]


class Receipt(BaseModel):
    order_id: int
    total: float


class Progress(BaseModel):
    percent: int


class OrderPlaced(Event[Receipt], name="order.placed"):
    """The order was taken."""


class OrderProgress(Event[Progress], name="order.progress"):
    """How far the order is."""


class Note(Event, name="shop.note"):
    """An untyped event."""


class OutOfStock(ClientProblem):
    """The item is sold out."""

    status = 409
    code = "out_of_stock"
    title = "Out of stock"


class PlaceOrder(Action[Order], name="order.place", raises=[OutOfStock], timeout=5):
    """Place an order; streams its progress, then its receipt."""

    async def execute(
        self, message: ActionMessage[Order], context: ActionContext
    ) -> AsyncIterator[OrderProgress | OrderPlaced]:
        yield OrderProgress(
            recipient="websocket", recipient_id=context.websocket_id, payload=Progress(percent=50)
        )
        raise OutOfStock()


class Echo(metaclass=ActionRegistryMeta, name="shop/echo"):
    """An untyped action of the 0.3.0 form, with a name that is no valid key."""

    async def execute(self, message: WebSocketActionPayload, context: ActionContext) -> AsyncIterator[Note]:
        yield Note(recipient="websocket", recipient_id=context.websocket_id, payload=message.payload)


class Anything(metaclass=ActionRegistryMeta, name="shop.anything"):
    async def execute(
        self, message: WebSocketActionPayload, context: ActionContext
    ) -> AsyncIterator[EventPluginProtocol]:
        return
        yield
