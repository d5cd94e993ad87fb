// Ponte — attendants' console: DOM and formatting helpers, the HTTP API client, the
// shared state, signing in and out, and the reference data (configuration, people, replies).
"use strict";

(() => {
  const C = (window.PonteConsole = window.PonteConsole || {});
  const { LANG } = C;
  // Functions of the sibling files, looked up when called (they may load later).
  const closeChatSocket = (...args) => C.closeChatSocket(...args);
  const connectStaff = (...args) => C.connectStaff(...args);
  const refreshLists = (...args) => C.refreshLists(...args);
  const renderAnalysts = (...args) => C.renderAnalysts(...args);
  const renderPresence = (...args) => C.renderPresence(...args);
  const t = (...args) => C.t(...args);

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (name === "class") node.className = value;
        else if (name === "text") node.textContent = value;
        else if (name === "dataset") Object.assign(node.dataset, value);
        else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
        else node.setAttribute(name, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function duration(ms) {
    const total = Math.max(0, Math.floor((ms || 0) / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
  }

  function shortDuration(ms) {
    const minutes = Math.round((ms || 0) / 60000);
    if (minutes < 1) return "< 1 min";
    if (minutes < 60) return `${minutes} min`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  }

  const timeFormat = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
  const dateTimeFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "short", timeStyle: "short" });

  function toDate(value) {
    if (value === undefined || value === null) return null;
    if (typeof value === "number") {
      // Seconds or milliseconds since the epoch.
      return new Date(value < 1e12 ? value * 1000 : value);
    }
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function formatTime(value) {
    const date = toDate(value);
    if (!date) return "";
    const today = new Date();
    return date.toDateString() === today.toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
  }

  function debounce(fn, wait) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), wait);
    };
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  let announceTimer = null;
  function announce(text, isError) {
    const line = $("status-line");
    line.textContent = text;
    line.classList.toggle("is-error", Boolean(isError));
    line.classList.add("visible");
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => line.classList.remove("visible"), isError ? 8000 : 4000);
  }

  // ---------------------------------------------------------------- API

  const TOKEN_KEY = "ponte.token";
  let token = sessionStorage.getItem(TOKEN_KEY) || "";

  class ApiError extends Error {
    constructor(status, message, code) {
      super(message);
      this.status = status;
      this.code = code || "";
    }
  }

  async function api(method, path, body, options) {
    const headers = { Authorization: `Bearer ${token}` };
    let payload;
    if (options && options.raw) {
      payload = body;
      headers["Content-Type"] = options.contentType || "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload, cache: "no-store" });
    } catch (error) {
      throw new ApiError(0, t("error_network"), "network");
    }
    if (options && options.blob && response.ok) return response.blob();
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!response.ok) {
      // The server's own message is English for developers: the page says what the code means.
      const code = data && typeof data.code === "string" ? data.code : "";
      const error = new ApiError(response.status, window.PonteErrors.text(code, C.LANG, response.status), code);
      if (response.status === 401 && !(options && options.signin)) sessionExpired();
      throw error;
    }
    return data;
  }

  function showError(error) {
    announce(error && error.message ? error.message : String(error), true);
  }

  function wsUrl(path, params) {
    const url = new URL(path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    for (const [key, value] of Object.entries(params || {})) url.searchParams.set(key, value);
    url.searchParams.set("token", token);
    return url.toString();
  }

  // ---------------------------------------------------------------- state

  const state = {
    me: null,            // presence view of the caller
    config: { pause_reasons: [], close_reasons: [] },
    people: [],
    quickReplies: [],
    macros: [],
    chats: [],           // every chat from the last list load
    tab: "queued",
    search: "",
    open: null,          // { id, record, analyst: {with} | null }
    messages: new Map(), // seq -> message for the open chat
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

  const SINCE_KEY = "ponte.presence-since";
  const LINKS_KEY = "ponte.analyst-links";
  const ANALYST_CHATS_KEY = "ponte.analyst-chats";

  function loadJson(storage, key, fallback) {
    try {
      const value = JSON.parse(storage.getItem(key));
      return value ?? fallback;
    } catch (_) {
      return fallback;
    }
  }

  // ---------------------------------------------------------------- sign in / out

  function showConsole(visible) {
    $("signin").hidden = visible;
    $("console").hidden = !visible;
    $("topbar-user").hidden = !visible;
  }

  async function signIn(candidate, fromForm) {
    const error = $("signin-error");
    error.textContent = "";
    token = candidate;
    let me;
    try {
      me = await api("GET", "/api/desk/presence", undefined, { signin: true });
    } catch (failure) {
      token = "";
      if (failure.status === 401 || failure.status === 403 || fromForm) sessionStorage.removeItem(TOKEN_KEY);
      if (!fromForm) {
        if (failure.status !== 401) error.textContent = failure.message;
        return false;
      }
      if (failure.status === 401) error.textContent = t("signin_invalid");
      else if (failure.status === 403) error.textContent = t("signin_forbidden");
      else error.textContent = t("signin_failed", { message: failure.message });
      $("signin-token").setAttribute("aria-invalid", "true");
      $("signin-token").focus();
      return false;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin-token").value = "";
    $("signin-token").removeAttribute("aria-invalid");
    state.me = me;
    state.signedIn = true;
    state.links = new Set(loadJson(localStorage, `${LINKS_KEY}.${me.id}`, []));
    state.analystChats = loadJson(sessionStorage, ANALYST_CHATS_KEY, []);
    showConsole(true);
    $("user-name").textContent = me.name || me.id;
    renderPresence();
    await Promise.allSettled([loadConfig(), loadPeople(), loadQuickReplies(), loadMacros()]);
    renderPresence();
    renderAnalysts();
    await refreshLists();
    connectStaff();
    if (fromForm) $("main").focus();
    return true;
  }

  function signOut(message) {
    state.signedIn = false;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ANALYST_CHATS_KEY);
    token = "";
    closeChatSocket();
    if (state.staffSocket) {
      const socket = state.staffSocket;
      state.staffSocket = null;
      socket.onclose = null;
      socket.close();
    }
    clearTimeout(state.staffRetryTimer);
    state.open = null;
    state.chats = [];
    $("chat-list").replaceChildren();
    $("transcript").replaceChildren();
    $("chat").hidden = true;
    $("chat-placeholder").hidden = false;
    document.body.classList.remove("chat-open");
    showConsole(false);
    $("signin-error").textContent = message || "";
    $("signin-token").focus();
  }

  function sessionExpired() {
    if (state.signedIn) signOut(t("session_expired"));
  }

  // ---------------------------------------------------------------- reference data

  async function loadConfig() {
    const config = await api("GET", "/api/desk/config");
    state.config = config || state.config;
  }

  async function loadPeople() {
    const answer = await api("GET", "/api/desk/people");
    state.people = (answer && answer.people) || [];
    const names = $("people-names");
    names.replaceChildren(
      ...state.people
        .filter((person) => !state.me || person.id !== state.me.id)
        .map((person) => el("option", { value: "@" + person.name }, person.name)),
    );
  }

  async function loadQuickReplies() {
    const answer = await api("GET", "/api/desk/quick-replies");
    state.quickReplies = (answer && answer.quick_replies) || [];
  }

  async function loadMacros() {
    const answer = await api("GET", "/api/desk/macros");
    state.macros = (answer && answer.macros) || [];
  }

  function personName(id) {
    if (!id) return "";
    const person = state.people.find((p) => p.id === id);
    return person ? person.name : id;
  }

  Object.assign(C, {
    el, duration, shortDuration, toDate, formatTime, debounce, randomId, announce, api, showError,
    wsUrl, loadJson, showConsole, signIn, signOut, sessionExpired, loadConfig, loadPeople,
    loadQuickReplies, loadMacros, personName, $, timeFormat, dateTimeFormat, TOKEN_KEY, ApiError,
    state, SINCE_KEY, LINKS_KEY, ANALYST_CHATS_KEY,
  });
  Object.defineProperty(C, "token", { get: () => token, configurable: true });
})();
