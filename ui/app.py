"""The one web app: REST + OpenAI-compatible API, the embeddable widget's files, and the Gradio
shop chat mounted at `/`. `aisle serve` runs it with uvicorn."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse

from recsys import UnknownUserError
from ui.api import SESSION_HEADER, api, health, openai
from ui.service import ChatService, NotSignedIn, SessionConflict, SessionNotFound, UnknownUser

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


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

    app = FastAPI(
        title="Aisle",
        summary="Open-source conversational shopping assistant: chat, search, recommendations, orders.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = service
    app.include_router(health)
    app.include_router(api)
    app.include_router(openai)
    _add_errors(app)
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


def _add_origin_policy(app: FastAPI, origins: list[str]) -> None:
    """Pages of other sites may call the API only from the allowed origins: CORS headers for
    those, and a 403 for any other cross-origin request (browsers would otherwise still send it)."""
    allowed = set(origins)

    @app.middleware("http")
    async def refuse_other_origins(request: Request, call_next):
        origin = request.headers.get("origin")
        if origin and request.url.path.startswith(("/api/", "/v1/")):
            own = f"{request.url.scheme}://{request.headers.get('host', '')}"
            if origin.rstrip("/") != own and origin.rstrip("/") not in allowed:
                return JSONResponse({"detail": f"origin {origin} is not allowed (set AISLE_ALLOWED_ORIGINS)"}, status_code=403)
        return await call_next(request)

    # Added last so it runs first: preflights from allowed origins are answered here.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(allowed),
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["Content-Type", "Authorization", SESSION_HEADER],
        expose_headers=[SESSION_HEADER],
    )
