"""One connection's view of its streams: every event once, in offset order (history.cursor)."""

from beeflow_websocket.core.history.cursor import Admission, StreamCursor
from beeflow_websocket.core.history.positions import StreamPosition
from beeflow_websocket.core.transport import OutboundEvent


def event(offset: int, epoch: str = "e", stream: str = "room") -> OutboundEvent:
    return OutboundEvent(None, "{}", None, StreamPosition(stream, epoch, offset))


def admit(cursor: StreamCursor, offset: int, epoch: str = "e") -> Admission:
    sent = event(offset, epoch)
    assert sent.position is not None
    return cursor.admit(sent, sent.position)


def test_the_first_event_starts_the_run_and_the_next_ones_extend_it() -> None:
    cursor = StreamCursor()
    assert [admit(cursor, offset) for offset in (5, 6, 7)] == [Admission.WRITE] * 3
    track = cursor.track("room")
    assert track is not None
    assert (track.first, track.last) == (5, 7)


def test_an_event_written_already_is_a_duplicate() -> None:
    cursor = StreamCursor()
    admit(cursor, 1)
    admit(cursor, 2)
    assert admit(cursor, 2) is Admission.DUPLICATE
    assert admit(cursor, 1) is Admission.DUPLICATE


def test_an_event_after_a_gap_is_held_with_those_behind_it_until_released() -> None:
    cursor = StreamCursor()
    admit(cursor, 1)
    assert admit(cursor, 3) is Admission.GAP
    assert admit(cursor, 4) is Admission.HELD
    assert cursor.replayed("room", "e", 2)
    decided = [(sent.position.offset, verdict) for sent, verdict in cursor.release("room") if sent.position]
    assert decided == [(3, Admission.WRITE), (4, Admission.WRITE)]
    assert admit(cursor, 5) is Admission.WRITE


def test_a_release_with_the_gap_still_open_holds_again_from_the_event_after_it() -> None:
    cursor = StreamCursor()
    admit(cursor, 1)
    admit(cursor, 3)
    admit(cursor, 4)
    decided = cursor.release("room")
    assert [verdict for _, verdict in decided] == [Admission.GAP]
    track = cursor.track("room")
    assert track is not None
    assert [sent.position.offset for sent in track.held or [] if sent.position] == [3, 4]


def test_an_own_copy_goes_first_and_the_event_it_overtook_is_still_written_once() -> None:
    cursor = StreamCursor()
    admit(cursor, 1)
    assert cursor.own(StreamPosition("room", "e", 3)) is Admission.GAP  # 2 is on its way
    assert admit(cursor, 2) is Admission.WRITE
    assert admit(cursor, 3) is Admission.DUPLICATE
    assert admit(cursor, 4) is Admission.WRITE


def test_an_own_copy_in_order_extends_the_run_and_opens_a_stream_it_starts() -> None:
    cursor = StreamCursor()
    assert cursor.own(StreamPosition("room", "e", 1)) is Admission.WRITE
    assert cursor.own(StreamPosition("room", "e", 2)) is Admission.WRITE
    assert cursor.own(StreamPosition("room", "e", 2)) is Admission.WRITE  # written by its caller anyway
    assert admit(cursor, 2) is Admission.DUPLICATE


def test_another_epoch_means_the_history_was_lost() -> None:
    cursor = StreamCursor()
    admit(cursor, 1)
    assert admit(cursor, 2, epoch="later") is Admission.LOST
    assert cursor.own(StreamPosition("room", "later", 2)) is Admission.LOST


def test_a_replayed_entry_fills_only_what_is_missing() -> None:
    cursor = StreamCursor()
    admit(cursor, 1)
    cursor.own(StreamPosition("room", "e", 3))
    assert cursor.replayed("room", "e", 2)
    assert not cursor.replayed("room", "e", 3)  # written ahead, now part of the run
    assert not cursor.replayed("room", "other", 4)
    assert not cursor.replayed("elsewhere", "e", 1)
    assert cursor.replayed("room", "e", 4)


def test_a_resume_leaves_out_what_was_written_live_and_joins_the_runs() -> None:
    cursor = StreamCursor()
    admit(cursor, 8)  # live, before the resume was handled
    assert cursor.resumed("room", "e", after=4, top=9) == [5, 6, 7, 9]
    track = cursor.track("room")
    assert track is not None
    assert (track.first, track.last) == (5, 9)
    assert [verdict for _, verdict in cursor.release("room")] == []
    assert admit(cursor, 9) is Admission.DUPLICATE
    assert admit(cursor, 10) is Admission.WRITE


def test_a_resume_of_a_stream_not_seen_yet_and_one_of_another_epoch() -> None:
    cursor = StreamCursor()
    assert cursor.resumed("room", "e", after=2, top=4) == [3, 4]
    admit(cursor, 1, epoch="old")
    assert cursor.resumed("room", "new", after=0, top=1) is None


def test_events_held_during_a_resume_are_decided_when_it_ends() -> None:
    cursor = StreamCursor()
    cursor.hold("room")
    assert admit(cursor, 6) is Admission.HELD
    assert cursor.resumed("room", "e", after=3, top=5) == [4, 5]
    assert [verdict for _, verdict in cursor.release("room")] == [Admission.WRITE]
    assert cursor.release("room") == []
    assert cursor.release("nowhere") == []


def test_a_stream_left_is_forgotten() -> None:
    cursor = StreamCursor()
    admit(cursor, 3)
    cursor.forget("room")
    assert cursor.track("room") is None
    assert admit(cursor, 9) is Admission.WRITE


def test_an_own_copy_on_a_stream_held_but_never_written_starts_its_run() -> None:
    cursor = StreamCursor()
    cursor.hold("room")
    cursor.release("room")
    assert cursor.own(StreamPosition("room", "e", 4)) is Admission.WRITE
    assert admit(cursor, 4) is Admission.DUPLICATE
    assert admit(cursor, 5) is Admission.WRITE
