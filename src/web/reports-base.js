// Ponte reports and knowledge-gaps pages: what both pages stand on. The HTTP client with
// the bearer token, signing in and out, the period picker (last 7/30/90 days or custom
// dates, in a time zone that defaults to the browser's), number, date and duration formats,
// and the CSV download (fetched with the token, saved through a blob link: a plain link
// cannot carry the token). A page calls `PonteInsight.start({ titleKey, load, reset })`.
// Every text from the server is put in the page with textContent, never as HTML.
'use strict';

(() => {
  const I = window.PonteInsight;
  const { t, TOKEN_KEY, PERIOD_KEY, UI_LANG } = I;

  const $ = (id) => document.getElementById(id);
  const el = {
    signin: $('signin'),
    signinForm: $('signin-form'),
    token: $('signin-token'),
    signinSubmit: $('signin-submit'),
    signinError: $('signin-error'),
    signout: $('signout'),
    app: $('app'),
    periodForm: $('period'),
    preset: $('period-preset'),
    since: $('period-since'),
    until: $('period-until'),
    tz: $('period-tz'),
    custom: $('period-custom'),
    status: $('status'),
  };

  const state = { token: null, page: null, loading: null, again: false };

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // The sentence for a failed answer, in the page's language.
  async function failure(response) {
    let data = null;
    try { data = JSON.parse(await response.text()); } catch (_) { data = null; }
    const code = data && typeof data.code === 'string' ? data.code : '';
    let message = window.PonteErrors.text(code, UI_LANG, response.status);
    if (code === 'invalid_period') message = t('invalidPeriod');
    if (response.status === 429) message = t('rateLimited', response.headers.get('Retry-After') || '1');
    return new ApiError(response.status, code, message);
  }

  async function send(method, path, body, accept) {
    const headers = { Accept: accept };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw new ApiError(0, 'network', t('network'));
    }
    if (!response.ok) throw await failure(response);
    return response;
  }

  async function api(method, path, body) {
    const response = await send(method, path, body, 'application/json');
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  // Fetches a CSV with the token and saves it through a blob link; `status` (an element
  // next to the button) then says so and keeps the link to save it again.
  async function downloadCsv(path, filename, status) {
    status.classList.remove('rp-error');
    try {
      const blob = await (await send('GET', path, undefined, 'text/csv')).blob();
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
      if (handleAuthLoss(error)) return;
      status.classList.add('rp-error');
      status.textContent = error.message;
    }
  }

  // A refused token in the middle of the session: back to the sign-in form, saying why.
  function handleAuthLoss(error) {
    if (!(error instanceof ApiError) || !state.token) return false;
    if (error.status === 401) { signOut(t('sessionEnded')); return true; }
    if (error.status === 403) { signOut(t('tokenForbidden')); return true; }
    return false;
  }

  // ---------------------------------------------------------------- formats

  const integer = new Intl.NumberFormat(UI_LANG);
  const percent = new Intl.NumberFormat(UI_LANG, { style: 'percent', maximumFractionDigits: 1 });
  const decimal = new Intl.NumberFormat(UI_LANG, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const fmt = {
    int: (n) => integer.format(n || 0),
    percent: (x) => percent.format(x || 0),
    rating: (x) => (x == null ? t('none') : decimal.format(x)),
    duration(ms) {
      if (ms == null) return t('none');
      if (ms > 0 && ms < 100) return `< ${decimal.format(0.1)} s`;
      if (ms > 0 && ms < 950) return `${decimal.format(ms / 1000)} s`;
      const seconds = Math.round(ms / 1000);
      if (seconds < 60) return `${seconds} s`;
      const minutes = Math.floor(seconds / 60);
      if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
      return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes / 60} h`;
    },
    // A report day (YYYY-MM-DD) as the reader writes dates.
    day: (day, options) => new Date(`${day}T12:00:00Z`).toLocaleDateString(UI_LANG,
      Object.assign({ timeZone: 'UTC' }, options || { day: 'numeric', month: 'short', year: 'numeric' })),
    dateTime: (ms) => (ms == null ? t('none') : new Date(ms).toLocaleString(UI_LANG,
      { timeZone: period().tz, dateStyle: 'short', timeStyle: 'short' })),
  };

  // ---------------------------------------------------------------- period

  const browserZone = (() => {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (_) { return 'UTC'; }
  })();

  // Today in `zone`, as YYYY-MM-DD.
  function today(zone) {
    try {
      return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
        .format(new Date());
    } catch (_) {
      return new Date().toISOString().slice(0, 10);
    }
  }

  function addDays(day, n) {
    const date = new Date(`${day}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + n);
    return date.toISOString().slice(0, 10);
  }

  function fillZones(saved) {
    let zones = [];
    try { zones = Intl.supportedValuesOf('timeZone'); } catch (_) { zones = []; }
    const all = Array.from(new Set(['UTC', browserZone, saved, ...zones].filter(Boolean))).sort();
    el.tz.replaceChildren(...all.map((zone) => {
      const option = document.createElement('option');
      option.value = zone;
      option.textContent = zone.replace(/_/g, ' ');
      return option;
    }));
    el.tz.value = saved || browserZone;
  }

  // The period the picker shows: whole days, `until` included.
  function period() {
    const tz = el.tz.value || 'UTC';
    if (el.preset.value === 'custom') return { since: el.since.value, until: el.until.value, tz };
    const until = today(tz);
    return { since: addDays(until, 1 - Number(el.preset.value)), until, tz };
  }

  // The period as the API takes it: a period that reaches today ends now (the server's
  // default), so time online is not counted into the hours still to come.
  function bounds() {
    const { since, until, tz } = period();
    return until >= today(tz) ? { since, tz } : { since, until, tz };
  }

  function periodQuery(extra) {
    return new URLSearchParams(Object.assign(bounds(), extra || {})).toString();
  }

  function syncPicker() {
    const custom = el.preset.value === 'custom';
    el.custom.hidden = !custom;
    if (!custom) {
      const { since, until } = period();
      el.since.value = since;
      el.until.value = until;
    }
    sessionStorage.setItem(PERIOD_KEY, JSON.stringify({
      preset: el.preset.value, since: el.since.value, until: el.until.value, tz: el.tz.value,
    }));
  }

  function initPicker() {
    let saved = {};
    try { saved = JSON.parse(sessionStorage.getItem(PERIOD_KEY) || '{}') || {}; } catch (_) { saved = {}; }
    fillZones(saved.tz);
    if (['7', '30', '90', 'custom'].includes(saved.preset)) el.preset.value = saved.preset;
    if (saved.since) el.since.value = saved.since;
    if (saved.until) el.until.value = saved.until;
    syncPicker();
    el.preset.addEventListener('change', () => { syncPicker(); if (el.preset.value !== 'custom') reload(); });
    el.tz.addEventListener('change', () => { syncPicker(); reload(); });
    for (const input of [el.since, el.until]) input.addEventListener('change', () => { syncPicker(); reload(); });
    el.periodForm.addEventListener('submit', (event) => { event.preventDefault(); syncPicker(); reload(); });
  }

  function setStatus(text, isError) {
    el.status.textContent = text || '';
    el.status.classList.toggle('rp-error', Boolean(isError));
  }

  // Loads the page for the period; one load at a time, the last asked for wins.
  async function reload() {
    if (!state.token) return;
    const { since, until } = period();
    if (!since || !until || since > until) { setStatus(t('invalidPeriod'), true); return; }
    if (state.loading) { state.again = true; return; }
    setStatus(t('loading'));
    el.app.setAttribute('aria-busy', 'true');
    state.loading = state.page.load();
    try {
      await state.loading;
      const p = period();
      setStatus(t('periodShown', fmt.day(p.since), fmt.day(p.until), p.tz.replace(/_/g, ' ')));
    } catch (error) {
      if (!handleAuthLoss(error)) setStatus(error.message || t('reportFailed'), true);
    } finally {
      state.loading = null;
      el.app.setAttribute('aria-busy', 'false');
      if (state.again) { state.again = false; reload(); }
    }
  }

  // ---------------------------------------------------------------- sign in

  function showSigninError(text) {
    el.signinError.textContent = text || '';
    el.token.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  async function signIn(token, fromStorage) {
    state.token = token;
    el.signinSubmit.disabled = true;
    el.signinSubmit.textContent = t('signingIn');
    showSigninError('');
    let failed = null;
    try {
      await state.page.load();
    } catch (error) {
      failed = error;
    } finally {
      el.signinSubmit.disabled = false;
      el.signinSubmit.textContent = t('signIn');
    }
    // A refused token or no server: back to the form. Anything else (a period the server
    // cannot read) is the page's to show.
    if (failed && [0, 401, 403].includes(failed.status)) {
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      let text = failed.message;
      if (failed.status === 401) text = fromStorage ? t('sessionEnded') : t('tokenUnknown');
      else if (failed.status === 403) text = t('tokenForbidden');
      el.signin.hidden = false;
      el.app.hidden = true;
      showSigninError(text);
      if (!fromStorage) el.token.focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    el.signin.hidden = true;
    el.app.hidden = false;
    el.signout.hidden = false;
    el.token.value = '';
    const p = period();
    if (failed) setStatus(failed.message || t('reportFailed'), true);
    else setStatus(t('periodShown', fmt.day(p.since), fmt.day(p.until), p.tz.replace(/_/g, ' ')));
    $('main').focus({ preventScroll: true });
  }

  function signOut(reason) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    state.page.reset();
    setStatus('');
    el.app.hidden = true;
    el.signout.hidden = true;
    el.signin.hidden = false;
    showSigninError(reason || '');
    el.token.focus();
  }

  function start(page) {
    state.page = page;
    I.translatePage(page.titleKey);
    initPicker();
    el.signinForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = el.token.value.trim();
      if (!token) { showSigninError(t('tokenEmpty')); el.token.focus(); return; }
      signIn(token, false);
    });
    el.signout.addEventListener('click', () => signOut(''));
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) {
      // Verify quietly; the form comes back only if the token is refused.
      el.signin.hidden = true;
      signIn(stored, true);
    } else {
      el.token.focus();
    }
  }

  Object.assign(I, {
    $, el, state, ApiError, api, downloadCsv, handleAuthLoss, fmt, period, bounds, periodQuery, reload,
    setStatus, start,
  });
})();
