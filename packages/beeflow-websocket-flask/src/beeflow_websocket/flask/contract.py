"""The contract's routes on a Flask application: the page, the AsyncAPI document, the page's files."""

from __future__ import annotations

from flask import Flask, Response, request

from beeflow_websocket.core.contract import Contract

__all__ = ["add_contract_routes"]


def add_contract_routes(app: Flask, contract: Contract) -> None:
    """Serve ``contract`` at its path (see :mod:`beeflow_websocket.core.contract`)."""

    def page() -> Response:
        return _answer(contract, contract.path)

    def document() -> Response:
        return _answer(contract, f"{contract.path}.json")

    def asset(name: str) -> Response:
        return _answer(contract, f"{contract.path}/assets/{name}")

    app.add_url_rule(contract.path, "beeflow_asyncapi_page", page, methods=["GET"])
    app.add_url_rule(f"{contract.path}.json", "beeflow_asyncapi", document, methods=["GET"])
    app.add_url_rule(f"{contract.path}/assets/<name>", "beeflow_asyncapi_asset", asset, methods=["GET"])


def _answer(contract: Contract, path: str) -> Response:
    answer = contract.respond(path, host=request.host, secure=request.is_secure)
    if answer is None:  # the rules above ask only for the contract's own paths
        return Response(status=404)
    return Response(answer.body, status=answer.status, content_type=answer.content_type)
