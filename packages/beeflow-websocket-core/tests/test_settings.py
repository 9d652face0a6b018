import pytest

from beeflow_websocket.core.settings import DEFAULT_SETTINGS, DispatcherSettings


def test_default_has_no_problem_type_base_url() -> None:
    assert DEFAULT_SETTINGS.problem_type_base_url is None


@pytest.mark.parametrize("base", ["", "   ", 7])
def test_problem_type_base_url_must_be_a_non_blank_string(base: object) -> None:
    with pytest.raises(ValueError, match="problem_type_base_url"):
        DispatcherSettings(problem_type_base_url=base)  # type: ignore[arg-type]
