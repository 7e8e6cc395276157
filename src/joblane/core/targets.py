"""Where webhooks may go (SSRF): http(s) URLs whose addresses are public, unless the operator
allows more (`JOBLANE_WEBHOOK_ALLOW_HOSTS`: addresses, networks and host names).

Two checks. `url_problem` looks at the URL alone (no DNS): the scheme, an address written in it
in any form (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`, `[::ffff:127.0.0.1]`) and names
that mean this machine (`localhost`, `*.localhost`). `address_problem` judges the addresses a
host name resolved to, at delivery time, right before connecting to one of them.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SCHEMES = ("http", "https")
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LEGACY_IPV4 = re.compile(r"^[0-9a-fx.]+$")  # what inet_aton reads: 127.1, 0x7f.1, 2130706433
ALLOW_SETTING = "JOBLANE_WEBHOOK_ALLOW_HOSTS"


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # lower case, no brackets, no trailing dot
    port: int


def parse_target(url: str) -> Target:
    """The URL's scheme, host and port; ValueError if it has none of them usable."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"only {' and '.join(SCHEMES)} URLs can receive webhooks")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("the URL has no host")
    port = parts.port or (443 if scheme == "https" else 80)  # parts.port raises on a bad port
    return Target(scheme, host, port)


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an address stands for, in any of its spellings."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def refusal(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return refusal(embedded)
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Non-public addresses in `networks`, and host names in `hosts` (whatever they resolve
    to), are allowed too."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, spec: str) -> TargetPolicy:
        """`127.0.0.1, 10.0.0.0/8, ::1, hooks.internal`; ValueError on a bad entry."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (e.strip().lower() for e in spec.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not re.fullmatch(r"[a-z0-9_.-]+", entry):
                    raise ValueError(f"{entry!r} is no address, network or host name") from None
                hosts.add(entry.rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows(self, address: IPAddress) -> bool:
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            candidates.append(address.ipv4_mapped)
        return any(
            a in net for a in candidates for net in self.networks if a.version == net.version
        )

    def address_problem(self, address: IPAddress) -> str | None:
        kind = refusal(address)
        if kind is None or self.allows(address):
            return None
        return f"{address} is a {kind} address (an operator may allow it: {ALLOW_SETTING})"

    def url_problem(self, url: str) -> str | None:
        """Why webhooks may not go to `url`, judged without resolving its host; or None."""
        try:
            target = parse_target(url)
        except ValueError as exc:
            return str(exc)
        if target.host in self.hosts:
            return None
        address = literal_address(target.host)
        if address is not None:
            return self.address_problem(address)
        if target.host in LOCAL_NAMES or target.host.endswith(".localhost"):
            return (
                f"{target.host} names this machine (loopback; an operator may allow it: "
                f"{ALLOW_SETTING})"
            )
        return None

    def trusts_name(self, host: str) -> bool:
        return host in self.hosts
