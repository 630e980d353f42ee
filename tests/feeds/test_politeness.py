"""HostGate spacing and concurrency, with an injected clock and sleep; and the
fetcher taking each redirect hop's host turn (two loopback servers)."""

from __future__ import annotations

import threading

from monitor.feeds.fetcher import FetchRequest, HttpxFetcher
from monitor.feeds.politeness import HostGate
from monitor.feeds.settings import PollerSettings
from tests.feeds.httpserver import FeedServer, Reply

BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))


def test_requests_to_one_host_are_spaced_and_other_hosts_are_not() -> None:
    fake = FakeTime()
    gate = HostGate(per_host=2, delay_s=0.5, monotonic=fake.monotonic, sleep=fake.sleep)
    for url in ("http://a.example/1", "http://a.example/2", "http://b.example/1",
                "http://A.example/3"):
        with gate.slot(url):
            pass
    assert fake.slept == [0.5, 1.0]


def test_no_more_than_per_host_requests_in_flight() -> None:
    gate = HostGate(per_host=2, delay_s=0.0)
    inside = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()

    def request() -> None:
        nonlocal inside, most
        with gate.slot("http://a.example/x"):
            with lock:
                inside += 1
                most = max(most, inside)
            release.wait(2)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=request) for _ in range(5)]
    for thread in threads:
        thread.start()
    for _ in range(500):  # until two requests are inside (or 5 s)
        with lock:
            if inside == 2:
                break
        threading.Event().wait(0.01)
    threading.Event().wait(0.1)  # room for a third to get in, were the gate broken
    release.set()
    for thread in threads:
        thread.join()
    assert most == 2


def test_a_redirect_to_another_host_waits_for_that_hosts_turn() -> None:
    """Feed on one loopback server (127.0.0.1) redirecting to another (named
    localhost, so a host of its own): the second hop takes the second host's
    turn, after a request that host just had."""
    fake = FakeTime()
    gate = HostGate(per_host=1, delay_s=0.5, monotonic=fake.monotonic, sleep=fake.sleep)
    settings = PollerSettings(allow_private_addresses=True, total_timeout_s=5.0)
    fetcher = HttpxFetcher(settings, gate=gate)
    with FeedServer() as first, FeedServer() as second:
        target = "http://localhost:" + second.base.rsplit(":", 1)[1] + "/feed"
        first.routes["/moved"] = Reply(302, headers={"Location": target})
        second.routes["/feed"] = Reply(200, BODY)
        try:
            assert fetcher.fetch(FetchRequest(target)).body == BODY
            assert fake.slept == []
            assert fetcher.fetch(FetchRequest(first.url("/moved"))).body == BODY
        finally:
            fetcher.close()
        assert len(first.hits("/moved")) == 1 and len(second.hits("/feed")) == 2
    assert fake.slept == [0.5]


def take_turn(gate: HostGate, url: str) -> None:
    with gate.slot(url):
        pass


def test_a_redirect_hop_holds_only_its_own_hosts_slot() -> None:
    """While another request holds the target host's only slot, the redirect
    hop to it waits; the first host's slot is free meanwhile."""
    gate = HostGate(per_host=1, delay_s=0.0)
    settings = PollerSettings(allow_private_addresses=True, total_timeout_s=5.0)
    fetcher = HttpxFetcher(settings, gate=gate)
    results: list[bytes] = []
    with FeedServer() as first, FeedServer() as second:
        target = "http://localhost:" + second.base.rsplit(":", 1)[1] + "/feed"
        first.routes["/moved"] = Reply(302, headers={"Location": target})
        second.routes["/feed"] = Reply(200, BODY)
        try:
            with gate.slot(target):
                worker = threading.Thread(
                    target=lambda: results.append(
                        fetcher.fetch(FetchRequest(first.url("/moved"))).body
                    )
                )
                worker.start()
                for _ in range(500):
                    if first.hits("/moved"):
                        break
                    threading.Event().wait(0.01)
                threading.Event().wait(0.2)
                assert second.hits("/feed") == [] and worker.is_alive()
                other = threading.Thread(target=take_turn, args=(gate, first.url("/x")))
                other.start()  # the first host's slot is free: taken at once
                other.join(timeout=2)
                assert not other.is_alive()
            worker.join(timeout=5)
        finally:
            fetcher.close()
    assert results == [BODY]
