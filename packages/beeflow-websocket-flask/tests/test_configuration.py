import pytest
from flask import Flask

from beeflow_websocket.core.options import OPTIONS, Option
from beeflow_websocket.core.settings import DEFAULT_SETTINGS
from beeflow_websocket.flask import configure_beeflow_websocket
from beeflow_websocket.flask.configuration import AdapterState, adapter_state


def test_settings_live_on_each_application() -> None:
    first, second = Flask("first"), Flask("second")

    configure_beeflow_websocket(first, problem_type_base_url="https://one.test/p", autodiscover=False)
    configure_beeflow_websocket(second, autodiscover=False)

    assert adapter_state(first).settings.problem_type_base_url == "https://one.test/p"
    assert adapter_state(second).settings is not adapter_state(first).settings
    assert adapter_state(second).settings.problem_type_base_url is None
    assert adapter_state(first).bridge is not adapter_state(second).bridge


def test_an_unconfigured_application_gets_the_defaults() -> None:
    app = Flask("plain")
    state = adapter_state(app)

    assert isinstance(state, AdapterState)
    assert state.settings is DEFAULT_SETTINGS
    assert adapter_state(app) is state


@pytest.mark.parametrize(
    ("options", "subprotocols"),
    [
        (None, ["beeflow.v1", "access-token"]),
        ({"ping_interval": 25}, ["beeflow.v1", "access-token"]),
        ({"subprotocols": "chat.v2"}, ["beeflow.v1", "access-token", "chat.v2"]),
        ({"subprotocols": ["chat.v2", "access-token"]}, ["beeflow.v1", "access-token", "chat.v2"]),
    ],
)
def test_beeflow_v1_and_the_access_token_marker_are_offered_to_flask_sock(
    options: dict[str, object] | None, subprotocols: list[str]
) -> None:
    app = Flask("sock")
    if options is not None:
        app.config["SOCK_SERVER_OPTIONS"] = dict(options)

    configure_beeflow_websocket(app, autodiscover=False)

    assert list(app.config["SOCK_SERVER_OPTIONS"]["subprotocols"]) == subprotocols
    if options and "ping_interval" in options:
        assert app.config["SOCK_SERVER_OPTIONS"]["ping_interval"] == 25


def test_the_application_must_be_flask() -> None:
    with pytest.raises(TypeError, match="expected a Flask application, got object"):
        configure_beeflow_websocket(object(), autodiscover=False)  # type: ignore[arg-type]


def test_wrong_keywords_are_clear_errors() -> None:
    with pytest.raises(TypeError, match="autodiscover_modules must be a list or tuple"):
        configure_beeflow_websocket(Flask("bad"), autodiscover_modules="actions")


def test_limits_are_kept_with_the_settings() -> None:
    app = Flask("limits")
    configure_beeflow_websocket(app, autodiscover=False, max_message_size=4096, max_concurrent_actions=3)

    settings = adapter_state(app).settings
    assert (settings.max_message_size, settings.max_concurrent_actions, settings.max_pending_messages) == (
        4096,
        3,
        32,
    )


def test_an_unknown_keyword_names_the_public_function() -> None:
    from flask import Flask

    from beeflow_websocket.flask import configure_beeflow_websocket

    with pytest.raises(
        TypeError, match=r"^configure_beeflow_websocket\(\) got an unexpected keyword argument 'bogus'$"
    ):
        configure_beeflow_websocket(Flask(__name__), bogus=1)  # type: ignore[call-arg]


@pytest.mark.parametrize("entry", [entry for entry in OPTIONS if entry.keyword], ids=lambda entry: entry.name)
def test_every_keyword_of_the_table_is_taken_and_reaches_the_connections(entry: Option) -> None:
    app = Flask("options")
    keywords = {"autodiscover": False, entry.name: entry.example}

    configure_beeflow_websocket(app, **keywords)  # type: ignore[arg-type]

    state = adapter_state(app)
    assert state.options[entry.name] == entry.example
    if entry.protocol:
        assert getattr(state.settings, entry.name) == entry.example


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        ("access-token, secret, beeflow.v1", "beeflow.v1"),
        ("beeflow.v1", "beeflow.v1"),
        ("chat.v2, access-token, secret", "access-token"),
        ("chat.v2", "chat.v2"),
        ("", None),
    ],
)
def test_the_handshake_selects_what_every_adapter_selects_whatever_the_client_s_order(
    offered: str, selected: str | None
) -> None:
    app = Flask("sock")
    app.config["SOCK_SERVER_OPTIONS"] = {"subprotocols": ["chat.v2"]}
    configure_beeflow_websocket(app, autodiscover=False)
    server_side = app.config["SOCK_SERVER_OPTIONS"]["subprotocols"]

    with app.test_request_context(headers={"Sec-WebSocket-Protocol": offered}):
        # simple-websocket selects the first offered subprotocol that is in the option.
        chosen = next((name for name in offered.replace(" ", "").split(",") if name in server_side), None)

    assert chosen == selected
