"""Serving the contract (beeflow_websocket.core.contract) and writing it (asyncapi_command)."""

import json
import sys
import textwrap
from pathlib import Path

import pytest

from beeflow_websocket.core.asyncapi_command import main
from beeflow_websocket.core.contract import Contract


def test_the_page_the_document_and_the_assets_are_served_under_one_path() -> None:
    contract = Contract(
        {"path": "/docs/ws", "title": "Shop", "version": "2.1.0", "websocket_path": "/socket/"}
    )

    page = contract.respond("/docs/ws")
    document = contract.respond("/docs/ws.json", host="shop.example:8443", secure=True)
    script = contract.respond("/docs/ws/assets/asyncapi-web-component.js")

    assert page is not None
    assert document is not None
    assert script is not None
    assert (page.status, page.content_type) == (200, "text/html; charset=utf-8")
    assert b'schemaUrl="ws.json"' in page.body  # relative: it works under any prefix
    assert b'src="ws/assets/asyncapi-web-component.js"' in page.body
    served = json.loads(document.body)
    assert (served["info"]["title"], served["info"]["version"]) == ("Shop", "2.1.0")
    assert served["channels"]["websocket"]["address"] == "/socket/"
    assert served["servers"]["production"]["host"] == "shop.example:8443"
    assert served["servers"]["production"]["protocol"] == "wss"
    assert (script.status, script.content_type) == (200, "text/javascript; charset=utf-8")
    assert contract.respond("/docs/ws/assets/MANIFEST.json") is not None
    assert contract.respond("/docs/ws/assets/MANIFEST.json").status == 404  # type: ignore[union-attr]
    assert contract.respond("/docs/other") is None


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"path": "asyncapi"}, ValueError),
        ({"path": "/asyncapi/"}, ValueError),
        ({"websocket_path": "ws"}, ValueError),
        ({"title": 3}, TypeError),
        ({"colour": "blue"}, TypeError),
        ("/asyncapi", TypeError),
    ],
)
def test_a_wrong_setting_is_refused_naming_what_is_wrong(settings: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="asyncapi"):
        Contract(settings)  # type: ignore[arg-type]


def test_the_command_writes_an_application_s_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shop_app.py").write_text(
        textwrap.dedent(
            """
            from beeflow_websocket.core.configuration import AdapterState
            from beeflow_websocket.core.contract import Contract


            SHOP = Contract({"title": "Shop", "websocket_path": "/socket/"})


            class State:
                beeflow_websocket = AdapterState(contract=SHOP)


            class App:
                state = State()


            app = App()
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))

    main(["shop_app:app", "-o", "contract.json", "--host", "127.0.0.1:8000"])

    written = json.loads((tmp_path / "contract.json").read_text())
    assert written["info"]["title"] == "Shop"
    assert written["channels"]["websocket"]["address"] == "/socket/"
    assert written["servers"]["production"]["host"] == "127.0.0.1:8000"


def test_the_command_refuses_a_target_that_is_not_module_colon_app() -> None:
    with pytest.raises(SystemExit, match="module:app"):
        main(["shop_app"])
