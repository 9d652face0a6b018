"""The HTML page that renders the contract document, and the files it needs, served by the application.

The page uses the official AsyncAPI web component, copied into the package (``asyncapi_viewer/``,
pinned and checksummed in its ``MANIFEST.json``; ``make viewer`` refreshes it), so it works behind a
firewall and never loads code from a CDN. An adapter serves three things under one path: the page
itself, the JSON document, and the two files of :data:`ASSETS`.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from typing import Final

__all__ = ["ASSETS", "asset", "render_page"]

ASSETS: Final = {
    "asyncapi-web-component.js": "text/javascript; charset=utf-8",
    "default.min.css": "text/css; charset=utf-8",
}
"""The files the page loads, by name, with their content type."""

_VIEWER: Final = files("beeflow_websocket.core") / "asyncapi_viewer"


def asset(name: str) -> bytes:
    """The content of one of :data:`ASSETS`.

    Raises:
        KeyError: ``name`` is not one of them (an adapter answers 404).
    """
    if name not in ASSETS:
        raise KeyError(name)
    return (_VIEWER / name).read_bytes()


def render_page(*, document_url: str, assets_url: str, title: str) -> str:
    """The page that renders the document at ``document_url``, loading its files from ``assets_url``.

    Args:
        document_url: Where the JSON document is served (relative URLs resolve against the page).
        assets_url: The URL the :data:`ASSETS` are served under, without a trailing slash.
        title: The page title.
    """
    base = assets_url.rstrip("/")
    config = json.dumps({"show": {"sidebar": True}, "sidebar": {"showOperations": "byDefault"}})
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<script src="{html.escape(base)}/asyncapi-web-component.js" defer></script>
</head>
<body>
<asyncapi-component schemaUrl="{html.escape(document_url)}" config="{html.escape(config)}"
  cssImportPath="{html.escape(base)}/default.min.css"></asyncapi-component>
</body>
</html>
"""
