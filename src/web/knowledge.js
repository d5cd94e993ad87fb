// Ponte knowledge page: knowledge managers list, edit, create and delete articles and
// activities, and run a full reindex while watching its progress and per-file errors.
// Plain ES2020 modules, no framework. Every text that comes from a user or the server is
// put in the page with textContent / .value / createElement, never as HTML.
// This module wires the page: signing in and out, a draft handed over by the gaps page,
// and the editor's controls. Its parts: knowledge-base.js (elements, state, API, sign-in),
// knowledge-list.js, knowledge-editor.js, knowledge-form.js, knowledge-save.js and
// knowledge-reindex.js.

import { translatePage, UI_LANG } from './staff-lang.js';
import { api, el, field, session, state } from './knowledge-base.js';
import {
  closeEditor, isDirty, newDocument, openDocument, openEditor, setMessage, updateHeading,
} from './knowledge-editor.js';
import { setArticleLang } from './knowledge-form.js';
import { loadActivities, renderList, selectTab, sortById } from './knowledge-list.js';
import { clearReindex, loadReindexHistory } from './knowledge-reindex.js';
import { remove, save } from './knowledge-save.js';
import { t } from './knowledge-texts.js';

// ---------------------------------------------------------------- a draft

// A draft article the knowledge-gaps page (gaps-actions.js) hands over: once signed in, it opens
// as a new article, unsaved, for the manager to give an id, write and save.
const DRAFT_KEY = 'ponte.knowledge.draft';

function openDraft() {
  if (el.app.hidden) return;
  let draft = null;
  try { draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || 'null'); } catch (_) { draft = null; }
  sessionStorage.removeItem(DRAFT_KEY);
  if (!draft || typeof draft !== 'object') return;
  selectTab('article');
  openEditor('article', {
    id: '', language: draft.language || UI_LANG, title: String(draft.title || ''), summary: '',
    body: String(draft.body || ''), tags: [], visibility: 'public',
  }, true);
  state.snapshot = '';
  state.dirty = true;
  updateHeading();
  setMessage(t('draftOpened'), 'ok');
  field('id').focus();
}

// ---------------------------------------------------------------- signing in and out

// The token is checked by loading the articles.
async function verify() {
  const { data } = await api('GET', '/api/knowledge/articles');
  state.items.article = sortById((data && data.articles) || []);
  state.loaded.article = true;
}

function entered() {
  renderList();
  loadActivities();
  loadReindexHistory();
  el.tabs[state.kind === 'article' ? 0 : 1].focus();
  openDraft();
}

function left() {
  state.items = { article: [], activity: [] };
  state.loaded = { article: false, activity: false };
  closeEditor({ focus: false });
  setMessage('');
  el.list.replaceChildren();
  el.count.textContent = '';
  el.filter.value = '';
  clearReindex();
}

// ---------------------------------------------------------------- editor controls

el.list.addEventListener('click', (event) => {
  const row = event.target.closest('[data-id]');
  if (row && el.list.contains(row)) openDocument(row.dataset.kind, row.dataset.id);
});
el.newButton.addEventListener('click', newDocument);
el.form.addEventListener('submit', (event) => { event.preventDefault(); save(); });
const markDirty = () => {
  const dirty = isDirty();
  if (dirty !== state.dirty) { state.dirty = dirty; updateHeading(); }
};
el.form.addEventListener('input', markDirty);
el.form.addEventListener('change', markDirty);
field('language').addEventListener('change', setArticleLang);
el.cancel.addEventListener('click', () => { setMessage(''); closeEditor(); });
el.del.addEventListener('click', remove);
el.form.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === 's') { event.preventDefault(); save(); }
});

// ---------------------------------------------------------------- start

translatePage(t);
session.start({ verify, entered, left });
