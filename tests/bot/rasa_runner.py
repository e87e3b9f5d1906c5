"""Running things in Rasa's environment (``.venv-rasa``, Python 3.10) from the test suite,
which runs on Python 3.11: the Rasa CLI and the tests that import Rasa or rasa_sdk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RASA_VENV = PROJECT_ROOT / ".venv-rasa"
RASA_PYTHON = RASA_VENV / "bin" / "python"
RASA_BIN = RASA_VENV / "bin" / "rasa"
RASA_MODEL = PROJECT_ROOT / "models" / "rasa" / "bot.tar.gz"
PROJECT_ARGS = ["--config", "config.yml", "--domain", "bot/domain.yml", "--data", "bot/data"]


def rasa_env() -> dict[str, str]:
    """The environment every Rasa invocation needs: the project root on PYTHONPATH."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
    )
    return env


def require_rasa_venv() -> None:
    if not RASA_BIN.exists():
        pytest.skip(f"{RASA_VENV} is missing: run `make setup`")


def require_model() -> Path:
    require_rasa_venv()
    if not RASA_MODEL.exists():
        pytest.skip(f"no trained Rasa model at {RASA_MODEL}: run `make train`")
    return RASA_MODEL


def run(argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` from the project root in Rasa's environment, output captured."""
    return subprocess.run(
        argv,
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_rasa_env_tests(folder: str) -> subprocess.CompletedProcess[str]:
    """Run the pytest files of ``folder`` (relative to the project root) with .venv-rasa's
    Python; conftest files above the folder (which import the app side) are not loaded."""
    return run(
        [
            str(RASA_PYTHON),
            "-m",
            "pytest",
            folder,
            f"--confcutdir={folder}",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:warnings",
            "-q",
        ]
    )


def tail(result: subprocess.CompletedProcess[str], lines: int = 60) -> str:
    out = (result.stdout or "") + "\n" + (result.stderr or "")
    return "\n".join(out.splitlines()[-lines:])
