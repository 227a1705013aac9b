// Baton's chat widget: vanilla JS, no build step. Talks to the chat API of the page's own
// origin: a session token (kept in localStorage, so a closed tab resumes the conversation),
// the history for reload, messages by POST (retried with the same client_msg_id), and live
// answers, status and the typing indicator over server-sent events.
(() => {
  "use strict";
  const KEY = "baton.chat";
  const TYPING_MAX_MS = 30000; // the indicator always ends, even if its end event is lost
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("composer"), input = $("text"), typing = $("typing");
  const errBox = $("error"), stateEl = $("state"), sendBtn = $("send");
  const shown = new Map(); // message id -> element
  const pending = []; // sent, not yet confirmed: {text, el}
  let session = null, lastID = 0, es = null, typingTimer = 0;
  const params = new URLSearchParams(location.hash.slice(1));
  const identity = params.get("identity") || "", signature = params.get("identity_signature") || "";

  const load = () => { try { return JSON.parse(localStorage.getItem(KEY)); } catch { return null; } };
  const save = () => { try { localStorage.setItem(KEY, JSON.stringify(session)); } catch { /* private mode */ } };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function showError(msg) { errBox.textContent = msg; errBox.hidden = !msg; }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + session.token };
    if (body) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error((data.error && data.error.message) || r.statusText);
      e.status = r.status;
      throw e;
    }
    return data;
  }

  async function newSession() {
    const body = identity ? JSON.stringify({ identity, identity_signature: signature }) : undefined;
    const r = await fetch("/v1/chat/sessions", { method: "POST", headers: body ? { "Content-Type": "application/json" } : {}, body });
    if (!r.ok) throw new Error("The chat could not start (" + r.status + "). Please try again later.");
    session = Object.assign(await r.json(), { identity, issued: Date.now() });
    save();
    log.textContent = "";
    shown.clear();
    lastID = 0;
  }

  // A token past half its life is renewed (same conversation), so a visitor who keeps
  // coming back never loses it.
  async function renew() {
    const left = Date.parse(session.expires_at) - Date.now();
    if (!(left > 0) || left > (Date.parse(session.expires_at) - (session.issued || 0)) / 2) return;
    const r = await fetch("/v1/chat/sessions", { method: "POST", headers: { Authorization: "Bearer " + session.token } });
    if (r.ok) { session = Object.assign(await r.json(), { identity, issued: Date.now() }); save(); }
  }

  function setStatus(status) {
    stateEl.textContent = status === "queued" ? "Waiting for a person: they will reply here."
      : status === "agent" ? "A person from our team is with you." : "";
  }

  function showTyping() {
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_MAX_MS);
  }
  function hideTyping() { typing.hidden = true; clearTimeout(typingTimer); }

  const authorName = { customer: "You", bot: "Assistant", agent: "Support agent" };

  function safeURL(u) {
    try { const x = new URL(u, location.href); return x.protocol === "https:" || x.protocol === "http:" ? x.href : ""; } catch { return ""; }
  }

  function bubble(m) {
    const li = document.createElement("li");
    li.className = "msg msg-" + m.author;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = authorName[m.author] || "Support";
    li.append(who, document.createTextNode(m.text));
    return li;
  }

  function addCitations(li, m) {
    if (!m.citations || !m.citations.length) return;
    const ul = document.createElement("ul");
    ul.className = "cites";
    ul.setAttribute("aria-label", "Sources");
    for (const c of m.citations) {
      const item = document.createElement("li");
      const href = safeURL(c.url || "");
      const el = document.createElement(href ? "a" : "span");
      if (href) { el.href = href; el.target = "_blank"; el.rel = "noopener noreferrer"; }
      el.textContent = c.title || "Source";
      item.append(el);
      ul.append(item);
    }
    li.append(ul);
    if (m.author !== "bot") return;
    const rate = document.createElement("div");
    rate.className = "rate";
    rate.setAttribute("role", "group");
    rate.setAttribute("aria-label", "Was this answer helpful?");
    const label = document.createElement("span");
    label.textContent = "Helpful?";
    label.setAttribute("aria-hidden", "true");
    rate.append(label);
    const buttons = [[true, "Yes", "Yes, helpful"], [false, "No", "No, not helpful"]].map(([up, icon, name]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = icon;
      b.dataset.up = String(up);
      b.setAttribute("aria-label", name);
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", async () => {
        try {
          await api("POST", "/v1/chat/feedback", { message_id: m.id, up });
          buttons.forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
          showError("");
        } catch { showError("Your feedback could not be saved. Please try again."); }
      });
      return b;
    });
    rate.append(...buttons);
    li.append(rate);
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function render(m) {
    if (!m || !m.id || m.visibility === "internal" || m.author === "system" || shown.has(m.id)) return;
    lastID = Math.max(lastID, m.id);
    if (m.author === "customer") {
      // Our own message, confirmed by the stream before its POST returned.
      const i = pending.findIndex((p) => p.text === m.text);
      if (i >= 0) {
        const p = pending.splice(i, 1)[0];
        p.el.classList.remove("pending");
        p.el.dataset.id = m.id;
        shown.set(m.id, p.el);
        return;
      }
    } else {
      hideTyping();
    }
    const li = bubble(m);
    li.dataset.id = m.id;
    addCitations(li, m);
    shown.set(m.id, li);
    log.append(li);
    scrollDown();
  }

  async function history() {
    const h = await api("GET", "/v1/chat/messages?after=" + lastID);
    h.messages.forEach(render);
    setStatus(h.status);
  }

  function connect() {
    if (es) es.close();
    es = new EventSource("/v1/chat/events?token=" + encodeURIComponent(session.token) + "&last_event_id=" + lastID);
    es.addEventListener("message", (e) => render(JSON.parse(e.data)));
    es.addEventListener("conversation", (e) => setStatus(JSON.parse(e.data).status));
    es.addEventListener("processing", (e) => (JSON.parse(e.data).state === "start" ? showTyping() : hideTyping()));
    es.addEventListener("error", () => {
      hideTyping();
      if (es.readyState === EventSource.CLOSED) setTimeout(resume, 3000); // refused: the token may have expired
    });
  }

  async function resume() {
    try {
      if (!session || !session.token || Date.parse(session.expires_at) <= Date.now() || session.identity !== identity) await newSession();
      try {
        await history();
      } catch (e) {
        if (e.status !== 401 && e.status !== 404) throw e;
        await newSession();
        await history();
      }
      showError("");
      await renew().catch(() => {});
      connect();
    } catch (e) {
      showError(e.message || "The chat is unavailable. Retrying…");
      setTimeout(resume, 5000);
    }
  }

  async function send(text) {
    const id = (crypto.randomUUID && crypto.randomUUID()) || Date.now() + "-" + Math.random().toString(36).slice(2);
    const li = bubble({ author: "customer", text });
    li.classList.add("pending");
    log.append(li);
    scrollDown();
    const p = { text, el: li };
    pending.push(p);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await api("POST", "/v1/chat/messages", { text, client_msg_id: id });
        const i = pending.indexOf(p);
        if (i >= 0) pending.splice(i, 1);
        if (shown.has(r.message_id) && shown.get(r.message_id) !== li) li.remove();
        else { li.classList.remove("pending"); li.dataset.id = r.message_id; shown.set(r.message_id, li); }
        lastID = Math.max(lastID, r.message_id);
        showError("");
        return;
      } catch (e) {
        const retry = !e.status || e.status >= 500 || e.status === 429;
        if (!retry || attempt >= 5) {
          li.classList.add("failed");
          showError("Your message could not be sent: " + e.message);
          return;
        }
        await sleep(500 * 2 ** attempt); // same client_msg_id: a retry never stores it twice
      }
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !session) return;
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(sendBtn); }
  });

  session = load();
  resume();
})();
