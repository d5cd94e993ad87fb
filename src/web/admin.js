// Ponte admin page (/admin): the wiring. Translates the page, signs the administrator in
// with an access token (the tab's token the other staff pages share is tried quietly
// first), loads what the sections show, moves between the sections (one shown at a time,
// named by the address's #fragment so a section can be linked and the back button works),
// and signs out, by choice or when the server stops taking the token. The sections live in
// admin-people.js, admin-replies.js, admin-settings.js and admin-tokens.js.

import { changed, data, forget, onAuthLoss, reload, storedToken, verify } from './admin-api.js';
import { addPasswordLink } from './staff-session.js';
import * as people from './admin-people.js';
import * as replies from './admin-replies.js';
import * as settings from './admin-settings.js';
import { t, translatePage } from './admin-texts.js';
import * as tokens from './admin-tokens.js';
import { $, announce } from './admin-ui.js';

const SECTIONS = ['people', 'replies', 'desk', 'parameters', 'tokens'];
let signedIn = false;

// ---------------------------------------------------------------- sections

function sectionFromAddress() {
  const wanted = location.hash.replace(/^#/, '');
  return SECTIONS.includes(wanted) ? wanted : SECTIONS[0];
}

/** Shows one section; `focus` moves the focus to its heading (a choice in the nav). */
function show(section, focus) {
  for (const name of SECTIONS) $(name).hidden = name !== section;
  for (const link of document.querySelectorAll('.ad-tabs a')) {
    if (link.getAttribute('href') === `#${section}`) link.setAttribute('aria-current', 'true');
    else link.removeAttribute('aria-current');
  }
  if (focus) $(`${section}-title`).focus();
}

// ---------------------------------------------------------------- session

function showSigninError(text) {
  $('signin-error').textContent = text || '';
  if (text) $('signin-token').setAttribute('aria-invalid', 'true');
  else $('signin-token').removeAttribute('aria-invalid');
}

async function loadAll() {
  // The parameters came with the check of the token.
  await Promise.all(['people', 'projects', 'config', 'quickReplies', 'macros', 'tokens'].map(reload));
  await reload('parameters');
}

async function signIn(token, fromStorage) {
  const button = $('signin-submit');
  button.disabled = true;
  button.textContent = t('signingIn');
  showSigninError('');
  try {
    await verify(token);
  } catch (error) {
    $('signin').hidden = false;
    let text = error.message;
    // No password session either: the form just shows.
    if (token === null && error.status === 401) text = '';
    else if (error.status === 401) text = fromStorage ? t('sessionEnded') : t('tokenUnknown');
    else if (error.status === 403) text = t('tokenForbidden');
    showSigninError(text);
    if (!fromStorage || token === null) $('signin-token').focus();
    return;
  } finally {
    button.disabled = false;
    button.textContent = t('signIn');
  }
  signedIn = true;
  $('signin-token').value = '';
  $('signin').hidden = true;
  $('app').hidden = false;
  $('signout').hidden = false;
  announce(t('loading'));
  $('app').setAttribute('aria-busy', 'true');
  try {
    await loadAll();
    announce('');
  } catch (error) {
    if (signedIn) announce(error.message, true);
  } finally {
    $('app').removeAttribute('aria-busy');
  }
  show(sectionFromAddress(), false);
  $('main').focus({ preventScroll: true });
}

function signOut(reason) {
  signedIn = false;
  forget();
  people.reset();
  replies.reset();
  tokens.reset();
  // Nothing of the session stays in the page, not even hidden.
  for (const part of Object.keys(data)) {
    data[part] = part === 'config' ? null : [];
    changed.dispatchEvent(new CustomEvent('change', { detail: part }));
  }
  announce('');
  $('app').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  showSigninError(reason || '');
  $('signin-token').focus();
}

// ---------------------------------------------------------------- start

function start() {
  translatePage();
  people.init();
  replies.init();
  settings.init();
  tokens.init();
  onAuthLoss(() => {
    if (signedIn) signOut(t('sessionEnded'));
  });
  $('signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('signin-token').value.trim();
    if (!token) {
      showSigninError(t('tokenEmpty'));
      $('signin-token').focus();
      return;
    }
    signIn(token, false);
  });
  $('signout').addEventListener('click', () => signOut(''));
  window.addEventListener('hashchange', () => {
    // Only a section's name switches: the skip link's #main is no section.
    if (signedIn && SECTIONS.includes(location.hash.slice(1))) show(sectionFromAddress(), true);
  });
  addPasswordLink($('signin-form'), t('passwordSignIn'), document.documentElement.lang || 'en');
  // A stored token, else the password session's cookie, is checked quietly; the form comes
  // back only if neither is accepted.
  $('signin').hidden = true;
  signIn(storedToken() || null, true);
}

start();
