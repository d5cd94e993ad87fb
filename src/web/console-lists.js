// Ponte — attendants' console: the chat lists. The views (Mine: in progress with me; Unassigned:
// the queue; All: every open chat; Closed: the history), the attendant filter of All and Closed
// (the API's `attendant` filter), the search by ticket or contact, the order, each chat's card
// (who, the last message and its time, ticket, channel, place in the queue, who serves it,
// tags, the unread dot), their refresh and the chat icon's alert.

import { api } from "./console-api.js";
import { avatar, personName, requesterAvatar, requesterName } from "./console-data.js";
import { $, clipIcon, debounce, el, formatTime, shortDuration, showError, timeElement } from "./console-dom.js";
import { channelLabel, t } from "./console-i18n.js";
import { KEYS, emit, isMember, loadJson, myId, state, wasMember } from "./console-state.js";

export const VIEWS = ["mine", "unassigned", "all", "closed"];
export const SORTS = ["arrival", "recent", "waiting"];
/** The views the attendant filter narrows (Mine is the caller's, Unassigned nobody's). */
const FILTERED = new Set(["all", "closed"]);

const isOpenState = (record) => record.state === "queued" || record.state === "in_progress";

function inView(view, record) {
  const me = myId();
  if (view === "mine") return record.state === "in_progress" && isMember(record, me);
  if (view === "unassigned") return record.state === "queued";
  if (view === "all") return isOpenState(record);
  if (isOpenState(record)) return false;
  // The history: one's own chats and the lost ones, or the chosen attendant's.
  return state.attendant !== "" || wasMember(record, me) || record.state === "lost";
}

/** The view a chat belongs in, for the caller. */
export function viewOf(record) {
  if (record.state === "queued") return "unassigned";
  if (record.state === "in_progress") return isMember(record, myId()) ? "mine" : "all";
  return "closed";
}

function sourceFor(view) {
  if (FILTERED.has(view) && state.attendant && state.byAttendant) return state.byAttendant;
  return state.searched ?? state.chats;
}

const lastAt = (record) => (record.last_message ? record.last_message.created_at : 0);
const awaitsReply = (record) => Boolean(record.last_message && record.last_message.sender_kind === "requester");

/** The chats of `view`, in the chosen order (the server's order is the order of arrival:
 *  the queue's, then by capture, the history newest first). */
export function chatsIn(view) {
  const records = sourceFor(view).filter((record) => inView(view, record));
  if (state.sort === "recent") return records.sort((a, b) => lastAt(b) - lastAt(a));
  if (state.sort === "waiting") {
    // Those whose last word is the requester's first, who waited longest first.
    return records.sort((a, b) => awaitsReply(b) - awaitsReply(a) || (awaitsReply(a) ? lastAt(a) - lastAt(b) : 0));
  }
  return records;
}

export function findRecord(id) {
  for (const list of [state.chats, state.searched, state.byAttendant]) {
    const found = (list || []).find((record) => record.conversation_id === id);
    if (found) return found;
  }
  return null;
}

// ---------------------------------------------------------------- loading

async function fetchChats(params) {
  const query = new URLSearchParams(params).toString();
  const answer = await api("GET", `/api/desk/chats${query ? `?${query}` : ""}`);
  return (answer && answer.chats) || [];
}

/** The chats whose ticket or contact matches `text`. The ticket filter is an exact match:
 *  "t-000123" is also tried as "T-000123" and a bare number as "T-" and six digits. */
async function search(text, params) {
  const tickets = new Set([text, text.toUpperCase()]);
  if (/^\d{1,6}$/.test(text)) tickets.add(`T-${text.padStart(6, "0")}`);
  const answers = await Promise.all([
    ...[...tickets].map((ticket) => fetchChats({ ...params, ticket }).catch(() => [])),
    fetchChats({ ...params, contact: text }).catch(() => []),
  ]);
  const seen = new Map();
  for (const chat of answers.flat()) if (!seen.has(chat.conversation_id)) seen.set(chat.conversation_id, chat);
  return [...seen.values()];
}

let refreshing = null;
let refreshAgain = false;

export async function refreshLists() {
  if (!state.signedIn) return;
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const text = state.search.trim();
      const attendant = state.attendant;
      const [chats, searched, byAttendant, alert] = await Promise.all([
        fetchChats({}),
        text ? search(text, {}) : null,
        attendant ? (text ? search(text, { attendant }) : fetchChats({ attendant })) : null,
        api("GET", "/api/desk/alert"),
      ]);
      if (!state.signedIn) return;
      state.chats = chats;
      state.searched = searched;
      state.byAttendant = byAttendant;
      state.alert = alert || state.alert;
      if (state.searchChanged) {
        // A new search whose results are all in another view: show that view.
        state.searchChanged = false;
        const found = VIEWS.filter((view) => chatsIn(view).length > 0);
        if (text && found.length && !found.includes(state.view)) selectView(found[0]);
      }
      renderLists();
      renderAlert();
      emit("lists");
    } catch (error) {
      if (error.status !== 401) showError(error);
    }
  })();
  await refreshing;
  refreshing = null;
  if (refreshAgain) {
    refreshAgain = false;
    await refreshLists();
  }
}

export const scheduleRefresh = debounce(() => refreshLists(), 250);

/** Puts the chat an action answered with in the lists (keeping the last message a shorter
 *  answer may lack) and tells the open chat. */
export function replaceRecord(updated) {
  if (!updated || !updated.conversation_id) return;
  const before = findRecord(updated.conversation_id);
  if (before && !updated.last_message && before.last_message) updated.last_message = before.last_message;
  for (const list of [state.chats, state.searched, state.byAttendant]) {
    if (!list) continue;
    const index = list.findIndex((record) => record.conversation_id === updated.conversation_id);
    if (index >= 0) list[index] = updated;
    else if (list === state.chats) list.push(updated);
  }
  if (state.open && state.open.id === updated.conversation_id) state.open.record = updated;
  renderLists();
  emit("record");
}

// ---------------------------------------------------------------- rendering

/** A last message's body as nodes: a file's leading paperclip emoji drawn as an icon. */
function lastBody(body) {
  const text = String(body || "");
  if (!text.startsWith("\u{1F4CE}")) return [text];
  return [clipIcon(), text.replace(/^\u{1F4CE}\s*/u, "")];
}

function senderPrefix(last) {
  if (last.sender_kind === "requester") return null;
  let who;
  if (last.sender_kind === "attendant") who = last.sender_id && last.sender_id === myId() ? t("sender_you") : personName(last.sender_id) || t("sender_attendant");
  else who = t(`sender_${last.sender_kind}`);
  return el("span", { class: "chat-item-sender" }, `${who}: `);
}

function card(record, openId) {
  const id = record.conversation_id;
  const name = requesterName(record);
  const last = record.last_message;
  const meta = [record.ticket || record.lost_ticket || t("no_ticket"), channelLabel(record.channel)];
  if (record.state === "queued" && record.position) {
    let text = t("position", { position: record.position });
    if (record.eta_ms) text += ` · ${t("eta", { time: shortDuration(record.eta_ms) })}`;
    meta.push(text);
  }
  if (record.state === "lost") meta.push(t("lost"));
  const responsible = record.responsible;
  const assignee = responsible && responsible !== myId()
    ? el("span", { class: "assignee" },
      avatar(personName(responsible), responsible, "avatar-small"),
      el("span", { class: "visually-hidden" }, t("assigned_to", { name: personName(responsible) })),
      el("span", { "aria-hidden": "true" }, personName(responsible)))
    : null;
  const li = el("li", {
    class: "chat-item" + (id === openId ? " is-open" : "") + (record.unread ? " is-unread" : ""),
    tabindex: "0",
    dataset: { chatId: id },
    "aria-current": id === openId ? "true" : undefined,
  },
    requesterAvatar(record),
    el("span", { class: "chat-item-body" },
      el("span", { class: "chat-item-top" },
        el("span", { class: "chat-item-title" }, name),
        record.blocked ? el("span", { class: "pill pill-danger" }, t("blocked")) : null,
        record.contact && record.contact.contract_status === "blocked" ? el("span", { class: "pill pill-warn" }, t("contract_blocked")) : null,
        last ? timeElement(last.created_at, { class: "chat-item-time", title: t("last_message_at", { time: formatTime(last.created_at) }) }) : null,
      ),
      last ? el("span", { class: "chat-item-last" }, senderPrefix(last), ...lastBody(last.body)) : null,
      el("span", { class: "chat-item-meta" }, el("span", {}, meta.join(" · ")), assignee),
      record.tags && record.tags.length ? el("span", { class: "chat-item-tags" }, record.tags.join(", ")) : null,
    ),
    record.unread ? el("span", { class: "unread-dot", role: "img", "aria-label": t("unread") }) : null,
  );
  li.addEventListener("click", () => emit("open-chat", { id }));
  li.addEventListener("keydown", (event) => {
    if (event.target !== li) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      emit("open-chat", { id });
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !event.altKey) {
      event.preventDefault();
      const sibling = event.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling;
      if (sibling) sibling.focus();
    }
  });
  return li;
}

export function renderLists() {
  for (const view of VIEWS) {
    const records = chatsIn(view);
    const badge = $(`count-${view}`);
    badge.textContent = records.length ? String(records.length) : "";
    badge.classList.toggle("has-unread", records.some((record) => record.unread));
  }
  const list = $("chat-list");
  const focusedItem = document.activeElement && list.contains(document.activeElement) && document.activeElement.closest("li");
  const focused = focusedItem ? focusedItem.dataset.chatId : null;
  const records = chatsIn(state.view);
  const openId = state.open ? state.open.id : null;
  list.replaceChildren(...records.map((record) => card(record, openId)));
  const empty = $("chat-list-empty");
  empty.hidden = records.length > 0;
  empty.textContent = state.search.trim() ? t("empty_search") : t(`empty_${state.view}`);
  if (focused) {
    const again = list.querySelector(`li[data-chat-id="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }
}

/** The ids of the chats the list shows, top to bottom. */
export function visibleIds() {
  return [...$("chat-list").querySelectorAll("li[data-chat-id]")].map((li) => li.dataset.chatId);
}

export function renderAlert() {
  const alert = state.alert || {};
  const ids = new Set([...(alert.unread || []), ...(alert.queue_unread || [])]);
  const on = Boolean(alert.alert) || ids.size > 0;
  const badge = $("alert");
  badge.hidden = !on;
  const count = ids.size || (on ? 1 : 0);
  badge.textContent = on ? String(count) : "";
  badge.setAttribute("aria-label", count === 1 ? t("alert_label_one") : t("alert_label", { count }));
  $("chat-icon").setAttribute("aria-label", on ? `${t("chat_icon_label")}: ${badge.getAttribute("aria-label")}` : t("chat_icon_label"));
  document.title = (on ? `(${count}) ` : "") + "Ponte — " + t("app_title");
}

/** The attendant filter's choices: anyone, then the desk's people by name. */
export function renderAttendantFilter() {
  const select = $("filter-attendant");
  const people = [...state.people].sort((a, b) => a.name.localeCompare(b.name));
  select.replaceChildren(
    el("option", { value: "" }, t("filter_anyone")),
    ...people.map((person) => el("option", { value: person.id }, person.name)),
  );
  if (state.attendant && !people.some((person) => person.id === state.attendant)) state.attendant = "";
  select.value = state.attendant;
}

export function selectView(view, focus) {
  state.view = VIEWS.includes(view) ? view : "unassigned";
  sessionStorage.setItem(KEYS.view, JSON.stringify({ view: state.view, sort: state.sort }));
  for (const button of document.querySelectorAll("#views [role='tab']")) {
    const selected = button.dataset.view === state.view;
    button.setAttribute("aria-selected", selected ? "true" : "false");
    button.tabIndex = selected ? 0 : -1;
    if (selected && focus) button.focus();
  }
  $("chat-panel").setAttribute("aria-labelledby", `tab-${state.view}`);
  $("filter-attendant-field").hidden = !FILTERED.has(state.view);
  renderLists();
}

/** The view and order kept for the tab's session. */
export function restoreView() {
  const saved = loadJson(sessionStorage, KEYS.view, {});
  if (SORTS.includes(saved.sort)) state.sort = saved.sort;
  $("sort").value = state.sort;
  selectView(saved.view || "unassigned");
}

/** The views' tabs (click, arrows, Home/End), the filter, the order and the search box. */
export function wireLists() {
  const tabs = [...document.querySelectorAll("#views [role='tab']")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectView(tab.dataset.view, true));
    tab.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(tab);
      let next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (next && !event.altKey) {
        event.preventDefault();
        selectView(next.dataset.view, true);
      }
    });
  }
  $("filter-attendant").addEventListener("change", () => {
    state.attendant = $("filter-attendant").value;
    state.byAttendant = null;
    refreshLists();
  });
  $("sort").addEventListener("change", () => {
    state.sort = $("sort").value;
    selectView(state.view);
  });
  const box = $("search");
  const runSearch = () => {
    state.search = box.value;
    state.searchChanged = true;
    refreshLists();
  };
  box.addEventListener("input", debounce(runSearch, 300));
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      runSearch();
    } else if (event.key === "ArrowDown" && !event.altKey) {
      const first = $("chat-list").querySelector("li");
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
}
