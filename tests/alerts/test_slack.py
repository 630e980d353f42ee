"""Slack messages: feed text arrives inert and within Slack's limits.

Blocks are checked with the Slack SDK's own Block Kit models, and a stand-in
for Slack on loopback refuses what those models refuse, as Slack answers 400
to an invalid block.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from monitor.alerts.grouping import regroup, story_id
from monitor.alerts.role import DeliveryRole
from monitor.alerts.settings import ReceiverSettings
from monitor.alerts.slack import (
    CONTEXT_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    HEADER_TEXT_MAX,
    SECTION_TEXT_MAX,
    STORY_STATEMENTS_MAX,
    WORD_JOINER,
    cap,
    escape,
    link,
    slack_body,
)
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.clock import SystemClock
from monitor.messages import Alert, Evidence, Match, Source, StoryNotification
from monitor.ops.metrics import Metrics
from monitor.roles import RoleContext
from tests.alerts.helpers import Receiver, Seen, settings_for
from tests.alerts.test_delivery import alerts_from_fixture

HOSTILE = "Vote rigged <!channel> see <https://evil.example|x> & <@U024BE7LH> @here"


def hostile_alert() -> Alert:
    """An alert whose every piece of feed text tries a mention or a link."""
    alert = alerts_from_fixture(2)[1]
    statement = dataclasses.replace(
        alert.statement,
        text=f"“{HOSTILE}”, said the minister <!everyone>.",
        speaker="<!subteam^S123|ops> Minister",
        evidence=(Evidence("election", "<!here> rigged", 0, 5),),
    )
    article = dataclasses.replace(alert.article, title=f"Headline {HOSTILE}")
    return dataclasses.replace(
        alert, statement=statement, article=article,
        matches=(Match("rigged", "rigged <#C123>", 0, 6),),
        sources=(Source(feed_id="feed <!channel>", feed_url="http://127.0.0.1/f.xml",
                        entry_url=alert.article.url),),
    )


def long_alert(length: int = 10_000) -> Alert:
    alert = alerts_from_fixture(1)[0]
    words = ("The election commission said the vote <was> rigged & void. " * 400)[:length]
    statement = dataclasses.replace(alert.statement, text=words)
    article = dataclasses.replace(alert.article, title="Long & <long> " * 50)
    return dataclasses.replace(alert, statement=statement, article=article)


def texts(message: dict[str, Any]) -> Iterator[str]:
    """Every text the message carries: the fallback and each block's."""
    yield message["text"]
    for block in message["blocks"]:
        if "text" in block:
            yield block["text"]["text"]
        for element in block.get("elements", ()):
            yield element["text"]


def slack_check(payload: dict[str, Any]) -> list[str]:
    """What Slack would refuse in ``payload``, by the SDK's Block Kit models."""
    problems = []
    if not isinstance(payload.get("text"), str) or len(payload["text"]) > FALLBACK_TEXT_MAX:
        problems.append("text")
    for block in payload.get("blocks", ()):
        # The SDK leaves a context element's length to Slack: a text object's 3,000.
        problems.extend(f"context element over {CONTEXT_TEXT_MAX}"
                        for element in block.get("elements", ())
                        if len(element.get("text", "")) > CONTEXT_TEXT_MAX)
        try:
            parsed = Block.parse(block)
            assert parsed is not None, block
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            problems.append(str(exc))
    return problems


def test_escape_and_cap_count_after_escaping() -> None:
    assert escape("a & b <c> @here @ x") == f"a &amp; b &lt;c&gt; @{WORD_JOINER}here @ x"
    assert cap("abc", 3) == "abc"
    assert cap("abcdef", 4) == "abc…"
    # A cut never leaves half an entity behind.
    assert cap(escape("ab<<<"), 6) == "ab…"
    assert cap(escape("a&b"), 4) == "a…"
    assert cap(escape("a&b"), 7) == "a&amp;b"


def test_links_are_made_only_by_the_monitor_and_only_to_web_addresses() -> None:
    assert link("https://x.example/a?b=1&c=2|3", "T <b>", 100) == \
        "<https://x.example/a?b=1&amp;c=2%7C3|T &lt;b&gt;>"
    assert link("javascript:alert(1)", "T", 100) == "T"
    assert link("https://x.example/" + "a" * 200, "T", 50) == "T"


def test_feed_text_arrives_as_inert_text() -> None:
    message = json.loads(slack_body(hostile_alert()))
    found = list(texts(message))
    for text in found:
        # No mention, channel link, user group or foreign link survives.
        assert not re.search(r"<[!@#]", text), text
        assert "<https://evil" not in text
        assert not re.search(r"@(here|channel|everyone)", text), text
    joined = "\n".join(found)
    assert "&lt;!channel&gt;" in joined
    assert "&lt;https://evil.example|x&gt;" in joined
    assert f"&lt;@{WORD_JOINER}U024BE7LH&gt;" in joined and "&lt;!everyone&gt;" in joined
    assert "&lt;!subteam^S123|ops&gt; Minister" in joined
    assert "&lt;!here&gt; rigged" in joined  # the evidence
    assert "&lt;#C123&gt;" in joined  # the matched words
    assert "feed &lt;!channel&gt;" in joined  # the sources
    # The one link is the monitor's own, to the article.
    links = re.findall(r"<([^>|]*)\|", message["text"])
    assert links == [hostile_alert().article.url]
    # Slack's own mention and link detection is off in every mrkdwn text.
    for block in message["blocks"]:
        for obj in [block.get("text"), *block.get("elements", ())]:
            if obj and obj["type"] == "mrkdwn":
                assert obj["verbatim"] is True
    assert slack_check(message) == []


@pytest.mark.parametrize("make", [
    pytest.param(lambda: alerts_from_fixture(1)[0], id="ordinary"),
    pytest.param(hostile_alert, id="hostile"),
    pytest.param(long_alert, id="10k-statement"),
    pytest.param(lambda: long_alert(2990), id="just-under-after-escaping-not-before"),
])
def test_every_block_passes_the_slack_sdk_models(make: Any) -> None:
    message = json.loads(slack_body(make()))
    assert slack_check(message) == []
    assert len(message["text"]) <= FALLBACK_TEXT_MAX


def test_a_long_statement_is_cut_with_an_ellipsis_after_escaping() -> None:
    alert = long_alert()
    message = json.loads(slack_body(alert))
    header, section, _context = message["blocks"]
    assert len(section["text"]["text"]) == SECTION_TEXT_MAX
    assert section["text"]["text"].endswith("…")
    assert not re.search(r"&[a-z]*…$", section["text"]["text"])
    assert len(header["text"]["text"]) <= HEADER_TEXT_MAX
    assert message["text"].endswith(">")  # the article link is kept whole
    assert len(message["text"]) <= FALLBACK_TEXT_MAX
    assert "…" in message["text"]
    # Escaping may lengthen a text past the limit: 2,990 characters before,
    # more than 3,000 after, so it is cut too.
    near = json.loads(slack_body(long_alert(2990)))["blocks"][1]["text"]["text"]
    assert len(near) == SECTION_TEXT_MAX and near.endswith("…")
    short = json.loads(slack_body(alerts_from_fixture(1)[0]))["blocks"][1]["text"]["text"]
    assert not short.endswith("…")


def slack_like(n: int, seen: Seen) -> tuple[int, dict[str, str], float]:
    """Answer as Slack's incoming webhook does: 400 to an invalid message."""
    try:
        payload = json.loads(seen.body)
    except ValueError:
        return 400, {}, 0.0
    return (400 if slack_check(payload) else 200), {}, 0.0


@pytest.fixture
def slack_server() -> Iterator[Receiver]:
    server = Receiver(slack_like).start()
    yield server
    server.stop()


def test_a_10000_character_statement_is_delivered_shortened_not_dead_lettered(
    tmp_path: Path, slack_server: Receiver
) -> None:
    receiver = ReceiverSettings.model_validate(
        {"name": "desk-chat", "kind": "slack", "url": slack_server.url})
    settings = settings_for(tmp_path, [receiver])
    bus, metrics = MemoryBus(), Metrics()
    alerts = [long_alert(), hostile_alert()]
    producer = bus.producer()
    for alert in alerts:
        producer.send(settings.bus.topics.alerts, alert.id, encode(alert))

    role = DeliveryRole(RoleContext(settings, bus, metrics, SystemClock()))
    role.run_once(idle_s=0.3)
    role.close()

    assert [seen.status for seen in slack_server.requests] == [200, 200]
    assert not bus.records_in(settings.bus.topics.alerts_deadletter)
    delivered = metrics.registry.get_sample_value(
        "monitor_deliveries_total", {"receiver": "desk-chat", "outcome": "delivered"})
    assert delivered == 2
    by_key = {seen.headers["Idempotency-Key"]: json.loads(seen.body)
              for seen in slack_server.requests}
    section = by_key[alerts[0].id]["blocks"][1]["text"]["text"]
    assert section.endswith("…") and len(section) == SECTION_TEXT_MAX
    assert "&lt;!channel&gt;" in by_key[alerts[1].id]["text"]


def story_of(alerts: list[Alert], revision: int = 1) -> StoryNotification:
    made = regroup(None, story_id(alerts[0].article.id), alerts, False, 1_700_000_000.0)
    assert made.notification is not None
    return dataclasses.replace(made.notification, revision=revision)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: story_of(alerts_from_fixture(1)), id="ordinary"),
    pytest.param(lambda: story_of([hostile_alert(), long_alert()], revision=3), id="hostile-long"),
    pytest.param(lambda: story_of([
        dataclasses.replace(long_alert(3500), statement=dataclasses.replace(
            long_alert(3500).statement, text=f"Statement {n}: " + "vote & <rigged> " * 250))
        for n in range(30)]), id="30-long-statements"),
])
def test_a_story_passes_the_slack_sdk_models_within_block_kit_limits(make: Any) -> None:
    story = make()
    message = json.loads(slack_body(story))
    assert slack_check(message) == []
    assert len(message["blocks"]) <= 50  # Block Kit's limit per message
    assert len(message["text"]) <= FALLBACK_TEXT_MAX
    shown = min(len(story.statements), STORY_STATEMENTS_MAX)
    assert len(message["blocks"]) == 1 + 2 * shown + 1
    if len(story.statements) > STORY_STATEMENTS_MAX:
        hidden = len(story.statements) - STORY_STATEMENTS_MAX
        assert f"and {hidden} more statements" in message["blocks"][-1]["elements"][-1]["text"]


def test_a_story_shows_speakers_rules_and_matched_words_inert() -> None:
    story = story_of([*alerts_from_fixture(1), hostile_alert()], revision=2)
    message = json.loads(slack_body(story))
    header = message["blocks"][0]["text"]["text"]
    assert header.startswith(f"[{story.severity.upper()}] update 2 ")
    joined = "\n".join(texts(message))
    for text in texts(message):
        assert not re.search(r"<[!@#]", text), text
        assert not re.search(r"@(here|channel|everyone)", text), text
    assert "&lt;!subteam^S123|ops&gt; Minister" in joined
    assert "matched: " in joined and "&lt;#C123&gt;" in joined
    for item in story.statements:
        if item.statement.speaker and "<" not in item.statement.speaker:
            assert item.statement.speaker in joined
        for fired in item.rules:
            assert fired.rule in joined


def test_a_story_with_a_hostile_headline_and_a_10000_character_statement_is_delivered(
    tmp_path: Path, slack_server: Receiver
) -> None:
    """What the sink sends by default (a story notification) reaches a real Slack-like
    receiver escaped and shortened, not dead-lettered (issue 13's "Done when")."""
    receiver = ReceiverSettings.model_validate(
        {"name": "desk-chat", "kind": "slack", "url": slack_server.url})
    settings = settings_for(tmp_path, [receiver])
    bus, metrics = MemoryBus(), Metrics()
    story = story_of([hostile_alert(), long_alert()])
    bus.producer().send(settings.bus.topics.alerts, story.id, encode(story))

    role = DeliveryRole(RoleContext(settings, bus, metrics, SystemClock()))
    role.run_once(idle_s=0.3)
    role.close()

    assert [seen.status for seen in slack_server.requests] == [200]
    assert not bus.records_in(settings.bus.topics.alerts_deadletter)
    message = json.loads(slack_server.requests[0].body)
    header, *blocks = message["blocks"]
    # The header is plain_text, which Slack shows as written (no mentions, no links);
    # every mrkdwn text and the fallback text are escaped.
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    found = list(texts({"text": message["text"], "blocks": blocks}))
    for text in found:
        assert not re.search(r"<[!@#]", text), text
        assert "<https://evil" not in text
    joined = "\n".join(found)
    assert "Headline Vote rigged &lt;!channel&gt; see &lt;https://evil.example|x&gt;" in joined
    assert any(text.endswith("…") for text in found)  # the 10,000 characters, cut
    assert max(len(text) for text in found) <= SECTION_TEXT_MAX
    assert metrics.registry.get_sample_value(
        "monitor_deliveries_total", {"receiver": "desk-chat", "outcome": "delivered"}) == 1
