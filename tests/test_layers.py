"""The import rule of ngsild/__init__.py, enforced by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ngsild"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): imports_of(p) for p in sorted(ROOT.rglob("*.py"))}


def layer(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


def internal(imports: set[str]) -> set[str]:
    return {i for i in imports if i.startswith("ngsild.") and i.split(".")[1] in _MODULE_ROOTS}


_MODULE_ROOTS = {p.stem if p.is_file() else p.name for p in ROOT.iterdir() if not p.name.startswith("__")}
PURE = {
    "ngsild.updates",
    "ngsild.validate",
    "ngsild.render",
    "ngsild.jsonld",
    "ngsild.model",
    "ngsild.geojson",
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_nothing_but_the_cli_imports_http(name: str) -> None:
    """Only the HTTP edge itself (and the CLI that starts it) may import ngsild.http."""
    if name.startswith("ngsild.http") or name == "ngsild.__main__":
        return
    assert not {i for i in MODULES[name] if i.startswith("ngsild.http")}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("ngsild.services")))
def test_services_do_not_import_starlette(name: str) -> None:
    """Use cases are plain async functions: no web framework below the HTTP edge."""
    assert not {i for i in MODULES[name] if i.split(".")[0] == "starlette"}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("ngsild.query")))
def test_query_imports_only_model_and_errors(name: str) -> None:
    """The query semantics are pure: they import the vocabulary, the errors, GeoJSON validation and
    themselves."""
    allowed = ("ngsild.model", "ngsild.errors", "ngsild.geojson", "ngsild.query")
    assert all(i.startswith(allowed) for i in internal(MODULES[name])), internal(MODULES[name])


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("ngsild.store")))
def test_store_imports_only_query_model_errors(name: str) -> None:
    """Adapters know the query AST, the vocabulary and the errors, nothing of NGSI-LD semantics."""
    allowed = ("ngsild.model", "ngsild.errors", "ngsild.query", "ngsild.store")
    assert all(i.startswith(allowed) for i in internal(MODULES[name])), internal(MODULES[name])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_the_store_touches_databases(name: str) -> None:
    """sqlite3 and pymongo are imported by ngsild.store alone."""
    if name.startswith("ngsild.store"):
        return
    assert not {i for i in MODULES[name] if i.split(".")[0] in ("sqlite3", "pymongo")}


@pytest.mark.parametrize("name", sorted(PURE))
def test_pure_modules_do_no_io(name: str) -> None:
    """Write semantics, validation, rendering and JSON-LD term handling do no I/O."""
    io = {"httpx", "starlette", "sqlite3", "pymongo", "socket", "asyncio"}
    assert not {i for i in MODULES[name] if i.split(".")[0] in io}
    assert not {i for i in internal(MODULES[name]) if layer(i) in ("ngsild.store", "ngsild.services")}


DATAMODELS = Path(__file__).resolve().parents[1] / "datamodels"


@pytest.mark.parametrize("path", sorted(DATAMODELS.glob("*.py")), ids=lambda p: p.name)
def test_datamodels_stands_on_its_own(path: Path) -> None:
    """Usable without the broker: no datamodels module imports ngsild."""
    assert not {name for name in imports_of(path) if name.split(".")[0] == "ngsild"}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_services_use_datamodels(name: str) -> None:
    """Data-model validation is a use-case concern: below the HTTP edge, above the pure modules."""
    if name.startswith("ngsild.services"):
        return
    assert not {i for i in MODULES[name] if i.split(".")[0] == "datamodels"}
