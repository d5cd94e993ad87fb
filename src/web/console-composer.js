// Ponte — attendants' console: writing in the open chat. The message box (Enter sends, each
// message with its own client id so a retry is never doubled), quick replies by `/shortcut`
// (suggestions while typing, or the list in a dialog), sending a file, and telling the
// requester the attendant is typing (at most every few seconds).

import { api } from "./console-api.js";
import { $, announce, el, randomId } from "./console-dom.js";
import { setupDialog, showDialog } from "./console-dialogs.js";
import { LANG, t } from "./console-i18n.js";
import { state } from "./console-state.js";
import { addMessages, myMessagePrefix } from "./console-transcript.js";

export async function send() {
  const open = state.open;
  const composer = $("composer");
  const text = composer.value;
  if (!open || !text.trim() || composer.disabled) return;
  $("composer-error").textContent = "";
  const clientId = `${myMessagePrefix()}${randomId()}`;
  state.myMessageIds.add(clientId);
  $("send").disabled = true;
  try {
    const answer = await api("POST", `/api/desk/chats/${encodeURIComponent(open.id)}/messages`, { text, client_message_id: clientId });
    composer.value = "";
    updateSuggestions();
    if (state.open && state.open.id === open.id) addMessages((answer && answer.messages) || []);
  } catch (failure) {
    $("composer-error").textContent = failure.message;
  } finally {
    $("send").disabled = composer.disabled;
    composer.focus();
  }
}

/** The chat last told that the caller types, and when. */
let typingSent = { id: "", at: 0 };
const TYPING_EVERY_MS = 3000;

function tellTyping() {
  const open = state.open;
  const composer = $("composer");
  if (!open || open.analyst || composer.disabled || !composer.value.trim()) return;
  const now = Date.now();
  if (typingSent.id === open.id && now - typingSent.at < TYPING_EVERY_MS) return;
  typingSent = { id: open.id, at: now };
  api("POST", `/api/conversations/${encodeURIComponent(open.id)}/typing`).catch(() => {});
}

function quickText(reply) {
  const texts = reply.texts || {};
  return texts[LANG] || texts.en || texts["pt-BR"] || texts.es || Object.values(texts)[0] || "";
}

function useShortcut(shortcut) {
  $("composer").value = shortcut;
  updateSuggestions();
  $("composer").focus();
}

/** The quick replies whose shortcut starts with what the box holds (`/he` → `/hello`). */
export function updateSuggestions() {
  const box = $("quick-suggestions");
  const composer = $("composer");
  const match = /^\/([a-z0-9_-]*)$/i.exec(composer.value.trim());
  const found = match && !composer.disabled
    ? state.quickReplies.filter((reply) => reply.shortcut.startsWith("/" + match[1].toLowerCase())).slice(0, 6)
    : [];
  box.hidden = found.length === 0;
  if (!found.length) {
    box.replaceChildren();
    composer.removeAttribute("aria-controls");
    return;
  }
  box.replaceChildren(...found.map((reply) => el("li", {},
    el("button", { type: "button", class: "quick-suggestion", onclick: () => useShortcut(reply.shortcut) },
      el("strong", {}, reply.shortcut), " ", el("span", { class: "muted" }, quickText(reply))))));
  composer.setAttribute("aria-controls", "quick-suggestions");
}

function openQuickDialog() {
  const list = $("quick-list");
  if (!state.quickReplies.length) {
    list.replaceChildren(el("li", { class: "muted" }, t("no_quick_replies")));
  } else {
    list.replaceChildren(...state.quickReplies.map((reply) => el("li", {},
      el("button", {
        type: "button",
        class: "quick-item",
        dataset: { shortcut: reply.shortcut },
        onclick: () => {
          $("dialog-quick").close();
          useShortcut(reply.shortcut);
        },
      },
        el("strong", {}, reply.shortcut),
        reply.owner ? el("span", { class: "pill" }, t("personal")) : null,
        el("span", { class: "quick-item-text" }, quickText(reply))))));
  }
  $("dialog-quick").dataset.returnFocus = "composer";
  showDialog("dialog-quick");
}

async function upload(file) {
  const open = state.open;
  if (!open || !file) return;
  announce(t("uploading", { name: file.name }));
  try {
    const path = `/api/conversations/${encodeURIComponent(open.id)}/attachments?name=${encodeURIComponent(file.name)}`;
    const answer = await api("POST", path, file, { raw: true, contentType: file.type || "application/octet-stream" });
    if (answer && answer.message && state.open && state.open.id === open.id) addMessages([answer.message]);
    announce(t("uploaded", { name: file.name }));
  } catch (error) {
    $("composer-error").textContent = error.message;
  }
}

export function wireComposer() {
  $("composer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  const composer = $("composer");
  const suggestions = $("quick-suggestions");
  composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && !suggestions.hidden) {
      event.stopPropagation();
      suggestions.hidden = true;
    } else if (event.key === "ArrowDown" && !event.altKey && !suggestions.hidden) {
      const first = suggestions.querySelector("button");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
  suggestions.addEventListener("keydown", (event) => {
    const buttons = [...suggestions.querySelectorAll("button")];
    const index = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && index < buttons.length - 1) { event.preventDefault(); buttons[index + 1].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? buttons[index - 1] : composer).focus(); }
    else if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); suggestions.hidden = true; composer.focus(); }
  });
  composer.addEventListener("input", () => {
    updateSuggestions();
    tellTyping();
  });
  $("quick-replies").addEventListener("click", openQuickDialog);
  setupDialog("dialog-quick", null);
  $("attach-input").addEventListener("change", () => {
    const input = $("attach-input");
    const file = input.files && input.files[0];
    if (file) upload(file);
    input.value = "";
  });
}
