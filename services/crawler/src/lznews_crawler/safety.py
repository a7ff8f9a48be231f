"""Address rules: the crawler talks to public internet hosts only, unless told otherwise.

The check and the connection must agree on the address: a name that answers a public address
to the check and a private one to the downloader's own lookup (DNS rebinding) would otherwise
get through. So SafetyMiddleware checks a host and pins the addresses it checked, and
PinnedResolver, installed as the reactor's resolver, answers the downloader with those
addresses only; a name no check has passed resolves to nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Sequence
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingHostnameResolver, HostResolution
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

_CACHE_S = 300.0


class Refused(IgnoreRequest):
    """A request a safety rule stopped before it left the process; reason is a metric label.

    `transient` refusals (a failed DNS lookup) may pass on a later visit, so the spider counts
    them as a failed attempt instead of dead-lettering the URL at once."""

    def __init__(self, reason: str, detail: str, *, transient: bool = False) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.transient = transient


def is_public(address: str) -> bool:
    """True for globally routable addresses; False for private, loopback, link-local,
    CGNAT, multicast, reserved and unspecified ones (IPv4-mapped IPv6 is unwrapped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> str | None:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


class AddressCheck:
    """Resolves a host (cached), says whether every address it has is public, and pins the
    addresses of each host that passed, for PinnedResolver.

    One instance is shared by the middleware and the resolver through the Scrapy settings,
    which Scrapy deep-copies per crawler: a copy must be this same object."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, list[str]]] = {}
        # host -> the addresses its latest passing check saw. Never expired: a request may
        # wait in its download slot long after its check, and must still connect to what
        # was checked. Bounded by the hosts of the site list.
        self._pins: dict[str, list[str]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> AddressCheck:
        return self

    async def addresses(self, host: str) -> list[str]:
        """Every address of `host` (an address literal is its own); OSError if it does not
        resolve."""
        host = _ascii_host(host)
        if _literal(host):
            return [host]
        hit = self._cache.get(host)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        addrs = sorted({str(info[4][0]) for info in infos})
        if not addrs:
            raise socket.gaierror(socket.EAI_NONAME, f"no address for {host}")
        self._cache[host] = (time.monotonic() + _CACHE_S, addrs)
        return addrs

    async def non_public(self, host: str) -> list[str]:
        """The host's non-public addresses. [] means all are public, and they are now the
        ones the downloader connects to. Raises OSError when the host does not resolve."""
        host = _ascii_host(host)
        addrs = await self.addresses(host)
        bad = [a for a in addrs if not is_public(a)]
        if not bad and not _literal(host):
            self._pins[host] = addrs
        return bad

    def pinned(self, host: str) -> list[str] | None:
        """The addresses a check passed for `host` (an address literal is its own)."""
        host = _ascii_host(host)
        literal = _literal(host)
        return [literal] if literal else self._pins.get(host)


def _ascii_host(host: str) -> str:
    """The host as the request URL spells it (IDNA, lower case): Twisted hands the resolver
    internationalised names decoded (兰州.政务.cn, not xn--95qw61a.xn--zfr164b.cn)."""
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return host.lower()  # matches no pin: fails closed


def _address(addr: str, port: int) -> IAddress:
    addr = addr.split("%", 1)[0]
    if ipaddress.ip_address(addr).version == 6:
        return IPv6Address("TCP", addr, port)
    return IPv4Address("TCP", addr, port)


@implementer(IHostnameResolver)
class PinnedResolver:
    """The reactor's name resolver (TWISTED_DNS_RESOLVER): answers with the pinned addresses.

    With LZNEWS_CRAWLER_ALLOW_PRIVATE nothing is checked or pinned, and names resolve as
    Scrapy's caching resolver would resolve them."""

    def __init__(self, reactor: Any, check: AddressCheck, allow_private: bool,
                 cache_size: int = 10000) -> None:
        self.reactor = reactor
        self.check = check
        self.allow_private = allow_private
        self._fallback: IHostnameResolver | None = None
        if allow_private and reactor is not None:
            # Built before installing, so it wraps the reactor's own resolver, not this one.
            self._fallback = CachingHostnameResolver(reactor, cache_size)

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PinnedResolver:
        s = crawler.settings
        cache = s.getint("DNSCACHE_SIZE") if s.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, s["LZNEWS_ADDRESS_CHECK"], s.getbool("LZNEWS_ALLOW_PRIVATE"), cache)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(  # noqa: N802 (Twisted API)
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> Any:
        addrs = self.check.pinned(hostName)
        if addrs is None and self._fallback is not None:
            return self._fallback.resolveHostName(resolutionReceiver, hostName, portNumber,
                                                  addressTypes, transportSemantics)
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        for addr in addrs or ():  # unpinned: no address, the connection fails closed
            address = _address(addr, portNumber)
            if addressTypes is None or type(address) in addressTypes:
                resolutionReceiver.addressResolved(address)
        resolutionReceiver.resolutionComplete()
        return resolution
