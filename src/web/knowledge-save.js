// Ponte knowledge page: saving and deleting the document in the editor. Checks of the id,
// the confirmation before replacing or deleting one (a modal dialog), and the server's
// refusal told in the reader's language, with the field it names marked.

import { $, api, el, field, session, state } from './knowledge-base.js';
import {
  closeEditor, openEditor, removeLocal, replaceLocal, setMessage, stripDoc,
} from './knowledge-editor.js';
import { clearInvalid, markFieldFromMessage, readForm } from './knowledge-form.js';
import { selectTab } from './knowledge-list.js';
import { t } from './knowledge-texts.js';

function setBusy(busy) {
  state.busy = busy;
  el.save.disabled = busy;
  el.del.disabled = busy;
  el.save.textContent = busy ? t('saving') : t('save');
}

export async function save() {
  if (!state.editing || state.busy) return;
  clearInvalid();
  const { kind, isNew } = state.editing;
  const doc = readForm();
  const idInput = field('id');
  if (!doc.id) {
    idInput.setAttribute('aria-invalid', 'true');
    setMessage(t('needId'), 'error');
    idInput.focus();
    return;
  }
  if (/\s/.test(doc.id)) {
    idInput.setAttribute('aria-invalid', 'true');
    setMessage(t('badId'), 'error');
    idInput.focus();
    return;
  }
  if (isNew && state.items[kind].some((item) => item.id === doc.id)) {
    const kindName = kind === 'article' ? t('kindArticle') : t('kindActivity');
    const ok = await confirmDialog(t('askReplace', kindName, doc.id), t('confirmReplace'));
    if (!ok) { idInput.focus(); return; }
  }
  const path = `/api/knowledge/${kind === 'article' ? 'articles' : 'activities'}/${encodeURIComponent(doc.id)}`;
  setBusy(true);
  setMessage('');
  try {
    const { status, data } = await api('PUT', path, doc);
    const stored = stripDoc(data);
    if (!stored.id) stored.id = doc.id;
    replaceLocal(kind, stored);
    openEditor(kind, stored, false);
    setMessage(status === 201 ? t('created', stored.id) : t('saved', stored.id), 'ok');
    selectTab(kind);
  } catch (error) {
    if (session.lost(error)) return;
    const label = error.code === 'invalid_document' ? markFieldFromMessage(kind, error.detail) : null;
    setMessage(label ? t('fieldInvalid', label.replace(/\s*\(.*\)$/, '')) : error.message, 'error');
  } finally {
    setBusy(false);
  }
}

export async function remove() {
  if (!state.editing || state.editing.isNew || state.busy) return;
  const { kind, original } = state.editing;
  const id = original.id;
  const kindName = kind === 'article' ? t('kindArticle') : t('kindActivity');
  const ok = await confirmDialog(t('askDelete', kindName, id), t('confirmDelete'));
  if (!ok) { el.del.focus(); return; }
  const path = `/api/knowledge/${kind === 'article' ? 'articles' : 'activities'}/${encodeURIComponent(id)}`;
  setBusy(true);
  try {
    await api('DELETE', path);
    removeLocal(kind, id);
    closeEditor({ focus: false });
    setMessage(t('deleted', id), 'ok');
    el.newButton.focus();
  } catch (error) {
    if (session.lost(error)) return;
    if (error.status === 404) {
      removeLocal(kind, id);
      closeEditor({ focus: false });
      setMessage(t('notFound'), 'error');
    } else {
      setMessage(error.message, 'error');
    }
  } finally {
    setBusy(false);
  }
}

// A modal confirmation: resolves true when the manager confirms.
function confirmDialog(text, yesLabel) {
  el.dialogText.textContent = text;
  el.dialogYes.textContent = yesLabel;
  const dialog = el.dialog;
  if (typeof dialog.showModal !== 'function') {
    return Promise.resolve(window.confirm(text));
  }
  return new Promise((resolve) => {
    dialog.returnValue = '';
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    $('kb-confirm-no').focus();
  });
}
