"""``python -m datamodels pull|validate|list``: pull models into a cache, validate an entity file
against them, list what a source holds.

Exit codes: 0 success (valid), 1 the requested check failed (violations, failed downloads, load
errors), 2 the command could not run (usage, unknown type, unreadable or invalid input).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from datamodels.catalog import lookup
from datamodels.errors import DataModelsError, UnknownModel
from datamodels.pull import PullLimits, pull
from datamodels.simplify import simplify
from datamodels.source import load, type_name_of

DEFAULT_CACHE = Path("var/datamodels")
OK, FAILED, UNUSABLE = 0, 1, 2


class _Unusable(Exception):
    """The command cannot run; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (_Unusable, DataModelsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return UNUSABLE
    return code


def _pull(args: argparse.Namespace) -> int:
    refs = [lookup(name) for name in args.types]
    limits = PullLimits()
    try:
        with httpx.Client(timeout=limits.timeout_s) as client:
            report = pull(refs, args.cache, client, limits)
    except OSError as exc:
        raise _Unusable(f"cannot write to the cache {args.cache}: {exc}") from exc
    for ref in report.pulled:
        print(f"pulled {ref}")
    for failure in report.failures:
        print(f"failed {failure.ref}: {failure.url}: {failure.reason}", file=sys.stderr)
    return OK if report.ok else FAILED


def _validate(args: argparse.Namespace) -> int:
    entity = simplify(_read_entity(args.file))
    entity_type = args.type or _entity_type(entity)
    library = load(_source(args), types=[type_name_of(entity_type)])
    try:
        model = library.model_for(entity_type)
    except UnknownModel as exc:
        why = "".join(f"; {error}" for error in library.errors)
        raise _Unusable(f"{exc}{why}") from exc
    if isinstance(entity.get("type"), str) and type_name_of(entity["type"]) == model.ref.type_name:
        # An expanded type IRI names the same type; the schemas' type enums list the short name.
        entity["type"] = model.ref.type_name
    found = model.validate(entity)
    for violation in found:
        print(violation)
    return FAILED if found else OK


def _list(args: argparse.Namespace) -> int:
    library = load(_source(args))
    for model in sorted(library.models.values(), key=lambda m: str(m.ref)):
        print(model.ref)
    for error in library.errors:
        print(f"error: {error}", file=sys.stderr)
    return FAILED if library.errors else OK


def _read_entity(file: Path) -> dict[str, Any]:
    try:
        entity = json.loads(file.read_bytes())
    except OSError as exc:
        raise _Unusable(f"cannot read {file}: {exc.strerror or exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise _Unusable(f"{file} is not valid JSON: {exc}") from exc
    if not isinstance(entity, dict):
        raise _Unusable(f"{file} does not hold a JSON object (an entity)")
    return entity


def _entity_type(entity: dict[str, Any]) -> str:
    entity_type = entity.get("type")
    if not isinstance(entity_type, str) or not entity_type:
        raise _Unusable("the entity has no string 'type'; name the model with --type")
    return entity_type


def _source(args: argparse.Namespace) -> Path:
    source: Path = args.source or args.cache
    if not source.is_dir():
        raise _Unusable(f"{source} is not a directory: pull models into it first, or name a source with --source")
    return source


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m datamodels", description="Smart Data Models: pull, validate, list."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    pull_command = commands.add_parser("pull", help="download models (TYPE or Domain/Type) into the cache")
    pull_command.add_argument("types", nargs="+", metavar="TYPE")
    pull_command.set_defaults(run=_pull)

    validate_command = commands.add_parser("validate", help="validate an entity file (keyValues or normalized)")
    validate_command.add_argument("file", type=Path, metavar="FILE")
    validate_command.add_argument("--type", help="the model to validate against (default: the entity's type)")
    validate_command.set_defaults(run=_validate)

    list_command = commands.add_parser("list", help="list the models of a source (load errors on stderr)")
    list_command.set_defaults(run=_list)

    for command in (pull_command, validate_command, list_command):
        command.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"default: {DEFAULT_CACHE}")
    for command in (validate_command, list_command):
        command.add_argument("--source", type=Path, help="an offline source directory (default: the cache)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
