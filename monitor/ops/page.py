"""The status page, rendered on the server as one self-contained HTML document.

Pure functions from a :class:`PageData` to text. Every value that comes from
outside (statements, titles, URLs, feed errors, the search query) goes
through :func:`html.escape`; links are only made for http(s) URLs. The page
needs no network: styles and the small refresh script are inline, and charts
are inline SVG. The script re-fetches ``/fragment`` (the live part) every few
seconds and swaps it in, keeping the query string, so a search stays applied
and a ``?token=`` keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from monitor.clock import iso_utc
from monitor.ops.history import RATE_SERIES, Point
from monitor.ops.readiness import Readiness
from monitor.ops.sources import AlertView, FeedHealthView, StatementView
from monitor.ops.watch import ReceiverHealth

REFRESH_MS = 5000
_CHART_W, _CHART_H = 200, 40


@dataclass(frozen=True, slots=True)
class RoleRow:
    name: str
    running: bool
    restarts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class PageData:
    """Everything one rendering of the page shows."""

    now: float
    started_at: float
    readiness: Readiness
    roles: Sequence[RoleRow]
    alerts: Sequence[AlertView]
    query: str
    feeds: Sequence[FeedHealthView]
    points: Sequence[Point]
    #: The ``?token=`` the page was opened with, kept in the search form.
    token: str | None = None
    #: Articles the NLP stage read, by language ("other": a language not tagged).
    languages: Mapping[str, float] = field(default_factory=dict)
    #: Delivery health per configured receiver, worst first.
    receivers: Sequence[ReceiverHealth] = ()


def render_page(data: PageData, nonce: str) -> str:
    """The whole document; ``nonce`` authorises the inline script under the CSP."""
    token_field = (
        f'<input type="hidden" name="token" value="{escape(data.token)}">' if data.token else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>News monitor status</title>
<style>{_CSS}</style></head>
<body>
<header><h1>News monitor</h1>
<form method="get" action="/" role="search">{token_field}
<input type="search" name="q" value="{escape(data.query)}" placeholder="Search alert history"
 aria-label="Search alert history"><button type="submit">Search</button></form></header>
<main id="live">{render_live(data)}</main>
<script nonce="{escape(nonce)}">{_SCRIPT}</script>
</body></html>
"""


def render_live(data: PageData, origin: str = "page") -> str:
    """The part of the page that refreshes itself.

    ``origin`` ("page" or "fragment") is written into the markup, so one can
    tell whether the live refresh has replaced the first rendering.
    """
    return "\n".join(
        (
            f'<span hidden id="origin" data-origin="{escape(origin)}"></span>',
            _summary(data),
            _charts(data.points),
            _alerts(data.alerts, data.query),
            _delivery(data.receivers),
            _feeds(data.feeds),
        )
    )


# -- sections -----------------------------------------------------------------
def _summary(data: PageData) -> str:
    verdict = "ready" if data.readiness.ready else "not ready"
    reasons = "".join(f"<li>{escape(r)}</li>" for r in data.readiness.reasons)
    roles = "".join(
        f'<li class="role {"up" if r.running else "down"}">{escape(r.name)}: '
        f"{'running' if r.running else 'down'}"
        + (f", {r.restarts} restarts" if r.restarts else "")
        + (f' <span class="err">{escape(r.last_error)}</span>' if r.last_error else "")
        + "</li>"
        for r in data.roles
    )
    uptime = _duration(data.now - data.started_at)
    return (
        f'<section id="summary"><p><span class="badge {verdict.replace(" ", "-")}">'
        f"{verdict}</span> up {uptime} · updated {escape(iso_utc(data.now))}</p>"
        f'<ul class="reasons">{reasons}</ul><ul class="roles">{roles}</ul>'
        f"{_languages(data.languages)}</section>"
    )


def _languages(counts: Mapping[str, float]) -> str:
    """Articles read by language; "other" (not tagged) said plainly."""
    if not counts:
        return ""
    parts = [
        f"{escape(code)} {_number(count)}" + (" (not tagged)" if code == "other" else "")
        for code, count in sorted(counts.items(), key=lambda item: (item[0] == "other", item[0]))
    ]
    return f'<p class="languages">Articles by language: {" · ".join(parts)}</p>'


def _alerts(alerts: Sequence[AlertView], query: str) -> str:
    heading = f"Alerts matching “{escape(query)}”" if query else "Recent alerts"
    if not alerts:
        empty = "No alert matches." if query else "No alerts yet."
        return f'<section id="alerts"><h2>{heading}</h2><p class="empty">{empty}</p></section>'
    items = "".join(_alert(a) for a in alerts)
    return f'<section id="alerts"><h2>{heading}</h2><ol class="alerts">{items}</ol></section>'


def _alert(alert: AlertView) -> str:
    """A story: its severity, rules, revision and source count, every statement
    with its speaker, rules and matched words, and the article."""
    title = escape(alert.article_title or alert.article_url)
    url = alert.article_url
    link = f'<a href="{escape(url)}">{title}</a>' if _is_web(url) else title
    tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in alert.tags)
    statements = alert.statements or (
        StatementView(alert.statement, alert.segments, alert.speaker, alert.tags, (), ()),)
    revision = f' <span class="rev">revision {alert.revision}</span>' if alert.revision > 1 else ""
    sources = f' <span class="sources">{alert.sources} sources</span>' if alert.sources > 1 else ""
    return (
        f'<li class="alert sev-{escape(alert.severity)}" data-alert-id="{escape(alert.id)}">'
        f'<div class="meta"><span class="sev">{escape(alert.severity)}</span> '
        f'<span class="rule">{escape(alert.rule)}</span> {tags} '
        f"<time>{escape(alert.created_at)}</time>{revision}{sources}</div>"
        + "".join(_statement(s) for s in statements)
        + f'<div class="source">{link} <span class="feed">{escape(alert.feed_id)}</span></div></li>'
    )


def _statement(view: StatementView) -> str:
    text = "".join(
        f'<mark class="{" ".join(sorted(seg.marks))}">{escape(seg.text)}</mark>'
        if seg.marks
        else escape(seg.text)
        for seg in view.segments
    )
    speaker = f' <span class="speaker">— {escape(view.speaker)}</span>' if view.speaker else ""
    rules = ", ".join(escape(r) for r in view.rules)
    matched = ", ".join(escape(m) for m in view.matched)
    detail = (f'<div class="fired"><span class="rules">{rules}</span>'
              f' · matched: <span class="matched">{matched}</span></div>') if rules else ""
    return f'<blockquote class="statement">{text}{speaker}</blockquote>{detail}'


def _delivery(receivers: Sequence[ReceiverHealth]) -> str:
    """One line per receiver: its state, deliveries, failures and dead letters."""
    if not receivers:
        return (
            '<section id="delivery"><h2>Delivery</h2>'
            '<p class="empty">No receivers configured.</p></section>'
        )
    rows = "".join(
        f'<tr class="receiver rcv-{escape(r.state.replace(" ", "-"))}"'
        f' data-receiver="{escape(r.name)}"><td><span class="state">{escape(r.state.upper())}'
        f"</span></td><td>{escape(r.name)}</td><td>{r.delivered}</td>"
        f"<td>{r.failed}" + (f" ({r.failing_in_a_row} in a row)" if r.failing_in_a_row else "")
        + f"</td><td>{r.deadlettered}</td></tr>"
        for r in receivers
    )
    return (
        '<section id="delivery"><h2>Delivery</h2><table><thead><tr><th>State</th>'
        "<th>Receiver</th><th>Delivered</th><th>Failed attempts</th><th>Dead letters</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _feed_error(feed: FeedHealthView) -> str:
    """The last error with its time while the feed is failing; nothing once it recovered."""
    if feed.failures == 0 or not feed.last_error:
        return '<td class="err"></td>'
    when = f"<time>{escape(feed.last_error_at)}</time> " if feed.last_error_at else ""
    return f'<td class="err">{when}{escape(feed.last_error)}</td>'


def _feeds(feeds: Sequence[FeedHealthView]) -> str:
    if not feeds:
        return (
            '<section id="feeds"><h2>Feeds</h2><p class="empty">No feeds configured.</p></section>'
        )
    counts: dict[str, int] = {}
    for feed in feeds:
        counts[feed.state] = counts.get(feed.state, 0) + 1
    summary = ", ".join(f"{n} {escape(state)}" for state, n in counts.items())
    rows = "".join(
        f'<tr class="feed feed-{escape(f.state)}" data-feed-id="{escape(f.feed_id)}">'
        f'<td><span class="state">{escape(f.state.upper())}</span></td>'
        f'<td title="{escape(f.feed_id)} · {escape(f.url)}">{escape(f.title or f.feed_id)}'
        f"</td><td>{f.failures}</td>"
        f'<td title="next poll {escape(f.next_poll or "not scheduled")}">'
        f"{escape(f.last_success or '—')}</td>{_feed_error(f)}</tr>"
        for f in feeds
    )
    return (
        f'<section id="feeds"><h2>Feeds <small>{summary}</small></h2><table>'
        "<thead><tr><th>State</th><th>Feed</th><th>Failures</th><th>Last success</th>"
        f"<th>Last error</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _charts(points: Sequence[Point]) -> str:
    series = {f"{name} /s": [p.rates[name] for p in points] for name in RATE_SERIES}
    series["consumer lag"] = [p.lag for p in points]
    figures = "".join(
        f"<figure><figcaption>{escape(label)}: <b>{_number(values[-1] if values else 0.0)}</b>"
        f" <small>peak {_number(max(values, default=0.0))}</small>"
        f"</figcaption>{sparkline(values)}</figure>"
        for label, values in series.items()
    )
    return (
        f'<section id="throughput"><h2>Last hour</h2><div class="charts">{figures}</div></section>'
    )


def sparkline(values: Sequence[float], width: int = _CHART_W, height: int = _CHART_H) -> str:
    """An inline SVG line of ``values`` scaled to the box (flat when all are equal)."""
    if len(values) < 2:
        return (
            f'<svg width="{width}" height="{height}" role="img" aria-label="no data yet">'
            f'<text x="4" y="{height // 2 + 4}" fill="#777" font-size="12">'
            "collecting samples…</text></svg>"
        )
    top = max(values) or 1.0
    step = width / (len(values) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="chart">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{coords}"/></svg>'
    )


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 100 or value == int(value) else f"{value:.2f}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5rem 2rem;color:#1d1d1f;background:#fafafa}
#live{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:0 1.5rem;align-items:start}
#summary,#throughput{grid-column:1/-1}
@media (max-width:960px){#live{display:block}}
header{display:flex;gap:2rem;align-items:center;flex-wrap:wrap}
header form input{width:22rem;padding:.3rem}
h2{font-size:1.1rem;margin:1.4rem 0 .4rem}
.badge{padding:.1rem .5rem;border-radius:.3rem;color:#fff;font-weight:600}
.badge.ready{background:#23863a}.badge.not-ready{background:#b42318}
.roles,.reasons{list-style:none;padding:0;margin:.2rem 0}.roles li{display:inline;margin-right:1rem}
.role.down{color:#b42318;font-weight:600}.err{color:#b42318}
ol.alerts{list-style:none;padding:0}
li.alert{background:#fff;border:1px solid #ddd;border-left:4px solid #888;margin:.4rem 0;
padding:.5rem}
li.sev-critical{border-left-color:#b42318}li.sev-high{border-left-color:#d9480f}
li.sev-warning,li.sev-medium{border-left-color:#e8a317}
.meta{color:#555}.sev{font-weight:700;text-transform:uppercase}.rule{font-weight:600}
.tag{background:#eef;border-radius:.2rem;padding:0 .3rem;margin-right:.2rem}
blockquote.statement{margin:.3rem 0;font-size:1.05rem}
mark.match{background:#ffd54f;font-weight:600}mark.evidence{background:#b3e5fc}
mark.evidence.match{background:#c5e1a5}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left}td.err{word-break:break-word}
tr.feed-broken{background:#fdecea}tr.feed-broken .state{color:#b42318;font-weight:700}
tr.feed-degraded .state{color:#d9480f;font-weight:600}tr.feed-ok .state{color:#23863a}
tr.rcv-breaker-open{background:#fdecea}tr.rcv-breaker-open .state{color:#b42318;font-weight:700}
tr.rcv-retrying .state,tr.rcv-dead-letters-waiting .state{color:#d9480f;font-weight:600}
tr.rcv-ok .state{color:#23863a}td.err time{color:#555;margin-right:.3rem}
.charts{display:flex;flex-wrap:wrap;gap:.6rem}figure{margin:0;background:#fff;padding:.4rem;
border:1px solid #ddd}svg{color:#2563eb;display:block}.empty{color:#777}
"""

_SCRIPT = (
    "(function(){var live=document.getElementById('live');"
    "function tick(){fetch('/fragment'+location.search,{credentials:'same-origin'})"
    ".then(function(r){if(r.ok){return r.text();}throw new Error(r.status);})"
    ".then(function(html){live.innerHTML=html;}).catch(function(){})"
    f".finally(function(){{setTimeout(tick,{REFRESH_MS});}});}}"
    f"setTimeout(tick,{REFRESH_MS});}})();"
)
