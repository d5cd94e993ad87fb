// Ponte — attendants' console: the attendant's presence (available, paused) and the
// chat lists (queue, mine, search) with their refresh.
"use strict";

(() => {
  const C = (window.PonteConsole = window.PonteConsole || {});
  const { $, SINCE_KEY, state } = C;
  // Functions of the sibling files, looked up when called (they may load later).
  const announce = (...args) => C.announce(...args);
  const api = (...args) => C.api(...args);
  const debounce = (...args) => C.debounce(...args);
  const duration = (...args) => C.duration(...args);
  const el = (...args) => C.el(...args);
  const loadJson = (...args) => C.loadJson(...args);
  const openChat = (...args) => C.openChat(...args);
  const personName = (...args) => C.personName(...args);
  const shortDuration = (...args) => C.shortDuration(...args);
  const showError = (...args) => C.showError(...args);
  const syncOpenRecord = (...args) => C.syncOpenRecord(...args);
  const t = (...args) => C.t(...args);
  const reasonLabel = (...args) => C.reasonLabel(...args);

  // ---------------------------------------------------------------- presence

  function stateKey(value) {
    if (!value) return "offline";
    return value.state === "paused" ? `paused:${value.reason || ""}` : value.state;
  }

  function presenceSince(channel, value) {
    const since = loadJson(sessionStorage, SINCE_KEY, {});
    const key = stateKey(value);
    const mine = state.me ? state.me.id : "";
    const entry = since[`${mine}:${channel}`];
    if (entry && entry.key === key) return entry.at;
    const at = Date.now();
    since[`${mine}:${channel}`] = { key, at };
    sessionStorage.setItem(SINCE_KEY, JSON.stringify(since));
    return at;
  }

  function channelLabel(channel) {
    const key = `channel_${channel}`;
    const text = t(key);
    return text === key ? channel : text;
  }

  function renderPresence() {
    const list = $("presence");
    const me = state.me;
    if (!me) return;
    const focusedId = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
    const channels = Object.keys(me.channels || {});
    const items = channels.map((channel) => {
      const value = me.channels[channel] || { state: "offline" };
      const isOnline = value.state === "online";
      const isPaused = value.state === "paused";
      const since = presenceSince(channel, value);
      const checkboxId = `presence-${channel}`;
      const checkbox = el("input", {
        type: "checkbox",
        id: checkboxId,
        class: "switch",
        dataset: { presenceChannel: channel },
        "aria-describedby": `presence-state-${channel}`,
      });
      checkbox.checked = isOnline;
      checkbox.addEventListener("change", () => setPresence(channel, checkbox.checked ? "online" : "offline"));

      const stateText = isPaused ? t("paused_reason", { reason: reasonLabel(value.reason) }) : t(isOnline ? "online" : "offline");
      const status = el("span", { id: `presence-state-${channel}`, class: `presence-state state-${value.state}` },
        el("span", { class: "dot", "aria-hidden": "true" }),
        el("span", { class: "presence-state-text" }, stateText),
        " ",
        el("span", { class: "presence-timer", dataset: { since: String(since) } }, t("in_state_for", { time: duration(Date.now() - since) })),
      );

      const row = el("li", { class: "presence-row", dataset: { channel } },
        el("div", { class: "presence-main" },
          el("label", { for: checkboxId, class: "switch-label" }, checkbox, el("span", { class: "channel-name" }, channelLabel(channel))),
          status,
        ),
      );

      const controls = el("div", { class: "presence-controls" });
      if (isPaused) {
        const resume = el("button", { type: "button", class: "button small secondary", id: `presence-resume-${channel}` }, t("resume"));
        resume.addEventListener("click", () => setPresence(channel, "online"));
        controls.append(resume);
      } else if (isOnline) {
        const pauseButton = el("button", {
          type: "button",
          class: "button small secondary",
          id: `presence-pause-${channel}`,
          "aria-expanded": state.pauseOpen.has(channel) ? "true" : "false",
          "aria-controls": `pause-form-${channel}`,
        }, t("pause"));
        pauseButton.addEventListener("click", () => {
          if (state.pauseOpen.has(channel)) state.pauseOpen.delete(channel);
          else state.pauseOpen.add(channel);
          renderPresence();
          const select = $(`pause-reason-${channel}`);
          if (select) select.focus();
        });
        controls.append(pauseButton);
      }
      row.append(controls);

      if (isOnline && state.pauseOpen.has(channel)) {
        const selectId = `pause-reason-${channel}`;
        const select = el("select", { id: selectId, class: "pause-reason", dataset: { pauseChannel: channel }, required: true },
          el("option", { value: "" }, t("choose_reason")),
          ...(state.config.pause_reasons || []).map((reason) => el("option", { value: reason }, reasonLabel(reason))),
        );
        const confirm = el("button", { type: "submit", class: "button small primary" }, t("pause_confirm"));
        const form = el("form", { class: "pause-form", id: `pause-form-${channel}` },
          el("label", { for: selectId }, t("pause_reason", { channel: channelLabel(channel) })),
          el("div", { class: "pause-form-row" }, select, confirm),
        );
        // Picking a reason with the mouse (or touch) pauses straight away; with the keyboard
        // the arrows only browse and Enter / the Pause button confirms.
        let browsingWithKeys = false;
        select.addEventListener("keydown", (event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            form.requestSubmit();
            return;
          }
          browsingWithKeys = event.key.startsWith("Arrow") || event.key === "Home" || event.key === "End" || event.key.length === 1;
        });
        select.addEventListener("pointerdown", () => { browsingWithKeys = false; });
        select.addEventListener("change", () => {
          if (browsingWithKeys) return;
          if (select.value) {
            state.pauseOpen.delete(channel);
            setPresence(channel, "paused", select.value);
          }
        });
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          if (!select.value) { select.focus(); return; }
          state.pauseOpen.delete(channel);
          setPresence(channel, "paused", select.value);
        });
        row.append(form);
      }
      return row;
    });
    list.replaceChildren(...items);
    $("presence-totals").textContent = t("totals", {
      online: shortDuration(me.time_online_ms),
      paused: shortDuration(me.time_paused_ms),
      active: me.active_chats ?? 0,
      max: me.max_chats ?? 0,
    });
    if (focusedId && $(focusedId)) $(focusedId).focus();
  }

  async function setPresence(channel, wanted, reason) {
    const body = { channel, state: wanted };
    if (reason) body.reason = reason;
    try {
      state.me = await api("PUT", "/api/desk/presence", body);
      announce(t("presence_saved"));
    } catch (error) {
      showError(error);
    }
    renderPresence();
    scheduleRefresh();
  }

  async function refreshPresence() {
    try {
      state.me = await api("GET", "/api/desk/presence");
      renderPresence();
    } catch (_) { /* shown elsewhere */ }
  }

  function tick() {
    for (const timer of document.querySelectorAll(".presence-timer")) {
      const since = Number(timer.dataset.since);
      if (since) timer.textContent = t("in_state_for", { time: duration(Date.now() - since) });
    }
  }

  // ---------------------------------------------------------------- chat lists

  function isMember(record, person) {
    return record.responsible === person || (record.participants || []).includes(person);
  }

  function wasMember(record, person) {
    return isMember(record, person) || (record.former_participants || []).includes(person);
  }

  function tabOf(record) {
    if (record.state === "queued") return "queued";
    if (record.state === "in_progress") return "in_progress";
    return "closed";
  }

  function visibleIn(tab, record) {
    if (tabOf(record) !== tab) return false;
    const me = state.me ? state.me.id : "";
    if (tab === "queued") return true;
    if (tab === "in_progress") return isMember(record, me);
    return wasMember(record, me) || record.state === "lost";
  }

  async function fetchChats() {
    const query = state.search.trim();
    if (!query) {
      const answer = await api("GET", "/api/desk/chats");
      return (answer && answer.chats) || [];
    }
    // The ticket filter is an exact match: also try "t-000123" as "T-000123" and a bare
    // number as "T-" followed by six digits.
    const tickets = new Set([query, query.toUpperCase()]);
    if (/^\d{1,6}$/.test(query)) tickets.add(`T-${query.padStart(6, "0")}`);
    const answers = await Promise.all([
      ...[...tickets].map((ticket) => api("GET", `/api/desk/chats?ticket=${encodeURIComponent(ticket)}`).catch(() => ({ chats: [] }))),
      api("GET", `/api/desk/chats?contact=${encodeURIComponent(query)}`).catch(() => ({ chats: [] })),
    ]);
    const seen = new Map();
    for (const chat of answers.flatMap((answer) => (answer && answer.chats) || [])) {
      if (!seen.has(chat.conversation_id)) seen.set(chat.conversation_id, chat);
    }
    return [...seen.values()];
  }

  let refreshing = null;
  let refreshAgain = false;

  async function refreshLists() {
    if (!state.signedIn) return;
    if (refreshing) { refreshAgain = true; return refreshing; }
    refreshing = (async () => {
      try {
        const [chats, alert] = await Promise.all([fetchChats(), api("GET", "/api/desk/alert")]);
        state.chats = chats;
        state.alert = alert || state.alert;
        if (state.searchChanged) {
          // A new search whose results are all under another tab: show that tab.
          state.searchChanged = false;
          const tabs = ["queued", "in_progress", "closed"];
          const found = tabs.filter((tab) => chats.some((record) => visibleIn(tab, record)));
          if (state.search.trim() && found.length && !found.includes(state.tab)) selectTab(found[0]);
        }
        renderLists();
        renderAlert();
        syncOpenRecord();
      } catch (error) {
        if (error.status !== 401) showError(error);
      }
    })();
    await refreshing;
    refreshing = null;
    if (refreshAgain) {
      refreshAgain = false;
      await refreshLists();
    }
  }

  const scheduleRefresh = debounce(() => refreshLists(), 250);

  function chatTitle(record) {
    if (record.contact && record.contact.name) return record.contact.name;
    return record.requester || record.conversation_id;
  }

  function renderLists() {
    for (const tab of ["queued", "in_progress", "closed"]) {
      const count = state.chats.filter((record) => visibleIn(tab, record)).length;
      const unread = state.chats.some((record) => visibleIn(tab, record) && record.unread);
      const badge = $(`count-${tab}`);
      badge.textContent = count ? String(count) : "";
      badge.classList.toggle("has-unread", unread);
    }
    const list = $("chat-list");
    const focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.closest("li") && document.activeElement.closest("li").dataset.chatId
      : null;
    const records = state.chats.filter((record) => visibleIn(state.tab, record));
    const openId = state.open ? state.open.id : null;
    const items = records.map((record) => {
      const id = record.conversation_id;
      const meta = [];
      meta.push(record.ticket || record.lost_ticket || t("no_ticket"));
      meta.push(channelLabel(record.channel));
      if (record.state === "queued" && record.position) {
        let text = t("position", { position: record.position });
        if (record.eta_ms) text += ` · ${t("eta", { time: shortDuration(record.eta_ms) })}`;
        meta.push(text);
      }
      if (record.state === "lost") meta.push(t("lost"));
      if (record.state === "in_progress" && record.responsible && state.me && record.responsible !== state.me.id) {
        meta.push(personName(record.responsible));
      }
      const li = el("li", {
        class: "chat-item" + (id === openId ? " is-open" : "") + (record.unread ? " is-unread" : ""),
        tabindex: "0",
        dataset: { chatId: id },
        "aria-current": id === openId ? "true" : undefined,
      },
        el("span", { class: "chat-item-main" },
          el("span", { class: "chat-item-title" }, chatTitle(record)),
          record.blocked ? el("span", { class: "pill pill-danger" }, t("blocked")) : null,
          record.contact && record.contact.contract_status === "blocked" ? el("span", { class: "pill pill-warn" }, t("contract_blocked")) : null,
        ),
        el("span", { class: "chat-item-meta" }, meta.join(" · ")),
        (record.tags && record.tags.length) ? el("span", { class: "chat-item-tags" }, record.tags.join(", ")) : null,
        record.unread ? el("span", { class: "unread-dot", role: "img", "aria-label": t("unread") }) : null,
      );
      li.addEventListener("click", () => openChat(id));
      li.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          openChat(id);
        } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const sibling = event.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
          if (sibling) sibling.focus();
        }
      });
      return li;
    });
    list.replaceChildren(...items);
    const empty = $("chat-list-empty");
    empty.hidden = records.length > 0;
    empty.textContent = state.search.trim() ? t("empty_search") : t(`empty_${state.tab}`);
    if (focused) {
      const again = list.querySelector(`li[data-chat-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function renderAlert() {
    const alert = state.alert || {};
    const ids = new Set([...(alert.unread || []), ...(alert.queue_unread || [])]);
    const on = Boolean(alert.alert) || ids.size > 0;
    const badge = $("alert");
    badge.hidden = !on;
    const count = ids.size || (on ? 1 : 0);
    badge.textContent = on ? String(count) : "";
    badge.setAttribute("aria-label", count === 1 ? t("alert_label_one") : t("alert_label", { count }));
    const icon = $("chat-icon");
    icon.setAttribute("aria-label", on ? `${t("chat_icon_label")}: ${badge.getAttribute("aria-label")}` : t("chat_icon_label"));
    document.title = (on ? `(${count}) ` : "") + "Ponte — " + t("app_title");
  }

  function selectTab(tab, focus) {
    state.tab = tab;
    for (const button of document.querySelectorAll('[role="tab"]')) {
      const selected = button.dataset.tab === tab;
      button.setAttribute("aria-selected", selected ? "true" : "false");
      button.tabIndex = selected ? 0 : -1;
      if (selected && focus) button.focus();
    }
    $("chat-panel").setAttribute("aria-labelledby", `tab-${tab}`);
    renderLists();
  }

  Object.assign(C, {
    stateKey, presenceSince, channelLabel, renderPresence, setPresence, refreshPresence, tick,
    isMember, wasMember, tabOf, visibleIn, fetchChats, refreshLists, chatTitle, renderLists,
    renderAlert, selectTab, scheduleRefresh,
  });
})();
