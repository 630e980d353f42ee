"""The alerts a fault-free pipeline raises for a list of articles: the expected set.

Runs the real NLP and alert roles once, in this process, on the in-memory bus
with the same sink settings as the faulted run, and returns the alert ids
(deterministic: rule + statement fingerprint) they publish.
"""

from __future__ import annotations

from pathlib import Path

from monitor.alerts.deliverable import decode_deliverable
from monitor.bus.codec import encode
from monitor.bus.memory import MemoryBus
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.messages import Article
from tests.reliability.harness import SINK_SETTINGS
from tests.support import write_config


def expected_alert_ids(folder: Path, items: list[Article]) -> set[str]:
    config = write_config(folder, extra={"alerts": SINK_SETTINGS, "ops": {"http_enabled": False}})
    settings = load_settings(config, environ={})
    bus = MemoryBus()
    bus.ensure_topics(settings.bus.topics.all())
    producer = bus.producer()
    for article in items:
        producer.send(settings.bus.topics.articles, article.id, encode(article))
    daemon = Daemon(settings, ("nlp", "alerts"), bus=bus)
    try:
        daemon.run_once()
        return {decode_deliverable(r.value).id for r in bus.records_in(settings.bus.topics.alerts)}
    finally:
        daemon.close()
