"""StreamBuffer: in-order bytes under retransmission, overlap, reordering, wrap-around and caps."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.flows.reassembly import StreamBuffer

ISN = 1_000_000


def feed(buf: StreamBuffer, data: bytes, cuts: list[int], order: list[int] | None = None) -> None:
    bounds = [0, *sorted(set(cuts)), len(data)]
    segs = [(bounds[i], data[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]
    for i in order if order is not None else range(len(segs)):
        off, chunk = segs[i]
        if chunk:
            buf.add((ISN + off) & 0xFFFFFFFF, chunk, i + 1, float(i))


def test_in_order_with_syn() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    assert b.add(ISN, b"hello ", 1, 1.0) is False
    assert b.add(ISN + 6, b"world", 2, 2.0) is False
    v = b.view()
    assert v.data == b"hello world"
    assert v.segments == ((0, 1, 1.0), (6, 2, 2.0))
    assert not v.gap and not v.capped
    assert v.frame_at(7) == 2 and v.ts_at(0) == 1.0
    assert v.frames_between(0, 11) == (1, 2)


def test_first_segment_without_syn_starts_the_stream() -> None:
    b = StreamBuffer()
    b.add(5000, b"abc", 1, 1.0)
    b.add(5003, b"def", 2, 2.0)
    assert b.view().data == b"abcdef"


def test_retransmission_is_reported_and_not_duplicated() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN, b"abcdef", 1, 1.0)
    assert b.add(ISN, b"abcdef", 2, 2.0) is True
    assert b.add(ISN + 2, b"cd", 3, 3.0) is True
    assert b.view().data == b"abcdef" and b.conflicts == 0
    assert b.add(ISN - 100, b"old", 4, 4.0) is True  # before the first byte


def test_conflicting_retransmission_is_counted_first_copy_wins() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN, b"abcdef", 1, 1.0)
    assert b.add(ISN + 1, b"XY", 2, 2.0) is True
    assert b.conflicts == 1
    b.add(ISN + 4, b"EFGH", 3, 3.0)  # partial overlap with a different byte, then new data
    assert b.conflicts == 2
    assert b.view().data == b"abcdefGH"


def test_out_of_order_waits_for_the_hole() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN + 6, b"world", 2, 2.0)
    b.add(ISN + 11, b"!", 3, 3.0)
    assert b.view().data == b"" and b.view().gap
    b.add(ISN, b"hello ", 1, 1.0)
    v = b.view()
    assert v.data == b"hello world!" and not v.gap
    assert [s[1] for s in v.segments] == [1, 2, 3]


def test_overlapping_out_of_order_segments() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN + 4, b"efgh", 2, 2.0)
    b.add(ISN + 2, b"cdefghij", 3, 3.0)
    b.add(ISN, b"ab", 1, 1.0)
    assert b.view().data == b"abcdefghij" and b.conflicts == 0


def test_conflicting_pending_copy_is_counted() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN + 4, b"efgh", 2, 2.0)
    assert b.add(ISN + 4, b"eXgh", 3, 3.0) is True
    b.add(ISN + 4, b"efghij", 4, 4.0)  # longer copy, same prefix: extends
    b.add(ISN, b"abcd", 1, 1.0)
    assert b.view().data == b"abcdefghij"
    assert b.conflicts == 1


def test_hole_never_filled_is_a_gap() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN, b"abc", 1, 1.0)
    b.add(ISN + 10, b"xyz", 2, 2.0)
    v = b.view()
    assert v.data == b"abc" and v.gap


def test_cap_stops_the_stream() -> None:
    b = StreamBuffer(cap=10)
    b.syn(ISN - 1)
    b.add(ISN, b"0123456", 1, 1.0)
    b.add(ISN + 7, b"789abc", 2, 2.0)
    v = b.view()
    assert v.data == b"0123456789" and v.capped and not v.gap
    assert b.add(ISN + 13, b"more", 3, 3.0) is False
    assert b.view().data == b"0123456789"


def test_segments_beyond_cap_are_not_held() -> None:
    b = StreamBuffer(cap=100)
    b.syn(ISN - 1)
    b.add(ISN + 500, b"far away", 1, 1.0)
    assert not b.pending and b.pending_bytes == 0


def test_pending_bytes_are_bounded() -> None:
    b = StreamBuffer(cap=1 << 20, max_pending=100)
    b.syn(ISN - 1)
    for i in range(10):
        b.add(ISN + 1000 + i * 50, b"x" * 50, i, float(i))
    assert b.pending_bytes <= 100
    assert b.dropped_pending > 0 and b.view().gap


def test_sequence_wrap_around() -> None:
    b = StreamBuffer()
    b.syn(0xFFFFFFF0)
    b.add(0xFFFFFFF1, b"A" * 10, 1, 1.0)
    b.add((0xFFFFFFF1 + 10) & 0xFFFFFFFF, b"B" * 20, 2, 2.0)
    assert b.view().data == b"A" * 10 + b"B" * 20


def test_late_syn_rebases_waiting_segments() -> None:
    b = StreamBuffer()
    b.add(ISN + 5, b"fghij", 2, 2.0)  # data seen before the SYN, out of order
    b.syn(ISN - 1)
    b.add(ISN, b"abcde", 1, 1.0)
    assert b.view().data == b"abcdefghij"


def test_retransmitted_syn_does_not_move_held_bytes() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.add(ISN, b"abc", 1, 1.0)
    b.syn(ISN + 500)
    b.add(ISN + 3, b"def", 2, 2.0)
    assert b.view().data == b"abcdef"


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_segmentation_order_and_duplicates_give_the_same_stream(data: st.DataObject) -> None:
    payload = data.draw(st.binary(min_size=1, max_size=3000), label="payload")
    cuts = data.draw(st.lists(st.integers(1, max(1, len(payload) - 1)), max_size=40), label="cuts")
    bounds = [0, *sorted(set(cuts)), len(payload)]
    segs = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i] < bounds[i + 1]]
    # duplicates, and overlapping re-segmented copies of the same bytes
    extra = data.draw(
        st.lists(st.tuples(st.integers(0, len(payload) - 1), st.integers(1, 500)), max_size=10),
        label="extra",
    )
    segs += [(a, min(len(payload), a + n)) for a, n in extra]
    order = data.draw(st.permutations(range(len(segs))), label="order")
    isn = data.draw(st.integers(0, 0xFFFFFFFF), label="isn")
    b = StreamBuffer()
    b.syn(isn)
    for i in order:
        a, z = segs[i]
        b.add((isn + 1 + a) & 0xFFFFFFFF, payload[a:z], i, float(i))
    v = b.view()
    assert v.data == payload
    assert not v.gap and b.conflicts == 0
    offsets = [s[0] for s in v.segments]
    assert offsets == sorted(offsets) and offsets[0] == 0


def test_syn_retransmitted_with_new_sequence_before_data_wins() -> None:
    b = StreamBuffer()
    b.syn(ISN - 1)
    b.syn(ISN + 99_999)  # a second SYN(-ACK) with another ISN; the data follows the second
    b.add(ISN + 100_000, b"server hello", 1, 1.0)
    assert b.view().data == b"server hello"
