// Ponte knowledge page: the page's elements, the shared state, the HTTP client,
// signing in and out, and the lists of articles and activities.
'use strict';

(() => {
  const K = (window.PonteKnowledge = window.PonteKnowledge || {});
  const { LANGS, TOKEN_KEY, UI_LANG } = K;
  // Functions of the sibling files, looked up when called (they may load later).
  const closeEditor = (...args) => K.closeEditor(...args);
  const loadReindexHistory = (...args) => K.loadReindexHistory(...args);
  const poll = (...args) => K.poll(...args);
  const save = (...args) => K.save(...args);
  const setMessage = (...args) => K.setMessage(...args);
  const setReindexBusy = (...args) => K.setReindexBusy(...args);
  const stopPolling = (...args) => K.stopPolling(...args);
  const t = (...args) => K.t(...args);

  // ---------------------------------------------------------------- elements

  const $ = (id) => document.getElementById(id);
  const el = {
    signin: $('signin'),
    signinForm: $('signin-form'),
    token: $('signin-token'),
    signinSubmit: $('signin-submit'),
    signinError: $('signin-error'),
    signout: $('signout'),
    app: $('knowledge'),
    tabs: [$('kb-tab-articles'), $('kb-tab-activities')],
    panel: $('kb-panel'),
    filter: $('kb-filter'),
    count: $('kb-count'),
    list: $('kb-list'),
    newButton: $('kb-new'),
    editorHeading: $('kb-editor-heading'),
    editorEmpty: $('kb-editor-empty'),
    form: $('kb-editor'),
    save: $('kb-save'),
    cancel: $('kb-cancel'),
    del: $('kb-delete'),
    message: $('kb-message'),
    source: $('kb-source'),
    reindex: $('reindex'),
    reindexStatus: $('reindex-status'),
    reindexProgress: $('reindex-progress'),
    reindexErrors: $('reindex-errors'),
    reindexErrorsHeading: $('reindex-errors-heading'),
    dialog: $('kb-confirm'),
    dialogText: $('kb-confirm-text'),
    dialogYes: $('kb-confirm-yes'),
  };
  const field = (name) => $(`kb-field-${name}`);

  // ---------------------------------------------------------------- state

  const state = {
    token: null,
    kind: 'article', // the tab shown
    items: { article: [], activity: [] },
    loaded: { article: false, activity: false },
    editing: null, // {kind, isNew, original}
    dirty: false,
    busy: false,
    poll: null, // {id, timer}
    rovingId: null,
    snapshot: '',
  };

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
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
    let data = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!response.ok) {
      // The server's own message is English for developers: the page says what the code
      // means, and keeps the message as `detail` (it names the field a document lacks).
      const detail = data && typeof data.message === 'string' ? data.message : '';
      const code = data && typeof data.code === 'string' ? data.code : '';
      let message = window.PonteErrors.text(code, UI_LANG, response.status);
      if (response.status === 429) {
        const retry = response.headers.get('Retry-After') || '1';
        message = t('rateLimited', retry);
      }
      const error = new ApiError(response.status, code, message);
      error.detail = detail;
      throw error;
    }
    return { status: response.status, data };
  }

  // A 401 in the middle of the session: the token was revoked or the server restarted
  // with other tokens. Back to the sign-in form with an explanation.
  function handleAuthLoss(error) {
    if (error instanceof ApiError && error.status === 401 && state.token) {
      signOut(t('sessionEnded'));
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- sign in

  function setSigninBusy(busy) {
    el.signinSubmit.disabled = busy;
    el.signinSubmit.textContent = busy ? t('signingIn') : t('signIn');
  }

  function showSigninError(text) {
    el.signinError.textContent = text || '';
    el.token.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  async function signIn(token, { fromStorage = false } = {}) {
    state.token = token;
    setSigninBusy(true);
    showSigninError('');
    try {
      const { data } = await api('GET', '/api/knowledge/articles');
      sessionStorage.setItem(TOKEN_KEY, token);
      state.items.article = sortById((data && data.articles) || []);
      state.loaded.article = true;
      enterApp();
    } catch (error) {
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      let text = error.message;
      if (error.status === 401) text = t('tokenUnknown');
      else if (error.status === 403) text = t('tokenForbidden');
      showSigninError(fromStorage && error.status === 401 ? t('sessionEnded') : text);
      el.signin.hidden = false;
      el.app.hidden = true;
      if (!fromStorage) el.token.focus();
    } finally {
      setSigninBusy(false);
    }
  }

  function enterApp() {
    el.signin.hidden = true;
    el.app.hidden = false;
    el.signout.hidden = false;
    el.token.value = '';
    renderList();
    loadActivities();
    loadReindexHistory();
    el.tabs[state.kind === 'article' ? 0 : 1].focus();
  }

  function signOut(reason) {
    stopPolling();
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    state.items = { article: [], activity: [] };
    state.loaded = { article: false, activity: false };
    closeEditor({ focus: false });
    setMessage('');
    el.list.replaceChildren();
    el.count.textContent = '';
    el.filter.value = '';
    el.reindexStatus.replaceChildren();
    el.reindexProgress.hidden = true;
    el.reindexErrors.replaceChildren();
    el.reindexErrorsHeading.hidden = true;
    setReindexBusy(false);
    el.app.hidden = true;
    el.signout.hidden = true;
    el.signin.hidden = false;
    showSigninError(reason || '');
    el.token.focus();
  }

  // ---------------------------------------------------------------- lists

  function sortById(items) {
    return items.slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }

  async function loadArticles() {
    try {
      const { data } = await api('GET', '/api/knowledge/articles');
      state.items.article = sortById((data && data.articles) || []);
      state.loaded.article = true;
      if (state.kind === 'article') renderList();
    } catch (error) {
      if (!handleAuthLoss(error)) listError(error);
    }
  }

  async function loadActivities() {
    try {
      const { data } = await api('GET', '/api/activities');
      state.items.activity = sortById((data && data.activities) || []);
      state.loaded.activity = true;
      if (state.kind === 'activity') renderList();
    } catch (error) {
      if (!handleAuthLoss(error)) listError(error);
    }
  }

  function listError(error) {
    el.count.textContent = `${t('loadFailed')} ${error.message}`;
  }

  function perLang(map) {
    if (!map || typeof map !== 'object') return '';
    return map[UI_LANG] || map['pt-BR'] || map.es || map.en || '';
  }

  function titleOf(kind, doc) {
    if (kind === 'article') return doc.title || doc.id;
    return perLang(doc.name) || doc.id;
  }

  function visibilityText(visibility) {
    if (Array.isArray(visibility)) return visibility.join(', ');
    return '';
  }

  function haystack(kind, doc) {
    const parts = [doc.id, visibilityText(doc.visibility)];
    if (kind === 'article') {
      parts.push(doc.title, doc.topic, doc.summary, doc.language, doc.url, (doc.tags || []).join(' '));
    } else {
      for (const map of [doc.name, doc.description]) {
        if (map) parts.push(...Object.values(map));
      }
      if (doc.examples) for (const list of Object.values(doc.examples)) parts.push(...(list || []));
      parts.push(doc.category, doc.contract, doc.group);
    }
    return fold(parts.filter(Boolean).join(' \u0001 '));
  }

  function fold(text) {
    return String(text).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  }

  function renderList() {
    const kind = state.kind;
    const items = state.items[kind];
    const words = fold(el.filter.value.trim()).split(/\s+/).filter(Boolean);
    const shown = words.length
      ? items.filter((doc) => { const text = haystack(kind, doc); return words.every((w) => text.includes(w)); })
      : items;
    const activeId = state.editing && !state.editing.isNew && state.editing.kind === kind
      ? state.editing.original.id : null;

    const rows = shown.map((doc) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'kb-row';
      button.dataset.id = doc.id;
      button.dataset.kind = kind;
      if (doc.id === activeId) button.setAttribute('aria-current', 'true');

      const title = document.createElement('span');
      title.className = 'kb-row-title';
      title.textContent = titleOf(kind, doc);
      if (kind === 'article' && LANGS.includes(doc.language)) title.lang = doc.language;
      const meta = document.createElement('span');
      meta.className = 'kb-row-meta';
      const id = document.createElement('span');
      id.className = 'kb-row-id';
      id.textContent = doc.id;
      meta.append(id);
      const badges = [];
      if (kind === 'article' && doc.language) badges.push(doc.language);
      if (kind === 'activity') {
        const langs = LANGS.filter((l) => doc.name && doc.name[l]);
        if (langs.length) badges.push(langs.join(' · '));
        if (doc.group) badges.push(doc.group);
      }
      const groups = visibilityText(doc.visibility);
      for (const text of badges) {
        const badge = document.createElement('span');
        badge.className = 'kb-badge';
        badge.textContent = text;
        meta.append(badge);
      }
      if (groups) {
        const badge = document.createElement('span');
        badge.className = 'kb-badge kb-badge-restricted';
        badge.textContent = `${t('restricted')}: ${groups}`;
        badge.title = t('restrictedHint');
        meta.append(badge);
      }
      button.append(title, meta);
      li.append(button);
      return li;
    });
    el.list.replaceChildren(...rows);
    // One tab stop for the whole list (the open row, else the last focused, else the
    // first); arrow keys move between rows.
    const buttons = rows.map((li) => li.firstChild);
    const stop = buttons.find((b) => b.dataset.id === activeId)
      || buttons.find((b) => b.dataset.id === state.rovingId)
      || buttons[0];
    for (const b of buttons) b.tabIndex = b === stop ? 0 : -1;

    if (!state.loaded[kind]) el.count.textContent = t('loading');
    else if (!items.length) el.count.textContent = t('emptyList');
    else if (!shown.length) el.count.textContent = t('noMatch');
    else if (shown.length === items.length) el.count.textContent = t('countAll', items.length);
    else el.count.textContent = t('countSome', shown.length, items.length);
  }

  function selectTab(kind, { focus = false } = {}) {
    state.kind = kind;
    for (const tab of el.tabs) {
      const on = tab.dataset.kind === kind;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      if (on) {
        el.panel.setAttribute('aria-labelledby', tab.id);
        if (focus) tab.focus();
      }
    }
    renderList();
  }

  Object.assign(K, {
    api, handleAuthLoss, setSigninBusy, showSigninError, signIn, enterApp, signOut, sortById,
    loadArticles, loadActivities, listError, perLang, titleOf, visibilityText, haystack, fold,
    renderList, selectTab, $, el, field, state, ApiError,
  });
})();
