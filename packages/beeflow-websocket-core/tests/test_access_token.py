import pytest

from beeflow_websocket.core.access_token import (
    ACCESS_TOKEN_SUBPROTOCOL,
    read_access_token,
    selected_subprotocol,
    split_subprotocol_header,
)


@pytest.mark.parametrize(
    ("offered", "token"),
    [
        (["access-token", "eyJhbGciOi"], "eyJhbGciOi"),
        (["chat.v2", "access-token", "abc"], "abc"),
        (["access-token"], None),
        (["access-token", ""], None),
        (["abc", "access-token"], None),
        (["chat.v2"], None),
        ([], None),
    ],
)
def test_the_token_is_the_subprotocol_after_the_marker(offered: list[str], token: str | None) -> None:
    assert read_access_token(offered) == token


def test_the_marker_is_public() -> None:
    assert ACCESS_TOKEN_SUBPROTOCOL == "access-token"


@pytest.mark.parametrize(
    ("header", "offered"),
    [
        ("access-token, abc", ["access-token", "abc"]),
        ("access-token,abc", ["access-token", "abc"]),
        (" chat , , x ", ["chat", "x"]),
        ("", []),
        (None, []),
    ],
)
def test_split_subprotocol_header(header: str | None, offered: list[str]) -> None:
    assert split_subprotocol_header(header) == offered


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        (["access-token", "secret"], "access-token"),
        (["chat", "access-token", "x"], "access-token"),
        (["chat"], None),
        ([], None),
    ],
)
def test_the_handshake_selects_only_the_marker(offered: list[str], selected: str | None) -> None:
    assert selected_subprotocol(offered) == selected
