// Ponte — attendants' console: the open chat's transcript. Who may read what: the people
// serving a chat read and follow it live; a chat waiting in the queue is shown read-only as a
// preview (the requester and the assistant so far) before capturing it; otherwise a note says
// why nothing shows. Messages render as text, in sequence order, each once, with who wrote
// them by name; attachments download through the API. Also what the chat's feeds tell
// besides messages: the requester typing (a line under the transcript), how far they have
// read (✓ delivered, ✓✓ read on the desk's messages), and marking the chat read up to its
// last message while the page is seen.

import { api, wsUrl } from "./console-api.js";
import { personName, requesterName } from "./console-data.js";
import { $, clipIcon, el, showError, timeElement } from "./console-dom.js";
import { t } from "./console-i18n.js";
import { emit, myId, on, state, wasMember } from "./console-state.js";

/** How far the open chat's requester has read (their `requester_seq`). */
let requesterRead = 0;
/** The last `seq` this page marked read in the open chat. */
let markedRead = 0;
let typingTimer = null;
/** How long the requester's typing shows without a new event. */
const TYPING_SHOWN_MS = 5000;

// Messages written from this console carry `console-<person>-...` as client_message_id, which
// is how a message the live feed brings is known to be the caller's.
export function myMessagePrefix() {
  return `console-${myId()}-`;
}

function isMine(message) {
  if (message.sender_kind !== "attendant") return false;
  if (message.sender_id) return message.sender_id === myId();
  const id = message.client_message_id;
  return typeof id === "string" && (state.myMessageIds.has(id) || id.startsWith(myMessagePrefix()));
}

function senderLabel(message) {
  if (isMine(message)) return t("sender_you");
  if (message.sender_kind === "attendant") {
    if (state.open && state.open.analyst) return personName(state.open.analyst.with);
    if (message.sender_id) return personName(message.sender_id);
  }
  const record = state.open && state.open.record;
  if (message.sender_kind === "requester" && record) return requesterName(record);
  return t(`sender_${message.sender_kind}`);
}

function attachmentOf(message) {
  const payload = message.payload;
  return payload && typeof payload === "object" && payload.attachment && payload.attachment.id ? payload.attachment : null;
}

function renderMessage(message) {
  const kind = String(message.sender_kind || "system").replace(/[^a-z_]/g, "");
  const other = kind === "attendant" && !isMine(message) && Boolean(message.sender_id || (state.open && state.open.analyst));
  const node = el("div", {
    class: `message from-${kind}` + (isMine(message) ? " is-mine" : "") + (other ? " is-other" : ""),
    dataset: { seq: String(message.seq) },
  },
    el("div", { class: "message-meta" },
      el("span", { class: "message-sender" }, senderLabel(message)),
      timeElement(message.created_at, { class: "message-time" }),
      readMark(message),
    ),
  );
  const attachment = attachmentOf(message);
  const payload = message.payload && typeof message.payload === "object" ? message.payload : null;
  if (attachment) {
    node.append(renderAttachment(attachment));
  } else if (!message.body && payload && payload.event) {
    // A bodiless event (e.g. the hand-off to the desk): one quiet line.
    node.classList.add("is-event");
    const key = `event_${String(payload.event)}`;
    const known = t(key) !== key;
    node.append(el("div", { class: "message-body" },
      known ? t(key, { group: payload.group || "", ticket: payload.ticket || "" }) : String(payload.event),
      " · ",
      timeElement(message.created_at)));
  } else {
    node.append(el("div", { class: "message-body" }, message.body || ""));
  }
  return node;
}

/** Whether `message` is the desk's side of a requester's chat (it gets ✓ / ✓✓). */
function hasMark(message) {
  return message.sender_kind === "attendant" && Boolean(state.open) && !state.open.analyst;
}

/** ✓ once stored, ✓✓ once the requester has read it; the words for screen readers. */
function readMark(message) {
  if (!hasMark(message)) return null;
  const read = requesterRead >= message.seq;
  const word = t(read ? "mark_read" : "mark_delivered");
  return el("span", { class: "message-mark" + (read ? " is-read" : ""), title: word },
    el("span", { "aria-hidden": "true" }, read ? "✓✓" : "✓"),
    el("span", { class: "visually-hidden" }, word));
}

function refreshMarks() {
  for (const node of $("transcript").querySelectorAll(".message.from-attendant")) {
    const message = state.messages.get(Number(node.dataset.seq));
    const old = node.querySelector(".message-mark");
    const fresh = message && readMark(message);
    if (old && fresh && old.className === fresh.className) continue;
    if (old) old.remove();
    if (fresh) node.querySelector(".message-meta").append(fresh);
  }
}

function renderAttachment(attachment) {
  const name = attachment.file_name || "attachment";
  const sizeKb = Math.max(1, Math.round((attachment.size || 0) / 1024));
  const wrap = el("div", { class: "message-body attachment" });
  const button = el("button", { type: "button", class: "attachment-link", "aria-label": t("download", { name }) },
    clipIcon(),
    el("span", {}, name),
    el("span", { class: "muted small" }, ` (${t("size_kb", { size: sizeKb })})`),
  );
  button.addEventListener("click", () => downloadAttachment(attachment));
  wrap.append(button);
  if (attachment.kind === "image" || String(attachment.content_type || "").startsWith("image/")) {
    const img = el("img", { class: "attachment-preview", alt: name, loading: "lazy" });
    wrap.append(img);
    api("GET", `/api/attachments/${encodeURIComponent(attachment.id)}`, undefined, { blob: true })
      .then((blob) => { img.src = URL.createObjectURL(blob); })
      .catch(() => img.remove());
  }
  return wrap;
}

async function downloadAttachment(attachment) {
  try {
    const blob = await api("GET", `/api/attachments/${encodeURIComponent(attachment.id)}`, undefined, { blob: true });
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: attachment.file_name || "attachment", class: "visually-hidden" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (error) {
    showError(error);
  }
}

/** Adds the messages not shown yet, in sequence order; whether any was new. */
export function addMessages(messages) {
  const transcript = $("transcript");
  const nearBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
  let added = false;
  for (const message of messages) {
    if (!message || typeof message.seq !== "number" || state.messages.has(message.seq)) continue;
    state.messages.set(message.seq, message);
    let before = null;
    if (message.seq < state.lastSeq) {
      before = [...transcript.children].find((child) => Number(child.dataset.seq) > message.seq) || null;
    }
    transcript.insertBefore(renderMessage(message), before);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
    added = true;
  }
  if (added) {
    if (!state.open || !state.open.preview) showNote("");
    if (nearBottom || messages.length > 1) transcript.scrollTop = transcript.scrollHeight;
    markReadToEnd();
  }
  return added;
}

function showNote(text, preview) {
  const note = $("transcript-note");
  note.textContent = text;
  note.hidden = !text;
  note.classList.toggle("is-preview", Boolean(preview));
}

/** Whether the caller reads the open chat as its own (serves or served it, or an analysts'
 *  chat), may only preview it (queued), or neither. */
function access(open) {
  const record = open.record;
  if (open.analyst || !record || wasMember(record, myId())) return "read";
  return record.state === "queued" ? "preview" : "none";
}

/** Loads what the open chat has after the last message shown, then follows it live (or,
 *  for a preview, shows the note and stops: it refreshes when the requester writes). */
export async function loadTranscript() {
  const open = state.open;
  if (!open) return;
  const id = open.id;
  const mode = access(open);
  open.preview = mode === "preview";
  if (mode === "none") {
    showNote(t("transcript_forbidden"));
    return;
  }
  try {
    const fresh = state.lastSeq === 0;
    let after = state.lastSeq;
    for (let page = 0; page < 50; page += 1) {
      const answer = await api("GET", `/api/desk/chats/${encodeURIComponent(id)}/messages?after=${after}&limit=200`);
      if (!state.open || state.open.id !== id) return;
      const messages = (answer && answer.messages) || [];
      addMessages(messages);
      if (messages.length < 200) break;
      after = messages[messages.length - 1].seq;
    }
    if (open.preview) showNote(t("preview_note"), true);
    else if (state.messages.size === 0) showNote(t("transcript_empty"));
    else showNote("");
    // The note changes the log's height: a chat just opened shows its end.
    if (fresh) $("transcript").scrollTop = $("transcript").scrollHeight;
    if (!open.preview) {
      followChat();
      loadMarks(id);
      markReadToEnd();
    }
  } catch (error) {
    if (!state.open || state.open.id !== id) return;
    if (error.status === 403) showNote(t("transcript_forbidden"));
    else showError(error);
  }
}

export function clearTranscript() {
  closeChatSocket();
  state.messages = new Map();
  state.lastSeq = 0;
  requesterRead = 0;
  markedRead = 0;
  $("transcript").replaceChildren();
  showNote("");
  showTyping(null);
}

/** Where the open chat's requester has read to, as the server keeps it. */
async function loadMarks(id) {
  if (!state.open || state.open.analyst) return;
  try {
    const marks = await api("GET", `/api/conversations/${encodeURIComponent(id)}/read`);
    if (marks && state.open && state.open.id === id) requesterHasRead(marks.requester_seq);
  } catch (_) { /* the marks stay at ✓ */ }
}

function requesterHasRead(seq) {
  if (typeof seq !== "number" || seq <= requesterRead) return;
  requesterRead = seq;
  refreshMarks();
}

/** While the page is seen, the open chat (one the caller reads as theirs) is read up to its
 *  last message: the requester sees ✓✓ and the caller's unread marker clears. */
export function markReadToEnd() {
  const open = state.open;
  if (!open || open.analyst || open.preview || document.visibilityState !== "visible") return;
  const seq = state.lastSeq;
  if (seq <= markedRead) return;
  markedRead = seq;
  const id = open.id;
  api("POST", `/api/conversations/${encodeURIComponent(id)}/read`, { seq })
    .then((marks) => { if (marks && state.open && state.open.id === id) requesterHasRead(marks.requester_seq); })
    .catch(() => { if (state.open && state.open.id === id) markedRead = Math.min(markedRead, seq - 1); });
}

/** Shows "Maria is typing…" under the transcript (or hides it, for null). */
function showTyping(name) {
  clearTimeout(typingTimer);
  const line = $("typing");
  if (name === null) {
    line.hidden = true;
    line.textContent = "";
    return;
  }
  const text = t("typing", { name });
  if (line.textContent !== text) line.textContent = text;
  line.hidden = false;
  typingTimer = setTimeout(() => showTyping(null), TYPING_SHOWN_MS);
}

/** A `typing` or `read` frame about the open chat (from either feed). */
function onMark(frame) {
  if (frame.who !== "requester") return; // the desk's own side is not shown here
  if (frame.type === "typing") {
    const record = state.open && state.open.record;
    showTyping(frame.name || (record ? requesterName(record) : t("sender_requester")));
  } else if (frame.type === "read") {
    requesterHasRead(frame.seq);
  }
}

export function wireTranscript() {
  for (const type of ["typing", "read"]) {
    on(type, (frame) => {
      if (state.open && !state.open.analyst && frame.conversation_id === state.open.id) onMark(frame);
    });
  }
  document.addEventListener("visibilitychange", markReadToEnd);
}

export function closeChatSocket() {
  clearTimeout(state.chatRetryTimer);
  const socket = state.chatSocket;
  state.chatSocket = null;
  state.chatSocketFor = null;
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
}

/** A colleague's message from the live feed does not say who wrote it: the transcript does. */
async function nameSender(message) {
  const id = state.open && state.open.id;
  try {
    const answer = await api("GET", `/api/desk/chats/${encodeURIComponent(id)}/messages?after=${message.seq - 1}&limit=1`);
    const full = answer && answer.messages && answer.messages[0];
    if (!full || full.seq !== message.seq || !state.open || state.open.id !== id) return;
    state.messages.set(full.seq, full);
    const node = $("transcript").querySelector(`[data-seq="${full.seq}"]`);
    if (node) node.replaceWith(renderMessage(full));
  } catch (_) { /* the generic label stays */ }
}

function followChat() {
  const open = state.open;
  if (!open || (state.chatSocket && state.chatSocketFor === open.id)) return;
  closeChatSocket();
  const id = open.id;
  let socket;
  try {
    socket = new WebSocket(wsUrl(`/api/conversations/${encodeURIComponent(id)}/live`, { after: String(state.lastSeq) }));
  } catch (_) {
    return;
  }
  state.chatSocket = socket;
  state.chatSocketFor = id;
  socket.onopen = () => { state.chatRetry = 0; };
  socket.onmessage = (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch (_) { return; }
    if (!state.open || state.open.id !== id) return;
    if ((frame.type === "typing" || frame.type === "read") && !state.open.analyst) {
      onMark(frame);
      return;
    }
    if (frame.type !== "message" || !frame.message) return;
    const message = frame.message;
    if (message.sender_kind === "requester") showTyping(null);
    if (!addMessages([message])) return;
    if (message.sender_kind === "requester") emit("requester-message", { id });
    if (message.sender_kind === "attendant" && !message.sender_id && !isMine(message) && !state.open.analyst) nameSender(message);
  };
  socket.onclose = () => {
    if (state.chatSocket !== socket) return;
    state.chatSocket = null;
    state.chatSocketFor = null;
    if (!state.open || state.open.id !== id || !state.signedIn) return;
    const delay = Math.min(30000, 1000 * 2 ** state.chatRetry) * (0.75 + Math.random() * 0.5);
    state.chatRetry = Math.min(state.chatRetry + 1, 6);
    state.chatRetryTimer = setTimeout(() => {
      if (state.open && state.open.id === id) followChat();
    }, delay);
  };
}
