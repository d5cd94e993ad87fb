// Ponte admin page: the DOM helpers every section uses. Elements are built with
// createElement and textContent only (never HTML from a string); a field's error sits under
// it, tied by aria-describedby and aria-invalid; a form's outcome goes to its own status
// line (a polite live region, so "saved" is read out without moving the focus); a delete or
// a revoke asks once more in place before it acts.

import { LANG, t } from './admin-texts.js';

export const $ = (id) => document.getElementById(id);

/** `el('li', {class: 'x', text: 'y', onclick: f}, child, ...)` */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The id of the error line of `field` (created on first use, right after the field). */
function errorLine(field) {
  const id = `${field.id}-error`;
  let line = $(id);
  if (!line) {
    line = el('p', { id, class: 'ad-field-error' });
    const anchor = field.closest('.ad-field, .ad-choice-group, fieldset') || field;
    anchor.append(line);
  }
  return line;
}

function describedBy(field, id, on) {
  const ids = new Set((field.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
  if (on) ids.add(id);
  else ids.delete(id);
  if (ids.size) field.setAttribute('aria-describedby', Array.from(ids).join(' '));
  else field.removeAttribute('aria-describedby');
}

/** Shows `text` under `field` (an input, a select, a textarea or a fieldset). */
export function fieldError(field, text) {
  const line = errorLine(field);
  line.textContent = text;
  const target = field.tagName === 'FIELDSET' ? field.querySelector('input, select, textarea') || field : field;
  target.setAttribute('aria-invalid', 'true');
  describedBy(target, line.id, true);
}

/** Clears the error of one field. */
export function clearFieldError(field) {
  const line = $(`${field.id}-error`);
  if (line) line.textContent = '';
  field.removeAttribute('aria-invalid');
  describedBy(field, `${field.id}-error`, false);
  const set = field.closest('fieldset');
  if (set) describedBy(field, `${set.id}-error`, false);
}

/** Clears every field error inside `form`. */
export function clearErrors(form) {
  for (const line of form.querySelectorAll('.ad-field-error')) line.textContent = '';
  for (const field of form.querySelectorAll('[aria-invalid]')) clearFieldError(field);
}

/** The form's status line: `text`, as an error or as news. */
export function formStatus(form, text, isError) {
  const line = form.querySelector('.ad-form-status');
  line.textContent = text || '';
  line.classList.toggle('ad-error', Boolean(isError));
}

/**
 * Runs `work` with the form's submit button disabled and "saving" in its status. `work`
 * answers the news to announce, or `null` when the form's own checks stopped it (their
 * field errors already show). A thrown ApiError goes under the field `options.field(error)`
 * names, else to the status line, in the words `options.messages[code]` gives or the
 * shared ones. Answers whether the work succeeded.
 */
export async function submitting(form, work, options = {}) {
  const button = form.querySelector('button[type="submit"]');
  clearErrors(form);
  formStatus(form, t('saving'));
  form.setAttribute('aria-busy', 'true');
  if (button) button.disabled = true;
  try {
    const news = await work();
    formStatus(form, news || '');
    return news !== null;
  } catch (error) {
    // A session that ended is the sign-in form's to tell.
    if (error && error.status === 401) {
      formStatus(form, '');
      return false;
    }
    const messages = options.messages || {};
    const text = (error && messages[error.code]) || (error && error.message) || String(error);
    const field = options.field && error ? options.field(error) : null;
    if (field) {
      fieldError(field, text);
      formStatus(form, '');
      field.focus();
    } else {
      formStatus(form, text, true);
    }
    return false;
  } finally {
    form.removeAttribute('aria-busy');
    if (button) button.disabled = false;
  }
}

/** The page's status line (a polite live region): news that is no form's, such as a delete. */
export function announce(text, isError) {
  const line = $('status');
  line.textContent = text || '';
  line.classList.toggle('ad-error', Boolean(isError));
}

/** A missing value: its field says so and takes the focus; answers whether one was missing. */
export function missing(fields) {
  const empty = fields.filter((field) => !String(field.value || '').trim());
  for (const field of empty) fieldError(field, t('required'));
  if (empty.length) empty[0].focus();
  return empty.length > 0;
}

/** Replaces a select's options: `[[value, label], ...]`, keeping the value when it still exists. */
export function fillSelect(select, options, value) {
  const keep = value === undefined ? select.value : value;
  select.replaceChildren(...options.map(([optionValue, label]) => el('option', { value: optionValue, text: label })));
  if (options.some(([optionValue]) => optionValue === keep)) select.value = keep;
}

/**
 * The item's actions become a question with two buttons; `act` runs on the first, the
 * question goes away on the second. The focus moves into the question and back.
 */
export function askFirst(actions, question, confirmLabel, act) {
  const before = Array.from(actions.childNodes);
  const opener = document.activeElement;
  const restore = () => {
    actions.replaceChildren(...before);
    if (opener && opener.isConnected) opener.focus();
  };
  const confirm = el('button', { type: 'button', class: 'danger', text: confirmLabel });
  const keep = el('button', { type: 'button', class: 'secondary', text: t('keep'), onclick: restore });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    keep.disabled = true;
    const done = await act();
    if (!done && actions.isConnected) restore();
  });
  actions.replaceChildren(el('span', { class: 'ad-ask', text: question }), confirm, keep);
  keep.focus();
}

/** A person's display name from their id. */
export function personName(people, id) {
  const person = people.find((candidate) => candidate.id === id);
  return person ? person.name : id;
}

const dateTime = new Intl.DateTimeFormat(LANG, { dateStyle: 'short', timeStyle: 'short' });

/** A `<time>` for unix milliseconds, as the reader writes dates. */
export function timeOf(ms) {
  return el('time', { datetime: new Date(ms).toISOString(), text: dateTime.format(new Date(ms)) });
}
