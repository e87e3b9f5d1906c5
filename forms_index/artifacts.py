"""Versioned index artefacts on disk, and the atomic ``current`` pointer.

Layout under the index root::

    <root>/<version>/index.faiss     vectors (faiss.IndexFlatIP, inner product = cosine)
    <root>/<version>/meta.json       what the version is: rows, model, normalisation, hashes
    <root>/<version>/catalogue.jsonl the entries it serves (JSONL, never pickle)
    <root>/<version>/aliases.json    the alias map it was built with
    <root>/<version>/lexicon.tsv     the citizen vocabulary it expands queries with
    <root>/current                   the name of the live version (one line)

A version is written into ``<root>/.building-<version>/`` and renamed into place only
when complete, so a reader never sees a half-written version; ``current`` is replaced
with ``os.replace`` of a fully written temporary file, so a reader sees the old or the
new name and nothing in between. A failed or killed build leaves only a
``.building-*`` folder, which is ignored and cleaned up by the next build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forms_index.errors import IndexArtifactError

#: Bumped when the artefact layout or the meaning of its fields changes.
FORMAT_VERSION = 1
FILES = ("index.faiss", "catalogue.jsonl", "aliases.json", "lexicon.tsv")
_VERSION_RE = re.compile(r"^\d{8}T\d{6}\d{3}Z-[0-9a-f]{8}$")
CURRENT = "current"


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    meta: dict[str, Any]
    current: bool


def new_version_name(content_hash: str) -> str:
    """Sortable by time: ``20261126T113000123Z-<8 hex of the content hash>``."""
    now = datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z-{content_hash[:8]}"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class IndexStore:
    """The versions under one index root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- reading -------------------------------------------------------------------
    def current_version(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current_path(self) -> Path:
        name = self.current_version()
        if name is None:
            raise IndexArtifactError(
                f"no index has been built in {self.root}: run `python -m forms_index build`"
            )
        path = self.root / name
        if not path.is_dir():
            raise IndexArtifactError(
                f"the current index version {name} is missing from {self.root}"
            )
        return path

    def path(self, version: str) -> Path:
        if not _VERSION_RE.match(version):
            raise IndexArtifactError(f"{version!r} is not an index version name")
        path = self.root / version
        if not path.is_dir():
            raise IndexArtifactError(f"index version {version} does not exist")
        return path

    def versions(self) -> list[VersionInfo]:
        """Complete versions, newest first (unreadable ones are skipped)."""
        if not self.root.is_dir():
            return []
        current = self.current_version()
        out = []
        for child in sorted(self.root.iterdir(), reverse=True):
            if not (child.is_dir() and _VERSION_RE.match(child.name)):
                continue
            try:
                meta = read_meta(child)
            except IndexArtifactError:
                continue
            out.append(VersionInfo(child.name, child, meta, child.name == current))
        return out

    # -- writing -------------------------------------------------------------------
    @contextlib.contextmanager
    def building(self, version: str) -> Iterator[Path]:
        """A scratch folder that becomes ``<root>/<version>`` only if the block succeeds."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.clean_stale_builds()
        scratch = self.root / f".building-{version}"
        scratch.mkdir()
        (scratch / ".pid").write_text(str(os.getpid()))
        try:
            yield scratch
            (scratch / ".pid").unlink()
            for name in (*FILES, "meta.json"):
                f = scratch / name
                if not f.exists():
                    raise IndexArtifactError(f"build of {version} did not write {name}")
                with f.open("rb") as fh:
                    os.fsync(fh.fileno())
            os.rename(scratch, self.root / version)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise

    def set_current(self, version: str) -> None:
        """Point ``current`` at a complete version, atomically."""
        path = self.path(version)
        read_meta(path)  # refuse to point at something unreadable
        tmp = self.root / f".{CURRENT}.{os.getpid()}.{time.monotonic_ns()}"
        with tmp.open("w", encoding="utf-8") as f:
            f.write(version + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / CURRENT)
        _fsync_dir(self.root)

    def clean_stale_builds(self, older_than_s: float = 0.0) -> None:
        """Remove scratch folders left by failed or killed builds."""
        if not self.root.is_dir():
            return
        now = time.time()
        for child in self.root.glob(".building-*"):
            if now - child.stat().st_mtime >= older_than_s and not _owner_alive(child):
                shutil.rmtree(child, ignore_errors=True)

    def prune(self, keep: int) -> list[str]:
        """Delete the oldest versions beyond ``keep`` (never the current one)."""
        removed = []
        for info in self.versions()[keep:]:
            if not info.current:
                shutil.rmtree(info.path, ignore_errors=True)
                removed.append(info.version)
        return removed


def _owner_alive(scratch: Path) -> bool:
    """A build in progress in another process of this machine leaves its pid."""
    try:
        pid = int((scratch / ".pid").read_text())
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Write ``meta.json`` with checksums of the other files (write it last)."""
    meta = dict(meta)
    meta["format_version"] = FORMAT_VERSION
    meta["files"] = {name: file_sha256(folder / name) for name in FILES}
    (folder / "meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def read_meta(folder: Path) -> dict[str, Any]:
    """Read and sanity-check ``meta.json`` (not the checksums: see :func:`verify_files`)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexArtifactError(f"index version {folder.name} has no meta.json") from exc
    except (OSError, ValueError) as exc:
        raise IndexArtifactError(
            f"index version {folder.name}: meta.json is corrupt ({exc})"
        ) from exc
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        found = meta.get("format_version") if isinstance(meta, dict) else None
        raise IndexArtifactError(
            f"index version {folder.name} has format {found!r}, this code reads "
            f"{FORMAT_VERSION}: rebuild it with `python -m forms_index build`"
        )
    for key in ("rows", "model_id", "dim", "normalization", "catalogue_hash", "files"):
        if key not in meta:
            raise IndexArtifactError(f"index version {folder.name}: meta.json lacks {key!r}")
    return meta


def verify_files(folder: Path, meta: dict[str, Any]) -> None:
    """Refuse a version whose files are missing or differ from their recorded checksums."""
    unlisted = [name for name in FILES if name not in meta["files"]]
    if unlisted:
        raise IndexArtifactError(
            f"index version {folder.name} lacks {', '.join(unlisted)}: rebuild it"
        )
    for name, digest in meta["files"].items():
        path = folder / name
        if not path.exists():
            raise IndexArtifactError(f"index version {folder.name} is missing {name}")
        if file_sha256(path) != digest:
            raise IndexArtifactError(
                f"index version {folder.name}: {name} is corrupt (checksum mismatch)"
            )
