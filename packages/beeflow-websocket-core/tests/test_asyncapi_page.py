"""The contract page and its vendored files (beeflow_websocket.core.asyncapi_page)."""

import hashlib
import json
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest

from beeflow_websocket.core.asyncapi_page import ASSETS, asset, render_page

VIEWER = Path(str(files("beeflow_websocket.core") / "asyncapi_viewer"))
PINS = Path(__file__).resolve().parent.parent / "viewer" / "pins.json"


def test_the_vendored_files_are_the_pinned_packages_unchanged() -> None:
    manifest = json.loads((VIEWER / "MANIFEST.json").read_text())
    pins = json.loads(PINS.read_text())

    assert manifest["packages"] == pins["packages"]
    assert {name: entry["from"] for name, entry in manifest["files"].items()} == pins["files"]
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((VIEWER / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert set(ASSETS) <= set(manifest["files"])


def test_an_asset_is_served_by_name_and_nothing_else_is() -> None:
    assert asset("default.min.css").startswith(b".")  # the stylesheet's first rule
    with pytest.raises(KeyError):
        asset("../../__init__.py")
    with pytest.raises(KeyError):
        asset("MANIFEST.json")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def test_the_page_loads_the_component_and_the_document_from_the_application_only() -> None:
    page = render_page(
        document_url="/asyncapi.json?x=<1>", assets_url="/asyncapi/assets/", title="Shop <API>"
    )
    tags = _Tags()
    tags.feed(page)

    [script] = [attrs for tag, attrs in tags.found if tag == "script"]
    [component] = [attrs for tag, attrs in tags.found if tag == "asyncapi-component"]
    assert script["src"] == "/asyncapi/assets/asyncapi-web-component.js"
    assert component["schemaurl"] == "/asyncapi.json?x=<1>"
    assert component["cssimportpath"] == "/asyncapi/assets/default.min.css"
    assert json.loads(component["config"] or "")["show"]["sidebar"] is True
    assert "<title>Shop &lt;API&gt;</title>" in page
    assert "http" not in page  # no CDN, no other origin
