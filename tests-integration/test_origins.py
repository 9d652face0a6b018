"""Cross-site WebSocket hijacking: a foreign page cannot open a cookie-authenticated connection.

Against the FastAPI and Flask test sites on their real servers. Django applications use Channels'
``AllowedHostsOriginValidator``, as its documentation shows.
"""

import json
from uuid import uuid4

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from serving import Server

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

FOREIGN = ["https://evil.example", "null", "http://127.0.0.1.evil.example"]


@pytest.fixture(params=["fastapi", "flask"])
def site(request: pytest.FixtureRequest, sites: dict[str, Server]) -> Server:
    return sites[request.param]


async def health(server: Server, path: str, **options: object) -> str:
    async with connect(server.url(path), open_timeout=10, **options) as websocket:  # type: ignore[arg-type]
        await websocket.send(
            json.dumps({"msg_id": str(uuid4()), "req_id": str(uuid4()), "action": "health", "payload": {}})
        )
        return str(json.loads(await websocket.recv())["event"])


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_foreign_page_cannot_open_a_cookie_connection(site: Server, origin: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await health(site, "/ws/cookie/", origin=origin, additional_headers={"Cookie": "session=user-1"})

    assert refused.value.response.status_code == 403


async def test_its_own_page_and_a_non_browser_client_can(site: Server) -> None:
    own = f"http://127.0.0.1:{site.port}"
    cookie = {"Cookie": "session=user-1"}

    assert await health(site, "/ws/cookie/", origin=own, additional_headers=cookie) == "health"
    assert await health(site, "/ws/cookie/", additional_headers=cookie) == "health"


@pytest.mark.parametrize("origin", FOREIGN)
async def test_a_token_connection_is_safe_from_any_page(site: Server, origin: str) -> None:
    assert await health(site, "/ws/", origin=origin, subprotocols=["access-token", "user-1"]) == "health"
