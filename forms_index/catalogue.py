"""The forms catalogue: its schema, and reading it from JSONL or CSV with row-level errors.

A catalogue file is read whole; every bad row is reported with its line number and
field, and nothing is raised for a bad row, so content staff see all problems at once.
Only a file that cannot be read at all raises :class:`CatalogueError`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from forms_index.errors import CatalogueError

#: Columns in the order they are written (JSONL keys, CSV header).
COLUMNS: tuple[str, ...] = (
    "id",
    "form_no",
    "kind",
    "title_en",
    "title_zh",
    "title_zh_unofficial",
    "title_zh_basis",
    "department_code",
    "department_en",
    "department_zh",
    "topic",
    "description_en",
    "description_zh",
    "url",
    "aliases",
    "source",
    "confidence",
    "note",
)
#: In a CSV cell, aliases are separated by this character.
CSV_ALIAS_SEPARATOR = "|"
#: Largest catalogue file accepted (bytes).
MAX_FILE_BYTES = 50 * 1024 * 1024


class Entry(BaseModel):
    """One government form or e-service."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, frozen=True)

    id: str
    form_no: str = ""
    kind: Literal["form", "e-service"]
    title_en: str
    title_zh: str = ""
    title_zh_unofficial: str = ""
    title_zh_basis: str = ""
    department_code: str
    department_en: str = ""
    department_zh: str = ""
    topic: str
    description_en: str = ""
    description_zh: str = ""
    url: str
    aliases: tuple[str, ...] = ()
    source: str = ""
    confidence: str = ""
    note: str = ""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not v:
            raise ValueError("missing id")
        if not all(c.isascii() and (c.isalnum() or c in "-_.") for c in v) or v != v.lower():
            raise ValueError(f"id {v!r} must be lower-case ASCII letters, digits, '-', '_' or '.'")
        return v

    @field_validator("title_en")
    @classmethod
    def _title_en(cls, v: str) -> str:
        if not v:
            raise ValueError(
                "missing English title (title_en): every entry needs a bilingual title"
            )
        return v

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme != "https" or not parts.netloc or " " in v:
            raise ValueError(f"url must be an absolute https URL, got {v!r}")
        return v

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v: object) -> object:
        if isinstance(v, str):
            v = [a for a in v.split(CSV_ALIAS_SEPARATOR)]
        if isinstance(v, list | tuple):
            return tuple(dict.fromkeys(str(a).strip() for a in v if str(a).strip()))
        return v

    @property
    def title_zh_any(self) -> str:
        """The Chinese title for matching: official if known, else our rendering."""
        return self.title_zh or self.title_zh_unofficial

    def to_row(self) -> dict[str, object]:
        """The entry as a JSON object, known columns first, unknown ones kept."""
        data = self.model_dump()
        row: dict[str, object] = {k: data.pop(k) for k in COLUMNS}
        row["aliases"] = list(self.aliases)
        row.update(data)
        return row


@dataclass(frozen=True)
class RowError:
    """A problem with one row (``line`` is 1-based in the file as uploaded)."""

    line: int
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Reference:
    """Known department codes (with their names) and topics."""

    departments: dict[str, dict[str, str]]
    topics: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path) -> Reference:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(departments=dict(data["departments"]), topics=dict(data["topics"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CatalogueError(f"cannot read the reference file {path}: {exc}") from exc

    def to_json(self) -> dict[str, object]:
        return {"departments": self.departments, "topics": self.topics}


@dataclass
class LoadResult:
    """The valid entries of a file, and every problem found in it."""

    entries: list[Entry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def valid(self) -> bool:
        return not self.errors


def load_catalogue(path: Path, reference: Reference) -> LoadResult:
    """Read and validate a catalogue file (``.jsonl`` or ``.csv`` by extension)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CatalogueError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"cannot read {path}: {exc.strerror or exc}") from exc
    fmt = "csv" if path.suffix.lower() == ".csv" else "jsonl"
    return parse_catalogue(data, reference, fmt=fmt)


def parse_catalogue(
    data: bytes, reference: Reference, *, fmt: Literal["jsonl", "csv"] = "jsonl"
) -> LoadResult:
    """Validate catalogue bytes; every bad row is reported by line and field."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return LoadResult(errors=[RowError(1, "(file)", f"not UTF-8 text: {exc.reason}")])
    if "\x00" in text:
        return LoadResult(errors=[RowError(1, "(file)", "binary data, not a JSONL or CSV file")])
    rows = _csv_rows(text) if fmt == "csv" else _jsonl_rows(text)
    return validate_rows(rows, reference)


def validate_rows(
    rows: Iterable[tuple[int, dict[str, object] | RowError]], reference: Reference
) -> LoadResult:
    """Validate parsed rows (line, object-or-parse-error)."""
    result = LoadResult()
    first_line_of: dict[str, int] = {}
    for line, row in rows:
        result.rows += 1
        if isinstance(row, RowError):
            result.errors.append(row)
            continue
        problems = _check_reference(line, row, reference)
        raw_id = str(row.get("id") or "").strip()
        if raw_id and raw_id in first_line_of:
            problems.append(
                RowError(
                    line,
                    "id",
                    f"duplicate id {raw_id!r} (first used on line {first_line_of[raw_id]})",
                )
            )
        elif raw_id:
            first_line_of[raw_id] = line
        try:
            entry = Entry.model_validate(row)
        except ValidationError as exc:
            result.errors.extend(sorted(_row_errors(line, exc) + problems, key=_field_order))
            continue
        if problems:
            result.errors.extend(sorted(problems, key=_field_order))
            continue
        if not entry.title_zh_any:
            result.warnings.append(
                RowError(
                    line,
                    "title_zh",
                    "no Chinese title (title_zh or title_zh_unofficial): Chinese users "
                    "will see the English title",
                    "warning",
                )
            )
        result.entries.append(entry)
    return result


def _jsonl_rows(text: str) -> Iterable[tuple[int, dict[str, object] | RowError]]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, RowError(line_no, "(json)", f"bad JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(obj, dict):
            yield line_no, RowError(line_no, "(json)", "each line must be a JSON object")
            continue
        yield line_no, obj


def _csv_rows(text: str) -> Iterable[tuple[int, dict[str, object] | RowError]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [
        c for c in ("id", "kind", "title_en", "department_code", "topic", "url") if c not in header
    ]
    if missing:
        yield 1, RowError(1, "(header)", f"missing column(s): {', '.join(missing)}")
        return
    line_no = reader.line_num
    for raw in reader:
        start = line_no + 1
        line_no = reader.line_num
        if None in raw:
            yield start, RowError(start, "(csv)", "more cells than header columns")
            continue
        row = {k: v for k, v in raw.items() if k and (v is not None)}
        if not any(str(v).strip() for v in row.values()):
            continue
        yield start, row


def _row_errors(line: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(row)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = f"missing required field {loc!r}"
            if loc == "title_en":
                msg += ": every entry needs a bilingual title"
        elif err["type"] == "literal_error" and loc == "kind":
            msg = f"kind must be 'form' or 'e-service', got {err.get('input')!r}"
        out.append(RowError(line, loc, msg))
    return out


def _check_reference(line: int, row: dict[str, object], reference: Reference) -> list[RowError]:
    out = []
    code = row.get("department_code")
    if isinstance(code, str) and code.strip() and code.strip() not in reference.departments:
        out.append(RowError(line, "department_code", f"unknown department {code.strip()!r}"))
    topic = row.get("topic")
    if isinstance(topic, str) and topic.strip() and topic.strip() not in reference.topics:
        known = ", ".join(sorted(reference.topics))
        out.append(RowError(line, "topic", f"unknown topic {topic.strip()!r} (known: {known})"))
    return out


def _field_order(err: RowError) -> int:
    return COLUMNS.index(err.field) if err.field in COLUMNS else len(COLUMNS)


def with_reference_names(entry: Entry, reference: Reference) -> Entry:
    """Fill empty department names from the reference."""
    dept = reference.departments.get(entry.department_code, {})
    updates = {}
    if not entry.department_en and dept.get("en"):
        updates["department_en"] = dept["en"]
    if not entry.department_zh and dept.get("zh"):
        updates["department_zh"] = dept["zh"]
    return entry.model_copy(update=updates) if updates else entry


def dump_jsonl(entries: Sequence[Entry]) -> str:
    """Entries as JSONL text (UTF-8, one object per line)."""
    return "".join(json.dumps(e.to_row(), ensure_ascii=False) + "\n" for e in entries)


def catalogue_hash(
    entries: Sequence[Entry], aliases: dict[str, list[str]], lexicon: str = ""
) -> str:
    """A stable hash of what an index is built from."""
    h = hashlib.sha256()
    h.update(dump_jsonl(entries).encode())
    h.update(json.dumps(aliases, ensure_ascii=False, sort_keys=True).encode())
    h.update(lexicon.encode())
    return h.hexdigest()


def load_aliases(path: Path) -> dict[str, list[str]]:
    """The colloquial aliases file: ``{term: [entry ids]}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"cannot read aliases {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, list) for k, v in data.items()
    ):
        raise CatalogueError(f"{path} must map each term to a list of entry ids")
    return {k: [str(i) for i in v] for k, v in data.items()}


def check_aliases(aliases: dict[str, list[str]], ids: set[str]) -> list[str]:
    """Problems in an aliases mapping: terms that point at unknown entries."""
    return [
        f"alias {term!r} points at unknown id {i!r}"
        for term, targets in aliases.items()
        for i in targets
        if i not in ids
    ]
