// Ponte — attendants' console. Plain ES2020, no build step, no framework.
// Every piece of user-supplied text goes through textContent / createElement, never innerHTML.
// This file wires the page together; the other console-*.js files, loaded before it in
// order (see console.html), each own one part and share it on window.PonteConsole.
"use strict";

(() => {
  const C = (window.PonteConsole = window.PonteConsole || {});
  const { $, markReadSoon, scheduleRefresh, state } = C;
  // Functions of the sibling files, looked up when called (they may load later).
  const act = (...args) => C.act(...args);
  const announce = (...args) => C.announce(...args);
  const api = (...args) => C.api(...args);
  const backToList = (...args) => C.backToList(...args);
  const capture = (...args) => C.capture(...args);
  const closeChatSocket = (...args) => C.closeChatSocket(...args);
  const debounce = (...args) => C.debounce(...args);
  const describeMacro = (...args) => C.describeMacro(...args);
  const loadTranscript = (...args) => C.loadTranscript(...args);
  const openChat = (...args) => C.openChat(...args);
  const openCloseDialog = (...args) => C.openCloseDialog(...args);
  const openMacrosDialog = (...args) => C.openMacrosDialog(...args);
  const openQuickDialog = (...args) => C.openQuickDialog(...args);
  const openTransferDialog = (...args) => C.openTransferDialog(...args);
  const personName = (...args) => C.personName(...args);
  const refreshLists = (...args) => C.refreshLists(...args);
  const renderContact = (...args) => C.renderContact(...args);
  const renderTags = (...args) => C.renderTags(...args);
  const replaceRecord = (...args) => C.replaceRecord(...args);
  const selectTab = (...args) => C.selectTab(...args);
  const send = (...args) => C.send(...args);
  const setupDialog = (...args) => C.setupDialog(...args);
  const showConsole = (...args) => C.showConsole(...args);
  const showDialog = (...args) => C.showDialog(...args);
  const showError = (...args) => C.showError(...args);
  const signIn = (...args) => C.signIn(...args);
  const signOut = (...args) => C.signOut(...args);
  const t = (...args) => C.t(...args);
  const tabOf = (...args) => C.tabOf(...args);
  const tick = (...args) => C.tick(...args);
  const translatePage = (...args) => C.translatePage(...args);
  const updateSuggestions = (...args) => C.updateSuggestions(...args);
  const upload = (...args) => C.upload(...args);

  // ---------------------------------------------------------------- wiring

  function wire() {
    translatePage();

    $("signin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = $("signin-token").value.trim();
      if (!value) {
        $("signin-error").textContent = t("signin_empty");
        $("signin-token").setAttribute("aria-invalid", "true");
        $("signin-token").focus();
        return;
      }
      $("signin-submit").disabled = true;
      try {
        await signIn(value, true);
      } finally {
        $("signin-submit").disabled = false;
      }
    });
    $("signout").addEventListener("click", () => signOut(""));

    $("chat-icon").addEventListener("click", () => {
      // Jump to the first chat that needs attention.
      const alert = state.alert || {};
      const mine = (alert.unread || [])[0];
      const queued = (alert.queue_unread || [])[0];
      if (mine) { selectTab("in_progress"); openChat(mine); }
      else if (queued) { selectTab("queued"); openChat(queued); }
      else { document.body.classList.remove("chat-open"); $("search").focus(); }
    });

    // Tabs: click, arrows, Home/End.
    const tabs = [...document.querySelectorAll('[role="tab"]')];
    for (const tab of tabs) {
      tab.addEventListener("click", () => selectTab(tab.dataset.tab, true));
      tab.addEventListener("keydown", (event) => {
        const index = tabs.indexOf(tab);
        let next = null;
        if (event.key === "ArrowRight" || event.key === "ArrowDown") next = tabs[(index + 1) % tabs.length];
        else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = tabs[(index - 1 + tabs.length) % tabs.length];
        else if (event.key === "Home") next = tabs[0];
        else if (event.key === "End") next = tabs[tabs.length - 1];
        if (next) {
          event.preventDefault();
          selectTab(next.dataset.tab, true);
        }
      });
    }

    const search = $("search");
    const runSearch = debounce(() => {
      state.search = search.value;
      state.searchChanged = true;
      refreshLists();
    }, 300);
    search.addEventListener("input", runSearch);
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        state.search = search.value;
        state.searchChanged = true;
        refreshLists();
      } else if (event.key === "ArrowDown") {
        const first = $("chat-list").querySelector("li");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });

    $("back").addEventListener("click", backToList);
    $("capture").addEventListener("click", capture);
    $("decline").addEventListener("click", async () => {
      try { await act("decline", undefined, t("declined")); } catch (error) { showError(error); }
    });
    $("reopen").addEventListener("click", async () => {
      try {
        const record = await act("reopen", undefined, t("reopened"));
        if (record) {
          selectTab(tabOf(record));
          closeChatSocket();
          await loadTranscript();
        }
      } catch (error) { showError(error); }
    });
    $("leave").addEventListener("click", async () => {
      try {
        await act("leave", undefined, t("left"));
        closeChatSocket();
      } catch (error) { showError(error); }
    });
    $("contact-toggle").addEventListener("click", () => {
      const panel = $("contact-panel");
      const open = !panel.classList.contains("is-expanded");
      panel.classList.toggle("is-expanded", open);
      $("contact-toggle").setAttribute("aria-expanded", open ? "true" : "false");
      if (open) panel.focus();
    });
    $("contact-panel").tabIndex = -1;
    $("block-contact").addEventListener("click", async () => {
      const record = state.open && state.open.record;
      if (!record) return;
      try {
        await api("PUT", `/api/desk/contacts/${encodeURIComponent(record.requester)}/block`, { blocked: !record.blocked });
        record.blocked = !record.blocked;
        renderContact();
        scheduleRefresh();
      } catch (error) {
        showError(error);
      }
    });

    $("close").addEventListener("click", openCloseDialog);
    $("transfer").addEventListener("click", openTransferDialog);
    $("invite").addEventListener("click", () => {
      $("invite-name").value = "";
      $("dialog-invite").dataset.returnFocus = "invite";
      showDialog("dialog-invite");
    });
    $("macros").addEventListener("click", openMacrosDialog);
    $("tags").addEventListener("click", () => {
      renderTags();
      $("tag-input").value = "";
      $("dialog-tags").dataset.returnFocus = "tags";
      showDialog("dialog-tags");
    });
    $("quick-replies").addEventListener("click", () => {
      $("dialog-quick").dataset.returnFocus = "composer";
      openQuickDialog();
    });
    $("macro-select").addEventListener("change", () => {
      const definition = state.macros.find((m) => m.id === $("macro-select").value);
      $("macro-steps").textContent = definition ? describeMacro(definition) : "";
    });

    setupDialog("dialog-close", async () => {
      const reason = $("close-reason").value;
      if (!reason) { $("close-reason").focus(); throw new Error(t("close_reason")); }
      const message = $("close-message").value.trim();
      const body = { reason };
      if (message) body.closing_message = message;
      await act("close", body, t("closed_ok"));
      $("dialog-close").dataset.returnFocus = "reopen";
    });
    setupDialog("dialog-transfer", async () => {
      const to = $("transfer-to").value;
      if (!to) { $("transfer-to").focus(); throw new Error(t("transfer_to")); }
      await act("transfer", { to }, t("transferred", { name: personName(to) }));
      $("dialog-transfer").dataset.returnFocus = "search";
    });
    setupDialog("dialog-invite", async () => {
      const name = $("invite-name").value.trim();
      if (!name) { $("invite-name").focus(); throw new Error(t("invite_name")); }
      await act("invite", { name }, t("invited", { name }));
    });
    setupDialog("dialog-macros", async () => {
      const id = $("macro-select").value;
      if (!id) { $("macro-select").focus(); throw new Error(t("macro")); }
      const definition = state.macros.find((m) => m.id === id);
      const open = state.open;
      const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/macros/${encodeURIComponent(id)}`);
      if (updated) replaceRecord(updated);
      announce(t("macro_ran", { name: definition ? definition.name : id }));
      scheduleRefresh();
    });
    setupDialog("dialog-tags", async () => {
      const tag = $("tag-input").value.trim();
      if (!tag) { $("tag-input").focus(); throw new Error(t("tag_new")); }
      await act("tags", { tag });
      $("tag-input").value = "";
      renderTags();
      $("tag-input").focus();
      return true; // keep the dialog open for more tags
    });
    setupDialog("dialog-quick", null);

    $("composer-form").addEventListener("submit", (event) => {
      event.preventDefault();
      send();
    });
    $("composer").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send();
      } else if (event.key === "Escape" && !$("quick-suggestions").hidden) {
        $("quick-suggestions").hidden = true;
      } else if (event.key === "ArrowDown" && !$("quick-suggestions").hidden) {
        const first = $("quick-suggestions").querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    $("quick-suggestions").addEventListener("keydown", (event) => {
      const buttons = [...$("quick-suggestions").querySelectorAll("button")];
      const index = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && index < buttons.length - 1) { event.preventDefault(); buttons[index + 1].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? buttons[index - 1] : $("composer")).focus(); }
      else if (event.key === "Escape") { event.preventDefault(); $("quick-suggestions").hidden = true; $("composer").focus(); }
    });
    $("composer").addEventListener("input", updateSuggestions);
    $("attach-input").addEventListener("change", () => {
      const input = $("attach-input");
      const file = input.files && input.files[0];
      if (file) upload(file);
      input.value = "";
    });

    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && state.signedIn) {
        scheduleRefresh();
        const record = state.open && state.open.record;
        if (record && record.unread) markReadSoon();
      }
    });

    setInterval(tick, 1000);
    // A slow safety net for anything the live feed missed (queue positions, timers).
    setInterval(() => { if (state.signedIn && document.visibilityState === "visible") refreshLists(); }, 30000);

    if (C.token) {
      signIn(C.token, false).then((ok) => { if (!ok) { showConsole(false); $("signin-token").focus(); } });
    } else {
      showConsole(false);
      $("signin-token").focus();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
  else wire();
})();
