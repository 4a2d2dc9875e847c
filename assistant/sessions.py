"""Conversations kept in the store database (table chat_sessions), not in process memory.

Several `aisle serve` processes can share one database; a save that raced another process's save
of the same session is refused (optimistic locking on `version`) instead of silently losing a turn.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from assistant.state import DialogueState
from retrieval.store import Store, retry_when_busy
from retrieval.store import tables as t


# A session name a client chose (the OpenAI endpoint's `user`): anything that fits one URL path segment.
SESSION_NAME = re.compile(r"[^\s/\x00-\x1f\x7f]{1,64}")


class SessionNotFound(KeyError):
    def __str__(self) -> str:
        return f"unknown or expired session {self.args[0]!r}"


class SessionConflict(RuntimeError):
    """Another request changed this session meanwhile; retry the turn."""


class SessionStore:
    def __init__(self, store: Store, ttl: timedelta = timedelta(days=7)) -> None:
        self.store = store
        self.ttl = ttl

    @retry_when_busy
    def create(self, user_id: str | None = None) -> DialogueState:
        state = DialogueState(session_id=secrets.token_urlsafe(16), user_id=user_id)
        with self.store.session() as s:
            s.add(t.ChatSessionRow(session_id=state.session_id, user_id=user_id, state=state.model_dump(mode="json")))
        return state

    @retry_when_busy
    def open(self, session_id: str) -> tuple[DialogueState, int]:
        """The named session, made anonymous and empty when there is none (or it expired): a name a
        client chose is only a key to a conversation, never a customer's identity."""
        if not isinstance(session_id, str) or not SESSION_NAME.fullmatch(session_id):
            raise ValueError("a session name is 1-64 characters without spaces, control characters or '/'")
        try:
            return self.load(session_id)
        except SessionNotFound:
            pass
        state = DialogueState(session_id=session_id)
        try:
            with self.store.session() as s:
                # An expired conversation of that name is over: the name starts afresh (only if still expired).
                s.execute(delete(t.ChatSessionRow).where(t.ChatSessionRow.session_id == session_id,
                                                         t.ChatSessionRow.updated_at < datetime.now(timezone.utc) - self.ttl))  # fmt: skip
                s.add(t.ChatSessionRow(session_id=session_id, user_id=None, state=state.model_dump(mode="json")))
        except IntegrityError:  # another request made it meanwhile: continue that one
            pass
        return self.load(session_id)

    def load(self, session_id: str) -> tuple[DialogueState, int]:
        """The state and its version (pass the version back to save)."""
        if not isinstance(session_id, str) or not 0 < len(session_id) <= 64:
            raise SessionNotFound(session_id)
        with self.store.session() as s:
            row = s.get(t.ChatSessionRow, session_id)
            if row is None or _aware(row.updated_at) < datetime.now(timezone.utc) - self.ttl:
                raise SessionNotFound(session_id)
            return DialogueState.model_validate(row.state), row.version

    @retry_when_busy
    def save(self, state: DialogueState, version: int) -> int:
        with self.store.session() as s:
            done = s.execute(
                update(t.ChatSessionRow)
                .where(t.ChatSessionRow.session_id == state.session_id, t.ChatSessionRow.version == version)
                .values(
                    state=state.model_dump(mode="json"),
                    user_id=state.user_id,
                    version=version + 1,
                    updated_at=t.utcnow(),
                )
            )
            if done.rowcount != 1:
                raise SessionConflict(state.session_id)
        return version + 1

    @retry_when_busy
    def delete(self, session_id: str) -> None:
        with self.store.session() as s:
            row = s.get(t.ChatSessionRow, session_id)
            if row is not None:
                s.delete(row)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
