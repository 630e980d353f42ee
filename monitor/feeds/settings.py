"""Poller settings and the feed list (``config/feeds.yaml``).

Initial version by the lead; owned and extended by the feeds package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

#: Query parameters that only track the reader; dropped from canonical URLs.
DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid",
    "_hsenc", "_hsmi", "mkt_tok", "yclid", "ref_src", "cmpid", "ito", "at_medium",
    "at_campaign", "ocid", "smid", "rss", "ncid", "sr_share", "wt_mc", "xtor",
)


#: Feed-parsing worker processes; parsing is rare next to fetching (most polls are 304s).
PARSE_WORKERS = 2
#: Seconds one parse may take in a worker; a 10 MB feed of 100,000 tiny items
#: costs feedparser 20-30 s (docs/benchmarks.md, the hostile-feed phase).
PARSE_TIME_LIMIT_S = 5.0


class PollerSettings(BaseModel):
    """How the poller fetches and schedules (the ``poller:`` config section)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_agent: str = "news-monitor/0.1 (+https://example.invalid/monitor)"
    #: Bounds of the interval learned from each feed's rhythm.
    min_interval_s: float = Field(default=60.0, gt=0)
    max_interval_s: float = Field(default=3600.0, gt=0)
    #: Interval for a feed whose rhythm is not known yet.
    default_interval_s: float = Field(default=900.0, gt=0)
    #: Random spread added to each interval (fraction), so polls do not bunch up.
    interval_jitter: float = Field(default=0.1, ge=0, le=0.5)
    #: Error backoff: first ceiling and cap (never gives up).
    backoff_base_s: float = Field(default=60.0, gt=0)
    backoff_cap_s: float = Field(default=24 * 3600.0, gt=0)
    #: Consecutive failures after which a feed counts as broken.
    broken_after_failures: int = Field(default=5, ge=1)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=15.0, gt=0)
    total_timeout_s: float = Field(default=30.0, gt=0)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=10)
    max_entries_per_feed: int = Field(default=500, ge=1)
    #: Tests serve feeds on loopback; production refuses private addresses.
    allow_private_addresses: bool = False
    #: Host names exempt from the private-address guard (an internal feed server).
    allowed_private_hosts: tuple[str, ...] = ()
    #: Feeds polled at the same time by one poller process.
    concurrency: int = Field(default=16, ge=1)
    #: Requests in flight to one host, and the pause between them (politeness).
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_delay_s: float = Field(default=0.5, ge=0)
    #: "kafka": pollers share the feed list through the compacted feeds topic
    #: and a consumer group (needs the Kafka bus); "none": poll every configured feed.
    sharing: Literal["none", "kafka"] = "none"
    #: Fetch the article page when an entry carries only a summary.
    fetch_pages: bool = True
    #: Per-site boilerplate rules, relative to the config directory.
    sites_file: Path = Path("sites.yaml")
    tracking_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS
    #: Strip a leading ``www.`` when canonicalising article URLs.
    strip_www: bool = True
    #: Worker processes that parse bodies over 64 KiB (monitor/feeds/parsepool.py);
    #: one hostile feed occupies at most one of them for ``parse_time_limit_s``.
    parse_workers: int = Field(default=PARSE_WORKERS, ge=1, le=32)
    #: Seconds one parse may take in a worker before it is abandoned, its worker
    #: replaced and the feed reported broken (reason ``parse_timeout``).
    parse_time_limit_s: float = Field(default=PARSE_TIME_LIMIT_S, gt=0, le=300)
    #: Days a published article is remembered by the publisher stage (first
    #: publication to pruning): a feed carrying it later is a revision until then,
    #: a new article after. Feeds drop items long before; 30 days as the statement
    #: history keeps its articles.
    seen_retention_days: float = Field(default=30.0, gt=0, le=3650)


class FeedConfig(BaseModel):
    """One feed to poll."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    url: HttpUrl
    title: str = ""
    #: A fixed interval for this feed; overrides the learned one.
    interval_s: float | None = Field(default=None, gt=0)


class FeedList(BaseModel):
    """The whole ``feeds.yaml`` document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feeds: tuple[FeedConfig, ...] = ()
