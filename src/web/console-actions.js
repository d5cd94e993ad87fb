// Ponte — attendants' console: the actions on a chat (take, transfer, close, ...) and
// the analysts' side chats.
"use strict";

(() => {
  const C = (window.PonteConsole = window.PonteConsole || {});
  const { $, ANALYST_CHATS_KEY, debouncedPresence, LINKS_KEY, scheduleRefresh, state } = C;
  // Functions of the sibling files, looked up when called (they may load later).
  const announce = (...args) => C.announce(...args);
  const api = (...args) => C.api(...args);
  const el = (...args) => C.el(...args);
  const loadPeople = (...args) => C.loadPeople(...args);
  const loadTranscript = (...args) => C.loadTranscript(...args);
  const openChat = (...args) => C.openChat(...args);
  const personName = (...args) => C.personName(...args);
  const replaceRecord = (...args) => C.replaceRecord(...args);
  const selectTab = (...args) => C.selectTab(...args);
  const showError = (...args) => C.showError(...args);
  const t = (...args) => C.t(...args);

  // ---------------------------------------------------------------- actions

  async function act(path, body, doneText) {
    const open = state.open;
    if (!open) return null;
    const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/${path}`, body);
    if (updated && updated.conversation_id) replaceRecord(updated);
    if (doneText) announce(doneText);
    scheduleRefresh();
    debouncedPresence();
    return updated;
  }

  async function capture() {
    try {
      const record = await act("capture", undefined, t("captured"));
      if (record && record.state === "in_progress") {
        selectTab("in_progress");
        await loadTranscript();
        $("composer").focus();
      }
    } catch (error) {
      showError(error);
    }
  }

  function showDialog(id) {
    const dialog = $(id);
    for (const error of dialog.querySelectorAll(".error")) error.textContent = "";
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    const first = dialog.querySelector("select, input, textarea, button:not([data-dismiss])");
    if (first) first.focus();
  }

  function setupDialog(id, onSubmit) {
    const dialog = $(id);
    const form = dialog.querySelector("form");
    for (const dismiss of dialog.querySelectorAll("[data-dismiss]")) {
      dismiss.addEventListener("click", () => dialog.close());
    }
    if (onSubmit) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const error = form.querySelector(".error");
        if (error) error.textContent = "";
        const submit = form.querySelector('[type="submit"]');
        if (submit) submit.disabled = true;
        try {
          const keepOpen = await onSubmit();
          if (!keepOpen) dialog.close();
        } catch (failure) {
          if (error) error.textContent = failure.message;
        } finally {
          if (submit) submit.disabled = false;
        }
      });
    }
    dialog.addEventListener("close", () => {
      const back = dialog.dataset.returnFocus && $(dialog.dataset.returnFocus);
      if (back && !back.disabled && !back.hidden) back.focus();
    });
  }

  function openCloseDialog() {
    const select = $("close-reason");
    select.replaceChildren(
      el("option", { value: "" }, t("choose_reason")),
      ...(state.config.close_reasons || []).map((reason) => el("option", { value: reason }, C.reasonLabel(reason))),
    );
    $("close-message").value = "";
    $("dialog-close").dataset.returnFocus = "composer";
    showDialog("dialog-close");
  }

  function openTransferDialog() {
    const me = state.me ? state.me.id : "";
    const select = $("transfer-to");
    const stateWord = (person) => {
      const values = Object.values(person.channels || {});
      if (values.some((v) => v.state === "online")) return t("person_state_online");
      if (values.some((v) => v.state === "paused")) return t("person_state_paused");
      return t("person_state_offline");
    };
    select.replaceChildren(
      el("option", { value: "" }, "—"),
      ...state.people.filter((person) => person.id !== me).map((person) =>
        el("option", { value: person.id }, `${person.name} (${stateWord(person)}, ${person.active_chats}/${person.max_chats})`)),
    );
    $("dialog-transfer").dataset.returnFocus = "transfer";
    loadPeople().then(() => {
      // Refresh the labels with the latest presence without losing the choice.
      const chosen = select.value;
      select.replaceChildren(
        el("option", { value: "" }, "—"),
        ...state.people.filter((person) => person.id !== me).map((person) =>
          el("option", { value: person.id }, `${person.name} (${stateWord(person)}, ${person.active_chats}/${person.max_chats})`)),
      );
      select.value = chosen;
    }).catch(() => {});
    showDialog("dialog-transfer");
  }

  function openMacrosDialog() {
    const select = $("macro-select");
    select.replaceChildren(
      el("option", { value: "" }, state.macros.length ? "—" : t("no_macros")),
      ...state.macros.map((definition) => el("option", { value: definition.id }, definition.name)),
    );
    $("macro-steps").textContent = "";
    $("dialog-macros").dataset.returnFocus = "macros";
    showDialog("dialog-macros");
  }

  function describeMacro(definition) {
    return (definition.actions || []).map((action) => {
      switch (action.action) {
        case "tag": return `+${action.tag}`;
        case "untag": return `−${action.tag}`;
        case "transfer": return `${t("transfer")} → ${personName(action.to)}`;
        case "send_quick_reply": return action.shortcut;
        case "close": return `${t("close")}: ${C.reasonLabel(action.reason)}`;
        default: return action.action;
      }
    }).join(" · ");
  }

  async function removeTag(tag) {
    const open = state.open;
    if (!open) return;
    try {
      const updated = await api("DELETE", `/api/desk/chats/${encodeURIComponent(open.id)}/tags/${encodeURIComponent(tag)}`);
      if (updated) replaceRecord(updated);
    } catch (error) {
      showError(error);
    }
  }

  // ---------------------------------------------------------------- analysts

  function saveLinks() {
    if (state.me) localStorage.setItem(`${LINKS_KEY}.${state.me.id}`, JSON.stringify([...state.links]));
  }

  function rememberAnalystChat(conversationId, other) {
    if (!conversationId) return;
    if (!state.analystChats.some((chat) => chat.id === conversationId)) {
      state.analystChats.unshift({ id: conversationId, with: other });
      sessionStorage.setItem(ANALYST_CHATS_KEY, JSON.stringify(state.analystChats));
    }
    renderAnalysts();
  }

  function renderAnalysts() {
    const section = $("analysts");
    const me = state.me;
    const isAnalyst = me && me.kind === "analyst";
    section.hidden = !isAnalyst;
    if (!isAnalyst) return;
    const others = state.people.filter((person) => person.kind === "analyst" && person.id !== me.id);
    const list = $("analyst-list");
    if (!others.length) {
      list.replaceChildren(el("li", { class: "muted small" }, t("no_analysts")));
    } else {
      list.replaceChildren(...others.map((person) => {
        const linked = state.links.has(person.id);
        const online = Object.values(person.channels || {}).some((v) => v.state === "online");
        const toggle = el("button", {
          type: "button",
          class: "button small secondary",
          "aria-pressed": linked ? "true" : "false",
          "aria-label": linked ? t("unlink_label", { name: person.name }) : t("link_label", { name: person.name }),
          dataset: { analystLink: person.id },
        }, linked ? t("unlink") : t("link"));
        toggle.addEventListener("click", async () => {
          try {
            await api(linked ? "DELETE" : "PUT", `/api/desk/links/${encodeURIComponent(person.id)}`);
            if (linked) state.links.delete(person.id);
            else state.links.add(person.id);
            saveLinks();
            renderAnalysts();
          } catch (error) {
            showError(error);
          }
        });
        const chat = el("button", {
          type: "button",
          class: "button small primary",
          "aria-label": t("start_chat_label", { name: person.name }),
          dataset: { analystChat: person.id },
        }, t("start_chat"));
        chat.addEventListener("click", async () => {
          try {
            const started = await api("POST", "/api/desk/analyst-chats", { to: person.id });
            rememberAnalystChat(started.conversation_id, person.id);
            openChat(started.conversation_id, person.id);
          } catch (error) {
            showError(error);
          }
        });
        return el("li", { class: "analyst" },
          el("span", { class: "analyst-name" },
            el("span", { class: `dot ${online ? "state-online" : "state-offline"}`, "aria-hidden": "true" }),
            person.name,
            el("span", { class: "visually-hidden" }, ` (${online ? t("person_state_online") : t("person_state_offline")})`)),
          el("span", { class: "analyst-actions" }, toggle, chat));
      }));
    }
    const chats = $("analyst-chat-list");
    if (!state.analystChats.length) {
      chats.replaceChildren(el("li", { class: "muted small" }, t("no_analyst_chats")));
    } else {
      const openId = state.open ? state.open.id : null;
      chats.replaceChildren(...state.analystChats.map((chat) => {
        const li = el("li", {
          class: "chat-item" + (chat.id === openId ? " is-open" : ""),
          tabindex: "0",
          dataset: { analystChatId: chat.id },
        }, el("span", { class: "chat-item-title" }, t("analyst_chat_with", { name: personName(chat.with) })));
        li.addEventListener("click", () => openChat(chat.id, chat.with));
        li.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            openChat(chat.id, chat.with);
          }
        });
        return li;
      }));
    }
  }

  Object.assign(C, {
    act, capture, showDialog, setupDialog, openCloseDialog, openTransferDialog, openMacrosDialog,
    describeMacro, removeTag, saveLinks, rememberAnalystChat, renderAnalysts,
  });
})();
