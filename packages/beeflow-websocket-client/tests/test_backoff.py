import pytest

from beeflow_websocket.client import Backoff


def test_the_ceiling_doubles_from_initial_up_to_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=20.0)

    assert [backoff.ceiling(attempt) for attempt in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert backoff.ceiling(10_000) == 20.0


def test_a_delay_is_drawn_between_zero_and_the_ceiling() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0)

    assert backoff.delay(2, draw=lambda: 0.0) == 0.0
    assert backoff.delay(2, draw=lambda: 0.5) == 2.0
    assert backoff.delay(2, draw=lambda: 0.999) == pytest.approx(3.996)
    assert all(0.0 <= backoff.delay(3) <= 8.0 for _ in range(1000))


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_an_impossible_backoff_is_refused(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="0 < initial <= maximum"):
        Backoff(initial, maximum)
