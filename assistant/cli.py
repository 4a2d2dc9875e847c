"""`aisle chat`: talk to Aisle in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer


def chat(
    user: Annotated[str | None, typer.Option(help="Sign in as this demo-store customer (email).")] = None,
    agent: Annotated[str | None, typer.Option(help="code (default) or tools: an LLM calls the tools (default AISLE_AGENT).")] = None,
) -> None:
    """Chat with Aisle in the terminal (Ctrl-D or 'quit' to leave)."""
    import secrets

    from assistant.state import DialogueState
    from assistant.tool_agent import AGENTS, make_assistant
    from retrieval.store import Store

    if agent is not None and agent not in AGENTS:
        raise typer.BadParameter(" or ".join(AGENTS), param_hint="--agent")
    store = Store.from_settings()
    store.init()
    assistant = make_assistant(agent, store)
    state = DialogueState(session_id=f"terminal-{secrets.token_hex(4)}")  # a new conversation each time
    if user:
        found = assistant.store.user_by_email(user)
        if found is None:
            typer.secho(f"error: no customer with email {user}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        state.user_id = found.user_id
        typer.echo(f"Signed in as {found.first_name} {found.last_name}.")
    typer.echo("Aisle is ready. Ask for a product, a suggestion, or your orders.")
    while True:
        try:
            message = input("you> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo()
            break
        if message.strip().lower() in {"quit", "exit"}:
            break
        typer.echo("aisle> ", nl=False)
        for event in assistant.respond(state, message):
            if event.kind in ("text", "handoff"):
                typer.echo(event.text, nl=False)
        typer.echo()
