"""Which member of a consumer group reads which partitions: ranked ranges.

Every stage of a process has a consumer in its own group, so one process is a
member of several groups at once. The story decisions use one partition,
partition 0 of the candidates topic, so whichever process holds it does that
serial work besides its share of every other stage. Kafka's range assignor
sorts members by a member id the broker makes up for each join, and gives the
partitions a group cannot share out evenly to the members that sort first: as
often as not, the process that holds the story decisions also gets the extra
partitions of rule matching and delivery.

:func:`ranked_ranges` ranks members by a token their process sends with its
subscription (the same for all its consumers, so a process has the same rank
in every group) and hands out ranges in that order, the extra partitions going
to the members ranked last. The member that reads partition 0 of a topic
then reads no more of it than any other member, and (where topics have as
many partitions) holds the same place in every group: the process that holds
the story decisions is the one with the least other work.
:class:`monitor.bus.kafka.RankedRangeAssignor` is the kafka-python adapter;
a group whose members do not all offer it falls back to the range assignor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A group member as the assignment sees it."""

    member_id: str
    #: Its process's token: members sort by it, then by member id.
    rank: bytes
    topics: tuple[str, ...]


def ranked_ranges(
    partitions: Mapping[str, Sequence[int]], members: Sequence[Subscriber]
) -> dict[str, dict[str, list[int]]]:
    """Member id → topic → the partitions it reads.

    For each topic, its subscribers in rank order each get a consecutive range of
    ``len(partitions) // subscribers`` partitions, and the last
    ``len(partitions) % subscribers`` of them one more. A topic without known
    partitions is left out.
    """
    ranked = sorted(members, key=lambda m: (m.rank, m.member_id))
    assignment: dict[str, dict[str, list[int]]] = {m.member_id: {} for m in ranked}
    for topic, known in partitions.items():
        readers = [m for m in ranked if topic in m.topics]
        if not readers:
            continue
        ordered = sorted(known)
        base, extra = divmod(len(ordered), len(readers))
        start = 0
        for position, member in enumerate(readers):
            length = base + (1 if position >= len(readers) - extra else 0)
            assignment[member.member_id][topic] = ordered[start:start + length]
            start += length
    return assignment
