// Ponte — attendants' console: the analysts' side of the desk. Linking other analysts as
// contacts (two analysts chat once each linked the other) and the list of their chats.

import { api } from "./console-api.js";
import { avatar, personName } from "./console-data.js";
import { $, el, showError } from "./console-dom.js";
import { t } from "./console-i18n.js";
import { KEYS, emit, state } from "./console-state.js";

export function saveLinks() {
  if (state.me) localStorage.setItem(`${KEYS.links}.${state.me.id}`, JSON.stringify([...state.links]));
}

export function rememberAnalystChat(conversationId, other) {
  if (!conversationId) return;
  if (!state.analystChats.some((chat) => chat.id === conversationId)) {
    state.analystChats.unshift({ id: conversationId, with: other });
    sessionStorage.setItem(KEYS.analystChats, JSON.stringify(state.analystChats));
  }
  renderAnalysts();
}

async function toggleLink(person, linked) {
  try {
    await api(linked ? "DELETE" : "PUT", `/api/desk/links/${encodeURIComponent(person.id)}`);
    if (linked) state.links.delete(person.id);
    else state.links.add(person.id);
    saveLinks();
    renderAnalysts();
  } catch (error) {
    showError(error);
  }
}

async function startChat(person) {
  try {
    const started = await api("POST", "/api/desk/analyst-chats", { to: person.id });
    rememberAnalystChat(started.conversation_id, person.id);
    emit("open-chat", { id: started.conversation_id, analystWith: person.id });
  } catch (error) {
    showError(error);
  }
}

function analystRow(person) {
  const linked = state.links.has(person.id);
  const online = Object.values(person.channels || {}).some((value) => value.state === "online");
  return el("li", { class: "analyst" },
    el("span", { class: "analyst-name" },
      avatar(person.name, person.id, "avatar-small"),
      el("span", { class: `dot ${online ? "state-online" : "state-offline"}`, "aria-hidden": "true" }),
      person.name,
      el("span", { class: "visually-hidden" }, ` (${online ? t("person_state_online") : t("person_state_offline")})`)),
    el("span", { class: "analyst-actions" },
      el("button", {
        type: "button",
        class: "button small secondary",
        "aria-pressed": linked ? "true" : "false",
        "aria-label": linked ? t("unlink_label", { name: person.name }) : t("link_label", { name: person.name }),
        dataset: { analystLink: person.id },
        onclick: () => toggleLink(person, linked),
      }, linked ? t("unlink") : t("link")),
      el("button", {
        type: "button",
        class: "button small primary",
        "aria-label": t("start_chat_label", { name: person.name }),
        dataset: { analystChat: person.id },
        onclick: () => startChat(person),
      }, t("start_chat"))));
}

function analystChatItem(chat, openId) {
  const li = el("li", {
    class: "chat-item" + (chat.id === openId ? " is-open" : ""),
    tabindex: "0",
    dataset: { analystChatId: chat.id },
  },
    avatar(personName(chat.with), chat.with),
    el("span", { class: "chat-item-body" }, el("span", { class: "chat-item-title" }, t("analyst_chat_with", { name: personName(chat.with) }))));
  const open = () => emit("open-chat", { id: chat.id, analystWith: chat.with });
  li.addEventListener("click", open);
  li.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      open();
    }
  });
  return li;
}

export function renderAnalysts() {
  const me = state.me;
  const isAnalyst = Boolean(me && me.kind === "analyst");
  $("analysts").hidden = !isAnalyst;
  if (!isAnalyst) return;
  const others = state.people.filter((person) => person.kind === "analyst" && person.id !== me.id);
  $("analyst-list").replaceChildren(...(others.length ? others.map(analystRow) : [el("li", { class: "muted small" }, t("no_analysts"))]));
  const openId = state.open ? state.open.id : null;
  $("analyst-chat-list").replaceChildren(...(state.analystChats.length
    ? state.analystChats.map((chat) => analystChatItem(chat, openId))
    : [el("li", { class: "muted small" }, t("no_analyst_chats"))]));
}
