"""``python manage.py beeflow_asyncapi``: write the project's contract, the AsyncAPI document, to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beeflow_websocket.django.configuration import contract


class Command(BaseCommand):
    """Builds the document from the registries (filled at startup) and ``BEEFLOW_WEBSOCKET_ASYNCAPI``."""

    help = "Write the AsyncAPI document of the project's WebSocket actions and events."

    def add_arguments(self, parser: CommandParser) -> None:
        """``-o FILE`` and ``--host HOST:PORT``."""
        parser.add_argument("-o", "--output", help="the file to write (standard output by default)")
        parser.add_argument("--host", help="the server's host:port, written as the document's server")

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the document."""
        text = json.dumps(contract().document(host=options["host"]), indent=2) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text)
        else:
            self.stdout.write(text, ending="")
