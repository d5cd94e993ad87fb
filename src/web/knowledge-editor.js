// Ponte knowledge page: the editor of an article or activity. Opening a document (the list's
// copy at once, then the stored version), a new one, closing it, its heading (with a mark
// for unsaved changes) and its message line; the copies of the documents the page keeps.
// Saving and deleting are knowledge-save.js's.

import { UI_LANG } from './staff-lang.js';
import { api, el, field, session, state } from './knowledge-base.js';
import { fillForm, formSnapshot } from './knowledge-form.js';
import { renderList, sortById } from './knowledge-list.js';
import { t } from './knowledge-texts.js';

export function setMessage(text, kind) {
  el.message.textContent = text || '';
  el.message.classList.toggle('kb-message-error', kind === 'error');
  el.message.classList.toggle('kb-message-ok', kind === 'ok');
}

export function updateHeading() {
  const ed = state.editing;
  if (!ed) {
    el.editorHeading.textContent = t('editorEmpty');
    return;
  }
  let text;
  if (ed.isNew) text = ed.kind === 'article' ? t('newArticle') : t('newActivity');
  else text = `${ed.kind === 'article' ? t('editArticle') : t('editActivity')}: ${ed.original.id}`;
  el.editorHeading.textContent = text;
  if (state.dirty) {
    const mark = document.createElement('span');
    mark.className = 'kb-dirty';
    mark.textContent = ` · ${t('unsaved')}`;
    el.editorHeading.append(mark);
  }
}

export function isDirty() {
  return Boolean(state.editing) && formSnapshot() !== state.snapshot;
}

export function openEditor(kind, doc, isNew) {
  state.editing = { kind, isNew, original: doc };
  state.dirty = false;
  fillForm(kind, doc);
  state.snapshot = formSnapshot();
  const idInput = field('id');
  idInput.readOnly = !isNew;
  idInput.setAttribute('aria-readonly', isNew ? 'false' : 'true');
  el.del.hidden = isNew;
  el.form.hidden = false;
  el.editorEmpty.hidden = true;
  updateHeading();
  renderList();
}

export function closeEditor({ focus = true } = {}) {
  const previous = state.editing;
  state.editing = null;
  state.dirty = false;
  el.form.hidden = true;
  el.form.reset();
  el.source.hidden = true;
  el.editorEmpty.hidden = false;
  updateHeading();
  if (el.app.hidden) return;
  renderList();
  if (focus) {
    const row = previous && !previous.isNew && previous.kind === state.kind
      ? rowFor(previous.original.id) : null;
    (row || el.newButton).focus();
  }
}

function rowFor(id) {
  for (const row of el.list.querySelectorAll('[data-id]')) {
    if (row.dataset.id === id) return row;
  }
  return null;
}

function focusEditor() {
  el.editorHeading.focus({ preventScroll: true });
  const top = el.editorHeading.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.5) {
    el.editorHeading.scrollIntoView({ block: 'start', behavior: 'auto' });
  }
}

export async function openDocument(kind, id) {
  const local = state.items[kind].find((doc) => doc.id === id);
  if (local) {
    openEditor(kind, local, false);
    setMessage('');
    focusEditor();
  }
  // Fetch the stored version: another manager may have changed it since the list loaded.
  const path = `/api/knowledge/${kind === 'article' ? 'articles' : 'activities'}/${encodeURIComponent(id)}`;
  try {
    const { data } = await api('GET', path);
    const doc = stripDoc(data);
    const changed = !local || JSON.stringify(local) !== JSON.stringify(doc);
    replaceLocal(kind, doc);
    const ed = state.editing;
    if (ed && ed.kind === kind && !ed.isNew && ed.original.id === id) {
      // Another manager changed it since the list loaded: show the stored version,
      // unless this manager has already started editing.
      if (changed && !isDirty()) openEditor(kind, doc, false);
      else if (!changed) ed.original = doc;
    } else if (!local) {
      openEditor(kind, doc, false);
      setMessage('');
      focusEditor();
    }
  } catch (error) {
    if (session.lost(error)) return;
    if (error.status === 404) {
      removeLocal(kind, id);
      if (state.editing && state.editing.original.id === id) closeEditor({ focus: false });
      setMessage(t('notFound'), 'error');
      renderList();
    } else {
      setMessage(error.message, 'error');
    }
  }
}

export function stripDoc(data) {
  const doc = Object.assign({}, data || {});
  delete doc.kind;
  return doc;
}

export function replaceLocal(kind, doc) {
  const items = state.items[kind].filter((item) => item.id !== doc.id);
  items.push(doc);
  state.items[kind] = sortById(items);
}

export function removeLocal(kind, id) {
  state.items[kind] = state.items[kind].filter((item) => item.id !== id);
}

export function newDocument() {
  const kind = state.kind;
  const doc = kind === 'article'
    ? { id: '', language: UI_LANG, title: '', summary: '', body: '', tags: [], visibility: 'public' }
    : { id: '', name: {}, visibility: 'public' };
  openEditor(kind, doc, true);
  setMessage('');
  field('id').focus();
  field('id').scrollIntoView({ block: 'center' });
}
