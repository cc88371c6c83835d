"""Download models from upstream into a cache directory laid out like any offline source.

For each model: its ``schema.json``, every document its ``$ref``s reach (transitively, fragments
stripped) and its subject's ``context.jsonld``; refs.json and contexts.json are updated so that
``source.load(cache)`` works offline afterwards. Every download is bounded in time and size, and
the documents one model may need are bounded in number, so a hostile or broken upstream cannot
make a pull crawl forever. A failure fails that model only, and names the URL that failed.

A model's files are written only once all of them were downloaded, so the cache never holds a
schema whose references are missing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from datamodels.catalog import ModelRef
from datamodels.layout import (
    COMMON_DIR,
    CONTEXTS_FILE,
    REFS_FILE,
    LoadError,
    context_path,
    read_json,
    schema_path,
    write_bytes_atomically,
    write_json,
)
from datamodels.refs import remote_documents

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class PullLimits:
    timeout_s: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    max_documents_per_model: int = 50  # schema + context + the $ref closure


@dataclass(frozen=True, slots=True)
class PullFailure:
    ref: ModelRef
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.ref}: {self.url}: {self.reason}"


@dataclass
class PullReport:
    pulled: list[ModelRef] = field(default_factory=list)
    failures: list[PullFailure] = field(default_factory=list)
    downloads: int = 0  # HTTP requests made; a document shared by several models is fetched once

    @property
    def ok(self) -> bool:
        return not self.failures


class _Failed(Exception):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.url, self.reason = url, reason


def pull(refs: Sequence[ModelRef], cache: Path, client: httpx.Client, limits: PullLimits | None = None) -> PullReport:
    """Download ``refs`` into ``cache`` (created if needed) and report what was pulled and what failed.

    Download problems are failures in the report; an OSError writing the cache is raised."""
    downloader = _Downloader(client, limits or PullLimits())
    report = PullReport()
    ref_map, context_map = _existing_map(cache, REFS_FILE), _existing_map(cache, CONTEXTS_FILE)
    for ref in dict.fromkeys(refs):
        try:
            files, new_refs, new_contexts = _model_files(ref, cache, downloader)
        except _Failed as failed:
            report.failures.append(PullFailure(ref, failed.url, failed.reason))
            continue
        for path, content in files.items():
            write_bytes_atomically(path, content)
        ref_map.update(new_refs)
        context_map.update(new_contexts)
        write_json(cache / REFS_FILE, ref_map)
        write_json(cache / CONTEXTS_FILE, context_map)
        report.pulled.append(ref)
    report.downloads = downloader.requests
    return report


def document_path(url: str) -> str:
    """Where a ``$ref``-ed document is kept, relative to the cache: ``common/<host>/<path>``.

    Stable (the same URL always lands in the same place) and confined to ``common/``; when making a
    segment safe changed it, a hash of the URL keeps two different URLs apart."""
    parts = urlsplit(url)
    segments = [parts.netloc, *(s for s in parts.path.split("/") if s)]
    if parts.path.endswith("/") or len(segments) == 1:
        segments.append("index.json")
    safe = [_UNSAFE.sub("_", s) if s not in (".", "..") else "_" for s in segments]
    if safe != segments or parts.query:
        safe[-1] += "-" + hashlib.sha256(url.encode()).hexdigest()[:12]
    return "/".join([COMMON_DIR, *safe])


def _model_files(
    ref: ModelRef, cache: Path, downloader: _Downloader
) -> tuple[dict[Path, bytes], dict[str, str], dict[str, str]]:
    """Everything ``ref`` needs, downloaded: files to write, refs.json and contexts.json entries."""
    needed = 0

    def fetch(url: str) -> tuple[bytes, Any]:
        nonlocal needed
        needed += 1
        if needed > downloader.limits.max_documents_per_model:
            raise _Failed(url, f"the model needs more than {downloader.limits.max_documents_per_model} documents")
        return downloader.get(url)

    files: dict[Path, bytes] = {}
    new_refs: dict[str, str] = {}
    raw, schema = fetch(ref.schema_url)
    if not isinstance(schema, dict):
        raise _Failed(ref.schema_url, "the schema is not a JSON object")
    files[schema_path(cache, ref)] = raw
    pending = remote_documents(schema, ref.schema_url)
    while pending:
        url = pending.pop(0)
        if url in new_refs:
            continue
        raw, document = fetch(url)
        if not isinstance(document, dict):
            raise _Failed(url, "the referenced schema is not a JSON object")
        new_refs[url] = document_path(url)
        files[cache / new_refs[url]] = raw
        pending.extend(remote_documents(document, url))
    raw, context = fetch(ref.context_url)
    if not isinstance(context, dict) or "@context" not in context:
        raise _Failed(ref.context_url, "the document has no top-level @context member")
    files[context_path(cache, ref.domain)] = raw
    context_relative = context_path(cache, ref.domain).relative_to(cache).as_posix()
    return files, new_refs, {ref.context_url: context_relative}


@dataclass
class _Downloader:
    """GETs bounded in time and size; each URL is fetched once per pull, failures included."""

    client: httpx.Client
    limits: PullLimits
    requests: int = 0
    _results: dict[str, tuple[bytes, Any] | _Failed] = field(default_factory=dict)

    def get(self, url: str) -> tuple[bytes, Any]:
        if url not in self._results:
            try:
                self._results[url] = self._download(url)
            except _Failed as failed:
                self._results[url] = failed
        result = self._results[url]
        if isinstance(result, _Failed):
            raise result
        return result

    def _download(self, url: str) -> tuple[bytes, Any]:
        self.requests += 1
        cap = self.limits.max_bytes
        try:
            with self.client.stream(
                "GET", url, timeout=self.limits.timeout_s, follow_redirects=True, headers={"Accept": "application/json"}
            ) as response:
                if response.status_code != 200:
                    raise _Failed(url, f"HTTP {response.status_code}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise _Failed(url, f"the document is larger than {cap} bytes ({declared} declared)")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > cap:
                        raise _Failed(url, f"the document is larger than {cap} bytes")
        except httpx.HTTPError as exc:
            raise _Failed(url, f"{type(exc).__name__}: {exc}") from exc
        try:
            return bytes(body), json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise _Failed(url, f"invalid JSON: {exc}") from exc


def _existing_map(cache: Path, name: str) -> dict[str, str]:
    """The cache's current URL -> path map; an unreadable one is rebuilt from this pull on."""
    mapping = read_json(cache / name)
    if isinstance(mapping, LoadError) or not isinstance(mapping, dict):
        return {}
    return {url: path for url, path in mapping.items() if isinstance(url, str) and isinstance(path, str)}
