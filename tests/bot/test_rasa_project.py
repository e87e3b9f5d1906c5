"""The Rasa project as Rasa sees it (driven from here into .venv-rasa): the data validates
without warnings, the test stories pass with --fail-on-prediction-errors, intent macro-F1
on the held-out NLU examples reaches the target, and the component, store and model tests
of tests/bot/rasa_env pass."""

from __future__ import annotations

import json

from bot.eval_report import TARGET_MACRO_F1
from tests.bot.rasa_runner import (
    PROJECT_ARGS,
    RASA_BIN,
    require_model,
    require_rasa_venv,
    run,
    run_rasa_env_tests,
    tail,
)


def test_rasa_data_validate_is_clean() -> None:
    require_rasa_venv()
    result = run([str(RASA_BIN), "data", "validate", "--fail-on-warnings", *PROJECT_ARGS])
    assert result.returncode == 0, tail(result)


def test_test_stories_pass(tmp_path) -> None:
    model = require_model()
    result = run(
        [
            str(RASA_BIN),
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            "bot/tests/test_stories.yml",
            "--fail-on-prediction-errors",
            "--no-plot",
            "--out",
            str(tmp_path / "results"),
        ]
    )
    assert result.returncode == 0, tail(result)
    failed = (tmp_path / "results" / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed


def test_held_out_nlu_macro_f1_reaches_the_target(tmp_path) -> None:
    model = require_model()
    out = tmp_path / "nlu"
    result = run(
        [
            str(RASA_BIN),
            "test",
            "nlu",
            "--model",
            str(model),
            "--domain",
            "bot/domain.yml",
            "--nlu",
            "bot/tests/nlu_test.yml",
            "--no-plot",
            "--out",
            str(out),
        ]
    )
    assert result.returncode == 0, tail(result)
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    macro_f1 = float(report["macro avg"]["f1-score"])
    assert macro_f1 >= TARGET_MACRO_F1, f"intent macro-F1 {macro_f1:.3f}"


def test_components_stores_and_model_in_rasa_environment() -> None:
    require_rasa_venv()
    result = run_rasa_env_tests("tests/bot/rasa_env")
    assert result.returncode == 0, tail(result)
