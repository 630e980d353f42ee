"""Alert sink benchmark: rule evaluation with 1,000 rules, and webhook delivery rate.

Measured in one run, so the ratios hold on a noisy machine:

* baseline: the shipped ``config/rules.yaml`` on the same statements;
* 1,000 rules, plain: every rule's condition tree evaluated on every statement;
* 1,000 rules, indexed: the RE2 Set prefilter (:mod:`monitor.alerts.index`)
  picks the rules worth evaluating; the hits must equal the plain run's;
* delivery: alerts from the embedded bus to a local signed-webhook receiver
  (loopback HTTP, in this process), through the real DeliveryRole.

Usage::

    .venv/bin/python bench/bench_alerts.py [--rules 1000] [--statements 3000] [--alerts 500]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.alerts.matching import alert_id, evaluate  # noqa: E402
from monitor.alerts.role import DeliveryRole  # noqa: E402
from monitor.alerts.rules import RuleSet, load_rules, parse_rules  # noqa: E402
from monitor.alerts.settings import AlertSettings, ReceiverSettings  # noqa: E402
from monitor.bus.codec import encode  # noqa: E402
from monitor.bus.memory import MemoryBus  # noqa: E402
from monitor.clock import SystemClock, iso_utc  # noqa: E402
from monitor.config import Settings  # noqa: E402
from monitor.messages import Alert, ArticleRef, Span, Statement  # noqa: E402
from monitor.ops.metrics import Metrics  # noqa: E402
from monitor.roles import RoleContext  # noqa: E402

PLACES = ["Bolivia", "Georgia", "Moldova", "Serbia", "Kenya", "Peru", "Armenia", "Ecuador",
          "Russia", "China", "Iran", "Venezuela", "Belarus", "Hungary", "Niger", "Mali"]
WORDS = ["ballot", "vote", "count", "recount", "fraud", "observer", "protest", "sanction",
         "embassy", "minister", "parliament", "opposition", "coalition", "campaign",
         "interfere", "meddle", "influence", "propaganda", "hacker", "troll", "militia",
         "border", "referendum", "runoff", "turnout", "decree", "tribunal", "annul", "boycott",
         "curfew", "envoy", "summit", "treaty", "pipeline", "loan", "subsidy", "broadcast"]
ARTICLE = ArticleRef("bench", "https://bench.example/a", "Bench", "bench-feed")


def synthetic_rules(count: int, rng: random.Random) -> RuleSet:
    """``count`` rules of mixed shapes over a vocabulary of real and made-up words."""
    vocabulary = WORDS + [f"{w}{n}" for n in range(700) for w in ("term", "name", "group")]
    specs: list[dict[str, Any]] = []
    for n in range(count):
        words = rng.sample(vocabulary, 5)
        shape = n % 10
        when: dict[str, Any]
        if shape < 6:
            when = {"tags": [rng.choice(["election", "foreign_interference"])],
                    "keywords": words}
        elif shape < 8:
            when = {"any": [{"keywords": words[:3]},
                            {"regex": [rf"\b{words[3]}\w*\s+(?:of|in|on)\s+\w+"]}]}
        elif shape < 9:
            when = {"speakers": [rng.choice(["peskov", "zakharova", "miller"])],
                    "keywords": words[:2], "none": [{"keywords": [words[4]]}]}
        else:
            when = {"countries": rng.sample(PLACES, 2), "tags": ["election"]}
        specs.append({"name": f"rule-{n:04d}", "severity": "medium", "when": when})
    return parse_rules({"version": 1, "rules": specs}, "synthetic")


def synthetic_statements(count: int, rng: random.Random) -> list[Statement]:
    filler = ["report", "plan", "budget", "road", "school", "harvest", "festival", "bridge"]
    made = []
    for _ in range(count):
        place = rng.choice(PLACES)
        # Mostly ordinary words; now and then one a rule may be looking for.
        words = [rng.choice(WORDS) if rng.random() < 0.15 else
                 f"term{rng.randrange(700)}" if rng.random() < 0.05 else rng.choice(filler)
                 for _ in range(4)]
        text = (f"Officials in {place} said the {words[0]} and the {words[1]} of {words[2]} "
                f"would be reviewed after the {words[3]}, a spokesman told reporters on Monday.")
        start = text.index(place)
        made.append(Statement(
            text=text, start=0, end=len(text),
            tags=tuple(t for t in ("election", "foreign_interference") if rng.random() < 0.5),
            speaker=rng.choice(["Dmitry Peskov", "Maria Zakharova", None, None]),
            entities=(Span(place, start, start + len(place), "GPE"),),
        ))
    return made


def rate(ruleset: RuleSet, statements: list[Statement]) -> tuple[float, list[list[str]]]:
    evaluate(ruleset, statements[0], ARTICLE)  # warm caches
    started = time.perf_counter()
    hits = [[h.rule.name for h in evaluate(ruleset, s, ARTICLE)] for s in statements]
    return len(statements) / (time.perf_counter() - started), hits


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def delivery_rate(count: int) -> float:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(state_dir=Path(tmp), rules_file=REPO / "config" / "rules.yaml",
                            alerts=AlertSettings(receivers=(ReceiverSettings.model_validate(
                                {"name": "bench", "url": url, "secret": "bench-key"}),)))
        bus = MemoryBus()
        producer = bus.producer()
        for alert in synthetic_alerts(count):
            producer.send(settings.bus.topics.alerts, alert.id, encode(alert))
        role = DeliveryRole(RoleContext(settings, bus, Metrics(), SystemClock()))
        started = time.perf_counter()
        role.run_once(idle_s=0.05)
        elapsed = time.perf_counter() - started
        role.close()
    server.shutdown()
    return count / elapsed


def synthetic_alerts(count: int) -> list[Alert]:
    made = []
    for n in range(count):
        text = f"Statement number {n} about the disputed count and foreign meddling."
        made.append(Alert(id=alert_id("bench", text), rule="bench", severity="high",
                          statement=Statement(text, 0, len(text), ("election",)),
                          article=ARTICLE, matches=(), created_at=iso_utc(time.time())))
    return made


def timed(label: str, action: Callable[[], float]) -> float:
    value = action()
    print(f"{label:<44} {value:>12,.0f}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=3000)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    statements = synthetic_statements(args.statements, rng)
    shipped = load_rules(REPO / "config" / "rules.yaml")
    many = synthetic_rules(args.rules, rng)
    plain = RuleSet(many.rules, many.source, None)
    print(f"{len(statements)} statements; {len(shipped.rules)} shipped rules; "
          f"{len(many.rules)} synthetic rules")
    base, _ = rate(shipped, statements)
    print(f"{'baseline: shipped rules (statements/s)':<44} {base:>12,.0f}")
    plain_rate, plain_hits = rate(plain, statements)
    print(f"{f'{len(many.rules)} rules, plain (statements/s)':<44} {plain_rate:>12,.0f}")
    indexed_rate, indexed_hits = rate(many, statements)
    print(f"{f'{len(many.rules)} rules, indexed (statements/s)':<44} {indexed_rate:>12,.0f}")
    if plain_hits != indexed_hits:
        raise SystemExit("indexed evaluation disagrees with plain evaluation")
    total_hits = sum(len(h) for h in indexed_hits)
    print(f"{'rule hits (identical in both runs)':<44} {total_hits:>12,}")
    deliveries = timed("webhook deliveries/s (signed, loopback)",
                       lambda: delivery_rate(args.alerts))
    print(json.dumps({
        "statements": len(statements), "rules": len(many.rules),
        "baseline_statements_per_s": round(base), "plain_statements_per_s": round(plain_rate),
        "indexed_statements_per_s": round(indexed_rate), "hits": total_hits,
        "deliveries_per_s": round(deliveries), "alerts": args.alerts,
    }))


if __name__ == "__main__":
    main()
