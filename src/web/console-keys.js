// Ponte — attendants' console: keyboard shortcuts and the overlay that lists them. Alt with
// the arrows moves between the chats of the list and Alt+C closes the open chat, wherever the
// focus is; outside text fields, J and K move too, / goes to the search and ? shows the list.
// Enter sends (the message box owns that one).

import { canClose, openCloseDialog } from "./console-actions.js";
import { backToList } from "./console-chat.js";
import { $, el, isTyping } from "./console-dom.js";
import { setupDialog, showDialog } from "./console-dialogs.js";
import { t } from "./console-i18n.js";
import { visibleIds } from "./console-lists.js";
import { emit, state } from "./console-state.js";

/** Opens the chat `step` places after (or before) the open one in the list. */
function moveChat(step) {
  const ids = visibleIds();
  if (!ids.length) return;
  const at = state.open ? ids.indexOf(state.open.id) : -1;
  const next = at < 0 ? (step > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + step));
  if (ids[next] !== (state.open && state.open.id)) emit("open-chat", { id: ids[next] });
}

function focusSearch() {
  document.body.classList.remove("chat-open");
  $("search").focus();
  $("search").select();
}

const kbd = (key) => el("kbd", {}, t(key));
const plus = () => el("span", { class: "key-plus", "aria-hidden": "true" }, "+");
const or = () => el("span", { class: "key-or" }, ` ${t("or")} `);
const letter = (text) => el("kbd", {}, text);

/** The shortcuts as the overlay lists them: the keys, what they do. */
function rows() {
  return [
    [[kbd("key_alt"), plus(), kbd("key_down"), or(), letter("J")], "shortcut_next"],
    [[kbd("key_alt"), plus(), kbd("key_up"), or(), letter("K")], "shortcut_previous"],
    [[letter("/")], "shortcut_search"],
    [[kbd("key_enter")], "shortcut_send"],
    [[kbd("key_shift"), plus(), kbd("key_enter")], "shortcut_newline"],
    [[kbd("key_alt"), plus(), letter("C")], "shortcut_close"],
    [[kbd("key_escape")], "shortcut_back"],
    [[letter("?")], "shortcut_help"],
  ];
}

export function openHelp() {
  $("shortcut-list").replaceChildren(...rows().flatMap(([keys, what]) => [
    el("dt", {}, ...keys),
    el("dd", {}, t(what)),
  ]));
  $("dialog-help").dataset.returnFocus = document.activeElement && document.activeElement.id ? document.activeElement.id : "help-button";
  showDialog("dialog-help");
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.isComposing) return;
  if (document.querySelector("dialog[open]")) return; // a dialog owns the keyboard
  if (event.altKey && !event.shiftKey) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      moveChat(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.code === "KeyC" && canClose()) {
      event.preventDefault();
      openCloseDialog();
    }
    return;
  }
  if (event.altKey || isTyping(event.target)) return;
  const key = event.key;
  if (key === "?") {
    event.preventDefault();
    openHelp();
  } else if (key === "/") {
    event.preventDefault();
    focusSearch();
  } else if (key === "j" || key === "k") {
    event.preventDefault();
    moveChat(key === "j" ? 1 : -1);
  } else if (key === "Escape" && document.body.classList.contains("chat-open")) {
    backToList();
  }
}

export function wireKeys() {
  setupDialog("dialog-help", null);
  $("help-button").addEventListener("click", openHelp);
  document.addEventListener("keydown", onKey);
}
