"""The bot's NLU training and test examples are written fresh: none is a development-set
query (compared after normalisation, so a Simplified or full-width copy counts too)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.dev_queries import PROJECT_ROOT, comparable, dev_queries

EXAMPLE = re.compile(r"^\s+-\s+(?!intent:|synonym:|regex:|lookup:)(.+)$")
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
STORY_TEXT = re.compile(r"^\s+-\s+user:\s*\|\s*\n\s+(.+)$", re.MULTILINE)


def examples(path: Path) -> list[str]:
    """Example lines of a Rasa NLU file, entity annotations removed."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = EXAMPLE.match(line)
        if match:
            found.append(ANNOTATION.sub(r"\1", match.group(1)).strip().strip("\"'"))
    return found


def test_no_training_or_test_example_is_a_development_query() -> None:
    dev = dev_queries()
    nlu_files = sorted((PROJECT_ROOT / "bot" / "data" / "nlu").glob("*.yml"))
    nlu_files.append(PROJECT_ROOT / "bot" / "tests" / "nlu_test.yml")
    texts = [(path.name, text) for path in nlu_files for text in examples(path)]
    stories = (PROJECT_ROOT / "bot" / "tests" / "test_stories.yml").read_text(encoding="utf-8")
    texts += [("test_stories.yml", text) for text in STORY_TEXT.findall(stories)]
    assert len(texts) > 1000
    copies = [(name, text) for name, text in texts if comparable(text) in dev]
    assert not copies, f"development queries copied into the bot's data: {copies}"


def test_held_out_nlu_examples_are_not_in_training() -> None:
    training = {
        comparable(text)
        for path in (PROJECT_ROOT / "bot" / "data" / "nlu").glob("*.yml")
        for text in examples(path)
    }
    held_out = examples(PROJECT_ROOT / "bot" / "tests" / "nlu_test.yml")
    assert len(held_out) >= 100
    assert not [text for text in held_out if comparable(text) in training]
