"""HostGate spacing and concurrency, with an injected clock and sleep."""

from __future__ import annotations

import threading

from monitor.feeds.politeness import HostGate


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
