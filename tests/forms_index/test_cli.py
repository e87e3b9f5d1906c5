"""The command line, run as a user runs it: the search contract, eval, import, versions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forms_index.artifacts import IndexStore
from forms_index.settings import IndexSettings

SETTINGS = IndexSettings()


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "forms_index", *args],
        input=stdin.encode(),
        capture_output=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def current_index() -> str:
    version = IndexStore(SETTINGS.index_dir).current_version()
    if version is None:
        pytest.skip("no index built: run `make setup`")
    return version


def test_search_jsonl_contract(current_index: str) -> None:
    queries = ["IR56B", "", "   ", "生果金點申請", '"quoted" \\ <b>x</b>', "我想renew passport"]
    proc = run_cli("search", "--jsonl", "--top-k", "3", stdin="\n".join(queries) + "\n")
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == len(queries)
    answers = [json.loads(line) for line in lines]
    assert [a["query"] for a in answers] == queries
    assert answers[0]["results"][0]["id"] == "ird-ir56b"
    assert answers[1]["results"] == [] and answers[2]["results"] == []
    assert all(len(a["results"]) <= 3 for a in answers)
    # extension: markup with no meaning matches nothing well
    assert [a["low_confidence"] for a in answers] == [False, False, False, False, True, False]
    for a in answers:
        assert a["index_version"] == current_index
        for r in a["results"]:
            assert {
                "id",
                "form_no",
                "score",
                "title_en",
                "title_zh",
                "department_code",
                "url",
                "why",
                "kind",
            } <= set(r)


def test_search_reads_a_last_line_without_newline(current_index: str) -> None:
    proc = run_cli("search", "--jsonl", "--top-k", "1", stdin="BIR60\nTD557")
    answers = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [a["query"] for a in answers] == ["BIR60", "TD557"]


def test_eval_reports_both_systems_by_style_and_kind(current_index: str, tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {"query": "BIR60", "gold": ["ird-bir60"], "style": "en", "kind": "number"},
                {
                    "query": "生果金點申請",
                    "gold": ["swd-ssa-application"],
                    "style": "yue",
                    "kind": "colloquial",
                },
            ]
        ),
        encoding="utf-8",
    )
    proc = run_cli("eval", "--queries", str(queries), "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    report = json.loads(proc.stdout)
    systems = report["systems"]
    assert set(systems) == {"hybrid", "bm25"}
    assert {"overall", "style:en", "style:yue", "kind:number", "kind:colloquial"} <= set(
        systems["hybrid"]
    )
    assert systems["hybrid"]["overall"]["recall@1"] == 1.0


def test_a_missing_model_is_a_clear_error_not_a_download(tmp_path: Path) -> None:
    proc = run_cli("search", "x", env={"EMBEDDING_MODEL": str(tmp_path / "no-model")})
    assert proc.returncode == 2
    assert b"does not exist" in proc.stderr and b"make setup" in proc.stderr


def test_a_hub_name_without_downloads_is_refused(tmp_path: Path) -> None:
    proc = run_cli(
        "search",
        "x",
        env={"EMBEDDING_MODEL": "intfloat/some-model-not-cached", "HF_HOME": str(tmp_path)},
    )
    assert proc.returncode == 2
    assert b"downloads are off" in proc.stderr


def test_import_catalogue_adds_new_departments_and_refuses_bad_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SETTINGS.catalogue_path.parent, data / "forms")
    env = {
        "CATALOGUE_PATH": str(data / "forms" / "catalogue.jsonl"),
        "ALIASES_PATH": str(data / "forms" / "aliases.json"),
        "REFERENCE_PATH": str(data / "forms" / "reference.json"),
    }
    newer = tmp_path / "newer"
    newer.mkdir()
    rows = SETTINGS.catalogue_path.read_text(encoding="utf-8").splitlines()
    extra = json.loads(rows[0]) | {
        "id": "newd-form-1",
        "department_code": "NEWD",
        "department_en": "New Department",
        "department_zh": "新部門",
    }
    (newer / "catalogue.jsonl").write_text(
        "\n".join([*rows, json.dumps(extra, ensure_ascii=False)]) + "\n", encoding="utf-8"
    )
    shutil.copy(SETTINGS.aliases_path, newer / "aliases.json")
    proc = run_cli("import-catalogue", str(newer), env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"new department NEWD" in proc.stderr
    reference = json.loads((data / "forms" / "reference.json").read_text(encoding="utf-8"))
    assert "NEWD" in reference["departments"]
    assert "newd-form-1" in (data / "forms" / "catalogue.jsonl").read_text(encoding="utf-8")

    before = (data / "forms" / "catalogue.jsonl").read_bytes()
    (newer / "catalogue.jsonl").write_text('{"id": "broken"\n', encoding="utf-8")
    proc = run_cli("import-catalogue", str(newer), env=env)
    assert proc.returncode == 2 and b"error" in proc.stderr
    assert (data / "forms" / "catalogue.jsonl").read_bytes() == before
