"""Where each stream stands for the application: each event once, in offset order (client.positions)."""

from beeflow_websocket.client.positions import LostStream, Position, Positions, position_of


def at(offset: int, name: str = "~user:1", epoch: str = "e") -> Position:
    return Position(name, epoch, offset)


def test_a_position_is_read_from_a_frame_s_stream_member_or_not_at_all() -> None:
    assert position_of({"name": "room", "epoch": "e", "offset": 3}) == Position("room", "e", 3)
    for malformed in (None, "room", {"name": "room", "epoch": "e"}, {"name": 1, "epoch": "e", "offset": 1}):
        assert position_of(malformed) is None
    assert position_of({"name": "room", "epoch": "e", "offset": True}) is None


def test_an_event_at_or_before_the_kept_position_is_a_duplicate() -> None:
    positions: Positions[str] = Positions()
    assert positions.judge(at(1), "a") == "deliver"
    assert positions.judge(at(2), "b") == "deliver"
    assert positions.judge(at(2), "b again") == "duplicate"
    assert positions.judge(at(1, epoch="later"), "after a loss") == "deliver"  # another epoch goes on
    assert positions.snapshot() == {"~user:1": at(1, epoch="later")}


def test_held_events_come_out_per_stream_in_offset_order_without_repeats() -> None:
    positions: Positions[str] = Positions()
    positions.judge(at(1), "u1")
    positions.hold()
    for position, item in (
        (at(4), "u4"),
        (at(1, "room"), "r1"),
        (at(2), "u2"),
        (at(3), "u3"),
        (at(4), "u4 again"),
    ):
        assert positions.judge(position, item) == "held"

    assert positions.release() == ["u2", "u3", "u4", "r1"]
    assert not positions.holding
    assert positions.resumable() == [at(4), at(1, "room")]


def test_an_own_request_s_copy_passes_its_offset() -> None:
    positions: Positions[str] = Positions()
    positions.passed(at(5))
    positions.passed(at(3))  # behind: no step back
    assert positions.judge(at(5), "replayed") == "duplicate"
    assert positions.judge(at(6), "next") == "deliver"


def test_lost_streams_set_their_positions_and_one_without_an_epoch_is_not_resumed() -> None:
    positions: Positions[str] = Positions()
    positions.judge(at(2), "u2")
    lost = positions.lost(
        [
            {"name": "~user:1", "epoch": "new", "offset": 9, "reason": "epoch_changed"},
            {"name": "room", "epoch": "", "offset": 0, "reason": "not_a_member"},
            {"name": "broken"},
        ]
    )

    assert lost == [
        LostStream("~user:1", "new", 9, "epoch_changed"),
        LostStream("room", "", 0, "not_a_member"),
    ]
    assert positions.resumable() == [at(9, epoch="new")]
    assert at(9, epoch="new").wire() == {"name": "~user:1", "epoch": "new", "offset": 9}


def test_a_request_s_own_copy_during_a_resume_counts_once_the_missed_events_before_it_are_out() -> None:
    positions: Positions[str] = Positions()
    positions.judge(at(1), "u1")
    positions.hold()
    positions.passed(at(4))  # the re-join's own copy, ahead of the missed events
    assert positions.snapshot() == {"~user:1": at(1)}
    for position, item in ((at(2), "u2"), (at(3), "u3"), (at(4), "u4 replayed"), (at(5), "u5")):
        positions.judge(position, item)

    assert positions.release() == ["u2", "u3", "u5"]
    assert positions.snapshot() == {"~user:1": at(5)}


def test_a_stream_whose_epoch_changed_during_a_resume_goes_on_in_the_order_the_epochs_came() -> None:
    positions: Positions[str] = Positions()
    positions.judge(at(7), "old 7")
    positions.hold()
    for position, item in ((at(8), "old 8"), (at(2, epoch="new"), "new 2"), (at(1, epoch="new"), "new 1")):
        positions.judge(position, item)

    assert positions.release() == ["old 8", "new 1", "new 2"]
    assert positions.release() == []
    assert positions.snapshot() == {"~user:1": at(2, epoch="new")}
