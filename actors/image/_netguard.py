"""URL safety for tools that fetch the web (html-to-image): only http(s), and only hosts whose every
address is public — no loopback, private, link-local (cloud metadata), CGNAT, multicast or reserved
addresses — unless the server's `allowed_fetch_hosts` names the host (tests use it for 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_HOSTS: set[str] = set()
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}


class Blocked(Exception):
    """The URL may not be fetched; the message is safe to show."""


def configure(options: dict) -> None:
    """Called by the image actor with the server's options."""
    ALLOWED_HOSTS.clear()
    ALLOWED_HOSTS.update(parse_hosts(str(options.get("allowed_fetch_hosts") or "")))


def parse_hosts(text: str) -> set[str]:
    return {h.strip().lower().strip("[]") for h in text.split(",") if h.strip()}


def public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            return public_address(mapped)
    if (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global):
        return False
    return not (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))


# how names are resolved (tests point it at a DNS server of their own)
RESOLVE = socket.getaddrinfo


def check_url(url: str, allowed: set[str] | None = None, resolve=None, *, resolve_names: bool = True) -> str:
    """Raise Blocked unless `url` may be fetched. Returns the host. With resolve_names=False a name is
    only checked by what it says (scheme, 'localhost', metadata names), for places that cannot resolve
    (the sandboxed browser): the egress guard checks the address at connection time."""
    allowed = ALLOWED_HOSTS if allowed is None else allowed
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Blocked("The URL is not valid.") from None
    if parts.scheme not in ("http", "https"):
        raise Blocked("Only http and https URLs can be captured.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Blocked("The URL has no host.")
    if resolve_names or _literal(host) is not None or not _named_ok(host, allowed):
        checked_addresses(host, port or (443 if parts.scheme == "https" else 80), allowed, resolve)
    return host


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _named_ok(host: str, allowed: set[str]) -> bool:
    return host in allowed or not (host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost")
                                   or host.endswith(".internal"))


def checked_addresses(host: str, port: int, allowed: set[str] | None = None,
                      resolve=None) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses to connect to for host:port, every one of them allowed, or Blocked. The caller
    connects to exactly these (never resolving again): no window for a DNS answer that changes."""
    allowed = ALLOWED_HOSTS if allowed is None else allowed
    host = host.lower().rstrip(".").strip("[]")
    if not _named_ok(host, allowed):
        raise Blocked("That host is not reachable from this server.")
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = (resolve or RESOLVE)(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Blocked(f"The host {host[:100]} could not be resolved.") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
        if not addresses:
            raise Blocked(f"The host {host[:100]} could not be resolved.")
    if host in allowed:
        return addresses
    for address in addresses:  # an allowance names a host; it never whitelists an address for other names
        if not public_address(address):
            raise Blocked("That address is private, loopback, link-local or reserved: it is not reachable "
                          "from this server.")
    return addresses
