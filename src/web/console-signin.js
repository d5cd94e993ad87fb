// Ponte — attendants' console: signing in with an access token (kept for the tab's session)
// or, without one, with the password session's cookie (/signin, which the form links to),
// loading what the console needs once signed in, and signing out (by hand, or when the
// session ends: any 401 of the API; a cookie session is ended on the server too).

import { api, currentToken, forgetToken, keepToken, useToken } from "./console-api.js";
import { renderAnalysts } from "./console-analysts.js";
import { closeChat } from "./console-chat.js";
import { loadConfig, loadMacros, loadPeople, loadQuickReplies } from "./console-data.js";
import { $ } from "./console-dom.js";
import { LANG, t } from "./console-i18n.js";
import { connectStaff, disconnectStaff } from "./console-feed.js";
import { refreshLists, renderAttendantFilter, restoreView } from "./console-lists.js";
import { renderPresence } from "./console-presence.js";
import { KEYS, emit, loadJson, on, state } from "./console-state.js";
import { addPasswordLink, endPasswordSession } from "./staff-session.js";

// Signed in through the password session's cookie (no token in the tab).
let cookie = false;

function showConsole(visible) {
  $("signin").hidden = visible;
  $("console").hidden = !visible;
  $("topbar-user").hidden = !visible;
}

function refuse(message) {
  $("signin-error").textContent = message;
  $("signin-token").setAttribute("aria-invalid", "true");
  $("signin-token").focus();
}

/** Signs in with `candidate`; `fromForm` when the reader typed it (else it is the tab's
 *  kept token, forgotten quietly when refused). Whether it worked. */
async function signIn(candidate, fromForm) {
  $("signin-error").textContent = "";
  useToken(candidate);
  cookie = !candidate;
  let me;
  try {
    me = await api("GET", "/api/desk/presence", undefined, { signin: true });
  } catch (failure) {
    if (cookie) {
      // No password session either: the form shows, with nothing to say.
      cookie = false;
      if (failure.status !== 401) $("signin-error").textContent = failure.message;
      return false;
    }
    // A refused token is forgotten; one the server could not check now is kept for a reload.
    if (failure.status === 401 || failure.status === 403 || fromForm) forgetToken();
    else useToken("");
    if (!fromForm) {
      if (failure.status !== 401) $("signin-error").textContent = failure.message;
      return false;
    }
    if (failure.status === 401) refuse(t("signin_invalid"));
    else if (failure.status === 403) refuse(t("signin_forbidden"));
    else refuse(t("signin_failed", { message: failure.message }));
    return false;
  }
  if (!cookie) keepToken();
  $("signin-token").value = "";
  $("signin-token").removeAttribute("aria-invalid");
  state.me = me;
  state.signedIn = true;
  state.links = new Set(loadJson(localStorage, `${KEYS.links}.${me.id}`, []));
  state.analystChats = loadJson(sessionStorage, KEYS.analystChats, []);
  showConsole(true);
  $("user-name").textContent = me.name || me.id;
  renderPresence();
  restoreView();
  await Promise.allSettled([loadConfig(), loadPeople(), loadQuickReplies(), loadMacros()]);
  renderPresence();
  renderAnalysts();
  renderAttendantFilter();
  await refreshLists();
  connectStaff();
  if (fromForm) $("main").focus();
  return true;
}

function signOut(message) {
  if (cookie) {
    endPasswordSession();
    cookie = false;
  }
  state.signedIn = false;
  sessionStorage.removeItem(KEYS.analystChats);
  forgetToken();
  disconnectStaff();
  closeChat();
  state.chats = [];
  state.searched = null;
  state.byAttendant = null;
  $("chat-list").replaceChildren();
  showConsole(false);
  emit("signed-out");
  $("signin-error").textContent = message || "";
  $("signin-token").focus();
}

export function wireSignIn() {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("signin-token").value.trim();
    if (!value) {
      refuse(t("signin_empty"));
      return;
    }
    $("signin-submit").disabled = true;
    try {
      await signIn(value, true);
    } finally {
      $("signin-submit").disabled = false;
    }
  });
  $("signout").addEventListener("click", () => signOut(""));
  on("unauthorized", () => { if (state.signedIn) signOut(t("session_expired")); });
  addPasswordLink($("signin-form"), t("signin_password"), LANG);
  // The tab's token, else the password session's cookie, is tried quietly.
  signIn(currentToken(), false).then((ok) => {
    if (!ok) {
      showConsole(false);
      $("signin-token").focus();
    }
  });
}
