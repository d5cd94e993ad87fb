// Ponte — attendants' console: the staff live feed and opening a chat (its header,
// details and live socket).
"use strict";

(() => {
  const C = (window.PonteConsole = window.PonteConsole || {});
  const { $, scheduleRefresh, state } = C;
  // Functions of the sibling files, looked up when called (they may load later).
  const api = (...args) => C.api(...args);
  const channelLabel = (...args) => C.channelLabel(...args);
  const chatTitle = (...args) => C.chatTitle(...args);
  const closeChatSocket = (...args) => C.closeChatSocket(...args);
  const debounce = (...args) => C.debounce(...args);
  const el = (...args) => C.el(...args);
  const isMember = (...args) => C.isMember(...args);
  const loadConfig = (...args) => C.loadConfig(...args);
  const loadMacros = (...args) => C.loadMacros(...args);
  const loadPeople = (...args) => C.loadPeople(...args);
  const loadQuickReplies = (...args) => C.loadQuickReplies(...args);
  const loadTranscript = (...args) => C.loadTranscript(...args);
  const personName = (...args) => C.personName(...args);
  const refreshPresence = (...args) => C.refreshPresence(...args);
  const rememberAnalystChat = (...args) => C.rememberAnalystChat(...args);
  const removeTag = (...args) => C.removeTag(...args);
  const renderAlert = (...args) => C.renderAlert(...args);
  const renderAnalysts = (...args) => C.renderAnalysts(...args);
  const renderLists = (...args) => C.renderLists(...args);
  const renderPresence = (...args) => C.renderPresence(...args);
  const saveLinks = (...args) => C.saveLinks(...args);
  const t = (...args) => C.t(...args);
  const updateSuggestions = (...args) => C.updateSuggestions(...args);
  const wasMember = (...args) => C.wasMember(...args);
  const wsUrl = (...args) => C.wsUrl(...args);

  // ---------------------------------------------------------------- staff live feed

  function connectStaff() {
    if (!state.signedIn) return;
    clearTimeout(state.staffRetryTimer);
    let socket;
    try {
      socket = new WebSocket(wsUrl("/api/desk/live"));
    } catch (_) {
      retryStaff();
      return;
    }
    state.staffSocket = socket;
    socket.onopen = () => {
      state.staffRetry = 0;
      $("connection").hidden = true;
      // Anything missed while disconnected.
      scheduleRefresh();
    };
    socket.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      onStaffFrame(frame);
    };
    socket.onclose = () => {
      if (state.staffSocket !== socket) return;
      state.staffSocket = null;
      retryStaff();
    };
    socket.onerror = () => { /* onclose follows */ };
  }

  function retryStaff() {
    if (!state.signedIn) return;
    const connection = $("connection");
    connection.textContent = t("connection_lost");
    connection.hidden = false;
    const delay = Math.min(30000, 1000 * 2 ** state.staffRetry) * (0.75 + Math.random() * 0.5);
    state.staffRetry = Math.min(state.staffRetry + 1, 6);
    state.staffRetryTimer = setTimeout(async () => {
      // A dropped socket may mean the token is gone: check before reconnecting.
      try {
        await api("GET", "/api/desk/presence");
      } catch (error) {
        if (error.status === 401 || error.status === 403) return;
      }
      connectStaff();
    }, delay);
  }

  const PEOPLE_OPS = new Set(["upsert_person", "set_presence"]);
  const CONFIG_OPS = new Set(["configure"]);
  const QUICK_OPS = new Set(["upsert_quick_reply", "delete_quick_reply"]);
  const MACRO_OPS = new Set(["upsert_macro", "delete_macro"]);

  const refreshPeople = debounce(async () => {
    try { await loadPeople(); renderAnalysts(); } catch (_) { /* ignore */ }
  }, 500);

  function onStaffFrame(frame) {
    if (frame.type === "lagged") {
      scheduleRefresh();
      return;
    }
    if (frame.type === "unread") {
      scheduleRefresh();
      return;
    }
    if (frame.type !== "desk") return;
    // The server flattens the operation into the frame (`{"type":"desk","op":"capture",
    // "conversation_id":...}`); a nested `{"type":"desk","op":{"op":...}}` is accepted too.
    const op = frame.op && typeof frame.op === "object" ? frame.op : frame;
    const kind = typeof op.op === "string" ? op.op : "";
    if (PEOPLE_OPS.has(kind)) {
      refreshPeople();
      if (state.me && op.person === state.me.id) refreshPresence();
    }
    if (CONFIG_OPS.has(kind)) loadConfig().then(renderPresence).catch(() => {});
    if (QUICK_OPS.has(kind)) loadQuickReplies().catch(() => {});
    if (MACRO_OPS.has(kind)) loadMacros().catch(() => {});
    if (kind === "start_analyst_chat" && state.me && (op.to === state.me.id || op.from === state.me.id)) {
      rememberAnalystChat(op.conversation_id, op.to === state.me.id ? op.from : op.to);
    }
    if (kind === "link_contact" && state.me && op.analyst === state.me.id) {
      state.links.add(op.other);
      saveLinks();
      renderAnalysts();
    }
    if (kind === "unlink_contact" && state.me && op.analyst === state.me.id) {
      state.links.delete(op.other);
      saveLinks();
      renderAnalysts();
    }
    scheduleRefresh();
    // Capturing, closing or being assigned a chat changes the caller's load.
    if (["capture", "close", "transfer", "reopen", "enqueue", "reroute", "choose", "leave", "invite", "start_outbound"].includes(kind)) {
      debouncedPresence();
    }
  }

  const debouncedPresence = debounce(refreshPresence, 600);

  // ---------------------------------------------------------------- open chat

  function findRecord(id) {
    return state.chats.find((record) => record.conversation_id === id) || null;
  }

  function syncOpenRecord() {
    if (!state.open || state.open.analyst) return;
    const record = findRecord(state.open.id);
    if (!record) return;
    const before = state.open.record;
    state.open.record = record;
    renderChatHeader();
    const me = state.me ? state.me.id : "";
    const couldRead = before && (wasMember(before, me));
    if (!couldRead && wasMember(record, me) && !state.chatSocket) {
      // Just captured (here or by a transfer): load the transcript and follow it.
      loadTranscript();
    }
    if (record.unread && isMember(record, me) && document.visibilityState === "visible") markReadSoon();
  }

  async function openChat(id, analystWith) {
    if (state.open && state.open.id === id) {
      showChatPane();
      $("composer").focus();
      return;
    }
    closeChatSocket();
    state.open = { id, record: analystWith ? null : findRecord(id), analyst: analystWith ? { with: analystWith } : null };
    state.messages = new Map();
    state.lastSeq = 0;
    $("transcript").replaceChildren();
    $("transcript-note").hidden = true;
    $("composer").value = "";
    $("composer-error").textContent = "";
    updateSuggestions();
    $("chat").hidden = false;
    $("chat-placeholder").hidden = true;
    showChatPane();
    renderChatHeader();
    renderLists();
    renderAnalysts();
    await loadTranscript();
    const record = state.open && state.open.record;
    if (record && record.unread && state.me && isMember(record, state.me.id)) markReadSoon();
    if (record && record.state === "queued") $("capture").focus();
    else if (!$("composer").disabled) $("composer").focus();
    else $("transcript").focus();
  }

  function showChatPane() {
    document.body.classList.add("chat-open");
  }

  function backToList() {
    document.body.classList.remove("chat-open");
    const id = state.open ? state.open.id : null;
    const li = id && $("chat-list").querySelector(`li[data-chat-id="${CSS.escape(id)}"]`);
    if (li) li.focus();
    else $("search").focus();
  }

  const markReadSoon = debounce(async () => {
    if (!state.open || state.open.analyst) return;
    const record = state.open.record;
    if (!record || !state.me || !isMember(record, state.me.id)) return;
    try {
      const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(state.open.id)}/read`);
      if (updated) replaceRecord(updated);
      const alert = await api("GET", "/api/desk/alert");
      state.alert = alert || state.alert;
      renderAlert();
    } catch (_) { /* not important */ }
  }, 400);

  function replaceRecord(updated) {
    if (!updated || !updated.conversation_id) return;
    const index = state.chats.findIndex((record) => record.conversation_id === updated.conversation_id);
    if (index >= 0) state.chats[index] = updated;
    else state.chats.push(updated);
    if (state.open && state.open.id === updated.conversation_id) state.open.record = updated;
    renderLists();
    renderChatHeader();
  }

  function renderChatHeader() {
    const open = state.open;
    if (!open) return;
    const me = state.me ? state.me.id : "";
    const title = $("chat-title");
    const meta = $("chat-meta");
    $("chat").classList.toggle("no-contact", Boolean(open.analyst));
    if (open.analyst) {
      title.textContent = t("analyst_chat_with", { name: personName(open.analyst.with) });
      meta.textContent = "";
      for (const id of ["capture", "decline", "reopen", "leave"]) $(id).hidden = true;
      $("toolbar").hidden = true;
      $("composer-form").hidden = false;
      $("tag-list").hidden = true;
      $("contact-panel").hidden = true;
      $("contact-toggle").hidden = true;
      setComposerEnabled(true);
      return;
    }
    $("composer-form").hidden = false;
    $("tag-list").hidden = false;
    $("contact-toggle").hidden = false;
    $("contact-panel").hidden = false;
    const record = open.record;
    if (!record) {
      title.textContent = open.id;
      meta.textContent = "";
      return;
    }
    title.textContent = chatTitle(record);
    const parts = [];
    const ticket = record.ticket || record.lost_ticket;
    if (ticket) parts.push(t("ticket", { ticket }));
    parts.push(channelLabel(record.channel));
    parts.push(t(`state_${record.state}`));
    if (record.state === "queued" && record.position) parts.push(t("position", { position: record.position }));
    if (record.responsible) parts.push(t("responsible", { name: personName(record.responsible) }));
    if (record.participants && record.participants.length) {
      parts.push(t("participants", { names: record.participants.map(personName).join(", ") }));
    }
    if (record.close_reason) parts.push(t("closed_reason", { reason: C.reasonLabel(record.close_reason) }));
    meta.textContent = parts.join(" · ");

    const member = isMember(record, me);
    const active = record.state === "in_progress" && member;
    $("capture").hidden = record.state !== "queued";
    // Declining hands a chat one was given (automatic or manual routing) to someone else.
    $("decline").hidden = !(record.state === "in_progress" && record.responsible === me && record.origin !== "outbound");
    $("reopen").hidden = !(record.state === "closed" || record.state === "lost");
    $("leave").hidden = !(active && record.responsible !== me);
    for (const id of ["macros", "tags", "transfer", "invite", "close"]) $(id).disabled = !active;
    $("transfer").disabled = !active || record.responsible !== me;
    // Actions and the composer only where the caller can act: a chat of theirs in progress.
    $("toolbar").hidden = !active;
    $("composer-form").hidden = !active;
    setComposerEnabled(active);
    renderTags();
    renderContact();
  }

  function setComposerEnabled(enabled) {
    for (const id of ["composer", "send", "quick-replies", "attach-input"]) $(id).disabled = !enabled;
    document.querySelector(".file-button").classList.toggle("is-disabled", !enabled);
  }

  function renderTags() {
    const record = state.open && state.open.record;
    const tags = (record && record.tags) || [];
    const active = record && record.state === "in_progress" && state.me && isMember(record, state.me.id);
    const make = (tag) => {
      const chip = el("li", { class: "tag" }, el("span", {}, tag));
      if (active) {
        const remove = el("button", { type: "button", class: "tag-remove", "aria-label": t("remove_tag", { tag }) }, "×");
        remove.addEventListener("click", () => removeTag(tag));
        chip.append(remove);
      }
      return chip;
    };
    $("tag-list").replaceChildren(...tags.map(make));
    const dialogList = $("dialog-tag-list");
    dialogList.replaceChildren(...(tags.length ? tags.map(make) : [el("li", { class: "muted small" }, t("no_tags"))]));
  }

  async function renderContact() {
    const record = state.open && state.open.record;
    const details = $("contact-details");
    if (!record) { details.replaceChildren(); return; }
    const requester = record.requester;
    let contact = state.contactCache.get(requester);
    if (contact === undefined) {
      state.contactCache.set(requester, null);
      try {
        const answer = await api("GET", `/api/desk/contacts?q=${encodeURIComponent(requester)}`);
        contact = ((answer && answer.contacts) || []).find((c) => c.id === requester) || null;
      } catch (_) {
        contact = null;
      }
      state.contactCache.set(requester, contact);
      if (!state.open || !state.open.record || state.open.record.requester !== requester) return;
    }
    const summary = record.contact || {};
    const rows = [
      ["contact_name", (contact && contact.name) || summary.name],
      ["contact_id", requester],
      ["contact_email", contact && contact.email],
      ["contact_phone", contact && contact.phone],
      ["contact_project", (contact && contact.project_id) || record.project_id],
      ["contract", (contact && contact.contract) || summary.contract],
    ];
    details.replaceChildren(...rows.filter(([, value]) => value).flatMap(([key, value]) => [el("dt", {}, t(key)), el("dd", {}, value)]));
    const status = (contact && contact.contract_status) || summary.contract_status;
    const hasContract = Boolean((contact && contact.contract) || summary.contract || status === "blocked");
    const statusLine = $("contract-status");
    statusLine.className = "contract-status " + (!hasContract ? "contract-none" : status === "blocked" ? "contract-blocked" : "contract-active");
    statusLine.replaceChildren(
      el("span", { class: "visually-hidden" }, t("contract_status") + ": "),
      el("span", { class: "dot", "aria-hidden": "true" }),
      !hasContract ? t("contract_none") : status === "blocked" ? t("contract_blocked") : t("contract_active"),
    );
    const blocked = Boolean(record.blocked);
    const button = $("block-contact");
    button.textContent = blocked ? t("unblock_contact") : t("block_contact");
    button.setAttribute("aria-pressed", blocked ? "true" : "false");
    button.title = blocked ? t("contact_is_blocked") : "";
  }

  Object.assign(C, {
    connectStaff, retryStaff, onStaffFrame, findRecord, syncOpenRecord, openChat, showChatPane,
    backToList, replaceRecord, renderChatHeader, setComposerEnabled, renderTags, renderContact,
    PEOPLE_OPS, CONFIG_OPS, QUICK_OPS, MACRO_OPS, refreshPeople, debouncedPresence, markReadSoon,
  });
})();
