"""Summarise `make bot-eval`: intent macro-F1 on the held-out NLU examples and the
test-story result, printed and written to ``<results>/summary.md``.

Usage: ``python -m bot.eval_report results/bot`` (exit 1 when macro-F1 < 0.90).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET_MACRO_F1 = 0.90


def summarise(results: Path) -> tuple[str, float]:
    """The markdown summary and the intent macro-F1."""
    report = json.loads((results / "nlu" / "intent_report.json").read_text(encoding="utf-8"))
    macro = float(report["macro avg"]["f1-score"])
    lines = [
        "# Bot evaluation (`make bot-eval`)",
        "",
        f"- Held-out NLU examples (bot/tests/nlu_test.yml): {report['macro avg']['support']}",
        f"- Intent macro-F1: **{macro:.3f}** (target ≥ {TARGET_MACRO_F1:.2f})",
        f"- Intent accuracy: {float(report['accuracy']):.3f}",
    ]
    stories = results / "stories" / "story_report.json"
    if stories.exists():
        story_report = json.loads(stories.read_text(encoding="utf-8"))
        conversation = story_report.get("conversation_accuracy", {})
        lines.append(
            "- Test stories (bot/tests/test_stories.yml): "
            f"{conversation.get('correct', '?')} of {conversation.get('total', '?')} correct"
        )
    lines += ["", "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, row in sorted(report.items()):
        if isinstance(row, dict) and "f1-score" in row and not name.endswith("avg"):
            lines.append(
                f"| {name} | {row['precision']:.2f} | {row['recall']:.2f} | "
                f"{row['f1-score']:.2f} | {row['support']} |"
            )
    return "\n".join(lines) + "\n", macro


def main(argv: list[str]) -> int:
    results = Path(argv[1] if len(argv) > 1 else "results/bot")
    summary, macro = summarise(results)
    (results / "summary.md").write_text(summary, encoding="utf-8")
    print(summary)
    return 0 if macro >= TARGET_MACRO_F1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
