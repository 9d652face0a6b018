"""The Origin rule for handshakes (beeflow_websocket.core.origins)."""

import pytest

from beeflow_websocket.core.origins import checked_origins, origin_allowed

HOST = "app.example.com:8000"


@pytest.mark.parametrize(
    ("origin", "token_offered", "expected"),
    [
        (None, False, True),
        ("http://app.example.com:8000", False, True),
        ("HTTPS://App.Example.com:8000", False, True),
        ("https://evil.example", False, False),
        ("null", False, False),
        ("http://app.example.com:8000.evil.example", False, False),
        ("http://app.example.com", False, False),
        ("https://evil.example", True, True),
        ("null", True, True),
    ],
)
def test_by_default_only_a_cookie_connection_must_come_from_its_own_host(
    origin: str | None, token_offered: bool, expected: bool
) -> None:
    assert origin_allowed(origin, host=HOST, allowed=None, token_offered=token_offered) is expected


def test_configured_origins_replace_the_default_rule() -> None:
    allowed = checked_origins(["https://App.example.com/", "http://localhost:5173"])

    assert allowed == frozenset({"https://app.example.com", "http://localhost:5173"})
    assert origin_allowed("https://app.example.com", host=HOST, allowed=allowed, token_offered=False)
    assert origin_allowed("http://localhost:5173", host=HOST, allowed=allowed, token_offered=True)
    assert not origin_allowed("https://evil.example", host=HOST, allowed=allowed, token_offered=True)
    assert not origin_allowed("null", host=HOST, allowed=allowed, token_offered=True)
    assert origin_allowed(None, host=HOST, allowed=allowed, token_offered=False)
    assert origin_allowed(
        "https://evil.example", host=HOST, allowed=checked_origins(["*"]), token_offered=False
    )


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("https://a.example", TypeError),
        ([3], TypeError),
        (["a.example"], ValueError),
        (["https://a/x"], ValueError),
    ],
)
def test_allowed_origins_are_checked(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="origin"):
        checked_origins(value)  # type: ignore[arg-type]
