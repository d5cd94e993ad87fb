// Ponte — attendants' console: the entry module (console.html loads it as
// `<script type="module">`; plain ES modules, no build step, no framework). It translates the
// page and wires the parts, each owned by one console-*.js module:
//   texts-*, i18n   the texts in pt-BR, es and en, and the reader's language
//   state, dom, api the shared state and events, DOM helpers, the HTTP client
//   data            configuration, people, quick replies, macros; names and initials
//   signin          signing in and out
//   presence        the caller's presence on each channel
//   lists           the views, filter, order, search and chat cards
//   feed            the desk's live feed
//   alerts          sound and desktop notifications
//   chat            the open chat: header, tags, contact
//   transcript      its messages (or a queued chat's read-only preview), typing, read marks
//   composer        writing, quick replies, files
//   actions         capture, close, transfer, invite, macros, tags
//   analysts        analysts' contacts and chats
//   keys            keyboard shortcuts and their help overlay
// User-supplied text only ever reaches the page through textContent / createElement.

import { wireActions } from "./console-actions.js";
import { wireAlerts } from "./console-alerts.js";
import { wireChat } from "./console-chat.js";
import { wireComposer } from "./console-composer.js";
import { $ } from "./console-dom.js";
import { translatePage } from "./console-i18n.js";
import { wireKeys } from "./console-keys.js";
import { refreshLists, selectView, wireLists } from "./console-lists.js";
import { tick } from "./console-presence.js";
import { wireTranscript } from "./console-transcript.js";
import { wireSignIn } from "./console-signin.js";
import { emit, state } from "./console-state.js";

/** The chat icon jumps to the first chat that needs attention. */
function jumpToAttention() {
  const alert = state.alert || {};
  const mine = (alert.unread || [])[0];
  const queued = (alert.queue_unread || [])[0];
  if (mine || queued) {
    selectView(mine ? "mine" : "unassigned");
    emit("open-chat", { id: mine || queued });
  } else {
    document.body.classList.remove("chat-open");
    $("search").focus();
  }
}

translatePage();
wireLists();
wireChat();
wireTranscript();
wireComposer();
wireActions();
wireAlerts();
wireKeys();
$("chat-icon").addEventListener("click", jumpToAttention);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.signedIn) refreshLists();
});
setInterval(tick, 1000);
// A slow safety net for anything the live feed missed (queue positions, timers).
setInterval(() => { if (state.signedIn && document.visibilityState === "visible") refreshLists(); }, 30000);
wireSignIn();
