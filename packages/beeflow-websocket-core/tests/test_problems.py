import pytest

from beeflow_websocket.core.problems import (
    ABOUT_BLANK,
    ClientProblem,
    InternalError,
    InvalidMessage,
    UnknownAction,
    WebSocketProblem,
    problem_type,
)


def test_problem_type_without_a_base_url_is_about_blank() -> None:
    assert problem_type(None, "invalid-message") == ABOUT_BLANK
    assert problem_type("", "invalid-message") == ABOUT_BLANK


@pytest.mark.parametrize(
    "base", ["https://example.com/problems/websocket", "https://example.com/problems/websocket/"]
)
def test_problem_type_joins_base_and_slug_with_one_slash(base: str) -> None:
    assert problem_type(base, "unknown-action") == "https://example.com/problems/websocket/unknown-action"


@pytest.mark.parametrize(
    ("problem", "status", "code", "slug"),
    [
        (InvalidMessage(), 400, "invalid_websocket_message", "invalid-message"),
        (UnknownAction(), 400, "unknown_websocket_action", "unknown-action"),
        (InternalError(), 500, "internal_error", "internal-error"),
    ],
)
def test_builtin_problems_carry_their_wire_mapping(
    problem: WebSocketProblem, status: int, code: str, slug: str
) -> None:
    assert (problem.status, problem.code, problem.type_slug) == (status, code, slug)
    assert problem.title
    assert str(problem) == problem.detail


def test_an_application_problem_overrides_every_member() -> None:
    problem = WebSocketProblem(
        "Seat 12A was booked by someone else.",
        status=409,
        code="seat_taken",
        title="Seat already taken",
        extensions={"seat": "12A"},
    )

    assert (problem.status, problem.code, problem.title) == (409, "seat_taken", "Seat already taken")
    assert problem.detail == "Seat 12A was booked by someone else."
    assert problem.type_slug == "seat-taken"
    assert problem.extensions == {"seat": "12A"}


def test_instance_values_do_not_leak_into_the_class() -> None:
    WebSocketProblem(status=409, code="seat_taken")

    assert (WebSocketProblem.status, WebSocketProblem.code) == (500, "internal_error")


def test_a_subclass_sets_defaults_for_its_instances() -> None:
    class SeatTaken(ClientProblem):
        status = 409
        code = "seat_taken"
        slug = "seats/taken"

    assert (SeatTaken().status, SeatTaken().type_slug) == (409, "seats/taken")


def test_status_must_be_an_http_status() -> None:
    with pytest.raises(ValueError, match="HTTP status"):
        WebSocketProblem(status=42)


def test_extension_members_cannot_replace_standard_members() -> None:
    with pytest.raises(ValueError, match=r"\['req_id', 'status'\]"):
        WebSocketProblem(extensions={"status": 200, "req_id": "x", "seat": 1})
