// Ponte knowledge page: the lists of articles and activities. Loading them, the tabs that
// switch between them, the filter, and the rows (one tab stop for the list, arrow keys move
// between rows); opening a row is the editor's (knowledge-editor.js).

import { LANGS, UI_LANG } from './staff-lang.js';
import { api, el, session, state } from './knowledge-base.js';
import { t } from './knowledge-texts.js';

export function sortById(items) {
  return items.slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

export async function loadArticles() {
  try {
    const { data } = await api('GET', '/api/knowledge/articles');
    state.items.article = sortById((data && data.articles) || []);
    state.loaded.article = true;
    if (state.kind === 'article') renderList();
  } catch (error) {
    if (!session.lost(error)) listError(error);
  }
}

export async function loadActivities() {
  try {
    const { data } = await api('GET', '/api/activities');
    state.items.activity = sortById((data && data.activities) || []);
    state.loaded.activity = true;
    if (state.kind === 'activity') renderList();
  } catch (error) {
    if (!session.lost(error)) listError(error);
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

export function renderList() {
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

export function selectTab(kind, { focus = false } = {}) {
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

// ---------------------------------------------------------------- tabs, filter, rows

for (const tab of el.tabs) {
  tab.addEventListener('click', () => selectTab(tab.dataset.kind));
  tab.addEventListener('keydown', (event) => {
    const index = el.tabs.indexOf(tab);
    let next = null;
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = el.tabs[(index + 1) % el.tabs.length];
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = el.tabs[(index + el.tabs.length - 1) % el.tabs.length];
    else if (event.key === 'Home') next = el.tabs[0];
    else if (event.key === 'End') next = el.tabs[el.tabs.length - 1];
    if (next) {
      event.preventDefault();
      selectTab(next.dataset.kind, { focus: true });
    }
  });
}

el.filter.addEventListener('input', () => renderList());
el.filter.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && el.filter.value) {
    el.filter.value = '';
    renderList();
  } else if (event.key === 'ArrowDown') {
    const first = el.list.querySelector('[data-id]');
    const stop = el.list.querySelector('[data-id][tabindex="0"]') || first;
    if (stop) { event.preventDefault(); stop.focus(); }
  }
});

// Rows are buttons (Enter and Space open them natively); arrows move between rows.
el.list.addEventListener('keydown', (event) => {
  const row = event.target.closest('[data-id]');
  if (!row) return;
  const rows = Array.from(el.list.querySelectorAll('[data-id]'));
  const index = rows.indexOf(row);
  let next = null;
  if (event.key === 'ArrowDown') next = rows[index + 1];
  else if (event.key === 'ArrowUp') next = index > 0 ? rows[index - 1] : el.filter;
  else if (event.key === 'Home') next = rows[0];
  else if (event.key === 'End') next = rows[rows.length - 1];
  if (next) {
    event.preventDefault();
    if (next !== el.filter) {
      row.tabIndex = -1;
      next.tabIndex = 0;
      state.rovingId = next.dataset.id;
    }
    next.focus();
  }
});
el.list.addEventListener('focusin', (event) => {
  const row = event.target.closest('[data-id]');
  if (!row) return;
  state.rovingId = row.dataset.id;
  for (const other of el.list.querySelectorAll('[data-id]')) other.tabIndex = other === row ? 0 : -1;
});
