"""The sink's memory of stories: what the story decisions read and change.

The thin shell around :func:`monitor.alerts.story.decide` and
:func:`monitor.alerts.grouping.regroup`: it finds what a decision needs
(the rule's recent stories of a comparable length, its recent emissions, the
story notification an article's alerts belong to) and keeps what the decision
changed. It lives in memory, one :class:`StoryState` per partition of the
candidates topic, and every change is also handed to a ``journal`` as a
key and an encoded :data:`~monitor.messages.StateEntry` (None for a removal).
The alert sink writes the journal to a compacted changelog topic and rebuilds
a partition's state from it with :meth:`StoryState.restore` when the partition
is assigned to it (see docs/architecture.md, "State on Kafka"); ``rules
backtest`` keeps a state without a journal.

Silences are not story state: :mod:`monitor.alerts.silences` keeps them, and a
decision is given the active ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from monitor.alerts.grouping import GroupDecision, regroup, story_of
from monitor.alerts.lookup import BatchScores, Lookup, plain_lookup
from monitor.alerts.matching import normalise
from monitor.alerts.story import Decision, Policy, Silence, Story, decide, length_band, word_set
from monitor.bus.base import Record
from monitor.bus.codec import decode, encode
from monitor.errors import DecodeError
from monitor.messages import (
    Alert,
    EmissionsEntry,
    NotificationEntry,
    StoryEntry,
    StoryNotification,
)

#: Hears each change: the changelog key and the encoded entry, None for a removal.
Journal = Callable[[str, bytes | None], None]

#: Candidates of a rule scored ahead together against one list of stories
#: (:meth:`StoryState.scores_ahead`): larger shares a call among more of them,
#: smaller wastes fewer scores on stories outside a candidate's length band.
SCORE_AHEAD_CHUNK = 64

STORY_PREFIX = "story:"
EMISSIONS_PREFIX = "emissions:"
NOTIFICATION_PREFIX = "notification:"


class StoryState:
    """Stories, emissions and story notifications of one partition, in memory.

    Not thread-safe: one stage thread owns it.
    """

    def __init__(self, journal: Journal | None = None) -> None:
        self._journal = journal
        self._stories: dict[str, Story] = {}
        #: Alert ids of each rule's stories, oldest first seen first.
        self._by_rule: dict[str, dict[str, None]] = {}
        self._emissions: dict[str, tuple[float, ...]] = {}
        self._notifications: dict[str, NotificationEntry] = {}
        #: Per-statement alert id -> the notification holding it.
        self._members: dict[str, str] = {}

    # -- decisions ------------------------------------------------------------
    def decide_and_record(
        self, candidate: Alert, now: float, policy: Policy, silences: Sequence[Silence] = (),
        lookup: Lookup = plain_lookup,
    ) -> Decision:
        """Take the pure decision for ``candidate`` and keep its outcome; ``lookup``
        scores it against the rule's stories (e.g. a :meth:`scores_ahead`)."""
        decision = decide(candidate, self._candidate_stories(candidate, now, policy),
                          self._emissions.get(candidate.rule, ()), silences, now, policy,
                          lookup)
        if decision.story is not None:
            self._put_story(decision.story)
            if decision.action == "emit":
                self._emitted(candidate.rule, now, policy)
        return decision

    def scores_ahead(
        self, candidates: Sequence[Alert], now: float, policy_of: Callable[[str], Policy]
    ) -> BatchScores:
        """The look-ups that deciding ``candidates`` in order is likely to make, scored
        now in a few calls that release the GIL: each candidate against its rule's
        newest stories of a comparable length and against the stories the rule's
        earlier candidates in the batch may start. Deciding with the result gives
        the same decisions as without it; it only moves the scoring.

        A chunk of a rule's candidates is scored ahead only if the rule's recent
        stories are at least as many as the batch's candidates it is scored
        against: otherwise
        most of the scores would be against candidates that may never start a story
        (a batch of copies of a few stories), and the few look-ups left are cheap to
        take in turn."""
        scores = BatchScores()
        by_rule: dict[str, dict[str, None]] = {}
        for candidate in candidates:
            by_rule.setdefault(candidate.rule, {})[normalise(candidate.statement.text)] = None
        for rule, distinct in by_rule.items():
            policy = policy_of(rule)
            texts = list(distinct)
            queries = [word_set(text) for text in texts]
            for start in range(0, len(texts), SCORE_AHEAD_CHUNK):
                end = start + SCORE_AHEAD_CHUNK
                lengths = [len(text) for text in texts[start:end]]
                known = self._recent_words(rule, min(lengths), max(lengths), now, policy)
                earlier = queries[:end]  # the chunk's own and the rule's earlier candidates
                if len(known) < len(earlier):
                    continue
                scores.add(queries[start:end], list(dict.fromkeys(known + earlier)),
                           policy.similarity)
        return scores

    def _recent_words(self, rule: str, shortest: int, longest: int, now: float,
                      policy: Policy) -> list[str]:
        """Word sets of the rule's newest ``max_candidates`` stories of the story
        window whose length is comparable with a text of ``shortest`` to ``longest``
        characters.

        A candidate whose band is narrower may be compared with an older story than
        these: that pair is scored when asked. Reaching further back would score
        every candidate against stories most of them never see."""
        low, high = length_band(shortest)[0], length_band(longest)[1]
        window_start, most = now - policy.story_window_s, policy.max_candidates
        found: list[str] = []
        for alert_id in reversed(self._by_rule.get(rule, {})):
            story = self._stories[alert_id]
            if story.first_seen <= window_start or len(found) >= most:
                break
            if low <= len(story.text) <= high:
                found.append(story.words)
        return found

    def _candidate_stories(self, candidate: Alert, now: float, policy: Policy) -> list[Story]:
        """The rule's newest ``max_candidates`` stories of the story window whose text
        length allows a match, and the candidate's own story within the repeat window."""
        shortest, longest = length_band(len(normalise(candidate.statement.text)))
        window_start = now - policy.story_window_s
        found: list[Story] = []
        stories, most = self._stories, policy.max_candidates
        for alert_id in reversed(self._by_rule.get(candidate.rule, {})):
            story = stories[alert_id]
            if story.first_seen <= window_start or len(found) >= most:
                break
            if shortest <= len(story.text) <= longest:
                found.append(story)
        own = self._stories.get(candidate.id)
        recent = own is not None and own.first_seen > now - policy.repeat_window_s
        if own is not None and recent and all(s is not own for s in found):
            found.append(own)
        found.reverse()
        return found

    def _newest_first(self, rule: str) -> Iterator[Story]:
        for alert_id in reversed(self._by_rule.get(rule, {})):
            yield self._stories[alert_id]

    def _emitted(self, rule: str, now: float, policy: Policy) -> None:
        window_start = now - policy.rate_limit_per_s
        kept = (*(t for t in self._emissions.get(rule, ()) if t > window_start), now)
        self._emissions[rule] = kept
        self._write(EMISSIONS_PREFIX + rule, encode(EmissionsEntry(rule, kept)))

    def group_and_record(
        self, article_id: str, linked: Sequence[str], alerts: Sequence[Alert],
        replayed: bool, now: float,
    ) -> GroupDecision:
        """Group one article's alerts into its story's notification and keep it.

        ``linked`` are the per-statement alert ids the article's hits belong to
        (published or not), which find the story (:func:`story_of`); ``alerts``
        are the ones published.
        """
        ids = list(dict.fromkeys(linked))
        notification_id = story_of(article_id, ids, self._members)
        entry = self._notifications.get(notification_id)
        decision = regroup(entry.notification if entry else None, notification_id, alerts,
                           replayed, now)
        if decision.action in ("new", "revise") and decision.notification is not None:
            notification = decision.notification
            members = {f.alert_id for s in notification.statements for f in s.rules} | set(ids)
            if entry is not None:
                members |= set(entry.members)
            self._put_notification(NotificationEntry(notification, now, tuple(sorted(members))))
        return decision

    # -- reads ----------------------------------------------------------------
    def notification(self, notification_id: str) -> StoryNotification | None:
        """The story's notification as last published, if known."""
        entry = self._notifications.get(notification_id)
        return entry.notification if entry else None

    def stories(self, rule: str, since: float) -> list[Story]:
        """The rule's stories first seen after ``since``, oldest first."""
        return [s for s in reversed(list(self._newest_first(rule))) if s.first_seen > since]

    def __len__(self) -> int:
        """How many entries the state holds (stories, rules' emissions, notifications)."""
        return len(self._stories) + len(self._emissions) + len(self._notifications)

    # -- upkeep ---------------------------------------------------------------
    def prune(self, before: float) -> None:
        """Forget stories first seen, emissions and notifications last updated before
        ``before`` (each removal is journalled)."""
        for story in [s for s in self._stories.values() if s.first_seen < before]:
            self._drop_story(story)
            self._write(STORY_PREFIX + story.alert.id, None)
        for rule, times in list(self._emissions.items()):
            kept = tuple(t for t in times if t >= before)
            if kept == times:
                continue
            if kept:
                self._emissions[rule] = kept
                self._write(EMISSIONS_PREFIX + rule, encode(EmissionsEntry(rule, kept)))
            else:
                del self._emissions[rule]
                self._write(EMISSIONS_PREFIX + rule, None)
        for entry in [e for e in self._notifications.values() if e.updated < before]:
            self._drop_notification(entry.notification.id)
            self._write(NOTIFICATION_PREFIX + entry.notification.id, None)

    def restore(self, records: Iterable[Record]) -> int:
        """Apply changelog records in order (the last record of a key wins, a
        tombstone removes it); returns how many were applied. Records that do not
        decode (another version) are skipped: like a lost entry, they cost at most a
        repeated notification."""
        applied = 0
        for record in records:
            if record.key is None:
                continue
            try:
                self._apply(record.key, None if record.tombstone else record.value)
            except DecodeError:
                continue
            applied += 1
        for rule, ids in self._by_rule.items():  # compaction reorders: oldest first again
            self._by_rule[rule] = dict.fromkeys(
                sorted(ids, key=lambda alert_id: self._stories[alert_id].first_seen))
        return applied

    def _apply(self, key: str, value: bytes | None) -> None:
        prefix, _, name = key.partition(":")
        if prefix + ":" == STORY_PREFIX:
            if value is None:
                if name in self._stories:
                    self._drop_story(self._stories[name])
                return
            entry = decode(value, StoryEntry)
            self._keep_story(Story(entry.alert, entry.text, entry.first_seen,
                                   frozenset(entry.article_ids)))
        elif prefix + ":" == EMISSIONS_PREFIX:
            if value is None:
                self._emissions.pop(name, None)
            else:
                self._emissions[name] = decode(value, EmissionsEntry).times
        elif prefix + ":" == NOTIFICATION_PREFIX:
            if value is None:
                self._drop_notification(name)
            else:
                self._keep_notification(decode(value, NotificationEntry))

    # -- keeping and journalling ------------------------------------------------
    def _put_story(self, story: Story) -> None:
        self._keep_story(story)
        entry = StoryEntry(story.alert, story.text, story.first_seen,
                           tuple(sorted(story.article_ids)))
        self._write(STORY_PREFIX + story.alert.id, encode(entry))

    def _keep_story(self, story: Story) -> None:
        alert_id = story.alert.id
        self._stories[alert_id] = story
        self._by_rule.setdefault(story.alert.rule, {})[alert_id] = None

    def _drop_story(self, story: Story) -> None:
        del self._stories[story.alert.id]
        ids = self._by_rule.get(story.alert.rule, {})
        ids.pop(story.alert.id, None)
        if not ids:
            self._by_rule.pop(story.alert.rule, None)

    def _put_notification(self, entry: NotificationEntry) -> None:
        self._keep_notification(entry)
        self._write(NOTIFICATION_PREFIX + entry.notification.id, encode(entry))

    def _keep_notification(self, entry: NotificationEntry) -> None:
        self._notifications[entry.notification.id] = entry
        for alert_id in entry.members:
            self._members[alert_id] = entry.notification.id

    def _drop_notification(self, notification_id: str) -> None:
        entry = self._notifications.pop(notification_id, None)
        if entry is None:
            return
        for alert_id in entry.members:
            if self._members.get(alert_id) == notification_id:
                del self._members[alert_id]

    def _write(self, key: str, value: bytes | None) -> None:
        if self._journal is not None:
            self._journal(key, value)
