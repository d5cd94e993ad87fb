// Ponte's requester chat widget. A portal embeds it with one tag:
//   <script src="https://ponte.example/widget.js" defer></script>
// Optional attributes: data-token (the signed-in requester's token; without it the widget
// starts an anonymous guest session), data-lang (pt-BR, es or en; default: the browser's
// language), data-channel (default web). Any element with data-ponte-open opens the chat.
//
// It talks to the Ponte server the script came from: REST for opening, posting and choosing,
// a WebSocket for the live feed (resumed from the last seq it saw, so a reconnect neither
// loses nor repeats a message). Every text from the server or the requester is inserted
// as text, never as HTML. The header's download button saves the transcript as a text file.
//
// This file is the one a portal loads; it loads its parts (errors.js, widget-texts.js,
// widget-markdown.js, widget-view.js, widget-media.js, widget-rating.js, widget-marks.js,
// widget-prechat.js) from the same server, then starts.
(function () {
  "use strict";
  if ((window.Ponte && window.Ponte.loaded) || window.PonteWidgetParts) return;

  const script = document.currentScript;
  const base = script && script.src ? new URL(script.src).origin : window.location.origin;
  const config = {
    token: (script && script.dataset.token) || null,
    lang: (script && script.dataset.lang) || null,
    channel: (script && script.dataset.channel) || "web",
  };
  const STORE_KEY = "ponte.widget." + base;
  const MAX_TEXT = 4000;

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

  // The rest of the widget is in sibling files, loaded from the same server in this order
  // before the widget starts; each shares what it owns on window.PonteWidgetParts.
  const W = (window.PonteWidgetParts = {
    load, save, script, base, config, STORE_KEY, MAX_TEXT, saved, state,
  });
  const PARTS = ["errors.js", "widget-texts.js", "widget-markdown.js", "widget-view.js", "widget-media.js", "widget-rating.js", "widget-marks.js", "widget-prechat.js"];
  let waiting = PARTS.length;
  for (const name of PARTS) {
    const part = document.createElement("script");
    part.src = base + "/assets/" + name;
    part.async = false; // run in the order inserted
    part.addEventListener("load", () => {
      waiting -= 1;
      if (waiting === 0) run();
    });
    document.head.appendChild(part);
  }

  function run() {
    const {
      lang, t, el, render, bubble, append, systemLine,
      disableOldOptions, showQueue, setStage, showSpecialists, streamPiece, dropStream, markFinished,
      showNotice, hideNotice, root, talk, ticket, closeButton, saveButton, queue,
      log, input, form, restart, panel,
    } = W;

    // ---------- http ----------
    // The server's own message is English for developers: the requester reads what the
    // error's code means, in the widget's language.
    class ApiError extends Error {
      constructor(status, body) {
        const code = body && typeof body.code === "string" ? body.code : "";
        super(window.PonteErrors.text(code, lang, status));
        this.status = status;
        this.code = code;
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
      // A guest may first be asked who they are (widget-prechat.js).
      const session = W.guestSession ? await W.guestSession() : await api("POST", "/api/widget/session");
      state.token = session.token;
      save();
    }

    // ---------- opening ----------
    async function openPanel() {
      panel.hidden = false;
      talk.setAttribute("aria-expanded", "true");
      root.classList.add("ponte-open");
      input.focus();
      if (state.opened) {
        W.markSeen();
        return;
      }
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
          W.resetMarks(current.read && current.read.requester_seq);
          W.deskRead(current.read && current.read.attendant_seq);
          if (current.status === "finished") {
            // The last conversation ended: its transcript stays readable, a new one starts on demand.
            markFinished();
          } else {
            showPerson(current.machine_view);
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
      saveButton.hidden = false;
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
      saveButton.hidden = true;
      W.resetMarks();
      form.hidden = false;
      setStage("assistant");
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
          W.markSeen();
          break;
        case "typing":
          if (frame.who === "attendant") W.showTyping(frame.name);
          break;
        case "read":
          if (frame.who === "attendant") W.deskRead(frame.seq);
          break;
        case "queue_position":
          showQueue(frame.position, frame.eta_ms);
          break;
        case "attendant":
          setStage(frame.status === "online" ? "person" : "waiting", frame.name);
          queue.hidden = true;
          W.markSeen();
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

    // Who the requester talks to, from the conversation's own view (on resuming a chat).
    function showPerson(view) {
      if (!view) return;
      if (view.status === "online" && typeof view.attendant === "string" && view.attendant) {
        setStage("person", view.attendant);
        queue.hidden = true;
      } else if (view.status === "waiting_for_attendant") {
        setStage("waiting");
      } else if (view.status === "bot") {
        setStage("assistant");
      }
    }

    async function refreshQueue() {
      if (!state.conversation) return;
      try {
        const status = await api("GET", "/api/conversations/" + encodeURIComponent(state.conversation) + "/queue");
        if (status.state === "in_progress" && status.responsible) {
          setStage("person", status.responsible.name);
          queue.hidden = true;
        } else if (status.state === "queued") {
          setStage("waiting");
          if (status.position) showQueue(status.position, status.eta_ms);
        } else if (status.state === "closed" || status.state === "lost") {
          setStage("closed");
          queue.hidden = true;
        } else if (status.state === "bot") {
          // Not in Ponte's desk: a chat handed to an external desk names its agent in the
          // conversation's own view (the replayed history's hand-off line cleared the header).
          const current = await api("GET", "/api/conversations/" + encodeURIComponent(state.conversation));
          showPerson(current.machine_view);
        }
      } catch (_) {
        /* the queue is informative; the conversation goes on without it */
      }
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
    // ---------- the transcript as a file ----------
    // Fetched with the token (a plain link could not send it), then handed to the browser
    // as a download; times in the requester's own time zone.
    async function saveTranscript() {
      if (!state.conversation) return;
      const url = base + "/api/conversations/" + encodeURIComponent(state.conversation) + "/transcript?format=txt";
      let zone = "";
      try {
        zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      } catch (_) {
        zone = "";
      }
      try {
        const headers = { Authorization: "Bearer " + state.token };
        let response = await fetch(zone ? url + "&tz=" + encodeURIComponent(zone) : url, { headers });
        // A zone the server does not know: its times in UTC, which the file says.
        if (response.status === 400 && zone) response = await fetch(url, { headers });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
        const file = named ? named[1] : "conversation.txt";
        const href = URL.createObjectURL(await response.blob());
        const link = el("a", { href, download: file, hidden: true });
        root.appendChild(link);
        link.click();
        link.remove();
        window.setTimeout(() => URL.revokeObjectURL(href), 60000);
      } catch (_) {
        showNotice(t.transcriptFailed);
      }
    }

    saveButton.addEventListener("click", saveTranscript);
    talk.addEventListener("click", () => (panel.hidden ? openPanel() : closePanel()));
    closeButton.addEventListener("click", closePanel);
    restart.addEventListener("click", restartConversation);
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closePanel();
    });
    window.addEventListener("online", () => {
      if (state.opened && !state.socket && !state.finished) connect();
    });

    Object.assign(W, {
      api, ensureToken, openPanel, begin, closePanel, start, restartConversation,
      connect, disconnect, onFrame, showPerson, refreshQueue, newId, sendText, deliver,
      choose, ApiError, saveTranscript,
    });
    window.Ponte = { loaded: true, open: openPanel, close: closePanel };
  }
})();
