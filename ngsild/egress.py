"""Which hosts the broker may contact (remote @context, notification endpoints; federation later).

The policy is checked on the URL's literal host, before any connection: an IP literal must fall in
an allowed network, a host name must be listed by name (``localhost``, ``example.org``) or by a
``*.example.org`` suffix pattern. A host outside the list is refused without being resolved, so a
refusal never leaks a DNS query.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*")


class EgressRefused(Exception):
    """The URL names a host that the egress policy does not allow."""


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """``allow_all`` or an explicit list of networks and host names."""

    allow_all: bool = True
    networks: tuple[IpNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    host_suffixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str | None) -> EgressPolicy:
        """``None``, ``""`` or ``*`` allow everything; otherwise a comma-separated list such as
        ``127.0.0.0/8,::1,localhost,*.example.org``."""
        if spec is None or spec.strip() in ("", "*"):
            return cls()
        networks: list[IpNetwork] = []
        hosts: set[str] = set()
        suffixes: list[str] = []
        for raw in spec.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if item.startswith("*.") and _HOST_NAME.fullmatch(item[2:]):
                suffixes.append(item[1:])
            elif _HOST_NAME.fullmatch(item):
                hosts.add(item)
            else:
                raise ValueError(
                    f"egress allow-list entry {raw!r} is neither a network, a host name nor a *.domain pattern"
                )
        return cls(False, tuple(networks), frozenset(hosts), tuple(suffixes))

    def allows_host(self, host: str) -> bool:
        if self.allow_all:
            return True
        host = host.strip("[]").lower().rstrip(".")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self.hosts or any(host.endswith(s) for s in self.host_suffixes)
        return any(address in net for net in self.networks)

    def check(self, url: str) -> None:
        """Raise EgressRefused unless ``url`` may be contacted."""
        host = urlsplit(url).hostname
        if host is None:
            raise EgressRefused(f"{url} names no host")
        if not self.allows_host(host):
            raise EgressRefused(f"the egress policy does not allow contacting {host} ({url})")
