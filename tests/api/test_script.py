"""api.script: which script a message is in, and Simplified output."""

from __future__ import annotations

import pytest

from api.script import Script, detect_script, to_simplified


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("生果金點申請", Script.HANT),
        ("我想搵真人", Script.HANT),
        ("點樣續領護照", Script.HANT),
        ("生果金点申请", Script.HANS),
        ("怎么申请护照", Script.HANS),
        ("我想renew驾驶执照", Script.HANS),
        ("我想renew駕駛執照", Script.HANT),
        ("renew passport", Script.LATIN),
        ('/choose{"key": "driving-licence"}', Script.LATIN),
        ("IR56B", Script.LATIN),
        ("你好", None),  # the same in both standards: caller keeps what it knew
    ],
)
def test_detect(text: str, expected: Script | None) -> None:
    assert detect_script(text) is expected


def test_to_simplified() -> None:
    assert to_simplified("個別人士報稅表 (BIR60)") == "个别人士报税表 (BIR60)"
    assert to_simplified("Tax Return") == "Tax Return"
    assert to_simplified("") == ""
