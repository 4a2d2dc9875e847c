"""What every surface (Gradio chat, widget, REST, OpenAI-compatible API) does, in one place.

A turn loads the session from the store database, runs the assistant, and saves the session back
(optimistic locking), so any `aisle serve` process can continue any conversation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.exc import OperationalError

from assistant.agent import Assistant
from assistant.sessions import SessionConflict, SessionNotFound, SessionStore, Waiting
from assistant.state import AssistantEvent, DialogueState
from recsys import ProfilePatch, UserProfile
from retrieval.search import SearchRequest, SearchResponse
from retrieval.store import Store

from ui.schemas import FeedbackRequest, FeedbackResult, Readiness, SessionInfo, SignIn, UserSummary
from ui.signin import DEMO_ONLY, SignInRefused, user_id_from_token

log = logging.getLogger(__name__)

__all__ = ["ChatService", "DemoOnly", "NotSignedIn", "SessionConflict", "SessionNotFound", "SignInRefused", "UnknownUser", "Waiting",
           "WaitingTurn"]


class UnknownUser(LookupError):
    """Sign-in named no customer of the store."""


class NotSignedIn(PermissionError):
    """The request needs a signed-in customer."""


class DemoOnly(LookupError):
    """A demo-store feature (the customer list) asked for while AISLE_DEMO_SIGN_IN is off: as if absent."""


@dataclass
class WaitingTurn:
    """The turn answering a conversation's oldest waiting message (`ChatService.answer_waiting`): iterate
    `events`, then `outcome` says what became of the message: "answered" (saved, and out of the outbox in the
    same transaction); "failed" (the turn broke: the apology was streamed and the message leaves the outbox,
    so it does not fail again at every reload); "conflict" (not saved: the conversation changed meanwhile,
    e.g. another window answered the message, or someone signed in or out: show the conversation as saved,
    where the message is answered or still waits); "unsaved" (the store is unavailable: it still waits)."""

    message: Waiting
    later: list[Waiting]  # waiting after it, oldest first
    events: Iterator[AssistantEvent] = field(default_factory=lambda: iter(()))
    outcome: Literal["", "answered", "failed", "conflict", "unsaved"] = ""


class ChatService:
    """`signin_secret` checks the shop's sign-in tokens; whether email / user-id sign-in is allowed
    (the demo store) is the assistant's `demo_sign_in`, so the chat and the API always agree."""

    def __init__(self, assistant: Assistant, sessions: SessionStore | None = None, signin_secret: str | None = None) -> None:
        self.assistant = assistant
        self.signin_secret = signin_secret
        self.store: Store = assistant.store
        self.sessions = sessions or SessionStore(self.store)
        self._lock = threading.Lock()  # builds shared services once
        self._llm_loaded, self._llm_problem = False, "not loaded yet"
        self._warmed = threading.Event()  # set once warm() has tried to load everything

    @classmethod
    def from_settings(cls, agent: str | None = None) -> ChatService:
        """`agent`: code | tools (default AISLE_AGENT)."""
        from assistant.tool_agent import make_assistant
        from retrieval.config import get_settings

        settings = get_settings()
        secret = settings.signin_secret.get_secret_value() if settings.signin_secret else None
        store = Store.from_settings()
        store.init()  # seeds the store: idempotent
        return cls(make_assistant(agent, store, demo_sign_in=settings.demo_sign_in), signin_secret=secret)

    @property
    def demo_sign_in(self) -> bool:
        return self.assistant.demo_sign_in

    # -- sessions -------------------------------------------------------------------------------

    def create_session(self, sign_in: SignIn | None = None) -> SessionInfo:
        user_id = self._resolve_user(sign_in) if sign_in else None
        return self.info(self.sessions.create(user_id=user_id))

    def session(self, session_id: str) -> SessionInfo:
        state, _ = self.sessions.load(session_id)
        return self.info(state)

    def sign_in(self, session_id: str, sign_in: SignIn) -> SessionInfo:
        user_id = self._resolve_user(sign_in)
        previous = []

        def change(state: DialogueState) -> None:
            previous[:] = [state.user_id]
            if state.user_id != user_id:  # another customer: their open task must not carry over
                state.frame, state.pending, state.choices = None, None, []
                if state.user_id is not None:  # nor the previous customer's messages (their orders, address…)
                    state.history, state.last_items, state.cards = [], [], []
            state.user_id = user_id

        info = self.info(self._update(session_id, change))
        if previous[0] not in (None, user_id):  # nor what they sent and is not answered yet
            self.sessions.drop_waiting(session_id)
        return info

    def sign_out(self, session_id: str) -> SessionInfo:
        def change(state: DialogueState) -> None:
            state.user_id, state.frame, state.pending, state.choices = None, None, None, []
            state.history, state.last_items, state.cards = [], [], []  # the next person on this device must not read them

        info = self.info(self._update(session_id, change))
        self.sessions.drop_waiting(session_id)  # nor have what the last one sent answered for them
        return info

    def resume(self, session_id: str, token: str | None = None) -> SessionInfo:
        """The conversation as a page that shows it again may show it. One signed in as a customer is shown
        only to a page proving it is that customer (the shop's token for them); without that proof (no token,
        a refused one) it is signed out, so the next person on the device can neither read it nor act as that
        customer; a token for another customer starts them afresh (as `sign_in` does). An anonymous one is shown as it is."""
        if token:
            try:
                return self.sign_in(session_id, SignIn(token=token))
            except SignInRefused:
                self.resume(session_id)
                raise
        state, _ = self.sessions.load(session_id)
        return self.sign_out(session_id) if state.user_id else self.info(state)

    def delete_session(self, session_id: str) -> None:
        self.sessions.load(session_id)  # 404 for unknown ids
        self.sessions.delete(session_id)

    def info(self, state: DialogueState) -> SessionInfo:
        user = self.store.user(state.user_id) if state.user_id else None
        summary = UserSummary(user_id=user.user_id, name=f"{user.first_name} {user.last_name}", email=user.email) if user else None
        cards = [c for c in state.cards if c.item_id not in state.excluded_items]  # a 👎 since then hides it
        return SessionInfo(session_id=state.session_id, user=summary, turns=state.turns, history=state.history,
                           cards=cards, choices=state.choices)  # fmt: skip

    def demo_users(self, n: int = 8) -> list[UserSummary]:
        """A few customers to sign in as (the demo store has no passwords); none to list in production."""
        if not self.demo_sign_in:
            raise DemoOnly("not found (the demo customer list is off: AISLE_DEMO_SIGN_IN)")
        from sqlalchemy import select

        from retrieval.store import tables as t

        with self.store.session() as s:
            rows = s.scalars(select(t.User).order_by(t.User.user_id).limit(n)).all()
            return [UserSummary(user_id=u.user_id, name=f"{u.first_name} {u.last_name}", email=u.email) for u in rows]

    def _resolve_user(self, sign_in: SignIn) -> str:
        if sign_in.token:
            user_id = user_id_from_token(sign_in.token, self.signin_secret)
            if self.store.user(user_id) is None:  # a valid signature over a customer the store does not know
                raise SignInRefused(f"the sign-in token names no customer of this shop ({user_id!r})")
            return user_id
        if not self.demo_sign_in:
            raise SignInRefused(DEMO_ONLY, status=403)
        user = self.store.user_by_email(sign_in.email) if sign_in.email else self.store.user(sign_in.user_id)
        if user is None:
            raise UnknownUser(f"no customer with {'email ' + sign_in.email if sign_in.email else 'user id ' + sign_in.user_id}")
        return user.user_id

    def _update(self, session_id: str, change) -> DialogueState:
        for _ in range(3):  # another process saved meanwhile: re-read and re-apply
            state, version = self.sessions.load(session_id)
            change(state)
            try:
                self.sessions.save(state, version)
                return state
            except SessionConflict:
                continue
        raise SessionConflict(session_id)

    # -- the turn -------------------------------------------------------------------------------

    def chat(self, session_id: str, message: str, create: bool = False) -> Iterator[AssistantEvent]:
        """Stream one turn. Raises SessionNotFound before anything is streamed (unless `create`:
        then an unknown id names a new, anonymous session); later failures become a text event,
        so a shopper sees a message, never a traceback."""
        state, version = self.sessions.open(session_id) if create else self.sessions.load(session_id)
        return self._turn(state, version, message)

    def post(self, session_id: str, message: str) -> Waiting:
        """Records `message` as waiting for an answer (the chat page's outbox, kept in the database: a reload, a
        closed tab or a restart loses none); `answer_waiting` answers the waiting ones, oldest first."""
        self.sessions.load(session_id)  # SessionNotFound for unknown and expired ones
        return self.sessions.post(session_id, message)

    def waiting(self, session_id: str) -> list[Waiting]:
        """The messages sent and not answered yet, oldest first."""
        return self.sessions.waiting(session_id)

    def answer_waiting(self, session_id: str) -> WaitingTurn | None:
        """The turn answering the oldest waiting message (None: none waits). Its answer is saved only with
        the message leaving the outbox, so two pages answering the same conversation (a page being reloaded
        and the one it became) never both get it answered: the later save is refused ("conflict")."""
        state, version = self.sessions.load(session_id)
        waiting = self.sessions.waiting(session_id)
        if not waiting:
            return None
        turn = WaitingTurn(message=waiting[0], later=waiting[1:])
        turn.events = self._turn(state, version, turn.message.text, turn)
        return turn

    def _turn(self, state: DialogueState, version: int, message: str, waiting: WaitingTurn | None = None) -> Iterator[AssistantEvent]:
        log.debug("session %s says %r", state.session_id, message[:200])  # `aisle serve` redacts personal data
        state.cards = []  # cards belong to the reply that showed them (the last cards event of it)
        try:
            for event in self.assistant.respond(state, message):
                if event.kind == "cards":
                    state.cards = list(event.cards)
                yield event
        except Exception as exc:  # the shopper gets a message; the log gets the traceback
            log.exception("turn failed in session %s", state.session_id)
            yield AssistantEvent(kind="text", text=f"\nSorry, something went wrong on our side ({type(exc).__name__}). Please try again.\n")
            if waiting is not None:
                waiting.outcome = "failed"
                try:
                    self.sessions.drop_waiting(state.session_id, waiting.message.message_id)
                except OperationalError:
                    log.warning("session %s: a failed message stays waiting: the store is unavailable", state.session_id)
            return
        try:
            self.sessions.save(state, version, answered=waiting.message.message_id if waiting else None)
            if waiting is not None:
                waiting.outcome = "answered"
        except SessionConflict:
            if waiting is not None:  # the page shows the conversation as saved instead
                waiting.outcome = "conflict"
                return
            yield AssistantEvent(
                kind="text", text="\n(This conversation was changed in another window at the same time; that reply was not saved.)\n"
            )
        except OperationalError:  # the store is locked or down (already retried): the reply stands, unsaved
            log.warning("session %s not saved: the store is unavailable", state.session_id)
            if waiting is not None:
                waiting.outcome = "unsaved"
                yield AssistantEvent(kind="text", text="\n(The store is busy, so this turn was not saved; your message is kept, and answered when you next send one or reload.)\n")
                return
            yield AssistantEvent(kind="text", text="\n(The store is busy, so this turn was not saved; please say it again in a minute.)\n")

    def reply(self, session_id: str, message: str) -> tuple[str, list[AssistantEvent]]:
        events = list(self.chat(session_id, message))
        return "".join(e.text for e in events if e.kind in ("text", "handoff")), events

    # -- feedback and profile --------------------------------------------------------------------

    def feedback(self, request: FeedbackRequest) -> FeedbackResult:
        state, version = self.sessions.load(request.session_id)
        recorded = True
        try:
            self.assistant.feedback(state, request.kind, item_id=request.item_id, brand=request.brand, category=request.category)
        except Exception as exc:  # the recommender is optional: the session still hides the item
            log.warning("feedback not recorded by the recommender: %s", exc)
            recorded = False
            if request.kind in ("dislike", "not_interested") and request.item_id and request.item_id not in state.excluded_items:
                state.excluded_items.append(request.item_id)
        try:
            self.sessions.save(state, version)
        except SessionConflict:
            self._update(request.session_id, lambda s: s.excluded_items.extend(i for i in state.excluded_items if i not in s.excluded_items))
        return FeedbackResult(recorded=recorded, excluded_items=state.excluded_items)

    def _profiles(self):
        services = self.assistant.services
        with self._lock:
            if "profiles" not in services:
                from recsys import ProfileService

                services["profiles"] = ProfileService(self.store)
        return services["profiles"]

    def _user_of(self, session_id: str) -> str:
        state, _ = self.sessions.load(session_id)
        if state.user_id is None:
            raise NotSignedIn("sign in first: the profile belongs to a signed-in customer")
        return state.user_id

    def profile(self, session_id: str) -> UserProfile:
        return self._profiles().get(self._user_of(session_id))

    def patch_profile(self, session_id: str, patch: ProfilePatch) -> UserProfile:
        return self._profiles().patch(self._user_of(session_id), patch)

    def set_personalised(self, session_id: str, on: bool) -> UserProfile:
        return self._profiles().set_personalised(self._user_of(session_id), on)

    def delete_profile(self, session_id: str) -> UserProfile:
        return self._profiles().delete(self._user_of(session_id))

    # -- search and readiness -------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        from assistant.tools import ToolContext

        ctx = ToolContext(store=self.store, session_id="api", services=self.assistant.services)
        with self._lock:
            engine = ctx.search  # built once and shared with the assistant's tools
        return engine.search(request)

    def readiness(self) -> Readiness:
        from retrieval.config import get_settings

        problems = []
        store_ok = search_ok = False
        try:
            store_ok = self.store.is_seeded()
        except Exception as exc:
            problems.append(f"store: {exc}")
        if "search" in self.assistant.services:
            search_ok = True
        else:
            problems.append("search: index not loaded yet")
        if not self._warmed.is_set():
            problems.append("warming up: loading the index and models")
        elif self._llm_problem:
            problems.append(f"llm: {self._llm_problem}")
        # A missing LLM does not make the app unready: search, orders and FAQ work without it.
        return Readiness(ready=store_ok and search_ok and self._warmed.is_set(), store=store_ok, search=search_ok, llm=self._llm_loaded,
                         llm_backend=get_settings().llm_backend, problems=problems)  # fmt: skip

    def warm(self) -> None:
        """Load the search index, the recommender, the intent model and the LLM now, not on a first request."""
        from assistant.tools import ToolContext

        try:
            self.search(SearchRequest(query="warm up", k=1))
            with self._lock:
                ToolContext(store=self.store, session_id="warm", services=self.assistant.services).recommender  # noqa: B018
            try:
                self.assistant.classifier.predict("hello")
            except Exception as exc:
                log.warning("intent classifier not ready: %s", exc)
            try:
                self.assistant.llm  # noqa: B018  (builds and loads the model)
                self._llm_loaded, self._llm_problem = True, None
            except Exception as exc:
                self._llm_problem = str(exc)
                log.warning("LLM not available: %s", exc)
        finally:
            self._warmed.set()
