"""Ranked ranges: each process has one place in every group it is a member of."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from monitor.bus.assignor import Subscriber, ranked_ranges
from monitor.bus.kafka import RankedRangeAssignor


def subscriber(member_id: str, rank: str, *topics: str) -> Subscriber:
    return Subscriber(member_id, rank.encode(), topics)


def test_the_extra_partitions_go_to_the_members_ranked_last_in_every_topic() -> None:
    members = [subscriber("m-9", "a", "t", "u"), subscriber("m-1", "b", "t", "u")]
    assert ranked_ranges({"t": [2, 0, 1], "u": [0, 1, 2]}, members) == {
        "m-9": {"t": [0], "u": [0]},
        "m-1": {"t": [1, 2], "u": [1, 2]},
    }


def test_the_rank_decides_before_the_member_id_and_ties_fall_back_to_it() -> None:
    ranked = ranked_ranges({"t": [0, 1, 2, 3]}, [
        subscriber("z", "a", "t"), subscriber("b", "c", "t"), subscriber("a", "c", "t")])
    assert ranked == {"z": {"t": [0]}, "a": {"t": [1]}, "b": {"t": [2, 3]}}


def test_members_get_only_topics_they_subscribe_to_and_more_members_than_partitions_wait(
) -> None:
    ranked = ranked_ranges({"t": [0], "u": [0, 1]}, [
        subscriber("x", "a", "t", "u"), subscriber("y", "b", "t", "u"), subscriber("z", "c", "u")])
    assert ranked["x"] == {"t": [], "u": []}
    assert ranked["y"] == {"t": [0], "u": [0]}
    assert ranked["z"] == {"u": [1]}


@given(partitions=st.integers(1, 12), ranks=st.lists(st.binary(max_size=4), min_size=1,
                                                     max_size=6, unique=True))
def test_every_partition_is_read_once_and_its_first_reader_has_no_more_than_any(
    partitions: int, ranks: list[bytes]
) -> None:
    members = [Subscriber(f"m{n}", rank, ("t", "u")) for n, rank in enumerate(ranks)]
    ranked = ranked_ranges({"t": list(range(partitions)), "u": list(range(partitions))}, members)
    for topic in ("t", "u"):
        counts = [len(by_topic[topic]) for by_topic in ranked.values()]
        assert sorted(p for by_topic in ranked.values() for p in by_topic[topic]) == list(
            range(partitions))
        assert max(counts) - min(counts) <= 1
        first = next(m for m, by_topic in ranked.items() if 0 in by_topic[topic])
        assert len(ranked[first][topic]) == min(c for c in counts if c)
    assert {m: t["t"] for m, t in ranked.items()} == {m: t["u"] for m, t in ranked.items()}


def test_the_kafka_adapter_sends_the_rank_and_assigns_ranked_ranges() -> None:
    assignor = RankedRangeAssignor(b"r1")
    assert assignor.metadata({"t"}).user_data == b"r1"
    cluster = SimpleNamespace(
        partitions_for_topic=lambda topic: {0, 1, 2} if topic == "t" else None)
    members = [
        SimpleNamespace(member_id="late", metadata=SimpleNamespace(topics=["t"], user_data=b"r2")),
        SimpleNamespace(member_id="early", metadata=SimpleNamespace(topics=["t", "gone"],
                                                                    user_data=b"r1")),
    ]
    assigned = assignor.assign(cluster, members)
    assert {m: dict(a.assigned_partitions) for m, a in assigned.items()} == {
        "early": {"t": [0]}, "late": {"t": [1, 2]}}
