"""One alert per story: the pure decision."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from monitor.alerts.matching import alert_id, normalise
from monitor.alerts.story import (
    Policy,
    Silence,
    Story,
    decide,
    find_story,
    negations,
    same_claim,
    similarity,
    word_set,
)
from monitor.messages import Alert, ArticleRef, Source, Statement

POLICY = Policy(story_window_s=3600, similarity=88, repeat_window_s=86400,
                rate_limit_count=2, rate_limit_per_s=600)
NOW = 1_800_000_000.0
TEXT = "Peskov said the opposition must accept its defeat in the presidential election."


def candidate(
    text: str = TEXT, article: str = "a1", feed: str = "f1", rule: str = "r",
    speaker: str | None = None,
) -> Alert:
    url = f"http://127.0.0.1/{article}"
    return Alert(
        id=alert_id(rule, text), rule=rule, severity="high",
        statement=Statement(text, 0, len(text), speaker=speaker),
        article=ArticleRef(article, url, "T", feed), matches=(), created_at="",
        labels={"topic": "election"}, sources=(Source(feed, "", url),),
    )


def story_of(alert: Alert, first_seen: float = NOW - 60) -> Story:
    return Story(alert, normalise(alert.statement.text), first_seen,
                 frozenset({alert.article.id}))


def test_new_story_is_emitted_and_recorded() -> None:
    decision = decide(candidate(), [], [], [], NOW, POLICY)
    assert decision.action == "emit"
    assert decision.story is not None and decision.story.first_seen == NOW


def test_syndicated_copy_with_small_differences_updates_the_same_alert() -> None:
    first = candidate()
    copy = candidate(TEXT.replace("Peskov said", "Kremlin spokesman Peskov said").rstrip("."),
                     article="a2", feed="f2")
    assert copy.id != first.id
    decision = decide(copy, [story_of(first)], [NOW - 60], [], NOW, POLICY)
    assert decision.action == "update"
    assert decision.alert is not None and decision.alert.id == first.id
    assert [s.feed_id for s in decision.alert.sources] == ["f1", "f2"]


def test_same_article_again_is_replayed_unchanged() -> None:
    first = candidate()
    decision = decide(first, [story_of(first)], [NOW - 60], [], NOW, POLICY)
    assert decision.action == "replay" and decision.alert == first


def test_same_article_with_a_new_source_updates_the_alert() -> None:
    """The poller publishes an article again when another feed carries it too."""
    first = candidate()
    later_feed = Source("f2", "http://127.0.0.1/f2.xml", "http://127.0.0.1/f2/a1")
    again = dataclasses.replace(first, sources=(*first.sources, later_feed))
    story = story_of(first, first_seen=NOW - 7200)  # even after the story window
    silence = Silence("s1", NOW - 10, NOW + 10, rule="r")  # like a replay, not held back
    decision = decide(again, [story], [NOW - 60], [silence], NOW, POLICY)
    assert decision.action == "update"
    assert decision.alert is not None and decision.alert.id == first.id
    assert decision.alert.sources == (*first.sources, later_feed)
    assert decision.alert.article == first.article
    assert decision.story is not None and decision.story.alert == decision.alert
    assert decision.story.article_ids == story.article_ids
    # Read again with no source the alert lacks (a restart re-reading either
    # record): a replay of the updated alert.
    for known in (again, first):
        replayed = decide(known, [decision.story], [NOW - 60], [], NOW, POLICY)
        assert replayed.action == "replay" and replayed.alert == decision.alert
        assert replayed.story is None


def test_same_source_again_is_a_duplicate_and_old_story_a_repeat() -> None:
    first = candidate()
    again = candidate(article="a3")  # same feed and entry URL as the story already has
    again = dataclasses.replace(again, sources=first.sources)
    assert decide(again, [story_of(first)], [], [], NOW, POLICY).reason == "duplicate"
    old = story_of(first, first_seen=NOW - 7200)
    assert decide(candidate(article="a4", feed="f9"), [old], [], [], NOW, POLICY).reason == (
        "repeat")


def test_different_statement_is_a_new_story() -> None:
    other = candidate("Officials in Brussels condemned the arrests of observers.", article="b")
    assert decide(other, [story_of(candidate())], [], [], NOW, POLICY).action == "emit"


def test_rate_limit_counts_recent_emissions_only() -> None:
    c = candidate()
    assert decide(c, [], [NOW - 10, NOW - 20], [], NOW, POLICY).reason == "rate_limited"
    assert decide(c, [], [NOW - 700, NOW - 20], [], NOW, POLICY).action == "emit"


def test_silences_by_rule_or_label_are_time_bounded() -> None:
    c = candidate()
    by_rule = Silence("s1", NOW - 10, NOW + 10, rule="r")
    by_label = Silence("s2", NOW - 10, NOW + 10, labels=(("topic", "election"),))
    other_label = Silence("s3", NOW - 10, NOW + 10, labels=(("topic", "sport"),))
    expired = Silence("s4", NOW - 100, NOW - 10, rule="r")
    assert decide(c, [], [], [by_rule], NOW, POLICY).reason == "silenced"
    assert decide(c, [], [], [by_label], NOW, POLICY).reason == "silenced"
    assert decide(c, [], [], [other_label, expired], NOW, POLICY).action == "emit"


def test_alert_id_is_stable_across_punctuation_and_case() -> None:
    assert alert_id("r", "Peskov: “Accept defeat!”") == alert_id("r", "peskov accept defeat")
    assert alert_id("r", TEXT) != alert_id("other", TEXT)


def second_of(
    first_text: str, second_text: str, first_speaker: str | None = None,
    second_speaker: str | None = None,
) -> str:
    """The action for ``second_text`` from another outlet after ``first_text`` was alerted."""
    first = candidate(first_text, speaker=first_speaker)
    second = candidate(second_text, article="a2", feed="f2", speaker=second_speaker)
    # The pair looks alike to the token-set score; only the claim check tells them apart.
    assert similarity(normalise(first_text), normalise(second_text)) >= POLICY.similarity
    action = decide(second, [story_of(first)], [NOW - 60], [], NOW, POLICY).action
    assert action in ("emit", "update")
    return action


def test_a_negated_statement_is_a_new_story() -> None:
    assert second_of("The opposition must accept its defeat.",
                     "The opposition must not accept its defeat.") == "emit"
    assert second_of("The opposition will accept its defeat.",
                     "The opposition won\u2019t accept its defeat.") == "emit"


def test_swapped_roles_are_a_new_story() -> None:
    assert second_of("Russia says the opposition must accept defeat.",
                     "The opposition says Russia must never accept defeat.") == "emit"
    # Even with no negation to tell them apart, the order of the words does.
    assert second_of("Russia says the opposition must accept defeat.",
                     "The opposition says Russia must accept defeat.") == "emit"


def test_the_same_words_from_another_speaker_are_a_new_story() -> None:
    peskov = "Peskov said the opposition must accept its defeat in the presidential election."
    lavrov = peskov.replace("Peskov", "Lavrov")
    assert second_of(peskov, lavrov, "Peskov", "Lavrov") == "emit"
    # Outlets name one speaker differently; an unknown speaker does not split a story.
    assert second_of(peskov, "Kremlin spokesman " + peskov, "Peskov",
                     "Kremlin spokesman Dmitry Peskov") == "update"
    assert second_of(peskov, peskov.rstrip(".") + " - agencies.", None, "Peskov") == "update"
    # A phrase moved by an editor is not a change of roles.
    assert second_of(peskov.replace("said", "said on Tuesday"), "On Tuesday, " + peskov,
                     "Peskov", "Peskov") == "update"


def test_contracted_and_spelled_out_negations_count_the_same() -> None:
    assert negations("They mustn\u2019t and cannot accept it") == negations(
        "They must not and can not accept it")
    assert negations("Neither side, nor its allies, will accept it") == {"neither": 1, "nor": 1}
    assert not negations("Notably, the nonpartisan observers knew the count")


def _one_by_one(candidate: Alert, text: str, stories: list[Story], policy: Policy
                ) -> Story | None:
    """The story look-up written as the plain loop it is meant to equal."""
    best, best_score = None, 0.0
    for story in stories:
        if story.alert.id == candidate.id and story.first_seen > NOW - policy.repeat_window_s:
            return story
        if story.first_seen <= NOW - policy.story_window_s:
            continue
        score = similarity(text, story.text)
        if (score >= policy.similarity and score > best_score
                and same_claim(candidate.statement, story.alert.statement)):
            best, best_score = story, score
    return best


WORDS = ["the", "vote", "was", "not", "fair", "Peskov", "said", "opposition", "must",
         "accept", "defeat", "Maduro", "never", "won", "observers", "count"]


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=9), min_size=1,
                   max_size=12),
    ages=st.lists(st.integers(0, 7200), min_size=12, max_size=12),
    threshold=st.sampled_from([0, 60, 88, 100]),
)
def test_the_story_look_up_equals_a_plain_loop_over_similarity(
    texts: list[list[str]], ages: list[int], threshold: int
) -> None:
    policy = dataclasses.replace(POLICY, similarity=threshold)
    stories = [story_of(candidate(" ".join(words), article=f"a{n}"), NOW - ages[n])
               for n, words in enumerate(texts[1:])]
    probe = candidate(" ".join(texts[0]), article="probe")
    text = normalise(probe.statement.text)
    assert find_story(probe, text, stories, NOW, policy) is _one_by_one(
        probe, text, stories, policy)


#: Letters of two scripts, repeated short words, spaces, tabs and punctuation.
WORD_CHARS = "ab cé\tДд.,'"


@settings(max_examples=500, deadline=None)
@given(a=st.text(alphabet=WORD_CHARS, max_size=40), b=st.text(alphabet=WORD_CHARS, max_size=40))
def test_token_set_similarity_of_the_word_sets_equals_that_of_the_texts(a: str, b: str) -> None:
    """What find_story scores (the sorted distinct words) gives the texts' own score."""
    left, right = normalise(a), normalise(b)
    assert fuzz.token_set_ratio(word_set(left), word_set(right)) == fuzz.token_set_ratio(
        left, right)


def test_a_story_knows_its_word_set_and_keeps_it_through_a_merge() -> None:
    story = story_of(candidate("the vote the count was not fair"))
    assert story.words == "count fair not the vote was"
    merged = dataclasses.replace(story, article_ids=frozenset({"a1", "a2"}))
    assert merged.words == story.words
