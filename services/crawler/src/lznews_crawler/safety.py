"""Address rules: the crawler talks to public internet hosts only, unless told otherwise."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

from scrapy.exceptions import IgnoreRequest

_CACHE_S = 300.0


class Refused(IgnoreRequest):
    """A request a safety rule stopped before it left the process; reason is a metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def is_public(address: str) -> bool:
    """True for globally routable addresses; False for private, loopback, link-local,
    CGNAT, multicast, reserved and unspecified ones (IPv4-mapped IPv6 is unwrapped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class AddressCheck:
    """Resolves a host (cached) and says whether every address it has is public."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, list[str]]] = {}

    async def addresses(self, host: str) -> list[str]:
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            return [host]
        except ValueError:
            pass
        hit = self._cache.get(host)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        addrs = sorted({str(info[4][0]) for info in infos})
        self._cache[host] = (time.monotonic() + _CACHE_S, addrs)
        return addrs

    async def non_public(self, host: str) -> list[str]:
        """The host's non-public addresses ([] if all are public or it does not resolve:
        an unresolvable host fails in the downloader anyway)."""
        try:
            addrs = await self.addresses(host)
        except OSError:
            return []
        return [a for a in addrs if not is_public(a)]
