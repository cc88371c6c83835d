"""Frozen settings. ``from_env`` and ``from_args`` are the only readers of os.environ and argv."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from ngsild.egress import EgressPolicy

_ENV_PREFIX = "NGSILD_"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 1026
    store: str = "sqlite:///var/ngsild.db"
    store_write_concern: str = "majority"  # MongoDB: majority, a number of members, or a tag set
    store_read_preference: str = "primary"  # MongoDB: primary, primaryPreferred, secondary, ...
    store_timeout_s: float = 5.0  # MongoDB: server selection and connect; a round trip gets 4x
    egress_allow: str | None = None  # None: allow every host
    max_body_bytes: int = 8 * 1024 * 1024
    context_timeout_s: float = 5.0
    context_max_bytes: int = 1024 * 1024
    context_ttl_s: float = 3600.0
    ld_context_unavailable_status: int = 503  # the 1.9.1 table says 504; the ETSI test suite expects 503
    log_level: str = "info"
    default_limit: int = 20  # Query Entities page size when the client gives no limit
    max_limit: int = 1000  # a larger limit is 403 TooManyResults
    max_batch_entities: int = 1000  # items in one batch operation; more is 413
    notification_retry_first_s: float = 0.25  # a failed notification is retried after about this long,
    notification_retry_max_s: float = 5.0  # doubling up to this, with jitter,
    notification_retry_for_s: float = 600.0  # until this long has passed; then it counts as failed
    datamodels: str | None = None  # a Smart Data Models directory (source or pull cache): validate its types
    validation: str = "enforce"  # policy for those types: off, warn or enforce
    validation_types: str | None = None  # per-type policies, e.g. "ParkingSpot=warn,Vehicle=off"

    @property
    def egress(self) -> EgressPolicy:
        return EgressPolicy.parse(self.egress_allow)

    @property
    def store_options(self) -> dict[str, Any]:
        """Keyword options for ``store.factory.open_store`` (MongoDB's; SQLite ignores them)."""
        return {
            "write_concern": self.store_write_concern,
            "read_preference": self.store_read_preference,
            "timeout_s": self.store_timeout_s,
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``NGSILD_<FIELD>`` variables, e.g. ``NGSILD_EGRESS_ALLOW=127.0.0.0/8,::1``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(_ENV_PREFIX + field.name.upper())
            if raw is not None:
                values[field.name] = _coerce(field.name, raw)
        return cls(**values)

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None, base: Settings | None = None) -> tuple[str, Settings]:
        """``python -m ngsild serve --host --port --store --egress-allow ...`` over env defaults."""
        base = base or cls.from_env()
        parser = argparse.ArgumentParser(prog="python -m ngsild", description="NGSI-LD context broker")
        commands = parser.add_subparsers(dest="command", required=True)
        serve = commands.add_parser("serve", help="run the broker")
        serve.add_argument("--host", default=base.host)
        serve.add_argument("--port", type=int, default=base.port)
        serve.add_argument(
            "--store",
            default=base.store,
            help="sqlite:///path/to.db, sqlite://:memory: or mongodb://... (default %(default)s)",
        )
        serve.add_argument(
            "--store-write-concern",
            default=base.store_write_concern,
            help="MongoDB write concern: majority (default), a number of members, or a tag set name",
        )
        serve.add_argument(
            "--store-read-preference",
            default=base.store_read_preference,
            choices=("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"),
            help="MongoDB read preference for queries (default %(default)s)",
        )
        serve.add_argument(
            "--store-timeout",
            type=float,
            default=base.store_timeout_s,
            dest="store_timeout_s",
            help="seconds to find a MongoDB server before answering 503 (default %(default)s)",
        )
        serve.add_argument(
            "--egress-allow",
            default=base.egress_allow,
            help="hosts/networks the broker may contact, e.g. 127.0.0.0/8,::1,localhost (default: all)",
        )
        serve.add_argument("--max-body-bytes", type=int, default=base.max_body_bytes)
        serve.add_argument("--context-timeout", type=float, default=base.context_timeout_s, dest="context_timeout_s")
        serve.add_argument(
            "--ld-context-unavailable-status",
            type=int,
            choices=(503, 504),
            default=base.ld_context_unavailable_status,
        )
        serve.add_argument("--log-level", default=base.log_level)
        serve.add_argument("--default-limit", type=int, default=base.default_limit)
        serve.add_argument("--max-limit", type=int, default=base.max_limit)
        serve.add_argument("--max-batch-entities", type=int, default=base.max_batch_entities)
        serve.add_argument(
            "--notification-retry-first",
            type=float,
            default=base.notification_retry_first_s,
            dest="notification_retry_first_s",
            help="seconds before the first retry of a failed notification (default %(default)s)",
        )
        serve.add_argument(
            "--notification-retry-max",
            type=float,
            default=base.notification_retry_max_s,
            dest="notification_retry_max_s",
            help="the longest wait between retries; waits double up to it (default %(default)s)",
        )
        serve.add_argument(
            "--notification-retry-for",
            type=float,
            default=base.notification_retry_for_s,
            dest="notification_retry_for_s",
            help="seconds a notification is retried before it counts as failed (default %(default)s)",
        )
        serve.add_argument(
            "--datamodels",
            default=base.datamodels,
            help="a Smart Data Models directory (python -m datamodels pull ...): validate the types found in it",
        )
        serve.add_argument("--validation", choices=("off", "warn", "enforce"), default=base.validation)
        serve.add_argument(
            "--validation-types", default=base.validation_types, help="per-type policies: ParkingSpot=warn,Vehicle=off"
        )
        args = parser.parse_args(argv)
        values = {k: v for k, v in vars(args).items() if k != "command"}
        settings = replace(base, **values)
        settings.egress  # noqa: B018 - fail at startup on a malformed allow-list
        retry = (
            settings.notification_retry_first_s,
            settings.notification_retry_max_s,
            settings.notification_retry_for_s,
        )
        if not all(0 < value < float("inf") for value in retry):
            parser.error("the --notification-retry-* values must be positive numbers of seconds")
        return args.command, settings


def _coerce(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    return raw
