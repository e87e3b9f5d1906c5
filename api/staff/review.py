"""The review queue: what citizens asked that failed, grouped and counted.

Three kinds of failure, over the last ``days``: a search with no result (search log), an
answer marked "didn't help" (feedback), and the searches of a conversation handed over to
1823 (handoffs; redacted here, as their transcript is kept as given). Queries are grouped by
their normalised text (so Simplified and Traditional, case and spacing variants meet), each
group with the results that were shown for it. Only redacted text leaves this module.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from api.auth.sessions import as_utc
from api.db import Database
from api.redaction import redact
from api.storage import Feedback, Handoff, ReviewResolution, SearchLog, utcnow
from forms_index.normalize import normalize

#: Most rows of each table read for one queue (the newest).
SCAN_LIMIT = 5000
REASONS = ("no_result", "didnt_help", "handed_over")


def review_key(query: str) -> str:
    """The id of a group: a hash of the normalised query."""
    return hashlib.sha256(normalize(query).encode()).hexdigest()[:32]


@dataclass
class _Group:
    texts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    shown: Counter[str] = field(default_factory=Counter)
    last_seen: datetime | None = None

    def add(self, text: str, reason: str, result_ids: list[str], at: datetime) -> None:
        self.texts[text] += 1
        self.reasons[reason] += 1
        self.shown.update(dict.fromkeys(result_ids[:5], 1))
        at = as_utc(at)
        if self.last_seen is None or at > self.last_seen:
            self.last_seen = at


def _failures(db: Database, since: datetime) -> list[tuple[str, str, list[str], datetime]]:
    """(redacted query, reason, result ids shown, when) of every failure since ``since``."""
    out: list[tuple[str, str, list[str], datetime]] = []
    with db.session() as s:
        for q, ids, at in s.execute(
            select(SearchLog.query, SearchLog.result_ids, SearchLog.created_at)
            .where(
                SearchLog.created_at >= since,
                or_(SearchLog.top_score.is_(None), SearchLog.low_confidence.is_(True)),
                SearchLog.source.in_(("public", "bot")),
            )
            .order_by(SearchLog.id.desc())
            .limit(SCAN_LIMIT)
        ):
            # a low-confidence search: what it matched weakly is shown to staff
            out.append((q, "no_result", list(ids or []), at))
        for q, ids, at in s.execute(
            select(Feedback.query, Feedback.result_ids, Feedback.created_at)
            .where(Feedback.created_at >= since, Feedback.rating == "bad")
            .order_by(Feedback.id.desc())
            .limit(SCAN_LIMIT)
        ):
            if q:
                out.append((q, "didnt_help", list(ids or []), at))
        handed = list(
            s.execute(
                select(Handoff.sender, Handoff.searches, Handoff.created_at)
                .where(Handoff.created_at >= since)
                .order_by(Handoff.id.desc())
                .limit(SCAN_LIMIT)
            )
        )
        senders = {sender for sender, _, _ in handed}
        shown: dict[tuple[str, str], list[str]] = {}
        if senders:
            for sender, q, ids in s.execute(
                select(SearchLog.sender, SearchLog.query, SearchLog.result_ids)
                .where(SearchLog.sender.in_(senders), SearchLog.created_at >= since)
                .order_by(SearchLog.id)
            ):
                shown[(sender, q)] = list(ids or [])  # the latest wins
        for sender, searches, at in handed:
            for q in dict.fromkeys(redact(str(x)) for x in (searches or [])):
                if q.strip():
                    out.append((q, "handed_over", shown.get((sender, q), []), at))
    return out


def _resolved(db: Database) -> dict[str, datetime]:
    with db.session() as s:
        return {
            k: as_utc(at)
            for k, at in s.execute(select(ReviewResolution.key, ReviewResolution.resolved_at))
        }


def review_queue(
    db: Database,
    titles: Callable[[str], tuple[str, str] | None],
    *,
    days: int = 30,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Groups of failed queries, most frequent first; ``titles(id)`` names a shown result.
    A group resolved (alias added, dismissed) after its last failure is left out."""
    groups: dict[str, _Group] = defaultdict(_Group)
    for text, reason, ids, at in _failures(db, utcnow() - timedelta(days=days)):
        text = redact(text).strip()
        if text:
            groups[review_key(text)].add(text, reason, ids, at)
    resolved = _resolved(db)
    rows = []
    for key, g in groups.items():
        assert g.last_seen is not None
        if key in resolved and resolved[key] >= g.last_seen:
            continue
        shown = []
        for entry_id, times in g.shown.most_common(5):
            named = titles(entry_id)
            if named is not None:
                shown.append(
                    {"id": entry_id, "title_en": named[0], "title_zh": named[1], "times": times}
                )
        rows.append(
            {
                "key": key,
                "query": g.texts.most_common(1)[0][0],
                "count": sum(g.reasons.values()),
                "reasons": {r: g.reasons.get(r, 0) for r in REASONS},
                "results_shown": shown,
                "last_seen": g.last_seen.isoformat(timespec="seconds"),
            }
        )
    rows.sort(key=lambda r: r["last_seen"], reverse=True)
    rows.sort(key=lambda r: -r["count"])  # stable: most frequent first, then most recent
    return rows[:limit]


def resolve(db: Database, key: str, *, by: str, action: str) -> None:
    with db.session() as s:
        row = s.get(ReviewResolution, key)
        if row is None:
            s.add(ReviewResolution(key=key, resolved_by=by, action=action, resolved_at=utcnow()))
        else:
            row.resolved_at, row.resolved_by, row.action = utcnow(), by, action
