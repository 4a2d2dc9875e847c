"""Conversations kept in the store database (table chat_sessions), not in process memory.

Several `aisle serve` processes can share one database; a save that raced another process's save
of the same session is refused (optimistic locking on `version`) instead of silently losing a turn.
Messages sent and not answered yet wait in table chat_outbox beside their session (see `post`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
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


@dataclass(frozen=True)
class Waiting:
    """A message sent to a conversation and not answered yet."""

    message_id: int
    text: str


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
    def save(self, state: DialogueState, version: int, answered: int | None = None) -> int:
        """`answered`: the waiting message this turn answered; it leaves the outbox in the same transaction,
        and a save finding it gone (answered meanwhile, e.g. in another window) is refused like a race."""
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
            if answered is not None:
                gone = s.execute(delete(t.ChatOutboxRow).where(t.ChatOutboxRow.message_id == answered,
                                                               t.ChatOutboxRow.session_id == state.session_id))  # fmt: skip
                if gone.rowcount != 1:  # raised inside the transaction: the save is rolled back too
                    raise SessionConflict(state.session_id)
        return version + 1

    # -- the outbox: messages sent and not answered yet ---------------------------------------------

    @retry_when_busy
    def post(self, session_id: str, text: str) -> Waiting:
        """Records `text` as waiting for an answer, after those already waiting (posting never waits for a
        turn, and never conflicts with one: the session's row and version are not touched)."""
        with self.store.session() as s:
            row = t.ChatOutboxRow(session_id=session_id, text=text)
            s.add(row)
            s.flush()
            return Waiting(row.message_id, text)

    def waiting(self, session_id: str) -> list[Waiting]:
        """The messages waiting for an answer, oldest first."""
        with self.store.session() as s:
            rows = s.execute(select(t.ChatOutboxRow.message_id, t.ChatOutboxRow.text)
                             .where(t.ChatOutboxRow.session_id == session_id).order_by(t.ChatOutboxRow.message_id)).all()  # fmt: skip
        return [Waiting(message_id, text) for message_id, text in rows]

    @retry_when_busy
    def drop_waiting(self, session_id: str, message_id: int | None = None) -> None:
        """Takes one waiting message (or all of the session's) out of the outbox unanswered."""
        with self.store.session() as s:
            query = delete(t.ChatOutboxRow).where(t.ChatOutboxRow.session_id == session_id)
            s.execute(query if message_id is None else query.where(t.ChatOutboxRow.message_id == message_id))

    @retry_when_busy
    def delete(self, session_id: str) -> None:
        with self.store.session() as s:
            row = s.get(t.ChatSessionRow, session_id)
            if row is not None:
                s.delete(row)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
