// Ponte's requester chat widget. A portal embeds it with one tag:
//   <script src="https://ponte.example/widget.js" defer></script>
// Optional attributes: data-token (the signed-in requester's token; without it the widget
// starts an anonymous guest session), data-lang (pt-BR, es or en; default: the browser's
// language), data-channel (default web). Any element with data-ponte-open opens the chat.
//
// It talks to the Ponte server the script came from: REST for opening, posting and choosing,
// a WebSocket for the live feed (resumed from the last seq it saw, so a reconnect neither
// loses nor repeats a message). Every text from the server or the requester is inserted
// as text, never as HTML.
(function () {
  "use strict";
  if (window.Ponte && window.Ponte.loaded) return;

  const script = document.currentScript;
  const base = script && script.src ? new URL(script.src).origin : window.location.origin;
  const config = {
    token: (script && script.dataset.token) || null,
    lang: (script && script.dataset.lang) || null,
    channel: (script && script.dataset.channel) || "web",
  };
  const STORE_KEY = "ponte.widget." + base;
  const MAX_TEXT = 4000;

  const TEXTS = {
    "pt-BR": {
      talk: "Conversar",
      title: "Assistente Virtual",
      close: "Fechar conversa",
      message: "Mensagem",
      placeholder: "Escreva sua mensagem…",
      send: "Enviar",
      waiting: "Aguardando atendimento",
      online: "Atendente online",
      assistant: "Assistente virtual",
      queue: (n, eta) => "Você é o número " + n + " na fila" + (eta ? " (cerca de " + eta + " min)" : "") + ".",
      reconnecting: "Conexão perdida. Reconectando…",
      offline: "Não foi possível conectar ao atendimento. Tente novamente em instantes.",
      ticket: (n) => "Chamado " + n,
      view: "Ver",
      closeArticle: "Fechar",
      expand: "Mostrar descrição",
      collapse: "Ocultar descrição",
      articleClosed: "Artigo fechado",
      ended: "Esta conversa terminou.",
      restart: "Nova conversa",
      failed: "Não enviada. Toque para tentar de novo.",
      you: "Você",
      attendant: "Atendente",
      sources: "Fontes",
      specialists: "Escolha com quem falar:",
      joined: (name) => name + " entrou na conversa.",
      left: (name) => name + " saiu da conversa.",
      tooLong: "A mensagem passa de " + MAX_TEXT + " caracteres.",
    },
    es: {
      talk: "Conversar",
      title: "Asistente Virtual",
      close: "Cerrar conversación",
      message: "Mensaje",
      placeholder: "Escriba su mensaje…",
      send: "Enviar",
      waiting: "Esperando atención",
      online: "Agente en línea",
      assistant: "Asistente virtual",
      queue: (n, eta) => "Usted es el número " + n + " en la cola" + (eta ? " (unos " + eta + " min)" : "") + ".",
      reconnecting: "Se perdió la conexión. Reconectando…",
      offline: "No fue posible conectar con la atención. Inténtelo de nuevo en unos momentos.",
      ticket: (n) => "Ticket " + n,
      view: "Ver",
      closeArticle: "Cerrar",
      expand: "Mostrar descripción",
      collapse: "Ocultar descripción",
      articleClosed: "Artículo cerrado",
      ended: "Esta conversación terminó.",
      restart: "Nueva conversación",
      failed: "No enviado. Toque para reintentar.",
      you: "Usted",
      attendant: "Agente",
      sources: "Fuentes",
      specialists: "Elija con quién hablar:",
      joined: (name) => name + " se unió a la conversación.",
      left: (name) => name + " salió de la conversación.",
      tooLong: "El mensaje supera los " + MAX_TEXT + " caracteres.",
    },
    en: {
      talk: "Talk",
      title: "Virtual Assistant",
      close: "Close chat",
      message: "Message",
      placeholder: "Type your message…",
      send: "Send",
      waiting: "Waiting for an attendant",
      online: "Attendant online",
      assistant: "Virtual assistant",
      queue: (n, eta) => "You are number " + n + " in the queue" + (eta ? " (about " + eta + " min)" : "") + ".",
      reconnecting: "Connection lost. Reconnecting…",
      offline: "Could not reach the service desk. Please try again in a moment.",
      ticket: (n) => "Ticket " + n,
      view: "View",
      closeArticle: "Close",
      expand: "Show description",
      collapse: "Hide description",
      articleClosed: "Article closed",
      ended: "This conversation has ended.",
      restart: "New conversation",
      failed: "Not sent. Tap to retry.",
      you: "You",
      attendant: "Attendant",
      sources: "Sources",
      specialists: "Choose who to talk to:",
      joined: (name) => name + " joined the conversation.",
      left: (name) => name + " left the conversation.",
      tooLong: "The message is longer than " + MAX_TEXT + " characters.",
    },
  };

  function pickLanguage() {
    const wanted = [config.lang].concat(navigator.languages || [navigator.language || ""]);
    for (const tag of wanted) {
      if (!tag) continue;
      const lower = tag.toLowerCase();
      if (lower.startsWith("pt")) return "pt-BR";
      if (lower.startsWith("es")) return "es";
      if (lower.startsWith("en")) return "en";
    }
    return "en";
  }
  const lang = pickLanguage();
  const t = TEXTS[lang];

  // ---------- state ----------
  const saved = load();
  const state = {
    token: config.token || saved.token || null,
    conversation: saved.conversation || null,
    lastSeq: 0,
    socket: null,
    retry: 0,
    opened: false,
    finished: false,
    shownSeqs: new Set(),
    pending: new Map(), // client_message_id -> element
    articles: new Map(), // article id -> card element
    streams: new Map(), // answer_id -> bubble
    openedUrls: new Set(),
  };

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(STORE_KEY) || "{}") || {};
    } catch (_) {
      return {};
    }
  }
  function save() {
    try {
      const kept = { conversation: state.conversation };
      // A portal's own token is the portal's business; only a guest token is kept here.
      if (!config.token) kept.token = state.token;
      window.localStorage.setItem(STORE_KEY, JSON.stringify(kept));
    } catch (_) {
      /* private mode: the chat still works for this page */
    }
  }

  // ---------- elements ----------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children || []) if (child) node.appendChild(child);
    return node;
  }

  const stylesheet = el("link", { rel: "stylesheet", href: base + "/assets/widget.css" });
  document.head.appendChild(stylesheet);

  const root = el("div", { id: "ponte-widget", className: "ponte-widget", lang: lang });
  const talk = el("button", {
    id: "ponte-talk",
    type: "button",
    className: "ponte-talk",
    "aria-expanded": "false",
    "aria-controls": "ponte-panel",
  });
  talk.appendChild(el("span", { className: "ponte-talk-icon", "aria-hidden": "true", text: "💬" }));
  talk.appendChild(el("span", { text: t.talk }));

  const dot = el("span", {
    id: "ponte-status",
    className: "ponte-dot ponte-dot-waiting",
    role: "img",
    "aria-label": t.waiting,
    title: t.waiting,
  });
  const heading = el("h2", { id: "ponte-title", className: "ponte-title", text: t.title });
  const who = el("span", { id: "ponte-agent", className: "ponte-agent", text: t.assistant });
  const ticket = el("span", { id: "ponte-ticket", className: "ponte-ticket", hidden: true });
  const closeButton = el("button", {
    id: "ponte-close",
    type: "button",
    className: "ponte-icon-button",
    "aria-label": t.close,
    title: t.close,
    text: "×",
  });
  const header = el("header", { className: "ponte-header" }, [
    dot,
    el("div", { className: "ponte-heading" }, [heading, el("div", { className: "ponte-sub" }, [who, ticket])]),
    closeButton,
  ]);
  const notice = el("div", { id: "ponte-notice", className: "ponte-notice", role: "status", hidden: true });
  const queue = el("div", { id: "ponte-queue", className: "ponte-queue", role: "status", hidden: true });
  const log = el("ol", {
    id: "ponte-log",
    className: "ponte-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": t.title,
  });
  const input = el("textarea", {
    id: "ponte-input",
    className: "ponte-input",
    rows: "2",
    maxlength: String(MAX_TEXT),
    placeholder: t.placeholder,
    autocomplete: "off",
  });
  const send = el("button", { id: "ponte-send", type: "submit", className: "ponte-send", text: t.send });
  const form = el("form", { id: "ponte-form", className: "ponte-form" }, [
    el("label", { for: "ponte-input", className: "ponte-visually-hidden", text: t.message }),
    input,
    send,
  ]);
  const restart = el("button", { id: "ponte-restart", type: "button", className: "ponte-restart", hidden: true, text: t.restart });
  const panel = el(
    "section",
    { id: "ponte-panel", className: "ponte-panel", role: "dialog", "aria-labelledby": "ponte-title", hidden: true },
    [header, notice, queue, log, restart, form]
  );
  root.appendChild(panel);
  root.appendChild(talk);

  function mount() {
    document.body.appendChild(root);
    for (const opener of document.querySelectorAll("[data-ponte-open]")) {
      opener.addEventListener("click", (event) => {
        event.preventDefault();
        openPanel();
      });
    }
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  // ---------- http ----------
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || "HTTP " + status);
      this.status = status;
      this.code = body && body.code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let parsed = null;
    const text = await response.text();
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch (_) {
        parsed = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }

  async function ensureToken() {
    if (state.token) return;
    const session = await api("POST", "/api/widget/session");
    state.token = session.token;
    save();
  }

  // ---------- opening ----------
  async function openPanel() {
    panel.hidden = false;
    talk.setAttribute("aria-expanded", "true");
    root.classList.add("ponte-open");
    input.focus();
    if (state.opened) return;
    await begin();
  }

  // Starts (or resumes) the conversation; a failure is told and the next open tries again.
  async function begin() {
    state.opened = true;
    try {
      await start();
    } catch (error) {
      state.opened = false;
      showNotice(error instanceof ApiError && error.message ? error.message : t.offline);
    }
  }

  function closePanel() {
    panel.hidden = true;
    talk.setAttribute("aria-expanded", "false");
    root.classList.remove("ponte-open");
    talk.focus();
  }

  async function start() {
    await ensureToken();
    if (state.conversation) {
      try {
        const current = await api("GET", "/api/conversations/" + encodeURIComponent(state.conversation));
        if (current.status === "finished") {
          // The last conversation ended: its transcript stays readable, a new one starts on demand.
          markFinished();
        }
      } catch (error) {
        if (error.status === 401 && !config.token) {
          // The guest key changed on the server: start over as a new guest.
          state.token = null;
          state.conversation = null;
          await ensureToken();
        } else if (error.status === 404 || error.status === 403) {
          state.conversation = null;
        } else {
          throw error;
        }
      }
    }
    if (!state.conversation) {
      const opened = await api("POST", "/api/conversations", { language: lang, channel: config.channel });
      state.conversation = opened.conversation.id;
      save();
      for (const message of opened.messages) render(message);
    }
    connect();
    refreshQueue();
  }

  async function restartConversation() {
    state.finished = false;
    state.conversation = null;
    state.lastSeq = 0;
    state.shownSeqs.clear();
    state.articles.clear();
    disconnect();
    log.replaceChildren();
    restart.hidden = true;
    form.hidden = false;
    setOnline(false, null);
    queue.hidden = true;
    ticket.hidden = true;
    save();
    await begin();
  }

  // ---------- live feed ----------
  function connect() {
    if (!state.conversation) return;
    disconnect();
    const url = new URL(base + "/api/conversations/" + encodeURIComponent(state.conversation) + "/live");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("after", String(state.lastSeq));
    url.searchParams.set("token", state.token);
    const socket = new WebSocket(url.toString());
    state.socket = socket;
    socket.addEventListener("open", () => {
      state.retry = 0;
      hideNotice();
      refreshQueue();
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      onFrame(frame);
    });
    socket.addEventListener("close", () => {
      if (state.socket !== socket) return;
      state.socket = null;
      if (state.finished) return;
      showNotice(t.reconnecting);
      const delay = Math.min(5000, 300 * Math.pow(2, state.retry++));
      window.setTimeout(() => {
        if (!state.socket && !state.finished) connect();
      }, delay);
    });
  }

  function disconnect() {
    const socket = state.socket;
    state.socket = null;
    if (socket) socket.close();
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "message":
        render(frame.message);
        break;
      case "queue_position":
        showQueue(frame.position, frame.eta_ms);
        break;
      case "attendant":
        setOnline(frame.status === "online", frame.name);
        queue.hidden = true;
        break;
      case "participant":
        systemLine(frame.joined ? t.joined(frame.name || "") : t.left(frame.name || ""));
        break;
      case "specialists":
        showSpecialists(frame.candidates || []);
        if (frame.position) showQueue(frame.position, frame.eta_ms);
        break;
      case "answer_delta":
        streamPiece(frame.answer_id, frame.text || "");
        break;
      case "answer_abandoned":
        dropStream(frame.answer_id);
        break;
      default:
        break;
    }
  }

  async function refreshQueue() {
    if (!state.conversation) return;
    try {
      const status = await api("GET", "/api/conversations/" + encodeURIComponent(state.conversation) + "/queue");
      if (status.state === "in_progress" && status.responsible) {
        setOnline(true, status.responsible.name);
        queue.hidden = true;
      } else if (status.state === "queued") {
        setOnline(false, null);
        if (status.position) showQueue(status.position, status.eta_ms);
      } else if (status.state === "closed" || status.state === "lost") {
        setOnline(false, null);
        queue.hidden = true;
      }
    } catch (_) {
      /* the queue is informative; the conversation goes on without it */
    }
  }

  // ---------- rendering ----------
  function render(message) {
    if (!message || typeof message.seq !== "number") return;
    if (state.shownSeqs.has(message.seq)) return;
    state.shownSeqs.add(message.seq);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
    const payload = message.payload || {};

    if (message.sender_kind === "requester") {
      const pending = message.client_message_id && state.pending.get(message.client_message_id);
      if (pending) {
        state.pending.delete(message.client_message_id);
        pending.classList.remove("ponte-pending", "ponte-failed");
        pending.dataset.seq = String(message.seq);
        return;
      }
      disableOldOptions();
      append(bubble("requester", message.body, message.seq));
      return;
    }

    switch (payload.event) {
      case "show_article":
        showArticle(payload.article || {}, message.seq);
        return;
      case "collapse_article":
        collapseArticle(payload.article_id);
        return;
      case "open_url":
        openUrl(payload.url);
        return;
      case "handoff":
        if (payload.ticket) showTicket(payload.ticket);
        setOnline(false, null);
        return;
      case "grounded_answer":
        finishStream(payload.answer_id, message, payload.citations || []);
        return;
      default:
        break;
    }

    if (message.sender_kind === "system" && !message.body) return;
    const item = bubble(message.sender_kind, message.body, message.seq);
    if (payload.text_key) item.dataset.textKey = payload.text_key;
    const options = Array.isArray(payload.options) ? payload.options : [];
    if (options.length) item.appendChild(optionRow(options));
    if (typeof payload.ticket === "string") showTicket(payload.ticket);
    append(item);
    if (payload.text_key === "offline_notice" || payload.text_key === "offline_custom") {
      showNotice(message.body);
    }
    if (payload.text_key === "conversation_closed") markFinished();
  }

  function bubble(kind, text, seq) {
    const item = el("li", { className: "ponte-message ponte-from-" + kind });
    if (seq) item.dataset.seq = String(seq);
    const label = kind === "requester" ? t.you : kind === "attendant" ? t.attendant : t.assistant;
    item.appendChild(el("span", { className: "ponte-visually-hidden", text: label + ": " }));
    item.appendChild(el("span", { className: "ponte-text", text: text || "" }));
    return item;
  }

  // The log follows new messages unless the requester scrolled up to read older ones.
  let following = true;
  log.addEventListener("scroll", () => {
    following = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  });
  function follow() {
    if (following) log.scrollTop = log.scrollHeight;
  }

  function append(item) {
    log.appendChild(item);
    if (item.classList.contains("ponte-from-requester")) following = true;
    follow();
  }

  function systemLine(text) {
    append(el("li", { className: "ponte-message ponte-system", text }));
  }

  function optionRow(options) {
    const row = el("div", { className: "ponte-options", role: "group" });
    for (const option of options) {
      const button = el("button", {
        type: "button",
        className: "ponte-option",
        "data-option": option.id,
        text: option.label,
      });
      button.addEventListener("click", () => choose(option.id, button));
      row.appendChild(button);
    }
    return row;
  }

  function disableOldOptions() {
    for (const button of log.querySelectorAll(".ponte-option, .ponte-article-actions button")) {
      button.disabled = true;
    }
  }

  function showArticle(article, seq) {
    const id = article.id || "";
    const bodyId = "ponte-article-" + seq;
    const toggle = el("button", {
      type: "button",
      className: "ponte-article-title",
      "aria-expanded": "true",
      "aria-controls": bodyId,
      title: t.collapse,
      text: article.title || id,
    });
    const summary = el("p", { id: bodyId, className: "ponte-article-summary", text: article.summary || "" });
    const actions = el("div", { className: "ponte-article-actions" });
    if (article.url) {
      const view = el("button", { type: "button", className: "ponte-article-view", text: t.view });
      view.addEventListener("click", () => {
        openUrl(article.url);
        choose("view", view);
      });
      actions.appendChild(view);
    }
    const close = el("button", { type: "button", className: "ponte-article-close", text: t.closeArticle });
    close.addEventListener("click", () => choose("close", close));
    actions.appendChild(close);
    const card = el("li", { className: "ponte-message ponte-article", "data-article-id": id, "data-seq": String(seq) }, [
      toggle,
      summary,
      actions,
    ]);
    toggle.addEventListener("click", () => setExpanded(card, toggle.getAttribute("aria-expanded") !== "true"));
    // The text message just before says the same and carries the same choices; the card
    // takes its place.
    const previous = log.lastElementChild;
    if (previous && previous.dataset.textKey === "article_shown") previous.hidden = true;
    state.articles.set(id, card);
    append(card);
  }

  function setExpanded(card, expanded) {
    const toggle = card.querySelector(".ponte-article-title");
    const summary = card.querySelector(".ponte-article-summary");
    toggle.setAttribute("aria-expanded", expanded ? "true" : "false");
    toggle.title = expanded ? t.collapse : t.expand;
    summary.hidden = !expanded;
  }

  function collapseArticle(id) {
    const card = state.articles.get(id);
    if (!card) return;
    setExpanded(card, false);
    card.classList.add("ponte-article-closed");
    for (const button of card.querySelectorAll(".ponte-article-actions button")) button.disabled = true;
    const note = card.querySelector(".ponte-article-note") || el("span", { className: "ponte-article-note" });
    note.textContent = t.articleClosed;
    card.appendChild(note);
  }

  function openUrl(url) {
    if (!url || state.openedUrls.has(url)) return;
    let parsed;
    try {
      parsed = new URL(url, window.location.href);
    } catch (_) {
      return;
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return;
    state.openedUrls.add(url);
    window.open(parsed.toString(), "_blank", "noopener");
  }

  function showTicket(number) {
    ticket.textContent = t.ticket(number);
    ticket.hidden = false;
  }

  function showQueue(position, etaMs) {
    if (!position) {
      queue.hidden = true;
      return;
    }
    const minutes = etaMs ? Math.max(1, Math.round(etaMs / 60000)) : 0;
    queue.textContent = t.queue(position, minutes);
    queue.hidden = false;
    follow();
  }

  function setOnline(online, name) {
    dot.classList.toggle("ponte-dot-online", online);
    dot.classList.toggle("ponte-dot-waiting", !online);
    const label = online ? t.online : t.waiting;
    dot.setAttribute("aria-label", label);
    dot.title = label;
    who.textContent = online && name ? name : t.assistant;
  }

  function showSpecialists(candidates) {
    if (!candidates.length) return;
    const row = el("div", { className: "ponte-options", role: "group" });
    for (const person of candidates) {
      const button = el("button", { type: "button", className: "ponte-option", text: person.name || person.id });
      button.addEventListener("click", async () => {
        for (const other of row.querySelectorAll("button")) other.disabled = true;
        try {
          await api("POST", "/api/conversations/" + encodeURIComponent(state.conversation) + "/specialist", {
            person: person.id,
          });
        } catch (error) {
          showNotice(error.message);
          for (const other of row.querySelectorAll("button")) other.disabled = false;
        }
      });
      row.appendChild(button);
    }
    append(el("li", { className: "ponte-message ponte-from-assistant" }, [el("span", { text: t.specialists }), row]));
  }

  function streamPiece(id, text) {
    if (!id) return;
    let item = state.streams.get(id);
    if (!item) {
      item = bubble("assistant", "", 0);
      item.classList.add("ponte-streaming");
      item.setAttribute("aria-busy", "true");
      state.streams.set(id, item);
      append(item);
    }
    item.querySelector(".ponte-text").textContent += text;
  }

  function dropStream(id) {
    const item = state.streams.get(id);
    if (item) item.remove();
    state.streams.delete(id);
  }

  function finishStream(id, message, citations) {
    const final = bubble("assistant", message.body, message.seq);
    if (citations.length) {
      const list = el("ul", { className: "ponte-citations", "aria-label": t.sources });
      for (const citation of citations) {
        const title = citation.title || citation.id || "";
        const entry = el("li");
        if (citation.url) {
          entry.appendChild(el("a", { href: citation.url, target: "_blank", rel: "noopener", text: title }));
        } else {
          entry.textContent = title;
        }
        list.appendChild(entry);
      }
      final.appendChild(list);
    }
    const streaming = id && state.streams.get(id);
    if (streaming) {
      streaming.replaceWith(final);
      state.streams.delete(id);
    } else {
      append(final);
    }
  }

  function markFinished() {
    state.finished = true;
    form.hidden = true;
    restart.hidden = false;
    systemLine(t.ended);
    setOnline(false, null);
    queue.hidden = true;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
    follow();
  }
  function hideNotice() {
    notice.hidden = true;
    notice.textContent = "";
  }

  // ---------- sending ----------
  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  async function sendText(text) {
    const clientId = newId();
    disableOldOptions();
    const item = bubble("requester", text, 0);
    item.classList.add("ponte-pending");
    state.pending.set(clientId, item);
    append(item);
    await deliver(text, clientId, item);
  }

  async function deliver(text, clientId, item) {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const posted = await api("POST", "/api/conversations/" + encodeURIComponent(state.conversation) + "/messages", {
          text,
          client_message_id: clientId,
        });
        for (const message of posted.messages || []) render(message);
        return;
      } catch (error) {
        if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
          state.pending.delete(clientId);
          item.classList.remove("ponte-pending");
          item.classList.add("ponte-failed");
          item.appendChild(el("span", { className: "ponte-error", text: error.message }));
          if (error.code === "conversation_finished") markFinished();
          return;
        }
        // A network failure or a busy server: the same client id makes the retry safe.
        await new Promise((resolve) => window.setTimeout(resolve, 400 * (attempt + 1)));
      }
    }
    item.classList.remove("ponte-pending");
    item.classList.add("ponte-failed");
    const retry = el("button", { type: "button", className: "ponte-retry", text: t.failed });
    retry.addEventListener("click", () => {
      retry.remove();
      item.classList.remove("ponte-failed");
      item.classList.add("ponte-pending");
      deliver(text, clientId, item);
    });
    item.appendChild(retry);
  }

  async function choose(optionId, button) {
    disableOldOptions();
    if (button) button.classList.add("ponte-chosen");
    try {
      const chosen = await api("POST", "/api/conversations/" + encodeURIComponent(state.conversation) + "/options", {
        option_id: optionId,
      });
      for (const message of chosen.messages || []) render(message);
    } catch (error) {
      systemLine(error.message);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !state.conversation || state.finished) return;
    if (text.length > MAX_TEXT) {
      showNotice(t.tooLong);
      return;
    }
    input.value = "";
    sendText(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  talk.addEventListener("click", () => (panel.hidden ? openPanel() : closePanel()));
  closeButton.addEventListener("click", closePanel);
  restart.addEventListener("click", restartConversation);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanel();
  });
  window.addEventListener("online", () => {
    if (state.opened && !state.socket && !state.finished) connect();
  });

  window.Ponte = { loaded: true, open: openPanel, close: closePanel };
})();
