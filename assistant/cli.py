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
            elif event.kind == "choices":  # the options as a list to copy from (typing any answer works)
                typer.echo("  [" + " | ".join(c.label for c in event.choices) + "]")
        typer.echo()


def handoffs(
    all_: Annotated[bool, typer.Option("--all", help="Closed hand-offs too, not only open ones.")] = False,
    close: Annotated[int | None, typer.Option(help="Mark this hand-off as dealt with.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the conversations handed to a human (oldest first), with their summaries; --close ID marks one done."""
    from assistant.handoffs import HandoffQueue
    from retrieval.store import Store

    store = Store.from_settings()
    store.init()
    queue = HandoffQueue(store)
    if close is not None:
        try:
            done = queue.close(close)
        except KeyError as exc:
            typer.secho(f"error: {exc.args[0]}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from exc
        typer.echo(done.model_dump_json() if as_json else f"Hand-off #{done.handoff_id} closed.")
        return
    found = queue.list(None if all_ else "open")
    if as_json:
        import json

        typer.echo(json.dumps([h.model_dump(mode="json") for h in found], indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("No open hand-offs." if not all_ else "No hand-offs.")
    for h in found:
        typer.echo(f"#{h.handoff_id}  {h.created_at:%Y-%m-%d %H:%M} UTC  [{h.status}]  session {h.session_id}")
        typer.echo(f"    {h.summary}")
