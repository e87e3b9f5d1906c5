"""normalize(): one canonical form for index and query time."""

from __future__ import annotations

import pytest

from forms_index.normalize import (
    Normalizer,
    canonical_form_numbers,
    detect_script,
    normalize,
)


@pytest.mark.parametrize("text", ["ir 56b", "IR-56B", "ＩＲ５６Ｂ", "IR56B", "ir 56 b", " Ir56b "])
def test_form_numbers_are_canonical(text: str) -> None:
    assert normalize(text) == "IR56B"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("申请护照", "申請護照"),  # Simplified to Traditional
        ("ＡＢＣ　ｄｅｆ", "abc def"),  # full-width folding, case folding
        ("  many \t spaces\n here ", "many spaces here"),
        ("BIR60表格", "BIR60表格"),
        ("fehb 186 卡拉OK", "FEHB186 卡拉ok"),
        ("td 63 form", "TD63 form"),
        ("ID(E) 991", "IDE991"),
        ("my mum turns 70 next month", "my mum turns 70 next month"),  # not a form number
        ("t 2", "t 2"),  # a one-letter prefix must be written together
        ("bell\x07 and\x00 null", "bell and null"),  # control characters dropped
    ],
)
def test_normalisation_cases(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_catalogue_prefix_extends_the_builtin_ones() -> None:
    assert Normalizer().normalize("zz 12") == "zz 12"
    assert Normalizer(["zz"]).normalize("zz 12") == "ZZ12"


@pytest.mark.parametrize(
    ("form_no", "keys"),
    [
        ("ID 841 / ID 842", ["ID841", "ID842"]),
        ("ID(E) 991", ["IDE991", "ID991"]),
        ("EDB75 (Form 6)", ["EDB75", "FORM6"]),
        ("BIRSP1–BIRSP5", ["BIRSP1", "BIRSP2", "BIRSP3", "BIRSP4", "BIRSP5"]),
        ("Form 1 & Form 2", ["FORM1", "FORM2"]),
        ("G.F. 340", ["GF340"]),
        ("", []),
    ],
)
def test_printed_form_numbers_become_lookup_keys(form_no: str, keys: list[str]) -> None:
    assert canonical_form_numbers(form_no) == keys


def test_entry_keys_and_normalised_queries_agree() -> None:
    for printed, typed in [("ID 988A", "id-988a"), ("TD557", "ｔｄ５５７"), ("IR56B", "ir 56b")]:
        assert normalize(typed) in canonical_form_numbers(printed)


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("长者生活津贴怎么申请", "hans"),
        ("長者生活津貼", "hant"),
        ("renew passport", "latin"),
        ("我想renew 駕駛執照", "hant"),
        ("香港", "hant"),
    ],
)
def test_script_detection(text: str, script: str) -> None:
    assert detect_script(text) == script
