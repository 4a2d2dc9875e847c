"""`aisle serve`: the web app (chat UI, widget, HTTP API) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default AISLE_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default AISLE_PORT or 7860).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes; they share sessions through the database.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    agent: Annotated[str | None, typer.Option(help="code (default) or tools: an LLM calls the tools (default AISLE_AGENT).")] = None,
) -> None:
    """Serve the shop chat at http://HOST:PORT/, the widget at /widget.js and the API at /api and /v1 (docs at /docs)."""
    import os

    import uvicorn

    from retrieval.config import get_settings
    from ui.logs import uvicorn_log_config

    if agent is not None:
        if agent not in ("code", "tools"):
            raise typer.BadParameter("code or tools", param_hint="--agent")
        os.environ["AISLE_AGENT"] = agent  # read by the app factory, in every worker process
        get_settings.cache_clear()
    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    typer.echo(f"Aisle: preparing the store and the app; then open http://{host}:{port}/  (API docs: /docs)")
    _ensure_ranking_model()
    if settings.demo_sign_in:
        typer.secho("Demo sign-in is on (AISLE_DEMO_SIGN_IN): anyone may sign in as any customer by email. "
                    "Demo only: a shop switches it off and signs customers in with tokens (see the README).",
                    fg=typer.colors.YELLOW)  # fmt: skip
    elif not settings.signin_secret:
        typer.echo("Sign-in: demo sign-in is off and AISLE_SIGNIN_SECRET is unset, so no customer can sign in (search and FAQ work).")
    # Logs go through a filter that removes e-mails, addresses, payment ids… (ui/logs.py).
    uvicorn.run("ui.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                log_config=uvicorn_log_config(log_level))


def _ensure_ranking_model() -> None:
    """The store's ranking model exists before the first shopper asks (trained now if missing or
    stale; seconds on the demo store). Once, here, not in each of several workers."""
    from recsys.store_model import ensure_store_model

    try:
        ranker, trained = ensure_store_model()
    except Exception as exc:  # the shop still serves, recommending by popularity, and says why
        typer.secho(f"no ranking model ({exc}); recommendations use popularity until `aisle train` works",
                    fg=typer.colors.YELLOW, err=True)
        return
    typer.echo(f"Recommendations: {ranker.name}{' (trained just now)' if trained else ''}")
