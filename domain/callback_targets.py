"""Which hosts a callbackUrl may name: the public internet only, unless an operator allows
private networks (LADING_CALLBACK_ALLOW_PRIVATE), so a key holder cannot make Lading call
services inside its network (server-side request forgery, issue 9.9)."""

from __future__ import annotations

import ipaddress

from lading.domain.errors import DomainError


class CallbackTargetRefused(DomainError):
    """A callbackUrl that names a loopback, link-local, private or otherwise reserved address."""


_LOCAL_NAMES = ("localhost", "localhost.localdomain")


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_callback_host(host: str, addresses: list[str] | None = None) -> None:
    """Refuse a host that is, or resolves to (`addresses`), anything but a public address."""
    name = host.strip("[]").rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise CallbackTargetRefused(f"callbackUrl may not name {name}: it is this machine")
    try:
        literal = [str(ipaddress.ip_address(name.split("%", 1)[0]))]
    except ValueError:
        literal = []
    for address in literal + list(addresses or []):
        if not is_public_address(address):
            raise CallbackTargetRefused(
                f"callbackUrl names a private or local address ({address}); an operator may allow"
                " these with LADING_CALLBACK_ALLOW_PRIVATE")
