// Ponte — attendants' console: what the page knows right now (one `state` object every module
// reads and writes), the keys it keeps in the browser's storage, and a small event channel
// (`on`, `emit`) through which a module asks for what a module above it owns (open a chat,
// the lists were refreshed, the requester wrote) without importing it.

export const state = {
  me: null,            // presence view of the caller
  config: { pause_reasons: [], close_reasons: [] },
  people: [],
  quickReplies: [],
  macros: [],
  chats: [],           // every chat of the desk, from the last refresh
  searched: null,      // the chats the search found, or null without a search
  byAttendant: null,   // the chats of the chosen attendant (with the search), or null
  view: "unassigned",  // mine | unassigned | all | closed
  sort: "arrival",     // arrival | recent | waiting
  attendant: "",       // the attendant filter of the All and Closed views ("" = anyone)
  search: "",
  searchChanged: false,
  open: null,          // { id, record, analyst: {with} | null, preview }
  messages: new Map(), // seq -> message of the open chat
  lastSeq: 0,
  myMessageIds: new Set(),
  chatSocket: null,
  chatSocketFor: null,
  chatRetry: 0,
  chatRetryTimer: null,
  staffSocket: null,
  staffRetry: 0,
  staffRetryTimer: null,
  pauseOpen: new Set(),
  links: new Set(),
  analystChats: [],
  alert: { alert: false, unread: [], queue_unread: [] },
  signedIn: false,
  contactCache: new Map(),
};

export const KEYS = {
  token: "ponte.token",
  since: "ponte.presence-since",
  links: "ponte.analyst-links",
  analystChats: "ponte.analyst-chats",
  view: "ponte.console.view",
  sound: "ponte.console.sound",
  desktop: "ponte.console.desktop",
};

export function loadJson(storage, key, fallback) {
  try {
    const value = JSON.parse(storage.getItem(key));
    return value ?? fallback;
  } catch (_) {
    return fallback;
  }
}

const bus = new EventTarget();

/** Calls `listener(detail)` on every `type` event. */
export function on(type, listener) {
  bus.addEventListener(type, (event) => listener(event.detail));
}

export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

/** The signed-in person's id ("" before signing in). */
export function myId() {
  return state.me ? state.me.id : "";
}

/** Responsible or current participant. */
export function isMember(record, person) {
  return record.responsible === person || (record.participants || []).includes(person);
}

/** Member now or before (may read the history). */
export function wasMember(record, person) {
  return isMember(record, person) || (record.former_participants || []).includes(person);
}
