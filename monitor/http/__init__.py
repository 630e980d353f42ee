"""What every HTTP client of the monitor shares (the feed fetcher, the notifiers).

* :class:`DeadlineBackend` — a total time limit per request, on every socket
  read and write (httpx's timeouts bound each operation only);
* :class:`AddressGuardBackend` and its pure decisions — connections only to
  public addresses, checked at the moment of connecting;
* :class:`BackendTransport` — installs a network backend into an httpx client
  through public seams (``httpx.BaseTransport``, ``httpcore.ConnectionPool``);
* :func:`parse_retry_after` — the one reading of ``Retry-After``;
* :func:`user_agent` — the monitor's ``User-Agent`` values;
* :class:`AddressRefused`, :class:`Unresolvable` — what the guard raises.

Nothing here imports from a role's package; the roles import from here.
"""

from monitor.http.deadline import DeadlineBackend
from monitor.http.errors import AddressRefused, Unresolvable
from monitor.http.guard import AddressGuardBackend, exempt, is_public, parse_address, refusal
from monitor.http.headers import MAX_RETRY_AFTER_S, parse_retry_after, user_agent
from monitor.http.transport import BackendTransport

__all__ = [
    "MAX_RETRY_AFTER_S",
    "AddressGuardBackend",
    "AddressRefused",
    "BackendTransport",
    "DeadlineBackend",
    "Unresolvable",
    "exempt",
    "is_public",
    "parse_address",
    "parse_retry_after",
    "refusal",
    "user_agent",
]
