"""Catalogue validation: every bad row is reported by line and field; valid files are quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forms_index.catalogue import Reference, load_catalogue, parse_catalogue
from forms_index.settings import IndexSettings

SETTINGS = IndexSettings()
REFERENCE = Reference.load(SETTINGS.reference_path)
GOOD = {
    "id": "ird-test",
    "form_no": "IR 99",
    "kind": "form",
    "title_en": "Test form",
    "title_zh": "測試表格",
    "department_code": "IRD",
    "department_en": "Inland Revenue Department",
    "department_zh": "稅務局",
    "topic": "tax",
    "url": "https://www.ird.gov.hk/eng/paf/for.htm",
    "aliases": ["測試"],
}


def _jsonl(*rows: object) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def _errors(data: bytes, fmt: str = "jsonl") -> list[tuple[int, str]]:
    return [(e.line, e.field) for e in parse_catalogue(data, REFERENCE, fmt=fmt).errors]


def test_the_real_catalogue_is_valid() -> None:
    result = load_catalogue(SETTINGS.catalogue_path, REFERENCE)
    assert result.errors == []
    assert len(result.entries) >= 682
    assert len({e.id for e in result.entries}) == len(result.entries)


def test_a_good_row_passes() -> None:
    result = parse_catalogue(_jsonl(GOOD), REFERENCE)
    assert result.valid and result.entries[0].aliases == ("測試",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title_en": ""}, "title_en"),
        ({"url": "http://www.ird.gov.hk/x"}, "url"),
        ({"url": "www.ird.gov.hk"}, "url"),
        ({"department_code": "NOPE"}, "department_code"),
        ({"topic": "astrology"}, "topic"),
        ({"kind": "leaflet"}, "kind"),
        ({"id": "Has Spaces"}, "id"),
    ],
)
def test_each_kind_of_bad_field_is_reported_with_its_line(change: dict, field: str) -> None:
    assert _errors(_jsonl(GOOD, {**GOOD, "id": "ird-other", **change})) == [(2, field)]


def test_missing_english_title_is_a_missing_bilingual_title() -> None:
    row = {k: v for k, v in GOOD.items() if k != "title_en"}
    result = parse_catalogue(_jsonl(row), REFERENCE)
    assert [(e.line, e.field) for e in result.errors] == [(1, "title_en")]
    assert "bilingual title" in result.errors[0].message


def test_bad_json_and_non_objects_are_reported_per_line() -> None:
    data = _jsonl(GOOD, "{not json", "[1, 2]", {**GOOD, "id": "ird-b"})
    assert _errors(data) == [(2, "(json)"), (3, "(json)")]


def test_duplicate_id_names_the_first_line() -> None:
    result = parse_catalogue(_jsonl(GOOD, {**GOOD, "title_en": "Again"}), REFERENCE)
    assert [(e.line, e.field) for e in result.errors] == [(2, "id")]
    assert "line 1" in result.errors[0].message


def test_all_problems_of_a_row_are_reported_together() -> None:
    row = {**GOOD, "kind": "x", "department_code": "NOPE", "topic": "nope"}
    assert {f for _, f in _errors(_jsonl(row))} == {"kind", "department_code", "topic"}


def test_missing_chinese_title_is_a_warning_not_an_error() -> None:
    result = parse_catalogue(_jsonl({**GOOD, "title_zh": ""}), REFERENCE)
    assert result.valid
    assert [w.field for w in result.warnings] == ["title_zh"]


def test_binary_and_non_utf8_files_are_refused_politely() -> None:
    assert _errors(b"\x00\x01\x02binary") == [(1, "(file)")]
    assert _errors(b"\xff\xfe\xfa") == [(1, "(file)")]


def test_csv_with_the_same_columns_and_pipe_separated_aliases() -> None:
    header = "id,kind,title_en,title_zh,department_code,topic,url,aliases\n"
    rows = (
        'ird-a,form,A form,甲表,IRD,tax,https://www.ird.gov.hk/a,"報稅|tax"\n'
        'ird-b,form,"Two\nlines",乙表,IRD,tax,https://www.ird.gov.hk/b,\n'
        "ird-c,form,,丙表,IRD,tax,ftp://x,\n"
    )
    result = parse_catalogue((header + rows).encode(), REFERENCE, fmt="csv")
    assert [e.id for e in result.entries] == ["ird-a", "ird-b"]
    assert result.entries[0].aliases == ("報稅", "tax")
    # The bad row starts on line 5 of the file (the quoted title spans lines 3-4).
    assert sorted((e.line, e.field) for e in result.errors) == [(5, "title_en"), (5, "url")]


def test_csv_without_required_columns_is_refused() -> None:
    assert _errors(b"id,title_en\nx,y\n", fmt="csv") == [(1, "(header)")]


def _validate(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forms_index", "validate", str(path), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_cli_is_quiet_on_a_valid_file() -> None:
    proc = _validate(SETTINGS.catalogue_path)
    assert proc.returncode == 0
    assert proc.stdout == "" and proc.stderr == ""


def test_validate_cli_reports_every_bad_row_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(
        _jsonl(GOOD, "{oops", {**GOOD, "url": "http://x"}, {**GOOD, "id": "x2", "topic": "t"})
    )
    proc = _validate(bad)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert any(":line 2: (json):" in line for line in lines)
    assert any(":line 3: id: duplicate" in line for line in lines)
    assert any(":line 3: url:" in line for line in lines)
    assert any(":line 4: topic:" in line for line in lines)


def test_validate_cli_strict_makes_a_missing_chinese_title_an_error(tmp_path: Path) -> None:
    path = tmp_path / "no-chinese.jsonl"
    path.write_bytes(_jsonl(GOOD, {**GOOD, "id": "ird-test-2", "title_zh": ""}))
    assert _validate(path).returncode == 0
    strict = _validate(path, "--strict")
    assert strict.returncode == 1
    assert ":line 2: title_zh:" in strict.stderr
