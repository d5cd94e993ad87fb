// Ponte admin page: the desk's configuration (the routing mode of every other group and per
// service group, the pause reasons and the close reasons with each reason's labels in
// pt-BR, es and en), written whole through `PUT /api/desk/config`, and the chat parameters (299, 315, 316, 317, 423, 447, the chat
// mode and the lost-chat minutes), each changed one written through
// `PUT /api/admin/parameters`, whose validation answers for the value.

import { ApiError, api, changed, data, reload } from './admin-api.js';
import { LANG, t } from './admin-texts.js';
import { $, clearFieldError, el, fieldError, submitting } from './admin-ui.js';

// ---------------------------------------------------------------- routing and reasons

/** The most characters a reason's label may have (the API's rule). */
const MAX_LABEL = 60;

const MODES = [
  ['manual', 'modeManual'],
  ['automatic', 'modeAutomatic'],
  ['queue', 'modeQueue'],
];

/** The languages a reason's label is written in, with the text naming each field. */
const LANGUAGES = [['pt-BR', 'labelPt'], ['es', 'labelEs'], ['en', 'labelEn']];

/**
 * What the desk form shows: `{groups: [{group, mode}], pause: [...], close: [...], labels:
 * {reason: {language: label}}, open: Set of "kind:reason" whose labels show}`. A removed
 * reason keeps its labels here until the form is saved (adding it back brings them back);
 * only the labels of the reasons listed are sent.
 */
const desk = { groups: [], pause: [], close: [], labels: {}, open: new Set() };

function groupRow(row, index) {
  const n = index + 1;
  const groupId = `routing-group-${n}`;
  const modeId = `routing-mode-${n}`;
  const group = el('input', { id: groupId, value: row.group, list: 'known-groups', autocomplete: 'off', autocapitalize: 'off' });
  group.addEventListener('input', () => { row.group = group.value; });
  const mode = el('select', { id: modeId }, ...MODES.map(([value, label]) => el('option', { value, text: t(label) })));
  mode.value = row.mode;
  mode.addEventListener('change', () => { row.mode = mode.value; });
  return el('li', { class: 'ad-row' },
    el('div', { class: 'ad-field' },
      el('label', { for: groupId }, t('projectGroup'), el('span', { class: 'visually-hidden', text: ` ${n}` })),
      group),
    el('div', { class: 'ad-field' },
      el('label', { for: modeId }, t('modeLabel'), el('span', { class: 'visually-hidden', text: ` ${n}` })),
      mode),
    el('button', {
      type: 'button',
      class: 'secondary ad-icon',
      'aria-label': t('removeGroup', n),
      text: '✕',
      onclick: () => {
        desk.groups.splice(index, 1);
        renderGroups();
        $('routing-add').focus();
      },
    }));
}

function renderGroups() {
  $('routing-group-list').replaceChildren(...desk.groups.map(groupRow));
  $('routing-groups-empty').hidden = desk.groups.length > 0;
}

/** A reason's label in the reader's language, or ''. */
function ownLabel(reason) {
  const labels = desk.labels[reason] || {};
  return (labels[LANG] || '').trim();
}

/** Shows or hides the labels of the chip `item`. */
function showLabels(item, open) {
  const toggle = item.querySelector('.ad-chip-labels');
  item.querySelector('.ad-labels').hidden = !open;
  item.classList.toggle('ad-chip-open', open);
  toggle.setAttribute('aria-expanded', String(open));
  if (open) desk.open.add(item.dataset.key);
  else desk.open.delete(item.dataset.key);
}

/** A label typed: kept, and shown in every chip of the same reason (a reason may pause and close). */
function labelTyped(reason, language, value) {
  desk.labels[reason] = { ...(desk.labels[reason] || {}), [language]: value };
  for (const field of document.querySelectorAll('#desk-form input[data-language]')) {
    if (field.dataset.reason === reason && field.dataset.language === language && field.value !== value) field.value = value;
  }
  for (const shown of document.querySelectorAll('#desk-form .ad-chip-label')) {
    if (shown.dataset.reason === reason) shown.textContent = ownLabel(reason);
  }
}

function reasonChip(kind, list, reason, index) {
  const n = index + 1;
  const panelId = `${kind}-labels-${n}`;
  const hintId = `${panelId}-hint`;
  const open = desk.open.has(`${kind}:${reason}`);
  const fields = LANGUAGES.map(([language, text]) => {
    const id = `${kind}-label-${n}-${language}`;
    const field = el('input', {
      id,
      lang: language,
      value: (desk.labels[reason] || {})[language] || '',
      autocomplete: 'off',
      'aria-describedby': hintId,
      dataset: { reason, language },
    });
    field.addEventListener('input', () => labelTyped(reason, language, field.value));
    return el('div', { class: 'ad-field' },
      el('label', { for: id }, t(text), el('span', { class: 'visually-hidden', text: ` · ${reason}` })),
      field);
  });
  const item = el('li', { class: 'ad-chip', dataset: { key: `${kind}:${reason}` } },
    el('span', { class: 'ad-mono', text: reason }),
    el('span', { class: 'ad-chip-label', text: ownLabel(reason), dataset: { reason } }),
    el('button', {
      type: 'button',
      class: 'ad-chip-labels',
      'aria-expanded': 'false',
      'aria-controls': panelId,
      onclick: () => showLabels(item, item.querySelector('.ad-labels').hidden),
    }, t('labels'), el('span', { class: 'visually-hidden', text: t('labelsOf', reason) })),
    el('button', {
      type: 'button',
      class: 'ad-chip-remove',
      'aria-label': t('removeReason', reason),
      text: '✕',
      onclick: () => {
        list.splice(index, 1);
        renderReasons(kind);
        $(`${kind}-new`).focus();
      },
    }),
    el('div', { id: panelId, class: 'ad-labels', hidden: true },
      el('p', { id: hintId, class: 'ad-hint', text: t('labelsHint') }),
      ...fields));
  showLabels(item, open);
  return item;
}

function renderReasons(kind) {
  const list = desk[kind];
  $(`${kind}-list`).replaceChildren(...list.map((reason, index) => reasonChip(kind, list, reason, index)));
}

/** The labels to save: the listed reasons' non-blank ones. */
function labelsToSave() {
  const all = {};
  for (const reason of new Set([...desk.pause, ...desk.close])) {
    const own = {};
    for (const [language] of LANGUAGES) {
      const label = ((desk.labels[reason] || {})[language] || '').trim();
      if (label) own[language] = label;
    }
    if (Object.keys(own).length) all[reason] = own;
  }
  return all;
}

/**
 * The label field the API's `invalid_reason_label` is about: the first that breaks its rule
 * (1 to 60 characters, trimmed; a blank one is not sent), its labels shown. Else none.
 */
function refusedLabel() {
  for (const field of document.querySelectorAll('#desk-form input[data-language]')) {
    const label = field.value.trim();
    if (label && (Array.from(label).length > MAX_LABEL || /\p{Cc}/u.test(label))) {
      showLabels(field.closest('li'), true);
      return field;
    }
  }
  return null;
}

/** Adds what the reason field holds; answers false when it cannot (and says why). */
function addReason(kind) {
  const field = $(`${kind}-new`);
  const reason = field.value.trim();
  if (!reason) return true;
  if (desk[kind].includes(reason)) {
    fieldError(field, t('reasonTwice'));
    return false;
  }
  desk[kind].push(reason);
  field.value = '';
  renderReasons(kind);
  return true;
}

function renderDesk() {
  const config = data.config || { routing: { default: 'automatic', by_group: {} }, pause_reasons: [], close_reasons: [] };
  $('routing-default').value = config.routing.default;
  desk.groups = Object.entries(config.routing.by_group || {}).map(([group, mode]) => ({ group, mode }));
  desk.pause = [...config.pause_reasons];
  desk.close = [...config.close_reasons];
  desk.labels = {};
  // Signed out: not even which labels were open stays.
  if (!data.config) desk.open.clear();
  for (const [reason, labels] of Object.entries(config.reason_labels || {})) desk.labels[reason] = { ...labels };
  renderGroups();
  renderReasons('pause');
  renderReasons('close');
}

async function saveDesk(event) {
  event.preventDefault();
  const form = $('desk-form');
  await submitting(form, async () => {
    // A reason typed but not added yet is meant to be kept.
    if (!addReason('pause') || !addReason('close')) return null;
    const byGroup = {};
    for (const [index, row] of desk.groups.entries()) {
      const field = $(`routing-group-${index + 1}`);
      const group = row.group.trim();
      if (!group) {
        fieldError(field, t('required'));
        field.focus();
        return null;
      }
      if (byGroup[group]) {
        fieldError(field, t('groupTwice', group));
        field.focus();
        return null;
      }
      byGroup[group] = row.mode;
    }
    const body = {
      routing: { default: $('routing-default').value, by_group: byGroup },
      pause_reasons: desk.pause,
      close_reasons: desk.close,
      queues: (data.config && data.config.queues) || {},
      reason_labels: labelsToSave(),
    };
    data.config = await api('PUT', '/api/desk/config', body);
    changed.dispatchEvent(new CustomEvent('change', { detail: 'config' }));
    return t('deskSaved');
  }, {
    messages: { bad_request: t('reasonsNeeded') },
    field: (error) => (error.code === 'invalid_reason_label' ? refusedLabel() : null),
  });
}

// ---------------------------------------------------------------- parameters

const ON = ['on', 'true', '1', 'yes', 's', 'sim'];
const isOn = (value) => ON.includes(String(value || '').trim().toLowerCase());

const TEXT_KEYS = ['315', '316', '317', 'lost_chat_minutes'];
const SWITCHES = ['299', '423', 'prechat_form'];
const HINTS = { 299: 'p299Hint', 423: 'p423Hint', prechat_form: 'pPrechatHint', 315: 'p315Hint', 316: 'p316Hint', 317: 'p317Hint', lost_chat_minutes: 'lostHint' };

const parameter = (key) => data.parameters.find((found) => found.key === key) || { key, value: '', default: '' };

/** The value of `key` as the form holds it now. */
function formValue(key) {
  if (SWITCHES.includes(key)) return $(`param-${key}`).checked ? 'on' : 'off';
  if (key === 'chat_mode') {
    const chosen = document.querySelector('input[name="chat_mode"]:checked');
    return chosen ? chosen.value : parameter(key).value;
  }
  if (key === '447') {
    const chosen = document.querySelector('input[name="offline"]:checked');
    if (!chosen || chosen.value === 'default') return 'default';
    if (chosen.value === 'none') return '';
    return $('param-447-text').value;
  }
  return $(`param-${key}`).value.trim();
}

/** Whether the form's value for `key` differs from the stored one. */
function differs(key) {
  const stored = parameter(key).value;
  const value = formValue(key);
  if (SWITCHES.includes(key)) return isOn(stored) !== (value === 'on');
  if (key === 'chat_mode') return stored.trim().toLowerCase() !== value;
  if (key === '447') return stored !== value;
  return stored.trim() !== value;
}

/** The field an error about `key` belongs under. */
function fieldOf(key) {
  if (key === '447') {
    return $('param-447-custom').checked ? $('param-447-text') : $('param-447');
  }
  return $(`param-${key}`);
}

function syncOffline() {
  const custom = $('param-447-custom').checked;
  $('param-447-text').disabled = !custom;
}

function renderParameters() {
  for (const key of SWITCHES) {
    const found = parameter(key);
    $(`param-${key}`).checked = isOn(found.value);
    $(`param-${key}-hint`).textContent = `${t(HINTS[key])} ${t('defaultIs', t(isOn(found.default) ? 'on' : 'off'))}`;
  }
  const mode = parameter('chat_mode');
  const radio = $(`param-mode-${mode.value.trim().toLowerCase()}`);
  if (radio) radio.checked = true;
  const modeLabels = { manual: 'chatModeManual', automatic: 'chatModeAutomatic', both: 'chatModeBoth' };
  $('param-chat_mode-hint').textContent = t('defaultIs', t(modeLabels[mode.default] || 'chatModeBoth'));
  for (const key of TEXT_KEYS) {
    const found = parameter(key);
    $(`param-${key}`).value = found.value;
    $(`param-${key}-hint`).textContent = `${t(HINTS[key])} ${t('defaultIs', found.default)}`;
  }
  const offline = parameter('447').value;
  const choice = offline === 'default' ? 'default' : offline.trim() === '' ? 'none' : 'custom';
  $(`param-447-${choice}`).checked = true;
  $('param-447-text').value = choice === 'custom' ? offline : '';
  syncOffline();
}

const KEYS = ['299', '423', 'prechat_form', 'chat_mode', '315', '316', '317', '447', 'lost_chat_minutes'];

async function saveParameters(event) {
  event.preventDefault();
  const form = $('parameters-form');
  await submitting(form, async () => {
    const changes = KEYS.filter(differs);
    if (!changes.length) return t('nothingChanged');
    if ($('param-447-custom').checked && !$('param-447-text').value.trim()) {
      fieldError($('param-447-text'), t('required'));
      $('param-447-text').focus();
      return null;
    }
    let saved = 0;
    const refused = [];
    // One call per parameter, as the API takes them; a refused value does not stop the rest.
    for (const key of changes) {
      try {
        const answer = await api('PUT', '/api/admin/parameters', { key, value: formValue(key) });
        parameter(key).value = answer.value;
        saved += 1;
      } catch (error) {
        if (error.status === 0 || error.status === 401) throw error;
        fieldError(fieldOf(key), error.message);
        refused.push(key);
      }
    }
    if (refused.length) {
      fieldOf(refused[0]).focus();
      throw new ApiError(422, 'invalid_parameter', t('someNotSaved', saved));
    }
    await reload('parameters');
    return t('parametersSaved', saved);
  });
}

export function init() {
  $('desk-form').addEventListener('submit', saveDesk);
  $('routing-add').addEventListener('click', () => {
    desk.groups.push({ group: '', mode: 'automatic' });
    renderGroups();
    $(`routing-group-${desk.groups.length}`).focus();
  });
  for (const kind of ['pause', 'close']) {
    $(`${kind}-add`).addEventListener('click', () => {
      clearFieldError($(`${kind}-new`));
      addReason(kind);
      $(`${kind}-new`).focus();
    });
    // Enter in the field adds the reason rather than saving the whole form.
    $(`${kind}-new`).addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      $(`${kind}-add`).click();
    });
  }
  $('parameters-form').addEventListener('submit', saveParameters);
  for (const radio of document.querySelectorAll('input[name="offline"]')) radio.addEventListener('change', syncOffline);
  changed.addEventListener('change', (event) => {
    if (event.detail === 'config') renderDesk();
    if (event.detail === 'parameters') renderParameters();
  });
}
