"""The contract's routes on a FastAPI application: the page, the AsyncAPI document, the page's files."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from beeflow_websocket.core.contract import Contract

__all__ = ["add_contract_routes"]


def add_contract_routes(app: Starlette, contract: Contract) -> None:
    """Serve ``contract`` at its path (see :mod:`beeflow_websocket.core.contract`), left out of OpenAPI."""

    async def page(request: Request) -> Response:
        return _answer(contract, contract.path, request)

    async def document(request: Request) -> Response:
        return _answer(contract, f"{contract.path}.json", request)

    async def asset(request: Request) -> Response:
        return _answer(contract, f"{contract.path}/assets/{request.path_params['name']}", request)

    app.add_route(contract.path, page, methods=["GET"], name="beeflow_asyncapi_page", include_in_schema=False)
    app.add_route(
        f"{contract.path}.json", document, methods=["GET"], name="beeflow_asyncapi", include_in_schema=False
    )
    app.add_route(
        f"{contract.path}/assets/{{name}}",
        asset,
        methods=["GET"],
        name="beeflow_asyncapi_asset",
        include_in_schema=False,
    )


def _answer(contract: Contract, path: str, request: Request) -> Response:
    answer = contract.respond(path, host=request.headers.get("host"), secure=request.url.scheme == "https")
    if answer is None:  # the routes above ask only for the contract's own paths
        return Response(status_code=404)
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)
