"""Which receiver URLs a webhook may target (server-side request forgery guard).

Only http and https, with a host and without credentials in the URL. The host is resolved
and every address it resolves to must be public: private, loopback, link-local (cloud
metadata at 169.254.169.254), multicast, reserved, unspecified and shared (CGNAT) ranges are
refused unless `webhook_allow_private_addresses` is set. The check runs when a subscription
is saved and again before every attempt, and the attempt connects to the address that was
checked (see delivery.py), so a name re-pointed to an internal address after the check
(DNS rebinding) is not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from propensity.errors import InvalidInput

MAX_URL_LENGTH = 2048
SCHEMES = {"http": 80, "https": 443}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(InvalidInput):
    """A receiver URL that is malformed or points where webhooks may not go."""

    def __init__(self, message: str) -> None:
        super().__init__(message, details={"field": "url"}, code="INVALID_WEBHOOK_URL")


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`addresses`, in resolver order, every one checked)
    and what to call it (`host`)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[Address, ...]


def parse_url(url: str) -> SplitResult:
    """Syntax only (no DNS): scheme, host, port, no credentials."""
    url = url.strip()
    if not url:
        raise UrlRefused("url is required")
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"url must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise UrlRefused("url is not a valid URL") from None
    if parts.scheme.lower() not in SCHEMES:
        raise UrlRefused("url must start with http:// or https://")
    if not parts.hostname:
        raise UrlRefused("url must name a host")
    if parts.username is not None or parts.password is not None:
        # Credentials in a URL end up in logs and in the API's answers; use the signature.
        raise UrlRefused("url must not contain a user name or password")
    if parts.fragment:
        raise UrlRefused("url must not contain a fragment (#...)")
    return parts


def is_public(address: Address) -> bool:
    """A globally routable unicast address, and so is every IPv4 address embedded in it:
    IPv4-mapped, 6to4 (2002::/16), Teredo and NAT64 (64:ff9b::/96) addresses reach the
    IPv4 host they carry (2002:7f00:1:: is loopback, though Python calls it global)."""
    if isinstance(address, ipaddress.IPv6Address):
        teredo = address.teredo or ()
        embedded = [address.ipv4_mapped, address.sixtofour, *teredo]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        carried = [e for e in embedded if e is not None]
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if any(not is_public(e) for e in carried):
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def resolve(host: str, port: int) -> list[Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(f"url host '{host}' does not resolve") from None
    addresses: list[Address] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone index
        address = ipaddress.ip_address(raw)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlRefused(f"url host '{host}' does not resolve")
    return addresses


def check_url(url: str, *, allow_private: bool) -> Target:
    """Parse, resolve and check `url`; returns the address to connect to. Every address the
    name resolves to must pass, so a name with one public and one internal address is refused
    rather than sometimes reaching inside."""
    parts = parse_url(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    port = parts.port or SCHEMES[scheme]
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UrlRefused(
                    f"url host '{host}' resolves to {address}, a private, loopback or "
                    "otherwise internal address; webhooks go to public addresses only "
                    "(PROPENSITY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES allows internal ones)"
                )
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, addresses=tuple(addresses))
