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


def check_url(url: str, allowed: set[str] | None = None, resolve=socket.getaddrinfo) -> str:
    """Raise Blocked unless `url` may be fetched. Returns the host."""
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
    if host in allowed:
        return host
    if host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost") or host.endswith(".internal"):
        raise Blocked("That host is not reachable from this server.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = resolve(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Blocked(f"The host {host[:100]} could not be resolved.") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
        if not addresses:
            raise Blocked(f"The host {host[:100]} could not be resolved.")
    for address in addresses:  # an allowance names a host; it never whitelists an address for other names
        if not public_address(address):
            raise Blocked("That address is private, loopback, link-local or reserved: it is not reachable "
                          "from this server.")
    return host
