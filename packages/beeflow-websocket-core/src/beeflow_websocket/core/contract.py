"""Serving the contract: the AsyncAPI document, and the page that renders it, for every adapter.

An application that sets the ``asyncapi`` option serves, under one path (``/asyncapi`` by default):

- ``<path>``: the page that renders the contract (:mod:`beeflow_websocket.core.asyncapi_page`);
- ``<path>.json``: the AsyncAPI 3.0.0 document, built from the registries when asked
  (:mod:`beeflow_websocket.core.asyncapi`), with this server's host as its server;
- ``<path>/assets/<name>``: the page's files.

:meth:`Contract.respond` decides what answers a request path, so that an adapter only maps the
answer onto its framework's response; the page refers to the rest by relative URLs, so it keeps
working under a prefix (an ASGI ``root_path``, a Django ``include``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypedDict

from pydantic import JsonValue

from beeflow_websocket.core.asyncapi_page import ASSETS, asset, render_page

__all__ = ["AsyncAPISettings", "Contract", "ContractResponse"]

_DEFAULTS: Final = {
    "path": "/asyncapi",
    "title": "Beeflow WebSocket API",
    "version": "1.0.0",
    "description": "",
    "websocket_path": "/ws/",
}


class AsyncAPISettings(TypedDict, total=False):
    """The ``asyncapi`` option: where the contract is served and what its document says of itself.

    Attributes:
        path: Where the page is served; the JSON document at ``path + ".json"`` (``/asyncapi``).
        title: The document's ``info.title`` (``"Beeflow WebSocket API"``).
        version: The document's ``info.version``, the version of your API (``"1.0.0"``).
        description: The document's ``info.description``, Markdown.
        websocket_path: The path of your WebSocket route, the channel's address (``"/ws/"``).
    """

    path: str
    title: str
    version: str
    description: str
    websocket_path: str


@dataclass(frozen=True, slots=True)
class ContractResponse:
    """What answers one request for the contract."""

    status: int
    content_type: str
    body: bytes


class Contract:
    """The contract of one application, as configured by its ``asyncapi`` option.

    Raises:
        TypeError: The option is not a mapping of the :class:`AsyncAPISettings` keys to strings.
        ValueError: ``path`` or ``websocket_path`` does not start with ``/``, or ``path`` ends with one.
    """

    __slots__ = ("description", "path", "title", "version", "websocket_path")

    def __init__(self, settings: Mapping[str, object]) -> None:
        if not isinstance(settings, Mapping):
            raise TypeError(f"asyncapi must be a mapping of AsyncAPISettings, got {settings!r}")
        unknown = sorted(set(settings) - set(_DEFAULTS))
        if unknown:
            raise TypeError(f"asyncapi does not take {unknown}; it takes {sorted(_DEFAULTS)}")
        values = {**_DEFAULTS, **settings}
        for name, value in values.items():
            if not isinstance(value, str):
                raise TypeError(f"asyncapi[{name!r}] must be a string, got {value!r}")
        self.path = str(values["path"])
        self.title = str(values["title"])
        self.version = str(values["version"])
        self.description = str(values["description"])
        self.websocket_path = str(values["websocket_path"])
        if not self.path.startswith("/") or self.path.endswith("/") or self.path == "":
            raise ValueError(f"asyncapi['path'] must start with / and not end with one, got {self.path!r}")
        if not self.websocket_path.startswith("/"):
            raise ValueError(f"asyncapi['websocket_path'] must start with /, got {self.websocket_path!r}")

    def document(self, *, host: str | None = None, secure: bool = False) -> dict[str, JsonValue]:
        """The AsyncAPI document, built from the registries now; ``host`` becomes its server."""
        # Imported here: building the document imports every registry's plugins' models.
        from beeflow_websocket.core.asyncapi import asyncapi_document

        servers = None
        if host:
            servers = {"production": {"host": host, "protocol": "wss" if secure else "ws"}}
        return asyncapi_document(
            title=self.title,
            version=self.version,
            description=self.description or None,
            path=self.websocket_path,
            servers=servers,
        )

    def respond(
        self, request_path: str, *, host: str | None = None, secure: bool = False
    ) -> ContractResponse | None:
        """What answers ``request_path``: the page, the document, an asset, a 404; ``None`` if not ours."""
        if request_path == self.path:
            name = self.path.rsplit("/", 1)[1]
            page = render_page(document_url=f"{name}.json", assets_url=f"{name}/assets", title=self.title)
            return ContractResponse(200, "text/html; charset=utf-8", page.encode())
        if request_path == f"{self.path}.json":
            body = json.dumps(self.document(host=host, secure=secure), indent=2).encode()
            return ContractResponse(200, "application/json", body)
        prefix = f"{self.path}/assets/"
        if request_path.startswith(prefix):
            name = request_path.removeprefix(prefix)
            if name in ASSETS:
                return ContractResponse(200, ASSETS[name], asset(name))
            return ContractResponse(404, "text/plain; charset=utf-8", b"Not found")
        return None
