// Ponte — attendants' console: the desk's live feed (a WebSocket, reconnected with backoff).
// Every desk operation refreshes the lists; people, configuration, quick replies and macros
// are read again when they change; a requester writing is told on as the `unread` event
// (the alerts and a chat's preview listen); someone typing or having read, as the `typing`
// and `read` events (the transcript listens).

import { api, wsUrl } from "./console-api.js";
import { renderAnalysts, rememberAnalystChat, saveLinks } from "./console-analysts.js";
import { loadConfig, loadMacros, loadPeople, loadQuickReplies } from "./console-data.js";
import { $, debounce } from "./console-dom.js";
import { t } from "./console-i18n.js";
import { renderAttendantFilter, scheduleRefresh } from "./console-lists.js";
import { presenceSoon, refreshPresence, renderPresence } from "./console-presence.js";
import { emit, myId, state } from "./console-state.js";

export function connectStaff() {
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
    scheduleRefresh(); // anything missed while disconnected
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

export function disconnectStaff() {
  clearTimeout(state.staffRetryTimer);
  const socket = state.staffSocket;
  state.staffSocket = null;
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
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
const QUICK_OPS = new Set(["upsert_quick_reply", "delete_quick_reply"]);
const MACRO_OPS = new Set(["upsert_macro", "delete_macro"]);
/** Operations that change the caller's load. */
const LOAD_OPS = new Set(["capture", "close", "transfer", "reopen", "enqueue", "reroute", "choose", "leave", "invite", "start_outbound"]);

const refreshPeople = debounce(async () => {
  try {
    await loadPeople();
    renderAnalysts();
    renderAttendantFilter();
  } catch (_) { /* the next change tries again */ }
}, 500);

function onStaffFrame(frame) {
  if (frame.type === "lagged") {
    scheduleRefresh();
    return;
  }
  if (frame.type === "unread") {
    emit("unread", { id: frame.conversation_id });
    scheduleRefresh();
    return;
  }
  if (frame.type === "typing" || frame.type === "read") {
    emit(frame.type, frame);
    return;
  }
  if (frame.type !== "desk") return;
  // The server flattens the operation into the frame (`{"type":"desk","op":"capture",
  // "conversation_id":...}`); a nested `{"type":"desk","op":{"op":...}}` is accepted too.
  const op = frame.op && typeof frame.op === "object" ? frame.op : frame;
  const kind = typeof op.op === "string" ? op.op : "";
  const me = myId();
  if (PEOPLE_OPS.has(kind)) {
    refreshPeople();
    if (op.person === me) refreshPresence();
  }
  if (kind === "configure") loadConfig().then(renderPresence).catch(() => {});
  if (QUICK_OPS.has(kind)) loadQuickReplies().catch(() => {});
  if (MACRO_OPS.has(kind)) loadMacros().catch(() => {});
  if (kind === "start_analyst_chat" && (op.to === me || op.from === me)) {
    rememberAnalystChat(op.conversation_id, op.to === me ? op.from : op.to);
  }
  if ((kind === "link_contact" || kind === "unlink_contact") && op.analyst === me) {
    if (kind === "link_contact") state.links.add(op.other);
    else state.links.delete(op.other);
    saveLinks();
    renderAnalysts();
  }
  scheduleRefresh();
  if (LOAD_OPS.has(kind)) presenceSoon();
}
