"""chanx on FastAPI under uvicorn, as its quick start sets it up: /chanx/ answers ``health``."""

from chanx.core.decorators import channel, ws_handler
from chanx.fast_channels.websocket import AsyncJsonWebsocketConsumer
from fast_channels.layers import InMemoryChannelLayer, register_channel_layer
from fastapi import FastAPI
from starlette.routing import WebSocketRoute

from peers.chanx_messages import Health, HealthStatus, Status


@channel(name="health")
class HealthConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    channel_layer_alias = "default"

    @ws_handler(output_type=HealthStatus)
    async def handle_health(self, message: Health) -> HealthStatus:
        return HealthStatus(payload=Status(status="ok"))


register_channel_layer("default", InMemoryChannelLayer())
app = FastAPI()
app.router.routes.append(
    WebSocketRoute("/chanx/", HealthConsumer.as_asgi())
)  # FastAPI 0.165 has no add_websocket_route
