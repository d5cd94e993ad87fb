// Ponte — attendants' console: what the caller does to the open chat. Capture, decline,
// reopen, leave, and the dialogs that ask before acting: close (with a reason and a closing
// message), transfer, invite a colleague by @name, run a macro, tags.

import { api } from "./console-api.js";
import { loadPeople, personName } from "./console-data.js";
import { $, announce, el, showError } from "./console-dom.js";
import { setupDialog, showDialog } from "./console-dialogs.js";
import { reasonLabel, t } from "./console-i18n.js";
import { replaceRecord, scheduleRefresh, selectView, viewOf } from "./console-lists.js";
import { presenceSoon } from "./console-presence.js";
import { myId, state } from "./console-state.js";
import { renderTags } from "./console-chat.js";
import { closeChatSocket, loadTranscript } from "./console-transcript.js";

/** POSTs action `path` on the open chat; the chat it answers replaces the listed one. */
async function act(path, body, doneText) {
  const open = state.open;
  if (!open) return null;
  const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/${path}`, body);
  if (updated && updated.conversation_id) replaceRecord(updated);
  if (doneText) announce(doneText);
  scheduleRefresh();
  presenceSoon();
  return updated;
}

async function capture() {
  try {
    const record = await act("capture", undefined, t("captured"));
    if (record && record.state === "in_progress") {
      selectView(viewOf(record));
      await loadTranscript();
      $("composer").focus();
    }
  } catch (error) {
    showError(error);
  }
}

/** Whether the open chat can be closed by the caller now (the Close button is usable). */
export function canClose() {
  return Boolean(state.open && !$("toolbar").hidden && !$("close").disabled && !$("chat").hidden);
}

export function openCloseDialog() {
  if (!canClose()) return;
  $("close-reason").replaceChildren(
    el("option", { value: "" }, t("choose_reason")),
    ...(state.config.close_reasons || []).map((reason) => el("option", { value: reason }, reasonLabel(reason))),
  );
  $("close-message").value = "";
  $("dialog-close").dataset.returnFocus = "composer";
  showDialog("dialog-close");
}

function personLabel(person) {
  const values = Object.values(person.channels || {});
  let word = "person_state_offline";
  if (values.some((v) => v.state === "online")) word = "person_state_online";
  else if (values.some((v) => v.state === "paused")) word = "person_state_paused";
  return `${person.name} (${t(word)}, ${person.active_chats}/${person.max_chats})`;
}

function fillTransferChoices() {
  const select = $("transfer-to");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "" }, "—"),
    ...state.people.filter((person) => person.id !== myId()).map((person) => el("option", { value: person.id }, personLabel(person))),
  );
  select.value = chosen;
}

function openTransferDialog() {
  fillTransferChoices();
  $("dialog-transfer").dataset.returnFocus = "transfer";
  // The latest presence and load, without losing the choice.
  loadPeople().then(fillTransferChoices).catch(() => {});
  showDialog("dialog-transfer");
}

function openInviteDialog() {
  $("people-names").replaceChildren(
    ...state.people.filter((person) => person.id !== myId()).map((person) => el("option", { value: "@" + person.name }, person.name)),
  );
  $("invite-name").value = "";
  $("dialog-invite").dataset.returnFocus = "invite";
  showDialog("dialog-invite");
}

function openMacrosDialog() {
  $("macro-select").replaceChildren(
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
      case "close": return `${t("close")}: ${reasonLabel(action.reason)}`;
      default: return action.action;
    }
  }).join(" · ");
}

/** A required field left empty: focus it and say which. */
function required(id, labelKey) {
  $(id).focus();
  return new Error(t(labelKey));
}

export function wireActions() {
  $("capture").addEventListener("click", capture);
  $("decline").addEventListener("click", async () => {
    try { await act("decline", undefined, t("declined")); } catch (error) { showError(error); }
  });
  $("reopen").addEventListener("click", async () => {
    try {
      const record = await act("reopen", undefined, t("reopened"));
      if (record) {
        selectView(viewOf(record));
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
  $("close").addEventListener("click", openCloseDialog);
  $("transfer").addEventListener("click", openTransferDialog);
  $("invite").addEventListener("click", openInviteDialog);
  $("macros").addEventListener("click", openMacrosDialog);
  $("tags").addEventListener("click", () => {
    renderTags();
    $("tag-input").value = "";
    $("dialog-tags").dataset.returnFocus = "tags";
    showDialog("dialog-tags");
  });
  $("macro-select").addEventListener("change", () => {
    const definition = state.macros.find((m) => m.id === $("macro-select").value);
    $("macro-steps").textContent = definition ? describeMacro(definition) : "";
  });

  setupDialog("dialog-close", async () => {
    const reason = $("close-reason").value;
    if (!reason) throw required("close-reason", "close_reason");
    const message = $("close-message").value.trim();
    const body = { reason };
    if (message) body.closing_message = message;
    await act("close", body, t("closed_ok"));
    $("dialog-close").dataset.returnFocus = "reopen";
  });
  setupDialog("dialog-transfer", async () => {
    const to = $("transfer-to").value;
    if (!to) throw required("transfer-to", "transfer_to");
    await act("transfer", { to }, t("transferred", { name: personName(to) }));
    $("dialog-transfer").dataset.returnFocus = "search";
  });
  setupDialog("dialog-invite", async () => {
    const name = $("invite-name").value.trim();
    if (!name) throw required("invite-name", "invite_name");
    await act("invite", { name }, t("invited", { name }));
  });
  setupDialog("dialog-macros", async () => {
    const id = $("macro-select").value;
    if (!id) throw required("macro-select", "macro");
    const definition = state.macros.find((m) => m.id === id);
    const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(state.open.id)}/macros/${encodeURIComponent(id)}`);
    if (updated) replaceRecord(updated);
    announce(t("macro_ran", { name: definition ? definition.name : id }));
    scheduleRefresh();
  });
  setupDialog("dialog-tags", async () => {
    const tag = $("tag-input").value.trim();
    if (!tag) throw required("tag-input", "tag_new");
    await act("tags", { tag });
    $("tag-input").value = "";
    renderTags();
    $("tag-input").focus();
    return true; // open for more tags
  });
}
