"""The ``format`` checks the validators assert, written here rather than taken from optional packages.

Policy: formats are asserted, not merely annotated. Annotation-only looks lenient but is not:
``Device.ipAddress`` is ``oneOf [{format: ipv4}, {format: ipv6}]``, and with both branches always
matching, ``oneOf`` rejects every address. Asserting makes some upstream examples fail (a ``time``
without offset, a ``date-time`` without offset, a date-time under ``format: date``); those are
genuine violations of the schemas as written. Unknown formats pass, as JSON Schema requires, and
so does every non-string instance (formats only constrain strings).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import date

from jsonschema import FormatChecker

# RFC 3339 §5.6. 'T' and 'Z' may be lower case (§5.6 note); the offset is mandatory; '.frac' is optional.
_DATE = r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
_TIME = (
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
_DATE_RE = re.compile(_DATE)
_TIME_RE = re.compile(_TIME)
_DATE_TIME_RE = re.compile(_DATE + "[Tt]" + _TIME)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_LAST_MINUTE_OF_DAY = 23 * 60 + 59


def is_date(value: object) -> bool:
    """RFC 3339 full-date: YYYY-MM-DD naming a real calendar day."""
    if not isinstance(value, str):
        return True
    match = _DATE_RE.fullmatch(value)
    return match is not None and _is_calendar_day(match)


def is_time(value: object) -> bool:
    """RFC 3339 full-time: hh:mm:ss[.frac] followed by 'Z' or a ±hh:mm offset."""
    if not isinstance(value, str):
        return True
    match = _TIME_RE.fullmatch(value)
    return match is not None and _is_clock_time(match)


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time: full-date 'T' full-time, so a UTC offset is required."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME_RE.fullmatch(value)
    return match is not None and _is_calendar_day(match) and _is_clock_time(match)


def is_email(value: object) -> bool:
    """A deliberately simple shape: one '@' between a local part and a dotted-or-not domain, no spaces."""
    if not isinstance(value, str):
        return True
    local, at, domain = value.partition("@")
    return (
        bool(at and local and domain)
        and "@" not in domain
        and not any(c.isspace() for c in value)
        and not domain.startswith(".")
        and not domain.endswith(".")
        and ".." not in domain
    )


def is_ipv4(value: object) -> bool:
    """Dotted-quad IPv4 (leading zeros are refused by ``ipaddress``, which is what RFC 2673 wants)."""
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def is_ipv6(value: object) -> bool:
    """RFC 4291 text form; zone ids ('%eth0'), which ``ipaddress`` accepts, are not part of it."""
    if not isinstance(value, str):
        return True
    if "%" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def is_uri(value: object) -> bool:
    """Absolute URI: it starts with a scheme. URNs such as ``urn:ngsi-ld:X:1`` qualify."""
    if not isinstance(value, str):
        return True
    return _SCHEME_RE.match(value) is not None


FORMAT_CHECKS: dict[str, Callable[[object], bool]] = {
    "date-time": is_date_time,
    "date": is_date,
    "time": is_time,
    "email": is_email,
    "ipv4": is_ipv4,
    "ipv6": is_ipv6,
    "uri": is_uri,
}


def format_checker() -> FormatChecker:
    """A ``FormatChecker`` that knows exactly ``FORMAT_CHECKS`` (none of jsonschema's optional ones)."""
    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(check)
    return checker


def _is_calendar_day(match: re.Match[str]) -> bool:
    try:
        date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return False
    return True


def _is_clock_time(match: re.Match[str]) -> bool:
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    if hour > 23 or minute > 59 or second > 60:
        return False
    offset = 0
    if match["sign"] is not None:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return False
        offset = (off_hour * 60 + off_minute) * (1 if match["sign"] == "+" else -1)
    # A leap second can only be the last second of a UTC day.
    return second < 60 or (hour * 60 + minute - offset) % (24 * 60) == _LAST_MINUTE_OF_DAY
