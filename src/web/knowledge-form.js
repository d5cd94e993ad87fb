// Ponte knowledge page: the editor's form and the document it shows. Filling it from an
// article or an activity (only the fields of that kind show and are sent), reading it back
// as the document to save, its snapshot (to tell unsaved changes) and marking the field a
// server refusal names.

import { LANGS, UI_LANG } from './staff-lang.js';
import { el, field, state } from './knowledge-base.js';
import { t } from './knowledge-texts.js';

const ARTICLE_TEXT = ['title', 'topic', 'url', 'summary', 'body'];
const ACTIVITY_TEXT = ['category', 'contract', 'group'];

export function clearInvalid() {
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

export function fillForm(kind, doc) {
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
export function setArticleLang() {
  const lang = field('language').value;
  for (const name of ['title', 'summary', 'body', 'tags']) field(name).lang = lang;
}

// Every control's value: what the form holds, to tell whether the manager changed it
// (input events alone miss programmatic edits such as a WebDriver clear()).
export function formSnapshot() {
  return JSON.stringify(Array.from(el.form.elements, (control) => control.value === undefined ? '' : control.value));
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
export function readForm() {
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
export function markFieldFromMessage(kind, message) {
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
