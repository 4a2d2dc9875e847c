/* Aisle support widget: one script tag adds a chat bubble to any page.
 *
 *   <script src="https://aisle.example/widget.js" data-title="Need help?" async></script>
 *
 * Options (data-* attributes on the script tag):
 *   data-title     panel title                         (default "Shop assistant")
 *   data-greeting  first message shown                 (default below)
 *   data-color     accent colour                       (default "#2563eb")
 *   data-position  "right" or "left"                   (default "right")
 *   data-open      "true": open the panel on load
 *   data-api       Aisle's base URL                    (default: where this script came from)
 *   data-token     a sign-in token for the shop's logged-in customer (a JWT the shop's server signs
 *                  with AISLE_SIGNIN_SECRET, `sub` = the user id); or, from the page's own script:
 *                    AisleWidget.signIn(token)   sign the conversation in (returns a Promise)
 *                    AisleWidget.signOut()       when the customer logs out of the shop
 *   data-sign-in   "page": the page's script signs shoppers in itself (signIn(token) once it has the
 *                  token, signOut() for nobody); the widget waits up to 5 s for one of them before it
 *                  decides what of a stored conversation to show
 * A stored conversation signed in as a customer is shown again (a reload, the shop's next page) only
 * once this page has proven it is that customer (a token for them); otherwise it is signed out and
 * the widget starts afresh. An anonymous conversation is shown again as it is.
 * The page's origin must be listed in Aisle's AISLE_ALLOWED_ORIGINS; when it is not, the widget says so.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__aisleWidget) return;
  window.__aisleWidget = true;

  var opt = script.dataset || {};
  var base = (opt.api || new URL(script.src).origin).replace(/\/$/, "");
  var storageKey = "aisle-session:" + base;
  var greeting = opt.greeting || "Hi! I can find products, suggest things, and help with your orders.";

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "/widget.css";
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  var root = el("div", "aisle-w" + (opt.position === "left" ? " aisle-w-left" : ""));
  root.id = "aisle-widget";
  root.style.setProperty("--aisle-accent", opt.color || "#2563eb");
  var bubble = el("button", "aisle-w-bubble", "💬");
  bubble.id = "aisle-widget-bubble";
  bubble.setAttribute("aria-label", "Open the shop assistant");
  var panel = el("div", "aisle-w-panel");
  panel.id = "aisle-widget-panel";
  panel.hidden = true;
  var head = el("div", "aisle-w-head");
  head.appendChild(el("span", "", opt.title || "Shop assistant"));
  var close = el("button", "aisle-w-close", "×");
  close.setAttribute("aria-label", "Close");
  head.appendChild(close);
  var log = el("div", "aisle-w-log");
  log.id = "aisle-widget-log";
  log.setAttribute("aria-live", "polite");
  var form = el("form", "aisle-w-form");
  var input = el("input", "aisle-w-input");
  input.id = "aisle-widget-input";
  input.placeholder = "Ask about products or your order…";
  input.maxLength = 4000;
  var send = el("button", "aisle-w-send", "Send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(bubble);

  // Where the turn being answered writes: right under its own message (and what it wrote so far), above
  // the messages sent while it streams; null: at the end of the log.
  var anchor = null;
  function place(node, atEnd) {
    if (anchor && !atEnd && anchor.parentNode === log) {
      log.insertBefore(node, anchor.nextSibling);
      anchor = node;
    } else {
      log.appendChild(node);
    }
    log.scrollTop = log.scrollHeight;
  }

  // `atEnd`: under everything, even while a turn writes above (a message sent meanwhile).
  function add(role, text, atEnd) {
    var msg = el("div", "aisle-w-msg aisle-w-" + role, text);
    place(msg, atEnd);
    return msg;
  }

  function api(path, body) {
    return fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
  }

  function failed(r, what) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      throw new Error(what + (typeof body.detail === "string" ? body.detail : "the assistant answered " + r.status));
    });
  }

  // A sign-in token waiting to be used: the conversation is signed in with it before the next request.
  var pendingToken = opt.token || null;
  var provenUser = null; // the customer this page has signed in with a token: their conversation may be shown

  function signedIn(info) {
    provenUser = info.user ? info.user.user_id : null;
    return info;
  }

  function session(fresh) {
    var id = !fresh && localStorage.getItem(storageKey);
    var token = pendingToken;
    if (id && !token) return Promise.resolve(id);
    var request = id
      ? api("/api/sessions/" + encodeURIComponent(id) + "/signin", { token: token })
      : api("/api/sessions", token ? { sign_in: { token: token } } : {});
    return request.then(function (r) {
      if (r.status === 404 && id) return session(true); // the stored conversation expired: start another
      if (!r.ok) {
        pendingToken = null; // a refused token is not tried again with every message
        return failed(r, token ? "could not sign you in: " : "could not start a conversation: ");
      }
      pendingToken = null;
      return r.json().then(function (info) {
        if (token) signedIn(info);
        localStorage.setItem(storageKey, info.session_id);
        return info.session_id;
      });
    });
  }

  // Why a request failed. A page whose origin Aisle does not allow gets a 403 to its preflight, which
  // the browser reports only as "Failed to fetch" (the page may not read a refused answer). So: if
  // Aisle answers at all (an opaque no-cors request), this page's origin is what was refused.
  function explain(err) {
    if (!(err instanceof TypeError)) return Promise.resolve(err.message);
    return fetch(base + "/healthz", { mode: "no-cors", cache: "no-store" }).then(function () {
      return "this page's origin (" + location.origin + ") is not allowed to use the assistant at " + base +
        "; the shop must add it to AISLE_ALLOWED_ORIGINS on the Aisle server";
    }, function () {
      return "the assistant at " + base + " did not answer";
    });
  }

  function cards(list, sessionId) {
    var row = el("div", "aisle-w-cards");
    list.forEach(function (c) {
      var card = el("div", "aisle-w-card");
      card.dataset.itemId = c.item_id;
      card.appendChild(el("div", "aisle-w-name", c.name));
      var opts = Object.values(c.options || {}).join(" · ");
      if (opts) card.appendChild(el("div", "aisle-w-meta", opts));
      card.appendChild(el("div", "aisle-w-price",
        "$" + Number(c.price).toFixed(2) + (c.available ? "" : " · out of stock") +
        (c.rating ? " · ★" + Number(c.rating).toFixed(1) : "")));
      if (c.reason) card.appendChild(el("div", "aisle-w-why", c.reason));
      var no = el("button", "aisle-w-no", "👎");
      no.title = "Not interested";
      no.onclick = function () {
        api("/api/feedback", { session_id: sessionId, kind: "dislike", item_id: c.item_id });
        card.remove();
      };
      card.appendChild(no);
      row.appendChild(card);
    });
    place(row);
  }

  // Options the answer asks to pick from, as buttons; a click sends the label (typing works too).
  function choices(list) {
    clearChoices();
    var row = el("div", "aisle-w-choices");
    row.id = "aisle-widget-choices";
    list.forEach(function (c) {
      var button = el("button", "aisle-w-choice", c.label);
      button.type = "button";
      button.dataset.kind = c.kind;
      button.onclick = function () { submit(c.label); };
      row.appendChild(button);
    });
    place(row);
  }

  function clearChoices() {
    var old = document.getElementById("aisle-widget-choices");
    if (old) old.remove();
  }

  // Reads the server-sent events of /api/chat as they arrive (text pieces stream into one bubble).
  function stream(response, reply, sessionId) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split("\n\n");
        buffer = parts.pop();
        parts.forEach(function (part) {
          var name = (part.match(/^event: (.*)$/m) || [])[1];
          var data = (part.match(/^data: (.*)$/m) || [])[1];
          if (!data) return;
          var event = JSON.parse(data);
          if (name === "text" || name === "handoff") {
            reply.textContent += event.text;
            log.scrollTop = log.scrollHeight;
          } else if (name === "cards") {
            cards(event.cards, sessionId);
          } else if (name === "choices") {
            choices(event.choices);
          }
        });
        return pump();
      });
    }
    return pump();
  }

  function ask(message, retried) {
    return settle().then(function () { return session(retried); }).then(function (id) {
      return api("/api/chat", { session_id: id, message: message }).then(function (r) {
        if (r.status === 404 && !retried) return ask(message, true); // the session expired
        if (!r.ok) return failed(r, "");
        var reply = add("bot", "");
        return stream(r, reply, id);
      });
    });
  }

  // One turn at a time, in the order sent: a message sent while a reply streams is shown at once and
  // answered after it (the log is aria-busy until the last one is answered).
  var turns = Promise.resolve();
  var unanswered = 0;
  function submit(message) {
    if (!message || send.disabled) return;
    clearChoices();
    var mine = add("user", message, true);
    unanswered += 1;
    log.setAttribute("aria-busy", "true");
    turns = turns.then(function () {
      clearChoices(); // the previous reply's options, if it came with some: this message answers instead
      anchor = mine;
      return ask(message, false).catch(function (err) {
        return explain(err).then(function (reason) {
          if (window.console) console.error("Aisle widget: " + reason);
          add("error", "Sorry, the assistant is not available: " + reason);
        });
      });
    }).then(function () {
      anchor = null;
      unanswered -= 1;
      if (unanswered) return;
      log.removeAttribute("aria-busy");
      input.focus();
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var message = input.value.trim();
    if (!message || send.disabled) return; // kept in the box while the conversation so far is being looked up
    input.value = "";
    submit(message);
  });

  // Whether the page has said who is here: at once unless it signs shoppers in itself (data-sign-in="page")
  // and has not yet called signIn or signOut; then after PAGE_WAIT_MS at most (nobody, as far as we know).
  var PAGE_WAIT_MS = 5000;
  var pageSaid = !!opt.token || opt.signIn !== "page";
  var heard = [];
  function hear() {
    pageSaid = true;
    heard.splice(0).forEach(function (resolve) { resolve(); });
  }
  function pageWord() {
    if (pageSaid) return Promise.resolve();
    return new Promise(function (resolve) {
      heard.push(resolve);
      setTimeout(resolve, PAGE_WAIT_MS);
    });
  }

  function lookup(id) {
    return fetch(base + "/api/sessions/" + encodeURIComponent(id)).then(function (r) {
      if (r.status === 404) return null;
      return r.ok ? r.json() : failed(r, "");
    });
  }

  // The stored conversation as this page may show it (the server decides, POST …/resume): signed in as a
  // customer, only with a token proving that customer; else the server signs it out and it comes back empty.
  function resume(id) {
    var token = pendingToken;
    return api("/api/sessions/" + encodeURIComponent(id) + "/resume", token ? { token: token } : {}).then(function (r) {
      if (r.status === 404) { // expired: a token waiting is used by the next message's new session
        if (localStorage.getItem(storageKey) === id) localStorage.removeItem(storageKey);
        return null;
      }
      if (token) pendingToken = null; // used, or refused: not tried again with every message
      if (!r.ok) return failed(r, token ? "could not sign you in: " : "");
      return r.json().then(signedIn);
    });
  }

  // Decides, once per page, what of the stored conversation may be shown and continued (null: nothing).
  // Every message waits for it: an unproven customer's conversation must not act for them either.
  var settling = null;
  function settle() {
    if (settling) return settling;
    if (!localStorage.getItem(storageKey)) return (settling = Promise.resolve(null));
    // Nothing of the stored conversation is fetched before the server has the page's proof or its absence
    // (POST …/resume): a look-up first would bring a signed-in customer's history into an unproven page.
    settling = pageWord().then(function () {
      var id = localStorage.getItem(storageKey);
      if (!id) return null;
      // Signed in by this page's own token already (signIn before the panel opened): theirs to see.
      return provenUser && !pendingToken ? lookup(id) : resume(id);
    });
    settling.catch(function () { settling = null; }); // a failed look-up is tried again, never skipped
    return settling;
  }

  // The panel from the session info: greeting, messages, the last reply's cards and its open choices.
  function draw(info) {
    while (log.firstChild) log.removeChild(log.firstChild);
    add("bot", greeting);
    if (!info) return;
    info.history.forEach(function (m) { add(m.role === "user" ? "user" : "bot", m.content); });
    if (info.cards.length) cards(info.cards, info.session_id);
    if (info.choices.length) choices(info.choices);
  }

  function warn(err) {
    if (window.console) console.warn("Aisle widget: the conversation so far could not be shown: " + err);
  }

  // A reload (or the shop's next page) shows the conversation so far, as far as settle() allows.
  function restore() {
    send.disabled = true;
    return settle().then(draw, warn).then(function () {
      send.disabled = false;
    });
  }

  // After the page signed someone in or out while the panel shows a conversation: show theirs (or none).
  function redraw(info) {
    if (log.childNodes.length) draw(info);
    return info;
  }

  function toggle(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", String(open));
    if (open) {
      if (!log.childNodes.length) {
        add("bot", greeting);
        restore();
      }
      input.focus();
    }
  }
  bubble.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });

  window.AisleWidget = {
    // Sign the conversation in as the shop's logged-in customer (token: a JWT from the shop's server).
    // Called while the widget waits for it (data-sign-in="page"), the token goes to that look-up.
    signIn: function (token) {
      pendingToken = token;
      var waiting = settling && !pageSaid;
      hear();
      return (waiting ? settling : Promise.resolve()).catch(function () {}).then(function () {
        if (!pendingToken) return localStorage.getItem(storageKey); // the look-up used it
        return session(false).then(function (id) {
          return lookup(id).then(redraw).then(function () { return id; });
        });
      });
    },
    // The customer logged out of the shop: the next person on this device starts anonymous.
    signOut: function () {
      pendingToken = null;
      provenUser = null;
      hear();
      var id = localStorage.getItem(storageKey);
      if (!id) return Promise.resolve();
      return api("/api/sessions/" + encodeURIComponent(id) + "/signout").then(function (r) {
        return r.ok ? r.json().then(redraw) : null;
      }).then(function () {});
    },
    open: function () { toggle(true); },
  };

  function mount() {
    document.body.appendChild(root);
    if (opt.open === "true") toggle(true);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
