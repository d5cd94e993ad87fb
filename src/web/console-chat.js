// Ponte — attendants' console: the open chat. Opening one (from the list, a notification, a
// shortcut), its header (who, ticket, state, who serves it, the actions the caller may take
// now), its tags, the contact panel with the contract and blocking, marking it read, and going
// back to the list on a phone.

import { api } from "./console-api.js";
import { personName, requesterName } from "./console-data.js";
import { $, debounce, el, showError } from "./console-dom.js";
import { channelLabel, reasonLabel, t } from "./console-i18n.js";
import { findRecord, renderAlert, replaceRecord, renderLists, scheduleRefresh } from "./console-lists.js";
import { updateSuggestions } from "./console-composer.js";
import { renderAnalysts } from "./console-analysts.js";
import { isMember, myId, on, state, wasMember } from "./console-state.js";
import { clearTranscript, loadTranscript } from "./console-transcript.js";

export async function openChat(id, analystWith) {
  if (state.open && state.open.id === id) {
    showChatPane();
    focusInChat();
    return;
  }
  clearTranscript();
  state.open = { id, record: analystWith ? null : findRecord(id), analyst: analystWith ? { with: analystWith } : null, preview: false };
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
  if (record && record.unread && isMember(record, myId())) markReadSoon();
  focusInChat();
}

/** Where the keyboard goes in an opened chat: Capture for a queued one, else the box. */
function focusInChat() {
  const record = state.open && state.open.record;
  if (record && record.state === "queued" && !$("capture").hidden) $("capture").focus();
  else if (!$("composer").disabled && !$("composer-form").hidden) $("composer").focus();
  else $("transcript").focus();
}

function showChatPane() {
  document.body.classList.add("chat-open");
}

export function backToList() {
  document.body.classList.remove("chat-open");
  const id = state.open ? state.open.id : null;
  const li = id && $("chat-list").querySelector(`li[data-chat-id="${CSS.escape(id)}"]`);
  if (li) li.focus();
  else $("search").focus();
}

export function closeChat() {
  clearTranscript();
  state.open = null;
  $("chat").hidden = true;
  $("chat-placeholder").hidden = false;
  document.body.classList.remove("chat-open");
}

const markReadSoon = debounce(async () => {
  const open = state.open;
  if (!open || open.analyst || !open.record || !isMember(open.record, myId())) return;
  try {
    const updated = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/read`);
    if (updated) replaceRecord(updated);
    state.alert = (await api("GET", "/api/desk/alert")) || state.alert;
    renderAlert();
  } catch (_) { /* not important */ }
}, 400);

/** After the lists were read again: the open chat's record as it is now. */
function syncOpenRecord() {
  if (!state.open || state.open.analyst) return;
  const record = findRecord(state.open.id);
  if (!record) return;
  const before = state.open.record;
  state.open.record = record;
  renderChatHeader();
  const me = myId();
  if ((!before || !wasMember(before, me)) && wasMember(record, me) && !state.chatSocket) {
    // Just captured (here or by a transfer): the whole transcript, followed live.
    loadTranscript();
  }
  if (record.unread && isMember(record, me) && document.visibilityState === "visible") markReadSoon();
}

export function renderChatHeader() {
  const open = state.open;
  if (!open) return;
  const title = $("chat-title");
  const meta = $("chat-meta");
  $("chat").classList.toggle("no-contact", Boolean(open.analyst));
  $("composer-form").hidden = false;
  if (open.analyst) {
    title.textContent = t("analyst_chat_with", { name: personName(open.analyst.with) });
    meta.textContent = "";
    for (const id of ["capture", "decline", "reopen", "leave", "toolbar", "tag-list", "contact-panel", "contact-toggle"]) $(id).hidden = true;
    setComposerEnabled(true);
    return;
  }
  for (const id of ["tag-list", "contact-toggle", "contact-panel"]) $(id).hidden = false;
  const record = open.record;
  if (!record) {
    title.textContent = open.id;
    meta.textContent = "";
    return;
  }
  title.textContent = requesterName(record);
  const parts = [];
  const ticket = record.ticket || record.lost_ticket;
  if (ticket) parts.push(t("ticket", { ticket }));
  parts.push(channelLabel(record.channel), t(`state_${record.state}`));
  if (record.state === "queued" && record.position) parts.push(t("position", { position: record.position }));
  if (record.responsible) parts.push(t("responsible", { name: personName(record.responsible) }));
  if (record.participants && record.participants.length) parts.push(t("participants", { names: record.participants.map(personName).join(", ") }));
  if (record.close_reason) parts.push(t("closed_reason", { reason: reasonLabel(record.close_reason) }));
  meta.textContent = parts.join(" · ");

  const me = myId();
  const active = record.state === "in_progress" && isMember(record, me);
  $("capture").hidden = record.state !== "queued";
  // Declining hands a chat one was given (automatic or manual routing) to someone else.
  $("decline").hidden = !(record.state === "in_progress" && record.responsible === me && record.origin !== "outbound");
  $("reopen").hidden = !(record.state === "closed" || record.state === "lost");
  $("leave").hidden = !(active && record.responsible !== me);
  for (const id of ["macros", "tags", "invite", "close"]) $(id).disabled = !active;
  $("transfer").disabled = !active || record.responsible !== me;
  // Actions and the box only where the caller can act: a chat of theirs in progress.
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

export function renderTags() {
  const record = state.open && state.open.record;
  const tags = (record && record.tags) || [];
  const active = record && record.state === "in_progress" && isMember(record, myId());
  const chip = (tag) => el("li", { class: "tag" },
    el("span", {}, tag),
    active ? el("button", { type: "button", class: "tag-remove", "aria-label": t("remove_tag", { tag }), onclick: () => removeTag(tag) }, "×") : null);
  $("tag-list").replaceChildren(...tags.map(chip));
  $("dialog-tag-list").replaceChildren(...(tags.length ? tags.map(chip) : [el("li", { class: "muted small" }, t("no_tags"))]));
}

async function contactOf(requester) {
  if (state.contactCache.has(requester)) return state.contactCache.get(requester);
  state.contactCache.set(requester, null);
  try {
    const answer = await api("GET", `/api/desk/contacts?q=${encodeURIComponent(requester)}`);
    const found = ((answer && answer.contacts) || []).find((c) => c.id === requester) || null;
    state.contactCache.set(requester, found);
    return found;
  } catch (_) {
    return null;
  }
}

async function renderContact() {
  const record = state.open && state.open.record;
  const details = $("contact-details");
  if (!record) { details.replaceChildren(); return; }
  const requester = record.requester;
  const contact = await contactOf(requester);
  if (!state.open || !state.open.record || state.open.record.requester !== requester) return;
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
  const kind = !hasContract ? "none" : status === "blocked" ? "blocked" : "active";
  const line = $("contract-status");
  line.className = `contract-status contract-${kind}`;
  line.replaceChildren(
    el("span", { class: "visually-hidden" }, t("contract_status") + ": "),
    el("span", { class: "dot", "aria-hidden": "true" }),
    t(`contract_${kind}`),
  );
  const blocked = Boolean(record.blocked);
  const button = $("block-contact");
  button.textContent = blocked ? t("unblock_contact") : t("block_contact");
  button.setAttribute("aria-pressed", blocked ? "true" : "false");
  button.title = blocked ? t("contact_is_blocked") : "";
}

export function wireChat() {
  on("open-chat", ({ id, analystWith }) => openChat(id, analystWith));
  on("lists", syncOpenRecord);
  on("record", renderChatHeader);
  on("requester-message", () => { if (document.visibilityState === "visible") markReadSoon(); });
  // A preview shows what was said when it opened: the requester writing brings the rest.
  on("unread", ({ id }) => { if (state.open && state.open.id === id && state.open.preview) loadTranscript(); });
  $("back").addEventListener("click", backToList);
  $("contact-panel").tabIndex = -1;
  $("contact-toggle").addEventListener("click", () => {
    const panel = $("contact-panel");
    const open = !panel.classList.contains("is-expanded");
    panel.classList.toggle("is-expanded", open);
    $("contact-toggle").setAttribute("aria-expanded", open ? "true" : "false");
    if (open) panel.focus();
  });
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
  document.addEventListener("visibilitychange", () => {
    const record = state.open && state.open.record;
    if (document.visibilityState === "visible" && record && record.unread) markReadSoon();
  });
}
