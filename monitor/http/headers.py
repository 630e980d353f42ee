"""Reading and writing the HTTP headers every client of the monitor shares.

``Retry-After`` (RFC 9110, section 10.2.3) is either ``delay-seconds``, a
non-negative decimal integer, or an ``HTTP-date``; a recipient must accept
all three date forms (IMF-fixdate, and the obsolete RFC 850 and asctime
forms), and every HTTP-date is UTC (GMT) whether or not it says so.
:func:`parse_retry_after` answers in seconds from ``now``:

* ``"120"`` → 120; a date → the seconds until it, 0 when it has passed;
* at most :data:`MAX_RETRY_AFTER_S` (a day): a server may ask for a day's
  rest, anything longer is a mistake or hostile, and a client must not stay
  silent for a week on one header. Each client applies its own, lower policy
  on top (the poller its ``backoff_cap_s``, delivery an hour per receiver);
* None for a missing or invalid value (``"soon"``, ``"-5"``, ``"1.5"``, a
  date that does not parse), which the RFC says to ignore: the client
  backs off as it would without the header.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime

from monitor import __version__

#: The longest wait a ``Retry-After`` header can ask for.
MAX_RETRY_AFTER_S = 24 * 3600.0
#: The monitor's product name in ``User-Agent`` headers.
PRODUCT = "news-monitor"


def user_agent(component: str = "", comment: str = "") -> str:
    """A ``User-Agent`` value: ``news-monitor[-component]/<major.minor> [(comment)]``."""
    name = f"{PRODUCT}-{component}" if component else PRODUCT
    version = ".".join(__version__.split(".")[:2])
    return f"{name}/{version} ({comment})" if comment else f"{name}/{version}"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, ``now`` in epoch seconds;
    None when the header is missing or invalid (see the module's notes)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        seconds = float(value) if len(value) < 16 else MAX_RETRY_AFTER_S
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        # A date with no zone (asctime, or "-0000") is GMT, as every HTTP-date is.
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)

