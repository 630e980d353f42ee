"""Slack-compatible messages: feed text made inert and cut to Slack's limits.

Everything that comes from a feed (headline, statement, speaker, evidence,
matched words) or from configuration (rule, labels, source names) goes
through :func:`escape` before it is put into ``mrkdwn``:

* ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;``, the escaping
  Slack documents for message text, so ``<!channel>``, ``<@U123>`` or
  ``<https://evil.example|click>`` written by a feed arrive as visible text,
  not as a mention or a link;
* an ``@`` directly before a word gets an invisible word joiner (U+2060)
  after it, so ``@here``, ``@channel`` or ``@someone`` neither notify in
  Slack nor in the Slack-compatible chats (Mattermost, Rocket.Chat) that
  parse such plain mentions;
* every ``mrkdwn`` text object is sent with ``verbatim: true``, which turns
  off Slack's own link and mention detection in it.

The only markup the monitor writes itself is the link to the article,
``<url|headline>``, with a URL of its own making safe (http(s) only, the
characters that end or split a link percent-encoded).

Texts are then cut to Slack's limits, counted after escaping, ending in "…"
when cut (never in the middle of an ``&…;`` entity): a section's text 3,000
characters, a header's 150, each context element's 3,000 (a text object's
limit), and the top-level fallback ``text`` 4,000 (Slack's advice for
``text``; it truncates at 40,000 and may split a message before that).
"""

from __future__ import annotations

import json
import re

from monitor.alerts.deliverable import Deliverable
from monitor.messages import Alert, StoryNotification, StoryStatement

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
CONTEXT_TEXT_MAX = 3000
FALLBACK_TEXT_MAX = 4000
ELLIPSIS = "…"
WORD_JOINER = "\u2060"
#: The article's headline as link text is kept to this many characters.
LINK_LABEL_MAX = 300
#: A URL longer than this is not linked (the headline is shown alone).
URL_MAX = 2000
#: Statements of a story shown as blocks (2 each; Slack allows 50 blocks); the
#: rest are counted in a closing line.
STORY_STATEMENTS_MAX = 10

_MENTION = re.compile(r"@(?=\w)")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", "&": "&amp;"}


def escape(text: str) -> str:
    """``text`` with Slack's control characters escaped and @-mentions defused."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@" + WORD_JOINER, text)


def cap(text: str, limit: int) -> str:
    """``text`` (already escaped) in at most ``limit`` characters, "…" ending a cut one.

    A cut never leaves half an entity (``&am``) behind.
    """
    if len(text) <= limit:
        return text
    kept = _ENTITY_TAIL.sub("", text[: limit - len(ELLIPSIS)])
    return kept + ELLIPSIS


def link(url: str, label: str, limit: int) -> str:
    """A Slack link to ``url`` showing ``label`` (raw text), in at most ``limit``
    characters; the label alone when the URL is not http(s) or too long."""
    shown = cap(escape(label.strip() or url), min(LINK_LABEL_MAX, limit))
    if not url.startswith(("http://", "https://")) or len(url) > URL_MAX:
        return shown
    target = "".join(_URL_UNSAFE.get(ch, ch) for ch in url)
    made = f"<{target}|{shown}>"
    return made if len(made) <= limit else shown


def _mrkdwn(text: str) -> dict[str, object]:
    return {"type": "mrkdwn", "text": cap(text, CONTEXT_TEXT_MAX), "verbatim": True}


def slack_message(alert: Alert) -> dict[str, object]:
    """The incoming-webhook message for ``alert``: fallback ``text`` and Block Kit ``blocks``."""
    statement = alert.statement
    speaker = f"{escape(statement.speaker)}: " if statement.speaker else ""
    quoted = f"{speaker}“{escape(statement.text)}”"
    terms = ", ".join(sorted({escape(m.text) for m in alert.matches})) or "-"
    evidence = ", ".join(dict.fromkeys(escape(e.text) for e in statement.evidence))
    outlets = ", ".join(sorted({escape(s.feed_id) for s in alert.sources})) \
        or escape(alert.article.feed_id)
    tags = escape(", ".join(statement.tags)) or "-"
    title = f"[{alert.severity.upper()}] {alert.rule}"
    article = link(alert.article.url, alert.article.title, CONTEXT_TEXT_MAX)
    context = [
        _mrkdwn(article),
        _mrkdwn(f"matched: {terms}"),
        *([_mrkdwn(f"evidence: {evidence}")] if evidence else []),
        _mrkdwn(f"sources: {outlets}"),
        _mrkdwn(f"tags: {tags}"),
    ]
    blocks: list[dict[str, object]] = [
        # plain_text is shown as written: no markup, no mentions to defuse.
        {"type": "header", "text": {"type": "plain_text", "text": cap(title, HEADER_TEXT_MAX)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": cap(quoted, SECTION_TEXT_MAX),
                                     "verbatim": True}},
        {"type": "context", "elements": context},
    ]
    short_link = link(alert.article.url, alert.article.title, FALLBACK_TEXT_MAX // 2)
    lead = cap(f"{escape(title)}: {quoted}", FALLBACK_TEXT_MAX - len(short_link) - 1)
    return {"text": f"{lead} {short_link}", "blocks": blocks}


def story_message(story: StoryNotification) -> dict[str, object]:
    """The incoming-webhook message for a story: a header (severity, "update" and the
    revision for a later one, headline), per statement a section (speaker and text)
    and a context line (rules, matched words, evidence, tags), then the article link
    and sources. At most :data:`STORY_STATEMENTS_MAX` statements are shown."""
    update = f" update {story.revision}" if story.revision > 1 else ""
    title = f"[{story.severity.upper()}]{update} {story.article.title or story.article.url}"
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cap(title, HEADER_TEXT_MAX)}},
    ]
    for item in story.statements[:STORY_STATEMENTS_MAX]:
        blocks.extend(_statement_blocks(item))
    hidden = len(story.statements) - STORY_STATEMENTS_MAX
    outlets = ", ".join(sorted({escape(s.feed_id) for s in story.sources})) \
        or escape(story.article.feed_id)
    closing = [
        _mrkdwn(link(story.article.url, story.article.title, CONTEXT_TEXT_MAX)),
        _mrkdwn(f"sources: {outlets}"),
        _mrkdwn(f"rules: {escape(', '.join(story.rules))}"),
        *([_mrkdwn(f"and {hidden} more statements")] if hidden > 0 else []),
    ]
    blocks.append({"type": "context", "elements": closing})
    first = story.statements[0].statement.text if story.statements else ""
    short_link = link(story.article.url, story.article.title, FALLBACK_TEXT_MAX // 2)
    summary = f"{escape(title)}: {len(story.statements)} statements — “{escape(first)}”"
    lead = cap(summary, FALLBACK_TEXT_MAX - len(short_link) - 1)
    return {"text": f"{lead} {short_link}", "blocks": blocks}


def _statement_blocks(item: StoryStatement) -> list[dict[str, object]]:
    statement = item.statement
    speaker = f"*{escape(statement.speaker)}*: " if statement.speaker else ""
    quoted = f"{speaker}“{escape(statement.text)}”"
    terms = ", ".join(dict.fromkeys(escape(m.text) for f in item.rules for m in f.matches))
    evidence = ", ".join(dict.fromkeys(escape(e.text) for e in statement.evidence))
    rules = ", ".join(escape(f"{f.rule} ({f.severity})") for f in item.rules)
    details = [
        _mrkdwn(f"rules: {rules}"),
        _mrkdwn(f"matched: {terms or '-'}"),
        *([_mrkdwn(f"evidence: {evidence}")] if evidence else []),
        _mrkdwn(f"tags: {escape(', '.join(statement.tags)) or '-'}"),
    ]
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": cap(quoted, SECTION_TEXT_MAX),
                                     "verbatim": True}},
        {"type": "context", "elements": details},
    ]


def slack_body(item: Deliverable) -> bytes:
    """:func:`story_message` or :func:`slack_message` as UTF-8 JSON."""
    message = story_message(item) if isinstance(item, StoryNotification) \
        else slack_message(item)
    return json.dumps(message, ensure_ascii=False).encode("utf-8")
