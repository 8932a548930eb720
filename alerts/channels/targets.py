"""Where outbound deliveries may go: nowhere inside the platform's own network (SSRF guard).

Association staff choose webhook and Apprise targets; without this guard a target such as
``http://169.254.169.254/`` or ``http://2130706433:5432/`` turns the delivery worker into a scanner of
the internal network. A target's host is resolved the way the HTTP client resolves it (``getaddrinfo``
also reads decimal, octal and hex IPv4 notations), and every address it resolves to must be public.
The check runs when a subscription is saved and again before each send, since DNS answers change.
Hosts in ``FAIRMARKET_DELIVERY_ALLOWED_HOSTS`` (exact names, IP addresses or networks) are exempt.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import apprise

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """The target resolves to an address that deliveries must not reach."""


def is_public_address(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, link-local, private, shared, multicast or unspecified."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int | None = None) -> list[IPAddress]:
    """Every address ``host`` resolves to; an empty list when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    addresses: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        addresses.append(ipaddress.ip_address(text))
    return addresses


def _allowed(host: str, addresses: Iterable[IPAddress], allowed_hosts: Iterable[str]) -> bool:
    networks = []
    for entry in allowed_hosts:
        entry = entry.strip().lower()
        if entry and entry == host.lower().rstrip("."):
            return True
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue
    addresses = list(addresses)
    return bool(addresses) and all(any(a in network for network in networks) for a in addresses)


def check_host(host: str, port: int | None, allowed_hosts: Iterable[str], *, unresolved_ok: bool) -> None:
    """Raise :class:`UnsafeTarget` unless every address of ``host`` is public or the host is allowed.

    ``unresolved_ok``: a name that does not resolve now is accepted (on save; the send re-checks).
    """
    host = host.strip("[]").rstrip(".")
    addresses = resolve(host, port)
    if _allowed(host, addresses, allowed_hosts):
        return
    if not addresses:
        if unresolved_ok:
            return
        raise UnsafeTarget(f"host {host!r} does not resolve")
    if not all(is_public_address(address) for address in addresses):
        raise UnsafeTarget(f"host {host!r} resolves to a non-public address")


def check_url(url: str, allowed_hosts: Iterable[str], *, unresolved_ok: bool = False) -> None:
    """:func:`check_host` for an http(s) URL."""
    parts = urlsplit(url.strip())
    if not parts.hostname:
        raise UnsafeTarget("URL without a host")
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("URL with an invalid port") from exc
    check_host(parts.hostname, port, allowed_hosts, unresolved_ok=unresolved_ok)


def apprise_endpoint(url: str) -> str | None:
    """The HTTP(S) endpoint an Apprise URL posts to, as far as the subscriber chooses it.

    Services with a fixed endpoint (DingTalk, WeCom, Feishu …) carry a token in the host part and post
    to their vendor's ``notify_url``; generic ones (``json://``, ``xml://``, ``form://``, self-hosted
    servers) post to the host written in the URL.
    """
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return None
    fixed = getattr(type(plugin), "notify_url", None)
    if isinstance(fixed, str) and fixed.startswith(("http://", "https://")):
        return fixed
    host = str(getattr(plugin, "host", "") or "").strip("[]")
    if not host:
        return None
    port = getattr(plugin, "port", None)
    netloc = f"[{host}]" if ":" in host else host
    return f"http://{netloc}:{port}/" if port else f"http://{netloc}/"


def check_apprise_url(url: str, allowed_hosts: Iterable[str], *, unresolved_ok: bool = False) -> None:
    endpoint = apprise_endpoint(url)
    if endpoint is not None:
        check_url(endpoint, allowed_hosts, unresolved_ok=unresolved_ok)
