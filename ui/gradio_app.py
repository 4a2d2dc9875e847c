"""The shop chat in the browser (Gradio Blocks, mounted at `/` by ui/app.py).

Everything goes through `ChatService`, like the HTTP API: the conversation lives in the store
database; the page only keeps its session id.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from functools import lru_cache
from pathlib import Path

import gradio as gr

from recsys import ProfilePatch
from ui.schemas import FeedbackRequest, SignIn
from ui.service import ChatService, NotSignedIn, SessionNotFound, SignInRefused, UnknownUser

log = logging.getLogger(__name__)
DATA = Path(__file__).parent / "data"
CSS_PATH = Path(__file__).parent / "static" / "chat.css"
# Cards and choice buttons are fixed pools of components, updated in place: components made by
# `gr.render` are replaced on every change, and a click on one the page still showed while the next
# render ran was lost (an unknown event). An answer shows at most 5 cards (search and suggestions ask
# for 5); the demo store's longest choice list is 9 orders, and options past the pool are still typed.
CARD_SLOTS = 8
CHOICE_BUTTONS = 12
# Empties the box in the browser the moment a message is sent (its text already taken for the post): an
# answer from the server would come later and wipe what the shopper has typed since.
EMPTY_BOX_JS = """(...inputs) => {
  const box = document.querySelector('#aisle-input textarea');
  if (box) { box.value = ''; box.dispatchEvent(new Event('input', {bubbles: true})); }
  return inputs;
}"""


@lru_cache(maxsize=1)
def examples() -> dict[str, list[str]]:
    return json.loads((DATA / "examples.json").read_text(encoding="utf-8"))


def card_html(card: dict) -> str:
    """One product card: name, key options, price, availability, rating, and why it was shown."""
    esc = html.escape
    options = " · ".join(f"{esc(str(v))}" for v in (card.get("options") or {}).values())
    rating = f" · ★ {card['rating']:.1f}" if card.get("rating") else ""
    stock = "in stock" if card.get("available") else '<span class="out">out of stock</span>'
    brand = f"{esc(card['brand'])} · " if card.get("brand") else ""
    why = f'<div class="why">{esc(card["reason"])}</div>' if card.get("reason") else ""
    return (
        f'<div class="aisle-card-body" data-item-id="{esc(card["item_id"])}">'
        f'<div class="name">{esc(card["name"])}</div>'
        f'<div class="meta">{brand}{options or "&nbsp;"}</div>'
        f'<div><span class="price">${card["price"]:.2f}</span> · {stock}{rating}</div>{why}</div>'
    )


def _browser_secret(service: ChatService) -> str:
    # Gradio encrypts browser-stored values; a per-database key keeps them readable across restarts.
    return hashlib.sha256(f"aisle-browser-state:{service.store.url}".encode()).hexdigest()[:32]


def build_blocks(service: ChatService) -> gr.Blocks:
    demo_store = service.demo_sign_in  # off: no customer list, and only a token from the shop's site signs in
    users = service.demo_users(12) if demo_store else []
    how = "Pick a demo customer or type an email to check orders." if demo_store else "Sign in on the shop's website to check orders."
    prompts = examples()

    def ensure(session_id: str | None) -> str:
        if session_id:
            try:
                service.session(session_id)
                return session_id
            except SessionNotFound:
                pass  # expired or deleted: start afresh
        return service.create_session().session_id

    def card_updates(cards: list | None) -> list:
        """The card row and its slots (column, body) showing `cards` (None: leave them as they are)."""
        if cards is None:
            return [gr.skip()] * (1 + 2 * CARD_SLOTS)
        cards = cards[:CARD_SLOTS]
        columns = [gr.update(visible=n < len(cards)) for n in range(CARD_SLOTS)]
        bodies = [card_html(cards[n]) if n < len(cards) else "" for n in range(CARD_SLOTS)]
        return [gr.update(visible=bool(cards)), *columns, *bodies]

    def choice_updates(choices: list | None) -> list:
        """The choice row and its buttons showing `choices` (None: leave them as they are)."""
        if choices is None:
            return [gr.skip()] * (CHOICE_BUTTONS + 1)
        choices = choices[:CHOICE_BUTTONS]
        return [gr.update(visible=bool(choices))] + [
            gr.update(value=c["label"], visible=True, elem_classes=["aisle-choice", f"aisle-choice-{c['kind']}"]) for c in choices
        ] + [gr.update(value="", visible=False)] * (CHOICE_BUTTONS - len(choices))

    def page_session(session_id: str | None, page: dict) -> str:
        """The conversation this page shows and sends to (made when it has none, or its own expired). The page
        keeps it too: two messages sent on a fresh page before the browser has its id go to the same one."""
        page["session"] = ensure(page.get("session") or session_id)
        return page["session"]

    def post(message: str, session_id: str | None, page: dict):
        """Records the shopper's message as waiting in the conversation's outbox (in the database: a reload or
        a closed tab loses none) and counts it in `page`, which starts `answer`. Quick, never waiting for a
        reply, so a message sent while one streams is kept, not dropped."""
        message = (message or "").strip()
        if not message:
            return gr.skip(), gr.skip()
        try:
            session_id = page_session(session_id, page)
            service.post(session_id, message)
        except Exception as exc:  # the box is already empty: say what was not sent (not the database's words)
            log.warning("message not recorded: %s", type(exc).__name__)
            gr.Warning(f"Not sent, please send it again: {message}")
            return gr.skip(), gr.skip()
        page["posted"] += 1  # in place: a turn under way sees it and shows the message waiting
        return page, session_id

    def asked(message: dict) -> str:
        content = message.get("content")
        if isinstance(content, str):
            return content
        return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))

    def without_waiting(history: list, waiting: list[str]) -> list:
        """The chat as shown, less the messages shown waiting at its end (they are answered from the outbox)."""
        end = len(history)
        while end and history[end - 1].get("role") == "user":
            end -= 1
        tail = [asked(m) for m in history[end:]]
        shown = next(k for k in range(len(tail), -1, -1) if tail[len(tail) - k :] == waiting[:k])
        return history[: len(history) - shown]

    def shown_later(session_id: str, turn, later: list[str]) -> list[str]:
        """The messages waiting after the one being answered (as shown before if the store cannot say now)."""
        try:
            return [w.text for w in service.waiting(session_id) if w.message_id > turn.message.message_id]
        except Exception as exc:
            log.warning("waiting messages not read: %s", type(exc).__name__)
            return later

    def answer(page: dict, history: list):
        """Answers the conversation's waiting messages one turn at a time, oldest first; the ones still waiting
        show under the reply being written. A message is answered until its answer is saved with it leaving
        the outbox; when another page answered it meanwhile (the one this page was before a reload), the chat
        is redrawn as saved. Yields the chatbot, the cards (state, row, slots), the choices."""
        session_id = page.get("session")
        try:
            waiting = [w.text for w in service.waiting(session_id)] if session_id else []
        except Exception as exc:
            log.warning("waiting messages not read: %s", type(exc).__name__)
            waiting = []
        if not waiting:
            yield gr.skip(), gr.skip(), *card_updates(None), *choice_updates(None)
            return
        history = without_waiting(list(history or []), waiting)
        later: list[str] = waiting

        def chat() -> list:
            return history + [{"role": "user", "content": m} for m in later]

        tried, conflicts = set(), 0
        while True:
            try:
                turn = service.answer_waiting(session_id)
                if turn is None and not later:  # all answered, as shown: the last reply stays as it is
                    return
                if turn is None:  # all answered (here, or meanwhile by another page)
                    later = []
            except Exception as exc:  # the session went, or the store is down: they wait for the next send or reload
                log.warning("waiting messages not answered: %s", type(exc).__name__)
                turn = None
                if not isinstance(exc, SessionNotFound):
                    gr.Warning("The shop is busy: your messages are kept and answered when you next send one or reload.")
            if turn is None or turn.message.message_id in tried:  # one not saved is tried once per send: it waits
                later = [w.text for w in [turn.message, *turn.later]] if turn else later
                yield chat(), gr.skip(), *card_updates(None), *choice_updates(None)
                return
            seen, later = page["posted"], [w.text for w in turn.later]
            history += [{"role": "user", "content": turn.message.text}, {"role": "assistant", "content": ""}]
            shown, offered = [], []  # cards and choices belong to the latest answer
            yield chat(), shown, *card_updates(shown), *choice_updates(offered)
            try:
                for event in turn.events:
                    if page["posted"] != seen:  # sent meanwhile: shown waiting at once
                        seen = page["posted"]
                        later = shown_later(session_id, turn, later)
                    if event.kind in ("text", "handoff") and event.text:
                        history[-1]["content"] += event.text
                        yield chat(), gr.skip(), *card_updates(None), *choice_updates(None)
                    elif event.kind == "cards":
                        shown = [c.model_dump(mode="json") for c in event.cards]
                    elif event.kind == "choices":
                        offered = [c.model_dump(mode="json") for c in event.choices]
            except Exception as exc:  # shown in the chat, not as a traceback
                log.exception("chat turn failed")
                history[-1]["content"] += f"\n⚠️ Sorry, that did not work: {exc}"
            if turn.outcome == "conflict" and conflicts < 3:  # show the conversation as saved, and go on from there
                conflicts += 1
                try:
                    info = service.session(session_id)
                except Exception as exc:
                    log.warning("conversation not read again: %s", type(exc).__name__)
                    return
                history, shown, *_ = view(info)
                offered = [c.model_dump(mode="json") for c in info.choices]
            else:
                tried.add(turn.message.message_id)
            yield chat(), shown, *card_updates(shown), *choice_updates(offered)

    def feedback(kind: str, slot: int, session_id: str | None, shown: list):
        """A 👍 / 👎 / not-interested on the card in `slot`: 👎 and not-interested hide that card's slot only
        (its column, its body), so quick clicks on several cards never undo one another."""
        keep = [gr.skip(), gr.skip()]
        if not session_id or slot >= len(shown or []):
            return keep
        card = shown[slot]
        try:
            service.feedback(FeedbackRequest(session_id=session_id, kind=kind, item_id=card["item_id"]))
        except Exception as exc:
            gr.Warning(f"Feedback not saved: {exc}")
            return keep
        if kind == "like":
            gr.Info(f"Noted: you like {card['name']}.")
            return keep
        gr.Info(f"{card['name']} will not be shown again.")
        return [gr.update(visible=False), ""]

    def who_text(info) -> str:
        if info is None or info.user is None:
            return f"Not signed in. {how}"
        return f"Signed in as **{html.escape(info.user.name)}** ({html.escape(info.user.email)})."

    def view(info) -> list:
        """The chat, the cards (state, row, slots) and the choices (row, buttons) as the session `info` has them."""
        history = [{"role": m.role, "content": m.content} for m in info.history] if info else []
        shown = [c.model_dump(mode="json") for c in info.cards] if info else []
        offered = [c.model_dump(mode="json") for c in info.choices] if info else []
        return [history, shown, *card_updates(shown), *choice_updates(offered)]

    def unchanged() -> list:
        return [gr.skip(), gr.skip(), *card_updates(None), *choice_updates(None)]

    def sign_in(picked: str | None, email: str, session_id: str | None, page: dict):
        """`email` is an email (demo store) or a sign-in token from the shop's site (a JWT: no '@'). The page is
        redrawn from the session at once: signing in as another customer leaves nothing of the first on screen."""
        chosen = (email or "").strip() or picked
        session_id = page_session(session_id, page)
        if not chosen:
            return session_id, ("Pick a demo customer or type an email first." if demo_store else "Paste a sign-in token first."), gr.skip(), *unchanged()
        try:
            who = SignIn(token=chosen) if chosen.count(".") == 2 and "@" not in chosen else SignIn(email=chosen)
            info = service.sign_in(session_id, who)
        except (UnknownUser, SignInRefused, ValueError) as exc:
            return session_id, f"⚠️ {exc}", gr.skip(), *unchanged()
        return session_id, who_text(info), "", *view(info)

    def sign_out(session_id: str | None, page: dict):
        """The next person at this screen sees nothing of the conversation (nor has what was waiting answered):
        the page is redrawn at once."""
        session_id = page_session(session_id, page)
        info = service.sign_out(session_id)
        return session_id, who_text(info), *view(info)

    def load_profile(session_id: str | None):
        if not session_id:
            return None, gr.skip(), "Sign in to see your profile."
        try:
            profile = service.profile(session_id)
        except NotSignedIn:
            return None, gr.skip(), "Sign in to see your profile."
        except Exception as exc:
            return None, gr.skip(), f"⚠️ Profiles are not available: {exc}"
        data = profile.model_dump(mode="json")
        return data, data.get("personalised", True), ""

    def save_profile(session_id: str | None, edits: str):
        try:
            patch = ProfilePatch.model_validate_json(edits or "{}")
            profile = service.patch_profile(session_id or "", patch)
        except Exception as exc:
            return gr.skip(), f"⚠️ Not saved: {exc}"
        return profile.model_dump(mode="json"), "Saved."

    def switch(session_id: str | None, on: bool):
        try:
            profile = service.set_personalised(session_id or "", on)
        except Exception as exc:
            return gr.skip(), f"⚠️ Not changed: {exc}"
        return profile.model_dump(mode="json"), "Personalisation is " + ("on." if on else "off.")

    def forget_profile(session_id: str | None):
        try:
            service.delete_profile(session_id or "")
        except Exception as exc:
            return gr.skip(), f"⚠️ Not deleted: {exc}"
        return None, "Aisle forgot what it had learned about you."

    def restore(session_id: str | None):
        """A reload, or a restarted server, picks the conversation up from the database: its messages, the
        last reply's cards (less those disliked since), the choices still open, so they can be clicked, and
        the messages sent and not answered yet, shown waiting; `page` then starts `answer` on them."""
        try:
            info = service.session(session_id) if session_id else None
        except SessionNotFound:
            info = None
        waiting = [w.text for w in service.waiting(info.session_id)] if info else []
        history, *rest = view(info)
        history += [{"role": "user", "content": m} for m in waiting]
        # starts `answer` only when messages wait (an event running on the chat would show as a reply coming)
        page = {"session": info.session_id, "posted": len(waiting)} if waiting else gr.skip()
        return history, who_text(info), info.session_id if info else None, page, *rest

    with gr.Blocks(title="Aisle · shop assistant", analytics_enabled=False) as demo:
        # The session id only (the conversation itself is in the database), kept in the browser so a
        # reload or a server restart continues it. A fixed secret: the value must outlive the process.
        session = gr.BrowserState(None, storage_key="aisle-session", secret=_browser_secret(service))
        shown = gr.State([])
        # This page's conversation (the session id, also before the browser has it) and how many messages it
        # has sent: a change starts `answer`. The messages not answered yet wait in the database, not here.
        page = gr.State({"session": None, "posted": 0})
        gr.Markdown("## 🛒 Aisle — your shop assistant\nAsk for products, suggestions, your orders or the shop's policy, in English or 中文.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(height=380, label="Aisle", elem_id="aisle-chat", feedback_options=None, buttons=["copy"])

                card_columns, card_bodies = [], []
                with gr.Row(elem_classes="aisle-cards", elem_id="aisle-cards", visible=False) as card_row:
                    for slot in range(CARD_SLOTS):
                        with gr.Column(elem_classes="aisle-card", min_width=160, visible=False) as column:
                            body = gr.HTML("")
                            with gr.Row():
                                like = gr.Button("👍", size="sm", elem_classes="aisle-like", min_width=40)
                                dislike = gr.Button("👎", size="sm", elem_classes="aisle-dislike", min_width=40)
                            hide = gr.Button("Not interested", size="sm", elem_classes="aisle-not_interested")
                        for kind, button in (("like", like), ("dislike", dislike), ("not_interested", hide)):
                            button.click(lambda sid, cur, kind=kind, slot=slot: feedback(kind, slot, sid, cur),
                                         inputs=[session, shown], outputs=[column, body])  # fmt: skip
                        card_columns.append(column)
                        card_bodies.append(body)

                with gr.Row(elem_classes="aisle-choices", elem_id="aisle-choices", visible=False) as choice_row:
                    choice_buttons = [gr.Button("", size="sm", visible=False, elem_classes="aisle-choice") for _ in range(CHOICE_BUTTONS)]

                with gr.Row():
                    box = gr.Textbox(placeholder="e.g. running shoes under $100", show_label=False, scale=6,
                                     elem_id="aisle-input", autofocus=True)  # fmt: skip
                    send_btn = gr.Button("Send", variant="primary", scale=1, elem_id="aisle-send")
                    surprise = gr.Button("🎁 Surprise me", scale=1, elem_id="aisle-surprise")
                gr.Examples([[p] for p in prompts["en"] + prompts["zh"]], inputs=box, label="Try")

            with gr.Column(scale=1, min_width=260):
                with gr.Accordion("Sign in", open=True):
                    who = gr.Markdown(f"Not signed in. {how}", elem_id="aisle-who")
                    pick = gr.Dropdown(choices=[(f"{u.name} · {u.email}", u.email) for u in users], value=None,
                                       label="Demo customer", elem_id="aisle-pick", visible=demo_store)  # fmt: skip
                    email = gr.Textbox(label="…or your email" if demo_store else "Sign-in token from the shop's site",
                                       type="text" if demo_store else "password", elem_id="aisle-email")  # fmt: skip
                    with gr.Row():
                        signin_btn = gr.Button("Sign in", elem_id="aisle-signin")
                        signout_btn = gr.Button("Sign out", elem_id="aisle-signout")
                with gr.Accordion("Your profile", open=False):
                    gr.Markdown("What Aisle believes about you, from your orders and feedback.")
                    profile_view = gr.JSON(label="Profile", elem_id="aisle-profile")
                    personalised = gr.Checkbox(value=True, label="Personalise my results")
                    edits = gr.Code(language="json", label='Edit (JSON, e.g. {"blocked_brands": ["Apple"], "sizes": ["M"]})', lines=3)
                    with gr.Row():
                        refresh_btn = gr.Button("Show", size="sm")
                        save_btn = gr.Button("Save", size="sm")
                        forget_btn = gr.Button("Delete", size="sm", variant="stop")
                    profile_note = gr.Markdown()

        # Sending only records the message as waiting in the conversation's outbox (in the database); the box
        # empties in the browser at once, never later with a reply while the shopper types the next message.
        # Posts run one at a time, in the order sent (concurrency 1: each is one quick insert). A post changes
        # `page`, which starts `answer`; Gradio runs it once at a time per page ("always_last": a change during
        # a turn runs it again after), so a message sent while a reply streams is answered after it, and no
        # two turns of one page overlap. A reload shows the waiting messages and starts `answer` on them.
        # (Posts are queued: only a queued event reports the State change that triggers `answer`.)
        posting = {"concurrency_limit": 1, "concurrency_id": "post", "show_progress": "hidden"}
        gr.on([box.submit, send_btn.click], post, inputs=[box, session, page], outputs=[page, session], js=EMPTY_BOX_JS,
              trigger_mode="multiple", api_name="send", **posting)  # fmt: skip
        for button in choice_buttons:  # picking a choice sends its label, as if typed (a draft in the box stays)
            button.click(post, inputs=[button, session, page], outputs=[page, session], **posting)
        surprise.click(lambda sid, p: post("Surprise me", sid, p), inputs=[session, page], outputs=[page, session], **posting)
        redrawn = [chatbot, shown, card_row, *card_columns, *card_bodies, choice_row, *choice_buttons]
        page.change(answer, inputs=[page, chatbot], outputs=redrawn, trigger_mode="always_last")
        signin_btn.click(sign_in, inputs=[pick, email, session, page], outputs=[session, who, email, *redrawn])
        signout_btn.click(sign_out, inputs=[session, page], outputs=[session, who, *redrawn])
        refresh_btn.click(load_profile, inputs=[session], outputs=[profile_view, personalised, profile_note])
        save_btn.click(save_profile, inputs=[session, edits], outputs=[profile_view, profile_note])
        personalised.input(switch, inputs=[session, personalised], outputs=[profile_view, profile_note])
        forget_btn.click(forget_profile, inputs=[session], outputs=[profile_view, profile_note])
        demo.load(restore, inputs=[session], outputs=[chatbot, who, session, page, *redrawn[1:]])
    demo.queue(default_concurrency_limit=16)  # turns of different shoppers run side by side
    return demo
