"""formats: the asserted ``format`` checks (RFC 3339 dates and times, email, IP addresses, URI)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from datamodels.formats import (
    FORMAT_CHECKS,
    format_checker,
    is_date,
    is_date_time,
    is_email,
    is_ipv4,
    is_ipv6,
    is_time,
    is_uri,
)

modest = settings(max_examples=max(10, settings().max_examples // 2))  # follows the profile (deep: more)

GOOD = {
    "date-time": [
        "2016-03-15T11:00:00Z",
        "2016-03-15T11:00:00.123456+01:00",
        "2016-03-15t11:00:00z",
        "2016-12-31T23:59:60Z",
        "2016-12-31T18:59:60-05:00",
        "2024-02-29T00:00:00-12:00",
    ],
    "date": ["2016-03-15", "2024-02-29", "0001-01-01"],
    "time": ["11:00:00Z", "00:01:00+02:00", "23:59:59.5-05:30", "23:59:60Z"],
    "email": ["info@example.org", "a.b+c@localhost"],
    "ipv4": ["192.14.56.78", "0.0.0.0", "255.255.255.255"],
    "ipv6": ["::1", "2001:db8::ff00:42:8329", "::ffff:192.0.2.1"],
    "uri": ["https://example.org/x", "urn:ngsi-ld:ParkingSpot:1", "mailto:a@b.c", "santander:daoiz_velarde_1_5"],
}
BAD = {
    "date-time": [
        "2016-03-15T11:00:00",  # no offset (AirQualityObserved example.jsonld)
        "2016-03-15 11:00:00Z",
        "2016-03-15",
        "2016-13-15T11:00:00Z",
        "2023-02-29T11:00:00Z",
        "2016-03-15T24:00:00Z",
        "2016-03-15T11:60:00Z",
        "2016-03-15T11:00:00+24:00",
        "2016-03-15T11:00:60Z",  # a leap second only ends a UTC day
        "2016-03-15T11:00:00.Z",
        "2016-03-15T11:00:00+0100",
        "\uff12\uff10\uff11\uff16-03-15T11:00:00Z",  # full-width digits are digits to \\d, not to RFC 3339
    ],
    "date": ["2016-7-1", "2016-02-30", "2016-00-10", "2016-07-31T15:59:09.224Z", "20160731", ""],
    "time": ["00:01:00", "00:01", "24:00:00Z", "12:00:00+25:00", "12:00:60Z", "1:00:00Z"],
    "email": ["plain", "@example.org", "a@", "a b@c.d", "a@b@c", "a@.org", "a@b..c"],
    "ipv4": ["192.14.56", "256.1.1.1", "01.2.3.4", "::1", "1.2.3.4 "],
    "ipv6": ["192.14.56.78", "fe80::1%eth0", ":::", "2001:db8::g"],
    "uri": ["", "//example.org/x", "not a uri", "1http://x", "/relative/path"],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in GOOD.items() for v in values])
def test_good_values_pass(name: str, value: str) -> None:
    """Well-formed values pass their format check."""
    assert FORMAT_CHECKS[name](value)


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, values in BAD.items() for v in values])
def test_bad_values_fail(name: str, value: str) -> None:
    """Malformed values fail, including the upstream examples' offset-less times."""
    assert not FORMAT_CHECKS[name](value)


@pytest.mark.parametrize("check", FORMAT_CHECKS.values())
@pytest.mark.parametrize("value", [None, 12, 1.5, True, [], {}])
def test_formats_only_constrain_strings(check: object, value: object) -> None:
    """A non-string instance passes every format (``type`` is what constrains it)."""
    assert callable(check)
    assert check(value)


offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=st.just(UTC) | offsets), st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_rfc3339_date_times_pass(moment: datetime, precision: str) -> None:
    """Every RFC 3339 date-time (any offset, any fraction precision) passes; without its offset it fails."""
    text = moment.isoformat(timespec=precision)
    assert is_date_time(text)
    assert is_date_time(text.replace("+00:00", "Z"))
    assert not is_date_time(moment.replace(tzinfo=None).isoformat(timespec=precision))
    assert is_time(text.partition("T")[2])


@given(st.dates())
def test_calendar_dates_pass_and_date_times_do_not(day: date) -> None:
    """Every calendar date passes ``date``; it is not a ``date-time``, and a date-time is not a ``date``."""
    assert is_date(day.isoformat())
    assert not is_date_time(day.isoformat())
    assert not is_date(f"{day.isoformat()}T00:00:00Z")


@given(st.ip_addresses(v=4))
def test_every_ipv4_address_is_ipv4_and_not_ipv6(address: object) -> None:
    """IPv4 and IPv6 are exclusive, so Device's ``oneOf [ipv4, ipv6]`` accepts each address once."""
    assert is_ipv4(str(address))
    assert not is_ipv6(str(address))


@given(st.ip_addresses(v=6))
def test_every_ipv6_address_is_ipv6_and_not_ipv4(address: object) -> None:
    """Any IPv6 address in its compressed text form is ipv6 only."""
    assert is_ipv6(str(address))
    assert not is_ipv4(str(address))


@modest
@given(st.emails())
def test_generated_emails_pass(email: str) -> None:
    """The simple email shape admits every generated address."""
    assert is_email(email)


def test_the_checker_asserts_exactly_these_formats() -> None:
    """The checker knows our seven formats; unknown ones (and jsonschema's optional ones) pass."""
    checker = format_checker()
    assert set(checker.checkers) == set(FORMAT_CHECKS)
    validator = Draft202012Validator({"format": "date-time"}, format_checker=checker)
    assert not validator.is_valid("2016-03-15T11:00:00")
    assert Draft202012Validator({"format": "hostname"}, format_checker=checker).is_valid("not a host name!")
    assert Draft202012Validator({"format": "uri-reference"}, format_checker=checker).is_valid("\\\\ bad")


def test_entity_ids_are_uris() -> None:
    """NGSI-LD entity ids are URNs, and URNs are URIs."""
    assert is_uri("urn:ngsi-ld:Vehicle:A4567")
