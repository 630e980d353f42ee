"""A real Prometheus (Debian's package) scrapes a running daemon, and every PromQL
expression shipped in the Grafana dashboard and the alerting rules returns data.

Expressions are read from the shipped files, so a new panel or rule is
covered without touching this test. An alerting rule is a condition that is
normally false, so each of its operands (split at top-level comparisons and
``and``/``or``/``unless``; the argument of ``absent()``) must return data, and
Prometheus must report the rule as evaluated without error. When each rule
fires is tested by ``promtool test rules`` (``tests/ops/test_promtool.py``).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitor.demo import WebhookReceiver, serving
from tests.ops.loopback import FeedSite, Item, interference_items
from tests.support import REPO_ROOT, MonitorProcess, free_port, write_config

PROMETHEUS = Path("/usr/bin/prometheus")
DASHBOARDS = REPO_ROOT / "config" / "grafana" / "dashboards"
ALERT_RULES = REPO_ROOT / "config" / "prometheus" / "alerts.yml"
DELIVERY_COUNT = 'monitor_delivery_seconds_count{receiver="hook0"}'
#: Splits an expression at top-level comparison and set operators (with their
#: ``on``/``ignoring`` and ``group_left``/``group_right`` modifiers).
_OPERATORS = re.compile(
    r"\s(?:==|!=|>=|<=|>|<|and|or|unless)\s+"
    r"(?:(?:on|ignoring)\s*\([^)]*\)\s*)?(?:group_(?:left|right)\s*(?:\([^)]*\))?\s*)?"
)


def dashboard_exprs() -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(DASHBOARDS.glob("*.json")):
        walk(json.loads(path.read_text()))
    return [expand_grafana_variables(expr) for expr in found]


#: What Grafana puts for the dashboard's variables: the 5-minute windows the
#: panels had before $__rate_interval, an hour for the time range, and this
#: test's job with any instance (the variables' "All").
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m", "$__range": "1h", "$job": "news-monitor", "$instance": ".+",
}


def expand_grafana_variables(expr: str) -> str:
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    assert "$" not in expr, f"a Grafana variable this test does not know: {expr}"
    return expr


def alert_rules() -> list[tuple[str, str]]:
    doc = yaml.safe_load(ALERT_RULES.read_text())
    return [(r["alert"], r["expr"]) for g in doc["groups"] for r in g["rules"] if "alert" in r]


def operands(expr: str) -> list[str]:
    """The parts of ``expr`` between top-level comparison/set operators, numbers dropped."""
    parts, depth, start = [], 0, 0
    i = 0
    while i < len(expr):
        char = expr[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and (match := _OPERATORS.match(expr, i)):
            parts.append(expr[start:i])
            start = i = match.end()
            continue
        i += 1
    parts.append(expr[start:])
    # absent(x) has data exactly when x has none: what must return data is x.
    return [
        re.sub(r"^absent\((.*)\)$", r"\1", p.strip())
        for p in parts if not re.fullmatch(r"\s*[0-9.]+\s*", p)
    ]


def test_operands_splits_only_at_top_level() -> None:
    assert operands('sum(a{x!~"b|c"}) > 0.5 and rate(b[5m]) > 0') == [
        'sum(a{x!~"b|c"})', "rate(b[5m])"
    ]
    assert operands("a / (b > 1)") == ["a / (b > 1)"]
    assert operands('absent(up{job="x"})') == ['up{job="x"}']
    assert operands("max(a[1d]) unless on (role) group by (role) (b)") == [
        "max(a[1d])", "group by (role) (b)"
    ]
    assert operands("a > ignoring (x) group_left (y) b") == ["a", "b"]


@pytest.fixture
def site() -> Iterator[FeedSite]:
    server = FeedSite()
    with serving(server):
        yield server


def start_prometheus(folder: Path, target_port: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [
            {
                "job_name": "news-monitor",
                "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}],
            }
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "prometheus.log").open("wb"),
    )
    return process, f"http://127.0.0.1:{port}"


def query(client: httpx.Client, base: str, expr: str) -> tuple[str, list[Any]]:
    """("", samples) on success, (error text, []) otherwise."""
    try:
        reply = client.get(f"{base}/api/v1/query", params={"query": expr}).json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}", []
    if reply.get("status") != "success":
        return str(reply.get("error")), []
    return "", reply["data"]["result"]


def has_data(samples: list[Any]) -> bool:
    return any(not math.isnan(float(s["value"][1])) for s in samples)


def test_every_dashboard_and_alert_expression_returns_data(
    tmp_path: Path, site: FeedSite
) -> None:
    assert PROMETHEUS.exists(), "Debian's prometheus package is needed: apt-get install prometheus"
    exprs = dashboard_exprs()
    rules = alert_rules()
    assert len(exprs) >= 10 and len(rules) >= 3
    checks = {expr: expr for expr in exprs}
    for name, expr in rules:
        checks.update({f"{name}: {part}": part for part in operands(expr)})

    good, failing_url = WebhookReceiver(), f"{site.base_url}/down"  # FeedSite answers POST 501
    ops_port = free_port()
    config = write_config(
        tmp_path,
        feeds=[("loopback", f"{site.base_url}/feed.xml"), ("gone", f"{site.base_url}/gone.xml")],
        receivers=[good.url, failing_url],
        extra={
            "poller": {
                "allow_private_addresses": True, "fetch_pages": False, "min_interval_s": 1,
                "max_interval_s": 1, "default_interval_s": 1, "per_host_delay_s": 0,
                "backoff_base_s": 1, "backoff_cap_s": 2, "broken_after_failures": 1,
            },
            "alerts": {
                "retry": {"backoff": {"base_s": 1, "cap_s": 2}},
                "dedup": {"similarity": 100},  # distinct stories; the repeat is still one
            },
            "ops": {"http_port": ops_port},
        },
    )
    prometheus, base = start_prometheus(tmp_path, ops_port)
    with serving(good), httpx.Client(timeout=5) as client:
        process = MonitorProcess(config, "run")
        try:
            wait_until(lambda: has_data(query(client, base, 'up{job="news-monitor"} == 1')[1]),
                       60, "Prometheus to scrape the daemon")
            # Work starts after the first scrape, so every rate and quantile sees it.
            repeated = "Minister Quell warned Zembla against interfering in the ballot."
            site.add(*interference_items(4), Item("rep-1", "One", repeated),
                     Item("rep-2", "Two", repeated))
            # A labelled histogram's series appears with its first observation, so
            # Prometheus sees an increase only from the next one: a second batch.
            wait_until(lambda: has_data(query(client, base, DELIVERY_COUNT)[1]), 60,
                       "the first deliveries to be scraped")
            site.add(*interference_items(4, first=100))
            missing = poll_checks(client, base, checks, deadline_s=90)
            rules_health = client.get(f"{base}/api/v1/rules").json()["data"]["groups"]
        finally:
            process.stop()
            prometheus.terminate()
            prometheus.wait(timeout=30)
    assert not missing, "expressions without data:\n" + "\n".join(
        f"  {name}: {why}" for name, why in missing.items()
    ) + "\n--- monitor output tail ---\n" + process.output()[-2000:]
    bad_rules = [
        (r["name"], r.get("lastError")) for g in rules_health for r in g["rules"]
        if r.get("health") != "ok"
    ]
    assert not bad_rules
    assert {r["name"] for g in rules_health for r in g["rules"]} == {n for n, _ in rules}


def poll_checks(
    client: httpx.Client, base: str, checks: dict[str, str], deadline_s: float
) -> dict[str, str]:
    """Query until every check has data or the deadline passes; return what still has none."""
    missing = dict.fromkeys(checks, "no data")
    deadline = time.monotonic() + deadline_s
    while missing and time.monotonic() < deadline:
        for name in list(missing):
            error, samples = query(client, base, checks[name])
            if error:
                missing[name] = f"error: {error}"
            elif has_data(samples):
                del missing[name]
        time.sleep(1)
    return missing


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
