"""``beeflow-websocket-asyncapi``: write a FastAPI or Flask application's contract to a file.

::

    beeflow-websocket-asyncapi my_app.main:app -o asyncapi.json

Importing the application configures it, which autodiscovers its actions, events and recipients;
the document is then built from the registries, with what the application's ``asyncapi`` option
says of it (title, version, the WebSocket path). A Django project has the management command
``python manage.py beeflow_asyncapi`` instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from beeflow_websocket.core.configuration import AdapterState
from beeflow_websocket.core.contract import Contract

__all__ = ["contract_of", "main"]

# Where the FastAPI adapter (app.state) and the Flask adapter (app.extensions) keep the state.
_STATE_NAME = "beeflow_websocket"


def contract_of(app: object) -> Contract:
    """The contract ``app`` is configured with: its ``asyncapi`` option, or the defaults."""
    candidates = (
        getattr(getattr(app, "state", None), _STATE_NAME, None),
        (getattr(app, "extensions", None) or {}).get(_STATE_NAME),
    )
    for state in candidates:
        if isinstance(state, AdapterState):
            if state.contract is not None:
                return state.contract
            asyncapi = state.options.get("asyncapi")
            return Contract(asyncapi if isinstance(asyncapi, Mapping) else {})
    return Contract({})


def load(target: str) -> object:
    """The object ``module:attribute`` names (the application's module is imported).

    Raises:
        SystemExit: ``target`` is not of that form, or names nothing.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"expected module:app, got {target!r}")
    sys.path.insert(0, str(Path.cwd()))
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise SystemExit(f"{module_name} has no attribute {attribute!r}") from None


def main(argv: Sequence[str] | None = None) -> None:
    """Write the document of the application ``module:app`` to ``-o`` (standard output by default)."""
    parser = argparse.ArgumentParser(
        prog="beeflow-websocket-asyncapi",
        description="Write a FastAPI or Flask application's AsyncAPI document.",
    )
    parser.add_argument("app", help="the application, as module:attribute (my_app.main:app)")
    parser.add_argument("-o", "--output", help="the file to write (standard output by default)")
    parser.add_argument("--host", help="the server's host:port, written as the document's server")
    arguments = parser.parse_args(argv)
    document = contract_of(load(arguments.app)).document(host=arguments.host)
    text = json.dumps(document, indent=2) + "\n"
    if arguments.output:
        Path(arguments.output).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
