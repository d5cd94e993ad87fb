// Ponte knowledge page: the editor of an article or activity (open, fill, save,
// create, delete).
'use strict';

(() => {
  const K = (window.PonteKnowledge = window.PonteKnowledge || {});
  const { $, el, field, LANGS, state, UI_LANG } = K;
  // Functions of the sibling files, looked up when called (they may load later).
  const api = (...args) => K.api(...args);
  const handleAuthLoss = (...args) => K.handleAuthLoss(...args);
  const renderList = (...args) => K.renderList(...args);
  const selectTab = (...args) => K.selectTab(...args);
  const sortById = (...args) => K.sortById(...args);
  const t = (...args) => K.t(...args);

  // ---------------------------------------------------------------- editor

  const ARTICLE_TEXT = ['title', 'topic', 'url', 'summary', 'body'];
  const ACTIVITY_TEXT = ['category', 'contract', 'group'];

  function setMessage(text, kind) {
    el.message.textContent = text || '';
    el.message.classList.toggle('kb-message-error', kind === 'error');
    el.message.classList.toggle('kb-message-ok', kind === 'ok');
  }

  function clearInvalid() {
    for (const input of el.form.querySelectorAll('[aria-invalid="true"]')) {
      input.removeAttribute('aria-invalid');
    }
  }

  function setKindSections(kind) {
    for (const part of el.form.querySelectorAll('.kb-only-article')) part.hidden = kind !== 'article';
    for (const part of el.form.querySelectorAll('.kb-only-activity')) part.hidden = kind !== 'activity';
    // Hidden inputs must not be submitted or validated.
    for (const input of el.form.querySelectorAll('.kb-only-article input, .kb-only-article select, .kb-only-article textarea')) {
      input.disabled = kind !== 'article';
    }
    for (const input of el.form.querySelectorAll('.kb-only-activity input, .kb-only-activity textarea')) {
      input.disabled = kind !== 'activity';
    }
  }

  function updateHeading() {
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

  function fillForm(kind, doc) {
    el.form.reset();
    clearInvalid();
    setKindSections(kind);
    field('id').value = doc.id || '';
    const vis = doc.visibility;
    field('visibility').value = Array.isArray(vis) ? vis.join(', ') : (vis || 'public');
    if (kind === 'article') {
      field('language').value = LANGS.includes(doc.language) ? doc.language : UI_LANG;
      for (const name of ARTICLE_TEXT) field(name).value = doc[name] || '';
      field('tags').value = (doc.tags || []).join(', ');
      setArticleLang();
    } else {
      for (const name of ACTIVITY_TEXT) field(name).value = doc[name] || '';
      for (const lang of LANGS) {
        field(`name-${lang}`).value = (doc.name && doc.name[lang]) || '';
        field(`description-${lang}`).value = (doc.description && doc.description[lang]) || '';
        field(`examples-${lang}`).value = ((doc.examples && doc.examples[lang]) || []).join('\n');
      }
    }
    if (doc.source_path) {
      el.source.textContent = t('source', doc.source_path);
      el.source.hidden = false;
    } else {
      el.source.textContent = '';
      el.source.hidden = true;
    }
  }

  // Spell checking and screen readers follow the article's language.
  function setArticleLang() {
    const lang = field('language').value;
    for (const name of ['title', 'summary', 'body', 'tags']) field(name).lang = lang;
  }

  // Every control's value: what the form holds, to tell whether the manager changed it
  // (input events alone miss programmatic edits such as a WebDriver clear()).
  function formSnapshot() {
    return JSON.stringify(Array.from(el.form.elements, (control) => control.value === undefined ? '' : control.value));
  }

  function isDirty() {
    return Boolean(state.editing) && formSnapshot() !== state.snapshot;
  }

  function openEditor(kind, doc, isNew) {
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

  function closeEditor({ focus = true } = {}) {
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

  async function openDocument(kind, id) {
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
      if (handleAuthLoss(error)) return;
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

  function stripDoc(data) {
    const doc = Object.assign({}, data || {});
    delete doc.kind;
    return doc;
  }

  function replaceLocal(kind, doc) {
    const items = state.items[kind].filter((item) => item.id !== doc.id);
    items.push(doc);
    state.items[kind] = sortById(items);
  }

  function removeLocal(kind, id) {
    state.items[kind] = state.items[kind].filter((item) => item.id !== id);
  }

  function newDocument() {
    const kind = state.kind;
    const doc = kind === 'article'
      ? { id: '', language: UI_LANG, title: '', summary: '', body: '', tags: [], visibility: 'public' }
      : { id: '', name: {}, visibility: 'public' };
    openEditor(kind, doc, true);
    setMessage('');
    field('id').focus();
    field('id').scrollIntoView({ block: 'center' });
  }

  const splitList = (text, sep) => text.split(sep).map((s) => s.trim()).filter(Boolean);
  const orNull = (text) => (text.trim() ? text.trim() : null);

  function readVisibility() {
    const text = field('visibility').value.trim();
    if (!text || text.toLowerCase() === 'public') return 'public';
    const groups = splitList(text, /[,;\n]/);
    return groups.length ? groups : 'public';
  }

  // The body to PUT: the stored document (so fields this page does not know survive), with
  // every field of the form laid over it.
  function readForm() {
    const { kind, original } = state.editing;
    const doc = Object.assign({}, original);
    delete doc.kind;
    delete doc.source_path;
    doc.id = field('id').value.trim();
    doc.visibility = readVisibility();
    if (kind === 'article') {
      doc.language = field('language').value;
      doc.title = field('title').value;
      doc.topic = orNull(field('topic').value);
      doc.url = orNull(field('url').value);
      doc.summary = field('summary').value;
      doc.body = field('body').value;
      doc.tags = splitList(field('tags').value, /[,\n]/);
    } else {
      for (const name of ACTIVITY_TEXT) doc[name] = orNull(field(name).value);
      const name = {};
      const description = {};
      const examples = {};
      for (const lang of LANGS) {
        const n = field(`name-${lang}`).value.trim();
        if (n) name[lang] = n;
        const d = field(`description-${lang}`).value.trim();
        if (d) description[lang] = d;
        const e = splitList(field(`examples-${lang}`).value, /\n/);
        if (e.length) examples[lang] = e;
      }
      doc.name = name;
      doc.description = description;
      doc.examples = examples;
    }
    return doc;
  }

  // Points at the field a server message is about, when it names one.
  // Marks the field the server's (English) message names; returns its label, or null.
  function markFieldFromMessage(kind, message) {
    const text = String(message || '').toLowerCase();
    const candidates = kind === 'article'
      ? ['title', 'language', 'visibility', 'url', 'tags', 'topic', 'summary', 'body', 'id']
      : ['name', 'visibility', 'examples', 'description', 'category', 'contract', 'group', 'id'];
    for (const name of candidates) {
      if (new RegExp(`\\b${name}\\b`).test(text)) {
        const input = name === 'name' ? field(`name-${UI_LANG}`) : field(name);
        if (input) input.setAttribute('aria-invalid', 'true');
        return t('f' + name.charAt(0).toUpperCase() + name.slice(1));
      }
    }
    return null;
  }

  function setBusy(busy) {
    state.busy = busy;
    el.save.disabled = busy;
    el.del.disabled = busy;
    el.save.textContent = busy ? t('saving') : t('save');
  }

  async function save() {
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
      if (handleAuthLoss(error)) return;
      const label = error.code === 'invalid_document' ? markFieldFromMessage(kind, error.detail) : null;
      setMessage(label ? t('fieldInvalid', label.replace(/\s*\(.*\)$/, '')) : error.message, 'error');
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
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
      if (handleAuthLoss(error)) return;
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

  Object.assign(K, {
    setMessage, clearInvalid, setKindSections, updateHeading, fillForm, setArticleLang,
    formSnapshot, isDirty, openEditor, closeEditor, rowFor, focusEditor, openDocument, stripDoc,
    replaceLocal, removeLocal, newDocument, readVisibility, readForm, markFieldFromMessage,
    setBusy, save, remove, confirmDialog, ARTICLE_TEXT, ACTIVITY_TEXT, splitList, orNull,
  });
})();
