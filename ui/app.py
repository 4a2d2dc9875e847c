"""The one web app: REST + OpenAI-compatible API, the embeddable widget's files, and the Gradio
shop chat mounted at `/`. `aisle serve` runs it with uvicorn."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError

from recsys import UnknownUserError
from ui.api import SESSION_HEADER, api, health, openai
from ui.limits import AbuseLimits
from ui.service import ChatService, DemoOnly, NotSignedIn, SessionConflict, SessionNotFound, SignInRefused, UnknownUser

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
DOCS_STATIC = "/docs-static"


def create_app(service: ChatService | None = None, allowed_origins: list[str] | None = None,
               gradio: bool = True, warm: bool = True) -> FastAPI:  # fmt: skip
    """Build the app. `service` defaults to one from the settings (this initialises the store);
    `allowed_origins` (default AISLE_ALLOWED_ORIGINS) are the other sites whose pages may call the API."""
    from retrieval.config import get_settings

    service = service or ChatService.from_settings()
    origins = allowed_origins if allowed_origins is not None else get_settings().origins

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm:  # load the index and models in the background; /readyz says when they are in
            threading.Thread(target=_warm, args=(service,), daemon=True, name="aisle-warm").start()
        yield

    # /docs (Swagger UI) and /redoc from files of the fastapi-offline package, served here: FastAPI's
    # own pages load them from a CDN, so they were blank offline. No validator badge (an outside host).
    app = FastAPIOffline(
        title="Aisle",
        summary="Open-source conversational shopping assistant: chat, search, recommendations, orders.",
        version="0.1.0",
        lifespan=lifespan,
        static_url=DOCS_STATIC,
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.service = service
    app.include_router(health)
    app.include_router(api)
    app.include_router(openai)
    _add_errors(app)
    app.add_middleware(AbuseLimits, **_limits())  # before the origin policy, so refusals still carry CORS headers
    _add_origin_policy(app, origins)

    @app.get("/widget.js", include_in_schema=False)
    def widget_js() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/widget.css", include_in_schema=False)
    def widget_css() -> FileResponse:
        return FileResponse(STATIC / "widget.css", media_type="text/css", headers={"Cache-Control": "no-cache"})

    if gradio:
        import gradio as gr

        from ui.gradio_app import CSS_PATH, build_blocks

        app = gr.mount_gradio_app(app, build_blocks(service), path="/", footer_links=["api"], css_paths=CSS_PATH)
    return app


def _warm(service: ChatService) -> None:
    try:
        service.warm()
    except Exception:
        log.exception("warming up failed; /readyz will say what is missing")


def _add_errors(app: FastAPI) -> None:
    def handler(status: int):
        async def handle(request: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=status)

        return handle

    app.add_exception_handler(SessionNotFound, handler(404))
    app.add_exception_handler(UnknownUser, handler(404))
    app.add_exception_handler(NotSignedIn, handler(401))
    app.add_exception_handler(SessionConflict, handler(409))
    app.add_exception_handler(UnknownUserError, handler(404))
    app.add_exception_handler(DemoOnly, handler(404))

    async def sign_in_refused(request: Request, exc: SignInRefused) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    app.add_exception_handler(SignInRefused, sign_in_refused)

    async def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is locked past its busy timeout or unreachable: a client may retry, so say when.
        log.warning("store unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return JSONResponse({"detail": "the store is busy or unavailable; please try again in a few seconds"},
                            status_code=503, headers={"Retry-After": "5"})  # fmt: skip

    app.add_exception_handler(OperationalError, store_unavailable)
    app.add_exception_handler(RequestValidationError, invalid_request)


def _printable(value: object) -> object:
    """A string any JSON encoder takes: lone surrogates (from "\\ud800" escapes) become escapes."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(value, str) else value


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming what is wrong, without echoing the input: FastAPI's default handler echoed it and
    failed with a 500 on NaN or a lone surrogate (and sent back whatever a client sent)."""
    errors = [{"type": e.get("type"), "loc": [_printable(p) for p in e.get("loc", ())], "msg": _printable(e.get("msg", ""))}
              for e in exc.errors()]  # fmt: skip
    return JSONResponse({"detail": errors}, status_code=422)


def _limits() -> dict:
    from retrieval.config import get_settings

    s = get_settings()
    return {"per_ip": s.rate_per_ip, "per_session": s.rate_per_session, "max_body_bytes": s.max_body_bytes,
            "storage": s.rate_limit_storage}


def _add_origin_policy(app: FastAPI, origins: list[str]) -> None:
    """Pages of other sites may call the API only from the allowed origins: CORS headers for
    those, and a 403 naming AISLE_ALLOWED_ORIGINS for any other cross-origin request, preflights
    included (browsers would otherwise still send simple requests, and CORSMiddleware's own
    refusal of a preflight is a bare 400 that says nothing to the shop's developer)."""
    allowed = set(origins)

    # Added first, so it runs after the refusal below: it answers allowed origins' preflights.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(allowed),
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Content-Type", "Authorization", SESSION_HEADER],
        expose_headers=[SESSION_HEADER],
    )

    @app.middleware("http")  # added last, so it runs first
    async def refuse_other_origins(request: Request, call_next):
        origin = request.headers.get("origin")
        if origin and request.url.path.startswith(("/api/", "/v1/")):
            own = f"{request.url.scheme}://{request.headers.get('host', '')}"
            if origin.rstrip("/") != own and origin.rstrip("/") not in allowed:
                detail = (f"origin {origin} is not allowed to use this Aisle server: add it to AISLE_ALLOWED_ORIGINS "
                          "(comma-separated, e.g. https://shop.example.com) and restart Aisle")  # fmt: skip
                # No CORS headers: the refused page reads nothing, not even this; the widget says the same in its own words.
                return JSONResponse({"detail": detail}, status_code=403, headers={"Vary": "Origin"})
        return await call_next(request)
