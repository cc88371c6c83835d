"""The layout of a source directory (shared test data and pull cache alike), and its JSON files.

::

    refs.json                   remote $ref document URL -> local path (relative to the directory)
    contexts.json               remote @context URL -> local path
    <Domain>/<Type>/schema.json
    <Domain>/context.jsonld
    common/...                  the files the two maps point to
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datamodels.catalog import ModelRef

REFS_FILE = "refs.json"
CONTEXTS_FILE = "contexts.json"
SCHEMA_FILE = "schema.json"
CONTEXT_FILE = "context.jsonld"
COMMON_DIR = "common"


@dataclass(frozen=True, slots=True)
class LoadError:
    """A file of the source that could not be used, and why."""

    file: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def schema_path(directory: Path, ref: ModelRef) -> Path:
    return directory / ref.domain / ref.type_name / SCHEMA_FILE


def context_path(directory: Path, domain: str) -> Path:
    return directory / domain / CONTEXT_FILE


def read_json(path: Path) -> Any:
    """The parsed file, or a LoadError saying why it could not be read or parsed."""
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        return LoadError(path, f"cannot read the file: {exc.strerror or exc}")
    except (ValueError, RecursionError) as exc:
        return LoadError(path, f"invalid JSON: {exc}")


def read_map(directory: Path, name: str, errors: list[LoadError]) -> dict[str, Path]:
    """A URL -> path map file, paths made absolute (an absent file maps nothing)."""
    path = directory / name
    if not path.exists():
        return {}
    mapping = read_json(path)
    if isinstance(mapping, LoadError):
        errors.append(mapping)
        return {}
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        errors.append(LoadError(path, "expected a JSON object mapping URLs to relative paths"))
        return {}
    return {url: directory / relative for url, relative in mapping.items()}


def write_bytes_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` in one step, so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, document: Any) -> None:
    write_bytes_atomically(path, (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
