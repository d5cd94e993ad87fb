// Ponte — attendants' console: the transcript of the open chat and writing to it.
"use strict";

(() => {
  const C = (window.PonteConsole = window.PonteConsole || {});
  const { $, LANG, markReadSoon, state } = C;
  // Functions of the sibling files, looked up when called (they may load later).
  const announce = (...args) => C.announce(...args);
  const api = (...args) => C.api(...args);
  const el = (...args) => C.el(...args);
  const formatTime = (...args) => C.formatTime(...args);
  const personName = (...args) => C.personName(...args);
  const randomId = (...args) => C.randomId(...args);
  const showDialog = (...args) => C.showDialog(...args);
  const showError = (...args) => C.showError(...args);
  const t = (...args) => C.t(...args);
  const wasMember = (...args) => C.wasMember(...args);
  const wsUrl = (...args) => C.wsUrl(...args);

  // ---------------------------------------------------------------- transcript

  // Messages written from this console carry `console-<person>-...` as client_message_id,
  // which is how a message is known to be the caller's (the API does not say who wrote it).
  function myMessagePrefix() {
    return `console-${state.me ? state.me.id : ""}-`;
  }

  function isMine(message) {
    const id = message.client_message_id;
    return message.sender_kind === "attendant" && typeof id === "string" && (state.myMessageIds.has(id) || id.startsWith(myMessagePrefix()));
  }

  function senderLabel(message) {
    if (isMine(message)) return t("sender_you");
    if (message.sender_kind === "attendant" && state.open && state.open.analyst) return personName(state.open.analyst.with);
    const record = state.open && state.open.record;
    if (message.sender_kind === "requester" && record && record.contact && record.contact.name) return record.contact.name;
    const key = `sender_${message.sender_kind}`;
    const text = t(key);
    return text === key ? message.sender_kind : text;
  }

  function attachmentOf(message) {
    const payload = message.payload;
    if (payload && typeof payload === "object" && payload.attachment && payload.attachment.id) return payload.attachment;
    return null;
  }

  function renderMessage(message) {
    const kind = String(message.sender_kind || "system").replace(/[^a-z_]/g, "");
    const other = kind === "attendant" && state.open && state.open.analyst && !isMine(message);
    const node = el("div", {
      class: `message from-${kind}` + (isMine(message) ? " is-mine" : "") + (other ? " is-other" : ""),
      dataset: { seq: String(message.seq) },
    },
      el("div", { class: "message-meta" },
        el("span", { class: "message-sender" }, senderLabel(message)),
        el("time", { class: "message-time" }, formatTime(message.created_at)),
      ),
    );
    const attachment = attachmentOf(message);
    const payload = message.payload && typeof message.payload === "object" ? message.payload : null;
    if (attachment) {
      node.append(renderAttachment(attachment));
    } else if (!message.body && payload && payload.event) {
      // A bodiless event (e.g. the hand-off to the desk): one quiet line.
      node.classList.add("is-event");
      const key = `event_${String(payload.event)}`;
      const known = t(key) !== key;
      node.append(el("div", { class: "message-body" },
        known ? t(key, { group: payload.group || "", ticket: payload.ticket || "" }) : String(payload.event),
        " · ",
        el("time", {}, formatTime(message.created_at))));
    } else {
      node.append(el("div", { class: "message-body" }, message.body || ""));
    }
    return node;
  }

  function renderAttachment(attachment) {
    const name = attachment.file_name || "attachment";
    const sizeKb = Math.max(1, Math.round((attachment.size || 0) / 1024));
    const wrap = el("div", { class: "message-body attachment" });
    const button = el("button", { type: "button", class: "attachment-link", "aria-label": t("download", { name }) },
      clipIcon(),
      el("span", {}, name),
      el("span", { class: "muted small" }, ` (${t("size_kb", { size: sizeKb })})`),
    );
    button.addEventListener("click", () => downloadAttachment(attachment));
    wrap.append(button);
    if (attachment.kind === "image" || String(attachment.content_type || "").startsWith("image/")) {
      const img = el("img", { class: "attachment-preview", alt: name, loading: "lazy" });
      wrap.append(img);
      api("GET", `/api/attachments/${encodeURIComponent(attachment.id)}`, undefined, { blob: true })
        .then((blob) => { img.src = URL.createObjectURL(blob); })
        .catch(() => img.remove());
    }
    return wrap;
  }

  function clipIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "clip-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l7.9-7.9");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    svg.append(path);
    return svg;
  }

  async function downloadAttachment(attachment) {
    try {
      const blob = await api("GET", `/api/attachments/${encodeURIComponent(attachment.id)}`, undefined, { blob: true });
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: attachment.file_name || "attachment", class: "visually-hidden" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      showError(error);
    }
  }

  function addMessages(messages) {
    const transcript = $("transcript");
    const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
    let added = false;
    for (const message of messages) {
      if (!message || typeof message.seq !== "number") continue;
      if (state.messages.has(message.seq)) continue;
      state.messages.set(message.seq, message);
      const node = renderMessage(message);
      // Keep order by seq even if something arrives out of order.
      let before = null;
      if (message.seq < state.lastSeq) {
        for (const child of transcript.children) {
          if (Number(child.dataset.seq) > message.seq) { before = child; break; }
        }
      }
      transcript.insertBefore(node, before);
      state.lastSeq = Math.max(state.lastSeq, message.seq);
      added = true;
    }
    if (added) {
      $("transcript-note").hidden = true;
      if (nearBottom || messages.length > 1) transcript.scrollTop = transcript.scrollHeight;
    }
    return added;
  }

  async function loadTranscript() {
    const open = state.open;
    if (!open) return;
    const id = open.id;
    const note = $("transcript-note");
    const record = open.record;
    if (record && !open.analyst && state.me && !wasMember(record, state.me.id)) {
      // The server lets only the people serving a chat read it: nothing to ask for yet.
      note.textContent = t("transcript_forbidden");
      note.hidden = false;
      return;
    }
    try {
      let after = state.lastSeq;
      // Page through (the server caps a page).
      for (let page = 0; page < 50; page += 1) {
        const answer = await api("GET", `/api/desk/chats/${encodeURIComponent(id)}/messages?after=${after}&limit=200`);
        if (!state.open || state.open.id !== id) return;
        const messages = (answer && answer.messages) || [];
        addMessages(messages);
        if (messages.length < 200) break;
        after = messages[messages.length - 1].seq;
      }
      if (state.messages.size === 0) {
        note.textContent = t("transcript_empty");
        note.hidden = false;
      }
      followChat();
    } catch (error) {
      if (!state.open || state.open.id !== id) return;
      if (error.status === 403) {
        note.textContent = t("transcript_forbidden");
        note.hidden = false;
      } else {
        showError(error);
      }
    }
  }

  function closeChatSocket() {
    clearTimeout(state.chatRetryTimer);
    const socket = state.chatSocket;
    state.chatSocket = null;
    state.chatSocketFor = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
  }

  function followChat() {
    const open = state.open;
    if (!open) return;
    if (state.chatSocket && state.chatSocketFor === open.id) return;
    closeChatSocket();
    const id = open.id;
    let socket;
    try {
      socket = new WebSocket(wsUrl(`/api/conversations/${encodeURIComponent(id)}/live`, { after: String(state.lastSeq) }));
    } catch (_) {
      return;
    }
    state.chatSocket = socket;
    state.chatSocketFor = id;
    socket.onopen = () => { state.chatRetry = 0; };
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (frame.type !== "message" || !frame.message) return;
      if (!state.open || state.open.id !== id) return;
      const added = addMessages([frame.message]);
      if (added && frame.message.sender_kind === "requester" && document.visibilityState === "visible") markReadSoon();
    };
    socket.onclose = () => {
      if (state.chatSocket !== socket) return;
      state.chatSocket = null;
      state.chatSocketFor = null;
      if (!state.open || state.open.id !== id || !state.signedIn) return;
      const delay = Math.min(30000, 1000 * 2 ** state.chatRetry) * (0.75 + Math.random() * 0.5);
      state.chatRetry = Math.min(state.chatRetry + 1, 6);
      state.chatRetryTimer = setTimeout(() => {
        if (state.open && state.open.id === id) followChat();
      }, delay);
    };
  }

  // ---------------------------------------------------------------- writing

  async function send() {
    const open = state.open;
    const composer = $("composer");
    const text = composer.value;
    if (!open || !text.trim()) return;
    const error = $("composer-error");
    error.textContent = "";
    const clientId = `${myMessagePrefix()}${randomId()}`;
    state.myMessageIds.add(clientId);
    $("send").disabled = true;
    try {
      const answer = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/messages`, { text, client_message_id: clientId });
      composer.value = "";
      updateSuggestions();
      if (state.open && state.open.id === open.id) addMessages((answer && answer.messages) || []);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      $("send").disabled = composer.disabled;
      composer.focus();
    }
  }

  function quickText(reply) {
    const texts = reply.texts || {};
    return texts[LANG] || texts.en || texts["pt-BR"] || texts.es || Object.values(texts)[0] || "";
  }

  function updateSuggestions() {
    const box = $("quick-suggestions");
    const value = $("composer").value;
    const match = /^\/([a-z0-9_-]*)$/i.exec(value.trim());
    if (!match || $("composer").disabled) {
      box.hidden = true;
      box.replaceChildren();
      $("composer").removeAttribute("aria-controls");
      return;
    }
    const prefix = "/" + match[1].toLowerCase();
    const found = state.quickReplies.filter((reply) => reply.shortcut.startsWith(prefix)).slice(0, 6);
    if (!found.length) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    box.replaceChildren(...found.map((reply) => {
      const button = el("button", { type: "button", class: "quick-suggestion" },
        el("strong", {}, reply.shortcut), " ", el("span", { class: "muted" }, quickText(reply)));
      button.addEventListener("click", () => {
        $("composer").value = reply.shortcut;
        updateSuggestions();
        $("composer").focus();
      });
      return el("li", {}, button);
    }));
    box.hidden = false;
    $("composer").setAttribute("aria-controls", "quick-suggestions");
  }

  function openQuickDialog() {
    const list = $("quick-list");
    if (!state.quickReplies.length) {
      list.replaceChildren(el("li", { class: "muted" }, t("no_quick_replies")));
    } else {
      list.replaceChildren(...state.quickReplies.map((reply) => {
        const button = el("button", { type: "button", class: "quick-item", dataset: { shortcut: reply.shortcut } },
          el("strong", {}, reply.shortcut),
          reply.owner ? el("span", { class: "pill" }, t("personal")) : null,
          el("span", { class: "quick-item-text" }, quickText(reply)),
        );
        button.addEventListener("click", () => {
          $("dialog-quick").close();
          $("composer").value = reply.shortcut;
          updateSuggestions();
          $("composer").focus();
        });
        return el("li", {}, button);
      }));
    }
    showDialog("dialog-quick");
  }

  async function upload(file) {
    const open = state.open;
    if (!open || !file) return;
    announce(t("uploading", { name: file.name }));
    try {
      const answer = await api("POST", `/api/conversations/${encodeURIComponent(open.id)}/attachments?name=${encodeURIComponent(file.name)}`, file, {
        raw: true,
        contentType: file.type || "application/octet-stream",
      });
      if (answer && answer.message && state.open && state.open.id === open.id) addMessages([answer.message]);
      announce(t("uploaded", { name: file.name }));
    } catch (error) {
      $("composer-error").textContent = error.message;
    }
  }

  Object.assign(C, {
    myMessagePrefix, isMine, senderLabel, attachmentOf, renderMessage, renderAttachment, clipIcon,
    downloadAttachment, addMessages, loadTranscript, closeChatSocket, followChat, send, quickText,
    updateSuggestions, openQuickDialog, upload,
  });
})();
