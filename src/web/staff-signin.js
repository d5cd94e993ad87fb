// Ponte's staff pages: signing in with an access token and out again. It owns the sign-in
// form (#signin with #signin-form, #signin-token, #signin-submit, #signin-error), the
// #signout button, the token (kept in sessionStorage under the page's key, so a reload
// stays signed in) and the switch between the form and the page's app. A token found in
// storage is verified quietly: the form comes back only if it is refused. A token refused
// in the middle of the session (`lost`) signs out, saying why. Without a stored token, the
// page tries the password session's cookie (set by /signin, which the form links to) just
// as quietly; signing out of a cookie session ends it on the server.

import { ApiError } from './staff-api.js';
import { UI_LANG } from './staff-lang.js';
import { addPasswordLink, endPasswordSession } from './staff-session.js';

// The link from the token form to the user name and password page.
const PASSWORD_LINK = {
  'pt-BR': 'Entrar com nome de usuário e senha',
  es: 'Iniciar sesión con nombre de usuario y contraseña',
  en: 'Sign in with a user name and password',
};

const $ = (id) => document.getElementById(id);

// `app` is the id of the element shown once signed in; `texts` holds the sentences: empty
// (no token typed), unknown (401), forbidden (403), ended (a stored or used token no longer
// accepted), signIn and signingIn (the button); `forbiddenEnds` says whether a 403 in the
// middle of the session signs out too.
export function createSignin({ storageKey, app, texts, forbiddenEnds }) {
  const el = {
    section: $('signin'),
    form: $('signin-form'),
    token: $('signin-token'),
    submit: $('signin-submit'),
    error: $('signin-error'),
    signout: $('signout'),
    app: $(app),
  };
  let token = null;
  // Signed in through the password session's cookie (no token on this page).
  let cookie = false;
  let page = null;

  function showError(text) {
    el.error.textContent = text || '';
    el.token.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  function setBusy(busy) {
    el.submit.disabled = busy;
    el.submit.textContent = busy ? texts.signingIn : texts.signIn;
  }

  function showApp(visible) {
    el.section.hidden = visible;
    el.app.hidden = !visible;
    el.signout.hidden = !visible;
  }

  // Resolves true once signed in. The page's `verify` fails on a refused token (the form
  // comes back, saying why); what it resolves to goes to its `entered`. A `null` candidate
  // tries the cookie: without a session the form simply shows.
  async function signIn(candidate, fromStorage) {
    token = candidate;
    cookie = candidate === null;
    setBusy(true);
    showError('');
    let outcome;
    try {
      outcome = await page.verify();
    } catch (error) {
      const triedCookie = cookie;
      token = null;
      cookie = false;
      sessionStorage.removeItem(storageKey);
      let text = error.message;
      if (error.status === 401) text = triedCookie ? '' : (fromStorage ? texts.ended : texts.unknown);
      else if (error.status === 403) text = texts.forbidden;
      showApp(false);
      showError(text);
      if (!fromStorage || triedCookie) el.token.focus();
      return false;
    } finally {
      setBusy(false);
    }
    if (candidate !== null) sessionStorage.setItem(storageKey, candidate);
    showApp(true);
    el.token.value = '';
    page.entered(outcome, fromStorage);
    return true;
  }

  function signOut(reason) {
    if (cookie) {
      // Ends the session on the server too; the page empties at once either way.
      endPasswordSession();
      cookie = false;
    }
    token = null;
    sessionStorage.removeItem(storageKey);
    page.left();
    showApp(false);
    showError(reason || '');
    el.token.focus();
  }

  // A refused token in the middle of the session: back to the form, saying why. True when
  // `error` was that.
  function lost(error) {
    if (!(error instanceof ApiError) || (!token && !cookie)) return false;
    if (error.status === 401) { signOut(texts.ended); return true; }
    if (error.status === 403 && forbiddenEnds) { signOut(texts.forbidden); return true; }
    return false;
  }

  // Wires the form and the sign-out button to the page: `verify()` checks the token (with
  // the page's first load), `entered(outcome, fromStorage)` shows the page, `left()`
  // empties it. Resolves like signIn when a stored token is tried, else false.
  function start(callbacks) {
    page = callbacks;
    el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const typed = el.token.value.trim();
      if (!typed) {
        showError(texts.empty);
        el.token.focus();
        return;
      }
      signIn(typed, false);
    });
    el.signout.addEventListener('click', () => signOut(''));
    addPasswordLink(el.form, PASSWORD_LINK[UI_LANG] || PASSWORD_LINK.en, UI_LANG);
    const stored = sessionStorage.getItem(storageKey);
    el.section.hidden = true;
    return signIn(stored || null, true);
  }

  return {
    get token() { return token; },
    get cookie() { return cookie; },
    start, signOut, lost,
  };
}
