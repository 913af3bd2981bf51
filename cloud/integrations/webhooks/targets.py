"""Which URLs the cloud may send webhooks to.

An administrator's URL makes the cloud open a connection from inside its own network, so by default only
https:// to public addresses is allowed: no loopback, private (RFC 1918, ULA), link-local (cloud metadata
services live there), multicast, reserved or unspecified address, no user:password@ in the URL. A host name
is resolved and every address it resolves to is checked, at registration and again before every attempt.
(A name that resolves differently between the check and the connection is not caught: a resolver under an
attacker's control is out of scope.)
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from cloud.settings import Settings


class TargetRefused(ValueError):
    """The URL is not one the cloud may call; the message says why."""


def _address_refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _resolved(host: str, port: int) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError):
        return []


def check_url(url: str, settings: Settings, *, resolve: bool = True) -> None:
    """Raise TargetRefused unless the settings allow sending to `url`."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused(f"not a URL: {error}") from None
    allowed = ("https", "http") if settings.webhook_allow_http else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused(f"the URL must start with {' or '.join(s + '://' for s in allowed)}")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("no user or password in the URL: receivers check the signature instead")
    if parts.fragment:
        raise TargetRefused("no #fragment in the URL")
    if settings.webhook_allow_private_networks:
        return
    try:
        addresses = [str(ipaddress.ip_address(parts.hostname))]
    except ValueError:
        addresses = _resolved(parts.hostname, port) if resolve else []
    if any(_address_refused(address) for address in addresses):
        raise TargetRefused(
            f"{parts.hostname} is a private, loopback, link-local or reserved address: not allowed "
            "(WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
        )
