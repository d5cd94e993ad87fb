// Ponte reports and knowledge-gaps pages: what both pages stand on. Their API client and
// sign-in (administrators and knowledge managers, the token shared with the console and the
// knowledge page), the status line, loading the page for the picked period, the CSV
// download (fetched with the token, saved through a blob link: a plain link cannot carry
// the token) and `make`, which builds an element. A page calls `start({ t, titleKey, load,
// reset })`. Every text from the server is put in the page with textContent, never as HTML.

import { createApi } from './staff-api.js';
import { translatePage } from './staff-lang.js';
import { initPicker, period } from './staff-period.js';
import { createSignin } from './staff-signin.js';
import { fmt } from './reports-format.js';
import { t } from './reports-texts.js';

export const session = createSignin({
  // The same key as the console and the knowledge page: one sign-in per tab for all of them.
  storageKey: 'ponte.token',
  app: 'app',
  forbiddenEnds: true,
  texts: {
    empty: t('tokenEmpty'),
    unknown: t('tokenUnknown'),
    forbidden: t('tokenForbidden'),
    ended: t('sessionEnded'),
    signIn: t('signIn'),
    signingIn: t('signingIn'),
  },
});

const client = createApi({
  token: () => session.token,
  network: t('network'),
  rateLimited: (seconds) => t('rateLimited', seconds),
  codes: { invalid_period: t('invalidPeriod') },
});

// The JSON answer to `method path`.
export async function api(method, path, body) {
  return (await client.json(method, path, body)).data;
}

export function make(tag, className, text) {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

// Fetches a CSV with the token and saves it through a blob link; `status` (an element
// next to the button) then says so and keeps the link to save it again.
export async function downloadCsv(path, filename, status) {
  status.classList.remove('rp-error');
  try {
    const blob = await (await client.send('GET', path, undefined, 'text/csv')).blob();
    const old = status.querySelector('a.rp-csv-link');
    if (old) URL.revokeObjectURL(old.href);
    const link = document.createElement('a');
    link.className = 'rp-csv-link';
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    link.textContent = t('csvAgain');
    status.replaceChildren(document.createTextNode(`${t('csvReady', filename)} `), link);
    link.click();
  } catch (error) {
    if (session.lost(error)) return;
    status.classList.add('rp-error');
    status.textContent = error.message;
  }
}

// ---------------------------------------------------------------- loading

const app = document.getElementById('app');
const status = document.getElementById('status');
let page = null;
let loading = null;
let again = false;

function setStatus(text, isError) {
  status.textContent = text || '';
  status.classList.toggle('rp-error', Boolean(isError));
}

function periodShown() {
  const p = period();
  setStatus(t('periodShown', fmt.day(p.since), fmt.day(p.until), p.tz.replace(/_/g, ' ')));
}

// Loads the page for the period; one load at a time, the last asked for wins.
async function reload() {
  if (!session.token) return;
  const { since, until } = period();
  if (!since || !until || since > until) { setStatus(t('invalidPeriod'), true); return; }
  if (loading) { again = true; return; }
  setStatus(t('loading'));
  app.setAttribute('aria-busy', 'true');
  loading = page.load();
  try {
    await loading;
    periodShown();
  } catch (error) {
    if (!session.lost(error)) setStatus(error.message || t('reportFailed'), true);
  } finally {
    loading = null;
    app.setAttribute('aria-busy', 'false');
    if (again) { again = false; reload(); }
  }
}

// The page: `t` its texts, `titleKey` the key of its name, `load()` loads and shows the
// period picked, `reset()` empties the page when signing out.
export function start(described) {
  page = described;
  translatePage(page.t, `Ponte · ${page.t(page.titleKey)}`);
  initPicker(reload);
  session.start({
    // A refused token or no server: back to the form. Anything else (a period the server
    // cannot read) is the page's to show.
    async verify() {
      try {
        await page.load();
        return null;
      } catch (error) {
        if ([0, 401, 403].includes(error.status)) throw error;
        return error;
      }
    },
    entered(failed) {
      if (failed) setStatus(failed.message || t('reportFailed'), true);
      else periodShown();
      document.getElementById('main').focus({ preventScroll: true });
    },
    left() {
      page.reset();
      setStatus('');
    },
  });
}
