"""The egress policy decides from the URL's literal host, and never resolves a name to do so."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ngsild.egress import EgressPolicy, EgressRefused


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test fails if the policy resolves a host name."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"DNS resolution attempted: {args}")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, refuse)
    yield


# ---- allow-all -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [None, "", "  ", "*", " * "])
def test_empty_or_star_allows_everything(spec: str | None) -> None:
    """No list, an empty list or * allows every host."""
    policy = EgressPolicy.parse(spec)
    assert policy.allow_all
    for host in ("example.org", "10.0.0.1", "::1", "[fe80::1]", "localhost"):
        assert policy.allows_host(host)
    policy.check("http://169.254.169.254/latest/meta-data")


def test_default_policy_allows_everything() -> None:
    """EgressPolicy() is the allow-all policy."""
    assert EgressPolicy().allows_host("anything.example")


# ---- networks --------------------------------------------------------------------------------------------


def test_ipv4_network_allows_its_addresses_only() -> None:
    """An IPv4 network allows the addresses inside it and refuses the others."""
    policy = EgressPolicy.parse("127.0.0.0/8")
    assert policy.allows_host("127.0.0.1")
    assert policy.allows_host("127.255.1.2")
    assert not policy.allows_host("128.0.0.1")
    assert not policy.allows_host("10.0.0.1")


def test_single_address_is_a_host_network() -> None:
    """A bare address allows exactly that address."""
    policy = EgressPolicy.parse("192.168.1.10")
    assert policy.allows_host("192.168.1.10")
    assert not policy.allows_host("192.168.1.11")


def test_network_with_host_bits_is_accepted() -> None:
    """A network written with host bits set (10.1.2.3/8) means the enclosing network."""
    policy = EgressPolicy.parse("10.1.2.3/8")
    assert policy.allows_host("10.200.0.1")


@pytest.mark.parametrize("entry", ["::1", "[::1]", "::1/128"])
def test_ipv6_loopback_in_any_spelling(entry: str) -> None:
    """An IPv6 entry may be written with or without brackets; hosts too."""
    policy = EgressPolicy.parse(entry)
    assert policy.allows_host("::1")
    assert policy.allows_host("[::1]")
    assert not policy.allows_host("::2")


def test_ipv6_network() -> None:
    """An IPv6 network allows its addresses, however they are written."""
    policy = EgressPolicy.parse("fd00::/8")
    assert policy.allows_host("fd12:3456::1")
    assert policy.allows_host("[FD12:3456:0:0::1]")
    assert not policy.allows_host("fe80::1")


def test_ipv4_network_does_not_allow_ipv6_addresses() -> None:
    """An IPv4 network never allows an IPv6 address, even a v4-mapped one (fail closed)."""
    policy = EgressPolicy.parse("127.0.0.0/8")
    assert not policy.allows_host("::ffff:127.0.0.1")
    assert not policy.allows_host("::1")


@given(st.ip_addresses(v=4), st.integers(8, 32))
def test_ipv4_allowed_iff_in_network(address: ipaddress.IPv4Address, prefix: int) -> None:
    """An IPv4 address is allowed exactly when it lies in the listed network."""
    network = ipaddress.ip_network(f"10.20.30.40/{prefix}", strict=False)
    policy = EgressPolicy.parse(str(network))
    assert policy.allows_host(str(address)) == (address in network)


@given(st.ip_addresses(v=6), st.integers(16, 128))
def test_ipv6_allowed_iff_in_network(address: ipaddress.IPv6Address, prefix: int) -> None:
    """An IPv6 address, bracketed or not, is allowed exactly when it lies in the listed network."""
    network = ipaddress.ip_network(f"2001:db8::1/{prefix}", strict=False)
    policy = EgressPolicy.parse(str(network))
    assert policy.allows_host(str(address)) == (address in network)
    assert policy.allows_host(f"[{address}]") == (address in network)


# ---- host names ------------------------------------------------------------------------------------------


def test_host_names_match_exactly_ignoring_case_and_trailing_dot() -> None:
    """A listed host name matches in any case and with a trailing dot, and nothing else."""
    policy = EgressPolicy.parse("localhost, Example.org")
    assert policy.allows_host("localhost")
    assert policy.allows_host("LOCALHOST")
    assert policy.allows_host("example.org.")
    assert policy.allows_host("EXAMPLE.ORG")
    assert not policy.allows_host("www.example.org")
    assert not policy.allows_host("example.org.evil.test")
    assert not policy.allows_host("localhost.localdomain")


def test_suffix_pattern_matches_subdomains_only() -> None:
    """*.example.org allows any subdomain, but not example.org itself nor lookalikes."""
    policy = EgressPolicy.parse("*.example.org")
    assert policy.allows_host("a.example.org")
    assert policy.allows_host("a.b.example.org")
    assert policy.allows_host("A.EXAMPLE.ORG.")
    assert not policy.allows_host("example.org")
    assert not policy.allows_host("badexample.org")
    assert not policy.allows_host("example.org.evil.test")


def test_names_do_not_match_networks() -> None:
    """A host name is never allowed by a network entry (it is not resolved to find out)."""
    policy = EgressPolicy.parse("0.0.0.0/0,::/0")
    assert policy.allows_host("8.8.8.8")
    assert not policy.allows_host("localhost")
    assert not policy.allows_host("example.org")


def test_mixed_list_with_blank_entries() -> None:
    """Entries are comma-separated, trimmed, and empty entries are ignored."""
    policy = EgressPolicy.parse(" 127.0.0.0/8 ,, ::1,localhost , *.example.org,")
    assert not policy.allow_all
    assert policy.networks == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert policy.hosts == frozenset({"localhost"})
    assert policy.host_suffixes == (".example.org",)


@pytest.mark.parametrize(
    "spec",
    ["exa mple.org", "example..org", "http://example.org", "example.org/path", "a,b c", "localhost,*", "a_b"],
)
def test_malformed_entries_raise_value_error(spec: str) -> None:
    """An entry that is neither a network, a host name nor a *.suffix pattern is a ValueError."""
    with pytest.raises(ValueError):
        EgressPolicy.parse(spec)


@pytest.mark.parametrize("spec", ["http://my-host", "my-host:8080", "my-host/path", "-", "a.b_c-d"])
def test_malformed_entries_with_a_hyphen_raise_value_error(spec: str) -> None:
    """A hyphen does not make a malformed entry a host name."""
    with pytest.raises(ValueError):
        EgressPolicy.parse(spec)


@pytest.mark.parametrize("spec", ["*.", "*.exa mple.org", "*.http://x", "*.*.org"])
def test_malformed_suffix_patterns_raise_value_error(spec: str) -> None:
    """A *.suffix pattern must be followed by a valid host name."""
    with pytest.raises(ValueError):
        EgressPolicy.parse(spec)


# ---- check(url) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/ctx.jsonld",
        "https://LOCALHOST:8443/ctx.jsonld",
        "http://user:pw@localhost/ctx.jsonld",
        "http://127.0.0.1:8080/ctx.jsonld",
        "http://[::1]:8080/ctx.jsonld",
        "https://ctx.example.org/a.jsonld?x=1#y",
    ],
)
def test_check_allows_urls_of_allowed_hosts(url: str) -> None:
    """check() looks only at the URL's host: port, user info, path, query and fragment do not matter."""
    EgressPolicy.parse("127.0.0.0/8,::1,localhost,*.example.org").check(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/x",
        "http://localhost.evil.test/x",
        "http://localhost@evil.test/x",
        "http://example.org/x",
        "http://2130706433/x",
        "http://0x7f.1/x",
    ],
)
def test_check_refuses_urls_of_other_hosts(url: str) -> None:
    """check() refuses other hosts, including user-info tricks and numeric spellings of loopback."""
    with pytest.raises(EgressRefused):
        EgressPolicy.parse("127.0.0.0/8,::1,localhost,*.example.org").check(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://", "not a url", "urn:ngsi-ld:x"])
def test_check_refuses_urls_without_a_host(url: str) -> None:
    """A URL that names no host is refused."""
    with pytest.raises(EgressRefused):
        EgressPolicy.parse("localhost").check(url)


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_LABEL = st.one_of(
    st.text(_ALNUM, min_size=1, max_size=8),
    st.builds("{}-{}".format, st.text(_ALNUM, min_size=1, max_size=4), st.text(_ALNUM, min_size=1, max_size=4)),
)
host_names = st.lists(_LABEL, min_size=1, max_size=4).map(".".join)


@given(host_names, st.lists(host_names, max_size=3), st.lists(host_names, max_size=2))
def test_unlisted_host_is_refused_without_dns(host: str, listed: list[str], suffixes: list[str]) -> None:
    """A host name that is neither listed nor under a listed suffix is refused, and never resolved."""
    assume(host not in listed)
    assume(not any(host.endswith("." + s) for s in suffixes))
    try:
        ipaddress.ip_address(host)
        assume(False)
    except ValueError:
        pass
    spec = ",".join(["127.0.0.0/8", "::1", *listed, *(f"*.{s}" for s in suffixes)])
    policy = EgressPolicy.parse(spec)
    assert not policy.allows_host(host)
    with pytest.raises(EgressRefused):
        policy.check(f"http://{host}:1026/ctx.jsonld")


@given(host_names, st.lists(host_names, max_size=3))
def test_listed_host_is_allowed_without_dns(host: str, others: list[str]) -> None:
    """A listed host name, or one under a listed suffix, is allowed without being resolved."""
    policy = EgressPolicy.parse(",".join([*others, host, "*." + host]))
    policy.check(f"https://{host}/ctx.jsonld")
    policy.check(f"https://sub.{host.upper()}:8443/ctx.jsonld")
