"""The private-address guard, applied at the moment a connection is made.

Checking a URL's host name and letting the HTTP client resolve it again to
connect leaves a gap: a name whose DNS answer changes between the two
lookups (rebinding) passes the check as a public address and is then
connected to as ``127.0.0.1``. So the guard lives in the network backend:
:class:`AddressGuardBackend` resolves the host once, refuses the connection
if any answer is not a public address, and connects to exactly the addresses
it checked. TLS is unaffected: httpcore takes the server name for SNI and
certificate checks from the request's origin, not from the address the
socket was connected to.

The decisions (:func:`is_public`, :func:`refusal`, :func:`exempt`) are pure;
:mod:`monitor.feeds.fetcher` uses them for its early check of literal
addresses, before any connection is attempted. The backend raises
:class:`~monitor.http.errors.AddressRefused` and
:class:`~monitor.http.errors.Unresolvable`, which a client translates into
its own errors.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Iterable

import httpcore

from monitor.http.errors import AddressRefused, Unresolvable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: IPv6 prefix of NAT64 (RFC 6052); its last 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is globally routable unicast: not loopback, private,
    link-local, shared (CGNAT), reserved, unspecified or multicast, and not
    an IPv6 form (IPv4-mapped, NAT64) of such an IPv4 address."""
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return True


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (a zone suffix such as ``%eth0`` ignored), or None."""
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None


def refusal(host: str, addresses: Iterable[str]) -> str | None:
    """Why connecting to ``host`` at ``addresses`` is refused, or None when every
    address is public. An address that does not parse is refused too."""
    for text in addresses:
        address = parse_address(text)
        if address is None:
            return f"{host} resolves to unparsable address {text!r}"
        if not is_public(address):
            return f"{host} resolves to non-public address {address}"
    return None


def exempt(host: str, allow_private: bool, allowed_hosts: Iterable[str]) -> bool:
    """Whether ``host`` skips the guard: private addresses allowed, or the host listed."""
    return allow_private or _normal(host) in {_normal(h) for h in allowed_hosts}


def _normal(host: str) -> str:
    return host.lower().rstrip(".").strip("[]")


def resolve(host: str, port: int) -> list[str]:
    """The distinct addresses ``host`` resolves to for a TCP connection, in the
    resolver's order. Raises :class:`Unresolvable` when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressGuardBackend(httpcore.NetworkBackend):
    """Wraps a network backend; TCP connections go only to checked public addresses.

    ``connect_tcp`` resolves the host itself, raises :class:`AddressRefused`
    (before any connection) if one of the addresses is not public, and
    otherwise connects to the checked addresses in the resolver's order by
    their literal IP, so the inner backend resolves nothing (and a stream
    whose peer is not the checked address is closed and refused). Hosts that
    are :func:`exempt` go to the inner backend unchanged.
    """

    def __init__(
        self,
        inner: httpcore.NetworkBackend,
        allow_private: bool,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self._inner = inner
        self._allow_private = allow_private
        self._allowed_hosts = tuple(allowed_hosts)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """A stream to ``host`` at a checked public address; raises
        :class:`AddressRefused` before connecting when one of its addresses is not."""
        if exempt(host, self._allow_private, self._allowed_hosts):
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = resolve(host, port)
        reason = refusal(host, addresses)
        if reason is not None:
            raise AddressRefused(reason)
        return self._connect_first(addresses, port, timeout, local_address, socket_options)

    def _connect_first(
        self,
        addresses: list[str],
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.NetworkStream:
        """A stream to the first of ``addresses`` that accepts; the last failure otherwise."""
        options = list(socket_options or ())
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(address, port, timeout, local_address, options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _connected_to(stream, address)
        if failure is None:
            raise httpcore.ConnectError("the host resolved to no address")
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _connected_to(stream: httpcore.NetworkStream, address: str) -> httpcore.NetworkStream:
    """``stream`` if its peer is ``address``; closed and refused otherwise.

    The inner backend is handed a literal address, which resolves to itself;
    this makes sure no resolver in between answered something else.
    """
    peer = stream.get_extra_info("server_addr")
    if isinstance(peer, tuple) and parse_address(str(peer[0])) != parse_address(address):
        stream.close()
        raise AddressRefused(f"connected to {peer[0]} instead of the checked address {address}")
    return stream
