"""Where a webhook may point: `https` to a public address in production.

Checked when a subscription is created or changed, and again at every delivery against the
addresses the name resolves to at that moment; the request then goes to the address that was
checked (the name kept for the Host header and TLS), so a name that re-resolves to an inside
address between the check and the connection (DNS rebinding) reaches nothing inside.
"""

import ipaddress
import socket
from dataclasses import dataclass

import httpx

ALLOWED_SCHEMES = ("http", "https")


class TargetRefused(ValueError):
    """The URL is malformed or points where webhooks may not go; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str  # what the request is sent to (an address, in production)
    host_header: str  # the name (and port), as the URL gave it
    server_name: str  # the name, for TLS (SNI and certificate check)
    pinned: bool


def parse(url: str, *, production: bool) -> httpx.URL:
    """The URL's shape: absolute, http(s), a host, no credentials; `https` in production."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise TargetRefused(f"is not a valid URL ({exc})") from None
    if parsed.scheme not in ALLOWED_SCHEMES or not parsed.host:
        raise TargetRefused("must be an absolute http or https URL")
    if parsed.userinfo:
        raise TargetRefused("must not carry a user name or password")
    if production and parsed.scheme != "https":
        raise TargetRefused("must use https in production")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise TargetRefused(f"names port {parsed.port}, which does not exist (1 to 65535)")
    return parsed


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo's client) reaches it.
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if any(v4 is not None and not _is_public(str(v4)) for v4 in embedded):
            return False
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def public_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, all of which must be public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"names the host {host!r}, which does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    refused = [a for a in addresses if not _is_public(a)]
    if refused or not addresses:
        raise TargetRefused(
            f"names the host {host!r}, which resolves to a non-public address ({', '.join(refused)}): "
            "loopback, private and link-local targets are refused in production"
        )
    return addresses


def check(url: str, *, production: bool) -> None:
    """Refuse a URL webhooks may not point at (raises TargetRefused)."""
    parsed = parse(url, production=production)
    if production:
        public_addresses(parsed.host, parsed.port or 443)


def resolve(url: str, *, production: bool) -> Target:
    """The target to connect to for one delivery: in production, a checked address."""
    parsed = parse(url, production=production)
    host_header = parsed.netloc.decode("ascii")
    if not production:
        return Target(url=url, host_header=host_header, server_name=parsed.host, pinned=False)
    address = public_addresses(parsed.host, parsed.port or 443)[0]
    return Target(
        url=str(parsed.copy_with(host=address)), host_header=host_header, server_name=parsed.host, pinned=True
    )
