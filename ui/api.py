"""HTTP routes: the REST API (`/api/…`, chat as server-sent events), the OpenAI-compatible
`/v1/chat/completions`, and health checks. Request and response bodies are pydantic models."""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.sessions import SESSION_NAME
from recsys import ProfilePatch, UserProfile
from retrieval.search import SearchRequest, SearchResponse
from ui.schemas import (
    ChatCompletion,
    ChatCompletionRequest,
    ChatRequest,
    ChatResponse,
    CompletionChoice,
    ErrorBody,
    FeedbackRequest,
    FeedbackResult,
    Personalisation,
    Readiness,
    SessionCreate,
    SessionInfo,
    SessionResume,
    SignIn,
    Usage,
    UserSummary,
)
from ui.service import ChatService

T = TypeVar("T")
SESSION_HEADER = "X-Aisle-Session"
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "Unknown or expired session"}}
SIGN_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "The token is forged, expired, malformed or names no customer"},
    403: {"model": ErrorBody, "description": "Email / user-id sign-in while AISLE_DEMO_SIGN_IN is off, or no AISLE_SIGNIN_SECRET"},
}

api = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
openai = APIRouter(prefix="/v1", tags=["openai"])
health = APIRouter(tags=["health"])


def service(request: Request) -> ChatService:
    return request.app.state.service


Service = Annotated[ChatService, Depends(service)]
SessionId = Annotated[str, Query(min_length=1, max_length=64, description="The Aisle session id.")]


def _sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def _on_own_thread(events: Iterator[T]) -> AsyncIterator[T]:
    """A turn's events, produced on a thread of its own. Starlette would resume a sync generator on
    any thread of its shared pool, one item at a time; a turn waiting for the one local model holds
    its lock between items, so 40 turns queued behind it took every pool thread and the turn
    holding the lock could never be resumed (the load test found this: the server hung). Here the
    holder runs on, and the pool stays free for health checks and other requests."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    done = object()

    def put(item) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone (server shutting down): nobody is listening
            pass

    def produce() -> None:
        try:
            for event in events:
                put(event)
        except BaseException as exc:  # re-raised in the response, as before
            put(_Failed(exc))
        finally:
            put(done)

    threading.Thread(target=produce, daemon=True, name="aisle-turn").start()
    while (item := await queue.get()) is not done:
        if isinstance(item, _Failed):
            raise item.exc
        yield item


# -- sessions ----------------------------------------------------------------------------------


@api.post("/sessions", response_model=SessionInfo, status_code=201, summary="Start a conversation (optionally signed in)",
          responses=SIGN_IN_ERRORS)  # fmt: skip
def create_session(svc: Service, body: SessionCreate | None = None) -> SessionInfo:
    return svc.create_session(body.sign_in if body else None)


@api.get("/sessions/{session_id}", response_model=SessionInfo)
def get_session(session_id: str, svc: Service) -> SessionInfo:
    return svc.session(session_id)


@api.delete("/sessions/{session_id}", status_code=204)
def delete_session(session_id: str, svc: Service) -> None:
    svc.delete_session(session_id)


@api.post("/sessions/{session_id}/signin", response_model=SessionInfo, responses=SIGN_IN_ERRORS,
          summary="Sign the conversation in: a token from the shop's site, or (demo store) an email or user id")  # fmt: skip
def sign_in(session_id: str, body: SignIn, svc: Service) -> SessionInfo:
    return svc.sign_in(session_id, body)


@api.post("/sessions/{session_id}/resume", response_model=SessionInfo, responses=SIGN_IN_ERRORS,
          summary="Show a stored conversation again: signed in as a customer, only to that customer's token (else it is signed out)")  # fmt: skip
def resume(session_id: str, svc: Service, body: SessionResume | None = None) -> SessionInfo:
    return svc.resume(session_id, body.token if body else None)


@api.post("/sessions/{session_id}/signout", response_model=SessionInfo)
def sign_out(session_id: str, svc: Service) -> SessionInfo:
    return svc.sign_out(session_id)


@api.get("/users/demo", response_model=list[UserSummary], summary="Customers to sign in as (demo store; 404 unless AISLE_DEMO_SIGN_IN)")
def demo_users(svc: Service, n: Annotated[int, Query(ge=1, le=50)] = 8) -> list[UserSummary]:
    return svc.demo_users(n)


# -- chat --------------------------------------------------------------------------------------


@api.post(
    "/chat",
    response_model=ChatResponse,
    summary="One chat turn",
    description="With `stream` true (default) the reply is `text/event-stream`: one event per `AssistantEvent` "
    "(event name = its kind: text, cards, tool, pending, handoff, choices; data = the event as JSON), then `done`. "
    "A `choices` event lists the options the reply asks the shopper to pick from (id, label, kind): show them as "
    "buttons that send the label as the next message; typed answers work too.",
)
def chat(body: ChatRequest, svc: Service):
    events = svc.chat(body.session_id, body.message)  # unknown session → 404 before streaming starts
    if not body.stream:
        collected = list(events)
        text = "".join(e.text for e in collected if e.kind in ("text", "handoff"))
        cards = [c for e in collected if e.kind == "cards" for c in e.cards]
        choices = [c for e in collected if e.kind == "choices" for c in e.choices]
        return ChatResponse(session_id=body.session_id, text=text, cards=cards, choices=choices, events=collected)

    async def stream() -> AsyncIterator[str]:
        async for event in _on_own_thread(events):
            yield _sse(event.kind, event.model_dump_json())
        yield _sse("done", json.dumps({"session_id": body.session_id}))

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@api.post("/feedback", response_model=FeedbackResult, summary="👍 / 👎 / not interested on a shown item")
def feedback(body: FeedbackRequest, svc: Service) -> FeedbackResult:
    return svc.feedback(body)


# -- profile (recsys's models) -----------------------------------------------------------------


@api.get("/profile", response_model=UserProfile, summary="What Aisle believes about the signed-in customer",
         responses={401: {"model": ErrorBody, "description": "The session is not signed in"}})  # fmt: skip
def get_profile(session_id: SessionId, svc: Service) -> UserProfile:
    return svc.profile(session_id)


@api.patch("/profile", response_model=UserProfile, summary="Edit the profile: each given field replaces Aisle's guess")
def patch_profile(session_id: SessionId, body: ProfilePatch, svc: Service) -> UserProfile:
    return svc.patch_profile(session_id, body)


@api.put("/profile/personalised", response_model=UserProfile, summary="Switch personalisation on or off")
def set_personalised(session_id: SessionId, body: Personalisation, svc: Service) -> UserProfile:
    return svc.set_personalised(session_id, body.personalised)


@api.delete("/profile", response_model=UserProfile, summary="Forget everything Aisle inferred about the customer")
def delete_profile(session_id: SessionId, svc: Service) -> UserProfile:
    return svc.delete_profile(session_id)


# -- search ------------------------------------------------------------------------------------


@api.post("/products/search", response_model=SearchResponse, summary="Product search (the search_products tool)")
def search_products(body: SearchRequest, svc: Service) -> SearchResponse:
    return svc.search(body)


# -- health ------------------------------------------------------------------------------------


@health.get("/healthz", summary="The process is up")
def healthz() -> dict:
    return {"status": "ok"}


@health.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}}, summary="Store and index ready")
def readyz(svc: Service):
    readiness = svc.readiness()
    return JSONResponse(readiness.model_dump(), status_code=200 if readiness.ready else 503)


# -- OpenAI-compatible -------------------------------------------------------------------------


@openai.get("/models")
def models() -> dict:
    return {"object": "list", "data": [{"id": "aisle", "object": "model", "owned_by": "aisle"}]}


_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """Tokens without a tokenizer: one per CJK character, one per four other characters (the usual
    rule of thumb for BPE vocabularies); most of Aisle's replies are written by code, not a model."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


def _usage(prompt: str, reply: str) -> Usage:
    prompt_tokens, completion_tokens = estimate_tokens(prompt), estimate_tokens(reply)
    return Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, total_tokens=prompt_tokens + completion_tokens)


@openai.post(
    "/chat/completions",
    response_model=ChatCompletion,
    description="OpenAI chat completions. The conversation lives in an Aisle session, named by the `user` field or "
    f"the `{SESSION_HEADER}` header (a name not in use starts a new, anonymous session of that name: choose an "
    f"unguessable one); without either a new session is made and returned in the `{SESSION_HEADER}` response header. "
    "Only the last user message is sent to Aisle: the session remembers earlier turns. `usage` counts that message "
    "and the reply, estimated without a tokenizer (one token per CJK character, per four other characters); "
    "streamed, it comes in a last chunk when `stream_options.include_usage` is true.",
)
def chat_completions(
    body: ChatCompletionRequest,
    svc: Service,
    session_header: Annotated[str | None, Header(alias=SESSION_HEADER, max_length=64)] = None,
):
    user_messages = [m.text() for m in body.messages if m.role == "user"]
    if not user_messages or not user_messages[-1].strip():
        raise HTTPException(422, "the messages need a non-empty user message")
    name = body.user or session_header
    if name is not None and not SESSION_NAME.fullmatch(name):
        raise HTTPException(422, "a session name (`user` or X-Aisle-Session) is 1-64 characters without spaces, control characters or '/'")
    session_id = name or svc.create_session().session_id
    message = user_messages[-1]
    events = svc.chat(session_id, message, create=True)
    completion_id = f"chatcmpl-{secrets.token_hex(12)}"
    headers = {SESSION_HEADER: session_id}
    if not body.stream:
        text = "".join(e.text for e in events if e.kind in ("text", "handoff")).strip()
        completion = ChatCompletion(
            id=completion_id, model=body.model, choices=[CompletionChoice(message={"role": "assistant", "content": text})],
            usage=_usage(message, text),
        )
        return JSONResponse(completion.model_dump(), headers=headers)

    options = (body.model_extra or {}).get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    def chunk(delta: dict | None, finish: str | None = None, usage: Usage | None = None) -> str:
        data: dict[str, Any] = {"id": completion_id, "object": "chat.completion.chunk", "model": body.model,
                                "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        if usage is not None:
            data["usage"] = usage.model_dump()
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def stream() -> AsyncIterator[str]:
        yield chunk({"role": "assistant", "content": ""})
        reply = []
        async for event in _on_own_thread(events):
            if event.kind in ("text", "handoff") and event.text:
                reply.append(event.text)
                yield chunk({"content": event.text})
        yield chunk({}, "stop")
        if include_usage:  # as OpenAI does: one more chunk, with no choices, carrying the usage
            yield chunk(None, usage=_usage(message, "".join(reply).strip()))
        yield "data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"})
