"""`aisle chat`: talk to Aisle in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer


def chat(
    user: Annotated[str | None, typer.Option(help="Sign in as this demo-store customer (email).")] = None,
) -> None:
    """Chat with Aisle in the terminal (Ctrl-D or 'quit' to leave)."""
    from assistant.agent import Assistant
    from assistant.state import DialogueState

    assistant = Assistant.from_settings()
    state = DialogueState(session_id="terminal")
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
