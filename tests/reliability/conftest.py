"""Shared fixtures of the reliability suite (``pytest -m reliability``).

* ``results``  — figures per scenario, written to ``var/reliability/results.json``
  (or ``$MONITOR_RELIABILITY_RESULTS``) when the session ends;
* ``launcher`` — starts ``monitor`` processes, stops them after the test and
  fails the test if any of their output holds one of the suite's secret values;
* ``receiver`` — a signed-webhook receiver on loopback that counts by Idempotency-Key.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pluggy
import pytest

from tests.reliability.harness import CountingReceiver, Launcher, Results, counting_receiver

_RESULTS = Results()


@pytest.fixture(scope="session")
def results() -> Iterator[Results]:
    try:
        yield _RESULTS
    finally:
        _RESULTS.write()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """Record each reliability test's outcome beside the figures it wrote."""
    report = (yield).get_result()
    if item.get_closest_marker("reliability") is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome: str = (
            "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        )
        if hasattr(report, "wasxfail") and report.passed:
            outcome = "XPASS(strict)"
        _RESULTS.outcome(item.nodeid, outcome)


@pytest.fixture
def launcher() -> Iterator[Launcher]:
    started = Launcher()
    try:
        yield started
    finally:
        started.stop_all()
    leaks = started.leaked_secrets()
    assert not leaks, f"secret values found in daemon logs: {leaks}"


@pytest.fixture
def receiver() -> Iterator[CountingReceiver]:
    with counting_receiver() as running:
        yield running
