"""The human hand-off queue: conversations the assistant passed to the shop's people, with a summary.

`transfer_to_human` adds one; the shop reads and closes them with `aisle handoffs`. The queue is a
table of the store database (`handoffs`), so every `aisle serve` process writes to the same one.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from retrieval.store import Store, retry_when_busy
from retrieval.store import tables as t


class Handoff(BaseModel):
    handoff_id: int
    session_id: str
    user_id: str | None
    summary: str
    transcript: list[dict]
    status: str
    created_at: datetime
    closed_at: datetime | None = None


def _record(row: t.HandoffRow) -> Handoff:
    return Handoff.model_validate(row, from_attributes=True)


class HandoffQueue:
    def __init__(self, store: Store) -> None:
        self.store = store
        t.HandoffRow.__table__.create(store.engine, checkfirst=True)  # a store seeded before the queue existed

    @retry_when_busy
    def add(self, session_id: str, user_id: str | None, summary: str, transcript: list[dict]) -> Handoff:
        with self.store.session() as s:
            row = t.HandoffRow(session_id=session_id, user_id=user_id, summary=summary, transcript=transcript)
            s.add(row)
            s.flush()
            return _record(row)

    def list(self, status: str | None = "open") -> list[Handoff]:
        """Oldest first: the order the shop should answer them in."""
        with self.store.session() as s:
            q = select(t.HandoffRow).order_by(t.HandoffRow.handoff_id)
            if status is not None:
                q = q.where(t.HandoffRow.status == status)
            return [_record(r) for r in s.scalars(q)]

    @retry_when_busy
    def close(self, handoff_id: int) -> Handoff:
        with self.store.session() as s:
            row = s.get(t.HandoffRow, handoff_id)
            if row is None:
                raise KeyError(f"no hand-off #{handoff_id}")
            row.status, row.closed_at = "closed", t.utcnow()
            s.flush()
            return _record(row)
